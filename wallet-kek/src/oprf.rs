//! The RFC 9497 verifiable OPRF as this crate uses it: mode VOPRF (`0x01`), suite
//! `ristretto255-SHA512`, through the `voprf` crate (no group arithmetic of our own).
//!
//! ```text
//! client                                   server (holds skS, publishes pkS = skS·G)
//! blind, blindedElement = Blind(input)
//!                      ── blindedElement ──▶
//!                                          evaluatedElement = skS·blindedElement,
//!                                          proof = DLEQ(G, pkS; blindedElement, evaluatedElement)
//!                      ◀── evaluatedElement, proof ──
//! output = Finalize(input, blind, evaluatedElement, proof, pkS)   (fails if the proof does not
//!                                                                  verify under the pinned pkS)
//! ```
//!
//! The server's key pair is `DeriveKeyPair(seed, info)` (RFC 9497 §3.2.1): one 32-byte master
//! seed and a per-record `info`, so every record has its own key (see [`crate::hardened`] for
//! why one key shared by all records would let any user spend their own guess budget on
//! another user's slot).
//!
//! The `voprf` crate uses `rand_core` 0.6; a private adapter hands it the caller's `rand_core`
//! 0.10 RNG (it only forwards calls and adds no randomness of its own).

use rand_core::CryptoRng;
use voprf::{
    BlindedElement, EvaluationElement, Group, Proof, Ristretto255, VoprfClient, VoprfServer,
};
use wallet_types::SecretBytes;
use zeroize::Zeroize;

use crate::error::KekError;

/// Length of an encoded ristretto255 element (blinded / evaluated element, public key).
pub const OPRF_ELEMENT_LEN: usize = 32;
/// Length of an encoded DLEQ proof (`c || s`, two scalars).
pub const OPRF_PROOF_LEN: usize = 64;
/// Length of the OPRF output (SHA-512).
pub const OPRF_OUTPUT_LEN: usize = 64;
/// Length of the server's master seed (the `seed` of RFC 9497 `DeriveKeyPair`).
pub const OPRF_SEED_LEN: usize = 32;

/// An OPRF output (secret: together with the Argon2id output it is the KEK's input).
pub type OprfOutput = SecretBytes<OPRF_OUTPUT_LEN>;

/// A server's OPRF public key `pkS`: the canonical encoding of a ristretto255 element other
/// than the identity (checked when the value is made). Pinned in a hardened slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OprfPublicKey([u8; OPRF_ELEMENT_LEN]);

impl OprfPublicKey {
    /// Validates an encoded public key (canonical, on the group, not the identity).
    pub fn from_bytes(bytes: &[u8; OPRF_ELEMENT_LEN]) -> Result<Self, KekError> {
        Ristretto255::deserialize_elem(bytes).map_err(|_| KekError::InvalidInput)?;
        Ok(Self(*bytes))
    }

    /// The key's encoding.
    pub fn as_bytes(&self) -> &[u8; OPRF_ELEMENT_LEN] {
        &self.0
    }

    fn element(&self) -> Result<<Ristretto255 as Group>::Elem, KekError> {
        Ristretto255::deserialize_elem(&self.0).map_err(|_| KekError::InvalidInput)
    }
}

/// Adapts a `rand_core` 0.10 RNG to the `rand_core` 0.6 traits the `voprf` crate takes.
pub(crate) struct Rng06<'a, R: CryptoRng + ?Sized>(pub(crate) &'a mut R);

impl<R: CryptoRng + ?Sized> rand_core_06::RngCore for Rng06<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}

impl<R: CryptoRng + ?Sized> rand_core_06::CryptoRng for Rng06<'_, R> {}

/// The client's state between `Blind` and `Finalize`: the blind (secret, zeroized on drop by
/// `voprf`) and the blinded element. Not `Clone`: it is consumed by [`finalize`].
pub struct BlindState(VoprfClient<Ristretto255>);

impl core::fmt::Debug for BlindState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("BlindState(<redacted>)")
    }
}

/// RFC 9497 `Blind(input)` with a fresh random blind. Returns the state to keep and the
/// encoded blinded element to send. `input` must be 1..=65535 bytes.
pub fn blind<R: CryptoRng + ?Sized>(
    input: &[u8],
    rng: &mut R,
) -> Result<(BlindState, [u8; OPRF_ELEMENT_LEN]), KekError> {
    let r = VoprfClient::<Ristretto255>::blind(input, &mut Rng06(rng))
        .map_err(|_| KekError::InvalidInput)?;
    let blinded: [u8; OPRF_ELEMENT_LEN] = r.message.serialize().into();
    Ok((BlindState(r.state), blinded))
}

/// The server's key pair for `info`: RFC 9497 `DeriveKeyPair(seed, info)` in mode VOPRF.
fn server_for(
    seed: &SecretBytes<OPRF_SEED_LEN>,
    info: &[u8],
) -> Result<VoprfServer<Ristretto255>, KekError> {
    VoprfServer::<Ristretto255>::new_from_seed(seed.expose(), info)
        .map_err(|_| KekError::InvalidInput)
}

/// The public key `pkS` of `DeriveKeyPair(seed, info)`.
pub fn derive_public_key(
    seed: &SecretBytes<OPRF_SEED_LEN>,
    info: &[u8],
) -> Result<OprfPublicKey, KekError> {
    let server = server_for(seed, info)?;
    Ok(OprfPublicKey(
        Ristretto255::serialize_elem(server.get_public_key()).into(),
    ))
}

/// RFC 9497 `BlindEvaluate` under `DeriveKeyPair(seed, info)`: decodes and validates the
/// blinded element (canonical, not the identity), returns `(evaluatedElement, proof)`.
pub fn blind_evaluate<R: CryptoRng + ?Sized>(
    seed: &SecretBytes<OPRF_SEED_LEN>,
    info: &[u8],
    blinded: &[u8; OPRF_ELEMENT_LEN],
    rng: &mut R,
) -> Result<([u8; OPRF_ELEMENT_LEN], [u8; OPRF_PROOF_LEN]), KekError> {
    let blinded = BlindedElement::<Ristretto255>::deserialize(blinded)
        .map_err(|_| KekError::Decode(wallet_types::DecodeError::InvalidPoint))?;
    let server = server_for(seed, info)?;
    let r = server.blind_evaluate(&mut Rng06(rng), &blinded);
    Ok((r.message.serialize().into(), r.proof.serialize().into()))
}

/// RFC 9497 `Finalize`: checks the proof against the pinned `pk`, unblinds and hashes.
/// A malformed element or proof is [`KekError::Decode`]; a proof that does not verify under
/// `pk` is [`KekError::OprfBadProof`] (`record` names the server record in the error).
pub fn finalize(
    state: BlindState,
    input: &[u8],
    evaluated: &[u8; OPRF_ELEMENT_LEN],
    proof: &[u8; OPRF_PROOF_LEN],
    pk: &OprfPublicKey,
    record: [u8; 32],
) -> Result<OprfOutput, KekError> {
    let evaluated = EvaluationElement::<Ristretto255>::deserialize(evaluated)
        .map_err(|_| KekError::Decode(wallet_types::DecodeError::InvalidPoint))?;
    let proof = Proof::<Ristretto255>::deserialize(proof)
        .map_err(|_| KekError::Decode(wallet_types::DecodeError::ScalarOutOfRange))?;
    let mut out = state
        .0
        .finalize(input, &evaluated, &proof, pk.element()?)
        .map_err(|e| match e {
            voprf::Error::ProofVerification => KekError::OprfBadProof { record },
            _ => KekError::InvalidInput,
        })?;
    let secret = OprfOutput::from_slice(out.as_ref()).ok_or(KekError::InvalidInput);
    let raw: &mut [u8] = out.as_mut();
    raw.zeroize();
    secret
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn round_trip_and_wrong_key() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let seed = SecretBytes::new([9; 32]);
        let pk = derive_public_key(&seed, b"r").unwrap();
        let other = derive_public_key(&seed, b"s").unwrap();
        assert_ne!(pk, other);
        let run = |rng: &mut ChaCha20Rng, pin: &OprfPublicKey| {
            let (st, b) = blind(b"input", rng).unwrap();
            let (e, p) = blind_evaluate(&seed, b"r", &b, rng).unwrap();
            finalize(st, b"input", &e, &p, pin, [0; 32])
        };
        let a = run(&mut rng, &pk).unwrap();
        let b = run(&mut rng, &pk).unwrap();
        // Blinds differ, outputs agree: the OPRF is a function of (key, input).
        assert_eq!(a.expose(), b.expose());
        assert_eq!(
            run(&mut rng, &other).unwrap_err(),
            KekError::OprfBadProof { record: [0; 32] }
        );
        assert!(OprfPublicKey::from_bytes(&[0; 32]).is_err()); // the identity
        assert!(OprfPublicKey::from_bytes(&[0xff; 32]).is_err()); // not canonical
        assert!(blind_evaluate(&seed, b"r", &[0; 32], &mut rng).is_err());
    }
}
