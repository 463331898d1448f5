//! The retired message of the two-round dealing protocols (kind `0x0510`). No machine sends it
//! any more: refresh and reshare have their own messages with an acknowledgement round
//! ([`crate::refresh::RefreshMessage`], [`crate::reshare::ReshareMessage`]). Kept only so that
//! stored bytes of it can still be recognised; it can be removed with the next format break.

use wallet_sss::Commitments;
use wallet_types::{
    Curve, CurveId, DecodeError, HEADER_LEN, MAX_PARTIES, ObjectKind, Reader, RoundMessage,
    SecretScalar, WireObject, Writer,
};

use crate::key::{read_commitments, write_commitments};

/// Object kind of the retired two-round refresh message.
pub const KIND_DEAL_MESSAGE: ObjectKind = ObjectKind(0x0510);

/// The retired two-round refresh message: round 1 a dealer's commitments with the recipient's
/// sub-share (point-to-point), round 2 a confirmation hash (broadcast).
#[derive(Debug)]
pub enum DealMessage<C: Curve> {
    /// Round 1 (point-to-point): the dealer's commitments and the recipient's sub-share.
    Deal {
        /// The dealer's commitments `Δᵢ`.
        commitments: Commitments<C>,
        /// The recipient's sub-share.
        sub_share: SecretScalar<C>,
    },
    /// Round 2 (broadcast): hash of all dealers' commitments.
    Confirm([u8; 32]),
}

impl<C: Curve> RoundMessage for DealMessage<C> {
    fn round(&self) -> u16 {
        match self {
            Self::Deal { .. } => 1,
            Self::Confirm(_) => 2,
        }
    }
}

/// `tag u8` then, for 1 (deal): `commitments (u16 t || t × point) || sub_share scalar`; for 2
/// (confirm): `hash[32]`.
impl<C: Curve> WireObject for DealMessage<C> {
    const KIND: ObjectKind = KIND_DEAL_MESSAGE;
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
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            1 => Ok(Self::Deal {
                commitments: read_commitments::<C>(r)?,
                sub_share: r.secret_scalar::<C>()?,
            }),
            2 => Ok(Self::Confirm(r.array()?)),
            t => Err(DecodeError::InvalidTag(t)),
        }
    }
}
