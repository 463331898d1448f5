//! AES-256-GCM (NIST SP 800-38D; 96-bit nonce, 128-bit tag) as this crate uses it: the
//! family's one implementation, `wallet_types::aead`, with this crate's errors. Plaintext comes
//! out only in a zeroizing type and only after the tag verified.

use alloc::vec::Vec;

use wallet_types::{SecretBytes, SecretVec};

use crate::error::PssError;

/// Tag length.
pub(crate) const TAG_LEN: usize = wallet_types::aead::TAG_LEN;

/// Returns `ciphertext || tag`.
pub(crate) fn seal(
    key: &SecretBytes<32>,
    nonce: &[u8; 12],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, PssError> {
    wallet_types::aead::seal(key, nonce, aad, plaintext).map_err(|_| PssError::Internal)
}

/// Opens `ciphertext || tag`; every failure is [`PssError::Decrypt`].
pub(crate) fn open(
    key: &SecretBytes<32>,
    nonce: &[u8; 12],
    aad: &[u8],
    sealed: &[u8],
) -> Result<SecretVec, PssError> {
    wallet_types::aead::open(key, nonce, aad, sealed).map_err(|_| PssError::Decrypt)
}
