//! AES-256-GCM (NIST SP 800-38D; 96-bit nonce, 128-bit tag) as every crate of the family uses
//! it, over RustCrypto's `aes-gcm`: one implementation of the parameters and of the rule that
//! plaintext comes out only in a zeroizing type and only after the tag verified. The crates wrap
//! these two functions with their own error types.

use alloc::vec::Vec;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};

use crate::secret::{SecretBytes, SecretVec};

/// Key length.
pub const KEY_LEN: usize = 32;
/// Nonce length.
pub const NONCE_LEN: usize = 12;
/// Tag length.
pub const TAG_LEN: usize = 16;

/// The only error: encryption refused its input (too long for GCM), or a ciphertext did not
/// open. Deliberately opaque (no oracle).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AeadError;

/// Encrypts: returns `ciphertext || tag`.
pub fn seal(
    key: &SecretBytes<KEY_LEN>,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, AeadError> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
    buf.extend_from_slice(plaintext);
    match cipher.encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.as_mut_slice().into()) {
        Ok(tag) => {
            buf.extend_from_slice(tag.as_slice());
            Ok(buf)
        }
        Err(_) => {
            // The buffer still holds the plaintext.
            zeroize::Zeroize::zeroize(&mut buf);
            Err(AeadError)
        }
    }
}

/// Decrypts `ciphertext || tag`. The tag is checked before anything is decrypted; the
/// plaintext goes straight into a zeroizing type.
pub fn open(
    key: &SecretBytes<KEY_LEN>,
    nonce: &[u8; NONCE_LEN],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretVec, AeadError> {
    let ct_len = sealed.len().checked_sub(TAG_LEN).ok_or(AeadError)?;
    let (body, tag) = sealed.split_at(ct_len);
    let tag = Tag::try_from(tag).map_err(|_| AeadError)?;
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut buf = SecretVec::from_slice(body);
    cipher
        .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.expose_mut().into(), &tag)
        .map_err(|_| AeadError)?;
    Ok(buf)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn nist_gcm_test_case_16() {
        // McGrew–Viega, "The Galois/Counter Mode of Operation", test case 16 (AES-256, 96-bit IV,
        // 60-byte plaintext, 20-byte AAD).
        let h = |s: &str| -> Vec<u8> {
            (0..s.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap(), 16).unwrap())
                .collect()
        };
        let key = SecretBytes::<32>::from_slice(&h(
            "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        ))
        .unwrap();
        let nonce: [u8; 12] = h("cafebabefacedbaddecaf888").try_into().unwrap();
        let pt = h(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        );
        let aad = h("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let ct = seal(&key, &nonce, &aad, &pt).unwrap();
        let expected = h(
            "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662\
76fc6ece0f4e1768cddf8853bb2d551b",
        );
        assert_eq!(ct, expected);
        assert_eq!(open(&key, &nonce, &aad, &ct).unwrap().expose(), &pt[..]);
        let mut bad = ct.clone();
        bad[0] ^= 1;
        assert_eq!(open(&key, &nonce, &aad, &bad).unwrap_err(), AeadError);
        assert_eq!(open(&key, &nonce, &aad, &ct[..15]).unwrap_err(), AeadError);
    }
}
