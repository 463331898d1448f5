//! Sealing presignatures at rest: AES-256-GCM (NIST SP 800-38D, `wallet_types::aead`) under a
//! key derived from the current key share with HKDF-SHA256 (RFC 5869). The key changes with
//! every refresh or reshare, so that a sealed presignature of an earlier epoch — wherever a copy
//! of it was kept — can no longer be opened once the old share is gone (crypto-erasure).

use alloc::vec::Vec;

use hkdf::Hkdf;
use sha2::Sha256;
use wallet_types::{Error, Secp256k1, SecretBytes, SecretScalar, SecretVec};
use zeroize::Zeroize;

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

/// `ciphertext || tag` (AES-256-GCM, `wallet_types::aead`).
pub(crate) fn seal(
    key: &SecretBytes<32>,
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    wallet_types::aead::seal(key, nonce, aad, plaintext).map_err(|_| Error::Internal)
}

/// Opens `ciphertext || tag`; the plaintext comes out only after the tag verified.
pub(crate) fn open(
    key: &SecretBytes<32>,
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretVec, wallet_types::aead::AeadError> {
    wallet_types::aead::open(key, nonce, aad, sealed)
}
