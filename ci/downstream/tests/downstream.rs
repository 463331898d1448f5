//! The downstream crate's calls produce signatures that verify with the re-exported k256.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use wallet_downstream_check::{ecdsa_sign, passkey_sign};
use wallet_tss::k256::ecdsa::VerifyingKey;
use wallet_tss::k256::ecdsa::signature::hazmat::PrehashVerifier;

#[test]
fn ecdsa_signature_verifies_and_recovers() {
    let hash = [0x33; 32];
    let (vk, sig, recid, info_hex) = ecdsa_sign(&hash).unwrap();
    vk.verify_prehash(&hash, &sig).unwrap();
    assert_eq!(
        VerifyingKey::recover_from_prehash(&hash, &sig, recid).unwrap(),
        vk
    );
    // The serde form of the presignature info is its wire encoding in hex.
    let info: wallet_tss::ecdsa::PresignatureInfo =
        serde_json::from_str(&format!("\"{info_hex}\"")).unwrap();
    assert_eq!(info.verifying_key().unwrap(), vk);
}

#[test]
fn passkey_payload_signs_through_the_trait() {
    let payload = wallet_kek::Payload::secp256k1(wallet_types::SecretBytes::new([5; 32])).unwrap();
    let hash = [0x44; 32];
    let (sig, recid) = passkey_sign(&payload, &hash).unwrap();
    let vk = VerifyingKey::recover_from_prehash(&hash, &sig, recid).unwrap();
    assert_eq!(vk.to_sec1_bytes().to_vec(), payload.public_key().unwrap());
}
