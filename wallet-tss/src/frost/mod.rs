//! FROST threshold Schnorr signatures per RFC 9591, generic over the [`Ciphersuite`]:
//! FROST(Ed25519, SHA-512) — signatures are standard RFC 8032 Ed25519 signatures — and
//! FROST(secp256k1, SHA-256), both passing the RFC's test vectors.
//!
//! | phase | module | RFC 9591 |
//! |---|---|---|
//! | ciphersuites: context string, H1..H5 | [`ciphersuite`] | §6.1, §6.5 |
//! | key material, dealer split, seed import, key export | [`keys`] | Appendix C |
//! | distributed key generation (FROST KeyGen + confirmation and acknowledgement rounds) | [`dkg`] | (FROST paper, Fig. 1) |
//! | **offline**: nonce preprocessing | [`round1`] | §5.1 |
//! | **online**: signing package, signature share | [`round2`] | §4.4–4.6, §5.2 |
//! | aggregation with share verification | [`aggregate()`] | §5.3, §5.4 |
//! | state machines (DKG party, signer, coordinator) | [`dkg`], [`signing`] | — |
//! | BIP-340 / Taproot mode (x-only keys, BIP-341 tweak, BIP-32 derivation) | [`taproot`] | BIP-340, BIP-341 |
//! | Taproot state machines (the [`signing`] machines in [`taproot_signing::TaprootMode`]) | [`taproot_signing`] | BIP-340, BIP-341 |
//!
//! Signing without the machines:
//!
//! ```
//! use std::collections::BTreeMap;
//! use wallet_tss::frost::{aggregate, keys, round1, round2};
//! use wallet_types::{Ed25519, Parties, SecretScalar};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let parties = Parties::range(3).unwrap();
//! let secret = SecretScalar::<Ed25519>::random(&mut rng);
//! let keys = keys::split_secret(secret, 2, &parties, &mut rng).unwrap();
//!
//! // Offline: every signer preprocesses nonces and publishes the commitments.
//! let (mut n1, c1) = round1::preprocess(&keys[0], 4, &mut rng);
//! let (mut n3, c3) = round1::preprocess(&keys[2], 4, &mut rng);
//!
//! // Online: the coordinator picks signers, their next commitments and the message.
//! let commitments = BTreeMap::from([(keys[0].id(), c1[0]), (keys[2].id(), c3[0])]);
//! let package = round2::SigningPackage::new(commitments, b"hello".to_vec()).unwrap();
//! let z1 = round2::sign(&package, n1.remove(0), &keys[0]).unwrap();
//! let z3 = round2::sign(&package, n3.remove(0), &keys[2]).unwrap();
//! let shares = BTreeMap::from([(keys[0].id(), z1), (keys[2].id(), z3)]);
//! let sig = aggregate::aggregate(&package, &shares, keys[0].public()).unwrap();
//!
//! let vk = ed25519_dalek::VerifyingKey::from_bytes(&keys[0].public().group_key_bytes()).unwrap();
//! vk.verify_strict(b"hello", &sig.to_dalek()).unwrap();
//! ```
//!
//! ## Transport assumptions
//!
//! Senders are authenticated by the transport; point-to-point messages (DKG shares) must be
//! encrypted. The DKG's round-1 broadcast need not be reliable: the confirmation round detects
//! any party that showed different commitments to different parties.

pub mod aggregate;
pub mod ciphersuite;
pub mod dkg;
pub mod keys;
pub mod round1;
pub mod round2;
pub mod signing;
pub mod taproot;
pub mod taproot_signing;

use wallet_types::ObjectKind;

pub use aggregate::{Signature, aggregate};
pub use ciphersuite::Ciphersuite;
pub use keys::{KeyPackage, PublicKeyPackage};
pub use round1::{NonceId, NoncePool, SigningCommitments, SigningNonces};
pub use round2::{SignatureShare, SigningPackage, sign, sign_with_store};

/// [`PublicKeyPackage`].
pub const KIND_PUBLIC_KEY_PACKAGE: ObjectKind = ObjectKind(0x0301);
/// [`KeyPackage`] (secret).
pub const KIND_KEY_PACKAGE: ObjectKind = ObjectKind(0x0302);
/// [`SigningCommitments`].
pub const KIND_SIGNING_COMMITMENTS: ObjectKind = ObjectKind(0x0303);
/// Sealed [`SigningNonces`] (secret).
pub const KIND_SEALED_NONCES: ObjectKind = ObjectKind(0x0304);
/// [`SigningPackage`].
pub const KIND_SIGNING_PACKAGE: ObjectKind = ObjectKind(0x0305);
/// [`SignatureShare`].
pub const KIND_SIGNATURE_SHARE: ObjectKind = ObjectKind(0x0306);
/// [`dkg::DkgMessage`] (with the acknowledgement round; the three-round message, `0x0310`, is
/// retired: it decodes to [`wallet_types::DecodeError::WrongKind`]).
pub const KIND_DKG_MESSAGE: ObjectKind = ObjectKind(0x0312);
/// [`dkg::DkgParty`] state (secret; four rounds — the three-round state, `0x0311`, is
/// retired).
pub const KIND_DKG_STATE: ObjectKind = ObjectKind(0x0313);
/// [`signing::SigningMessage`].
pub const KIND_SIGNING_MESSAGE: ObjectKind = ObjectKind(0x0320);
/// [`signing::SignerState`] (secret: the key share; version 2 holds nonce ids, never nonces).
/// The first version, `0x0321`, held the nonce pairs and is retired: it decodes to
/// [`wallet_types::DecodeError::WrongKind`].
pub const KIND_SIGNER_STATE: ObjectKind = ObjectKind(0x0324);
/// [`signing::Coordinator`] state (public).
pub const KIND_COORDINATOR_STATE: ObjectKind = ObjectKind(0x0322);
/// [`signing::SigningPartyState`] (either role; version 2 embeds a version-2 signer state).
/// The first version, `0x0323`, is retired: it decodes to
/// [`wallet_types::DecodeError::WrongKind`].
pub const KIND_SIGNING_STATE: ObjectKind = ObjectKind(0x0325);
