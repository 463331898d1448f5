//! Sealed state: how every secret of this package is handed to JavaScript.
//!
//! A sealed object is
//!
//! ```text
//! "WWS1" || kind (1 byte) || nonce (12 bytes) || AES-256-GCM(key, nonce, aad, plaintext) (ct || 16-byte tag)
//! key = HKDF-SHA256(ikm = wrapping secret (32 bytes), salt = empty,
//!                   info = "wallet-wasm/v1/seal" || kind)
//! aad = "WWS1" || kind
//! ```
//!
//! The wrapping secret is the caller's: the passkey's PRF output (a second PRF salt for the state
//! keeps it apart from the envelope's KEK), a key the server releases after authentication, or
//! one the platform keystore holds. The kind byte is bound into the key and the AAD, so a sealed
//! ECDSA state never opens as a FROST key, a Shamir share or anything else.
//!
//! **Rollback.** JavaScript stores the sealed bytes, and nothing in them stops it from handing
//! back an older copy. One-time material (ECDSA presignatures, FROST nonces) lives inside the
//! sealed state, so the storage rule of the crates applies to the caller: store the new state
//! durably **before** releasing the output a call returned with it (a partial signature, a
//! signature share), and never offer an old state again.

use rand_core::CryptoRng;
use wallet_types::{SecretBytes, SecretVec, aead};

use crate::error::{Result, WasmError, array};

const MAGIC: &[u8; 4] = b"WWS1";
const HEADER: usize = 4 + 1 + aead::NONCE_LEN;
/// Upper bound on a sealed object (an ECDSA device state with a few dozen presignatures and an
/// in-flight machine stays far below it).
pub const MAX_SEALED: usize = 8 << 20;

/// What a sealed object holds (its kind byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum SealedKind {
    /// An ECDSA device state ([`crate::ecdsa`]).
    EcdsaDevice = 1,
    /// A FROST signer state ([`crate::frost`]).
    FrostSigner = 2,
    /// A Shamir wallet share ([`crate::sss`]).
    ShamirShare = 3,
    /// An exported BIP-39 mnemonic ([`crate::sss::export_mnemonic`]).
    Mnemonic = 4,
}

/// The caller's wrapping secret (32 bytes), in a zeroizing type.
pub struct WrapSecret(SecretBytes<32>);

impl WrapSecret {
    /// From the caller's bytes (exactly 32).
    pub fn from_slice(bytes: &[u8]) -> Result<Self> {
        SecretBytes::<32>::from_slice(bytes)
            .map(Self)
            .ok_or_else(|| {
                WasmError::new(
                    "input",
                    format!("wrapping secret: {} bytes, 32 expected", bytes.len()),
                )
            })
    }

    fn key(&self, kind: SealedKind) -> Result<SecretBytes<32>> {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(None, self.0.expose());
        let mut key = SecretBytes::<32>::new([0; 32]);
        hk.expand_multi_info(&[b"wallet-wasm/v1/seal", &[kind as u8]], key.expose_mut())
            .map_err(|_| WasmError::new("state", "key derivation failed"))?;
        Ok(key)
    }
}

impl core::fmt::Debug for WrapSecret {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("WrapSecret(<redacted>)")
    }
}

fn aad(kind: SealedKind) -> [u8; 5] {
    let [a, b, c, d] = *MAGIC;
    [a, b, c, d, kind as u8]
}

/// Seals `plaintext` as an object of `kind`.
pub fn seal<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    kind: SealedKind,
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Vec<u8>> {
    let mut nonce = [0u8; aead::NONCE_LEN];
    rng.fill_bytes(&mut nonce);
    let key = wrap.key(kind)?;
    let ct = aead::seal(&key, &nonce, &aad(kind), plaintext)
        .map_err(|_| WasmError::new("state", "state too large to seal"))?;
    let mut out = Vec::with_capacity(HEADER + ct.len());
    out.extend_from_slice(&aad(kind));
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens a sealed object of `kind`; one opaque `"unwrap"` error for a wrong secret, a wrong
/// kind or modified bytes.
pub fn open(wrap: &WrapSecret, kind: SealedKind, sealed: &[u8]) -> Result<SecretVec> {
    if sealed.len() > MAX_SEALED {
        return Err(WasmError::new("input", "sealed state too large"));
    }
    let unwrap = || WasmError::new("unwrap", "the sealed state does not open with this secret");
    let (head, body) = sealed.split_at_checked(HEADER).ok_or_else(unwrap)?;
    let (tag, nonce) = head.split_at(5);
    if tag != aad(kind) {
        return Err(unwrap());
    }
    let nonce: [u8; aead::NONCE_LEN] = array("nonce", nonce)?;
    let key = wrap.key(kind)?;
    aead::open(&key, &nonce, &aad(kind), body).map_err(|_| unwrap())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    #[test]
    fn round_trip_and_every_refusal() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let wrap = WrapSecret::from_slice(&[7; 32]).unwrap();
        let sealed = seal(&wrap, SealedKind::FrostSigner, b"state", &mut rng).unwrap();
        assert_eq!(
            open(&wrap, SealedKind::FrostSigner, &sealed)
                .unwrap()
                .expose(),
            b"state"
        );
        // Another kind, another secret, a flipped bit, a truncation: the same opaque error.
        let other = WrapSecret::from_slice(&[8; 32]).unwrap();
        assert_eq!(
            open(&wrap, SealedKind::EcdsaDevice, &sealed)
                .unwrap_err()
                .kind(),
            "unwrap"
        );
        assert_eq!(
            open(&other, SealedKind::FrostSigner, &sealed)
                .unwrap_err()
                .kind(),
            "unwrap"
        );
        let mut bad = sealed.clone();
        bad[20] ^= 1;
        assert_eq!(
            open(&wrap, SealedKind::FrostSigner, &bad)
                .unwrap_err()
                .kind(),
            "unwrap"
        );
        assert_eq!(
            open(&wrap, SealedKind::FrostSigner, &sealed[..10])
                .unwrap_err()
                .kind(),
            "unwrap"
        );
        // The key is bound to the kind: re-tagging the header does not help.
        let mut retagged = sealed;
        retagged[4] = SealedKind::EcdsaDevice as u8;
        assert_eq!(
            open(&wrap, SealedKind::EcdsaDevice, &retagged)
                .unwrap_err()
                .kind(),
            "unwrap"
        );
        assert_eq!(
            WrapSecret::from_slice(&[1; 31]).unwrap_err().kind(),
            "input"
        );
    }
}
