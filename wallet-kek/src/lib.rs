//! # wallet-kek
//!
//! The WebAuthn PRF output of a passkey as key-encryption key: the wallet secret is generated
//! and used on the device only, and stored as an opaque [`Envelope`] that only the user's
//! passkeys (or a password / recovery-answer fallback) can open. The server keeps the envelope
//! and cannot decrypt it.
//!
//! * [`prf`] — PRF output → KEK with HKDF-SHA256 bound to label, version, credential id,
//!   relying-party id and wallet id ([`derive_prf_kek`]);
//! * [`password`] — Argon2id slots ([`Argon2Params`], [`normalize_answer`]);
//! * [`envelope`] — a random DEK encrypts the secret once (AES-256-GCM); the DEK is wrapped once
//!   per slot; add / remove slots, rotate a passkey's PRF salt, re-key the DEK;
//! * [`payload`] — what can be inside (secp256k1 key, Ed25519 seed, BIP-39 entropy, tagged
//!   opaque bytes) and client-side signing that unwraps, signs and zeroizes in one call.
//!
//! The byte layout, the KDF inputs and the answer normalisation are specified in this crate's
//! `SPEC.md` so that an independent implementation can open an envelope given a PRF output.
//!
//! ```
//! use wallet_kek::{Credential, Envelope, NewSlot, PrfOutput, PrfSalt, WalletId};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let wallet = WalletId::random(&mut rng);
//! let (salt_a, salt_b) = (PrfSalt::random(&mut rng), PrfSalt::random(&mut rng));
//! let (prf_a, prf_b) = (PrfOutput::new([1; 32]), PrfOutput::new([2; 32])); // from the passkeys
//! let first = NewSlot::Prf { credential_id: b"A", rp_id: "example.com", salt: salt_a, output: &prf_a };
//! let (mut env, _pk) = Envelope::generate_ed25519(wallet, &first, &mut rng).unwrap();
//!
//! // Enrol a second passkey: needs the envelope opened with the first.
//! let a = Credential::Prf { credential_id: b"A", output: &prf_a };
//! let unlocked = env.open(&a).unwrap();
//! let second = NewSlot::Prf { credential_id: b"B", rp_id: "example.com", salt: salt_b, output: &prf_b };
//! let slot_b = env.add_slot(&unlocked, &second, &mut rng).unwrap();
//! drop(unlocked);
//!
//! let b = Credential::Prf { credential_id: b"B", output: &prf_b };
//! let sig = env.sign_ed25519(&b, b"hello").unwrap();
//! assert_eq!(sig.len(), 64);
//!
//! // A wrong PRF output gets one opaque error.
//! let wrong = PrfOutput::new([3; 32]);
//! let bad = Credential::Prf { credential_id: b"A", output: &wrong };
//! assert_eq!(env.open(&bad).unwrap_err(), wallet_kek::KekError::Unwrap);
//! # let _ = slot_b;
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;

mod crypto;
pub mod envelope;
pub mod error;
pub mod hardened;
pub mod oprf;
pub mod password;
pub mod payload;
pub mod prf;

pub use crypto::{KEY_LEN, NONCE_LEN, TAG_LEN};
pub use envelope::{
    Credential, ENVELOPE_KIND, Envelope, MAX_QUESTION_LEN, MAX_SLOTS, NewSlot, Slot, SlotId,
    SlotParams, Unlocked,
};
pub use error::KekError;
pub use hardened::{
    DEFAULT_MAX_ATTEMPTS, HardenedFactor, HardenedKind, OprfPending, OprfRecord, OprfRequest,
    OprfResponse, OprfServerKey, RecordId, ResetChallenge, ResetKey, ResetProof,
    derive_hardened_kek,
};
pub use oprf::{OprfOutput, OprfPublicKey};
pub use password::{
    ARGON2_SALT_LEN, Argon2Params, derive_password_kek, derive_recovery_kek, normalize_answer,
    normalize_password,
};
pub use payload::{MAX_OPAQUE_LEN, Payload, PayloadKind, RecoverableSignature};
pub use prf::{Kek, PrfOutput, PrfSalt, WalletId, derive_prf_kek};

/// **Hazmat.** The primitives as this crate calls them, for tests against published vectors
/// (Wycheproof, RFC 5869). Not a stable API.
///
/// The `hazmat` feature also enables `Argon2Params::new_insecure` (costs below the minimum,
/// for fast tests): envelopes holding such a slot work in memory but are refused by every
/// decoder, so they can never be stored and read back. Never enable `hazmat` in production.
#[cfg(any(test, feature = "hazmat"))]
pub mod hazmat {
    pub use crate::crypto::{hkdf_sha256, open as aes256gcm_open, seal as aes256gcm_seal};
}
