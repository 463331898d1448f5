//! WebAuthn PRF output → key-encryption key.
//!
//! The WebAuthn Level 3 `prf` extension evaluates, inside the authenticator,
//! `HMAC-SHA256(credential secret, SHA-256("WebAuthn PRF" || 0x00 || salt))` (CTAP 2.1
//! `hmac-secret`) and hands the 32-byte result to the page. This crate treats that output as
//! input keying material and derives the slot's key-encryption key with HKDF-SHA256, binding a
//! fixed label and version, the credential id, the relying-party id and the wallet id
//! (`SPEC.md` §3.1):
//!
//! ```text
//! KEK  = HKDF-SHA256(salt = none, ikm = prf_output, info, L = 32)
//! info = "wallet-kek/prf-kek" || u16be(1) || u16be(len(cred_id)) || cred_id
//!        || u16be(len(rp_id)) || rp_id || wallet_id[32]
//! ```

use alloc::vec::Vec;

use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use wallet_types::SecretBytes;

use crate::crypto::hkdf_sha256;
use crate::error::KekError;

/// Length of a WebAuthn PRF output.
pub const PRF_OUTPUT_LEN: usize = 32;
/// Length of the PRF salt this crate asks the authenticator to evaluate.
pub const PRF_SALT_LEN: usize = 32;
/// Longest credential id accepted (WebAuthn: at most 1023 bytes).
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;
/// Longest relying-party id accepted (a domain name: at most 253 characters; 255 bytes here).
pub const MAX_RP_ID_LEN: usize = 255;

/// HKDF label of passkey KEKs.
pub const PRF_KEK_LABEL: &[u8] = b"wallet-kek/prf-kek";
/// Version of the KEK derivations (bound into every HKDF info).
pub const KDF_VERSION: u16 = 1;

/// The 32-byte output of a passkey's WebAuthn PRF evaluation (secret: it opens the wallet).
pub type PrfOutput = SecretBytes<PRF_OUTPUT_LEN>;

/// A key-encryption key (secret).
pub type Kek = SecretBytes<32>;

/// The public PRF input ("salt") of a passkey slot: what the client puts in
/// `extensions.prf.eval.first` (or `evalByCredential[cred_id].first`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrfSalt(pub [u8; PRF_SALT_LEN]);

impl PrfSalt {
    /// A fresh random salt (one per slot; a new one for every salt rotation).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut b = [0u8; PRF_SALT_LEN];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// The salt's bytes (the WebAuthn `prf` extension input).
    pub fn as_bytes(&self) -> &[u8; PRF_SALT_LEN] {
        &self.0
    }

    /// The salt as CTAP 2.1 `hmac-secret` sees it: `SHA-256("WebAuthn PRF" || 0x00 || salt)`.
    /// Only needed by clients that talk CTAP to the authenticator directly; browsers do this
    /// themselves.
    pub fn hmac_secret_salt(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(b"WebAuthn PRF");
        h.update([0u8]);
        h.update(self.0);
        h.finalize().into()
    }
}

/// Identifies one wallet (one envelope); bound into every KEK and every AAD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WalletId(pub [u8; 32]);

impl WalletId {
    /// A fresh random wallet id.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut b = [0u8; 32];
        rng.fill_bytes(&mut b);
        Self(b)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Checks a credential id's length (1..=1023 bytes).
pub(crate) fn check_credential_id(credential_id: &[u8]) -> Result<(), KekError> {
    if credential_id.is_empty() || credential_id.len() > MAX_CREDENTIAL_ID_LEN {
        return Err(KekError::InvalidInput);
    }
    Ok(())
}

/// Checks a relying-party id (1..=255 bytes).
pub(crate) fn check_rp_id(rp_id: &str) -> Result<(), KekError> {
    if rp_id.is_empty() || rp_id.len() > MAX_RP_ID_LEN {
        return Err(KekError::InvalidInput);
    }
    Ok(())
}

/// Appends `u16be(len) || bytes` (lengths are checked by the callers to fit).
pub(crate) fn push_lp16(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// The HKDF `info` of a passkey KEK (`SPEC.md` §3.1).
pub fn prf_kek_info(
    credential_id: &[u8],
    rp_id: &str,
    wallet_id: &WalletId,
) -> Result<Vec<u8>, KekError> {
    check_credential_id(credential_id)?;
    check_rp_id(rp_id)?;
    let mut info = Vec::with_capacity(
        PRF_KEK_LABEL.len() + 2 + 2 + credential_id.len() + 2 + rp_id.len() + 32,
    );
    info.extend_from_slice(PRF_KEK_LABEL);
    info.extend_from_slice(&KDF_VERSION.to_be_bytes());
    push_lp16(&mut info, credential_id);
    push_lp16(&mut info, rp_id.as_bytes());
    info.extend_from_slice(wallet_id.as_bytes());
    Ok(info)
}

/// Derives the key-encryption key of a passkey slot from the passkey's PRF output.
///
/// ```
/// use wallet_kek::{PrfOutput, WalletId, derive_prf_kek};
/// let prf = PrfOutput::new([7u8; 32]);
/// let wallet = WalletId([1u8; 32]);
/// let a = derive_prf_kek(&prf, b"cred-1", "wallet.example", &wallet).unwrap();
/// let b = derive_prf_kek(&prf, b"cred-2", "wallet.example", &wallet).unwrap();
/// assert_ne!(a.expose(), b.expose()); // bound to the credential id
/// ```
pub fn derive_prf_kek(
    prf_output: &PrfOutput,
    credential_id: &[u8],
    rp_id: &str,
    wallet_id: &WalletId,
) -> Result<Kek, KekError> {
    let info = prf_kek_info(credential_id, rp_id, wallet_id)?;
    let mut kek = Kek::new([0u8; 32]);
    hkdf_sha256(None, prf_output.expose(), &info, kek.expose_mut())?;
    Ok(kek)
}
