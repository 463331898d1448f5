//! Client-side resharing of a Shamir share set (the flow of wallets that do reconstruct, as in
//! seed 003): a device that holds at least `t` shares rebuilds the secret in memory, draws a
//! new polynomial for the **same** secret under a fresh share-set id, seals each new share by
//! ECIES to the factor key of its holder, **signs the bundle with the wallet key** it just
//! rebuilt ([`crate::wallet_sig`]), and publishes the [`ShareBundle`]; every holder opens its
//! own share. Leaving a device out of the recipients removes it (its old share belongs to the
//! old share set, which the new one refuses to mix with); a new recipient adds a device or a
//! backup factor (a random [`FactorKey`] sealed under an OPRF-hardened password or
//! recovery-answer slot, see [`crate::factor`]); the threshold may change.
//!
//! **What binds a bundle to the wallet.** The store that relays bundles is untrusted, and ECIES
//! alone authenticates nothing (anyone can seal to a factor public key). [`open_share`]
//! therefore takes the wallet public key and the id of the share set being replaced, as the
//! device knows them (from its own share, or from verified metadata for a new device), and
//! before decrypting anything checks that the bundle names exactly these
//! ([`PssError::WrongWallet`], [`PssError::WrongShareSet`]) and that the wallet key signed the
//! whole bundle — both ids, epoch, commitments, recipients and every ciphertext
//! ([`PssError::BadSignature`]). Only the holders of `t` shares can make that signature: a
//! bundle of another secret made from public data, a bundle of another wallet, or an altered
//! one is refused, and every such refusal names nobody (the store may have caused it).
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
//! let (wallet_key, old_set) = (commitments.public_key(), shares[0].set_id());
//! // Device 1 holds shares 1 and 2; device 3 is lost; device 4 joins.
//! let keys: BTreeMap<PartyId, FactorKey<Secp256k1>> =
//!     [1, 2, 4].map(|i| (PartyId::new(i).unwrap(), FactorKey::random(&mut rng))).into();
//! let recipients = keys.iter().map(|(p, k)| (*p, *k.public())).collect();
//! let bundle = reshare_share_set(&shares[..2], &commitments, 0, &recipients, 2, &mut rng)?;
//! let p4 = PartyId::new(4).unwrap();
//! let mine = open_share(&bundle, &wallet_key, &old_set, p4, &keys[&p4])?;
//! let p1 = PartyId::new(1).unwrap();
//! let other = open_share(&bundle, &wallet_key, &old_set, p1, &keys[&p1])?;
//! assert_eq!(reconstruct(&[mine, other])?.expose(), secret.expose());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::collections::BTreeMap;

use rand_core::CryptoRng;
use wallet_sss::shamir::split_with_set_id;
use wallet_sss::{Commitments, Share, ShareSetId, reconstruct_verified};
use wallet_types::group::Group;
use wallet_types::wire::header_of;
use wallet_types::{
    Curve, CurveId, DecodeError, MAX_PARTIES, ObjectKind, Parties, PartyId, Reader, SecretScalar,
    SessionId, Transcript, WireObject, Writer,
};

use crate::ecies::{self, Ciphertext, Context};
use crate::error::PssError;
use crate::factor::FactorKey;
use crate::key::{read_commitments, write_commitments};
use crate::metadata::{MetadataCertificate, MetadataKey};
use crate::wallet_sig::{SIGNATURE_LEN, WalletCurve};

/// Object kind of a share bundle (version 2: bound to the previous share set, signed by the
/// wallet key). The unsigned version-1 bundle, kind `0x0530`, is retired: it decodes to
/// [`DecodeError::WrongKind`].
pub const KIND_SHARE_BUNDLE: ObjectKind = ObjectKind(0x0531);

/// The published result of a client-side reshare: the new share set's public record, every
/// new share sealed to its holder, and the wallet key's signature over all of it.
///
/// Decoding checks the layout only; what binds a bundle to a wallet — its public key, the
/// share set it replaces and the signature — is checked by [`open_share`] (or
/// [`ShareBundle::verify`]) against what the device expects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareBundle<C: Curve> {
    previous_set_id: ShareSetId,
    set_id: ShareSetId,
    epoch: u64,
    commitments: Commitments<C>,
    sealed: BTreeMap<PartyId, Ciphertext<C>>,
    signature: [u8; SIGNATURE_LEN],
}

impl<C: Curve> ShareBundle<C> {
    /// The share set this bundle replaces.
    pub fn previous_set_id(&self) -> ShareSetId {
        self.previous_set_id
    }
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
    /// The wallet public key the bundle claims (the commitments' constant term).
    pub fn public_key(&self) -> C::Point {
        self.commitments.public_key()
    }
    /// The recipients.
    pub fn recipients(&self) -> impl Iterator<Item = PartyId> + '_ {
        self.sealed.keys().copied()
    }
    /// The wallet key's signature over [`ShareBundle::digest`].
    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }

    /// What the wallet key signs: transcript `("wallet-pss/share-bundle", 2, curve)` with
    /// `append("bundle", header || body without the signature)`, output32 `"digest"`
    /// (`SPEC.md` §7.2): every field, every ciphertext included.
    pub fn digest(&self) -> [u8; 32] {
        let mut w = Writer::new();
        w.bytes(&header_of::<Self>().to_bytes());
        self.encode_unsigned(&mut w);
        let mut t = Transcript::new(
            "wallet-pss/share-bundle",
            2,
            Some(C::ID),
            &SessionId::default(),
        );
        t.append("bundle", &w.finish());
        t.output32("digest")
    }

    fn encode_unsigned(&self, w: &mut Writer) {
        w.bytes(self.previous_set_id.as_bytes());
        w.bytes(self.set_id.as_bytes());
        w.u64(self.epoch);
        write_commitments::<C>(w, &self.commitments);
        w.u16(self.sealed.len() as u16);
        for (p, ct) in &self.sealed {
            w.party(*p);
            w.object(ct);
        }
    }
}

impl<C: WalletCurve> ShareBundle<C> {
    /// Checks, in this order, that the bundle is for the wallet key `expected_public_key`
    /// ([`PssError::WrongWallet`]), replaces the share set `expected_previous_set`
    /// ([`PssError::WrongShareSet`]) and carries that key's signature over all of it
    /// ([`PssError::BadSignature`]). Every refusal is one the store can cause: none names a
    /// party.
    pub fn verify(
        &self,
        expected_public_key: &C::Point,
        expected_previous_set: &ShareSetId,
    ) -> Result<(), PssError> {
        if self.public_key() != *expected_public_key {
            return Err(PssError::WrongWallet);
        }
        if self.previous_set_id != *expected_previous_set {
            return Err(PssError::WrongShareSet);
        }
        if !C::verify_digest(expected_public_key, &self.digest(), &self.signature) {
            return Err(PssError::BadSignature);
        }
        Ok(())
    }
}

/// The ECIES session of a bundle: bound to the wallet key and both share-set ids.
fn bundle_session<C: Curve>(
    public_key: &C::Point,
    previous: &ShareSetId,
    set_id: &ShareSetId,
) -> SessionId {
    let mut t = Transcript::new(
        "wallet-pss/share-set",
        2,
        Some(C::ID),
        &SessionId::default(),
    );
    t.append_point::<C>("public-key", public_key);
    t.append("previous-set-id", previous.as_bytes());
    t.append("set-id", set_id.as_bytes());
    SessionId(t.output32("session"))
}

/// Reshares the secret behind `shares` (at least `t` of them, verified against
/// `old_commitments`, all of one share set) to `recipients` (party id → factor public key) with
/// threshold `new_threshold`. The new shares are of epoch `old_epoch + 1`; the bundle names the
/// old share set and is signed with the rebuilt wallet key before the key is dropped.
pub fn reshare_share_set<C: WalletCurve, R: CryptoRng + ?Sized>(
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
    // `reconstruct_verified` refuses shares of different sets.
    let previous_set_id = shares.first().ok_or(PssError::InvalidInput)?.set_id();
    let set_id = ShareSetId::random(rng);
    let (new_shares, commitments) = split_with_set_id(&secret, new_threshold, &ids, set_id, rng)?;
    if commitments.public_key() != old_commitments.public_key() {
        return Err(PssError::Internal);
    }
    let session = bundle_session::<C>(&commitments.public_key(), &previous_set_id, &set_id);
    let mut sealed = BTreeMap::new();
    for s in &new_shares {
        let q = recipients.get(&s.id()).ok_or(PssError::Internal)?;
        let ctx = Context {
            session,
            epoch,
            recipient: s.id(),
        };
        let mut w = Writer::secret();
        w.secret_scalar(s.value());
        let pt = w.into_secret();
        sealed.insert(s.id(), ecies::seal::<C, R>(q, &ctx, pt.expose(), rng)?);
    }
    drop(new_shares);
    let mut bundle = ShareBundle {
        previous_set_id,
        set_id,
        epoch,
        commitments,
        sealed,
        signature: [0u8; SIGNATURE_LEN],
    };
    bundle.signature = C::sign_digest(&secret, &bundle.digest())?;
    Ok(bundle)
}

/// Opens `me`'s share from a bundle fetched from the store.
///
/// `expected_public_key` is the wallet public key and `expected_previous_set` the id of the
/// share set the device holds now (its old share's [`Share::set_id`]; a device the reshare adds
/// uses [`open_share_for_new_device`] with the current record's set instead). Before anything
/// is decrypted the bundle is checked as [`ShareBundle::verify`] does. Then: [`PssError::NotRecipient`] if it
/// holds nothing for `me`; [`PssError::Decrypt`] (opaque) if `factor` does not open it;
/// [`PssError::InvalidRecord`] if the signed bundle is inconsistent (a share that fails its
/// commitments: the resharing device, not the store, produced it wrong).
pub fn open_share<C: WalletCurve>(
    bundle: &ShareBundle<C>,
    expected_public_key: &C::Point,
    expected_previous_set: &ShareSetId,
    me: PartyId,
    factor: &FactorKey<C>,
) -> Result<Share<C>, PssError> {
    bundle.verify(expected_public_key, expected_previous_set)?;
    let ct = bundle.sealed.get(&me).ok_or(PssError::NotRecipient)?;
    let ctx = Context {
        session: bundle_session::<C>(expected_public_key, &bundle.previous_set_id, &bundle.set_id),
        epoch: bundle.epoch,
        recipient: me,
    };
    let pt = ecies::open(factor.secret(), &ctx, ct).map_err(|e| match e {
        // The signed bundle holds a ciphertext for another context: made wrong by its signer.
        PssError::ContextMismatch => PssError::InvalidRecord,
        e => e,
    })?;
    let mut r = Reader::new(pt.expose());
    let value = r.secret_scalar::<C>().map_err(|_| PssError::Decrypt)?;
    r.finish().map_err(|_| PssError::Decrypt)?;
    let share = Share::new(bundle.set_id, bundle.threshold(), me, value)?;
    if !share.verify(&bundle.commitments) {
        return Err(PssError::InvalidRecord);
    }
    Ok(share)
}

/// [`open_share`] for a device the reshare adds (it holds no share of the previous set): the
/// bundle must create the share set `expected_set`, the `share_set` of the account's current
/// record as verified by [`crate::metadata::open_metadata`] ([`PssError::WrongShareSet`]
/// otherwise), and is then checked and opened as by [`open_share`].
pub fn open_share_for_new_device<C: WalletCurve>(
    bundle: &ShareBundle<C>,
    expected_public_key: &C::Point,
    expected_set: &ShareSetId,
    me: PartyId,
    factor: &FactorKey<C>,
) -> Result<Share<C>, PssError> {
    if bundle.set_id != *expected_set {
        return Err(PssError::WrongShareSet);
    }
    open_share(
        bundle,
        expected_public_key,
        &bundle.previous_set_id,
        me,
        factor,
    )
}

/// Certifies `key` as the account's metadata key with the wallet key rebuilt from `shares`
/// (at least `t`, verified against `commitments`): the SSS way of signing a
/// [`MetadataCertificate`] (threshold signers sign [`MetadataKey::certificate_digest`] instead,
/// see [`MetadataCertificate::from_signature`]). Call it when the metadata key is created and
/// whenever it is rotated ([`MetadataKey::rotate`], e.g. in the same session as a
/// [`reshare_share_set`] that removes a device).
pub fn certify_metadata_key<C: WalletCurve>(
    shares: &[Share<C>],
    commitments: &Commitments<C>,
    key: &MetadataKey<C>,
) -> Result<MetadataCertificate<C>, PssError> {
    let secret: SecretScalar<C> = reconstruct_verified(shares, commitments)?;
    MetadataCertificate::sign(&secret, key)
}

/// `previous_set_id[16] || set_id[16] || epoch u64 || commitments || u16 n || n × (party ||
/// var_bytes(ECIES object)) || signature[64]` (`SPEC.md` §7).
impl<C: Curve> WireObject for ShareBundle<C> {
    const KIND: ObjectKind = KIND_SHARE_BUNDLE;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        self.encode_unsigned(w);
        w.bytes(&self.signature);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let previous_set_id = ShareSetId(r.array()?);
        let set_id = ShareSetId(r.array()?);
        let epoch = r.u64()?;
        let commitments = read_commitments::<C>(r)?;
        if bool::from(commitments.public_key().is_identity()) {
            return Err(DecodeError::IdentityPoint);
        }
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
        let signature = r.array()?;
        Ok(Self {
            previous_set_id,
            set_id,
            epoch,
            commitments,
            sealed,
            signature,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod known_answer {
    //! Frozen bundles of `SPEC.md` §7.4: every input fixed (keys, ids, ephemeral keys), the
    //! signature deterministic.
    extern crate std;

    use super::*;
    use alloc::vec;
    use sha2::{Digest, Sha256};
    use wallet_types::{Ed25519, Secp256k1};

    fn s<C: Curve>(v: u64) -> SecretScalar<C> {
        SecretScalar::new(C::scalar_from_u64(v))
    }

    /// Wallet key `y = 0x1111`, `a₁ = 0x2222` (the new polynomial), previous set `a1`×16, new
    /// set `b2`×16, epoch 4, recipients 1 and 2 with factor keys `0x3333`, `0x4444` and
    /// ephemeral keys `0x5555`, `0x6666`.
    pub(crate) fn fixed_bundle<C: WalletCurve>() -> (ShareBundle<C>, [FactorKey<C>; 2]) {
        let (y, a1) = (s::<C>(0x1111), s::<C>(0x2222));
        let commitments = Commitments::new(vec![y.public(), a1.public()]).unwrap();
        let (previous_set_id, set_id) = (ShareSetId([0xa1; 16]), ShareSetId([0xb2; 16]));
        let epoch = 4;
        let factors = [
            FactorKey::from_secret(s::<C>(0x3333)),
            FactorKey::from_secret(s::<C>(0x4444)),
        ];
        let session = bundle_session::<C>(&y.public(), &previous_set_id, &set_id);
        let mut sealed = BTreeMap::new();
        for (j, (f, e)) in [1u16, 2]
            .into_iter()
            .zip(factors.iter().zip([0x5555, 0x6666]))
        {
            let p = PartyId::new(j).unwrap();
            let share = SecretScalar::<C>::new(
                *y.expose() + *a1.expose() * C::scalar_from_u64(u64::from(j)),
            );
            let mut w = Writer::secret();
            w.secret_scalar(&share);
            let ctx = Context {
                session,
                epoch,
                recipient: p,
            };
            let ct = ecies::seal_with_ephemeral::<C>(
                f.public(),
                &ctx,
                w.into_secret().expose(),
                &s::<C>(e),
            )
            .unwrap();
            sealed.insert(p, ct);
        }
        let mut bundle = ShareBundle {
            previous_set_id,
            set_id,
            epoch,
            commitments,
            sealed,
            signature: [0u8; SIGNATURE_LEN],
        };
        bundle.signature = C::sign_digest(&y, &bundle.digest()).unwrap();
        (bundle, factors)
    }

    fn kat<C: WalletCurve>(expect_sha256: &str, expect_signature: &str) {
        let (bundle, factors) = fixed_bundle::<C>();
        let bytes = bundle.to_bytes();
        if std::env::var_os("WALLET_PSS_DUMP_KAT").is_some() {
            std::eprintln!("bundle {:?}: {}", C::ID, hex::encode(&bytes));
        }
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            expect_sha256,
            "encoding"
        );
        assert_eq!(hex::encode(bundle.signature), expect_signature, "signature");
        assert_eq!(bytes[..4], [0x01, 0x05, 0x31, C::ID.to_byte()]);
        let back = ShareBundle::<C>::from_bytes(&bytes).unwrap();
        assert_eq!(back, bundle);
        let y = s::<C>(0x1111).public();
        for (j, f) in [1u16, 2].into_iter().zip(&factors) {
            let share = open_share(
                &back,
                &y,
                &ShareSetId([0xa1; 16]),
                PartyId::new(j).unwrap(),
                f,
            )
            .unwrap();
            assert_eq!(share.set_id(), ShareSetId([0xb2; 16]));
        }
        // The retired unsigned bundle's kind is refused as such.
        let mut old = bytes.clone();
        old[2] = 0x30;
        assert_eq!(
            ShareBundle::<C>::from_bytes(&old).unwrap_err(),
            DecodeError::WrongKind {
                expected: 0x0531,
                found: 0x0530
            }
        );
    }

    #[test]
    fn secp256k1_bundle() {
        kat::<Secp256k1>(
            "82d901db0db35dd627d749cd6c4cb412f2ff495c4228a166c51aefd544818478",
            "7edd63228db799901ca8819354cb46f1a197e7db8c7eac43092db70b220d41f9\
             28624c19749aea0ef91322d0f906d493f3b5a357421c0f5e3e6f130d64aa853a",
        );
    }

    #[test]
    fn ed25519_bundle() {
        kat::<Ed25519>(
            "afa7623c7df5cf7a64ef3a3b0544a20bb6bc1ea7d4af92c5918677e35bdf8e54",
            "bb350b4917ac961827b2c1f2cd826ec72b760fef438643ac3a9c0567b5b4d7e6\
             1aaae1ac45dba75c7753fcdd78359153e317e8021aa904d06cf0f23e4ef2970e",
        );
    }
}
