//! # wallet-sss
//!
//! Shamir secret sharing with Feldman commitments, generic over the [`wallet_types::Curve`]
//! trait (secp256k1 and Ed25519):
//!
//! * [`polynomial`] — secret polynomials ([`Polynomial`]): random dealing, Horner evaluation,
//!   Feldman commitment;
//! * [`feldman`] — [`Commitments`]: public key, share commitments by one multi-scalar
//!   multiplication, share verification, DKG aggregation;
//! * [`lagrange`] — Lagrange coefficients at zero and at any point;
//! * [`shamir`] — [`Share`], [`split`], [`reconstruct`] with mixing / duplicate / threshold
//!   checks and naming of inconsistent shares;
//! * [`ShamirError`] — typed errors naming the share at fault;
//! * [`encoding`] — wire formats of shares and commitments (kinds `0x0201`–`0x0204`, byte by
//!   byte in `SPEC.md`);
//! * [`wallet`] — the 2-of-3 device / auth / recovery wallet share set: create, sign
//!   (secp256k1 ECDSA with recovery id, Ed25519) in one call that zeroizes everything, recover,
//!   rotate, BIP-39 export / import; RustCrypto signers over two shares
//!   ([`wallet::EcdsaSigner`], [`wallet::Ed25519Signer`]) giving `k256` / `ed25519-dalek` types;
//! * [`derive`](mod@derive) — BIP-39 seed, BIP-32 (`m/44'/60'/0'/0/i`, Ethereum address), SLIP-10 Ed25519
//!   (`m/44'/501'/i'/0'`).
//!
//! ```
//! use wallet_sss::{split, reconstruct};
//! use wallet_types::{Ed25519, Parties, SecretScalar};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let secret = SecretScalar::<Ed25519>::random(&mut rng);
//! let (shares, commitments) = split(&secret, 3, &Parties::range(5)?, &mut rng)?;
//! assert!(shares.iter().all(|s| commitments.verify_share(s.id(), s.value())));
//! let back = reconstruct(&shares[2..])?;
//! assert_eq!(back.public(), commitments.public_key());
//! # Ok::<(), wallet_sss::ShamirError>(())
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod derive;
pub mod encoding;
pub mod error;
pub mod feldman;
pub mod lagrange;
pub mod polynomial;
#[cfg(feature = "serde")]
pub mod serde_impls;
pub mod shamir;
pub mod wallet;

pub use error::{Mismatched, ShamirError};
pub use feldman::Commitments;
pub use lagrange::{lagrange_at, lagrange_at_zero};
pub use polynomial::Polynomial;
pub use shamir::{Share, ShareSetId, reconstruct, reconstruct_verified, split};

// The crates whose types appear in this crate's API, re-exported so that a user names the same
// versions (`wallet_tss::k256::ecdsa::Signature`) without depending on them directly.
pub use wallet_types::rand_core;
pub use {ed25519_dalek, k256};
