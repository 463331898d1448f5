//! Client-side resharing of a Shamir share set (the flow of wallets that do reconstruct, as in
//! seed 003): a device that holds at least `t` shares rebuilds the secret in memory, draws a
//! new polynomial for the **same** secret under a fresh share-set id, seals each new share by
//! ECIES to the factor key of its holder, and publishes the [`ShareBundle`]; every holder opens
//! its own share. Leaving a device out of the recipients removes it (its old share belongs to
//! the old share set, which the new one refuses to mix with); a new recipient adds a device or a
//! backup factor ([`crate::factor::FactorKey::from_password`]); the threshold may change.
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
//! use std::collections::BTreeMap;
//! use wallet_pss::factor::FactorKey;
//! use wallet_pss::share_set::{open_share, reshare_share_set};
//! use wallet_sss::{reconstruct, split};
//! use wallet_types::{Parties, PartyId, Secp256k1, SecretScalar};
//!
//! let secret = SecretScalar::<Secp256k1>::random(&mut rng);
//! let (shares, commitments) = split(&secret, 2, &Parties::range(3)?, &mut rng)?;
//! // Device 1 holds shares 1 and 2; device 3 is lost; device 4 joins.
//! let keys: BTreeMap<PartyId, FactorKey<Secp256k1>> =
//!     [1, 2, 4].map(|i| (PartyId::new(i).unwrap(), FactorKey::random(&mut rng))).into();
//! let recipients = keys.iter().map(|(p, k)| (*p, *k.public())).collect();
//! let bundle = reshare_share_set(&shares[..2], &commitments, 0, &recipients, 2, &mut rng)?;
//! let p4 = PartyId::new(4).unwrap();
//! let mine = open_share(&bundle, p4, &keys[&p4])?;
//! let p1 = PartyId::new(1).unwrap();
//! let other = open_share(&bundle, p1, &keys[&p1])?;
//! assert_eq!(reconstruct(&[mine, other])?.expose(), secret.expose());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::collections::BTreeMap;

use rand_core::CryptoRng;
use wallet_sss::shamir::split_with_set_id;
use wallet_sss::{Commitments, Share, ShareSetId, reconstruct_verified};
use wallet_types::{
    Curve, CurveId, DecodeError, MAX_PARTIES, ObjectKind, Parties, PartyId, Reader, SessionId,
    Transcript, WireObject, Writer,
};

use crate::ecies::{self, Ciphertext, Context};
use crate::error::PssError;
use crate::factor::FactorKey;
use crate::key::{read_commitments, write_commitments};

/// Object kind of a share bundle.
pub const KIND_SHARE_BUNDLE: ObjectKind = ObjectKind(0x0530);

/// The published result of a client-side reshare: the new share set's public record and every
/// new share sealed to its holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareBundle<C: Curve> {
    set_id: ShareSetId,
    epoch: u64,
    commitments: Commitments<C>,
    sealed: BTreeMap<PartyId, Ciphertext<C>>,
}

impl<C: Curve> ShareBundle<C> {
    /// The new share-set id.
    pub fn set_id(&self) -> ShareSetId {
        self.set_id
    }
    /// The new epoch.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    /// The new threshold.
    pub fn threshold(&self) -> usize {
        self.commitments.threshold()
    }
    /// Commitments of the new share set (its public key is the unchanged secret's).
    pub fn commitments(&self) -> &Commitments<C> {
        &self.commitments
    }
    /// The recipients.
    pub fn recipients(&self) -> impl Iterator<Item = PartyId> + '_ {
        self.sealed.keys().copied()
    }
}

/// The ECIES session of a bundle: bound to its share-set id.
fn bundle_session<C: Curve>(set_id: &ShareSetId) -> SessionId {
    let mut t = Transcript::new(
        "wallet-pss/share-set",
        1,
        Some(C::ID),
        &SessionId::default(),
    );
    t.append("set-id", set_id.as_bytes());
    SessionId(t.output32("session"))
}

/// Reshares the secret behind `shares` (at least `t` of them, verified against
/// `old_commitments`) to `recipients` (party id → factor public key) with threshold
/// `new_threshold`. The new shares are of epoch `old_epoch + 1`.
pub fn reshare_share_set<C: Curve, R: CryptoRng + ?Sized>(
    shares: &[Share<C>],
    old_commitments: &Commitments<C>,
    old_epoch: u64,
    recipients: &BTreeMap<PartyId, C::Point>,
    new_threshold: usize,
    rng: &mut R,
) -> Result<ShareBundle<C>, PssError> {
    let epoch = old_epoch.checked_add(1).ok_or(PssError::InvalidInput)?;
    let ids = Parties::new(recipients.keys().copied()).map_err(|_| PssError::InvalidInput)?;
    let secret = reconstruct_verified(shares, old_commitments)?;
    let set_id = ShareSetId::random(rng);
    let (new_shares, commitments) = split_with_set_id(&secret, new_threshold, &ids, set_id, rng)?;
    drop(secret);
    if commitments.public_key() != old_commitments.public_key() {
        return Err(PssError::Internal);
    }
    let session = bundle_session::<C>(&set_id);
    let mut sealed = BTreeMap::new();
    for s in &new_shares {
        let q = recipients.get(&s.id()).ok_or(PssError::Internal)?;
        let ctx = Context {
            session,
            epoch,
            recipient: s.id(),
        };
        let mut w = Writer::new();
        w.secret_scalar(s.value());
        let pt = w.into_secret();
        sealed.insert(s.id(), ecies::seal::<C, R>(q, &ctx, pt.expose(), rng)?);
    }
    Ok(ShareBundle {
        set_id,
        epoch,
        commitments,
        sealed,
    })
}

/// Opens `me`'s share from a bundle with its factor key and verifies it against the bundle's
/// commitments.
pub fn open_share<C: Curve>(
    bundle: &ShareBundle<C>,
    me: PartyId,
    factor: &FactorKey<C>,
) -> Result<Share<C>, PssError> {
    let ct = bundle.sealed.get(&me).ok_or(PssError::InvalidInput)?;
    let ctx = Context {
        session: bundle_session::<C>(&bundle.set_id),
        epoch: bundle.epoch,
        recipient: me,
    };
    let pt = ecies::open(factor.secret(), &ctx, ct)?;
    let mut r = Reader::new(pt.expose());
    let value = r.secret_scalar::<C>().map_err(|_| PssError::Decrypt)?;
    r.finish().map_err(|_| PssError::Decrypt)?;
    let share = Share::new(bundle.set_id, bundle.threshold(), me, value)?;
    if !share.verify(&bundle.commitments) {
        return Err(PssError::InvalidSubShare(me));
    }
    Ok(share)
}

/// `set_id[16] || epoch u64 || commitments || u16 n || n × (party || var_bytes(ECIES object))`.
impl<C: Curve> WireObject for ShareBundle<C> {
    const KIND: ObjectKind = KIND_SHARE_BUNDLE;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.set_id.as_bytes());
        w.u64(self.epoch);
        write_commitments::<C>(w, &self.commitments);
        w.u16(self.sealed.len() as u16);
        for (p, ct) in &self.sealed {
            w.party(*p);
            w.object(ct);
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let set_id = ShareSetId(r.array()?);
        let epoch = r.u64()?;
        let commitments = read_commitments::<C>(r)?;
        let n = r.count16(MAX_PARTIES, 6)?;
        if n < commitments.threshold() {
            return Err(DecodeError::InvalidValue);
        }
        let mut sealed = BTreeMap::new();
        let mut last = None;
        for _ in 0..n {
            let p = r.party()?;
            if last.is_some_and(|l| l >= p) {
                return Err(DecodeError::NotSorted);
            }
            last = Some(p);
            sealed.insert(
                p,
                Ciphertext::<C>::from_bytes(r.var_bytes(Ciphertext::<C>::MAX_LEN)?)?,
            );
        }
        Ok(Self {
            set_id,
            epoch,
            commitments,
            sealed,
        })
    }
}
