//! The FROST (Ed25519, RFC 9591) signer: nonce commitments and signature shares, with the
//! key package and the unused nonce pairs sealed between calls (kind `FrostSigner`).
//!
//! The sealed signer state comes from whoever created this party's key package — a DKG run on
//! a native peer, or a reshare delivered to the device — through [`seal_key_package`] (Rust
//! only: the key package never crosses into JavaScript in clear). Nonce pairs live in the
//! state's one-time store: [`sign`] takes the pair named by the signing package out before it
//! computes the share, so the state it returns can never sign with that pair again. The storage
//! rule of [`crate::seal`] applies: store the new state before releasing the share.

use rand_core::CryptoRng;
use wallet_tss::frost::{KeyPackage, SigningCommitments, SigningPackage, round1, round2};
use wallet_types::{Ed25519, Reader, SecretVec, WireObject, Writer};

use crate::error::{Result, WasmError};
use crate::seal::{SealedKind, WrapSecret, open, seal};
use crate::store::SealedOneTime;

const STATE_VERSION: u8 = 1;
/// At most this many nonce pairs are made in one call.
pub const MAX_PREPROCESS: usize = 64;

struct Signer {
    key: KeyPackage<Ed25519>,
    nonces: SealedOneTime,
}

impl Signer {
    fn encode(&self) -> Result<SecretVec> {
        let mut w = Writer::secret();
        w.u8(STATE_VERSION);
        w.var_bytes(self.key.to_secret_bytes().expose());
        self.nonces.encode(&mut w)?;
        Ok(w.into_secret())
    }

    fn open(wrap: &WrapSecret, sealed: &[u8]) -> Result<Self> {
        let plain = open(wrap, SealedKind::FrostSigner, sealed)?;
        let mut r = Reader::new(plain.expose());
        if r.u8()? != STATE_VERSION {
            return Err(WasmError::new("state", "unknown state version"));
        }
        let key = KeyPackage::from_bytes(r.var_bytes(4096)?)?;
        let nonces = SealedOneTime::decode(&mut r)?;
        r.finish()?;
        Ok(Self { key, nonces })
    }

    fn seal<R: CryptoRng + ?Sized>(&self, wrap: &WrapSecret, rng: &mut R) -> Result<Vec<u8>> {
        seal(wrap, SealedKind::FrostSigner, self.encode()?.expose(), rng)
    }
}

/// Seals a key package into a new signer state (no nonces yet). Rust only.
pub fn seal_key_package<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    key: &KeyPackage<Ed25519>,
    rng: &mut R,
) -> Result<Vec<u8>> {
    Signer {
        key: key.duplicate(),
        nonces: SealedOneTime::default(),
    }
    .seal(wrap, rng)
}

/// Makes `count` nonce pairs (kept in the state) and returns the new state and their public
/// commitments (encoded), for the coordinator.
pub fn commit<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    state: &[u8],
    count: usize,
    rng: &mut R,
) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
    if count == 0 || count > MAX_PREPROCESS {
        return Err(WasmError::new(
            "input",
            format!("count must be 1..={MAX_PREPROCESS}"),
        ));
    }
    let s = Signer::open(wrap, state)?;
    let commitments = round1::preprocess_into(&s.nonces, &s.key, count, rng)?;
    Ok((
        s.seal(wrap, rng)?,
        commitments
            .iter()
            .map(SigningCommitments::to_bytes)
            .collect(),
    ))
}

/// This signer's signature share for the encoded signing package (message and every signer's
/// commitments): the nonce pair it names is taken out of the state first. Returns the new
/// state and the encoded share.
pub fn sign<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    state: &[u8],
    package: &[u8],
    rng: &mut R,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let s = Signer::open(wrap, state)?;
    let package = SigningPackage::<Ed25519>::from_bytes(package)?;
    match round2::sign_with_store(&package, &s.nonces, &s.key) {
        Ok(share) => Ok((s.seal(wrap, rng)?, share.to_bytes())),
        // A refused package leaves the nonces in place; a taken pair is gone either way:
        // hand the state back with the error.
        Err(e) => Err(WasmError::from(e).with_state(s.seal(wrap, rng)?)),
    }
}

/// This signer's party id and the group's public key package (encoded).
pub fn public(wrap: &WrapSecret, state: &[u8]) -> Result<(u16, Vec<u8>)> {
    let s = Signer::open(wrap, state)?;
    Ok((s.key.id().get(), s.key.public().to_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;
    use std::collections::BTreeMap;
    use wallet_tss::frost::keys::{Ed25519Seed, split_ed25519_seed};
    use wallet_tss::frost::{SignatureShare, aggregate};
    use wallet_types::{Parties, SecretBytes};

    #[test]
    fn two_of_three_signers_through_sealed_state() {
        use ed25519_dalek::Verifier;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let seed = Ed25519Seed::new(SecretBytes::new([4; 32]));
        let parties = Parties::range(3).unwrap();
        let keys = split_ed25519_seed(&seed, 2, &parties, &mut rng).unwrap();
        let wraps: Vec<WrapSecret> = (1..=2u8)
            .map(|b| WrapSecret::from_slice(&[b; 32]).unwrap())
            .collect();
        let mut states: Vec<Vec<u8>> = keys[..2]
            .iter()
            .zip(&wraps)
            .map(|(k, w)| seal_key_package(w, k, &mut rng).unwrap())
            .collect();
        let mut commitments = BTreeMap::new();
        for i in 0..2 {
            let (st, c) = commit(&wraps[i], &states[i], 2, &mut rng).unwrap();
            states[i] = st;
            let (id, _) = public(&wraps[i], &states[i]).unwrap();
            let c = SigningCommitments::<Ed25519>::from_bytes(&c[0]).unwrap();
            commitments.insert(wallet_types::PartyId::new(id).unwrap(), c);
        }
        let package = SigningPackage::new(commitments, b"frost in wasm".to_vec()).unwrap();
        let pbytes = package.to_bytes();
        let mut shares = BTreeMap::new();
        let mut after = Vec::new();
        for i in 0..2 {
            let (st, share) = sign(&wraps[i], &states[i], &pbytes, &mut rng).unwrap();
            // The pair is gone from the new state: the same package is refused.
            assert_eq!(
                sign(&wraps[i], &st, &pbytes, &mut rng).unwrap_err().kind(),
                "usage"
            );
            after.push(st);
            shares.insert(
                keys[i].id(),
                SignatureShare::<Ed25519>::from_bytes(&share).unwrap(),
            );
        }
        let sig = aggregate(&package, &shares, keys[0].public()).unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&seed.public_key()).unwrap();
        vk.verify(
            b"frost in wasm",
            &ed25519_dalek::Signature::from_slice(&sig.to_bytes()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            commit(&wraps[0], &after[0], 0, &mut rng)
                .unwrap_err()
                .kind(),
            "input"
        );
    }
}
