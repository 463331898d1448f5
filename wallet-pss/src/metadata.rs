//! The metadata key (seed 003): a second key, shared alongside the wallet key with threshold
//! one (every device holds it, sealed to its factor key), used **only** to encrypt and sign the
//! account's metadata — public key, share commitments, threshold, device list, epoch — so a
//! device can fetch the current sharing state from an untrusted store and trust it.
//!
//! Kept minimal on purpose:
//! * encryption: AES-256-GCM under `HKDF-SHA256(ikm = metadata secret, info =
//!   "wallet-pss/metadata/enc/v1" || curve)`, random 96-bit nonce, AAD = header || signer key;
//! * signature: Schnorr over the curve, `R = k·G`, `c = T("wallet-pss/metadata-sig", R, X,
//!   nonce, ciphertext)`, `s = k + c·x`, verified as `s·G = R + c·X`;
//! * a newer epoch supersedes an older one: [`open_metadata`] refuses metadata older than the
//!   epoch the caller already trusts (rollback by the store).
//!
//! Losing the metadata key loses no funds (the wallet key is separate); leaking it lets the
//! holder forge metadata, which devices then detect by the Feldman checks of the shares they
//! hold, not by this signature alone.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use wallet_sss::Commitments;
use wallet_types::group::Group;
use wallet_types::{
    Curve, CurveId, DecodeError, MAX_PARTIES, ObjectKind, PartyId, Reader, SecretBytes,
    SecretScalar, SessionId, Transcript, WireObject, Writer, random_nonzero_scalar,
};

use crate::ecies::{self, Ciphertext, Context};
use crate::error::PssError;
use crate::factor::FactorKey;
use crate::key::{read_commitments, write_commitments};

/// Object kind of account metadata (plaintext).
pub const KIND_METADATA: ObjectKind = ObjectKind(0x0540);
/// Object kind of sealed (encrypted and signed) metadata.
pub const KIND_SEALED_METADATA: ObjectKind = ObjectKind(0x0541);

/// The metadata key.
pub struct MetadataKey<C: Curve> {
    secret: SecretScalar<C>,
}

impl<C: Curve> core::fmt::Debug for MetadataKey<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MetadataKey")
            .field("secret", &self.secret)
            .finish()
    }
}

impl<C: Curve> MetadataKey<C> {
    /// A fresh metadata key.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self {
            secret: SecretScalar::random(rng),
        }
    }

    /// The public (verification) key.
    pub fn public(&self) -> C::Point {
        self.secret.public()
    }

    /// Seals the key to every device's factor key (threshold one: any device recovers it).
    pub fn share_with<R: CryptoRng + ?Sized>(
        &self,
        session: &SessionId,
        epoch: u64,
        devices: &BTreeMap<PartyId, C::Point>,
        rng: &mut R,
    ) -> Result<BTreeMap<PartyId, Ciphertext<C>>, PssError> {
        let mut w = Writer::new();
        w.secret_scalar(&self.secret);
        let pt = w.into_secret();
        let mut out = BTreeMap::new();
        for (p, q) in devices {
            let ctx = Context {
                session: *session,
                epoch,
                recipient: *p,
            };
            out.insert(*p, ecies::seal::<C, R>(q, &ctx, pt.expose(), rng)?);
        }
        Ok(out)
    }

    /// Opens a device's copy of the metadata key.
    pub fn open(
        ct: &Ciphertext<C>,
        expected: &Context,
        factor: &FactorKey<C>,
    ) -> Result<Self, PssError> {
        let pt = ecies::open(factor.secret(), expected, ct)?;
        let mut r = Reader::new(pt.expose());
        let secret = r.secret_scalar::<C>().map_err(|_| PssError::Decrypt)?;
        r.finish().map_err(|_| PssError::Decrypt)?;
        Ok(Self { secret })
    }

    fn encryption_key(&self) -> Result<SecretBytes<32>, PssError> {
        let mut w = Writer::new();
        w.secret_scalar(&self.secret);
        let ikm = w.into_secret();
        let mut key = SecretBytes::<32>::new([0u8; 32]);
        let mut info = Vec::with_capacity(27);
        info.extend_from_slice(b"wallet-pss/metadata/enc/v1");
        info.push(C::ID.to_byte());
        Hkdf::<Sha256>::new(None, ikm.expose())
            .expand(&info, key.expose_mut())
            .map_err(|_| PssError::Internal)?;
        Ok(key)
    }
}

/// The account's sharing state as devices need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountMetadata<C: Curve> {
    /// Epoch of the current sharing.
    pub epoch: u64,
    /// Commitments of the current sharing (threshold = their number; public key = the first).
    pub commitments: Commitments<C>,
    /// The devices (and backups) holding shares, with their factor public keys.
    pub devices: BTreeMap<PartyId, C::Point>,
}

/// `epoch u64 || commitments || u16 n || n × (party || point)`.
impl<C: Curve> WireObject for AccountMetadata<C> {
    const KIND: ObjectKind = KIND_METADATA;
    const MAX_LEN: usize = 1 << 18;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.u64(self.epoch);
        write_commitments::<C>(w, &self.commitments);
        w.u16(self.devices.len() as u16);
        for (p, q) in &self.devices {
            w.party(*p);
            w.point::<C>(q);
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let epoch = r.u64()?;
        let commitments = read_commitments::<C>(r)?;
        if bool::from(commitments.public_key().is_identity()) {
            return Err(DecodeError::IdentityPoint);
        }
        let n = r.count16(MAX_PARTIES, 2 + C::POINT_LEN)?;
        let mut devices = BTreeMap::new();
        let mut last = None;
        for _ in 0..n {
            let p = r.party()?;
            if last.is_some_and(|l| l >= p) {
                return Err(DecodeError::NotSorted);
            }
            last = Some(p);
            devices.insert(p, r.point::<C>()?);
        }
        Ok(Self {
            epoch,
            commitments,
            devices,
        })
    }
}

/// Encrypted and signed metadata, as stored by the (untrusted) server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedMetadata<C: Curve> {
    signer: C::Point,
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
    r: C::Point,
    s: C::Scalar,
}

/// `signer point || nonce[12] || var_bytes(ciphertext || tag) || R point || s scalar`.
impl<C: Curve> WireObject for SealedMetadata<C> {
    const KIND: ObjectKind = KIND_SEALED_METADATA;
    const MAX_LEN: usize = (1 << 18) + 256;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.point::<C>(&self.signer);
        w.bytes(&self.nonce);
        w.var_bytes(&self.ciphertext);
        w.point::<C>(&self.r);
        w.scalar::<C>(&self.s);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            signer: r.point::<C>()?,
            nonce: r.array()?,
            ciphertext: r.var_bytes(1 << 18)?.to_vec(),
            r: r.point::<C>()?,
            s: r.scalar::<C>()?,
        })
    }
}

fn aad<C: Curve>(signer: &C::Point) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(&wallet_types::wire::header_of::<SealedMetadata<C>>().to_bytes());
    w.point::<C>(signer);
    w.finish()
}

fn challenge<C: Curve>(r: &C::Point, x: &C::Point, nonce: &[u8; 12], ct: &[u8]) -> C::Scalar {
    let mut t = Transcript::new(
        "wallet-pss/metadata-sig",
        1,
        Some(C::ID),
        &SessionId::default(),
    );
    t.append_point::<C>("R", r);
    t.append_point::<C>("X", x);
    t.append("nonce", nonce);
    t.append("ciphertext", ct);
    t.challenge::<C>("c")
}

/// Encrypts and signs `meta` with the metadata key.
pub fn seal_metadata<C: Curve, R: CryptoRng + ?Sized>(
    key: &MetadataKey<C>,
    meta: &AccountMetadata<C>,
    rng: &mut R,
) -> Result<SealedMetadata<C>, PssError> {
    let signer = key.public();
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let ciphertext = crate::aead::seal(
        &key.encryption_key()?,
        &nonce,
        &aad::<C>(&signer),
        &meta.to_bytes(),
    )?;
    let k = SecretScalar::<C>::new(random_nonzero_scalar::<C, R>(rng));
    let r = k.public();
    let c = challenge::<C>(&r, &signer, &nonce, &ciphertext);
    let s = *k.expose() + c * key.secret.expose();
    Ok(SealedMetadata {
        signer,
        nonce,
        ciphertext,
        r,
        s,
    })
}

/// Checks the signature against the expected metadata public key (what a device trusts),
/// without decrypting.
pub fn verify_metadata<C: Curve>(
    expected_signer: &C::Point,
    sealed: &SealedMetadata<C>,
) -> Result<(), PssError> {
    if sealed.signer != *expected_signer {
        return Err(PssError::Mismatch);
    }
    let c = challenge::<C>(&sealed.r, &sealed.signer, &sealed.nonce, &sealed.ciphertext);
    // s·G − c·X must equal R.
    if C::mul_base_add_vartime(&sealed.s, &(-c), &sealed.signer) != sealed.r {
        return Err(PssError::Decrypt);
    }
    Ok(())
}

/// Verifies and decrypts metadata; refuses metadata of an epoch older than `min_epoch` (a
/// rollback by the store).
pub fn open_metadata<C: Curve>(
    key: &MetadataKey<C>,
    sealed: &SealedMetadata<C>,
    min_epoch: u64,
) -> Result<AccountMetadata<C>, PssError> {
    verify_metadata(&key.public(), sealed)?;
    let pt = crate::aead::open(
        &key.encryption_key()?,
        &sealed.nonce,
        &aad::<C>(&sealed.signer),
        &sealed.ciphertext,
    )?;
    let meta = AccountMetadata::<C>::from_bytes(pt.expose())?;
    if meta.epoch < min_epoch {
        return Err(PssError::ContextMismatch);
    }
    Ok(meta)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_sss::Polynomial;
    use wallet_types::{Ed25519, Secp256k1};

    fn roundtrip<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let key = MetadataKey::<C>::random(&mut rng);
        let f = Polynomial::<C>::random(SecretScalar::random(&mut rng), 2, &mut rng).unwrap();
        let devices: BTreeMap<PartyId, C::Point> = (1..=3)
            .map(|i| {
                (
                    PartyId::new(i).unwrap(),
                    *FactorKey::<C>::random(&mut rng).public(),
                )
            })
            .collect();
        let meta = AccountMetadata {
            epoch: 5,
            commitments: f.commit(),
            devices,
        };
        let sealed = seal_metadata(&key, &meta, &mut rng).unwrap();
        let bytes = sealed.to_bytes();
        let back = SealedMetadata::<C>::from_bytes(&bytes).unwrap();
        assert_eq!(open_metadata(&key, &back, 5).unwrap(), meta);
        // Rollback refused.
        assert_eq!(
            open_metadata(&key, &back, 6).unwrap_err(),
            PssError::ContextMismatch
        );
        // Any bit flip is refused.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x04;
            if let Ok(t) = SealedMetadata::<C>::from_bytes(&b) {
                assert!(open_metadata(&key, &t, 0).is_err(), "byte {i}");
            }
        }
        // Another key's signature is not accepted.
        let other = MetadataKey::<C>::random(&mut rng);
        assert!(verify_metadata(&other.public(), &back).is_err());
        // Every device recovers the key from its sealed copy.
        let f1 = FactorKey::<C>::random(&mut rng);
        let session = SessionId([3; 32]);
        let p1 = PartyId::new(1).unwrap();
        let copies = key
            .share_with(
                &session,
                5,
                &[(p1, *f1.public())].into_iter().collect(),
                &mut rng,
            )
            .unwrap();
        let ctx = Context {
            session,
            epoch: 5,
            recipient: p1,
        };
        let k1 = MetadataKey::open(&copies[&p1], &ctx, &f1).unwrap();
        assert_eq!(k1.public(), key.public());
    }

    #[test]
    fn metadata_both_curves() {
        roundtrip::<Secp256k1>();
        roundtrip::<Ed25519>();
    }
}
