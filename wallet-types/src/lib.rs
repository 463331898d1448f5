//! # wallet-types
//!
//! The foundation shared by the wallet crates (`wallet-sss`, `wallet-tss`, `wallet-kek`,
//! `wallet-pss`):
//!
//! * [`curve`] — the [`Curve`] trait over a prime-order group, implemented for [`Secp256k1`]
//!   (k256) and [`Ed25519`] (curve25519-dalek's prime-order subgroup), with checked decoding;
//! * [`secret`] — [`SecretScalar`], [`SecretBytes`], [`SecretVec`]: zeroized on drop, never
//!   printed, compared in constant time, not `Clone`;
//! * [`party`] — [`PartyId`], checked participant sets ([`Parties`]), [`SessionId`];
//! * [`transcript`] — domain-separated, length-prefixed hashing ([`Transcript`]);
//! * [`message`] and [`protocol`] — message addressing ([`Envelope`]) and the one
//!   [`Protocol`] state-machine trait with its shared round bookkeeping ([`Inbox`],
//!   [`Lifecycle`]);
//! * [`termination`] — how key-producing protocols end: [`Termination`] (confirmed, or an
//!   [`Unconfirmed`] result that is kept), the [`Acknowledgement`] round, and [`reconfirm`] to
//!   retry a confirmation;
//! * [`error`] — typed errors that name culprits ([`Error`], [`Reason`]);
//! * [`wire`] — the header every encoded object starts with and a strict codec
//!   ([`WireObject`]);
//! * [`retry`] — [`retry::LastResponse`]: a server answers a retried request with the same
//!   response;
//! * [`session_id`] — commit-then-reveal agreement on a fresh session id, the first machine;
//! * `sim` (feature `test-utils`) — a deterministic simulator with fault injection;
//! * `os_rng()` (feature `getrandom`) — the operating system's RNG in one call.
//!
//! The crates this API is made of are re-exported: [`k256`], [`curve25519_dalek`],
//! [`rand_core`], [`ff`], [`group`], [`subtle`], [`zeroize`].
//!
//! The byte layouts are specified in this crate's `SPEC.md`.
//!
//! ```
//! use wallet_types::{Curve, Secp256k1, SecretScalar, decode_point};
//! use group::GroupEncoding;
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let sk = SecretScalar::<Secp256k1>::random(&mut rng);
//! let pk = sk.public();
//! let bytes = Secp256k1::encode_point(&pk);
//! assert_eq!(decode_point::<Secp256k1>(bytes.as_ref()).unwrap(), pk);
//! assert_eq!(format!("{sk:?}"), "SecretScalar<secp256k1>(<redacted>)");
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod aead;
pub mod curve;
pub mod error;
pub mod message;
pub mod party;
pub mod protocol;
pub mod reconfirm;
pub mod retry;
pub mod secret;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod serde_wire;
pub mod session_id;
#[cfg(feature = "test-utils")]
pub mod sim;
pub mod store;
pub mod termination;
pub mod transcript;
pub mod wire;

pub use curve::{
    Curve, CurveId, EcdsaCurve, Ed25519, NonIdentity, Secp256k1, decode_nonzero_scalar,
    decode_point, decode_point_or_identity, decode_scalar, random_nonzero_scalar,
};
pub use error::{Error, ErrorKind, ParamError, Reason, StoreError};
pub use message::{Envelope, EnvelopeDecodeError, Recipient};
pub use party::{MAX_PARTIES, Parties, PartyId, SessionId};
pub use protocol::{Delivery, Inbox, Lifecycle, Protocol, Received, RoundMessage, RoundSpec, Step};
pub use secret::{SecretBytes, SecretScalar, SecretVec};
#[cfg(feature = "std")]
pub use store::MemoryOneTimeStore;
pub use store::OneTimeStore;
pub use termination::{Acknowledgement, Stopped, Termination, Unconfirmed};
pub use transcript::Transcript;
pub use wire::{
    DecodeError, FORMAT_VERSION, HEADER_LEN, Header, ObjectKind, Reader, WireObject, Writer,
};

/// Re-exports of the group / field crates the curve trait is built on.
pub use {ff, group, rand_core, subtle, zeroize};

/// The secp256k1 crate behind [`Secp256k1`] (its `Scalar` and `ProjectivePoint` are the curve's
/// types). Use this path instead of depending on `k256` yourself, so that the versions agree.
pub use k256;

/// serde (feature `serde`), for [`impl_serde_via_wire!`].
#[cfg(feature = "serde")]
pub use serde;

/// The Ed25519 group crate behind [`Ed25519`] (its `Scalar` and `SubgroupPoint`).
pub use curve25519_dalek;

/// The operating system's random number generator, ready for every `rng` parameter of the
/// wallet crates (feature `getrandom`).
///
/// `rand_core` 0.10 has no `OsRng`; this is `rand_core::UnwrapErr(getrandom::SysRng)`, a
/// [`rand_core::CryptoRng`] that reads the OS generator on every call (no state to seed or
/// protect). It panics if the operating system cannot deliver randomness, which on the
/// supported platforms means the system is unusable; call `getrandom::SysRng` through
/// `rand_core::TryRng` to handle that case yourself.
///
/// ```
/// # #[cfg(feature = "getrandom")] {
/// use wallet_types::{Secp256k1, SecretScalar};
/// let key = SecretScalar::<Secp256k1>::random(&mut wallet_types::os_rng());
/// # let _ = key; }
/// ```
#[cfg(feature = "getrandom")]
#[cfg_attr(docsrs, doc(cfg(feature = "getrandom")))]
pub fn os_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}
