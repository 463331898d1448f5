//! Verifiable resharing from `(t, n)` to `(t', n')` (Desmedt–Jajodia 1997; verifiable
//! redistribution of Wong–Wang–Wing 2002), with acknowledged termination.
//!
//! A set `S` of at least `t` old parties (the **dealers**) redistributes the secret to a new
//! party set `N'` with threshold `t'`; the public key stays the same. Dealer `i ∈ S` has the
//! Lagrange-weighted share `λᵢ·sᵢ` (with `λᵢ` the coefficient at zero over `S`), so that
//! `Σᵢ λᵢ·sᵢ = s`. It deals a fresh polynomial `fᵢ` of degree `t' − 1` with `fᵢ(0) = λᵢ·sᵢ`:
//!
//! 1. **Deal** (point-to-point, dealers → new parties): commitments `Fᵢ = (fᵢ,ₖ·G)ₖ` and the
//!    sub-share `fᵢ(j)`. New party `j` checks `|Fᵢ| = t'` ([`Reason::MalformedMessage`]),
//!    `Fᵢ,₀ = λᵢ·Yᵢ` where `Yᵢ = g^{sᵢ}` is dealer `i`'s share commitment from the **old**
//!    commitments — a dealer that would change the group key is caught here
//!    ([`Reason::PublicKeyMismatch`]) — and `fᵢ(j)·G` against `Fᵢ` ([`Reason::InvalidShare`]).
//!    New share `s'ⱼ = Σᵢ fᵢ(j)`, new commitments `Σᵢ Fᵢ` (whose constant term is
//!    `Σᵢ λᵢ·Yᵢ = Y`, the unchanged public key). A failure here aborts with the culprit named:
//!    nothing has been computed yet, and no dealer can finish without this party.
//! 2. **Confirm** (broadcast by the new parties, received by everybody): the transcript hash `h`
//!    of the configuration and every `Fᵢ`. A dealer that sent different commitments to
//!    different parties shows up as a mismatch.
//! 3. **Acknowledge** (broadcast by the new parties, received by everybody): a new party whose
//!    received confirmations all equal its own `h` broadcasts `Ack(h)` — "I hold the new share
//!    under `h`, and so, by their confirmations, does every other new party"; otherwise it
//!    broadcasts `Decline(h)`.
//!
//! **Termination (invariant 11).** A dealer that is not a new party outputs
//! [`ReshareOutput::Dealt`] — the only output after which it may delete its old share — only
//! when every new party acknowledged the same `h` (and every confirmation it received was `h`).
//! A new party outputs [`ReshareOutput::NewShare`] only when every other new party acknowledged
//! its `h`. Any failure after round 1 (a mismatching or missing confirmation or
//! acknowledgement, a `Decline`, an equivocation) does **not** abort: the machine finishes with
//! [`ReshareOutput::Unconfirmed`] (a new party: the computed share is kept, never zeroized) or
//! [`ReshareOutput::NotDealt`] (a dealer), naming the parties whose agreement is missing. So a
//! party that sends the matching hash to the dealers and another one to the other new parties
//! (the pattern of ZcashFoundation/frost#577) cannot make the dealers delete their shares while
//! honest new parties discard theirs: the honest new parties decline, and the dealers never see
//! their acknowledgements. If messages simply stop coming, [`Reshare::stop_waiting`] ends the
//! machine with the same outputs.
//!
//! The machine never holds the caller's old share: [`Reshare::new`] borrows it and deals at
//! once, so whatever happens to the run — an error, an abort, an unconfirmed end — the caller
//! still has its old [`KeyShare`]. **Deletion rule:** delete an old share only on an output for
//! which [`ReshareOutput::may_delete_old_share`] is true, and preferably only after a test
//! signature with the new shares; hold an unconfirmed share (and the old one) until agreement on
//! its transcript hash is reached, e.g. through the signed account metadata.
//!
//! A party in both sets (a device that stays) plays both roles in one machine — the case other
//! libraries have got wrong: its own sub-share must be included exactly once, and it must not
//! wait for a message from itself — and ends like a new party ([`ReshareOutput::NewShare`] or
//! [`ReshareOutput::Unconfirmed`]). The removed party's old share is of epoch `e`; the
//! new shares are of epoch `e + 1` on an independent polynomial, so old shares — the removed
//! one included — combine with nothing new.
//!
//! A reshare to `t' = 1` gives every new party the whole key; it is refused unless the
//! configuration asks for it ([`ReshareConfig::allow_threshold_one`]).
//!
//! **Offline recipients.** [`deal_sealed`] / [`combine_sealed`] produce and consume the same
//! dealing with every sub-share ECIES-encrypted to the recipient's factor key, so it can be
//! posted to an untrusted store and picked up later. A [`SealedDealing`] is **signed** by its
//! dealer — a Schnorr signature under `λᵢ·sᵢ`, checked against `λᵢ·Yᵢ`, which only dealer `i`
//! can produce — over the session, the configuration hash, `i`, `Fᵢ` and every ciphertext, and
//! each ciphertext's AAD binds the configuration and `Fᵢ`. What the store could have caused (a
//! missing, duplicated, foreign or unsigned dealing, a ciphertext that does not open) is
//! [`PssError::StoreDelivered`] and blames nobody; only a dealing whose signature verifies and
//! whose content is then wrong names its dealer. [`SealedOutcome::dealings_hash`] is the hash
//! of every `Fᵢ` the recipient combined: the new parties must agree on it before any dealer
//! deletes its old share. It goes into the signed metadata record of the new epoch
//! ([`AccountMetadata::dealings_hash`](crate::metadata::AccountMetadata::dealings_hash)), and
//! every device checks the record against the hash it computed before deleting anything
//! ([`AccountMetadata::check_dealings_hash`](crate::metadata::AccountMetadata::check_dealings_hash)).
//!
//! **Transport.** Rounds 2 and 3 are broadcasts, but they need not be *reliable* broadcasts:
//! an inconsistent broadcast is exactly what the acknowledgement round detects. Round 1 carries
//! secret sub-shares (encrypted point-to-point channels). A message the caller cannot decode
//! never reaches the machine, which is unchanged: keep waiting, or [`Reshare::stop_waiting`].
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! use std::collections::BTreeMap;
//! use wallet_pss::{combine_sealed, deal_sealed, KeyShare, Reshare, ReshareConfig};
//! use wallet_sss::Polynomial;
//! use wallet_types::{sim::Simulator, Parties, PartyId, Secp256k1, SecretScalar, SessionId};
//! # let f = Polynomial::<Secp256k1>::random(SecretScalar::random(&mut rng), 2, &mut rng)?;
//! # let old_parties = Parties::range(3)?;
//! # let keys: Vec<KeyShare<Secp256k1>> = old_parties.iter()
//! #     .map(|p| KeyShare::new(p, 2, old_parties.clone(), f.share_for(p), f.commit(), 0))
//! #     .collect::<Result<_, _>>()?;
//! // 2-of-{1, 2, 3} → 2-of-{2, 3, 4}, dealt by 1 and 2 (`keys`: the old shares, epoch 0).
//! let config = ReshareConfig {
//!     old_commitments: keys[0].commitments().clone(),
//!     old_parties: keys[0].parties().clone(),
//!     old_epoch: 0,
//!     dealers: Parties::from_ids(&[1, 2])?,
//!     new_parties: Parties::from_ids(&[2, 3, 4])?,
//!     new_threshold: 2,
//!     allow_threshold_one: false,
//! };
//! let session = SessionId::random(&mut rng);
//! let mut sim = Simulator::new(7); // in production: any transport
//! for p in [1, 2, 3, 4].map(|i| PartyId::new(i).unwrap()) {
//!     // Dealers lend their old share; the machine keeps only its dealing.
//!     let old = keys.iter().find(|k| k.me() == p).filter(|_| config.dealers.contains(p));
//!     let machine = Reshare::new(session, config.clone(), p, old, sim.rng())?;
//!     sim.add(machine);
//! }
//! let out = sim.run();
//! // Every new party acknowledged the same transcript hash: now (ideally after a test
//! // signature with the new shares) the old shares may be deleted.
//! assert!(out.outputs.values().all(|o| o.may_delete_old_share()));
//! drop(keys);
//! # let keys: Vec<KeyShare<Secp256k1>> = out.outputs.into_values()
//! #     .filter_map(|o| o.into_confirmed_share()).collect();
//!
//! // The same with sealed dealings for offline devices: dealers 2 and 3 seal to the factor
//! // keys of {3, 4, 5}; the store delivers the dealings; each device combines.
//! let factors: BTreeMap<PartyId, SecretScalar<Secp256k1>> = [3, 4, 5]
//!     .map(|i| (PartyId::new(i).unwrap(), SecretScalar::random(&mut rng)))
//!     .into_iter()
//!     .collect();
//! let factor_keys = factors.iter().map(|(p, s)| (*p, s.public())).collect();
//! let config = ReshareConfig {
//!     old_commitments: keys[0].commitments().clone(),
//!     old_parties: keys[0].parties().clone(),
//!     old_epoch: 1,
//!     dealers: Parties::from_ids(&[2, 3])?,
//!     new_parties: Parties::from_ids(&[3, 4, 5])?,
//!     new_threshold: 2,
//!     allow_threshold_one: false,
//! };
//! let session = SessionId::random(&mut rng);
//! let dealings = keys.iter()
//!     .filter(|k| config.dealers.contains(k.me()))
//!     .map(|k| deal_sealed(&session, &config, k, &factor_keys, &mut rng))
//!     .collect::<Result<Vec<_>, _>>()?;
//! let outcomes = factors.iter()
//!     .map(|(p, f)| combine_sealed(&session, &config, *p, f, &dealings))
//!     .collect::<Result<Vec<_>, _>>()?;
//! // The new shares are usable — and the dealers' old shares deletable — only once every
//! // new party recorded the same dealings hash (in the signed metadata record).
//! assert!(outcomes.iter().all(|o| o.dealings_hash == outcomes[0].dealings_hash));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Byte layouts: `wallet-pss/SPEC.md` §5.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec;
use alloc::vec::Vec;

use rand_core::CryptoRng;
use wallet_sss::{Commitments, Polynomial, lagrange_at_zero};
use wallet_types::subtle::ConstantTimeEq;
use wallet_types::{
    Curve, CurveId, DecodeError, Delivery, Envelope, Error, ErrorKind, HEADER_LEN, Inbox,
    Lifecycle, MAX_PARTIES, ObjectKind, ParamError, Parties, PartyId, Protocol, Reader, Reason,
    Recipient, RoundMessage, RoundSpec, SecretScalar, SessionId, Step, Transcript, WireObject,
    Writer, random_nonzero_scalar,
};

use crate::ecies::{self, Ciphertext, Context};
use crate::error::{DeliveryFault, PssError};
use crate::key::{KeyShare, read_commitments, write_commitments};

/// Object kind of a reshare message (version 2: deal, confirm, acknowledge / decline).
pub const KIND_RESHARE_MESSAGE: ObjectKind = ObjectKind(0x0523);
/// Object kind of a reshare machine's state (version 2; `0x0521` is retired).
pub const KIND_RESHARE_STATE: ObjectKind = ObjectKind(0x0524);
/// Object kind of a signed sealed (ECIES) dealing for offline recipients (version 2; `0x0522`,
/// the unsigned dealing, is retired).
pub const KIND_SEALED_DEALING: ObjectKind = ObjectKind(0x0525);
const PROTOCOL: &str = "wallet-pss/reshare";
const VERSION: u16 = 2;
const CONFIG_PROTOCOL: &str = "wallet-pss/reshare-config";
const SEALED_PROTOCOL: &str = "wallet-pss/reshare-sealed";

/// The public description of a reshare, identical for every participant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReshareConfig<C: Curve> {
    /// Commitments to the old group polynomial (give every old share commitment and the key).
    pub old_commitments: Commitments<C>,
    /// The old party set.
    pub old_parties: Parties,
    /// The old epoch.
    pub old_epoch: u64,
    /// The dealers: at least `t` old parties.
    pub dealers: Parties,
    /// The new party set.
    pub new_parties: Parties,
    /// The new threshold `t'` (`1 ≤ t' ≤ |N'|`; `1` only with `allow_threshold_one`).
    pub new_threshold: usize,
    /// Accept `t' = 1`, where **every** new party holds the whole key (one device alone can
    /// sign and export). Refused unless set: a threshold of one is almost always a mistake.
    pub allow_threshold_one: bool,
}

impl<C: Curve> ReshareConfig<C> {
    /// Checks the configuration's consistency. A new threshold of one without
    /// [`ReshareConfig::allow_threshold_one`] is [`ParamError::InvalidThreshold`] with
    /// `threshold: 1`.
    pub fn check(&self) -> Result<(), ParamError> {
        let t = self.old_commitments.threshold();
        if !self.dealers.is_subset_of(&self.old_parties) {
            return Err(ParamError::Mismatch);
        }
        if self.dealers.len() < t {
            return Err(ParamError::TooFewParties {
                needed: t,
                given: self.dealers.len(),
            });
        }
        if self.new_threshold == 0
            || self.new_threshold > self.new_parties.len()
            || (self.new_threshold == 1 && !self.allow_threshold_one)
        {
            return Err(ParamError::InvalidThreshold {
                threshold: self.new_threshold,
                parties: self.new_parties.len(),
            });
        }
        if self.old_epoch == u64::MAX {
            return Err(ParamError::OutOfRange);
        }
        Ok(())
    }

    /// The epoch of the new shares.
    pub fn new_epoch(&self) -> u64 {
        self.old_epoch.saturating_add(1)
    }

    /// The configuration hash: transcript `("wallet-pss/reshare-config", 1, curve, 0³²)` over
    /// the configuration's encoding (`SPEC.md` §5.1). Sealed dealings and the transcript hash
    /// bind it; the signed metadata record of a reshare can name it.
    pub fn hash(&self) -> [u8; 32] {
        let mut w = Writer::new();
        write_config(&mut w, self);
        let mut t = Transcript::new(CONFIG_PROTOCOL, 1, Some(C::ID), &SessionId::default());
        t.append("config", &w.finish());
        t.output32("config-hash")
    }

    fn all_parties(&self) -> Result<Parties, ParamError> {
        Parties::new(
            self.dealers
                .iter()
                .chain(self.new_parties.iter())
                .collect::<BTreeSet<_>>(),
        )
    }

    fn lambda(&self, dealer: PartyId) -> Result<C::Scalar, Error> {
        lagrange_at_zero::<C>(self.dealers.as_slice(), dealer).map_err(|_| Error::Internal)
    }

    /// `λᵢ·Yᵢ`: the constant term dealer `i`'s commitments must have, and its signing key.
    fn dealer_key(&self, dealer: PartyId) -> Result<C::Point, Error> {
        Ok(self.old_commitments.share_commitment(dealer) * self.lambda(dealer)?)
    }
}

/// One dealer's contribution: commitments and the sub-share for every new party.
struct Dealing<C: Curve> {
    commitments: Commitments<C>,
    sub_shares: BTreeMap<PartyId, SecretScalar<C>>,
}

fn deal<C: Curve, R: CryptoRng + ?Sized>(
    config: &ReshareConfig<C>,
    key: &KeyShare<C>,
    rng: &mut R,
) -> Result<Dealing<C>, Error> {
    if key.commitments() != &config.old_commitments
        || key.epoch() != config.old_epoch
        || key.parties() != &config.old_parties
        || !config.dealers.contains(key.me())
    {
        return Err(ParamError::Mismatch.into());
    }
    let f = Polynomial::<C>::random(weighted_share(config, key)?, config.new_threshold, rng)
        .map_err(|_| Error::Internal)?;
    let sub_shares = config
        .new_parties
        .iter()
        .map(|j| (j, f.share_for(j)))
        .collect();
    Ok(Dealing {
        commitments: f.commit(),
        sub_shares,
    })
}

/// `λᵢ·sᵢ`.
fn weighted_share<C: Curve>(
    config: &ReshareConfig<C>,
    key: &KeyShare<C>,
) -> Result<SecretScalar<C>, Error> {
    let lambda = config.lambda(key.me())?;
    Ok(SecretScalar::<C>::new(lambda * key.share().expose()))
}

/// Checks dealer `dealer`'s commitments (length and constant term).
fn check_commitments<C: Curve>(
    config: &ReshareConfig<C>,
    dealer: PartyId,
    commitments: &Commitments<C>,
) -> Result<(), Reason> {
    if commitments.threshold() != config.new_threshold {
        return Err(Reason::MalformedMessage);
    }
    let expected = config
        .dealer_key(dealer)
        .map_err(|_| Reason::MalformedMessage)?;
    if !bool::from(commitments.public_key().ct_eq(&expected)) {
        return Err(Reason::PublicKeyMismatch);
    }
    Ok(())
}

/// Checks dealer `dealer`'s commitments and the sub-share for `me`.
fn check_dealing<C: Curve>(
    config: &ReshareConfig<C>,
    dealer: PartyId,
    commitments: &Commitments<C>,
    me: PartyId,
    sub_share: &SecretScalar<C>,
) -> Result<(), Reason> {
    check_commitments(config, dealer, commitments)?;
    if !commitments.verify_share(me, sub_share) {
        return Err(Reason::InvalidShare);
    }
    Ok(())
}

/// Sums verified dealings into the new key share.
fn combine<C: Curve>(
    config: &ReshareConfig<C>,
    me: PartyId,
    dealings: &BTreeMap<PartyId, (Commitments<C>, SecretScalar<C>)>,
) -> Result<KeyShare<C>, Error> {
    if dealings.len() != config.dealers.len() {
        return Err(Error::Internal);
    }
    let mut share = SecretScalar::<C>::zero();
    for (_, s) in dealings.values() {
        *share.expose_mut() += s.expose();
    }
    let commitments =
        Commitments::sum(dealings.values().map(|(c, _)| c)).map_err(|_| Error::Internal)?;
    if commitments.public_key() != config.old_commitments.public_key() {
        // Unreachable when every dealing passed `check_dealing` (Σ λᵢ·Yᵢ = Y).
        return Err(Error::Internal);
    }
    KeyShare::new(
        me,
        config.new_threshold,
        config.new_parties.clone(),
        share,
        commitments,
        config.new_epoch(),
    )
    .map_err(|_| Error::Internal)
}

/// The transcript hash of a run: the configuration and every dealer's commitments. The new
/// parties confirm and acknowledge it (interactive) or agree on it as the dealings hash
/// (sealed).
fn transcript_hash<'a, C: Curve>(
    session: &SessionId,
    config_hash: &[u8; 32],
    dealings: impl Iterator<Item = (PartyId, &'a Commitments<C>)>,
) -> [u8; 32] {
    let mut t = Transcript::new(PROTOCOL, VERSION, Some(C::ID), session);
    t.append("config", config_hash);
    for (p, c) in dealings {
        t.append_party("dealer", p);
        for point in c.points() {
            t.append_point::<C>("commitment", point);
        }
    }
    t.output32("transcript")
}

// ------------------------------------------------------------------------------------------
// The interactive machine
// ------------------------------------------------------------------------------------------

/// A reshare message: round 1 deals `Fᵢ` and `fᵢ(j)` (point-to-point), round 2 confirms the
/// transcript hash, round 3 acknowledges (or declines) it.
#[derive(Debug)]
pub enum ReshareMessage<C: Curve> {
    /// Round 1 (point-to-point, dealer → new party): the dealer's commitments `Fᵢ` and the
    /// recipient's sub-share `fᵢ(j)`.
    Deal {
        /// `Fᵢ`.
        commitments: Commitments<C>,
        /// `fᵢ(j)`.
        sub_share: SecretScalar<C>,
    },
    /// Round 2 (broadcast by a new party): its transcript hash.
    Confirm([u8; 32]),
    /// Round 3 (broadcast by a new party): every confirmation it received equals this, its own
    /// transcript hash, and it holds the new share under it.
    Ack([u8; 32]),
    /// Round 3 (broadcast by a new party): a confirmation it received differed from its own
    /// transcript hash (given), or a party misbehaved; it will not acknowledge.
    Decline([u8; 32]),
}

impl<C: Curve> RoundMessage for ReshareMessage<C> {
    fn round(&self) -> u16 {
        match self {
            Self::Deal { .. } => 1,
            Self::Confirm(_) => 2,
            Self::Ack(_) | Self::Decline(_) => 3,
        }
    }
}

/// `tag u8` then, for 1 (deal): `commitments || sub_share scalar`; for 2 (confirm), 3 (ack),
/// 4 (decline): `hash[32]`.
impl<C: Curve> WireObject for ReshareMessage<C> {
    const KIND: ObjectKind = KIND_RESHARE_MESSAGE;
    const MAX_LEN: usize = HEADER_LEN + 1 + 2 + 33 * MAX_PARTIES + 32;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        match self {
            Self::Deal {
                commitments,
                sub_share,
            } => {
                w.u8(1);
                write_commitments::<C>(w, commitments);
                w.secret_scalar(sub_share);
            }
            Self::Confirm(h) => {
                w.u8(2);
                w.bytes(h);
            }
            Self::Ack(h) => {
                w.u8(3);
                w.bytes(h);
            }
            Self::Decline(h) => {
                w.u8(4);
                w.bytes(h);
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Deal {
                commitments: read_commitments::<C>(r)?,
                sub_share: r.secret_scalar::<C>()?,
            }),
            2 => Ok(Self::Confirm(r.array()?)),
            3 => Ok(Self::Ack(r.array()?)),
            4 => Ok(Self::Decline(r.array()?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}

/// What a reshare party ends with. Only [`ReshareOutput::NewShare`] and
/// [`ReshareOutput::Dealt`] allow deleting the old share
/// ([`ReshareOutput::may_delete_old_share`]).
#[derive(Debug)]
pub enum ReshareOutput<C: Curve> {
    /// A new party's share, acknowledged by every other new party under the same transcript
    /// hash. A party that was also a dealer may now replace its old share by this one.
    NewShare {
        /// The new key share (epoch `e + 1`).
        share: KeyShare<C>,
        /// The transcript hash every new party acknowledged.
        transcript_hash: [u8; 32],
    },
    /// A dealer that is not a new party: every new party acknowledged the same transcript hash
    /// (and confirmed it to this dealer), so the old share may now be deleted — preferably
    /// after the new holders made a test signature.
    Dealt {
        /// The transcript hash every new party acknowledged.
        transcript_hash: [u8; 32],
    },
    /// A new party whose share was computed but not acknowledged by every other new party (a
    /// confirmation or acknowledgement differed, was declined or did not come). **Keep the
    /// share — it may be needed to recover the key — and keep the old share too** (if this
    /// party dealt) until the new parties agree on the transcript hash; do not sign with it
    /// before that.
    Unconfirmed {
        /// The share this party computed (valid against the commitments it received).
        share: KeyShare<C>,
        /// This party's transcript hash.
        transcript_hash: [u8; 32],
        /// Whether this party sent its acknowledgement. If it did, the dealers may have been
        /// told that they can delete their old shares (every new party acknowledged to them),
        /// so this share may be part of the only sharing left: never discard it. If it did
        /// not, no dealer can have been told so.
        acknowledged: bool,
        /// The new parties whose matching confirmation or acknowledgement is missing (a
        /// mismatch, a decline, a misbehaviour, or no message before
        /// [`Reshare::stop_waiting`]). Not a proof of misbehaviour: an honest party that saw a
        /// mismatch declines.
        missing_or_mismatched: Vec<PartyId>,
    },
    /// A dealer that is not a new party and did not get matching acknowledgements from every
    /// new party. **Keep the old share**: the new sharing may not be usable.
    NotDealt {
        /// The new parties whose matching confirmation or acknowledgement is missing (as in
        /// [`ReshareOutput::Unconfirmed`]).
        missing_or_mismatched: Vec<PartyId>,
    },
}

impl<C: Curve> ReshareOutput<C> {
    /// Whether the party may now delete its old share (if it had one): only when every new
    /// party acknowledged the same transcript hash. The rule, also for sealed dealings: delete
    /// an old share only after every new holder acknowledged, ideally after a test signature
    /// with the new shares.
    pub fn may_delete_old_share(&self) -> bool {
        matches!(self, Self::NewShare { .. } | Self::Dealt { .. })
    }

    /// The acknowledged transcript hash (confirmed outputs), or this party's own hash
    /// ([`ReshareOutput::Unconfirmed`]); `None` for [`ReshareOutput::NotDealt`].
    pub fn transcript_hash(&self) -> Option<&[u8; 32]> {
        match self {
            Self::NewShare {
                transcript_hash, ..
            }
            | Self::Dealt { transcript_hash }
            | Self::Unconfirmed {
                transcript_hash, ..
            } => Some(transcript_hash),
            Self::NotDealt { .. } => None,
        }
    }

    /// The new share of a confirmed run ([`ReshareOutput::NewShare`] only).
    pub fn into_confirmed_share(self) -> Option<KeyShare<C>> {
        match self {
            Self::NewShare { share, .. } => Some(share),
            _ => None,
        }
    }

    /// The new share this party holds, confirmed or not.
    pub fn share(&self) -> Option<&KeyShare<C>> {
        match self {
            Self::NewShare { share, .. } | Self::Unconfirmed { share, .. } => Some(share),
            _ => None,
        }
    }
}

/// Round 1 is sent by the dealers to the new parties; a dealer that is not a new party
/// expects nothing in it (its sender list is just itself, which the inbox never expects).
/// Rounds 2 and 3 are broadcast by the new parties to everybody.
fn rounds<C: Curve>(config: &ReshareConfig<C>, me: PartyId) -> Result<Vec<RoundSpec>, ParamError> {
    let round1_senders = if config.new_parties.contains(me) {
        config.dealers.clone()
    } else {
        Parties::new([me])?
    };
    let new_parties = RoundSpec {
        delivery: Delivery::Broadcast,
        senders: Some(config.new_parties.clone()),
    };
    Ok(vec![
        RoundSpec {
            delivery: Delivery::P2p,
            senders: Some(round1_senders),
        },
        new_parties.clone(),
        new_parties,
    ])
}

struct State<C: Curve> {
    config: ReshareConfig<C>,
    config_hash: [u8; 32],
    inbox: Inbox<ReshareMessage<C>>,
    /// This dealer's dealing to the other new parties, until `start` sends it.
    outgoing: Option<Dealing<C>>,
    /// Our own dealing to ourselves (a dealer that is also a new party), until round 1.
    own: Option<(Commitments<C>, SecretScalar<C>)>,
    /// A new party's share, from round 1 on.
    share: Option<KeyShare<C>>,
    /// A new party's transcript hash (from round 1 on), or the hash every new party confirmed
    /// to a dealer-only party (from round 2 on).
    hash: Option<[u8; 32]>,
}

/// One party of a reshare: a dealer, a new party, or both.
pub struct Reshare<C: Curve> {
    me: PartyId,
    life: Lifecycle<State<C>>,
}

impl<C: Curve> core::fmt::Debug for Reshare<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reshare")
            .field("me", &self.me)
            .finish_non_exhaustive()
    }
}

impl<C: Curve> Reshare<C> {
    /// A reshare party. `old` is this party's key share if it is a dealer (and must be `None`
    /// otherwise); `me` must be a dealer or a new party.
    ///
    /// The share is only **borrowed**: a dealer deals here (drawing its polynomial from `rng`)
    /// and the machine keeps the dealing, never the share. The caller keeps its old share
    /// whatever the run's outcome, and deletes it only when the output allows it
    /// ([`ReshareOutput::may_delete_old_share`]).
    pub fn new<R: CryptoRng + ?Sized>(
        session: SessionId,
        config: ReshareConfig<C>,
        me: PartyId,
        old: Option<&KeyShare<C>>,
        rng: &mut R,
    ) -> Result<Self, Error> {
        config.check()?;
        let is_dealer = config.dealers.contains(me);
        if is_dealer != old.is_some() {
            return Err(ParamError::Mismatch.into());
        }
        let all = config.all_parties()?;
        let inbox = Inbox::new(session, me, all, rounds(&config, me)?)?;
        let (outgoing, own) = match old {
            Some(k) => {
                if k.me() != me {
                    return Err(ParamError::Mismatch.into());
                }
                let mut d = deal(&config, k, rng)?;
                let own = d.sub_shares.remove(&me).map(|s| (d.commitments.clone(), s));
                (Some(d), own)
            }
            None => (None, None),
        };
        Ok(Self {
            me,
            life: Lifecycle::Created(State {
                config_hash: config.hash(),
                config,
                inbox,
                outgoing,
                own,
                share: None,
                hash: None,
            }),
        })
    }

    /// Ends a machine whose run stopped making progress (a party stays silent; the caller's
    /// timeout is up) without losing what it computed: a new party past round 1 gets
    /// [`ReshareOutput::Unconfirmed`] with its share — and, if it had not acknowledged yet, a
    /// `Decline` to broadcast, so that it can never be counted later — and a started
    /// dealer-only party gets [`ReshareOutput::NotDealt`]. Both list every other new party as
    /// missing (the messages of an open round are not counted). `None` — the machine unchanged
    /// — when it was not started or is over; `None` and the machine finished for a new party
    /// that has no share yet (there is nothing to keep: the old share, if any, is the
    /// caller's). Later calls answer [`Error::Finished`].
    pub fn stop_waiting(&mut self) -> Option<Stopped<C>> {
        match core::mem::replace(&mut self.life, Lifecycle::Finished) {
            Lifecycle::Running(mut s) => {
                let me = self.me;
                let others: Vec<PartyId> =
                    s.config.new_parties.iter().filter(|p| *p != me).collect();
                if s.is_new() && s.share.is_none() {
                    return None;
                }
                // Round 3 is current once this party has acknowledged.
                let acknowledged = s.inbox.current_round() >= 3;
                match s.conclude(Vec::new(), acknowledged, others) {
                    Ok(Step::Done(out, o)) => Some((out, o)),
                    _ => None,
                }
            }
            other => {
                self.life = other;
                None
            }
        }
    }
}

type ReshareStep<C> = Step<ReshareMessage<C>, ReshareOutput<C>>;

/// What [`Reshare::stop_waiting`] ends with: the messages to send (a `Decline`, or none) and
/// the output.
pub type Stopped<C> = (Vec<Envelope<ReshareMessage<C>>>, ReshareOutput<C>);

impl<C: Curve> State<C> {
    fn is_new(&self) -> bool {
        self.config.new_parties.contains(self.inbox.me())
    }

    /// Whether a failure must now end the run with an unconfirmed output instead of an abort:
    /// a new party once it holds its share, a dealer-only party once it has dealt.
    fn holds_result(&self) -> bool {
        !self.is_new() || self.share.is_some()
    }

    /// Ends the run after round 1 on a failure: a new party that has not acknowledged yet
    /// declines (so that nobody waits for it and no dealer can count it), and keeps its share.
    fn conclude(
        &mut self,
        mut out: Vec<Envelope<ReshareMessage<C>>>,
        acknowledged: bool,
        mut missing_or_mismatched: Vec<PartyId>,
    ) -> Result<ReshareStep<C>, Error> {
        missing_or_mismatched.sort_unstable();
        missing_or_mismatched.dedup();
        if !self.is_new() {
            return Ok(Step::Done(
                out,
                ReshareOutput::NotDealt {
                    missing_or_mismatched,
                },
            ));
        }
        let share = self.share.take().ok_or(Error::Internal)?;
        let transcript_hash = self.hash.ok_or(Error::Internal)?;
        if !acknowledged {
            out.push(self.inbox.envelope(
                3,
                Recipient::All,
                ReshareMessage::Decline(transcript_hash),
            ));
        }
        Ok(Step::Done(
            out,
            ReshareOutput::Unconfirmed {
                share,
                transcript_hash,
                acknowledged,
                missing_or_mismatched,
            },
        ))
    }

    fn advance(&mut self) -> Result<ReshareStep<C>, Error> {
        let mut out = Vec::new();
        loop {
            // A dealer-only party has no round 1 to receive: it skips to round 2.
            let round = self.inbox.current_round();
            let Some(msgs) = self.inbox.take_current() else {
                return Ok(Step::Continue(out));
            };
            match round {
                1 if !self.is_new() => {}
                1 => self.round1(msgs, &mut out)?,
                2 => {
                    let mut hashes: BTreeMap<[u8; 32], Vec<PartyId>> = BTreeMap::new();
                    let mut malformed = Vec::new();
                    for (p, m) in msgs {
                        match m {
                            ReshareMessage::Confirm(h) => hashes.entry(h).or_default().push(p),
                            // The inbox refuses a message of another round: defensive only.
                            _ => malformed.push(p),
                        }
                    }
                    let reference = if self.is_new() {
                        self.hash.ok_or(Error::Internal)?
                    } else {
                        // The hash most new parties confirmed (the smallest of a tie); the
                        // others are mismatches. Any mismatch ends the run for this dealer.
                        let mut best: Option<(&[u8; 32], usize)> = None;
                        for (h, ps) in &hashes {
                            if best.is_none_or(|(_, n)| ps.len() > n) {
                                best = Some((h, ps.len()));
                            }
                        }
                        best.map_or([0u8; 32], |(h, _)| *h)
                    };
                    let mut mismatched = malformed;
                    for (h, ps) in &hashes {
                        if *h != reference {
                            mismatched.extend(ps.iter().copied());
                        }
                    }
                    if !mismatched.is_empty() {
                        return self.conclude(out, false, mismatched);
                    }
                    if self.is_new() {
                        out.push(self.inbox.envelope(
                            3,
                            Recipient::All,
                            ReshareMessage::Ack(reference),
                        ));
                    } else {
                        self.hash = Some(reference);
                    }
                }
                3 => {
                    let h = self.hash.ok_or(Error::Internal)?;
                    let missing: Vec<PartyId> = msgs
                        .iter()
                        .filter(|(_, m)| !matches!(m, ReshareMessage::Ack(x) if *x == h))
                        .map(|(p, _)| *p)
                        .collect();
                    if !missing.is_empty() {
                        return self.conclude(out, true, missing);
                    }
                    let output = if self.is_new() {
                        ReshareOutput::NewShare {
                            share: self.share.take().ok_or(Error::Internal)?,
                            transcript_hash: h,
                        }
                    } else {
                        ReshareOutput::Dealt { transcript_hash: h }
                    };
                    return Ok(Step::Done(out, output));
                }
                _ => return Err(Error::Internal),
            }
        }
    }

    /// Round 1 at a new party: verify every dealing, combine, confirm.
    fn round1(
        &mut self,
        msgs: BTreeMap<PartyId, ReshareMessage<C>>,
        out: &mut Vec<Envelope<ReshareMessage<C>>>,
    ) -> Result<(), Error> {
        let me = self.inbox.me();
        let mut dealings = BTreeMap::new();
        let mut blamed: BTreeMap<u8, (Reason, Vec<PartyId>)> = BTreeMap::new();
        for (p, m) in msgs {
            let ReshareMessage::Deal {
                commitments,
                sub_share,
            } = m
            else {
                return Err(Error::blame(p, Reason::MalformedMessage));
            };
            match check_dealing(&self.config, p, &commitments, me, &sub_share) {
                Ok(()) => {
                    dealings.insert(p, (commitments, sub_share));
                }
                Err(reason) => {
                    let order = match reason {
                        Reason::MalformedMessage => 0,
                        Reason::PublicKeyMismatch => 1,
                        _ => 2,
                    };
                    blamed
                        .entry(order)
                        .or_insert((reason, Vec::new()))
                        .1
                        .push(p);
                }
            }
        }
        if let Some((reason, culprits)) = blamed.into_values().next() {
            return Err(Error::blame_all(culprits, reason));
        }
        if let Some(own) = self.own.take() {
            dealings.insert(me, own);
        }
        let h = transcript_hash::<C>(
            self.inbox.session(),
            &self.config_hash,
            dealings.iter().map(|(p, (c, _))| (*p, c)),
        );
        self.share = Some(combine(&self.config, me, &dealings)?);
        self.hash = Some(h);
        out.push(
            self.inbox
                .envelope(2, Recipient::All, ReshareMessage::Confirm(h)),
        );
        Ok(())
    }
}

impl<C: Curve> Protocol for Reshare<C> {
    type Message = ReshareMessage<C>;
    type Output = ReshareOutput<C>;

    fn me(&self) -> PartyId {
        self.me
    }

    fn start<R: CryptoRng + ?Sized>(&mut self, _rng: &mut R) -> Result<ReshareStep<C>, Error> {
        self.life.start(|s| {
            let mut out = Vec::new();
            if let Some(d) = s.outgoing.take() {
                for (j, sub) in d.sub_shares {
                    out.push(s.inbox.envelope(
                        1,
                        Recipient::One(j),
                        ReshareMessage::Deal {
                            commitments: d.commitments.clone(),
                            sub_share: sub,
                        },
                    ));
                }
            }
            // A dealer-only party receives nothing in round 1: its round 1 is complete now.
            Ok(match s.advance()? {
                Step::Continue(more) => {
                    out.extend(more);
                    (Step::Continue(out), false)
                }
                Step::Done(more, o) => {
                    out.extend(more);
                    (Step::Done(out, o), true)
                }
            })
        })
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<ReshareMessage<C>>,
        _rng: &mut R,
    ) -> Result<ReshareStep<C>, Error> {
        self.life.step(|s| match s.inbox.receive(incoming) {
            Ok(_) => s.advance(),
            // After round 1 a misbehaving party (an equivocation, a message of another round)
            // must not make this party drop its result: end unconfirmed, naming it.
            // (Round 3 is current once this party has acknowledged.)
            Err(e) if e.kind() == ErrorKind::Misbehaviour && s.holds_result() => {
                let acknowledged = s.inbox.current_round() >= 3;
                s.conclude(Vec::new(), acknowledged, e.culprits().to_vec())
            }
            Err(e) => Err(e),
        })
    }
}

fn write_config<C: Curve>(w: &mut Writer, c: &ReshareConfig<C>) {
    write_commitments::<C>(w, &c.old_commitments);
    w.parties(&c.old_parties);
    w.u64(c.old_epoch);
    w.parties(&c.dealers);
    w.parties(&c.new_parties);
    w.u16(c.new_threshold as u16);
    w.bool(c.allow_threshold_one);
}

fn read_config<C: Curve>(r: &mut Reader<'_>) -> Result<ReshareConfig<C>, DecodeError> {
    let c = ReshareConfig {
        old_commitments: read_commitments::<C>(r)?,
        old_parties: r.parties()?,
        old_epoch: r.u64()?,
        dealers: r.parties()?,
        new_parties: r.parties()?,
        new_threshold: usize::from(r.u16()?),
        allow_threshold_one: r.bool()?,
    };
    c.check().map_err(|_| DecodeError::InvalidValue)?;
    Ok(c)
}

/// `me party || lifecycle u8` and, while created / running: `config || inbox ||
/// has_outgoing bool || [commitments || u16 n || n × (party || scalar)] || has_own bool ||
/// [commitments || scalar] || has_share bool || [key share body] || has_hash bool ||
/// [hash[32]]` (`SPEC.md` §5.3). Holds secrets: store encrypted.
impl<C: Curve> WireObject for Reshare<C> {
    const KIND: ObjectKind = KIND_RESHARE_STATE;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        if let Some(s) = self.life.state() {
            write_config(w, &s.config);
            s.inbox.encode(w);
            match &s.outgoing {
                Some(d) => {
                    w.bool(true);
                    write_commitments::<C>(w, &d.commitments);
                    w.u16(d.sub_shares.len() as u16);
                    for (p, x) in &d.sub_shares {
                        w.party(*p);
                        w.secret_scalar(x);
                    }
                }
                None => w.bool(false),
            }
            match &s.own {
                Some((c, x)) => {
                    w.bool(true);
                    write_commitments::<C>(w, c);
                    w.secret_scalar(x);
                }
                None => w.bool(false),
            }
            match &s.share {
                Some(k) => {
                    w.bool(true);
                    k.encode_body(w);
                }
                None => w.bool(false),
            }
            match &s.hash {
                Some(h) => {
                    w.bool(true);
                    w.bytes(h);
                }
                None => w.bool(false),
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let config = read_config::<C>(r)?;
                let inbox = Inbox::decode(
                    r,
                    rounds(&config, me).map_err(|_| DecodeError::InvalidValue)?,
                )?;
                let outgoing = if r.bool()? {
                    let commitments = read_commitments::<C>(r)?;
                    let n = r.count16(MAX_PARTIES, 2 + 32)?;
                    let mut sub_shares = BTreeMap::new();
                    let mut last = None;
                    for _ in 0..n {
                        let p = r.party()?;
                        if last.is_some_and(|l| l >= p) {
                            return Err(DecodeError::NotSorted);
                        }
                        last = Some(p);
                        sub_shares.insert(p, r.secret_scalar::<C>()?);
                    }
                    Some(Dealing {
                        commitments,
                        sub_shares,
                    })
                } else {
                    None
                };
                let own = if r.bool()? {
                    Some((read_commitments::<C>(r)?, r.secret_scalar::<C>()?))
                } else {
                    None
                };
                let share = if r.bool()? {
                    Some(KeyShare::<C>::decode_body(r)?)
                } else {
                    None
                };
                let hash = if r.bool()? { Some(r.array()?) } else { None };
                let s = State {
                    config_hash: config.hash(),
                    config,
                    inbox,
                    outgoing,
                    own,
                    share,
                    hash,
                };
                if !consistent(&s, me, tag == 0) {
                    return Err(DecodeError::InvalidValue);
                }
                if tag == 0 {
                    Lifecycle::Created(s)
                } else {
                    Lifecycle::Running(s)
                }
            }
            2 => Lifecycle::Finished,
            3 => Lifecycle::Aborted,
            t => return Err(DecodeError::InvalidTag(t)),
        };
        Ok(Self { me, life })
    }
}

/// Whether a decoded state is one the machine can be in.
fn consistent<C: Curve>(s: &State<C>, me: PartyId, created: bool) -> bool {
    let c = &s.config;
    let is_dealer = c.dealers.contains(me);
    let is_new = c.new_parties.contains(me);
    let round = s.inbox.current_round();
    let outgoing_ok = match &s.outgoing {
        Some(d) => {
            created
                && d.commitments.threshold() == c.new_threshold
                && d.sub_shares.keys().copied().eq(c.new_parties.others(me))
        }
        None => !(created && is_dealer),
    };
    let own_ok = match &s.own {
        Some((commitments, _)) => {
            is_dealer && is_new && round == 1 && commitments.threshold() == c.new_threshold
        }
        None => !(is_dealer && is_new && round == 1),
    };
    let share_ok = match &s.share {
        Some(k) => {
            is_new
                && round >= 2
                && k.me() == me
                && k.threshold() == c.new_threshold
                && k.parties() == &c.new_parties
                && k.epoch() == c.new_epoch()
                && k.public_key() == c.old_commitments.public_key()
        }
        None => !(is_new && round >= 2),
    };
    let hash_ok = s.hash.is_some() == ((is_new && round >= 2) || (!is_new && round >= 3));
    s.inbox.me() == me
        && (!created || round == 1)
        && round <= 3
        && outgoing_ok
        && own_ok
        && share_ok
        && hash_ok
}

// ------------------------------------------------------------------------------------------
// Offline recipients: signed, ECIES-sealed dealings
// ------------------------------------------------------------------------------------------

/// A dealer's Schnorr signature `(R, z)` on its sealed dealing, under `λᵢ·sᵢ`: valid iff
/// `z·G = R + c·(λᵢ·Yᵢ)` (`SPEC.md` §5.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealingSignature<C: Curve> {
    /// `R = k·G`.
    pub r: C::Point,
    /// `z = k + c·λᵢ·sᵢ`.
    pub z: C::Scalar,
}

/// A dealer's contribution for offline recipients: its commitments, one ECIES ciphertext of
/// the sub-share per new party (encrypted to that party's factor key, bound to the
/// configuration and `Fᵢ`), and the dealer's signature over all of it. The fields are public
/// data; nothing in them is trusted before [`combine_sealed`] / [`verify_sealed_dealings`]
/// checked the signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedDealing<C: Curve> {
    /// The reshare session.
    pub session: SessionId,
    /// [`ReshareConfig::hash`] of the run.
    pub config_hash: [u8; 32],
    /// The dealer.
    pub dealer: PartyId,
    /// `Fᵢ`.
    pub commitments: Commitments<C>,
    /// Sub-shares, sealed per recipient.
    pub sealed: BTreeMap<PartyId, Ciphertext<C>>,
    /// The dealer's signature.
    pub signature: DealingSignature<C>,
}

/// `session[32] || config_hash[32] || dealer party || commitments || u16 n || n × (party ||
/// var_bytes ciphertext object) || R point || z scalar` (`SPEC.md` §5.4).
impl<C: Curve> WireObject for SealedDealing<C> {
    const KIND: ObjectKind = KIND_SEALED_DEALING;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        w.bytes(&self.config_hash);
        w.party(self.dealer);
        write_commitments::<C>(w, &self.commitments);
        w.u16(self.sealed.len() as u16);
        for (p, ct) in &self.sealed {
            w.party(*p);
            w.object(ct);
        }
        w.point::<C>(&self.signature.r);
        w.scalar::<C>(&self.signature.z);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let session = r.session()?;
        let config_hash = r.array()?;
        let dealer = r.party()?;
        let commitments = read_commitments::<C>(r)?;
        let n = r.count16(MAX_PARTIES, 6)?;
        let mut sealed = BTreeMap::new();
        let mut last = None;
        for _ in 0..n {
            let p = r.party()?;
            if last.is_some_and(|l| l >= p) {
                return Err(DecodeError::NotSorted);
            }
            last = Some(p);
            let ct = Ciphertext::<C>::from_bytes(r.var_bytes(Ciphertext::<C>::MAX_LEN)?)?;
            sealed.insert(p, ct);
        }
        let signature = DealingSignature {
            r: r.point::<C>()?,
            z: r.scalar::<C>()?,
        };
        Ok(Self {
            session,
            config_hash,
            dealer,
            commitments,
            sealed,
            signature,
        })
    }
}

/// The transcript of a sealed dealing up to its commitments (shared by the ECIES binding and
/// the signature challenge).
fn sealed_transcript<C: Curve>(
    session: &SessionId,
    config_hash: &[u8; 32],
    dealer: PartyId,
    commitments: &Commitments<C>,
) -> Transcript {
    let mut t = Transcript::new(SEALED_PROTOCOL, 1, Some(C::ID), session);
    t.append("config", config_hash);
    t.append_party("dealer", dealer);
    for point in commitments.points() {
        t.append_point::<C>("commitment", point);
    }
    t
}

/// The signature challenge `c` over the whole dealing, `R` and the dealer's key `X = λᵢ·Yᵢ`.
fn sealed_challenge<C: Curve>(
    prefix: &Transcript,
    sealed: &BTreeMap<PartyId, Ciphertext<C>>,
    r: &C::Point,
    x: &C::Point,
) -> C::Scalar {
    let mut t = prefix.clone();
    for (p, ct) in sealed {
        t.append_party("recipient", *p);
        t.append("ciphertext", &ct.to_bytes());
    }
    t.append_point::<C>("R", r);
    t.append_point::<C>("X", x);
    t.challenge::<C>("signature")
}

/// Whether `d` carries its dealer's signature (under `λᵢ·Yᵢ` of `config`) over its session,
/// `config_hash`, dealer, commitments and ciphertexts.
fn signature_valid<C: Curve>(
    config: &ReshareConfig<C>,
    config_hash: &[u8; 32],
    d: &SealedDealing<C>,
) -> Result<bool, PssError> {
    let x = config
        .dealer_key(d.dealer)
        .map_err(|_| PssError::Internal)?;
    let prefix = sealed_transcript(&d.session, config_hash, d.dealer, &d.commitments);
    let c = sealed_challenge(&prefix, &d.sealed, &d.signature.r, &x);
    // z·G − c·X must equal R.
    Ok(C::mul_base_add_vartime(&d.signature.z, &(-c), &x) == d.signature.r)
}

/// Deals this party's contribution with every sub-share sealed to the recipient's factor key
/// (`recipient_keys` must hold a key for every new party), and signs it.
///
/// **Deal once per run.** Two dealings of one dealer for the same session and configuration
/// (e.g. a retry after a crash) are refused by [`combine_sealed`] when delivered together; a
/// store that hands one to some recipients and the other to the rest makes their
/// [`SealedOutcome::dealings_hash`]es differ, which the agreement on that hash catches.
pub fn deal_sealed<C: Curve, R: CryptoRng + ?Sized>(
    session: &SessionId,
    config: &ReshareConfig<C>,
    key: &KeyShare<C>,
    recipient_keys: &BTreeMap<PartyId, C::Point>,
    rng: &mut R,
) -> Result<SealedDealing<C>, PssError> {
    config.check().map_err(|_| PssError::InvalidInput)?;
    let d = deal(config, key, rng).map_err(|_| PssError::Mismatch)?;
    let config_hash = config.hash();
    let me = key.me();
    let prefix = sealed_transcript(session, &config_hash, me, &d.commitments);
    let binding = prefix.output32("ecies-binding");
    let mut sealed = BTreeMap::new();
    for (j, sub) in &d.sub_shares {
        let q = recipient_keys.get(j).ok_or(PssError::InvalidInput)?;
        let ctx = Context {
            session: *session,
            epoch: config.new_epoch(),
            recipient: *j,
        };
        let mut w = Writer::secret();
        w.secret_scalar(sub);
        let pt = w.into_secret();
        sealed.insert(
            *j,
            ecies::seal_bound::<C, R>(q, &ctx, &binding, pt.expose(), rng)?,
        );
    }
    let x = weighted_share(config, key).map_err(|_| PssError::Internal)?;
    let big_x = x.public();
    let k = SecretScalar::<C>::new(random_nonzero_scalar::<C, R>(rng));
    let r = k.public();
    let c = sealed_challenge(&prefix, &sealed, &r, &big_x);
    let z = *k.expose() + c * x.expose();
    Ok(SealedDealing {
        session: *session,
        config_hash,
        dealer: me,
        commitments: d.commitments,
        sealed,
        signature: DealingSignature { r, z },
    })
}

/// What [`combine_sealed`] gives a new party.
#[derive(Debug)]
pub struct SealedOutcome<C: Curve> {
    /// The new key share (epoch `e + 1`). Not yet confirmed: see `dealings_hash`.
    pub share: KeyShare<C>,
    /// The transcript hash over the configuration and every dealer's `Fᵢ` this share was
    /// combined from (the interactive protocol's transcript hash, `SPEC.md` §5.2). **Every new
    /// party must hold the same value** before the share is used and before any dealer deletes
    /// its old share: put it into the signed metadata record of the new epoch
    /// ([`AccountMetadata::with_dealings_hash`](crate::metadata::AccountMetadata::with_dealings_hash));
    /// every device checks that record against its own hash before deleting
    /// ([`AccountMetadata::check_dealings_hash`](crate::metadata::AccountMetadata::check_dealings_hash)),
    /// and dealers delete only once every new party acknowledged it there (ideally after a test
    /// signature).
    pub dealings_hash: [u8; 32],
}

/// Checks a complete set of sealed dealings of one run with public data only — what a store,
/// a dealer or an auditor can do without a factor key — and returns their dealings hash
/// (equal to every recipient's [`SealedOutcome::dealings_hash`] when they combine exactly
/// these dealings). A dealer uses it to check the hash in the metadata record against the
/// dealings it sees, its own included.
///
/// Errors: [`PssError::StoreDelivered`] (no culprit) for a missing, duplicated, foreign or
/// unsigned dealing; [`PssError::InvalidSubShare`] / [`PssError::KeyChanged`] naming a dealer
/// whose signed dealing is malformed or would change the key; [`PssError::InvalidInput`] for a
/// configuration that does not [check](ReshareConfig::check).
pub fn verify_sealed_dealings<C: Curve>(
    session: &SessionId,
    config: &ReshareConfig<C>,
    dealings: &[SealedDealing<C>],
) -> Result<[u8; 32], PssError> {
    config.check().map_err(|_| PssError::InvalidInput)?;
    let config_hash = config.hash();
    let by_dealer = verified_dealings(session, config, &config_hash, dealings)?;
    Ok(transcript_hash::<C>(
        session,
        &config_hash,
        by_dealer.iter().map(|(p, d)| (*p, &d.commitments)),
    ))
}

/// One dealing per dealer, each signed by its dealer and well-formed (everything
/// [`verify_sealed_dealings`] checks).
fn verified_dealings<'a, C: Curve>(
    session: &SessionId,
    config: &ReshareConfig<C>,
    config_hash: &[u8; 32],
    dealings: &'a [SealedDealing<C>],
) -> Result<BTreeMap<PartyId, &'a SealedDealing<C>>, PssError> {
    let delivered = |dealing_of, fault| PssError::StoreDelivered { dealing_of, fault };
    let mut by_dealer: BTreeMap<PartyId, &SealedDealing<C>> = BTreeMap::new();
    for d in dealings {
        if !config.dealers.contains(d.dealer)
            || d.session != *session
            || d.config_hash != *config_hash
        {
            return Err(delivered(d.dealer, DeliveryFault::OtherRun));
        }
        match by_dealer.insert(d.dealer, d) {
            // The same dealing twice is harmless; two different ones are refused.
            Some(prev) if prev != d => return Err(delivered(d.dealer, DeliveryFault::Duplicate)),
            _ => {}
        }
    }
    if let Some(i) = config.dealers.iter().find(|i| !by_dealer.contains_key(i)) {
        return Err(delivered(i, DeliveryFault::Missing));
    }
    for (i, d) in &by_dealer {
        let i = *i;
        // The signature first: until it verifies, nothing in the dealing is the dealer's.
        if !signature_valid(config, config_hash, d)? {
            return Err(delivered(i, DeliveryFault::BadSignature));
        }
        // Signed by dealer i: from here on a fault is the dealer's.
        if !d.sealed.keys().copied().eq(config.new_parties.iter()) {
            return Err(PssError::InvalidSubShare(i));
        }
        match check_commitments(config, i, &d.commitments) {
            Ok(()) => {}
            Err(Reason::PublicKeyMismatch) => return Err(PssError::KeyChanged(i)),
            Err(_) => return Err(PssError::InvalidSubShare(i)),
        }
    }
    Ok(by_dealer)
}

/// Verifies one signed sealed dealing per dealer, opens this party's sub-shares and combines
/// them into its new key share.
///
/// Order: the delivered set is checked (one dealing per dealer, all of this session and
/// configuration), then each dealer's signature, then the signed content. Errors:
/// * [`PssError::StoreDelivered`] — a missing, duplicated or foreign dealing, a signature that
///   does not verify (the public-data forgery of an unsigned dealing ends here), or a signed
///   ciphertext that does not open with `factor_secret`. **No party is blamed.**
/// * [`PssError::InvalidSubShare`] / [`PssError::KeyChanged`] — a dealing **signed by its
///   dealer** whose content is wrong (malformed, a sub-share that fails its Feldman check, a
///   constant term other than `λᵢ·Yᵢ`): that dealer is named.
/// * [`PssError::InvalidInput`] — a bad configuration, or `me` not a new party.
///
/// The share is confirmed only once every new party holds the same
/// [`SealedOutcome::dealings_hash`].
pub fn combine_sealed<C: Curve>(
    session: &SessionId,
    config: &ReshareConfig<C>,
    me: PartyId,
    factor_secret: &SecretScalar<C>,
    dealings: &[SealedDealing<C>],
) -> Result<SealedOutcome<C>, PssError> {
    config.check().map_err(|_| PssError::InvalidInput)?;
    if !config.new_parties.contains(me) {
        return Err(PssError::InvalidInput);
    }
    let config_hash = config.hash();
    let by_dealer = verified_dealings(session, config, &config_hash, dealings)?;
    let ctx = Context {
        session: *session,
        epoch: config.new_epoch(),
        recipient: me,
    };
    let mut accepted = BTreeMap::new();
    for (i, d) in &by_dealer {
        let i = *i;
        // Present: `verified_dealings` checked the recipients are exactly the new parties.
        let ct = d.sealed.get(&me).ok_or(PssError::InvalidSubShare(i))?;
        if *ct.context() != ctx {
            // The dealer signed a ciphertext for another session, epoch or recipient.
            return Err(PssError::InvalidSubShare(i));
        }
        let binding =
            sealed_transcript(session, &config_hash, i, &d.commitments).output32("ecies-binding");
        let pt = ecies::open_bound(factor_secret, &ctx, &binding, ct).map_err(|e| match e {
            PssError::Decrypt => PssError::StoreDelivered {
                dealing_of: i,
                fault: DeliveryFault::Undecryptable,
            },
            other => other,
        })?;
        // It opened under this party's key and the dealing's binding: the plaintext is what
        // dealer i encrypted.
        let mut r = Reader::new(pt.expose());
        let sub = r
            .secret_scalar::<C>()
            .and_then(|s| r.finish().map(|()| s))
            .map_err(|_| PssError::InvalidSubShare(i))?;
        if !d.commitments.verify_share(me, &sub) {
            return Err(PssError::InvalidSubShare(i));
        }
        accepted.insert(i, (d.commitments.clone(), sub));
    }
    let share = combine(config, me, &accepted).map_err(|_| PssError::Internal)?;
    let dealings_hash = transcript_hash::<C>(
        session,
        &config_hash,
        accepted.iter().map(|(p, (c, _))| (*p, c)),
    );
    Ok(SealedOutcome {
        share,
        dealings_hash,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_types::{Ed25519, Secp256k1};

    fn pid(n: u16) -> PartyId {
        PartyId::new(n).unwrap()
    }

    fn hex(b: &[u8]) -> alloc::string::String {
        b.iter().map(|x| alloc::format!("{x:02x}")).collect()
    }

    /// The fixture of `SPEC.md` §5.5: `f(x) = 1001 + 2002·x` over {1, 2, 3}; dealers {1, 2};
    /// new parties {3, 4}, `t' = 2`; session `5a`×32; factor secrets 3003 and 4004.
    type Fixture<C> = (
        ReshareConfig<C>,
        Vec<KeyShare<C>>,
        BTreeMap<PartyId, SecretScalar<C>>,
    );

    fn fixture<C: Curve>() -> Fixture<C> {
        let a0 = C::scalar_from_u64(1001);
        let a1 = C::scalar_from_u64(2002);
        let commitments = Commitments::new(vec![C::mul_base(&a0), C::mul_base(&a1)]).unwrap();
        let parties = Parties::from_ids(&[1, 2, 3]).unwrap();
        let keys = parties
            .iter()
            .map(|p| {
                let s = SecretScalar::new(a0 + a1 * p.to_scalar::<C>());
                KeyShare::new(p, 2, parties.clone(), s, commitments.clone(), 0).unwrap()
            })
            .collect();
        let config = ReshareConfig {
            old_commitments: commitments,
            old_parties: parties,
            old_epoch: 0,
            dealers: Parties::from_ids(&[1, 2]).unwrap(),
            new_parties: Parties::from_ids(&[3, 4]).unwrap(),
            new_threshold: 2,
            allow_threshold_one: false,
        };
        let factors = [(3u16, 3003u64), (4, 4004)]
            .into_iter()
            .map(|(p, f)| (pid(p), SecretScalar::new(C::scalar_from_u64(f))))
            .collect();
        (config, keys, factors)
    }

    /// Frozen: the configuration hash, and dealer 1's sealed dealing drawn from
    /// `ChaCha20Rng::seed_from_u64(2024)` (polynomial, then per recipient the ECIES ephemeral,
    /// then the signature nonce). It decodes, re-encodes to the same bytes, carries a valid
    /// signature, and each recipient's ciphertext opens under its binding to a sub-share that
    /// verifies against `F₁`.
    fn sealed_kat<C: Curve>(config_hash_hex: &str, dealing_hex: &str) {
        let (config, keys, factors) = fixture::<C>();
        let session = SessionId([0x5a; 32]);
        assert_eq!(hex(&config.hash()), config_hash_hex, "config hash");
        let public = factors.iter().map(|(p, s)| (*p, s.public())).collect();
        let mut rng = ChaCha20Rng::seed_from_u64(2024);
        let d = deal_sealed(&session, &config, &keys[0], &public, &mut rng).unwrap();
        assert_eq!(hex(&d.to_bytes()), dealing_hex, "sealed dealing");
        let back = SealedDealing::<C>::from_bytes(&hex::decode(dealing_hex).unwrap()).unwrap();
        assert_eq!(back, d);
        assert!(signature_valid(&config, &config.hash(), &back).unwrap());
        let binding = sealed_transcript(&session, &config.hash(), pid(1), &back.commitments)
            .output32("ecies-binding");
        for (p, f) in &factors {
            let ctx = Context {
                session,
                epoch: 1,
                recipient: *p,
            };
            let pt = ecies::open_bound(f, &ctx, &binding, &back.sealed[p]).unwrap();
            let sub = Reader::new(pt.expose()).secret_scalar::<C>().unwrap();
            assert!(back.commitments.verify_share(*p, &sub));
        }
        // With dealer 2's dealing the recipients combine a share of the same key.
        let d2 = deal_sealed(&session, &config, &keys[1], &public, &mut rng).unwrap();
        for (p, f) in &factors {
            let out =
                combine_sealed(&session, &config, *p, f, &[back.clone(), d2.clone()]).unwrap();
            assert_eq!(out.share.public_key(), keys[0].public_key());
        }
    }

    #[test]
    fn sealed_dealing_known_answer_secp256k1() {
        sealed_kat::<Secp256k1>(SECP256K1_CONFIG_HASH, SECP256K1_DEALING);
    }

    #[test]
    fn sealed_dealing_known_answer_ed25519() {
        sealed_kat::<Ed25519>(ED25519_CONFIG_HASH, ED25519_DEALING);
    }

    const SECP256K1_CONFIG_HASH: &str =
        "1b433a364a44bd94ef92984e8ded2973a89722e922210526d8de8e6b2932111e";
    const SECP256K1_DEALING: &str = concat!(
        "010525015a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a1b433a36",
        "4a44bd94ef92984e8ded2973a89722e922210526d8de8e6b2932111e00010002021c60f695bb8e9d",
        "236bbc9f7c097d3434f19f5d674f4e272a7a58d858af1574960337642b85aa539a02177d1ac129e7",
        "3eb741bcaf9c1f07c2bf2c613b3a6b9220bf0002000300000083010501015a5a5a5a5a5a5a5a5a5a",
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a00000000000000010003029bdcf9a01d3658",
        "96824777808b474bf006dbb034213f8f32dcd4a1d9c918aae0000000307a922ee97151a264c594f8",
        "3da44597c2b240f6254c1746a0a350e323251c7a2e80bef67c8e24c2328342dfffeba7b7c0000400",
        "000083010501015a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a00",
        "000000000000010004022848bd43520484a55707cef0b7254ffdb931bb377520e54f96bbdb85391b",
        "91b5000000300569444b5d4a9e0d3290ae8537bbc044ecfc80e73bf6bc4af3449659d630a2138d09",
        "fe95f1c31664abaee5ce9f3d387c03d27e9d5556e0070d3bc49defac312495e4167dff2bf3cab5b9",
        "5d26fd76a8233a3d135ee841a1a6200689903e0f394408e421dd673896c9abdd222f780ec5c939",
    );
    const ED25519_CONFIG_HASH: &str =
        "7c9fc1431fc6aeac396364badc9b343e8dbcc12f4be0f5e6ba2d2c86e0ba491d";
    const ED25519_DEALING: &str = concat!(
        "010525025a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a7c9fc143",
        "1fc6aeac396364badc9b343e8dbcc12f4be0f5e6ba2d2c86e0ba491d000100023bf6f5f38db14bc2",
        "cd201260e478e52142ba4e4d7779a8f31f7bc3faca005f089c93e490b13d871b672880da7f44959c",
        "0066209086ff4f7263709d848283c76d0002000300000082010501025a5a5a5a5a5a5a5a5a5a5a5a",
        "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a00000000000000010003ed8da86e0f996f5e534a",
        "1a7d979314f65c1097dc72c3c6e84df4708eb4d094500000003003a2957af8dc672cd4d42da090d5",
        "3a2ee275df23eb8aebd499451e4bf056fa612250026b42172affecfb6b5e4dff7761000400000082",
        "010501025a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a00000000",
        "00000001000436ecac1de9d83af7cd2222ac32d7e078bb63f89474e3e26b3cf37a318a7ebe880000",
        "0030de5223e67987c7515e1c3b7a3fafc74028ebf392238337eb4f883998262bb93bc3730fce9064",
        "f48ed9a06db1e27f89c9c730a54a3a693f51a9ad0b0b08d60bcafbc564ba60bdf3d363cbf87479c3",
        "b9c75670e32b2fd1ba23f21da89086d9a706ccf143e7f4f5a683927f4f31f4238000",
    );

    /// The retired kinds (version 1) decode to `WrongKind`, not to a version-2 object.
    #[test]
    fn retired_kinds_are_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let (config, keys, factors) = fixture::<Secp256k1>();
        let session = SessionId([0x5a; 32]);
        let public = factors.iter().map(|(p, s)| (*p, s.public())).collect();
        let d = deal_sealed(&session, &config, &keys[0], &public, &mut rng).unwrap();
        let mut old = d.to_bytes();
        old[1..3].copy_from_slice(&0x0522u16.to_be_bytes());
        assert!(matches!(
            SealedDealing::<Secp256k1>::from_bytes(&old),
            Err(DecodeError::WrongKind { .. })
        ));
        let m = Reshare::new(session, config.clone(), pid(1), Some(&keys[0]), &mut rng).unwrap();
        let mut old = m.to_secret_bytes().expose().to_vec();
        old[1..3].copy_from_slice(&0x0521u16.to_be_bytes());
        assert!(matches!(
            Reshare::<Secp256k1>::from_bytes(&old),
            Err(DecodeError::WrongKind { .. })
        ));
        // A version-1 confirmation (the refresh / old reshare message kind 0x0510).
        let mut confirm = alloc::vec![wallet_types::FORMAT_VERSION, 0x05, 0x10, 0x01, 2];
        confirm.extend_from_slice(&[7; 32]);
        assert!(matches!(
            ReshareMessage::<Secp256k1>::from_bytes(&confirm),
            Err(DecodeError::WrongKind { .. })
        ));
    }

    #[test]
    fn messages_roundtrip() {
        for m in [
            ReshareMessage::<Ed25519>::Confirm([1; 32]),
            ReshareMessage::Ack([2; 32]),
            ReshareMessage::Decline([3; 32]),
        ] {
            let b = m.to_bytes();
            let back = ReshareMessage::<Ed25519>::from_bytes(&b).unwrap();
            assert_eq!(back.to_bytes(), b);
            assert_eq!(back.round(), m.round());
        }
        let mut b = ReshareMessage::<Ed25519>::Ack([2; 32]).to_bytes();
        b[4] = 5;
        assert_eq!(
            ReshareMessage::<Ed25519>::from_bytes(&b).err(),
            Some(DecodeError::InvalidTag(5))
        );
    }

    /// A state a machine can never be in is refused (here: a created dealer without its
    /// dealing).
    #[test]
    fn inconsistent_state_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let (config, keys, _) = fixture::<Ed25519>();
        let session = SessionId([1; 32]);
        let mut m = Reshare::new(session, config, pid(1), Some(&keys[0]), &mut rng).unwrap();
        if let Lifecycle::Created(s) = &mut m.life {
            s.outgoing = None;
        }
        let b = m.to_secret_bytes();
        assert_eq!(
            Reshare::<Ed25519>::from_bytes(b.expose()).err(),
            Some(DecodeError::InvalidValue)
        );
    }
}
