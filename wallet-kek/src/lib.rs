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
//! * [`oprf`] and [`hardened`] — **OPRF-hardened password and recovery-answer slots, the
//!   recommended kind**: the KEK needs the Argon2id output *and* an RFC 9497 VOPRF evaluation
//!   (ristretto255-SHA512, `voprf` crate) by a server that counts attempts and locks a slot
//!   after `max_attempts` failures; neither the envelope store nor the OPRF server alone can
//!   test a guess ([`hardened`] has the table of who can guess what). Plain Argon2 slots
//!   remain for compatibility: whoever stores the envelope can guess them offline;
//! * [`payload`] — what can be inside (secp256k1 key, Ed25519 seed, BIP-39 entropy, tagged
//!   opaque bytes) and client-side signing that unwraps, signs and zeroizes in one call.
//!
//! Signatures come out as the ecosystem's types (`k256::ecdsa::{Signature, RecoveryId}`,
//! `ed25519_dalek::Signature`, re-exported as [`k256`] and [`ed25519_dalek`]), and an opened
//! envelope ([`Unlocked`]) is a RustCrypto signer: `PrehashSigner<(Signature, RecoveryId)>` for
//! secp256k1, `Signer<ed25519_dalek::Signature>` for Ed25519.
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
//! assert_eq!(sig.to_bytes().len(), 64); // an ed25519_dalek::Signature
//!
//! // A wrong PRF output gets one opaque error.
//! let wrong = PrfOutput::new([3; 32]);
//! let bad = Credential::Prf { credential_id: b"A", output: &wrong };
//! assert_eq!(env.open(&bad).unwrap_err(), wallet_kek::KekError::Unwrap);
//! # let _ = slot_b;
//! ```
//!
//! A hardened recovery answer: enrolment, then an unlock with a guess counted by the server.
//!
//! ```
//! use wallet_kek::{Argon2Params, Credential, Envelope, HardenedKind, NewSlot, OprfPending,
//!     OprfServerKey, PrfOutput, PrfSalt, RecordId, WalletId};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
//! # let prf = PrfOutput::new([1; 32]);
//! # let first = NewSlot::Prf { credential_id: b"A", rp_id: "example.com", salt: PrfSalt::random(&mut rng), output: &prf };
//! # let (mut env, _) = Envelope::generate_ed25519(WalletId::random(&mut rng), &first, &mut rng).unwrap();
//! let server = OprfServerKey::generate(&mut rng); // on the OPRF server
//! let unlocked = env.open(&Credential::Prf { credential_id: b"A", output: &prf }).unwrap();
//!
//! // Enrolment: register a record (the server keeps `rec`, the client pins `pk`) ...
//! let record = RecordId::random(&mut rng);
//! let (mut rec, pk) = server.register(record, unlocked.oprf_reset_key(&record).unwrap(), 10).unwrap();
//! let (pending, request) = OprfPending::enrol(env.wallet_id(), HardenedKind::RecoveryAnswer,
//!     record, pk, "Mr. Whiskers", &mut rng).unwrap();
//! let response = server.evaluate(&mut rec, &request, &mut rng).unwrap();
//! let factor = pending.finish(&response).unwrap(); // proof checked under `pk`
//! let slot = env.add_slot(&unlocked, &NewSlot::HardenedRecoveryAnswer {
//!     question: "First pet?", factor: &factor, params: Argon2Params::DEFAULT }, &mut rng).unwrap();
//! rec.reset(&unlocked.oprf_reset_proof(&record, response.nonce()).unwrap()).unwrap();
//!
//! // Unlock: one evaluation per guess; a success resets the server's counter.
//! let (pending, request) = OprfPending::unlock(&env, slot, " mr. WHISKERS ", &mut rng).unwrap();
//! let response = server.evaluate(&mut rec, &request, &mut rng).unwrap();
//! let factor = pending.finish(&response).unwrap();
//! let opened = env.open(&Credential::Hardened { slot, factor: &factor }).unwrap();
//! assert_eq!(rec.failures(), 1);
//! rec.reset(&opened.oprf_reset_proof(&record, response.nonce()).unwrap()).unwrap();
//! assert_eq!(rec.failures(), 0);
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod crypto;
pub mod envelope;
pub mod error;
pub mod hardened;
pub mod oprf;
pub mod oprf_identity;
pub mod oprf_server;
pub mod password;
pub mod payload;
pub mod prf;
#[cfg(feature = "serde")]
pub mod serde_impls;

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
pub use oprf_identity::{OprfIdentity, RecordKeyCertificate};
pub use password::{
    ARGON2_SALT_LEN, Argon2Params, derive_password_kek, derive_recovery_kek, normalize_answer,
    normalize_password,
};
pub use payload::{MAX_OPAQUE_LEN, Payload, PayloadKind, RecoverableSignature};
pub use prf::{Kek, PrfOutput, PrfSalt, WalletId, derive_prf_kek};
/// The store error inside [`KekError::Store`].
pub use wallet_types::StoreError;

// The crates whose types appear in this crate's API, re-exported so that a user names the same
// versions (`wallet_tss::k256::ecdsa::Signature`) without depending on them directly.
pub use wallet_types::rand_core;
pub use {ed25519_dalek, k256};

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
