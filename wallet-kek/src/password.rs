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

use alloc::vec::Vec;

use argon2::{Algorithm, Argon2, Block, Params, Version};
use unicode_normalization::UnicodeNormalization;
use wallet_types::{SecretBytes, SecretVec, Writer};
use zeroize::Zeroize;

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
///
/// The result is written code point by code point into a zeroizing buffer
/// ([`wallet_types::Writer::secret`]: every allocation it outgrows is zeroized before it is
/// freed), so no unzeroized `String` copy of the normalised password is left behind.
pub fn normalize_password(password: &str) -> SecretVec {
    normalize_text(TextSecret::Password, password, None)
        .unwrap_or_else(|| SecretVec::new(Vec::new()))
}

/// The recovery-answer normalisation of `SPEC.md` §3.2: NFKC, per-code-point Unicode lower-case
/// mapping, NFKC again, then white space (Unicode `White_Space`) trimmed at both ends and every
/// inner run replaced by one U+0020.
///
/// The four steps are chained as iterators and written code point by code point into one
/// zeroizing buffer ([`wallet_types::Writer::secret`], which zeroizes every allocation it
/// outgrows): no intermediate `String` is built. What remains outside this crate's control is
/// the few code points `unicode-normalization` holds in its iterators while composing (on the
/// stack; on the heap only for a run of more than four combining marks).
///
/// ```
/// use wallet_kek::normalize_answer;
/// assert_eq!(normalize_answer("  Fluffy \t the  CAT ").expose(), b"fluffy the cat");
/// assert_eq!(normalize_answer("ＦＬＵＦＦＹ").expose(), b"fluffy"); // full-width, via NFKC
/// ```
pub fn normalize_answer(answer: &str) -> SecretVec {
    normalize_text(TextSecret::RecoveryAnswer, answer, None)
        .unwrap_or_else(|| SecretVec::new(Vec::new()))
}

/// Streams the normalisation of `text` into a zeroizing buffer; `None` as soon as the output
/// would exceed `limit` bytes (the partial output is zeroized).
fn normalize_text(kind: TextSecret, text: &str, limit: Option<usize>) -> Option<SecretVec> {
    let mut out = TextSink {
        w: Writer::secret(),
        len: 0,
        limit,
    };
    let ok = match kind {
        TextSecret::Password => text.nfkc().all(|c| out.push(c)),
        TextSecret::RecoveryAnswer => {
            // Steps 1–3 lazily; step 4 as the code points arrive: a white-space run becomes one
            // pending space, written only if a non-space code point follows (trims both ends).
            let mut pending_space = false;
            text.nfkc().flat_map(char::to_lowercase).nfkc().all(|c| {
                if c.is_whitespace() {
                    pending_space = out.len > 0;
                    true
                } else if core::mem::take(&mut pending_space) {
                    out.push(' ') && out.push(c)
                } else {
                    out.push(c)
                }
            })
        }
    };
    // A refused (over-long) partial output is dropped as a `SecretVec`, hence zeroized.
    let bytes = out.w.into_secret();
    ok.then_some(bytes)
}

/// A zeroizing UTF-8 sink with an optional length limit.
struct TextSink {
    w: Writer,
    len: usize,
    limit: Option<usize>,
}

impl TextSink {
    /// Appends `c`; `false` if that would exceed the limit.
    fn push(&mut self, c: char) -> bool {
        let n = c.len_utf8();
        if self.limit.is_some_and(|l| self.len + n > l) {
            return false;
        }
        let mut scratch = [0u8; 4];
        self.w.bytes(c.encode_utf8(&mut scratch).as_bytes());
        scratch.zeroize();
        self.len += n;
        true
    }
}

/// Normalises a text secret; refuses empty and over-long results (stopping as soon as the
/// output exceeds [`MAX_SECRET_TEXT_LEN`], so a huge input never fills a huge buffer).
pub(crate) fn normalize(kind: TextSecret, text: &str) -> Result<SecretVec, KekError> {
    let n = normalize_text(kind, text, Some(MAX_SECRET_TEXT_LEN)).ok_or(KekError::InvalidInput)?;
    if n.is_empty() {
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
    let stretched = stretch(normalized, salt, params)?;
    let info = text_kek_info(kind, wallet_id);
    let mut kek = Kek::new([0u8; 32]);
    hkdf_sha256(None, stretched.expose(), &info, kek.expose_mut())?;
    Ok(kek)
}

/// `Argon2id(normalised secret, salt, m, t, p, taglen = 32)`, its working memory zeroized.
pub(crate) fn stretch(
    normalized: &SecretVec,
    salt: &[u8; ARGON2_SALT_LEN],
    params: &Argon2Params,
) -> Result<SecretBytes<32>, KekError> {
    let p = Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
        .map_err(|_| KekError::WeakParams)?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
    let mut stretched = SecretBytes::<32>::new([0u8; 32]);
    // Argon2's working memory determines the KEK (its last block is the tag's input): it is
    // allocated here and zeroized before it is freed, which `hash_password_into` does not do.
    let mut blocks = alloc_blocks(argon.params().block_count())?;
    argon2id_with_memory(
        &argon,
        normalized.expose(),
        salt,
        stretched.expose_mut(),
        blocks.as_mut_slice(),
    )?;
    Ok(stretched)
}

/// `blocks` zeroed Argon2 memory blocks, or [`KekError::InvalidInput`] if the allocation fails
/// (reported, not aborted: the parameters may ask for up to 1 GiB).
fn alloc_blocks(n: usize) -> Result<Vec<Block>, KekError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| KekError::InvalidInput)?;
    v.resize(n, Block::new());
    Ok(v)
}

/// Argon2 into `out` over the caller's memory `blocks`, which are zeroized before returning
/// (on success and on failure).
fn argon2id_with_memory(
    argon: &Argon2<'_>,
    pwd: &[u8],
    salt: &[u8],
    out: &mut [u8],
    blocks: &mut [Block],
) -> Result<(), KekError> {
    let res = argon.hash_password_into_with_memory(pwd, salt, out, &mut *blocks);
    blocks.iter_mut().for_each(Zeroize::zeroize);
    res.map_err(|_| KekError::InvalidInput)
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use alloc::string::String;
    use zeroize::ZeroizeOnDrop;

    /// The §3.2 answer normalisation as the SPEC states it, with whole `String`s.
    fn reference_answer(answer: &str) -> String {
        let folded: String = answer.nfkc().flat_map(char::to_lowercase).collect();
        let renormalized: String = folded.nfkc().collect();
        renormalized
            .split(char::is_whitespace)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn is_zeroizing<T: ZeroizeOnDrop>(_: &T) {}

    #[test]
    fn streaming_normalisation_matches_the_spec_and_grows_without_copies() {
        let long_word = "ＡbÇ\u{0301}ﬁ".repeat(300); // grows the buffer several times
        let cases = [
            "  Mr.   Whiskers\t",
            "ＭＲ．　ＷＨＩＳＫＥＲＳ",
            "\u{2003}\u{00a0} a \u{3000}\u{2028}b\n\n",
            "ΟΔΥΣΣΕΥΣ",
            "İstanbul",
            "   ",
            "",
            "e\u{0301}\u{0302}\u{0303}\u{0304}\u{0305}\u{0306} x",
            long_word.as_str(),
        ];
        for c in cases {
            let n = normalize_answer(c);
            is_zeroizing(&n);
            assert_eq!(n.expose(), reference_answer(c).as_bytes(), "{c:?}");
            let p = normalize_password(c);
            is_zeroizing(&p);
            assert_eq!(p.expose(), c.nfkc().collect::<String>().as_bytes(), "{c:?}");
        }
        assert!(normalize_answer(&long_word).len() > 1000);
    }

    #[test]
    fn normalisation_stops_at_the_limit() {
        let exact = "a".repeat(MAX_SECRET_TEXT_LEN);
        assert_eq!(
            normalize(TextSecret::Password, &exact).unwrap().len(),
            MAX_SECRET_TEXT_LEN
        );
        let over = "a".repeat(MAX_SECRET_TEXT_LEN + 1);
        assert_eq!(
            normalize(TextSecret::Password, &over).unwrap_err(),
            KekError::InvalidInput
        );
        // Inner white space that collapses keeps a long input acceptable.
        let spaced = alloc::format!("{}x", " ".repeat(4 * MAX_SECRET_TEXT_LEN));
        assert_eq!(
            normalize(TextSecret::RecoveryAnswer, &spaced)
                .unwrap()
                .expose(),
            b"x"
        );
        assert_eq!(
            normalize(TextSecret::RecoveryAnswer, " \t ").unwrap_err(),
            KekError::InvalidInput
        );
    }

    #[test]
    fn argon2_memory_is_zeroized_and_the_tag_unchanged() {
        let p = Params::new(64, 1, 1, Some(32)).unwrap();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
        let mut expected = [0u8; 32];
        argon
            .hash_password_into(b"password", &[7u8; 16], &mut expected)
            .unwrap();
        let mut blocks = alloc_blocks(argon.params().block_count()).unwrap();
        let mut out = [0u8; 32];
        argon2id_with_memory(&argon, b"password", &[7u8; 16], &mut out, &mut blocks).unwrap();
        assert_eq!(out, expected);
        assert_eq!(blocks.len(), 64);
        assert!(blocks.iter().all(|b| b.as_ref().iter().all(|x| *x == 0)));
        // Zeroized on failure too: dirty memory handed in comes back clean.
        blocks.iter_mut().for_each(|b| b.as_mut().fill(1));
        assert!(
            argon2id_with_memory(&argon, b"password", &[7u8; 4], &mut out, &mut blocks).is_err()
        );
        assert!(blocks.iter().all(|b| b.as_ref().iter().all(|x| *x == 0)));
    }
}
