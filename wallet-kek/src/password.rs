//! Password and recovery-answer slots: Argon2id (RFC 9106) then HKDF-SHA256.
//!
//! ```text
//! stretched = Argon2id(v = 0x13, password = normalised secret, salt[16], m, t, p, taglen = 32)
//! KEK       = HKDF-SHA256(salt = none, ikm = stretched,
//!                         info = label || u16be(1) || wallet_id[32])
//! label     = "wallet-kek/password-kek" | "wallet-kek/recovery-kek"
//! ```
//!
//! Normalisation (`SPEC.md` §3.2): a password is NFKC-normalised (NIST SP 800-63B) and
//! otherwise used as typed; a recovery answer is NFKC-normalised, lower-cased code point by
//! code point, NFKC-normalised again, and its white space trimmed and collapsed to single
//! spaces, so that "  Rex " and "rex" open the same slot.

use alloc::string::String;
use alloc::vec::Vec;

use argon2::{Algorithm, Argon2, Params, Version};
use unicode_normalization::UnicodeNormalization;
use wallet_types::{SecretBytes, SecretVec};

use crate::crypto::hkdf_sha256;
use crate::error::KekError;
use crate::prf::{KDF_VERSION, Kek, WalletId};

/// Length of the Argon2id salt stored in a slot.
pub const ARGON2_SALT_LEN: usize = 16;
/// HKDF label of password KEKs.
pub const PASSWORD_KEK_LABEL: &[u8] = b"wallet-kek/password-kek";
/// HKDF label of recovery-answer KEKs.
pub const RECOVERY_KEK_LABEL: &[u8] = b"wallet-kek/recovery-kek";
/// Longest password or answer accepted, in bytes after normalisation.
pub const MAX_SECRET_TEXT_LEN: usize = 1024;

/// Argon2id cost parameters of a password or recovery-answer slot.
///
/// Envelopes are only encoded and decoded with parameters in
/// `[MIN, MAX]` component-wise: at least OWASP's m = 19456 KiB, t = 2, p = 1, and at most
/// m = 1 GiB, t = 32, p = 16 (so a hostile envelope cannot make a client allocate without
/// bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Argon2Params {
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
}

impl Argon2Params {
    /// The weakest parameters accepted (OWASP: m = 19456 KiB, t = 2, p = 1).
    pub const MIN: Self = Self {
        m_cost_kib: 19456,
        t_cost: 2,
        p_cost: 1,
    };
    /// The default for new slots (equal to [`Argon2Params::MIN`]; raise it where the devices
    /// allow).
    pub const DEFAULT: Self = Self::MIN;
    /// The strongest parameters accepted (m = 1 GiB, t = 32, p = 16).
    pub const MAX: Self = Self {
        m_cost_kib: 1 << 20,
        t_cost: 32,
        p_cost: 16,
    };

    /// Parameters within `[MIN, MAX]`, or [`KekError::WeakParams`].
    pub fn new(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, KekError> {
        let p = Self {
            m_cost_kib,
            t_cost,
            p_cost,
        };
        if p.is_acceptable() {
            Ok(p)
        } else {
            Err(KekError::WeakParams)
        }
    }

    /// **Hazmat, tests only.** Parameters below the minimum (down to Argon2's own limits:
    /// t ≥ 1, p ≥ 1, m ≥ 8·p). Slots made with them work in memory, but an envelope holding
    /// one can neither be encoded for storage by a decoder's standards nor decoded: decoding
    /// refuses it.
    #[cfg(any(test, feature = "hazmat"))]
    pub fn new_insecure(m_cost_kib: u32, t_cost: u32, p_cost: u32) -> Result<Self, KekError> {
        if t_cost < 1
            || p_cost < 1
            || m_cost_kib < 8 * p_cost
            || m_cost_kib > Self::MAX.m_cost_kib
            || t_cost > Self::MAX.t_cost
            || p_cost > Self::MAX.p_cost
        {
            return Err(KekError::WeakParams);
        }
        Ok(Self {
            m_cost_kib,
            t_cost,
            p_cost,
        })
    }

    /// Whether the parameters are within `[MIN, MAX]` (what decoding requires).
    pub fn is_acceptable(&self) -> bool {
        (Self::MIN.m_cost_kib..=Self::MAX.m_cost_kib).contains(&self.m_cost_kib)
            && (Self::MIN.t_cost..=Self::MAX.t_cost).contains(&self.t_cost)
            && (Self::MIN.p_cost..=Self::MAX.p_cost).contains(&self.p_cost)
    }

    /// Memory cost in KiB.
    pub fn m_cost_kib(&self) -> u32 {
        self.m_cost_kib
    }
    /// Number of passes.
    pub fn t_cost(&self) -> u32 {
        self.t_cost
    }
    /// Degree of parallelism (lanes).
    pub fn p_cost(&self) -> u32 {
        self.p_cost
    }
}

impl Default for Argon2Params {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What a text secret protects: selects normalisation and HKDF label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TextSecret {
    Password,
    RecoveryAnswer,
}

/// NFKC, as used for passwords.
pub fn normalize_password(password: &str) -> SecretVec {
    let s: String = password.nfkc().collect();
    SecretVec::new(s.into_bytes())
}

/// The recovery-answer normalisation of `SPEC.md` §3.2: NFKC, per-code-point Unicode lower-case
/// mapping, NFKC again, then white space (Unicode `White_Space`) trimmed at both ends and every
/// inner run replaced by one U+0020.
///
/// ```
/// use wallet_kek::normalize_answer;
/// assert_eq!(normalize_answer("  Fluffy \t the  CAT ").expose(), b"fluffy the cat");
/// assert_eq!(normalize_answer("ＦＬＵＦＦＹ").expose(), b"fluffy"); // full-width, via NFKC
/// ```
pub fn normalize_answer(answer: &str) -> SecretVec {
    let folded: String = answer.nfkc().flat_map(char::to_lowercase).collect();
    let mut renormalized: String = folded.nfkc().collect();
    let mut out = String::with_capacity(renormalized.len());
    for word in renormalized
        .split(char::is_whitespace)
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    zeroize_string(&mut renormalized);
    let mut folded = folded;
    zeroize_string(&mut folded);
    SecretVec::new(out.into_bytes())
}

fn zeroize_string(s: &mut String) {
    zeroize::Zeroize::zeroize(s);
}

/// Normalises a text secret; refuses empty and over-long results.
pub(crate) fn normalize(kind: TextSecret, text: &str) -> Result<SecretVec, KekError> {
    let n = match kind {
        TextSecret::Password => normalize_password(text),
        TextSecret::RecoveryAnswer => normalize_answer(text),
    };
    if n.is_empty() || n.len() > MAX_SECRET_TEXT_LEN {
        return Err(KekError::InvalidInput);
    }
    Ok(n)
}

/// The HKDF `info` of a password / recovery KEK.
pub(crate) fn text_kek_info(kind: TextSecret, wallet_id: &WalletId) -> Vec<u8> {
    let label = match kind {
        TextSecret::Password => PASSWORD_KEK_LABEL,
        TextSecret::RecoveryAnswer => RECOVERY_KEK_LABEL,
    };
    let mut info = Vec::with_capacity(label.len() + 2 + 32);
    info.extend_from_slice(label);
    info.extend_from_slice(&KDF_VERSION.to_be_bytes());
    info.extend_from_slice(wallet_id.as_bytes());
    info
}

/// Argon2id over an already normalised secret, then HKDF to the KEK.
pub(crate) fn derive_text_kek(
    kind: TextSecret,
    normalized: &SecretVec,
    salt: &[u8; ARGON2_SALT_LEN],
    params: &Argon2Params,
    wallet_id: &WalletId,
) -> Result<Kek, KekError> {
    let p = Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
        .map_err(|_| KekError::WeakParams)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
    let mut stretched = SecretBytes::<32>::new([0u8; 32]);
    argon
        .hash_password_into(normalized.expose(), salt, stretched.expose_mut())
        .map_err(|_| KekError::InvalidInput)?;
    let info = text_kek_info(kind, wallet_id);
    let mut kek = Kek::new([0u8; 32]);
    hkdf_sha256(None, stretched.expose(), &info, kek.expose_mut())?;
    Ok(kek)
}

/// Derives the KEK of a password slot (for known-answer tests and independent implementations).
pub fn derive_password_kek(
    password: &str,
    salt: &[u8; ARGON2_SALT_LEN],
    params: &Argon2Params,
    wallet_id: &WalletId,
) -> Result<Kek, KekError> {
    let n = normalize(TextSecret::Password, password)?;
    derive_text_kek(TextSecret::Password, &n, salt, params, wallet_id)
}

/// Derives the KEK of a recovery-answer slot (the answer is normalised first).
pub fn derive_recovery_kek(
    answer: &str,
    salt: &[u8; ARGON2_SALT_LEN],
    params: &Argon2Params,
    wallet_id: &WalletId,
) -> Result<Kek, KekError> {
    let n = normalize(TextSecret::RecoveryAnswer, answer)?;
    derive_text_kek(TextSecret::RecoveryAnswer, &n, salt, params, wallet_id)
}
