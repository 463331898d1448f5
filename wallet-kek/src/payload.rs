//! What an envelope protects, and client-side signing with it.

use alloc::vec::Vec;

use ed25519_dalek::Signer;
use k256::ecdsa::signature;
use wallet_types::{SecretBytes, SecretVec};
use zeroize::Zeroize;

use crate::error::KekError;

/// Largest opaque payload (a share or key-share blob of the other wallet crates), in bytes.
pub const MAX_OPAQUE_LEN: usize = 65536;

/// The kind of secret in an envelope (public: stored in clear and bound into the AAD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadKind {
    /// A raw secp256k1 secret key: 32 bytes big-endian, `0 < d < n`.
    Secp256k1,
    /// An Ed25519 secret key: the 32-byte RFC 8032 seed.
    Ed25519Seed,
    /// BIP-39 entropy: 16, 20, 24, 28 or 32 bytes (12 to 24 words).
    Bip39Entropy,
    /// Opaque bytes (1..=[`MAX_OPAQUE_LEN`]) with the caller's kind tag, e.g. an encoded
    /// wallet-sss share or wallet-tss key share (tag = that object's wire kind).
    Opaque(u16),
}

impl PayloadKind {
    /// The wire byte of the kind (`SPEC.md` §2.2).
    pub fn code(&self) -> u8 {
        match self {
            Self::Secp256k1 => 1,
            Self::Ed25519Seed => 2,
            Self::Bip39Entropy => 3,
            Self::Opaque(_) => 4,
        }
    }

    /// The wire tag (0 except for opaque payloads).
    pub fn tag(&self) -> u16 {
        match self {
            Self::Opaque(t) => *t,
            _ => 0,
        }
    }

    /// Parses `code || tag`.
    pub fn from_wire(code: u8, tag: u16) -> Option<Self> {
        match (code, tag) {
            (1, 0) => Some(Self::Secp256k1),
            (2, 0) => Some(Self::Ed25519Seed),
            (3, 0) => Some(Self::Bip39Entropy),
            (4, t) => Some(Self::Opaque(t)),
            _ => None,
        }
    }

    /// Whether `len` is a valid plaintext length for this kind.
    pub fn valid_len(&self, len: usize) -> bool {
        match self {
            Self::Secp256k1 | Self::Ed25519Seed => len == 32,
            Self::Bip39Entropy => (16..=32).contains(&len) && len.is_multiple_of(4),
            Self::Opaque(_) => (1..=MAX_OPAQUE_LEN).contains(&len),
        }
    }
}

/// The secret an envelope protects. Every variant is a zeroizing secret type; not `Clone`.
#[derive(Debug)]
pub enum Payload {
    /// A secp256k1 secret key (canonical, non-zero).
    Secp256k1(SecretBytes<32>),
    /// An Ed25519 RFC 8032 seed.
    Ed25519Seed(SecretBytes<32>),
    /// BIP-39 entropy.
    Bip39Entropy(SecretVec),
    /// Tagged opaque bytes.
    Opaque {
        /// The caller's kind tag.
        tag: u16,
        /// The bytes.
        bytes: SecretVec,
    },
}

impl Payload {
    /// A secp256k1 key, checked to be a canonical non-zero scalar.
    pub fn secp256k1(key: SecretBytes<32>) -> Result<Self, KekError> {
        let mut d = secp256k1_scalar(&key)?;
        d.zeroize();
        Ok(Self::Secp256k1(key))
    }

    /// An Ed25519 seed (any 32 bytes).
    pub fn ed25519_seed(seed: SecretBytes<32>) -> Self {
        Self::Ed25519Seed(seed)
    }

    /// BIP-39 entropy of 16, 20, 24, 28 or 32 bytes.
    pub fn bip39_entropy(entropy: SecretVec) -> Result<Self, KekError> {
        if !PayloadKind::Bip39Entropy.valid_len(entropy.len()) {
            return Err(KekError::InvalidInput);
        }
        Ok(Self::Bip39Entropy(entropy))
    }

    /// Opaque bytes (1..=[`MAX_OPAQUE_LEN`]) with a kind tag.
    pub fn opaque(tag: u16, bytes: SecretVec) -> Result<Self, KekError> {
        if !PayloadKind::Opaque(tag).valid_len(bytes.len()) {
            return Err(KekError::InvalidInput);
        }
        Ok(Self::Opaque { tag, bytes })
    }

    /// Rebuilds a payload of `kind` from decrypted bytes (validated like the constructors).
    pub(crate) fn from_plaintext(kind: PayloadKind, bytes: SecretVec) -> Result<Self, KekError> {
        match kind {
            PayloadKind::Secp256k1 => SecretBytes::from_slice(bytes.expose())
                .ok_or(KekError::InvalidInput)
                .and_then(Self::secp256k1),
            PayloadKind::Ed25519Seed => SecretBytes::from_slice(bytes.expose())
                .map(Self::Ed25519Seed)
                .ok_or(KekError::InvalidInput),
            PayloadKind::Bip39Entropy => Self::bip39_entropy(bytes),
            PayloadKind::Opaque(tag) => Self::opaque(tag, bytes),
        }
    }

    /// The payload's kind.
    pub fn kind(&self) -> PayloadKind {
        match self {
            Self::Secp256k1(_) => PayloadKind::Secp256k1,
            Self::Ed25519Seed(_) => PayloadKind::Ed25519Seed,
            Self::Bip39Entropy(_) => PayloadKind::Bip39Entropy,
            Self::Opaque { tag, .. } => PayloadKind::Opaque(*tag),
        }
    }

    /// The secret bytes (borrow; must not be copied into a non-secret place).
    pub fn expose(&self) -> &[u8] {
        match self {
            Self::Secp256k1(b) | Self::Ed25519Seed(b) => b.expose(),
            Self::Bip39Entropy(v) | Self::Opaque { bytes: v, .. } => v.expose(),
        }
    }

    /// The public key of a signing key payload: SEC1 compressed (33 bytes) for secp256k1,
    /// RFC 8032 (32 bytes) for Ed25519; `None` for other kinds.
    pub fn public_key(&self) -> Option<Vec<u8>> {
        match self {
            Self::Secp256k1(k) => secp256k1_public_key(k).ok().map(|p| p.to_vec()),
            Self::Ed25519Seed(s) => Some(ed25519_public_key(s).to_vec()),
            _ => None,
        }
    }

    /// Signs a 32-byte message hash with a secp256k1 payload: RFC 6979 ECDSA, low-S, with
    /// recovery id.
    pub fn sign_secp256k1(&self, prehash: &[u8; 32]) -> Result<RecoverableSignature, KekError> {
        match self {
            Self::Secp256k1(k) => sign_secp256k1(k, prehash),
            _ => Err(KekError::WrongPayloadKind),
        }
    }

    /// Signs `message` with an Ed25519 seed payload (RFC 8032 Ed25519, pure). The bytes are
    /// `signature.to_bytes()` (`R ‖ S`).
    pub fn sign_ed25519(&self, message: &[u8]) -> Result<ed25519_dalek::Signature, KekError> {
        match self {
            Self::Ed25519Seed(s) => Ok(sign_ed25519(s, message)),
            _ => Err(KekError::WrongPayloadKind),
        }
    }
}

/// A secp256k1 ECDSA signature with its recovery id: as bytes (the public fields) and as the
/// `k256` types ([`RecoverableSignature::ecdsa`], or `.into()` a `(Signature, RecoveryId)`).
///
/// ```
/// # use wallet_kek::{Payload, RecoverableSignature};
/// # let payload = Payload::secp256k1(wallet_types::SecretBytes::new([7; 32])).unwrap();
/// use wallet_kek::k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
/// let prehash = [0x42; 32];
/// let sig: RecoverableSignature = payload.sign_secp256k1(&prehash)?;
/// let (signature, recid): (Signature, RecoveryId) = sig.into();
/// let vk = VerifyingKey::recover_from_prehash(&prehash, &signature, recid)?;
/// assert_eq!(vk.to_sec1_bytes().as_ref(), payload.public_key().unwrap_or_default().as_slice());
/// assert_eq!(signature.to_bytes().as_slice(), sig.signature.as_slice());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecoverableSignature {
    /// `r || s`, 32 bytes each, big-endian; `s ≤ n/2` (low-S).
    pub signature: [u8; 64],
    /// Recovery id: bit 0 = parity of `R.y` (after low-S normalisation), bit 1 = `R.x ≥ n`
    /// (probability ≈ 2⁻¹²⁸). Ethereum's `v` is `27 + recovery_id`.
    pub recovery_id: u8,
    typed: (k256::ecdsa::Signature, k256::ecdsa::RecoveryId),
}

impl RecoverableSignature {
    pub(crate) fn new(sig: k256::ecdsa::Signature, recid: k256::ecdsa::RecoveryId) -> Self {
        let mut signature = [0u8; 64];
        signature.copy_from_slice(sig.to_bytes().as_slice());
        Self {
            signature,
            recovery_id: recid.to_byte(),
            typed: (sig, recid),
        }
    }

    /// The signature and recovery id as `k256` types (verify with
    /// `k256::ecdsa::VerifyingKey::verify_prehash`, recover with `recover_from_prehash`).
    pub fn ecdsa(&self) -> (k256::ecdsa::Signature, k256::ecdsa::RecoveryId) {
        self.typed
    }
}

impl From<RecoverableSignature> for (k256::ecdsa::Signature, k256::ecdsa::RecoveryId) {
    fn from(sig: RecoverableSignature) -> Self {
        sig.typed
    }
}

/// The RustCrypto signer interface of a secp256k1 payload: the same signature as
/// [`Payload::sign_secp256k1`]. Another payload kind is a [`signature::Error`].
impl signature::hazmat::PrehashSigner<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId)>
    for Payload
{
    fn sign_prehash(
        &self,
        prehash: &[u8],
    ) -> Result<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId), signature::Error> {
        let prehash: &[u8; 32] = prehash.try_into().map_err(|_| signature::Error::new())?;
        self.sign_secp256k1(prehash)
            .map(Into::into)
            .map_err(|_| signature::Error::new())
    }
}

/// The RustCrypto signer interface of an Ed25519 payload (RFC 8032, pure). Another payload
/// kind is a [`signature::Error`].
impl signature::Signer<ed25519_dalek::Signature> for Payload {
    fn try_sign(&self, message: &[u8]) -> Result<ed25519_dalek::Signature, signature::Error> {
        self.sign_ed25519(message)
            .map_err(|_| signature::Error::new())
    }
}

fn secp256k1_scalar(key: &SecretBytes<32>) -> Result<k256::NonZeroScalar, KekError> {
    let mut repr = k256::FieldBytes::from(*key.expose());
    let d = Option::<k256::NonZeroScalar>::from(k256::NonZeroScalar::from_repr(repr));
    repr.zeroize();
    d.ok_or(KekError::InvalidInput)
}

/// The SEC1 compressed public key of a secp256k1 secret key.
pub fn secp256k1_public_key(key: &SecretBytes<32>) -> Result<[u8; 33], KekError> {
    use k256::elliptic_curve::sec1::ToSec1Point;
    let mut d = secp256k1_scalar(key)?;
    let p = k256::PublicKey::from_secret_scalar(&d);
    d.zeroize();
    let enc = p.to_sec1_point(true);
    let mut out = [0u8; 33];
    if enc.as_bytes().len() != 33 {
        return Err(KekError::InvalidInput);
    }
    out.copy_from_slice(enc.as_bytes());
    Ok(out)
}

/// The RFC 8032 public key of an Ed25519 seed.
pub fn ed25519_public_key(seed: &SecretBytes<32>) -> [u8; 32] {
    // `SigningKey` zeroizes its expanded secret on drop (ed25519-dalek's `zeroize` feature).
    ed25519_dalek::SigningKey::from_bytes(seed.expose())
        .verifying_key()
        .to_bytes()
}

pub(crate) fn sign_secp256k1(
    key: &SecretBytes<32>,
    prehash: &[u8; 32],
) -> Result<RecoverableSignature, KekError> {
    let mut d = secp256k1_scalar(key)?;
    // The hazmat entry point signs with the scalar alone (no public-key computation, unlike
    // `SigningKey::from_bytes`); k256 sets `NORMALIZE_S`, so the result is low-S and the
    // recovery id is adjusted accordingly.
    let (sig, recid) =
        ecdsa::hazmat::sign_prehashed_rfc6979::<k256::Secp256k1, sha2::Sha256>(&d, prehash, &[]);
    d.zeroize();
    Ok(RecoverableSignature::new(sig, recid))
}

pub(crate) fn sign_ed25519(seed: &SecretBytes<32>, message: &[u8]) -> ed25519_dalek::Signature {
    let sk = ed25519_dalek::SigningKey::from_bytes(seed.expose());
    sk.sign(message)
}
