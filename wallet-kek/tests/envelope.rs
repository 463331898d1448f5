//! Envelope behaviour: round trips per slot and payload kind, tamper resistance (every single
//! bit flip), slots moved between envelopes, slot management, signing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::SoftPasskey;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_kek::{
    Argon2Params, Credential, Envelope, KekError, NewSlot, Payload, PayloadKind, PrfOutput,
    PrfSalt, SlotId, WalletId,
};
use wallet_types::{DecodeError, SecretBytes, SecretVec, WireObject};

const RP: &str = "wallet.example";

fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

fn passkey(n: u8) -> SoftPasskey {
    SoftPasskey::new(&[b'c', b'r', b'e', b'd', n], [n; 32])
}

/// An envelope with one passkey slot (credential `pk`) around `payload`.
fn prf_envelope(pk: &SoftPasskey, payload: &Payload, seed: u64) -> Envelope {
    let mut r = rng(seed);
    let wallet = WalletId::random(&mut r);
    let salt = PrfSalt::random(&mut r);
    let out = pk.prf(&salt);
    let first = NewSlot::Prf {
        credential_id: &pk.credential_id,
        rp_id: RP,
        salt,
        output: &out,
    };
    Envelope::seal(wallet, payload, &first, &mut r).unwrap()
}

fn prf_output_for(env: &Envelope, pk: &SoftPasskey) -> PrfOutput {
    pk.prf(env.prf_slot(&pk.credential_id).unwrap().prf_salt().unwrap())
}

fn open_with(env: &Envelope, pk: &SoftPasskey) -> Result<wallet_kek::Unlocked, KekError> {
    let out = prf_output_for(env, pk);
    env.open(&Credential::Prf {
        credential_id: &pk.credential_id,
        output: &out,
    })
}

fn payloads() -> Vec<Payload> {
    vec![
        Payload::secp256k1(SecretBytes::new([0x11; 32])).unwrap(),
        Payload::ed25519_seed(SecretBytes::new([0x22; 32])),
        Payload::bip39_entropy(SecretVec::new(vec![0x33; 16])).unwrap(),
        Payload::bip39_entropy(SecretVec::new(vec![0x34; 32])).unwrap(),
        Payload::opaque(0x0201, SecretVec::new(vec![0x44; 300])).unwrap(),
    ]
}

#[test]
fn prf_round_trip_every_payload_kind() {
    let pk = passkey(1);
    for (i, p) in payloads().iter().enumerate() {
        let env = prf_envelope(&pk, p, i as u64);
        let bytes = env.to_bytes();
        let decoded = Envelope::from_bytes(&bytes).unwrap();
        assert_eq!(decoded, env);
        assert_eq!(decoded.to_bytes(), bytes, "one canonical encoding");
        assert_eq!(decoded.payload_kind(), p.kind());
        let unlocked = open_with(&decoded, &pk).unwrap();
        assert_eq!(unlocked.payload().expose(), p.expose());
        assert_eq!(unlocked.payload().kind(), p.kind());
    }
}

#[test]
fn payload_constructors_validate() {
    // secp256k1: zero and ≥ n are refused.
    assert!(Payload::secp256k1(SecretBytes::new([0; 32])).is_err());
    assert!(Payload::secp256k1(SecretBytes::new([0xff; 32])).is_err());
    for len in [0, 12, 15, 17, 33, 36] {
        assert!(Payload::bip39_entropy(SecretVec::new(vec![1; len])).is_err());
    }
    assert!(Payload::opaque(1, SecretVec::new(vec![])).is_err());
    assert!(Payload::opaque(1, SecretVec::new(vec![1; wallet_kek::MAX_OPAQUE_LEN + 1])).is_err());
    assert!(Payload::opaque(1, SecretVec::new(vec![1; wallet_kek::MAX_OPAQUE_LEN])).is_ok());
}

#[test]
fn wrong_prf_output_or_unknown_credential_is_one_opaque_error() {
    let pk = passkey(1);
    let env = prf_envelope(&pk, &payloads()[0], 1);
    let wrong = PrfOutput::new([9; 32]);
    let e1 = env
        .open(&Credential::Prf {
            credential_id: &pk.credential_id,
            output: &wrong,
        })
        .unwrap_err();
    let right = prf_output_for(&env, &pk);
    let e2 = env
        .open(&Credential::Prf {
            credential_id: b"someone else",
            output: &right,
        })
        .unwrap_err();
    let e3 = env.open(&Credential::Password("hunter2")).unwrap_err();
    let e4 = env
        .open(&Credential::RecoveryAnswer {
            slot: SlotId::new(1).unwrap(),
            answer: "rex",
        })
        .unwrap_err();
    for e in [e1, e2, e3, e4] {
        assert_eq!(e, KekError::Unwrap);
    }
}

/// Flips every bit of `bytes` in turn; the result must never open with `pk`.
fn assert_every_bit_flip_fails(bytes: &[u8], pk: &SoftPasskey, salt: &PrfSalt) {
    // The PRF output the authenticator gives for the *stored* salt: an attacker who flips a
    // salt bit makes the real authenticator answer differently, but we keep the output fixed so
    // that only the envelope's own integrity checks stand between the flip and a plaintext.
    let out = pk.prf(salt);
    let cred = Credential::Prf {
        credential_id: &pk.credential_id,
        output: &out,
    };
    let mut decode_failures = 0;
    let mut unwrap_failures = 0;
    for i in 0..bytes.len() * 8 {
        let mut b = bytes.to_vec();
        b[i / 8] ^= 1 << (i % 8);
        match Envelope::from_bytes(&b) {
            Err(_) => decode_failures += 1,
            Ok(env) => {
                assert_eq!(env.open(&cred).unwrap_err(), KekError::Unwrap, "bit {i}");
                unwrap_failures += 1;
            }
        }
    }
    assert_eq!(decode_failures + unwrap_failures, bytes.len() * 8);
    // Both defences are exercised.
    assert!(decode_failures > 0 && unwrap_failures > 0);
}

#[test]
fn every_single_bit_flip_fails_to_open() {
    let pk = passkey(1);
    for (i, p) in payloads().iter().take(3).enumerate() {
        let env = prf_envelope(&pk, p, 100 + i as u64);
        let salt = *env.prf_slot(&pk.credential_id).unwrap().prf_salt().unwrap();
        let bytes = env.to_bytes();
        assert!(open_with(&Envelope::from_bytes(&bytes).unwrap(), &pk).is_ok());
        assert_every_bit_flip_fails(&bytes, &pk, &salt);
    }
}

#[test]
fn every_single_bit_flip_fails_with_two_slots() {
    let (a, b) = (passkey(1), passkey(2));
    let mut env = prf_envelope(&a, &payloads()[1], 7);
    let mut r = rng(8);
    let unlocked = open_with(&env, &a).unwrap();
    let salt_b = PrfSalt::random(&mut r);
    let out_b = b.prf(&salt_b);
    env.add_slot(
        &unlocked,
        &NewSlot::Prf {
            credential_id: &b.credential_id,
            rp_id: "other.example",
            salt: salt_b,
            output: &out_b,
        },
        &mut r,
    )
    .unwrap();
    let bytes = env.to_bytes();
    // Open through the second slot, so flips in the first slot's bytes are checked too.
    assert_every_bit_flip_fails(&bytes, &b, &salt_b);
}

#[test]
fn slot_moved_to_another_envelope_fails() {
    let pk = passkey(1);
    let p = &payloads()[0];
    let env_a = prf_envelope(&pk, p, 1);
    let env_b = prf_envelope(&pk, p, 2);
    let (a, b) = (env_a.to_bytes(), env_b.to_bytes());
    // With one slot each and equal-length fields, the slot is the same-length tail.
    let prefix = 4 + 32 + 3 + 12 + 4 + 48 + 2;
    assert_eq!(a.len(), b.len());
    let mut moved = b[..prefix].to_vec();
    moved.extend_from_slice(&a[prefix..]);
    let env = Envelope::from_bytes(&moved).unwrap();
    // The passkey answers for the moved slot's salt; still nothing opens.
    let out = prf_output_for(&env, &pk);
    let cred = Credential::Prf {
        credential_id: &pk.credential_id,
        output: &out,
    };
    assert_eq!(env.open(&cred).unwrap_err(), KekError::Unwrap);
}

#[test]
fn slot_of_an_older_dek_in_the_same_wallet_fails() {
    // Same wallet id, same slot id and description (a re-keyed copy): the old slot unwraps a
    // DEK, but not the one of the new payload; nothing partial comes out.
    let pk = passkey(1);
    let env = prf_envelope(&pk, &payloads()[0], 1);
    let out = prf_output_for(&env, &pk);
    let cred = Credential::Prf {
        credential_id: &pk.credential_id,
        output: &out,
    };
    let rekeyed = env.rekey(&[cred], &mut rng(5)).unwrap();
    assert!(rekeyed.open(&cred).is_ok());
    let (old, new) = (env.to_bytes(), rekeyed.to_bytes());
    let prefix = 4 + 32 + 3 + 12 + 4 + 48 + 2;
    let mut mixed = new[..prefix].to_vec();
    mixed.extend_from_slice(&old[prefix..]);
    let mixed = Envelope::from_bytes(&mixed).unwrap();
    assert_eq!(mixed.open(&cred).unwrap_err(), KekError::Unwrap);
}

#[test]
fn slot_renumbered_fails() {
    let (a, b) = (passkey(1), passkey(2));
    let mut env = prf_envelope(&a, &payloads()[0], 3);
    let mut r = rng(4);
    let u = open_with(&env, &a).unwrap();
    let salt = PrfSalt::random(&mut r);
    let out_b = b.prf(&salt);
    let id = env
        .add_slot(
            &u,
            &NewSlot::Prf {
                credential_id: &b.credential_id,
                rp_id: RP,
                salt,
                output: &out_b,
            },
            &mut r,
        )
        .unwrap();
    assert_eq!(id.get(), 2);
    let bytes = env.to_bytes();
    // The second slot's id is the u16 right after the first slot; set it to 3.
    let first_slot_len = 2 + 1 + 4 + a.credential_id.len() + 4 + RP.len() + 32 + 12 + 48;
    let at = 4 + 32 + 3 + 12 + 4 + 48 + 2 + first_slot_len;
    let mut moved = bytes.clone();
    assert_eq!(&moved[at..at + 2], &[0, 2]);
    moved[at + 1] = 3;
    let env2 = Envelope::from_bytes(&moved).unwrap();
    let cred = Credential::Prf {
        credential_id: &b.credential_id,
        output: &out_b,
    };
    assert!(env.open(&cred).is_ok());
    assert_eq!(env2.open(&cred).unwrap_err(), KekError::Unwrap);
}

#[test]
fn add_remove_and_last_slot() {
    let (a, b) = (passkey(1), passkey(2));
    let mut env = prf_envelope(&a, &payloads()[0], 10);
    let mut r = rng(11);
    let u = open_with(&env, &a).unwrap();
    let salt = PrfSalt::random(&mut r);
    let out_b = b.prf(&salt);
    let new_b = NewSlot::Prf {
        credential_id: &b.credential_id,
        rp_id: RP,
        salt,
        output: &out_b,
    };
    let id_b = env.add_slot(&u, &new_b, &mut r).unwrap();
    // The same credential twice is refused.
    assert_eq!(
        env.add_slot(&u, &new_b, &mut r).unwrap_err(),
        KekError::DuplicateCredential
    );
    assert!(open_with(&env, &b).is_ok());
    let id_a = env.prf_slot(&a.credential_id).unwrap().id();
    env.remove_slot(&u, id_a, &mut r).unwrap();
    assert_eq!(open_with(&env, &b).unwrap().slot(), id_b);
    // A's output for its old salt no longer opens anything.
    let out_a = a.prf(&PrfSalt([0; 32]));
    assert_eq!(
        env.open(&Credential::Prf {
            credential_id: &a.credential_id,
            output: &out_a
        })
        .unwrap_err(),
        KekError::Unwrap
    );
    assert_eq!(
        env.remove_slot(&u, id_b, &mut r).unwrap_err(),
        KekError::LastSlot
    );
    assert_eq!(
        env.remove_slot(&u, SlotId::new(9).unwrap(), &mut r)
            .unwrap_err(),
        KekError::UnknownSlot(9)
    );
    // Round trip after removal.
    let env2 = Envelope::from_bytes(&env.to_bytes()).unwrap();
    assert!(open_with(&env2, &b).is_ok());
}

#[test]
fn add_slot_needs_this_envelopes_unlock() {
    let a = passkey(1);
    let env1 = prf_envelope(&a, &payloads()[0], 20);
    let mut env2 = prf_envelope(&a, &payloads()[0], 21);
    let u1 = open_with(&env1, &a).unwrap();
    let mut r = rng(1);
    let salt = PrfSalt::random(&mut r);
    let b = passkey(2);
    let out = b.prf(&salt);
    let new = NewSlot::Prf {
        credential_id: &b.credential_id,
        rp_id: RP,
        salt,
        output: &out,
    };
    assert_eq!(
        env2.add_slot(&u1, &new, &mut r).unwrap_err(),
        KekError::NotThisEnvelope
    );
}

#[test]
fn too_many_slots_refused() {
    let a = passkey(0);
    let mut env = prf_envelope(&a, &payloads()[0], 30);
    let u = open_with(&env, &a).unwrap();
    let mut r = rng(31);
    for n in 1..wallet_kek::MAX_SLOTS as u8 {
        let pk = passkey(n);
        let salt = PrfSalt::random(&mut r);
        let out = pk.prf(&salt);
        env.add_slot(
            &u,
            &NewSlot::Prf {
                credential_id: &pk.credential_id,
                rp_id: RP,
                salt,
                output: &out,
            },
            &mut r,
        )
        .unwrap();
    }
    let pk = passkey(200);
    let salt = PrfSalt::random(&mut r);
    let out = pk.prf(&salt);
    let new = NewSlot::Prf {
        credential_id: &pk.credential_id,
        rp_id: RP,
        salt,
        output: &out,
    };
    assert_eq!(
        env.add_slot(&u, &new, &mut r).unwrap_err(),
        KekError::TooManySlots
    );
    let env2 = Envelope::from_bytes(&env.to_bytes()).unwrap();
    assert!(open_with(&env2, &passkey(15)).is_ok());
}

#[test]
fn rotate_prf_salt() {
    let a = passkey(1);
    let mut env = prf_envelope(&a, &payloads()[1], 40);
    let old_salt = *env.prf_slot(&a.credential_id).unwrap().prf_salt().unwrap();
    let old_out = a.prf(&old_salt);
    let mut r = rng(41);
    let new_salt = PrfSalt::random(&mut r);
    let new_out = a.prf(&new_salt);
    // A wrong "old" output cannot rotate.
    assert_eq!(
        env.rotate_prf_salt(&a.credential_id, &new_out, new_salt, &new_out, &mut r)
            .unwrap_err(),
        KekError::Unwrap
    );
    let id = env.prf_slot(&a.credential_id).unwrap().id();
    env.rotate_prf_salt(&a.credential_id, &old_out, new_salt, &new_out, &mut r)
        .unwrap();
    assert_eq!(env.prf_slot(&a.credential_id).unwrap().id(), id);
    assert_eq!(
        env.prf_slot(&a.credential_id).unwrap().prf_salt(),
        Some(&new_salt)
    );
    let old = Credential::Prf {
        credential_id: &a.credential_id,
        output: &old_out,
    };
    assert_eq!(env.open(&old).unwrap_err(), KekError::Unwrap);
    let env = Envelope::from_bytes(&env.to_bytes()).unwrap();
    assert_eq!(
        open_with(&env, &a).unwrap().payload().expose(),
        payloads()[1].expose()
    );
}

#[test]
fn rekey_keeps_presented_slots_only() {
    let (a, b) = (passkey(1), passkey(2));
    let mut env = prf_envelope(&a, &payloads()[4], 50);
    let mut r = rng(51);
    let u = open_with(&env, &a).unwrap();
    let salt = PrfSalt::random(&mut r);
    let out_b = b.prf(&salt);
    env.add_slot(
        &u,
        &NewSlot::Prf {
            credential_id: &b.credential_id,
            rp_id: RP,
            salt,
            output: &out_b,
        },
        &mut r,
    )
    .unwrap();
    let out_a = prf_output_for(&env, &a);
    let cred_a = Credential::Prf {
        credential_id: &a.credential_id,
        output: &out_a,
    };
    let cred_b = Credential::Prf {
        credential_id: &b.credential_id,
        output: &out_b,
    };
    let both = env.rekey(&[cred_a, cred_b], &mut r).unwrap();
    assert_eq!(both.slots().len(), 2);
    assert_eq!(both.wallet_id(), env.wallet_id());
    assert_ne!(both.to_bytes(), env.to_bytes());
    assert!(both.open(&cred_a).is_ok() && both.open(&cred_b).is_ok());
    let only_b = env.rekey(&[cred_b], &mut r).unwrap();
    assert_eq!(only_b.slots().len(), 1);
    assert_eq!(only_b.open(&cred_a).unwrap_err(), KekError::Unwrap);
    assert_eq!(
        only_b.open(&cred_b).unwrap().payload().expose(),
        payloads()[4].expose()
    );
    assert!(env.rekey(&[], &mut r).is_err());
    let wrong = PrfOutput::new([0; 32]);
    let bad = Credential::Prf {
        credential_id: &a.credential_id,
        output: &wrong,
    };
    assert_eq!(
        env.rekey(&[cred_b, bad], &mut r).unwrap_err(),
        KekError::Unwrap
    );
}

#[test]
fn sign_secp256k1_low_s_and_recoverable() {
    use k256::ecdsa::{RecoveryId, Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
    let a = passkey(1);
    let mut r = rng(60);
    let salt = PrfSalt::random(&mut r);
    let out = a.prf(&salt);
    let first = NewSlot::Prf {
        credential_id: &a.credential_id,
        rp_id: RP,
        salt,
        output: &out,
    };
    let (env, pk) = Envelope::generate_secp256k1(WalletId::random(&mut r), &first, &mut r).unwrap();
    let vk = VerifyingKey::from_sec1_bytes(&pk).unwrap();
    let cred = Credential::Prf {
        credential_id: &a.credential_id,
        output: &out,
    };
    assert_eq!(
        env.open(&cred).unwrap().payload().public_key().unwrap(),
        pk.to_vec()
    );
    for i in 0..32u8 {
        let h = [i; 32];
        let sig = env.sign_secp256k1(&cred, &h).unwrap();
        let s = Signature::from_slice(&sig.signature).unwrap();
        assert_eq!(s.normalize_s(), s, "low-S");
        vk.verify_prehash(&h, &s).unwrap();
        let recid = RecoveryId::from_byte(sig.recovery_id).unwrap();
        assert_eq!(
            VerifyingKey::recover_from_prehash(&h, &s, recid).unwrap(),
            vk
        );
    }
    assert_eq!(
        env.sign_ed25519(&cred, b"x").unwrap_err(),
        KekError::WrongPayloadKind
    );
    let wrong = PrfOutput::new([0; 32]);
    assert_eq!(
        env.sign_secp256k1(
            &Credential::Prf {
                credential_id: &a.credential_id,
                output: &wrong
            },
            &[0; 32]
        )
        .unwrap_err(),
        KekError::Unwrap
    );
}

#[test]
fn sign_ed25519_verifies() {
    use ed25519_dalek::{Verifier, VerifyingKey};
    let a = passkey(1);
    let mut r = rng(70);
    let salt = PrfSalt::random(&mut r);
    let out = a.prf(&salt);
    let first = NewSlot::Prf {
        credential_id: &a.credential_id,
        rp_id: RP,
        salt,
        output: &out,
    };
    let (env, pk) = Envelope::generate_ed25519(WalletId::random(&mut r), &first, &mut r).unwrap();
    let cred = Credential::Prf {
        credential_id: &a.credential_id,
        output: &out,
    };
    let vk = VerifyingKey::from_bytes(&pk).unwrap();
    let sig = env.sign_ed25519(&cred, b"transfer 1 SOL").unwrap();
    vk.verify(b"transfer 1 SOL", &sig).unwrap();
    assert_eq!(
        env.sign_secp256k1(&cred, &[0; 32]).unwrap_err(),
        KekError::WrongPayloadKind
    );
}

#[test]
fn ed25519_rfc8032_test_1_through_envelope() {
    // RFC 8032 §7.1 TEST 1: the envelope signs exactly as RFC 8032 with the stored seed.
    let seed: [u8; 32] =
        hex::decode("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
            .unwrap()
            .try_into()
            .unwrap();
    let pk = passkey(1);
    let env = prf_envelope(&pk, &Payload::ed25519_seed(SecretBytes::new(seed)), 80);
    let out = prf_output_for(&env, &pk);
    let cred = Credential::Prf {
        credential_id: &pk.credential_id,
        output: &out,
    };
    assert_eq!(
        hex::encode(env.open(&cred).unwrap().payload().public_key().unwrap()),
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    );
    assert_eq!(
        hex::encode(env.sign_ed25519(&cred, b"").unwrap().to_bytes()),
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    );
}

#[test]
fn decode_rejects_non_canonical_and_oversize() {
    let pk = passkey(1);
    let env = prf_envelope(&pk, &payloads()[0], 90);
    let bytes = env.to_bytes();
    let mut v = bytes.clone();
    v.push(0);
    assert_eq!(Envelope::from_bytes(&v), Err(DecodeError::TrailingBytes));
    assert!(Envelope::from_bytes(&bytes[..bytes.len() - 1]).is_err());
    let big = vec![0u8; Envelope::MAX_LEN + 1];
    assert!(matches!(
        Envelope::from_bytes(&big),
        Err(DecodeError::TooLarge { .. })
    ));
    // A fixed payload kind with a non-zero tag.
    let mut v = bytes.clone();
    v[4 + 32 + 2] = 1;
    assert!(Envelope::from_bytes(&v).is_err());
    // Zero slots.
    let slots_at = 4 + 32 + 3 + 12 + 4 + 48;
    let mut v = bytes[..slots_at].to_vec();
    v.extend_from_slice(&[0, 0]);
    assert_eq!(Envelope::from_bytes(&v), Err(DecodeError::InvalidValue));
    // Slot id zero.
    let mut v = bytes.clone();
    v[slots_at + 2..slots_at + 4].copy_from_slice(&[0, 0]);
    assert_eq!(Envelope::from_bytes(&v), Err(DecodeError::InvalidValue));
    // Wrong ciphertext length for the payload kind (secp256k1 needs 48).
    let mut v = bytes.clone();
    v[4 + 32 + 3 + 12 + 3] = 47;
    assert!(Envelope::from_bytes(&v).is_err());
}

#[test]
fn secrets_are_not_printed() {
    let pk = passkey(1);
    let p = Payload::secp256k1(SecretBytes::new([0x5a; 32])).unwrap();
    let env = prf_envelope(&pk, &p, 95);
    let u = open_with(&env, &pk).unwrap();
    let out = prf_output_for(&env, &pk);
    let cred = Credential::Prf {
        credential_id: &pk.credential_id,
        output: &out,
    };
    let shown = format!("{u:?} {p:?} {cred:?} {:?}", Credential::Password("hunter2"));
    assert!(!shown.contains("5a5a") && !shown.contains("90, 90"));
    assert!(!shown.contains("hunter2"));
    assert!(shown.contains("redacted"));
    assert_eq!(u.payload().kind(), PayloadKind::Secp256k1);
}

/// One run at the default (OWASP) Argon2id parameters, through encode and decode. Other
/// Argon2 tests use weak parameters in the crate's unit tests (`#[cfg(test)]` only).
#[test]
fn password_and_recovery_slots_at_default_params() {
    let a = passkey(1);
    let mut env = prf_envelope(&a, &payloads()[2], 200);
    let u = open_with(&env, &a).unwrap();
    let mut r = rng(201);
    let pw = env
        .add_slot(
            &u,
            &NewSlot::Password {
                password: "correct horse battery staple",
                params: Argon2Params::DEFAULT,
            },
            &mut r,
        )
        .unwrap();
    let rec = env
        .add_slot(
            &u,
            &NewSlot::RecoveryAnswer {
                question: "Name of your first pet?",
                answer: "  Mr. Whiskers ",
                params: Argon2Params::DEFAULT,
            },
            &mut r,
        )
        .unwrap();
    let env = Envelope::from_bytes(&env.to_bytes()).unwrap();
    let opened = env
        .open(&Credential::Password("correct horse battery staple"))
        .unwrap();
    assert_eq!(opened.slot(), pw);
    assert_eq!(opened.payload().expose(), payloads()[2].expose());
    let opened = env
        .open(&Credential::RecoveryAnswer {
            slot: rec,
            answer: "MR.   WHISKERS",
        })
        .unwrap();
    assert_eq!(opened.slot(), rec);
    assert_eq!(
        env.open(&Credential::Password("correct horse battery stapler"))
            .unwrap_err(),
        KekError::Unwrap
    );
}

#[test]
fn weak_params_refused_by_constructor() {
    assert_eq!(
        Argon2Params::new(19455, 2, 1).unwrap_err(),
        KekError::WeakParams
    );
    assert_eq!(
        Argon2Params::new(19456, 1, 1).unwrap_err(),
        KekError::WeakParams
    );
    assert_eq!(
        Argon2Params::new(19456, 2, 0).unwrap_err(),
        KekError::WeakParams
    );
    assert_eq!(
        Argon2Params::new(u32::MAX, 2, 1).unwrap_err(),
        KekError::WeakParams
    );
    assert_eq!(
        Argon2Params::new(19456, 2, 1).unwrap(),
        Argon2Params::DEFAULT
    );
}

#[test]
fn generate_bip39_entropy_into_envelope() {
    let a = passkey(1);
    let mut r = rng(300);
    let salt = PrfSalt::random(&mut r);
    let out = a.prf(&salt);
    let first = NewSlot::Prf {
        credential_id: &a.credential_id,
        rp_id: RP,
        salt,
        output: &out,
    };
    for len in [16, 20, 24, 28, 32] {
        let env = Envelope::generate_bip39_entropy(WalletId::random(&mut r), len, &first, &mut r)
            .unwrap();
        assert_eq!(env.payload_kind(), PayloadKind::Bip39Entropy);
        let u = open_with(&Envelope::from_bytes(&env.to_bytes()).unwrap(), &a).unwrap();
        assert_eq!(u.payload().expose().len(), len);
    }
    for len in [0, 15, 17, 33] {
        assert_eq!(
            Envelope::generate_bip39_entropy(WalletId::random(&mut r), len, &first, &mut r)
                .unwrap_err(),
            KekError::InvalidInput
        );
    }
}

#[test]
fn server_cannot_strip_a_slot() {
    // Whoever stores the envelope drops slot A from the table (no DEK): B cannot open either,
    // because the payload AAD binds the whole slot table.
    let (a, b) = (passkey(1), passkey(2));
    let mut env = prf_envelope(&a, &payloads()[0], 310);
    let mut r = rng(311);
    let u = open_with(&env, &a).unwrap();
    let salt = PrfSalt::random(&mut r);
    let out_b = b.prf(&salt);
    env.add_slot(
        &u,
        &NewSlot::Prf {
            credential_id: &b.credential_id,
            rp_id: RP,
            salt,
            output: &out_b,
        },
        &mut r,
    )
    .unwrap();
    let bytes = env.to_bytes();
    let table_at = 4 + 32 + 3 + 12 + 4 + 48;
    let first_slot_len = 2 + 1 + 4 + a.credential_id.len() + 4 + RP.len() + 32 + 12 + 48;
    let mut stripped = bytes[..table_at].to_vec();
    stripped.extend_from_slice(&[0, 1]);
    stripped.extend_from_slice(&bytes[table_at + 2 + first_slot_len..]);
    let stripped = Envelope::from_bytes(&stripped).unwrap();
    assert_eq!(stripped.slots().len(), 1);
    assert_eq!(open_with(&stripped, &b).unwrap_err(), KekError::Unwrap);
    assert!(open_with(&env, &b).is_ok());
}

#[test]
fn unlocked_envelope_signs_through_the_rustcrypto_traits() {
    // Written against the re-exports only (`wallet_kek::k256`, `wallet_kek::ed25519_dalek`).
    use wallet_kek::ed25519_dalek::{Signature as EdSignature, VerifyingKey as EdVerifyingKey};
    use wallet_kek::k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
    use wallet_kek::k256::ecdsa::signature::{Signer, Verifier};
    use wallet_kek::k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

    let pk = passkey(7);
    let secp = prf_envelope(
        &pk,
        &Payload::secp256k1(SecretBytes::new([9; 32])).unwrap(),
        90,
    );
    let out = prf_output_for(&secp, &pk);
    let cred = Credential::Prf {
        credential_id: &pk.credential_id,
        output: &out,
    };
    let unlocked = secp.open(&cred).unwrap();
    let vk = VerifyingKey::from_sec1_bytes(&unlocked.payload().public_key().unwrap()).unwrap();
    let hash = [0x5a; 32];
    let (sig, recid): (Signature, RecoveryId) = unlocked.sign_prehash(&hash).unwrap();
    vk.verify_prehash(&hash, &sig).unwrap();
    assert_eq!(
        VerifyingKey::recover_from_prehash(&hash, &sig, recid).unwrap(),
        vk
    );
    // The same signature as the one-call path, whose byte fields agree with the typed view.
    let one_call = secp.sign_secp256k1(&cred, &hash).unwrap();
    assert_eq!(one_call.ecdsa(), (sig, recid));
    assert_eq!(one_call.signature.as_slice(), sig.to_bytes().as_slice());
    assert_eq!(one_call.recovery_id, recid.to_byte());
    // A prehash that is not 32 bytes and the wrong key kind are errors, not panics.
    assert!(PrehashSigner::<(Signature, RecoveryId)>::sign_prehash(&unlocked, &[1; 31]).is_err());
    assert!(Signer::<EdSignature>::try_sign(&unlocked, b"x").is_err());

    let ed = prf_envelope(&pk, &Payload::ed25519_seed(SecretBytes::new([3; 32])), 91);
    let out = prf_output_for(&ed, &pk);
    let cred = Credential::Prf {
        credential_id: &pk.credential_id,
        output: &out,
    };
    let unlocked = ed.open(&cred).unwrap();
    let pk_bytes: [u8; 32] = unlocked.payload().public_key().unwrap().try_into().unwrap();
    let vk = EdVerifyingKey::from_bytes(&pk_bytes).unwrap();
    let sig: EdSignature = unlocked.try_sign(b"transfer").unwrap();
    vk.verify(b"transfer", &sig).unwrap();
    assert_eq!(ed.sign_ed25519(&cred, b"transfer").unwrap(), sig);
    assert!(PrehashSigner::<(Signature, RecoveryId)>::sign_prehash(&unlocked, &hash).is_err());
}
