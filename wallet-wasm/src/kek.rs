//! Passkey envelopes (wallet-kek) with the WebAuthn PRF output passed in.
//!
//! The page asks WebAuthn for the PRF at the slot's salt (`extensions.prf.eval.first` = the salt
//! of [`new_prf_salt`] or of [`prf_requests`]) and hands the 32-byte output to these functions;
//! the wallet key never leaves Rust: an envelope is public ciphertext, and only public keys and
//! signatures come out.

use rand_core::CryptoRng;
use wallet_kek::{Credential, Envelope, NewSlot, PrfOutput, PrfSalt, SlotId, WalletId};
use wallet_types::WireObject;

use crate::error::{Result, WasmError, array};

/// Which key an envelope holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyCurve {
    /// secp256k1 (Ethereum, Bitcoin): 33-byte compressed public key, 65-byte signatures.
    Secp256k1,
    /// Ed25519 (Solana and others): 32-byte public key, 64-byte signatures.
    Ed25519,
}

impl KeyCurve {
    /// `"secp256k1"` or `"ed25519"`.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "secp256k1" => Ok(Self::Secp256k1),
            "ed25519" => Ok(Self::Ed25519),
            other => Err(WasmError::new("input", format!("unknown curve {other:?}"))),
        }
    }
}

fn prf_output(bytes: &[u8]) -> Result<PrfOutput> {
    PrfOutput::from_slice(bytes).ok_or_else(|| {
        WasmError::new(
            "input",
            format!("PRF output: {} bytes, 32 expected", bytes.len()),
        )
    })
}

fn decode(envelope: &[u8]) -> Result<Envelope> {
    Ok(Envelope::from_bytes(envelope).map_err(wallet_kek::KekError::from)?)
}

/// A fresh PRF salt (public) for a new passkey slot: evaluate the PRF at it, then call
/// [`generate`] or [`add_passkey`] with the same salt.
pub fn new_prf_salt<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; 32] {
    PrfSalt::random(rng).0
}

/// A new wallet key straight into a new envelope with one passkey slot. Returns the envelope
/// and the public key.
pub fn generate<R: CryptoRng + ?Sized>(
    curve: KeyCurve,
    rp_id: &str,
    credential_id: &[u8],
    salt: &[u8],
    prf: &[u8],
    rng: &mut R,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let output = prf_output(prf)?;
    let slot = NewSlot::Prf {
        credential_id,
        rp_id,
        salt: PrfSalt(array("PRF salt", salt)?),
        output: &output,
    };
    let wallet_id = WalletId::random(rng);
    let (env, public) = match curve {
        KeyCurve::Secp256k1 => {
            let (e, p) = Envelope::generate_secp256k1(wallet_id, &slot, rng)?;
            (e, p.to_vec())
        }
        KeyCurve::Ed25519 => {
            let (e, p) = Envelope::generate_ed25519(wallet_id, &slot, rng)?;
            (e, p.to_vec())
        }
    };
    Ok((env.to_bytes(), public))
}

/// `(credential id, PRF salt)` of every passkey slot: what the page puts into
/// `allowCredentials` and `extensions.prf.evalByCredential`.
pub fn prf_requests(envelope: &[u8]) -> Result<Vec<(Vec<u8>, [u8; 32])>> {
    Ok(decode(envelope)?
        .prf_requests()
        .map(|(id, salt)| (id.to_vec(), salt.0))
        .collect())
}

/// Opens the envelope with a passkey and returns the public key (a check that this passkey
/// opens it; the key stays inside).
pub fn open(envelope: &[u8], credential_id: &[u8], prf: &[u8]) -> Result<Vec<u8>> {
    let output = prf_output(prf)?;
    let unlocked = decode(envelope)?.open(&Credential::Prf {
        credential_id,
        output: &output,
    })?;
    unlocked
        .payload()
        .public_key()
        .ok_or_else(|| WasmError::new("kek", "the envelope holds no signing key"))
}

/// Adds a passkey slot: the envelope is opened with an existing passkey (`credential_id`,
/// `prf`), the new one is given by its credential id, salt and PRF output. Returns the new
/// envelope and the new slot's id.
#[allow(clippy::too_many_arguments)]
pub fn add_passkey<R: CryptoRng + ?Sized>(
    envelope: &[u8],
    credential_id: &[u8],
    prf: &[u8],
    rp_id: &str,
    new_credential_id: &[u8],
    new_salt: &[u8],
    new_prf: &[u8],
    rng: &mut R,
) -> Result<(Vec<u8>, u16)> {
    let mut env = decode(envelope)?;
    let output = prf_output(prf)?;
    let new_output = prf_output(new_prf)?;
    let unlocked = env.open(&Credential::Prf {
        credential_id,
        output: &output,
    })?;
    let id = env.add_slot(
        &unlocked,
        &NewSlot::Prf {
            credential_id: new_credential_id,
            rp_id,
            salt: PrfSalt(array("PRF salt", new_salt)?),
            output: &new_output,
        },
        rng,
    )?;
    Ok((env.to_bytes(), id.get()))
}

/// The slot id of a passkey's slot, if it has one.
pub fn slot_of(envelope: &[u8], credential_id: &[u8]) -> Result<Option<u16>> {
    Ok(decode(envelope)?
        .prf_slot(credential_id)
        .map(|s| s.id().get()))
}

/// Removes slot `slot` (opened with the passkey `credential_id`); refuses the last slot.
pub fn remove_slot<R: CryptoRng + ?Sized>(
    envelope: &[u8],
    credential_id: &[u8],
    prf: &[u8],
    slot: u16,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let mut env = decode(envelope)?;
    let output = prf_output(prf)?;
    let unlocked = env.open(&Credential::Prf {
        credential_id,
        output: &output,
    })?;
    let id = SlotId::new(slot).ok_or_else(|| WasmError::new("input", "slot id zero"))?;
    env.remove_slot(&unlocked, id, rng)?;
    Ok(env.to_bytes())
}

/// Opens, signs and zeroizes. secp256k1: `prehash` is the 32-byte message hash and the result
/// is `r || s || recovery_id` (65 bytes, low S); Ed25519: `message` is signed as is (RFC 8032),
/// 64 bytes.
pub fn sign(envelope: &[u8], credential_id: &[u8], prf: &[u8], message: &[u8]) -> Result<Vec<u8>> {
    let env = decode(envelope)?;
    let output = prf_output(prf)?;
    let cred = Credential::Prf {
        credential_id,
        output: &output,
    };
    match env.payload_kind() {
        wallet_kek::PayloadKind::Secp256k1 => {
            let s = env.sign_secp256k1(&cred, &array("message hash", message)?)?;
            let mut out = s.signature.to_vec();
            out.push(s.recovery_id);
            Ok(out)
        }
        _ => Ok(env.sign_ed25519(&cred, message)?.to_bytes().to_vec()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    use rand_core::SeedableRng;

    #[test]
    fn two_passkeys_sign_remove_and_refuse() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
        let (cred_a, prf_a) = (b"cred-a".as_slice(), [1u8; 32]);
        let (cred_b, prf_b) = (b"cred-b".as_slice(), [2u8; 32]);
        let salt_a = new_prf_salt(&mut rng);
        let (env, public) = generate(
            KeyCurve::Secp256k1,
            "wallet.example",
            cred_a,
            &salt_a,
            &prf_a,
            &mut rng,
        )
        .unwrap();
        assert_eq!(prf_requests(&env).unwrap(), vec![(cred_a.to_vec(), salt_a)]);
        let salt_b = new_prf_salt(&mut rng);
        let (env, slot_b) = add_passkey(
            &env,
            cred_a,
            &prf_a,
            "wallet.example",
            cred_b,
            &salt_b,
            &prf_b,
            &mut rng,
        )
        .unwrap();
        assert_eq!(slot_of(&env, cred_b).unwrap(), Some(slot_b));
        let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&public).unwrap();
        for (cred, prf) in [(cred_a, &prf_a), (cred_b, &prf_b)] {
            assert_eq!(open(&env, cred, prf).unwrap(), public);
            let sig = sign(&env, cred, prf, &[9; 32]).unwrap();
            let s = k256::ecdsa::Signature::from_slice(&sig[..64]).unwrap();
            vk.verify_prehash(&[9; 32], &s).unwrap();
        }
        // An unknown PRF output (an unregistered passkey) is refused, opaquely.
        assert_eq!(open(&env, cred_a, &[3; 32]).unwrap_err().kind(), "unwrap");
        assert_eq!(
            sign(&env, b"other", &prf_a, &[9; 32]).unwrap_err().kind(),
            "unwrap"
        );
        // A's slot removed (opened with B): A no longer opens, B still does.
        let slot_a = slot_of(&env, cred_a).unwrap().unwrap();
        let env = remove_slot(&env, cred_b, &prf_b, slot_a, &mut rng).unwrap();
        assert_eq!(open(&env, cred_a, &prf_a).unwrap_err().kind(), "unwrap");
        assert_eq!(open(&env, cred_b, &prf_b).unwrap(), public);
        assert_eq!(
            remove_slot(&env, cred_b, &prf_b, slot_b, &mut rng)
                .unwrap_err()
                .kind(),
            "kek"
        );
        // Bad lengths are input errors.
        assert_eq!(open(&env, cred_b, &[0; 31]).unwrap_err().kind(), "input");
        assert_eq!(open(&env[1..], cred_b, &prf_b).unwrap_err().kind(), "input");
    }

    #[test]
    fn ed25519_envelope_signs_the_message() {
        use ed25519_dalek::Verifier;
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let salt = new_prf_salt(&mut rng);
        let (env, public) = generate(
            KeyCurve::Ed25519,
            "wallet.example",
            b"c",
            &salt,
            &[5; 32],
            &mut rng,
        )
        .unwrap();
        let sig = sign(&env, b"c", &[5; 32], b"hello").unwrap();
        let vk = ed25519_dalek::VerifyingKey::from_bytes(&public.try_into().unwrap()).unwrap();
        vk.verify(
            b"hello",
            &ed25519_dalek::Signature::from_slice(&sig).unwrap(),
        )
        .unwrap();
    }
}
