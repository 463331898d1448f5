//! Shared test helpers: a software passkey that computes the WebAuthn PRF like an
//! authenticator does (CTAP 2.1 hmac-secret over the WebAuthn-transformed salt).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use wallet_kek::{PrfOutput, PrfSalt};

/// A simulated passkey: a credential id and the authenticator's per-credential secret.
pub struct SoftPasskey {
    pub credential_id: Vec<u8>,
    secret: [u8; 32],
}

impl SoftPasskey {
    pub fn new(credential_id: &[u8], secret: [u8; 32]) -> Self {
        Self {
            credential_id: credential_id.to_vec(),
            secret,
        }
    }

    /// `HMAC-SHA256(secret, SHA-256("WebAuthn PRF" || 0x00 || salt))`.
    pub fn prf(&self, salt: &PrfSalt) -> PrfOutput {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).unwrap();
        mac.update(&salt.hmac_secret_salt());
        PrfOutput::new(mac.finalize().into_bytes().into())
    }
}
