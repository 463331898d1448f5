//! AES-256-GCM (NIST SP 800-38D; 96-bit nonce, 128-bit tag) as this crate uses it, over
//! RustCrypto's `aes-gcm`. Plaintext comes out only in a zeroizing type and only after the tag
//! verified.

use alloc::vec::Vec;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use wallet_types::{SecretBytes, SecretVec};

use crate::error::PssError;

/// Tag length.
pub(crate) const TAG_LEN: usize = 16;

/// Returns `ciphertext || tag`.
pub(crate) fn seal(
    key: &SecretBytes<32>,
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, PssError> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
    buf.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.as_mut_slice().into())
        .map_err(|_| PssError::Internal)?;
    buf.extend_from_slice(tag.as_slice());
    Ok(buf)
}

/// Opens `ciphertext || tag`; every failure is [`PssError::Decrypt`].
pub(crate) fn open(
    key: &SecretBytes<32>,
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretVec, PssError> {
    let ct_len = sealed.len().checked_sub(TAG_LEN).ok_or(PssError::Decrypt)?;
    let (body, tag) = sealed.split_at(ct_len);
    let tag = Tag::try_from(tag).map_err(|_| PssError::Decrypt)?;
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut buf = body.to_vec();
    cipher
        .decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.as_mut_slice().into(), &tag)
        .map_err(|_| PssError::Decrypt)?;
    Ok(SecretVec::new(buf))
}
