//! Sealing presignatures at rest: AES-256-GCM (NIST SP 800-38D, RustCrypto `aes-gcm`) under a
//! key derived from the current key share with HKDF-SHA256 (RFC 5869). The key changes with
//! every refresh or reshare, so that a sealed presignature of an earlier epoch — wherever a copy
//! of it was kept — can no longer be opened once the old share is gone (crypto-erasure).

use alloc::vec::Vec;

use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use hkdf::Hkdf;
use sha2::Sha256;
use wallet_types::{Error, Secp256k1, SecretBytes, SecretScalar, SecretVec};
use zeroize::Zeroize;

const TAG_LEN: usize = 16;
const INFO: &[u8] = b"wallet-tss/ecdsa-dkls23/presignature-seal/v1";

/// `HKDF-SHA256(ikm = x_i (32 bytes, big-endian), salt = key_id, info = INFO)`, 32 bytes.
pub(crate) fn seal_key(
    share: &SecretScalar<Secp256k1>,
    key_id: &[u8; 32],
) -> Result<SecretBytes<32>, Error> {
    let mut ikm = share.expose().to_bytes();
    let mut key = SecretBytes::<32>::new([0u8; 32]);
    let res = Hkdf::<Sha256>::new(Some(key_id), ikm.as_slice()).expand(INFO, key.expose_mut());
    ikm.as_mut_slice().zeroize();
    res.map_err(|_| Error::Internal)?;
    Ok(key)
}

/// `ciphertext || tag`.
pub(crate) fn seal(
    key: &SecretBytes<32>,
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut buf = Vec::with_capacity(plaintext.len() + TAG_LEN);
    buf.extend_from_slice(plaintext);
    let tag = cipher
        .encrypt_inout_detached(&Nonce::from(*nonce), aad, buf.as_mut_slice().into())
        .map_err(|_| Error::Internal)?;
    buf.extend_from_slice(tag.as_slice());
    Ok(buf)
}

/// Opens `ciphertext || tag`; the plaintext comes out only after the tag verified.
pub(crate) fn open(
    key: &SecretBytes<32>,
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretVec, ()> {
    let ct_len = sealed.len().checked_sub(TAG_LEN).ok_or(())?;
    let (body, tag) = sealed.split_at(ct_len);
    let tag = Tag::try_from(tag).map_err(|_| ())?;
    let cipher = Aes256Gcm::new(key.expose().into());
    let mut buf = SecretVec::from_slice(body);
    let res =
        cipher.decrypt_inout_detached(&Nonce::from(*nonce), aad, buf.expose_mut().into(), &tag);
    res.map_err(|_| ())?;
    Ok(buf)
}
