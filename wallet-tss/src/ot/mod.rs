//! Oblivious transfer: the pairwise base-OT setup and the OT extension that two-party ECDSA
//! (DKLs23) multiplies with.
//!
//! Two parties in fixed roles, for one *ordered* pair:
//! * **Alice** — the future VOLE sender ([`crate::mul::mul_sender_round2`]); in the OT extension
//!   she is the *extension sender* and therefore the *base-OT receiver*, whose choice bits are
//!   the extension's secret correlation `Δ ∈ {0,1}^128`;
//! * **Bob** — the future VOLE receiver; the *extension receiver* and *base-OT sender*.
//!
//! Each ordered pair runs the setup once (two parties that multiply in both directions run it
//! twice, once per direction); every later multiplication reuses it.
//!
//! | file | protocol | paper |
//! |---|---|---|
//! | [`base`] | 128 random 1-out-of-2 OTs, **Verified Simplest OT** | DKLs18 (ePrint 2018/499, July 2023 revision), Appendix A, Protocol 7 (π_VSOT), on Chou–Orlandi "Simplest OT" (ePrint 2015/267) |
//! | [`ext`] | OT extension, **SoftSpokenOT with k = 1** (the IKNP shape) and its consistency check | Roy, ePrint 2022/192: Fig. 8 (subspace VOLE), Fig. 9 + Theorem 4.5 (consistency check), Fig. 11 (hashing to OTs with tweaks); Fiat–Shamir for the check's coins as DKLs23 §5.1 |
//!
//! # The setup as round functions
//!
//! Five messages, alternating (Bob starts). Every state and message is a [`WireObject`](wallet_types::WireObject)
//! (kinds `0x0340..0x035f`), so an embedding machine (the ECDSA DKG) can keep them in its own
//! serialized state between rounds. States hold secrets: store their
//! [`WireObject::to_secret_bytes`](wallet_types::WireObject::to_secret_bytes) encrypted.
//!
//! ```text
//! Bob                                                Alice
//! setup_bob_round1(session, me, alice)  ── msg1 ──▶  setup_alice_round2(session, me, bob, msg1)
//! setup_bob_round3(state, msg2)         ◀── msg2 ──
//!                                       ── msg3 ──▶  setup_alice_round4(state, msg3)
//! setup_bob_round5(state, msg4)         ◀── msg4 ──
//!   → MulReceiverSetup                  ── msg5 ──▶  setup_alice_finish(state, msg5)
//!                                                      → MulSenderSetup
//! ```
//!
//! ```
//! use wallet_tss::ot::*;
//! use wallet_types::{PartyId, SessionId};
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let (alice, bob) = (PartyId::new(1).unwrap(), PartyId::new(2).unwrap());
//! let session = SessionId::random(&mut rng); // agreed per pair and direction
//! let (b1, m1) = setup_bob_round1(&session, bob, alice, &mut rng);
//! let (a2, m2) = setup_alice_round2(&session, alice, bob, &m1, &mut rng).unwrap();
//! let (b3, m3) = setup_bob_round3(b1, &m2).unwrap();
//! let (a4, m4) = setup_alice_round4(a2, &m3).unwrap();
//! let (bob_setup, m5) = setup_bob_round5(b3, &m4).unwrap();
//! let alice_setup = setup_alice_finish(a4, &m5).unwrap();
//! assert_eq!(alice_setup.counterparty(), bob);
//! assert_eq!(bob_setup.counterparty(), alice);
//! ```
//!
//! # Reuse and what a failed check means
//!
//! The setup is reused by every multiplication of the pair. Its secrets are Alice's `Δ` and her
//! 128 seeds, and Bob's 256 seeds. A malicious Bob can send an inconsistent extension message
//! whose acceptance by Alice depends on bits of `Δ` (a *selective failure*); the consistency
//! check of [`ext`] bounds what one attempt can teach him, but every failed check is still
//! leakage of the setup secret. Therefore a failed extension check is
//! `Error::blame(bob, Reason::OtConsistency)` and [`wallet_types::Error::must_ban`] names Bob:
//! **never use that setup with that counterparty again** (DKLs18 revision preface: an abort must
//! end the pairing and all its concurrent sessions). A failed base-OT check
//! ([`Reason::BaseOt`](wallet_types::Reason::BaseOt)) aborts the setup itself; it is also on the
//! must-ban list because VSOT allows the sender a selective failure on Alice's choice bits.
//!
//! # Security assumptions
//! Computational Diffie–Hellman in secp256k1 and SHA-512 (through [`wallet_types::Transcript`])
//! as a random oracle for the base OTs; for the extension, AES-256 as a PRF (the PRG is
//! AES-256-CTR keyed by the base-OT seeds), SHA-256 / SHA-512 as random oracles for the
//! Fiat–Shamir challenges, and fixed-key AES-128 as an ideal permutation for the tweakable
//! correlation-robust hash of the random-OT pads (Guo–Katz–Wang–Yu, ePrint 2019/074 §7.4; see
//! `crate::sym`). Static malicious corruption of one party; security with abort; an
//! authenticated, private channel between the two parties.

use wallet_types::ObjectKind;

pub mod base;
pub mod ext;

pub use base::{
    OtSetupMsg1, OtSetupMsg2, OtSetupMsg3, OtSetupMsg4, OtSetupMsg5, SetupAlice2, SetupAlice4,
    SetupBob1, SetupBob3, setup_alice_finish, setup_alice_round2, setup_alice_round4,
    setup_bob_round1, setup_bob_round3, setup_bob_round5,
};
pub use ext::{MulReceiverSetup, MulSenderSetup};

/// Number of base OTs (= the extension's computational security parameter κ = 128, the width of
/// `Δ`).
pub const BASE_OTS: usize = 128;

/// Wire object kinds of this module and of [`crate::mul`] (range `0x0340..0x037f`).
pub mod kinds {
    use super::ObjectKind;
    /// [`super::OtSetupMsg1`].
    pub const SETUP_MSG1: ObjectKind = ObjectKind(0x0340);
    /// [`super::OtSetupMsg2`].
    pub const SETUP_MSG2: ObjectKind = ObjectKind(0x0341);
    /// [`super::OtSetupMsg3`].
    pub const SETUP_MSG3: ObjectKind = ObjectKind(0x0342);
    /// [`super::OtSetupMsg4`].
    pub const SETUP_MSG4: ObjectKind = ObjectKind(0x0343);
    /// [`super::OtSetupMsg5`].
    pub const SETUP_MSG5: ObjectKind = ObjectKind(0x0344);
    /// [`super::SetupBob1`].
    pub const SETUP_BOB1: ObjectKind = ObjectKind(0x0348);
    /// [`super::SetupAlice2`].
    pub const SETUP_ALICE2: ObjectKind = ObjectKind(0x0349);
    /// [`super::SetupBob3`].
    pub const SETUP_BOB3: ObjectKind = ObjectKind(0x034a);
    /// [`super::SetupAlice4`].
    pub const SETUP_ALICE4: ObjectKind = ObjectKind(0x034b);
    /// [`super::MulSenderSetup`].
    pub const MUL_SENDER_SETUP: ObjectKind = ObjectKind(0x0350);
    /// [`super::MulReceiverSetup`].
    pub const MUL_RECEIVER_SETUP: ObjectKind = ObjectKind(0x0351);
    /// [`crate::mul::MulMsg1`].
    pub const MUL_MSG1: ObjectKind = ObjectKind(0x0364);
    /// [`crate::mul::MulMsg2`] (since it names the `MulMsg1` it answers; `0x0365` without).
    pub const MUL_MSG2: ObjectKind = ObjectKind(0x0367);
    /// [`crate::mul::MulReceiverState`] (since it records `ℓ`; `0x0366` without).
    pub const MUL_RECEIVER_STATE: ObjectKind = ObjectKind(0x0368);
}
