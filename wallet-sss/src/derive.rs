//! Key derivation from the wallet secret: BIP-39 mnemonic and seed, BIP-32 (secp256k1),
//! SLIP-10 (Ed25519), Ethereum addresses.
//!
//! * The English word list and mnemonic parsing come from the `bip39` crate; entropy → words is
//!   written here (zeroized intermediates) and cross-checked against that crate.
//! * The seed is PBKDF2-HMAC-SHA512 (2048 rounds, salt `"mnemonic" ‖ passphrase`, BIP-39),
//!   written here over `hmac` / `sha2` so that the sentence, the passphrase-derived state and
//!   every intermediate block are held in zeroizing buffers.
//! * BIP-32 private derivation and SLIP-10 Ed25519 derivation are written here over HMAC-SHA512
//!   (a few lines each), with every intermediate secret zeroized; they are tested against the
//!   published BIP-32 vectors 1 and 2 and the SLIP-10 Ed25519 vectors, and the BIP-32 master
//!   keys of all Trezor BIP-39 vectors. (The `bip32` crate fits no_std, but its derivation
//!   leaves unzeroized copies of HMAC outputs and tweaks on the stack and computes a parent
//!   fingerprint — one scalar multiplication — per level, which signing does not need.)
//! * Ethereum addresses are the last 20 bytes of Keccak-256 of the uncompressed public key
//!   (`sha3` crate), printed with the EIP-55 checksum.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;
use wallet_types::group::GroupEncoding;
use wallet_types::zeroize::{Zeroize, Zeroizing};
use wallet_types::{Curve, Secp256k1, SecretBytes, SecretScalar};

type HmacSha512 = Hmac<Sha512>;

/// Why a derivation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeriveError {
    /// The text is not a valid English BIP-39 mnemonic (unknown word, bad word count or bad
    /// checksum).
    InvalidMnemonic,
    /// A valid mnemonic of another length than the 24 words (256 bits of entropy) the wallet
    /// share set uses.
    UnsupportedWordCount(usize),
    /// The mnemonic's 256-bit entropy, read as a big-endian integer, is zero or not below the
    /// secp256k1 group order `n`, so it is not a secp256k1 scalar and cannot be the shared
    /// secret. The key is **not** changed silently (no reduction mod `n`): such a mnemonic
    /// cannot be imported into a share set (probability ≈ 2⁻¹²⁸ for a random mnemonic).
    EntropyNotAScalar,
    /// A BIP-32 / SLIP-10 seed of a length outside 16..=64 bytes.
    SeedLength(usize),
    /// BIP-32 produced an invalid key at this derivation level (`I_L ≥ n` or a zero key,
    /// probability < 2⁻¹²⁷); BIP-32 says to proceed with the next index, which the caller
    /// may do explicitly.
    InvalidChildKey {
        /// Depth at which the invalid key appeared (0 = master).
        depth: usize,
    },
    /// A non-hardened index in a SLIP-10 Ed25519 path (Ed25519 supports hardened only).
    NonHardenedEd25519,
    /// An index `≥ 2³¹` given where a plain index is expected.
    IndexOutOfRange(u32),
}

impl fmt::Display for DeriveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidMnemonic => f.write_str("invalid BIP-39 mnemonic"),
            Self::UnsupportedWordCount(n) => {
                write!(f, "{n}-word mnemonic: the share set needs 24 words")
            }
            Self::EntropyNotAScalar => f.write_str(
                "mnemonic entropy is zero or not below the secp256k1 order: not importable",
            ),
            Self::SeedLength(n) => write!(f, "seed of {n} bytes (16..=64 expected)"),
            Self::InvalidChildKey { depth } => write!(f, "invalid derived key at depth {depth}"),
            Self::NonHardenedEd25519 => f.write_str("SLIP-10 Ed25519 needs hardened indices"),
            Self::IndexOutOfRange(i) => write!(f, "child index {i} ≥ 2^31"),
        }
    }
}

impl core::error::Error for DeriveError {}

// ---------------------------------------------------------------------------------------------
// BIP-39
// ---------------------------------------------------------------------------------------------

/// PBKDF2 iteration count of BIP-39.
const BIP39_ROUNDS: u32 = 2048;

/// The 24-word English mnemonic of 32 bytes of entropy, in a zeroizing string.
///
/// BIP-39: the 256 entropy bits followed by the first 8 bits of SHA-256(entropy) are cut into
/// 24 groups of 11 bits, each an index into the English word list (`bip39` crate). Written
/// here so that every intermediate (checksummed buffer, indices) is zeroized; tested against
/// the Trezor vectors and the `bip39` crate.
pub fn mnemonic_from_entropy(entropy: &SecretBytes<32>) -> Zeroizing<String> {
    use sha2::{Digest, Sha256};
    let mut buf = SecretBytes::<33>::new([0u8; 33]);
    let mut check = Sha256::digest(entropy.expose());
    for (b, e) in buf.expose_mut().iter_mut().zip(entropy.expose()) {
        *b = *e;
    }
    if let (Some(last), Some(c)) = (buf.expose_mut().get_mut(32), check.first()) {
        *last = *c;
    }
    check.as_mut_slice().zeroize();
    let list = bip39::Language::English.word_list();
    // 24 words of at most 8 letters and their separators.
    let mut s = Zeroizing::new(String::with_capacity(24 * 9));
    for w in 0..24 {
        let mut idx = Zeroizing::new(0usize);
        for j in 0..11 {
            let bit = 11 * w + j;
            let byte = buf.expose().get(bit / 8).copied().unwrap_or(0);
            *idx = (*idx << 1) | usize::from((byte >> (7 - bit % 8)) & 1);
        }
        if w > 0 {
            s.push(' ');
        }
        s.push_str(list.get(*idx).copied().unwrap_or(""));
    }
    s
}

/// The words of `m` joined by single spaces, in a zeroizing buffer sized once.
fn sentence(m: &bip39::Mnemonic) -> Zeroizing<String> {
    let len: usize = m.words().map(|w| w.len() + 1).sum();
    let mut s = Zeroizing::new(String::with_capacity(len));
    for (k, w) in m.words().enumerate() {
        if k > 0 {
            s.push(' ');
        }
        s.push_str(w);
    }
    s
}

/// Parses an English mnemonic (any BIP-39 length, checksum checked, NFKD-normalized,
/// whitespace-separated words).
fn parse_mnemonic(phrase: &str) -> Result<bip39::Mnemonic, DeriveError> {
    bip39::Mnemonic::parse_in(bip39::Language::English, phrase)
        .map_err(|_| DeriveError::InvalidMnemonic)
}

/// The 32 bytes of entropy of a 24-word English mnemonic.
///
/// Errors: [`DeriveError::InvalidMnemonic`], [`DeriveError::UnsupportedWordCount`] for the
/// other BIP-39 lengths.
pub fn entropy_from_mnemonic(phrase: &str) -> Result<SecretBytes<32>, DeriveError> {
    let m = parse_mnemonic(phrase)?;
    let words = m.word_count();
    if words != 24 {
        return Err(DeriveError::UnsupportedWordCount(words));
    }
    let (mut arr, len) = m.to_entropy_array();
    let out = arr
        .get(..len)
        .and_then(SecretBytes::<32>::from_slice)
        .ok_or(DeriveError::InvalidMnemonic);
    arr.zeroize();
    out
}

/// The wallet secret of a 24-word mnemonic: its entropy as a big-endian secp256k1 scalar.
///
/// Errors: those of [`entropy_from_mnemonic`], and [`DeriveError::EntropyNotAScalar`] when
/// the entropy is zero or `≥ n` — never a silently different key.
pub fn scalar_from_mnemonic(phrase: &str) -> Result<SecretScalar<Secp256k1>, DeriveError> {
    let entropy = entropy_from_mnemonic(phrase)?;
    scalar_from_entropy(&entropy)
}

/// Reads 32 bytes of entropy as a non-zero secp256k1 scalar (big-endian), or
/// [`DeriveError::EntropyNotAScalar`].
pub fn scalar_from_entropy(
    entropy: &SecretBytes<32>,
) -> Result<SecretScalar<Secp256k1>, DeriveError> {
    wallet_types::decode_nonzero_scalar::<Secp256k1>(entropy.expose())
        .map(SecretScalar::new)
        .map_err(|_| DeriveError::EntropyNotAScalar)
}

/// The entropy whose mnemonic encodes `secret` (its big-endian encoding).
pub fn entropy_from_scalar(secret: &SecretScalar<Secp256k1>) -> SecretBytes<32> {
    let mut repr = Secp256k1::encode_scalar(secret.expose());
    let mut out = SecretBytes::<32>::new([0u8; 32]);
    out.expose_mut().copy_from_slice(repr.as_slice());
    repr.as_mut_slice().zeroize();
    out
}

/// The BIP-39 seed of any valid English mnemonic (12–24 words) and passphrase:
/// PBKDF2-HMAC-SHA512(NFKD(mnemonic), "mnemonic" ‖ NFKD(passphrase), 2048, 64).
pub fn seed_from_mnemonic(phrase: &str, passphrase: &str) -> Result<SecretBytes<64>, DeriveError> {
    let m = parse_mnemonic(phrase)?;
    Ok(seed_of(&m, passphrase))
}

/// The BIP-39 seed of the 24-word mnemonic of `entropy` (empty passphrase unless given).
pub fn seed_from_entropy(
    entropy: &SecretBytes<32>,
    passphrase: &str,
) -> Result<SecretBytes<64>, DeriveError> {
    let words = mnemonic_from_entropy(entropy);
    Ok(seed_of_sentence(&words, passphrase))
}

fn seed_of(m: &bip39::Mnemonic, passphrase: &str) -> SecretBytes<64> {
    seed_of_sentence(&sentence(m), passphrase)
}

/// PBKDF2 over an English sentence (its words are ASCII, so NFKD leaves them unchanged) and
/// the NFKD-normalized passphrase.
fn seed_of_sentence(words: &str, passphrase: &str) -> SecretBytes<64> {
    let mut pass = alloc::borrow::Cow::Borrowed(passphrase);
    bip39::Mnemonic::normalize_utf8_cow(&mut pass);
    let mut salt = Zeroizing::new(Vec::with_capacity(8 + pass.len()));
    salt.extend_from_slice(b"mnemonic");
    salt.extend_from_slice(pass.as_bytes());
    if let alloc::borrow::Cow::Owned(s) = &mut pass {
        s.zeroize();
    }
    pbkdf2_hmac_sha512_64(words.as_bytes(), &salt, BIP39_ROUNDS)
}

/// PBKDF2-HMAC-SHA512 with a 64-byte output (one block, RFC 8018 §5.2).
fn pbkdf2_hmac_sha512_64(password: &[u8], salt: &[u8], rounds: u32) -> SecretBytes<64> {
    let mut out = SecretBytes::<64>::new([0u8; 64]);
    // HMAC accepts keys of any length; the error arm cannot happen.
    let Ok(prf) = HmacSha512::new_from_slice(password) else {
        return out;
    };
    let mut u = SecretBytes::<64>::new([0u8; 64]);
    let mut mac = prf.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    copy_mac(mac, u.expose_mut());
    out.expose_mut().copy_from_slice(u.expose());
    for _ in 1..rounds {
        let mut mac = prf.clone();
        mac.update(u.expose());
        copy_mac(mac, u.expose_mut());
        for (o, b) in out.expose_mut().iter_mut().zip(u.expose()) {
            *o ^= b;
        }
    }
    out
}

/// Finalizes `mac` into `out`, zeroizing the temporary output.
fn copy_mac(mac: HmacSha512, out: &mut [u8; 64]) {
    let mut tag = mac.finalize().into_bytes();
    out.copy_from_slice(tag.as_slice());
    tag.as_mut_slice().zeroize();
}

fn hmac_sha512(key: &[u8], parts: &[&[u8]]) -> SecretBytes<64> {
    let mut out = SecretBytes::<64>::new([0u8; 64]);
    if let Ok(mut mac) = HmacSha512::new_from_slice(key) {
        for p in parts {
            mac.update(p);
        }
        copy_mac(mac, out.expose_mut());
    }
    out
}

/// Splits a 64-byte HMAC output into `(I_L, I_R)`.
fn halves(i: &SecretBytes<64>) -> (SecretBytes<32>, SecretBytes<32>) {
    let (l, r) = i.expose().split_at(32);
    (
        SecretBytes::from_slice(l).unwrap_or_else(|| SecretBytes::new([0; 32])),
        SecretBytes::from_slice(r).unwrap_or_else(|| SecretBytes::new([0; 32])),
    )
}

fn check_seed(seed: &[u8]) -> Result<(), DeriveError> {
    if (16..=64).contains(&seed.len()) {
        Ok(())
    } else {
        Err(DeriveError::SeedLength(seed.len()))
    }
}

// ---------------------------------------------------------------------------------------------
// BIP-32 / SLIP-10 paths
// ---------------------------------------------------------------------------------------------

/// Offset of hardened indices.
pub const HARDENED: u32 = 0x8000_0000;

/// A BIP-32 child index (`i ≥ 2³¹` is hardened, written `i'`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChildIndex(pub u32);

impl ChildIndex {
    /// The non-hardened index `i` (`i < 2³¹`).
    pub fn normal(i: u32) -> Result<Self, DeriveError> {
        if i >= HARDENED {
            return Err(DeriveError::IndexOutOfRange(i));
        }
        Ok(Self(i))
    }

    /// The hardened index `i'` (`i < 2³¹`).
    pub fn hardened(i: u32) -> Result<Self, DeriveError> {
        if i >= HARDENED {
            return Err(DeriveError::IndexOutOfRange(i));
        }
        Ok(Self(i | HARDENED))
    }

    /// Whether the index is hardened.
    pub fn is_hardened(self) -> bool {
        self.0 >= HARDENED
    }
}

impl fmt::Debug for ChildIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_hardened() {
            write!(f, "{}'", self.0 & !HARDENED)
        } else {
            write!(f, "{}", self.0)
        }
    }
}

/// The BIP-44 Ethereum path `m/44'/60'/0'/0/i`.
pub fn ethereum_path(i: u32) -> Result<[ChildIndex; 5], DeriveError> {
    Ok([
        ChildIndex::hardened(44)?,
        ChildIndex::hardened(60)?,
        ChildIndex::hardened(0)?,
        ChildIndex::normal(0)?,
        ChildIndex::normal(i)?,
    ])
}

/// The Solana-style SLIP-10 path `m/44'/501'/i'/0'`.
pub fn solana_path(i: u32) -> Result<[ChildIndex; 4], DeriveError> {
    Ok([
        ChildIndex::hardened(44)?,
        ChildIndex::hardened(501)?,
        ChildIndex::hardened(i)?,
        ChildIndex::hardened(0)?,
    ])
}

// ---------------------------------------------------------------------------------------------
// BIP-32 (secp256k1)
// ---------------------------------------------------------------------------------------------

/// A BIP-32 extended private key (secp256k1): key and chain code, both secret, zeroized on
/// drop, not `Clone`.
pub struct Bip32Key {
    key: SecretScalar<Secp256k1>,
    chain_code: SecretBytes<32>,
    depth: usize,
}

impl fmt::Debug for Bip32Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bip32Key(depth {}, <redacted>)", self.depth)
    }
}

impl Bip32Key {
    /// The master key of `seed` (16..=64 bytes): `I = HMAC-SHA512("Bitcoin seed", seed)`.
    pub fn master(seed: &[u8]) -> Result<Self, DeriveError> {
        check_seed(seed)?;
        let i = hmac_sha512(b"Bitcoin seed", &[seed]);
        let (il, ir) = halves(&i);
        let key = wallet_types::decode_nonzero_scalar::<Secp256k1>(il.expose())
            .map_err(|_| DeriveError::InvalidChildKey { depth: 0 })?;
        Ok(Self {
            key: SecretScalar::new(key),
            chain_code: ir,
            depth: 0,
        })
    }

    /// The child at `index` (BIP-32 CKDpriv): `I = HMAC-SHA512(c, 0x00 ‖ k ‖ i)` if hardened,
    /// `HMAC-SHA512(c, serP(k·G) ‖ i)` otherwise; `k_i = I_L + k`.
    pub fn child(&self, index: ChildIndex) -> Result<Self, DeriveError> {
        let depth = self.depth + 1;
        let ib = index.0.to_be_bytes();
        let i = if index.is_hardened() {
            let mut k = Secp256k1::encode_scalar(self.key.expose());
            let i = hmac_sha512(self.chain_code.expose(), &[&[0u8], k.as_slice(), &ib]);
            k.as_mut_slice().zeroize();
            i
        } else {
            let p = Secp256k1::encode_point(&self.key.public());
            hmac_sha512(self.chain_code.expose(), &[p.as_slice(), &ib])
        };
        let (il, ir) = halves(&i);
        let tweak = wallet_types::decode_scalar::<Secp256k1>(il.expose())
            .map_err(|_| DeriveError::InvalidChildKey { depth })?;
        let mut key = SecretScalar::<Secp256k1>::new(tweak);
        *key.expose_mut() += self.key.expose();
        if bool::from(key.is_zero()) {
            return Err(DeriveError::InvalidChildKey { depth });
        }
        Ok(Self {
            key,
            chain_code: ir,
            depth,
        })
    }

    /// The key at `path` below the master key of `seed`.
    pub fn derive(seed: &[u8], path: &[ChildIndex]) -> Result<Self, DeriveError> {
        let mut k = Self::master(seed)?;
        for i in path {
            k = k.child(*i)?;
        }
        Ok(k)
    }

    /// The private key.
    pub fn secret(&self) -> &SecretScalar<Secp256k1> {
        &self.key
    }

    /// The chain code.
    pub fn chain_code(&self) -> &SecretBytes<32> {
        &self.chain_code
    }

    /// The depth (0 for the master key).
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The public key `k·G`.
    pub fn public_key(&self) -> k256::ProjectivePoint {
        self.key.public()
    }
}

// ---------------------------------------------------------------------------------------------
// SLIP-10 (Ed25519)
// ---------------------------------------------------------------------------------------------

/// A SLIP-10 Ed25519 extended private key: the 32-byte Ed25519 secret key (RFC 8032 seed) and
/// chain code, zeroized on drop, not `Clone`.
pub struct Slip10Ed25519Key {
    key: SecretBytes<32>,
    chain_code: SecretBytes<32>,
}

impl fmt::Debug for Slip10Ed25519Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Slip10Ed25519Key(<redacted>)")
    }
}

impl Slip10Ed25519Key {
    /// The master key of `seed`: `I = HMAC-SHA512("ed25519 seed", seed)`.
    pub fn master(seed: &[u8]) -> Result<Self, DeriveError> {
        check_seed(seed)?;
        let i = hmac_sha512(b"ed25519 seed", &[seed]);
        let (key, chain_code) = halves(&i);
        Ok(Self { key, chain_code })
    }

    /// The hardened child at `index`: `I = HMAC-SHA512(c, 0x00 ‖ k ‖ i)`.
    pub fn child(&self, index: ChildIndex) -> Result<Self, DeriveError> {
        if !index.is_hardened() {
            return Err(DeriveError::NonHardenedEd25519);
        }
        let i = hmac_sha512(
            self.chain_code.expose(),
            &[&[0u8], self.key.expose(), &index.0.to_be_bytes()],
        );
        let (key, chain_code) = halves(&i);
        Ok(Self { key, chain_code })
    }

    /// The key at `path` (all hardened) below the master key of `seed`.
    pub fn derive(seed: &[u8], path: &[ChildIndex]) -> Result<Self, DeriveError> {
        let mut k = Self::master(seed)?;
        for i in path {
            k = k.child(*i)?;
        }
        Ok(k)
    }

    /// The Ed25519 secret key (RFC 8032 32-byte seed).
    pub fn secret(&self) -> &SecretBytes<32> {
        &self.key
    }

    /// The chain code.
    pub fn chain_code(&self) -> &SecretBytes<32> {
        &self.chain_code
    }

    /// The signing key (zeroized on drop by `ed25519-dalek`).
    pub fn signing_key(&self) -> ed25519_dalek::SigningKey {
        ed25519_dalek::SigningKey::from_bytes(self.key.expose())
    }

    /// The RFC 8032 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.signing_key().verifying_key().to_bytes()
    }
}

// ---------------------------------------------------------------------------------------------
// Ethereum
// ---------------------------------------------------------------------------------------------

/// The Ethereum address of a secp256k1 public key: the last 20 bytes of
/// Keccak-256(x ‖ y) of the uncompressed point.
pub fn ethereum_address(pk: &k256::ProjectivePoint) -> [u8; 20] {
    use k256::elliptic_curve::sec1::ToSec1Point;
    use sha3::Digest;
    let uncompressed = pk.to_affine().to_sec1_point(false);
    let body = uncompressed.as_bytes().get(1..).unwrap_or(&[]);
    let h = sha3::Keccak256::digest(body);
    let mut out = [0u8; 20];
    if let Some(tail) = h.get(12..32) {
        out.copy_from_slice(tail);
    }
    out
}

/// The EIP-55 mixed-case checksummed form (`0x` + 40 hex digits) of an address.
pub fn eip55(address: &[u8; 20]) -> String {
    use sha3::Digest;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut lower = String::with_capacity(40);
    for b in address {
        lower.push(char::from(
            HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0'),
        ));
        lower.push(char::from(
            HEX.get(usize::from(b & 15)).copied().unwrap_or(b'0'),
        ));
    }
    let h = sha3::Keccak256::digest(lower.as_bytes());
    let mut out = String::with_capacity(42);
    out.push_str("0x");
    for (k, c) in lower.chars().enumerate() {
        let nibble = h
            .get(k / 2)
            .map_or(0, |b| if k % 2 == 0 { b >> 4 } else { b & 15 });
        if c.is_ascii_alphabetic() && nibble >= 8 {
            out.push(c.to_ascii_uppercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The SEC1 compressed encoding of a secp256k1 point.
pub fn compressed(pk: &k256::ProjectivePoint) -> [u8; 33] {
    let mut out = [0u8; 33];
    out.copy_from_slice(pk.to_bytes().as_slice());
    out
}
