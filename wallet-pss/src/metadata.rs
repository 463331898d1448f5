//! The metadata key (seed 003): a second key, shared alongside the wallet key with threshold
//! one (every device holds it, sealed to its factor key), used **only** to encrypt and sign the
//! account's metadata — public key, share commitments, threshold, device list, epoch, share-set
//! id, ECDSA key id and chain code — so a device can fetch the current sharing state from an
//! untrusted store and trust it.
//!
//! # Root of trust
//!
//! The metadata key is a *delegate* of the wallet key, in the way The Update Framework's root
//! role certifies the online keys that sign snapshots (TUF specification 1.0, §4 and §5.3;
//! Samuel, Mathewson, Cappos, Dingledine, "Survivable key compromise in software update
//! systems", CCS 2010):
//!
//! * **certified by the wallet key.** A [`MetadataCertificate`] is the curve's standard
//!   signature under the wallet public key `Y` ([`crate::wallet_sig`]) on
//!   `(Y, metadata public key, generation)`. Only the holders of the wallet key can make it (an
//!   SSS device that rebuilt the key: [`crate::share_set::certify_metadata_key`]; ECDSA or
//!   FROST(Ed25519) signers: sign [`MetadataKey::certificate_digest`] and wrap the signature
//!   with [`MetadataCertificate::from_signature`]). A device trusts `Y` already — it is the
//!   account's address — so it can check the metadata key without trusting the store, and
//!   forged factor keys in a record signed by any other key are refused. Deriving the metadata
//!   key from the wallet key instead was rejected: a public derivation (`Y + tweak·G`) would make
//!   the metadata secret reveal the wallet secret, and a secret one needs the wallet secret on
//!   every device.
//! * **rotated when a device leaves.** [`MetadataKey::rotate`] draws a fresh key of the next
//!   *generation*; the wallet-key holders certify it and it is sealed only to the remaining
//!   devices. A device that accepted a record of generation `g` refuses everything signed by a
//!   key of an older generation ([`PssError::RevokedKey`]): a removed device's copy signs
//!   nothing the others accept, and cannot decrypt newer records.
//! * **monotonic versions.** Every record has a version, strictly increasing. The device keeps
//!   a [`MetadataTrust`] — the wallet key and the generation and version it last accepted — and
//!   [`open_metadata`] accepts a record only if `(generation, version)` is lexicographically
//!   greater ([`PssError::Replayed`] for a same-generation replay or rollback, same version
//!   included), then advances it. Persist the updated trust before acting on the record.
//!   A device with no state (a new install) starts from [`MetadataTrust::new`]; it should take
//!   the current generation and version from the device that adds it
//!   ([`MetadataTrust::resume`]), or it can be shown a stale (but wallet-certified) state.
//!
//! Primitives (byte layouts: `SPEC.md` §8):
//! * encryption: AES-256-GCM under `HKDF-SHA256(ikm = metadata secret, info =
//!   "wallet-pss/metadata/enc/v2" || curve)`, random 96-bit nonce, AAD = header || certificate
//!   digest || version;
//! * signature: Schnorr over the curve, `R = k·G`, `c = T("wallet-pss/metadata-sig", cert digest,
//!   version, nonce, ciphertext, R)`, `s = k + c·x`, verified as `s·G = R + c·X` before
//!   anything is decrypted.
//!
//! Losing the metadata key loses no funds (the wallet key is separate and can certify a new
//! one).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use wallet_sss::{Commitments, ShareSetId};
use wallet_types::group::Group;
use wallet_types::wire::header_of;
use wallet_types::{
    Curve, CurveId, DecodeError, HEADER_LEN, MAX_PARTIES, ObjectKind, PartyId, Reader, Secp256k1,
    SecretBytes, SecretScalar, SessionId, Transcript, WireObject, Writer, random_nonzero_scalar,
};

use crate::ecies::{self, Ciphertext, Context};
use crate::error::PssError;
use crate::factor::FactorKey;
use crate::key::{read_commitments, write_commitments};
use crate::wallet_sig::{SIGNATURE_LEN, WalletCurve};

/// Object kind of a metadata-key certificate.
pub const KIND_METADATA_CERTIFICATE: ObjectKind = ObjectKind(0x0542);
/// Object kind of account metadata (plaintext, version 3: with the dealings hash of the
/// reshare that made the epoch; `0x0540` and `0x0543` are retired).
pub const KIND_METADATA: ObjectKind = ObjectKind(0x0546);
/// Object kind of sealed (encrypted, signed, certified) metadata (version 2; `0x0541` is
/// retired).
pub const KIND_SEALED_METADATA: ObjectKind = ObjectKind(0x0544);
/// Object kind of a metadata key (secret: what is sealed to each device).
pub const KIND_METADATA_KEY: ObjectKind = ObjectKind(0x0545);

/// Largest encoded [`AccountMetadata`].
const MAX_METADATA_LEN: usize = 1 << 18;

/// The metadata key of one generation. Its secret is never zero.
pub struct MetadataKey<C: Curve> {
    secret: SecretScalar<C>,
    generation: u64,
}

impl<C: Curve> core::fmt::Debug for MetadataKey<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MetadataKey")
            .field("generation", &self.generation)
            .field("secret", &self.secret)
            .finish()
    }
}

impl<C: Curve> MetadataKey<C> {
    /// A fresh metadata key of generation 0 (certify it before use).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self {
            secret: SecretScalar::new(random_nonzero_scalar::<C, R>(rng)),
            generation: 0,
        }
    }

    /// A fresh key of the next generation, replacing this one (when a device is removed, or
    /// whenever a copy may have leaked). Certify it, seal it to the remaining devices only, and
    /// sign the next record with it.
    pub fn rotate<R: CryptoRng + ?Sized>(&self, rng: &mut R) -> Result<Self, PssError> {
        Ok(Self {
            secret: SecretScalar::new(random_nonzero_scalar::<C, R>(rng)),
            generation: self
                .generation
                .checked_add(1)
                .ok_or(PssError::InvalidInput)?,
        })
    }

    /// The public (verification) key.
    pub fn public(&self) -> C::Point {
        self.secret.public()
    }

    /// The generation (0 for the first key, +1 per rotation).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What the holders of the wallet key `wallet_key` sign to certify this key (see
    /// [`MetadataCertificate`]).
    pub fn certificate_digest(&self, wallet_key: &C::Point) -> [u8; 32] {
        certificate_digest::<C>(wallet_key, &self.public(), self.generation)
    }

    /// Seals the key to every device's factor key (threshold one: any device recovers it). The
    /// ECIES context is `(session, generation, device)`.
    pub fn share_with<R: CryptoRng + ?Sized>(
        &self,
        session: &SessionId,
        devices: &BTreeMap<PartyId, C::Point>,
        rng: &mut R,
    ) -> Result<BTreeMap<PartyId, Ciphertext<C>>, PssError> {
        let pt = self.to_secret_bytes();
        let mut out = BTreeMap::new();
        for (p, q) in devices {
            let ctx = Context {
                session: *session,
                epoch: self.generation,
                recipient: *p,
            };
            out.insert(*p, ecies::seal::<C, R>(q, &ctx, pt.expose(), rng)?);
        }
        Ok(out)
    }

    /// Opens device `me`'s copy of the metadata key, sealed under `session`, and accepts it only
    /// as the key `cert` certifies, with `cert` checked against the device's `trust`:
    /// [`PssError::WrongWallet`] / [`PssError::BadSignature`] for a certificate not made by the
    /// wallet key, [`PssError::RevokedKey`] for an older generation than trusted,
    /// [`PssError::Decrypt`] / [`PssError::ContextMismatch`] as [`ecies::open`], and
    /// [`PssError::InvalidKey`] for a zero, malformed or uncertified key (ECIES is not
    /// authenticated: anyone can seal a key of their choosing to a factor key).
    pub fn open(
        ct: &Ciphertext<C>,
        session: &SessionId,
        me: PartyId,
        factor: &FactorKey<C>,
        cert: &MetadataCertificate<C>,
        trust: &MetadataTrust<C>,
    ) -> Result<Self, PssError>
    where
        C: WalletCurve,
    {
        cert.verify(&trust.wallet_key)?;
        if cert.generation < trust.generation {
            return Err(PssError::RevokedKey {
                current: trust.generation,
                found: cert.generation,
            });
        }
        let ctx = Context {
            session: *session,
            epoch: cert.generation,
            recipient: me,
        };
        let pt = ecies::open(factor.secret(), &ctx, ct)?;
        let key = Self::from_bytes(pt.expose()).map_err(|_| PssError::InvalidKey)?;
        if key.generation != cert.generation || key.public() != cert.metadata_key {
            return Err(PssError::InvalidKey);
        }
        Ok(key)
    }

    fn encryption_key(&self) -> Result<SecretBytes<32>, PssError> {
        let mut w = Writer::secret();
        w.secret_scalar(&self.secret);
        let ikm = w.into_secret();
        let mut key = SecretBytes::<32>::new([0u8; 32]);
        let mut info = Vec::with_capacity(27);
        info.extend_from_slice(b"wallet-pss/metadata/enc/v2");
        info.push(C::ID.to_byte());
        Hkdf::<Sha256>::new(None, ikm.expose())
            .expand(&info, key.expose_mut())
            .map_err(|_| PssError::Internal)?;
        Ok(key)
    }
}

/// `generation u64 || secret scalar` (non-zero). Secret: this is what is sealed to devices.
impl<C: Curve> WireObject for MetadataKey<C> {
    const KIND: ObjectKind = KIND_METADATA_KEY;
    const MAX_LEN: usize = HEADER_LEN + 8 + 32;
    const CURVE: Option<CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.u64(self.generation);
        w.secret_scalar(&self.secret);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let generation = r.u64()?;
        let secret = r.secret_scalar::<C>()?;
        if bool::from(secret.is_zero()) {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self { secret, generation })
    }
}

fn certificate_digest<C: Curve>(
    wallet_key: &C::Point,
    key: &C::Point,
    generation: u64,
) -> [u8; 32] {
    let mut t = Transcript::new(
        "wallet-pss/metadata-cert",
        1,
        Some(C::ID),
        &SessionId::default(),
    );
    t.append_point::<C>("wallet-key", wallet_key);
    t.append_point::<C>("metadata-key", key);
    t.append_u64("generation", generation);
    t.output32("digest")
}

/// The wallet key's signature certifying a metadata public key of one generation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataCertificate<C: Curve> {
    wallet_key: C::Point,
    metadata_key: C::Point,
    generation: u64,
    signature: [u8; SIGNATURE_LEN],
}

impl<C: Curve> MetadataCertificate<C> {
    /// The wallet public key that signed.
    pub fn wallet_key(&self) -> &C::Point {
        &self.wallet_key
    }
    /// The certified metadata public key.
    pub fn metadata_key(&self) -> &C::Point {
        &self.metadata_key
    }
    /// The certified generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }
    /// What the wallet key signed (`SPEC.md` §8.1).
    pub fn digest(&self) -> [u8; 32] {
        certificate_digest::<C>(&self.wallet_key, &self.metadata_key, self.generation)
    }
}

impl<C: WalletCurve> MetadataCertificate<C> {
    /// Certifies `key` with the wallet secret (a device that holds it, e.g. rebuilt from `t`
    /// shares: [`crate::share_set::certify_metadata_key`]).
    pub fn sign(wallet_secret: &SecretScalar<C>, key: &MetadataKey<C>) -> Result<Self, PssError> {
        let wallet_key = wallet_secret.public();
        let signature = C::sign_digest(wallet_secret, &key.certificate_digest(&wallet_key))?;
        Ok(Self {
            wallet_key,
            metadata_key: key.public(),
            generation: key.generation,
            signature,
        })
    }

    /// A certificate from a signature the wallet-key holders made on
    /// [`MetadataKey::certificate_digest`] (threshold signers: ECDSA `r || s` on the digest as
    /// the prehash, FROST(Ed25519) `R || z` on the digest bytes). Verified here.
    pub fn from_signature(
        wallet_key: C::Point,
        metadata_key: C::Point,
        generation: u64,
        signature: [u8; SIGNATURE_LEN],
    ) -> Result<Self, PssError> {
        if bool::from(metadata_key.is_identity()) {
            return Err(PssError::InvalidKey);
        }
        let cert = Self {
            wallet_key,
            metadata_key,
            generation,
            signature,
        };
        cert.verify(&wallet_key)?;
        Ok(cert)
    }

    /// Checks that the certificate is for `expected_wallet_key` ([`PssError::WrongWallet`]) and
    /// signed by it ([`PssError::BadSignature`]).
    pub fn verify(&self, expected_wallet_key: &C::Point) -> Result<(), PssError> {
        if self.wallet_key != *expected_wallet_key {
            return Err(PssError::WrongWallet);
        }
        if !C::verify_digest(&self.wallet_key, &self.digest(), &self.signature) {
            return Err(PssError::BadSignature);
        }
        Ok(())
    }
}

/// `wallet_key point || metadata_key point || generation u64 || signature[64]`.
impl<C: Curve> WireObject for MetadataCertificate<C> {
    const KIND: ObjectKind = KIND_METADATA_CERTIFICATE;
    const MAX_LEN: usize = HEADER_LEN + 2 * 33 + 8 + SIGNATURE_LEN;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.point::<C>(&self.wallet_key);
        w.point::<C>(&self.metadata_key);
        w.u64(self.generation);
        w.bytes(&self.signature);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            wallet_key: r.point::<C>()?,
            metadata_key: r.point::<C>()?,
            generation: r.u64()?,
            signature: r.array()?,
        })
    }
}

/// What a device trusts about its account's metadata: the wallet public key, and the
/// generation and version of the last record it accepted. Keep it durably (it is public) and
/// pass it to every [`open_metadata`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetadataTrust<C: Curve> {
    wallet_key: C::Point,
    generation: u64,
    version: u64,
}

impl<C: Curve> MetadataTrust<C> {
    /// A device that knows only the wallet key (accepts any certified record of version ≥ 1).
    pub fn new(wallet_key: C::Point) -> Self {
        Self::resume(wallet_key, 0, 0)
    }
    /// A device that already accepted the record `(generation, version)` (restored from its
    /// storage, or handed over by the device that adds it).
    pub fn resume(wallet_key: C::Point, generation: u64, version: u64) -> Self {
        Self {
            wallet_key,
            generation,
            version,
        }
    }
    /// The wallet public key.
    pub fn wallet_key(&self) -> &C::Point {
        &self.wallet_key
    }
    /// The metadata-key generation last accepted.
    pub fn generation(&self) -> u64 {
        self.generation
    }
    /// The record version last accepted.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Refuses `(generation, version)` unless lexicographically newer than what is trusted.
    fn check_fresh(&self, generation: u64, version: u64) -> Result<(), PssError> {
        if generation < self.generation {
            return Err(PssError::RevokedKey {
                current: self.generation,
                found: generation,
            });
        }
        if generation == self.generation && version <= self.version {
            return Err(PssError::Replayed {
                last: self.version,
                found: version,
            });
        }
        Ok(())
    }
}

/// What a threshold ECDSA key (wallet-tss DKLs23, `t`-of-n) needs beyond the commitments for a device the
/// reshare adds to run [`crate::ecdsa::resetup_after_reshare`] (with `old = None`): the key id
/// of the current epoch and the BIP-32 chain code. Both are public within the account (the chain
/// code is as sensitive as an xpub).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EcdsaMetadata {
    /// The current epoch's key id ([`wallet_tss::ecdsa::KeyShare::key_id`]); the reshare's
    /// `previous_key_id`.
    pub key_id: [u8; 32],
    /// The chain code.
    pub chain_code: [u8; 32],
}

impl EcdsaMetadata {
    /// The key id and chain code of an ECDSA key's public package.
    pub fn from_package(package: &wallet_tss::ecdsa::PublicKeyPackage) -> Self {
        Self {
            key_id: *package.key_id(),
            chain_code: *package.chain_code(),
        }
    }
}

/// The account's sharing state as devices need it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountMetadata<C: Curve> {
    /// Version of this record: starts at 1 and increases by at least one with every record
    /// published (across rotations too).
    pub version: u64,
    /// Epoch of the current sharing.
    pub epoch: u64,
    /// Commitments of the current sharing (threshold = their number; public key = the first,
    /// never the identity).
    pub commitments: Commitments<C>,
    /// The current Shamir share set (SSS accounts): what the holders expect as the previous
    /// set of the next bundle ([`crate::share_set::open_share`]), and what a device that
    /// bundle adds expects it to create ([`crate::share_set::open_share_for_new_device`]).
    pub share_set: Option<ShareSetId>,
    /// Key id and chain code of a threshold ECDSA key (secp256k1, any threshold `t ≥ 2`).
    pub ecdsa: Option<EcdsaMetadata>,
    /// The dealings hash of the offline reshare that made this epoch: one hash of every sealed
    /// dealing's commitments `Fᵢ` ([`SealedOutcome::dealings_hash`](crate::SealedOutcome),
    /// [`verify_sealed_dealings`](crate::verify_sealed_dealings)). `None` for an epoch made
    /// otherwise (key generation, an interactive refresh or reshare). Before a device deletes
    /// its old share after an offline reshare it checks this against the hash it computed
    /// ([`AccountMetadata::check_dealings_hash`]).
    pub dealings_hash: Option<[u8; 32]>,
    /// The devices (and backups) holding shares, with their factor public keys; at least as
    /// many as the threshold.
    pub devices: BTreeMap<PartyId, C::Point>,
}

impl AccountMetadata<Secp256k1> {
    /// The record of a threshold ECDSA key at `package`'s epoch (any threshold: the
    /// commitments carry it).
    pub fn for_ecdsa(
        version: u64,
        package: &wallet_tss::ecdsa::PublicKeyPackage,
        devices: BTreeMap<PartyId, <Secp256k1 as Curve>::Point>,
    ) -> Result<Self, PssError> {
        Ok(Self {
            version,
            epoch: package.epoch(),
            commitments: package.commitments().map_err(|_| PssError::InvalidInput)?,
            share_set: None,
            ecdsa: Some(EcdsaMetadata::from_package(package)),
            dealings_hash: None,
            devices,
        })
    }
}

impl<C: Curve> AccountMetadata<C> {
    /// The same record carrying `dealings_hash`, the dealings hash of the offline reshare that
    /// made its epoch (what the record of a sealed reshare's new epoch must carry).
    pub fn with_dealings_hash(mut self, dealings_hash: [u8; 32]) -> Self {
        self.dealings_hash = Some(dealings_hash);
        self
    }

    /// The check a device makes **before it deletes its old share** after an offline
    /// (sealed-dealing) reshare to epoch `new_epoch`: this record — opened with
    /// [`open_metadata`], so signed by the certified metadata key and fresh — is the record of
    /// that epoch and carries the dealings hash `computed` that this device's reshare computed
    /// (a new party: [`SealedOutcome::dealings_hash`](crate::SealedOutcome); a dealer:
    /// [`verify_sealed_dealings`](crate::verify_sealed_dealings) of the dealings in the store,
    /// its own included). Then every new party that acknowledged the record combined the same
    /// dealings: the new shares lie on one sharing of the key.
    ///
    /// Errors: [`PssError::Mismatch`] for a record of another epoch;
    /// [`PssError::DealingsMismatch`] for a record that carries no or another dealings hash —
    /// the new parties may hold shares of different sharings (a store that handed out mixed
    /// dealings, or a record made from other dealings): keep the old share. Names nobody.
    pub fn check_dealings_hash(&self, new_epoch: u64, computed: &[u8; 32]) -> Result<(), PssError> {
        if self.epoch != new_epoch {
            return Err(PssError::Mismatch);
        }
        match &self.dealings_hash {
            Some(h) if h == computed => Ok(()),
            recorded => Err(PssError::DealingsMismatch {
                recorded: recorded.is_some(),
            }),
        }
    }
}

/// `version u64 || epoch u64 || commitments || u8 has_share_set [|| set_id[16]] || u8 has_ecdsa
/// [|| key_id[32] || chain_code[32]] || u8 has_dealings_hash [|| dealings_hash[32]] || u16 n ||
/// n × (party || point)` (`SPEC.md` §8.2).
impl<C: Curve> WireObject for AccountMetadata<C> {
    const KIND: ObjectKind = KIND_METADATA;
    const MAX_LEN: usize = MAX_METADATA_LEN;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.u64(self.version);
        w.u64(self.epoch);
        write_commitments::<C>(w, &self.commitments);
        match &self.share_set {
            Some(id) => {
                w.u8(1);
                w.bytes(id.as_bytes());
            }
            None => w.u8(0),
        }
        match &self.ecdsa {
            Some(e) => {
                w.u8(1);
                w.bytes(&e.key_id);
                w.bytes(&e.chain_code);
            }
            None => w.u8(0),
        }
        match &self.dealings_hash {
            Some(h) => {
                w.u8(1);
                w.bytes(h);
            }
            None => w.u8(0),
        }
        w.u16(self.devices.len() as u16);
        for (p, q) in &self.devices {
            w.party(*p);
            w.point::<C>(q);
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u64()?;
        let epoch = r.u64()?;
        let commitments = read_commitments::<C>(r)?;
        if bool::from(commitments.public_key().is_identity()) {
            return Err(DecodeError::IdentityPoint);
        }
        let share_set = match r.u8()? {
            0 => None,
            1 => Some(ShareSetId(r.array()?)),
            t => return Err(DecodeError::InvalidTag(t)),
        };
        let ecdsa = match r.u8()? {
            0 => None,
            1 => {
                if C::ID != CurveId::Secp256k1 || commitments.threshold() < 2 {
                    return Err(DecodeError::InvalidValue);
                }
                Some(EcdsaMetadata {
                    key_id: r.array()?,
                    chain_code: r.array()?,
                })
            }
            t => return Err(DecodeError::InvalidTag(t)),
        };
        let dealings_hash = match r.u8()? {
            0 => None,
            1 => Some(r.array()?),
            t => return Err(DecodeError::InvalidTag(t)),
        };
        let n = r.count16(MAX_PARTIES, 2 + C::POINT_LEN)?;
        if n < commitments.threshold() {
            return Err(DecodeError::InvalidValue);
        }
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
            version,
            epoch,
            commitments,
            share_set,
            ecdsa,
            dealings_hash,
            devices,
        })
    }
}

/// Encrypted, signed and certified metadata, as stored by the (untrusted) server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedMetadata<C: Curve> {
    certificate: MetadataCertificate<C>,
    version: u64,
    nonce: [u8; 12],
    ciphertext: Vec<u8>,
    r: C::Point,
    s: C::Scalar,
}

impl<C: Curve> SealedMetadata<C> {
    /// The certificate of the key that signed.
    pub fn certificate(&self) -> &MetadataCertificate<C> {
        &self.certificate
    }
    /// The record's version (signed, in the clear).
    pub fn version(&self) -> u64 {
        self.version
    }
}

/// `u32 len || certificate object || version u64 || nonce[12] || var_bytes(ciphertext || tag)
/// || R point || s scalar`.
impl<C: Curve> WireObject for SealedMetadata<C> {
    const KIND: ObjectKind = KIND_SEALED_METADATA;
    const MAX_LEN: usize = MAX_METADATA_LEN + 512;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.object(&self.certificate);
        w.u64(self.version);
        w.bytes(&self.nonce);
        w.var_bytes(&self.ciphertext);
        w.point::<C>(&self.r);
        w.scalar::<C>(&self.s);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let certificate =
            MetadataCertificate::<C>::from_bytes(r.var_bytes(MetadataCertificate::<C>::MAX_LEN)?)?;
        let version = r.u64()?;
        let nonce = r.array()?;
        let ciphertext = r.var_bytes(MAX_METADATA_LEN + crate::aead::TAG_LEN)?;
        if ciphertext.len() < crate::aead::TAG_LEN {
            return Err(DecodeError::Truncated);
        }
        Ok(Self {
            certificate,
            version,
            nonce,
            ciphertext: ciphertext.to_vec(),
            r: r.point::<C>()?,
            s: r.scalar::<C>()?,
        })
    }
}

fn aad<C: Curve>(cert_digest: &[u8; 32], version: u64) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(&header_of::<SealedMetadata<C>>().to_bytes());
    w.bytes(cert_digest);
    w.u64(version);
    w.finish()
}

fn challenge<C: Curve>(
    cert_digest: &[u8; 32],
    version: u64,
    nonce: &[u8; 12],
    ct: &[u8],
    r: &C::Point,
) -> C::Scalar {
    let mut t = Transcript::new(
        "wallet-pss/metadata-sig",
        2,
        Some(C::ID),
        &SessionId::default(),
    );
    t.append("certificate", cert_digest);
    t.append_u64("version", version);
    t.append("nonce", nonce);
    t.append("ciphertext", ct);
    t.append_point::<C>("R", r);
    t.challenge::<C>("c")
}

/// Encrypts and signs `meta` with the metadata key certified by `cert`. Refuses a certificate
/// of another key or generation ([`PssError::InvalidKey`]) or one that does not verify, a
/// record of another wallet ([`PssError::WrongWallet`]) and version 0
/// ([`PssError::InvalidInput`]).
pub fn seal_metadata<C: WalletCurve, R: CryptoRng + ?Sized>(
    key: &MetadataKey<C>,
    cert: &MetadataCertificate<C>,
    meta: &AccountMetadata<C>,
    rng: &mut R,
) -> Result<SealedMetadata<C>, PssError> {
    if cert.metadata_key != key.public() || cert.generation != key.generation {
        return Err(PssError::InvalidKey);
    }
    cert.verify(&cert.wallet_key)?;
    if meta.commitments.public_key() != cert.wallet_key {
        return Err(PssError::WrongWallet);
    }
    if meta.version == 0 {
        return Err(PssError::InvalidInput);
    }
    let mut nonce = [0u8; 12];
    rng.fill_bytes(&mut nonce);
    let k = SecretScalar::<C>::new(random_nonzero_scalar::<C, R>(rng));
    seal_with(key, cert, meta, nonce, &k)
}

/// The sealing of [`seal_metadata`] with the AES-GCM nonce and the Schnorr nonce given
/// (known-answer tests; `k` must be fresh, uniform and non-zero, or the key leaks).
fn seal_with<C: Curve>(
    key: &MetadataKey<C>,
    cert: &MetadataCertificate<C>,
    meta: &AccountMetadata<C>,
    nonce: [u8; 12],
    k: &SecretScalar<C>,
) -> Result<SealedMetadata<C>, PssError> {
    let digest = cert.digest();
    let ciphertext = crate::aead::seal(
        &key.encryption_key()?,
        &nonce,
        &aad::<C>(&digest, meta.version),
        &meta.to_bytes(),
    )?;
    let r = k.public();
    let c = challenge::<C>(&digest, meta.version, &nonce, &ciphertext, &r);
    let s = *k.expose() + c * key.secret.expose();
    Ok(SealedMetadata {
        certificate: cert.clone(),
        version: meta.version,
        nonce,
        ciphertext,
        r,
        s,
    })
}

/// Checks sealed metadata without decrypting it, as [`open_metadata`] does first: the
/// certificate against `trust`'s wallet key ([`PssError::WrongWallet`],
/// [`PssError::BadSignature`]), the record's signature under the certified key
/// ([`PssError::BadSignature`]), then freshness ([`PssError::RevokedKey`] for an older
/// generation, [`PssError::Replayed`] for a version not above the trusted one). Every refusal
/// is one the store can cause and names nobody.
pub fn verify_metadata<C: WalletCurve>(
    trust: &MetadataTrust<C>,
    sealed: &SealedMetadata<C>,
) -> Result<(), PssError> {
    let cert = &sealed.certificate;
    cert.verify(&trust.wallet_key)?;
    let c = challenge::<C>(
        &cert.digest(),
        sealed.version,
        &sealed.nonce,
        &sealed.ciphertext,
        &sealed.r,
    );
    // s·G − c·X must equal R.
    if C::mul_base_add_vartime(&sealed.s, &(-c), &cert.metadata_key) != sealed.r {
        return Err(PssError::BadSignature);
    }
    trust.check_fresh(cert.generation, sealed.version)
}

/// Verifies ([`verify_metadata`]) and decrypts metadata with the device's metadata key, then
/// advances `trust` to the record's generation and version (only on success).
///
/// Errors besides those of [`verify_metadata`]: [`PssError::Mismatch`] if `key` is not the
/// certified key of the record's generation (open the newer copy first);
/// [`PssError::InvalidRecord`] if the signed record does not decrypt, decode, or match its
/// signed version and the trusted wallet key (a metadata-key holder made it wrong).
pub fn open_metadata<C: WalletCurve>(
    key: &MetadataKey<C>,
    sealed: &SealedMetadata<C>,
    trust: &mut MetadataTrust<C>,
) -> Result<AccountMetadata<C>, PssError> {
    verify_metadata(trust, sealed)?;
    let cert = &sealed.certificate;
    if key.generation != cert.generation || key.public() != cert.metadata_key {
        return Err(PssError::Mismatch);
    }
    let pt = crate::aead::open(
        &key.encryption_key()?,
        &sealed.nonce,
        &aad::<C>(&cert.digest(), sealed.version),
        &sealed.ciphertext,
    )
    .map_err(|_| PssError::InvalidRecord)?;
    let meta =
        AccountMetadata::<C>::from_bytes(pt.expose()).map_err(|_| PssError::InvalidRecord)?;
    if meta.version != sealed.version || meta.commitments.public_key() != trust.wallet_key {
        return Err(PssError::InvalidRecord);
    }
    trust.generation = cert.generation;
    trust.version = sealed.version;
    Ok(meta)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;

    use super::*;
    use alloc::vec;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use sha2::Digest;
    use wallet_types::Ed25519;

    fn s<C: Curve>(v: u64) -> SecretScalar<C> {
        SecretScalar::new(C::scalar_from_u64(v))
    }
    fn pid(i: u16) -> PartyId {
        PartyId::new(i).unwrap()
    }

    /// `SPEC.md` §8.5: wallet key `0x1111` (`a₁ = 0x2222`), metadata key `0x7777` of
    /// generation 3, record version 9, epoch 4, share set `b2`×16, ECDSA key id `c3`×32 and
    /// chain code `d4`×32 (secp256k1 only), dealings hash `e5`×32, devices 1 and 2 with factor
    /// keys `0x3333`, `0x4444`; AES-GCM nonce `0c`×12, Schnorr nonce `0x8888`.
    fn fixed<C: WalletCurve>() -> (MetadataKey<C>, MetadataCertificate<C>, AccountMetadata<C>) {
        let y = s::<C>(0x1111);
        let key = MetadataKey {
            secret: s::<C>(0x7777),
            generation: 3,
        };
        let cert = MetadataCertificate::sign(&y, &key).unwrap();
        let meta = AccountMetadata {
            version: 9,
            epoch: 4,
            commitments: Commitments::new(vec![y.public(), s::<C>(0x2222).public()]).unwrap(),
            share_set: Some(ShareSetId([0xb2; 16])),
            ecdsa: (C::ID == CurveId::Secp256k1).then_some(EcdsaMetadata {
                key_id: [0xc3; 32],
                chain_code: [0xd4; 32],
            }),
            dealings_hash: Some([0xe5; 32]),
            devices: [
                (pid(1), s::<C>(0x3333).public()),
                (pid(2), s::<C>(0x4444).public()),
            ]
            .into(),
        };
        (key, cert, meta)
    }

    fn kat<C: WalletCurve>(cert_hex: &str, record_hex: &str, key_hex: &str, sealed_sha256: &str) {
        let (key, cert, meta) = fixed::<C>();
        let sealed = seal_with(&key, &cert, &meta, [0x0c; 12], &s::<C>(0x8888)).unwrap();
        let sealed_bytes = sealed.to_bytes();
        if std::env::var_os("WALLET_PSS_DUMP_KAT").is_some() {
            std::eprintln!("certificate {:?}: {}", C::ID, hex::encode(cert.to_bytes()));
            std::eprintln!("record {:?}: {}", C::ID, hex::encode(meta.to_bytes()));
            std::eprintln!(
                "key {:?}: {}",
                C::ID,
                hex::encode(key.to_secret_bytes().expose())
            );
            std::eprintln!("sealed {:?}: {}", C::ID, hex::encode(&sealed_bytes));
        }
        assert_eq!(hex::encode(cert.to_bytes()), cert_hex, "certificate");
        assert_eq!(hex::encode(meta.to_bytes()), record_hex, "record");
        assert_eq!(hex::encode(key.to_secret_bytes().expose()), key_hex, "key");
        assert_eq!(
            hex::encode(sha2::Sha256::digest(&sealed_bytes)),
            sealed_sha256,
            "sealed"
        );
        // Decoded back and opened by a device that trusts only the wallet key.
        let back = SealedMetadata::<C>::from_bytes(&sealed_bytes).unwrap();
        let mut trust = MetadataTrust::new(s::<C>(0x1111).public());
        assert_eq!(open_metadata(&key, &back, &mut trust).unwrap(), meta);
        assert_eq!((trust.generation(), trust.version()), (3, 9));
        assert_eq!(
            MetadataCertificate::<C>::from_bytes(&cert.to_bytes()).unwrap(),
            cert
        );
        assert_eq!(
            AccountMetadata::<C>::from_bytes(&meta.to_bytes()).unwrap(),
            meta
        );
        let k2 = MetadataKey::<C>::from_bytes(key.to_secret_bytes().expose()).unwrap();
        assert_eq!((k2.public(), k2.generation()), (key.public(), 3));
    }

    #[test]
    fn secp256k1_vectors() {
        kat::<Secp256k1>(
            "01054201027592aab5d43618dda13fba71e3993cd7517a712d3da49664c06ee1\
             bd3d1f70af03a7bc01ecd959bb68172c047180b3eaa4a1a328cb1165005979f1\
             31e9a958da720000000000000003a0894f4ea1e668b884937b09fafc7ab4625a\
             cd7b9142d1964e489a6796c80b971d7a291dd1d8849e9a9d3091734c78c2f72a\
             481ecf7bf7c03c18c29d6992e45a",
            "01054601000000000000000900000000000000040002027592aab5d43618dda1\
             3fba71e3993cd7517a712d3da49664c06ee1bd3d1f70af02e5740e63bad28081\
             ed7cf654dd6c19029ca03382fc05ab5f5dda81f2c55b845b01b2b2b2b2b2b2b2\
             b2b2b2b2b2b2b2b2b201c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3\
             c3c3c3c3c3c3c3c3c3c3d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4d4\
             d4d4d4d4d4d4d4d4d4d401e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5\
             e5e5e5e5e5e5e5e5e5e5e50002000102ec6d499aefd540e90357f1004a136049\
             d1f7df5ad99c44c46e3ed4169e40acb600020271550e6c83a9381f35c568d1a8\
             0e11fa3e0efc97dfd0e0f17492a2edb64c37a9",
            "0105450100000000000000030000000000000000000000000000000000000000\
             000000000000000000007777",
            "2e96e6ce451abc3ff98720b9a625f58855d748abb2686d4097f8d09a9e1751cf",
        );
    }

    #[test]
    fn ed25519_vectors() {
        kat::<Ed25519>(
            "010542029071f27cbd2d69e975282e1085c8a0238febf83d79511b4875657973\
             cda99f616f5ad55bfb416f06e7d0e87e0ccc6e749cc92d9dab827533176d0f0e\
             61d2dc150000000000000003eea8399d6fd31481381749f6fde858847460f440\
             2df3b5d50ef3692cdf3b61d2c49899d1c51c9359294356980b4d00b744ebeb31\
             7999309f5b84ea53c1575c0a",
            "010546020000000000000009000000000000000400029071f27cbd2d69e97528\
             2e1085c8a0238febf83d79511b4875657973cda99f61258efe3fa0270d944303\
             63f83048bf52e1a7f5e5582af23eeb9e2ae75391b24b01b2b2b2b2b2b2b2b2b2\
             b2b2b2b2b2b2b20001e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5e5\
             e5e5e5e5e5e5e5e5e5000200015f920233ce31d3f6cf3f083f4fd4c85eaa4a7f\
             6eb1c5886d127af37695b488aa0002e6f8d5f8d0c2daacbf13ed3128c67e39ce\
             4e27ae371a36817a8c60db8e4275b5",
            "0105450200000000000000037777000000000000000000000000000000000000\
             000000000000000000000000",
            "107fc526666d86dfb48b21fab51acfb33ccb5e5dc5d5482bf0f976693ce35797",
        );
    }

    fn tamper<C: WalletCurve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        let (key, cert, meta) = fixed::<C>();
        let sealed = seal_metadata(&key, &cert, &meta, &mut rng).unwrap();
        let bytes = sealed.to_bytes();
        let y = s::<C>(0x1111).public();
        // Any bit flip is refused, before anything is decrypted.
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x04;
            if let Ok(t) = SealedMetadata::<C>::from_bytes(&b) {
                assert!(
                    verify_metadata(&MetadataTrust::new(y), &t).is_err(),
                    "byte {i}"
                );
            }
        }
        // The retired kinds decode as such.
        for (obj, old) in [
            (bytes.clone(), 0x41u8),
            (meta.to_bytes(), 0x40),
            (meta.to_bytes(), 0x43),
        ] {
            let mut b = obj;
            let kind = u16::from_be_bytes([b[1], b[2]]);
            b[2] = old;
            assert_eq!(
                if kind == 0x0544 {
                    SealedMetadata::<C>::from_bytes(&b).unwrap_err()
                } else {
                    AccountMetadata::<C>::from_bytes(&b).unwrap_err()
                },
                DecodeError::WrongKind {
                    expected: kind,
                    found: 0x0500 | u16::from(old)
                }
            );
        }
        // A zero metadata key does not decode.
        let mut zero = key.to_secret_bytes().expose().to_vec();
        let n = zero.len();
        zero[n - 32..].fill(0);
        assert_eq!(
            MetadataKey::<C>::from_bytes(&zero).unwrap_err(),
            DecodeError::InvalidValue
        );
        // Sealing refuses a certificate of another key or generation and version 0.
        let other = key.rotate(&mut rng).unwrap();
        assert_eq!(
            seal_metadata(&other, &cert, &meta, &mut rng).unwrap_err(),
            PssError::InvalidKey
        );
        let v0 = AccountMetadata {
            version: 0,
            ..meta.clone()
        };
        assert_eq!(
            seal_metadata(&key, &cert, &v0, &mut rng).unwrap_err(),
            PssError::InvalidInput
        );
    }

    #[test]
    fn tampering_and_retired_kinds_both_curves() {
        tamper::<Secp256k1>();
        tamper::<Ed25519>();
    }

    #[test]
    fn a_record_with_another_dealings_hash_is_refused() {
        let (_, _, meta) = fixed::<Secp256k1>();
        assert_eq!(meta.check_dealings_hash(4, &[0xe5; 32]), Ok(()));
        assert_eq!(
            meta.check_dealings_hash(4, &[0xe6; 32]),
            Err(PssError::DealingsMismatch { recorded: true })
        );
        assert_eq!(
            meta.check_dealings_hash(5, &[0xe5; 32]),
            Err(PssError::Mismatch)
        );
        let none = AccountMetadata {
            dealings_hash: None,
            ..meta.clone()
        };
        assert_eq!(
            none.check_dealings_hash(4, &[0xe5; 32]),
            Err(PssError::DealingsMismatch { recorded: false })
        );
        assert_eq!(none.clone().with_dealings_hash([0xe5; 32]), meta);
        // The flag byte is canonical: 0 or 1 only.
        let mut b = none.to_bytes();
        let at = b.len() - (2 + 2 * (2 + 33)) - 1;
        assert_eq!(b[at], 0);
        b[at] = 2;
        assert_eq!(
            AccountMetadata::<Secp256k1>::from_bytes(&b).unwrap_err(),
            DecodeError::InvalidTag(2)
        );
    }

    #[test]
    fn ecdsa_fields_of_a_3_of_3_secp256k1_key_round_trip() {
        // A threshold ECDSA key of any t carries its key id and chain code (the commitments give
        // the threshold): a 3-of-3 record decodes to itself.
        let (_, _, mut meta) = fixed::<Secp256k1>();
        let y = s::<Secp256k1>(0x1111).public();
        meta.commitments = Commitments::new(vec![
            y,
            s::<Secp256k1>(0x2222).public(),
            s::<Secp256k1>(0x5555).public(),
        ])
        .unwrap();
        meta.devices.insert(pid(3), s::<Secp256k1>(0x6666).public());
        let back = AccountMetadata::<Secp256k1>::from_bytes(&meta.to_bytes()).unwrap();
        assert_eq!(back.commitments.threshold(), 3);
        assert_eq!(back, meta);
    }

    #[test]
    fn ecdsa_fields_only_for_a_secp256k1_key() {
        let (_, _, meta) = fixed::<Ed25519>();
        let mut b = meta.to_bytes();
        // Set has_ecdsa on an Ed25519 record: refused.
        let at = 4 + 8 + 8 + 2 + 2 * 32 + 1 + 16;
        assert_eq!(b[at], 0);
        b[at] = 1;
        b.splice(at + 1..at + 1, [0u8; 64]);
        assert_eq!(
            AccountMetadata::<Ed25519>::from_bytes(&b).unwrap_err(),
            DecodeError::InvalidValue
        );
    }
}
