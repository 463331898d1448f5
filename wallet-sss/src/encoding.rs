//! Wire encodings of shares and commitments (header from `wallet-types`; byte layouts in this
//! crate's `SPEC.md`, pinned by known-answer tests).
//!
//! | kind | object | curve byte |
//! |---|---|---|
//! | `0x0201` | [`Share`] | the share's curve |
//! | `0x0202` | [`Commitments`] | the commitments' curve |
//! | `0x0203` | [`ShareSetCommitments`] | the commitments' curve |
//! | `0x0204` | [`crate::wallet::WalletShare`] | secp256k1 |

use alloc::vec::Vec;

use wallet_types::{
    Curve, CurveId, DecodeError, HEADER_LEN, MAX_PARTIES, ObjectKind, PartyId, Reader, WireObject,
    Writer,
};

use crate::error::{Mismatched, ShamirError};
use crate::feldman::Commitments;
use crate::shamir::{SHARE_SET_ID_LEN, Share, ShareSetId};

/// Object kind of an encoded [`Share`].
pub const SHARE: ObjectKind = ObjectKind(0x0201);
/// Object kind of encoded [`Commitments`].
pub const COMMITMENTS: ObjectKind = ObjectKind(0x0202);
/// Object kind of encoded [`ShareSetCommitments`].
pub const SHARE_SET_COMMITMENTS: ObjectKind = ObjectKind(0x0203);
/// Object kind of an encoded [`crate::wallet::WalletShare`].
pub const WALLET_SHARE: ObjectKind = ObjectKind(0x0204);

/// Reads a threshold field (`u16`, `1..=MAX_PARTIES`).
fn read_threshold(r: &mut Reader<'_>) -> Result<usize, DecodeError> {
    let t = usize::from(r.u16()?);
    if t == 0 || t > MAX_PARTIES {
        return Err(DecodeError::InvalidValue);
    }
    Ok(t)
}

/// Reads a non-zero party id.
fn read_party(r: &mut Reader<'_>) -> Result<PartyId, DecodeError> {
    PartyId::new(r.u16()?).ok_or(DecodeError::ZeroPartyId)
}

/// Reads a share-set id.
pub(crate) fn read_set_id(r: &mut Reader<'_>) -> Result<ShareSetId, DecodeError> {
    Ok(ShareSetId(r.array::<SHARE_SET_ID_LEN>()?))
}

/// Body: `set_id[16] ‖ u16be(threshold) ‖ u16be(id) ‖ value[SCALAR_LEN]`.
impl<C: Curve> WireObject for Share<C> {
    const KIND: ObjectKind = SHARE;
    const MAX_LEN: usize = HEADER_LEN + SHARE_SET_ID_LEN + 2 + 2 + C::SCALAR_LEN;
    const CURVE: Option<CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.set_id().as_bytes());
        // The threshold is ≤ MAX_PARTIES (1024) by the type's invariant, so it fits a u16.
        w.u16(u16::try_from(self.threshold()).unwrap_or(u16::MAX));
        w.party(self.id());
        w.secret_scalar(self.value());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let set_id = read_set_id(r)?;
        let threshold = read_threshold(r)?;
        let id = read_party(r)?;
        let value = r.secret_scalar::<C>()?;
        Share::new(set_id, threshold, id, value).map_err(|_| DecodeError::InvalidValue)
    }
}

impl<C: Curve> Commitments<C> {
    /// Writes `u16be(t) ‖ t × point` (points in the curve's canonical encoding; the identity
    /// is allowed) — for embedding in other objects.
    pub fn encode_into(&self, w: &mut Writer) {
        w.u16(u16::try_from(self.threshold()).unwrap_or(u16::MAX));
        for p in self.points() {
            w.point::<C>(p);
        }
    }

    /// Reads what [`Commitments::encode_into`] wrote, checking `1 ≤ t ≤ MAX_PARTIES` and that
    /// the input holds `t` points before allocating, and every point's encoding.
    pub fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let t = r.count16(MAX_PARTIES, C::POINT_LEN)?;
        if t == 0 {
            return Err(DecodeError::InvalidValue);
        }
        let mut points = Vec::with_capacity(t);
        for _ in 0..t {
            points.push(r.point_or_identity::<C>()?);
        }
        Commitments::new(points).map_err(|_| DecodeError::InvalidValue)
    }
}

/// Body: `u16be(t) ‖ t × point`.
impl<C: Curve> WireObject for Commitments<C> {
    const KIND: ObjectKind = COMMITMENTS;
    const MAX_LEN: usize = HEADER_LEN + 2 + MAX_PARTIES * C::POINT_LEN;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        self.encode_into(w);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Commitments::decode_from(r)
    }
}

/// The public record of one dealing: its share-set id and Feldman commitments. Everything a
/// share holder needs to verify its share and to recognise shares of the same set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareSetCommitments<C: Curve> {
    set_id: ShareSetId,
    commitments: Commitments<C>,
}

impl<C: Curve> ShareSetCommitments<C> {
    /// Pairs a share-set id with its commitments.
    pub fn new(set_id: ShareSetId, commitments: Commitments<C>) -> Self {
        Self {
            set_id,
            commitments,
        }
    }

    /// The share-set id.
    pub fn set_id(&self) -> ShareSetId {
        self.set_id
    }

    /// The commitments.
    pub fn commitments(&self) -> &Commitments<C> {
        &self.commitments
    }

    /// The committed secret's public key `s·G`.
    pub fn public_key(&self) -> C::Point {
        self.commitments.public_key()
    }

    /// Checks that `share` belongs to this set (id and threshold) and verifies against the
    /// commitments.
    pub fn check(&self, share: &Share<C>) -> Result<(), ShamirError> {
        if share.set_id() != self.set_id {
            return Err(ShamirError::Mismatch {
                what: Mismatched::ShareSet,
            });
        }
        if share.threshold() != self.commitments.threshold() {
            return Err(ShamirError::Mismatch {
                what: Mismatched::Threshold,
            });
        }
        self.commitments.check_share(share.id(), share.value())
    }
}

/// Body: `set_id[16] ‖ u16be(t) ‖ t × point`.
impl<C: Curve> WireObject for ShareSetCommitments<C> {
    const KIND: ObjectKind = SHARE_SET_COMMITMENTS;
    const MAX_LEN: usize = HEADER_LEN + SHARE_SET_ID_LEN + 2 + MAX_PARTIES * C::POINT_LEN;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.set_id.as_bytes());
        self.commitments.encode_into(w);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let set_id = read_set_id(r)?;
        let commitments = Commitments::decode_from(r)?;
        Ok(Self {
            set_id,
            commitments,
        })
    }
}

/// Decodes a share whose header may name either curve and reports a share of another curve as
/// [`Mismatched::Curve`] instead of a bare header error.
pub fn decode_share<C: Curve>(bytes: &[u8]) -> Result<Share<C>, ShamirError> {
    match Share::<C>::from_bytes(bytes) {
        Err(DecodeError::WrongCurve { found, .. }) if CurveId::from_byte(found).is_ok() => {
            Err(ShamirError::Mismatch {
                what: Mismatched::Curve,
            })
        }
        other => other.map_err(ShamirError::Decode),
    }
}
