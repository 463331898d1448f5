//! Signatures under the **wallet key**: the root of trust for what a device fetches from an
//! untrusted store (share bundles, the metadata key's certificate).
//!
//! A device always knows the wallet's public key `Y` (it is the account's address, and every
//! share it holds is checked against it). Anything signed by `Y` could only have been made by
//! the holders of the wallet key — a device that reconstructed it from `t` shares (SSS), or `t`
//! threshold signers (TSS) — so an attacker who knows only public data (factor keys,
//! commitments) cannot forge it, a removed device holding fewer than `t` shares cannot either,
//! and nothing signed for one wallet verifies for another.
//!
//! The signature is the curve's **standard** one over a 32-byte, domain-separated digest, so
//! that every architecture's key holders can produce it and any off-the-shelf verifier can check
//! it:
//!
//! * secp256k1: ECDSA (SEC 1 v2 §4.1) with the digest as the prehash, low-S, `r || s` — what
//!   the two-party ECDSA of wallet-tss outputs for `partial_sign` / `combine` on that digest,
//!   and what [`WalletCurve::sign_digest`] computes (RFC 6979 nonces) from a reconstructed key;
//! * Ed25519: RFC 8032 Ed25519 over the 32 digest bytes as the message, `R || S`, verified with
//!   `verify_strict` — what FROST(Ed25519) of wallet-tss outputs (RFC 9591 §6.1 signatures are
//!   RFC 8032 signatures).
//!
//! (A FROST(secp256k1) key cannot produce ECDSA; such accounts are out of scope here.)
//!
//! Why the wallet key may sign these digests: each digest is a transcript output
//! (`wallet-types/SPEC.md` §5) under a label of this crate, so it is neither a transaction hash
//! of any chain (that would be a SHA-512 / Keccak / double-SHA-256 collision) nor, for Ed25519,
//! a parseable transaction (32 bytes are shorter than any). Byte layouts: `SPEC.md` §6.

use sha2::{Digest, Sha512};
use wallet_types::ff::PrimeField;
use wallet_types::group::GroupEncoding;
use wallet_types::{Curve, Ed25519, Secp256k1, SecretScalar};
use zeroize::Zeroize;

use crate::error::PssError;

/// Length of a wallet-key signature (both curves).
pub const SIGNATURE_LEN: usize = 64;

/// A curve whose standard signature scheme signs with the wallet key.
pub trait WalletCurve: Curve {
    /// Signs `digest` with the wallet secret `y` (a device holding the reconstructed key).
    /// Refuses a zero key ([`PssError::InvalidKey`]).
    fn sign_digest(
        y: &SecretScalar<Self>,
        digest: &[u8; 32],
    ) -> Result<[u8; SIGNATURE_LEN], PssError>;

    /// Whether `sig` is a valid signature of `public` on `digest`.
    fn verify_digest(public: &Self::Point, digest: &[u8; 32], sig: &[u8; SIGNATURE_LEN]) -> bool;
}

/// ECDSA over secp256k1, the digest as the prehash, RFC 6979 nonces, low-S.
impl WalletCurve for Secp256k1 {
    fn sign_digest(
        y: &SecretScalar<Self>,
        digest: &[u8; 32],
    ) -> Result<[u8; SIGNATURE_LEN], PssError> {
        use k256::ecdsa::signature::hazmat::PrehashSigner;
        let d = Option::<k256::NonZeroScalar>::from(k256::NonZeroScalar::new(*y.expose()))
            .ok_or(PssError::InvalidKey)?;
        // `SigningKey` zeroizes its scalar on drop.
        let sk = k256::ecdsa::SigningKey::from(d);
        let sig: k256::ecdsa::Signature =
            sk.sign_prehash(digest).map_err(|_| PssError::Internal)?;
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(sig.to_bytes().as_slice());
        Ok(out)
    }

    fn verify_digest(public: &Self::Point, digest: &[u8; 32], sig: &[u8; SIGNATURE_LEN]) -> bool {
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        let Ok(vk) = k256::ecdsa::VerifyingKey::from_affine(public.to_affine()) else {
            return false;
        };
        // Refuses r or s zero or ≥ n; verification refuses a high S.
        let Ok(sig) = k256::ecdsa::Signature::from_slice(sig) else {
            return false;
        };
        vk.verify_prehash(digest, &sig).is_ok()
    }
}

/// RFC 8032 Ed25519 with the 32 digest bytes as the message.
impl WalletCurve for Ed25519 {
    /// From a bare scalar `a` (a reconstructed key has no RFC 8032 seed): the nonce is
    /// `r = SHA-512("wallet-pss/wallet-sig/ed25519-nonce/v1" || a || M) mod ℓ` (deterministic,
    /// like RFC 8032's, keyed by the secret instead of the seed's hash prefix); then, as
    /// RFC 8032 §5.1.6, `R = r·B`, `k = SHA-512(R || A || M) mod ℓ`, `S = r + k·a`.
    fn sign_digest(
        y: &SecretScalar<Self>,
        digest: &[u8; 32],
    ) -> Result<[u8; SIGNATURE_LEN], PssError> {
        if bool::from(y.is_zero()) {
            return Err(PssError::InvalidKey);
        }
        let a_enc = Ed25519::mul_base(y.expose()).to_bytes();
        let mut a_bytes = y.expose().to_repr();
        let mut wide: [u8; 64] = Sha512::new()
            .chain_update(b"wallet-pss/wallet-sig/ed25519-nonce/v1")
            .chain_update(a_bytes.as_ref())
            .chain_update(digest)
            .finalize()
            .into();
        a_bytes.as_mut().zeroize();
        let r = SecretScalar::<Ed25519>::new(Ed25519::scalar_from_wide(&wide));
        wide.zeroize();
        if bool::from(r.is_zero()) {
            return Err(PssError::Internal);
        }
        let r_enc = r.public().to_bytes();
        let k: [u8; 64] = Sha512::new()
            .chain_update(r_enc)
            .chain_update(a_enc)
            .chain_update(digest)
            .finalize()
            .into();
        let k = Ed25519::scalar_from_wide(&k);
        let s = SecretScalar::<Ed25519>::new(*r.expose() + k * y.expose());
        let mut out = [0u8; SIGNATURE_LEN];
        let (r_out, s_out) = out.split_at_mut(32);
        r_out.copy_from_slice(&r_enc);
        s_out.copy_from_slice(s.expose().to_repr().as_ref());
        Ok(out)
    }

    fn verify_digest(public: &Self::Point, digest: &[u8; 32], sig: &[u8; SIGNATURE_LEN]) -> bool {
        let Ok(vk) = ed25519_dalek::VerifyingKey::from_bytes(&public.to_bytes()) else {
            return false;
        };
        vk.verify_strict(digest, &ed25519_dalek::Signature::from_bytes(sig))
            .is_ok()
    }
}

/// Draws a fresh non-zero key (for tests of this module and of its callers).
#[cfg(test)]
pub(crate) fn random_key<C: Curve, R: rand_core::CryptoRng + ?Sized>(
    rng: &mut R,
) -> SecretScalar<C> {
    SecretScalar::new(wallet_types::random_nonzero_scalar::<C, R>(rng))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    fn sign_verify<C: WalletCurve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(40);
        let y = random_key::<C, _>(&mut rng);
        let other = random_key::<C, _>(&mut rng);
        let digest = [0x42u8; 32];
        let sig = C::sign_digest(&y, &digest).unwrap();
        assert!(C::verify_digest(&y.public(), &digest, &sig));
        assert!(!C::verify_digest(&other.public(), &digest, &sig));
        assert!(!C::verify_digest(&y.public(), &[0x43u8; 32], &sig));
        for i in 0..SIGNATURE_LEN {
            let mut s = sig;
            s[i] ^= 0x01;
            assert!(!C::verify_digest(&y.public(), &digest, &s), "byte {i}");
        }
        assert_eq!(
            C::sign_digest(&SecretScalar::zero(), &digest).unwrap_err(),
            PssError::InvalidKey
        );
    }

    #[test]
    fn both_curves() {
        sign_verify::<Secp256k1>();
        sign_verify::<Ed25519>();
    }

    /// The Ed25519 signatures are RFC 8032 signatures: ed25519-dalek's own signer, given the
    /// expanded key of a seed, and this module's, given that key's scalar, both verify, and
    /// ours verifies with `verify_strict`.
    #[test]
    fn ed25519_is_rfc8032() {
        let seed = [9u8; 32];
        let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
        let scalar = sk.to_scalar();
        let y = SecretScalar::<Ed25519>::new(scalar);
        assert_eq!(
            y.public().to_bytes(),
            sk.verifying_key().to_bytes(),
            "same public key"
        );
        let digest = [7u8; 32];
        let ours = Ed25519::sign_digest(&y, &digest).unwrap();
        sk.verifying_key()
            .verify_strict(&digest, &ed25519_dalek::Signature::from_bytes(&ours))
            .unwrap();
        let theirs = ed25519_dalek::Signer::sign(&sk, &digest).to_bytes();
        assert!(Ed25519::verify_digest(&y.public(), &digest, &theirs));
    }

    /// The secp256k1 signatures are plain ECDSA: k256's verifier accepts ours, ours accepts
    /// k256's, and a high-S twin is refused.
    #[test]
    fn secp256k1_is_ecdsa_low_s() {
        use k256::ecdsa::signature::hazmat::PrehashSigner;
        let mut rng = ChaCha20Rng::seed_from_u64(41);
        let y = random_key::<Secp256k1, _>(&mut rng);
        let digest = [5u8; 32];
        let sk = k256::ecdsa::SigningKey::from(
            Option::<k256::NonZeroScalar>::from(k256::NonZeroScalar::new(*y.expose())).unwrap(),
        );
        let theirs: k256::ecdsa::Signature = sk.sign_prehash(&digest).unwrap();
        let mut t = [0u8; 64];
        t.copy_from_slice(theirs.to_bytes().as_slice());
        assert!(Secp256k1::verify_digest(&y.public(), &digest, &t));
        assert_eq!(Secp256k1::sign_digest(&y, &digest).unwrap(), t);
        // (r, n − s) is the same signature with a high S: refused.
        let s: k256::Scalar = *theirs.s().as_ref();
        let mut h = t;
        h[32..].copy_from_slice((-s).to_repr().as_slice());
        assert!(!Secp256k1::verify_digest(&y.public(), &digest, &h));
    }
}
