//! The view of a threshold key that refresh and reshare work on.
//!
//! A [`KeyShare`] is one party's Shamir share `sᵢ = f(i)` of the group secret, the Feldman
//! commitments to the group polynomial `f` (so every party's share commitment `g^{f(j)}` and the
//! public key `g^{f(0)}` are derivable), the threshold, the party set and the **epoch**: every
//! refresh or reshare produces shares of a new epoch, and operations refuse to mix epochs.
//! The FROST and ECDSA key shares of `wallet-tss` convert to and from this type.

use alloc::vec::Vec;
use core::fmt;

use wallet_sss::Commitments;
use wallet_types::{
    Curve, CurveId, DecodeError, HEADER_LEN, MAX_PARTIES, ObjectKind, Parties, PartyId, Reader,
    SecretScalar, WireObject, Writer,
};

use crate::error::PssError;

/// Object kind of a serialized [`KeyShare`].
pub const KIND_KEY_SHARE: ObjectKind = ObjectKind(0x0502);

/// One party's share of a threshold key, with everything public about the sharing.
///
/// Invariants (checked by [`KeyShare::new`] and on decode): `me ∈ parties`,
/// `1 ≤ threshold ≤ |parties|`, `commitments.threshold() == threshold`, the public key is not the
/// identity, and `share·G` equals `me`'s share commitment.
pub struct KeyShare<C: Curve> {
    me: PartyId,
    threshold: usize,
    parties: Parties,
    share: SecretScalar<C>,
    commitments: Commitments<C>,
    epoch: u64,
}

impl<C: Curve> fmt::Debug for KeyShare<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShare")
            .field("curve", &C::ID.name())
            .field("me", &self.me)
            .field("threshold", &self.threshold)
            .field("parties", &self.parties)
            .field("epoch", &self.epoch)
            .field("share", &self.share)
            .finish_non_exhaustive()
    }
}

impl<C: Curve> KeyShare<C> {
    /// Assembles and checks a key share.
    pub fn new(
        me: PartyId,
        threshold: usize,
        parties: Parties,
        share: SecretScalar<C>,
        commitments: Commitments<C>,
        epoch: u64,
    ) -> Result<Self, PssError> {
        use wallet_types::group::Group;
        if !parties.contains(me)
            || threshold == 0
            || threshold > parties.len()
            || commitments.threshold() != threshold
            || bool::from(commitments.public_key().is_identity())
        {
            return Err(PssError::InvalidInput);
        }
        if !commitments.verify_share(me, &share) {
            return Err(PssError::InvalidSubShare(me));
        }
        Ok(Self {
            me,
            threshold,
            parties,
            share,
            commitments,
            epoch,
        })
    }

    /// This party.
    pub fn me(&self) -> PartyId {
        self.me
    }
    /// The threshold `t`.
    pub fn threshold(&self) -> usize {
        self.threshold
    }
    /// The holders of shares.
    pub fn parties(&self) -> &Parties {
        &self.parties
    }
    /// This party's secret share.
    pub fn share(&self) -> &SecretScalar<C> {
        &self.share
    }
    /// Commitments to the group polynomial.
    pub fn commitments(&self) -> &Commitments<C> {
        &self.commitments
    }
    /// The group public key.
    pub fn public_key(&self) -> C::Point {
        self.commitments.public_key()
    }
    /// `g^{f(id)}`, party `id`'s share commitment.
    pub fn share_commitment(&self, id: PartyId) -> C::Point {
        self.commitments.share_commitment(id)
    }
    /// The epoch (0 after key generation, +1 per refresh or reshare).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    /// An explicit copy of this key share, secret included (the type is deliberately not
    /// `Clone`, so every copy of a long-lived secret is visible in review). Both copies zeroize
    /// on drop; keep the number of live copies to what the caller's storage rule needs.
    pub fn duplicate(&self) -> Self {
        Self {
            me: self.me,
            threshold: self.threshold,
            parties: self.parties.clone(),
            share: self.share.duplicate(),
            commitments: self.commitments.clone(),
            epoch: self.epoch,
        }
    }
    /// Splits into its parts (to build a FROST / ECDSA key share of the same epoch).
    pub fn into_parts(
        self,
    ) -> (
        PartyId,
        usize,
        Parties,
        SecretScalar<C>,
        Commitments<C>,
        u64,
    ) {
        (
            self.me,
            self.threshold,
            self.parties,
            self.share,
            self.commitments,
            self.epoch,
        )
    }
}

/// `me party || threshold u16 || parties || epoch u64 || share scalar || u16 t || t × point
/// (identity allowed)`. Holds the secret share: store encrypted.
impl<C: Curve> WireObject for KeyShare<C> {
    const KIND: ObjectKind = KIND_KEY_SHARE;
    const MAX_LEN: usize = HEADER_LEN + 2 + 2 + 2 + 2 * MAX_PARTIES + 8 + 32 + 2 + 33 * MAX_PARTIES;
    const CURVE: Option<CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u16(self.threshold as u16);
        w.parties(&self.parties);
        w.u64(self.epoch);
        w.secret_scalar(&self.share);
        write_commitments::<C>(w, &self.commitments);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let threshold = usize::from(r.u16()?);
        let parties = r.parties()?;
        let epoch = r.u64()?;
        let share = r.secret_scalar::<C>()?;
        let commitments = read_commitments::<C>(r)?;
        Self::new(me, threshold, parties, share, commitments, epoch)
            .map_err(|_| DecodeError::InvalidValue)
    }
}

/// `u16 t || t × point` (identity allowed: a zero-sharing's constant term).
pub(crate) fn write_commitments<C: Curve>(w: &mut Writer, c: &Commitments<C>) {
    w.u16(c.threshold() as u16);
    for p in c.points() {
        w.point::<C>(p);
    }
}

pub(crate) fn read_commitments<C: Curve>(
    r: &mut Reader<'_>,
) -> Result<Commitments<C>, DecodeError> {
    let t = r.count16(MAX_PARTIES, C::POINT_LEN)?;
    let mut points = Vec::with_capacity(t);
    for _ in 0..t {
        points.push(r.point_or_identity::<C>()?);
    }
    Commitments::new(points).map_err(|_| DecodeError::InvalidValue)
}
