//! OPRF-hardened slots (`SPEC.md` §3.3, §10): RFC 9497 vectors through the `voprf` crate as
//! this crate calls it, round trips, the guess limit and its reset, a substituted server key,
//! what a store-only attacker lacks, malformed and replayed messages, migration, known answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use core::convert::Infallible;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_kek::hardened::record_key_info;
use wallet_kek::oprf::{self, OprfOutput, OprfPublicKey};
use wallet_kek::{
    Argon2Params, Credential, Envelope, HardenedKind, KekError, NewSlot, OprfPending, OprfRecord,
    OprfRequest, OprfResponse, OprfServerKey, PrfOutput, PrfSalt, RecordId, ResetProof, SlotId,
    SlotParams, Unlocked, WalletId, derive_hardened_kek, derive_recovery_kek,
};
use wallet_types::{DecodeError, SecretBytes, WireObject};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}
fn arr<const N: usize>(s: &str) -> [u8; N] {
    unhex(s).try_into().unwrap()
}
fn seq(start: u8) -> [u8; 32] {
    core::array::from_fn(|i| start.wrapping_add(i as u8))
}

/// An RNG that replays fixed bytes (then zeros): feeds RFC 9497's `Blind` and
/// `ProofRandomScalar` through the crate's RNG-taking API. ristretto255 scalars are drawn as 64
/// bytes reduced mod ℓ (little-endian), so `s || 0³²` draws exactly `s`.
struct Replay(Vec<u8>, usize);

impl Replay {
    fn scalar(hex_le: &str) -> Self {
        let mut b = unhex(hex_le);
        b.resize(64, 0);
        Self(b, 0)
    }
}

impl rand_core::TryRng for Replay {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for d in dst {
            *d = self.0.get(self.1).copied().unwrap_or(0);
            self.1 += 1;
        }
        Ok(())
    }
}
impl rand_core::TryCryptoRng for Replay {}

/// RFC 9497 Appendix A.1.2 (VOPRF mode, ristretto255-SHA512), test vectors 1 and 2 (batch
/// size 1): `DeriveKeyPair`, `Blind`, `BlindEvaluate` (evaluated element and proof) and
/// `Finalize`, through `wallet_kek::oprf` and the `voprf` crate.
#[test]
fn rfc9497_a_1_2_voprf_ristretto255_sha512() {
    let seed = SecretBytes::new(seq(0).map(|_| 0xa3));
    let key_info = unhex("74657374206b6579"); // "test key"
    let pk = oprf::derive_public_key(&seed, &key_info).unwrap();
    assert_eq!(
        pk.as_bytes(),
        &arr::<32>("c803e2cc6b05fc15064549b5920659ca4a77b2cca6f04f6b357009335476ad4e")
    );
    struct Tv {
        input: &'static str,
        blinded: &'static str,
        evaluated: &'static str,
        proof: &'static str,
        output: &'static str,
    }
    let blind = "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706";
    let proof_random = "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e";
    let vectors = [
        Tv {
            input: "00",
            blinded: "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945",
            evaluated: "aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e",
            proof: "ddef93772692e535d1a53903db24367355cc2cc78de93b3be5a8ffcc6985dd066d4346421d17bf5117a2a1ff0fcb2a759f58a539dfbe857a40bce4cf49ec600d",
            output: "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7da4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c",
        },
        Tv {
            input: "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a",
            blinded: "cc0b2a350101881d8a4cba4c80241d74fb7dcbfde4a61fde2f91443c2bf9ef0c",
            evaluated: "60a59a57208d48aca71e9e850d22674b611f752bed48b36f7a91b372bd7ad468",
            proof: "401a0da6264f8cf45bb2f5264bc31e109155600babb3cd4e5af7d181a2c9dc0a67154fabf031fd936051dec80b0b6ae29c9503493dde7393b722eafdf5a50b02",
            output: "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6",
        },
    ];
    for tv in vectors {
        let input = unhex(tv.input);
        let (state, blinded) = oprf::blind(&input, &mut Replay::scalar(blind)).unwrap();
        assert_eq!(blinded, arr::<32>(tv.blinded));
        let (evaluated, proof) = oprf::blind_evaluate(
            &seed,
            &key_info,
            &blinded,
            &mut Replay::scalar(proof_random),
        )
        .unwrap();
        assert_eq!(evaluated, arr::<32>(tv.evaluated));
        assert_eq!(proof, arr::<64>(tv.proof));
        let out = oprf::finalize(state, &input, &evaluated, &proof, &pk, [0; 32]).unwrap();
        assert_eq!(out.expose().as_slice(), unhex(tv.output).as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers: a wallet with a passkey slot, an OPRF server, a hardened slot enrolled.
// ---------------------------------------------------------------------------------------------

const QUESTION: &str = "First pet?";
const ANSWER: &str = "Mr. Whiskers";
const MAX: u32 = 3;

struct World {
    rng: ChaCha20Rng,
    env: Envelope,
    prf: PrfOutput,
    server: OprfServerKey,
    record: OprfRecord,
    slot: SlotId,
}

fn passkey_unlock(w: &World) -> Unlocked {
    w.env
        .open(&Credential::Prf {
            credential_id: b"cred",
            output: &w.prf,
        })
        .unwrap()
}

/// One evaluation over the wire (every message encoded and decoded).
fn evaluate(w: &mut World, pending_req: &OprfRequest) -> Result<OprfResponse, KekError> {
    let req = OprfRequest::from_bytes(&pending_req.to_bytes()).unwrap();
    let resp = w.server.evaluate(&mut w.record, &req, &mut w.rng)?;
    Ok(OprfResponse::from_bytes(&resp.to_bytes()).unwrap())
}

/// Tries to open the hardened slot with `answer`; on success also resets the counter the
/// documented way (reset proof over the response's nonce).
fn try_unlock(w: &mut World, answer: &str) -> Result<Unlocked, KekError> {
    let (pending, req) = OprfPending::unlock(&w.env, w.slot, answer, &mut w.rng)?;
    let resp = evaluate(w, &req)?;
    let factor = pending.finish(&resp)?;
    let unlocked = w.env.open(&Credential::Hardened {
        slot: w.slot,
        factor: &factor,
    })?;
    let proof = unlocked
        .oprf_reset_proof(resp.record(), resp.nonce())
        .unwrap();
    w.record
        .reset(&ResetProof::from_bytes(&proof.to_bytes()).unwrap())
        .unwrap();
    Ok(unlocked)
}

/// Enrols a hardened slot of `kind` for `secret` into an envelope opened with its passkey.
fn enrol(w: &mut World, kind: HardenedKind, secret: &str) -> (SlotId, OprfRecord) {
    let unlocked = passkey_unlock(w);
    let record = RecordId::random(&mut w.rng);
    let reset_key = unlocked.oprf_reset_key(&record).unwrap();
    let (mut rec, pk) = w.server.register(record, reset_key, MAX).unwrap();
    let (pending, req) =
        OprfPending::enrol(w.env.wallet_id(), kind, record, pk, secret, &mut w.rng).unwrap();
    let resp = w.server.evaluate(&mut rec, &req, &mut w.rng).unwrap();
    let factor = pending.finish(&resp).unwrap();
    let new = match kind {
        HardenedKind::Password => NewSlot::HardenedPassword {
            factor: &factor,
            params: Argon2Params::DEFAULT,
        },
        HardenedKind::RecoveryAnswer => NewSlot::HardenedRecoveryAnswer {
            question: QUESTION,
            factor: &factor,
            params: Argon2Params::DEFAULT,
        },
    };
    let id = w.env.add_slot(&unlocked, &new, &mut w.rng).unwrap();
    // The enrolment evaluation is not a failure: the client proves the slot works.
    rec.reset(&unlocked.oprf_reset_proof(&record, resp.nonce()).unwrap())
        .unwrap();
    assert_eq!(rec.failures(), 0);
    (id, rec)
}

fn world(seed: u64, kind: HardenedKind, secret: &str) -> World {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let prf = PrfOutput::new([7; 32]);
    let first = NewSlot::Prf {
        credential_id: b"cred",
        rp_id: "wallet.example",
        salt: PrfSalt::random(&mut rng),
        output: &prf,
    };
    let (env, _) =
        Envelope::generate_ed25519(WalletId::random(&mut rng), &first, &mut rng).unwrap();
    let server = OprfServerKey::generate(&mut rng);
    let placeholder = server
        .register(RecordId([0; 32]), SecretBytes::new([0; 32]), 1)
        .unwrap()
        .0;
    let mut w = World {
        rng,
        env,
        prf,
        server,
        record: placeholder,
        slot: SlotId::new(1).unwrap(),
    };
    let (slot, record) = enrol(&mut w, kind, secret);
    w.slot = slot;
    w.record = record;
    // What the store keeps survives encoding.
    w.env = Envelope::from_bytes(&w.env.to_bytes()).unwrap();
    w
}

// ---------------------------------------------------------------------------------------------

#[test]
fn hardened_round_trips_password_and_answer() {
    let mut w = world(1, HardenedKind::RecoveryAnswer, ANSWER);
    let original = passkey_unlock(&w).payload().expose().to_vec();
    for typed in [
        "mr. whiskers",
        "  MR.   Whiskers\t",
        "ＭＲ．　ＷＨＩＳＫＥＲＳ",
    ] {
        let u = try_unlock(&mut w, typed).unwrap();
        assert_eq!(u.payload().expose(), original.as_slice());
        assert_eq!(u.slot(), w.slot);
        assert_eq!(w.record.failures(), 0, "reset after each success");
    }
    // Slot description as stored.
    match w.env.slot(w.slot).unwrap().params() {
        SlotParams::HardenedRecoveryAnswer {
            record, question, ..
        } => {
            assert_eq!(record, w.record.record());
            assert_eq!(question, QUESTION);
        }
        other => panic!("{other:?}"),
    }

    let mut p = world(2, HardenedKind::Password, "Correct Horse");
    assert!(try_unlock(&mut p, "Correct Horse").is_ok());
    assert_eq!(
        try_unlock(&mut p, "correct horse").unwrap_err(),
        KekError::Unwrap
    ); // case counts for passwords
    assert_eq!(p.record.failures(), 1);
    // Signing through the hardened credential.
    let (pending, req) = OprfPending::unlock(&p.env, p.slot, "Correct Horse", &mut p.rng).unwrap();
    let resp = evaluate(&mut p, &req).unwrap();
    let factor = pending.finish(&resp).unwrap();
    let sig = p
        .env
        .sign_ed25519(
            &Credential::Hardened {
                slot: p.slot,
                factor: &factor,
            },
            b"msg",
        )
        .unwrap();
    assert_eq!(sig.to_bytes().len(), 64);
}

#[test]
fn wrong_answers_count_lock_out_and_reset() {
    let mut w = world(3, HardenedKind::RecoveryAnswer, ANSWER);
    for i in 1..=MAX {
        assert_eq!(try_unlock(&mut w, "Rex").unwrap_err(), KekError::Unwrap);
        assert_eq!(w.record.failures(), i);
    }
    assert!(w.record.is_locked());
    // Locked: even the right answer gets no evaluation, and the refusal changes nothing.
    assert_eq!(
        try_unlock(&mut w, ANSWER).unwrap_err(),
        KekError::OprfLockedOut
    );
    assert_eq!(w.record.failures(), MAX);
    let before = w.record.to_secret_bytes();

    // A reset proof under a wrong key, or for a stale nonce, does not reset.
    let challenge = w.record.challenge(&mut w.rng);
    let other = world(4, HardenedKind::RecoveryAnswer, ANSWER);
    let wrong = passkey_unlock(&other)
        .oprf_reset_proof(w.record.record(), challenge.nonce())
        .unwrap();
    assert_eq!(w.record.reset(&wrong).unwrap_err(), KekError::OprfBadReset);
    assert_eq!(w.record.failures(), MAX);
    // The nonce was consumed by the failed try: the right proof for it is refused too.
    let right_stale = passkey_unlock(&w)
        .oprf_reset_proof(w.record.record(), challenge.nonce())
        .unwrap();
    assert_eq!(
        w.record.reset(&right_stale).unwrap_err(),
        KekError::OprfBadReset
    );
    // A proof for another record changes nothing.
    let foreign = passkey_unlock(&w)
        .oprf_reset_proof(&RecordId([9; 32]), challenge.nonce())
        .unwrap();
    assert_eq!(
        w.record.reset(&foreign).unwrap_err(),
        KekError::OprfWrongRecord
    );
    assert_eq!(w.record.failures(), MAX);
    drop(before);

    // The documented reset of a locked record: open through another slot (the passkey), ask
    // for a challenge, answer it.
    let challenge = w.record.challenge(&mut w.rng);
    let proof = passkey_unlock(&w)
        .oprf_reset_proof(challenge.record(), challenge.nonce())
        .unwrap();
    w.record.reset(&proof).unwrap();
    assert_eq!(w.record.failures(), 0);
    // Replaying the same proof fails (single-use nonce).
    assert_eq!(w.record.reset(&proof).unwrap_err(), KekError::OprfBadReset);
    assert!(try_unlock(&mut w, ANSWER).is_ok());
    assert_eq!(w.record.failures(), 0);
}

#[test]
fn substituted_server_key_is_detected() {
    let mut w = world(5, HardenedKind::RecoveryAnswer, ANSWER);
    let record = *w.record.record();
    // An impostor server answers for the same record id with its own key.
    let impostor = OprfServerKey::generate(&mut w.rng);
    let (mut fake, _) = impostor
        .register(record, SecretBytes::new([1; 32]), 10)
        .unwrap();
    let (pending, req) = OprfPending::unlock(&w.env, w.slot, ANSWER, &mut w.rng).unwrap();
    let resp = impostor.evaluate(&mut fake, &req, &mut w.rng).unwrap();
    assert_eq!(
        pending.finish(&resp).unwrap_err(),
        KekError::OprfBadProof { record: record.0 }
    );

    // The real server, but a response replayed from an earlier request.
    let (p1, r1) = OprfPending::unlock(&w.env, w.slot, ANSWER, &mut w.rng).unwrap();
    let old = evaluate(&mut w, &r1).unwrap();
    drop(p1);
    let (p2, _r2) = OprfPending::unlock(&w.env, w.slot, ANSWER, &mut w.rng).unwrap();
    assert_eq!(
        p2.finish(&old).unwrap_err(),
        KekError::OprfBadProof { record: record.0 }
    );

    // A response for another record.
    let (p3, r3) = OprfPending::unlock(&w.env, w.slot, ANSWER, &mut w.rng).unwrap();
    let mut bytes = evaluate(&mut w, &r3).unwrap().to_bytes();
    bytes[4] ^= 1;
    let moved = OprfResponse::from_bytes(&bytes).unwrap();
    assert_eq!(p3.finish(&moved).unwrap_err(), KekError::OprfWrongRecord);
}

#[test]
fn malformed_messages_are_refused_without_counting() {
    let mut w = world(6, HardenedKind::Password, "pw");
    let (_p, req) = OprfPending::unlock(&w.env, w.slot, "pw", &mut w.rng).unwrap();
    let good = req.to_bytes();
    assert_eq!(good.len(), 4 + 32 + 32);
    // Wrong lengths and trailing bytes.
    assert!(OprfRequest::from_bytes(&good[..good.len() - 1]).is_err());
    let mut long = good.clone();
    long.push(0);
    assert!(OprfRequest::from_bytes(&long).is_err());
    // The identity, a non-canonical encoding, a wrong record: refused, counter unchanged.
    for (at, value) in [(36usize, [0u8; 32]), (36, [0xff; 32])] {
        let mut b = good.clone();
        b[at..at + 32].copy_from_slice(&value);
        let bad = OprfRequest::from_bytes(&b).unwrap();
        assert_eq!(
            w.server
                .evaluate(&mut w.record, &bad, &mut w.rng)
                .unwrap_err(),
            KekError::Decode(DecodeError::InvalidPoint)
        );
    }
    let mut b = good.clone();
    b[4] ^= 1;
    let other = OprfRequest::from_bytes(&b).unwrap();
    assert_eq!(
        w.server
            .evaluate(&mut w.record, &other, &mut w.rng)
            .unwrap_err(),
        KekError::OprfWrongRecord
    );
    assert_eq!(w.record.failures(), 0);

    // A response with a malformed evaluated element or proof scalar: a decode error.
    let (p, req) = OprfPending::unlock(&w.env, w.slot, "pw", &mut w.rng).unwrap();
    let mut resp = evaluate(&mut w, &req).unwrap().to_bytes();
    resp[36..68].copy_from_slice(&[0xff; 32]);
    let bad = OprfResponse::from_bytes(&resp).unwrap();
    assert!(matches!(p.finish(&bad).unwrap_err(), KekError::Decode(_)));
    // A pinned key that is not a group element is refused when the envelope is decoded.
    let env = w.env.to_bytes();
    let pk_at = env.len() - 60 - 32;
    let mut broken = env.clone();
    broken[pk_at..pk_at + 32].copy_from_slice(&[0; 32]);
    assert_eq!(
        Envelope::from_bytes(&broken).unwrap_err(),
        DecodeError::InvalidPoint
    );
}

/// What the envelope store can do alone: it has the envelope and every public value (record
/// id, pinned key, Argon2 salt and costs) — and even the right answer does not open the slot
/// without the server's OPRF output `y`. The test opens the wrapped DEK by hand (SPEC §2.4,
/// §3.3) to show that `y` is the one missing input.
#[test]
fn the_store_alone_cannot_test_a_guess() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let server_seed = [0x5e; 32];
    let prf = PrfOutput::new([7; 32]);
    let first = NewSlot::Prf {
        credential_id: b"cred",
        rp_id: "wallet.example",
        salt: PrfSalt::random(&mut rng),
        output: &prf,
    };
    let (env, _) =
        Envelope::generate_ed25519(WalletId::random(&mut rng), &first, &mut rng).unwrap();
    let server = OprfServerKey::from_seed(SecretBytes::new(server_seed));
    let mut w = World {
        rng,
        env,
        prf,
        record: server
            .register(RecordId([0; 32]), SecretBytes::new([0; 32]), 1)
            .unwrap()
            .0,
        server,
        slot: SlotId::new(1).unwrap(),
    };
    let (slot, record) = enrol(&mut w, HardenedKind::RecoveryAnswer, ANSWER);
    let bytes = w.env.to_bytes();

    // Everything public, as the store sees it.
    let SlotParams::HardenedRecoveryAnswer {
        params,
        salt,
        record: rid,
        server_key,
        ..
    } = w.env.slot(slot).unwrap().params().clone()
    else {
        panic!()
    };
    let wallet = *w.env.wallet_id();
    // The slot is the last one: description, wrap nonce, wrapped DEK (SPEC §2.1).
    let n = bytes.len();
    let desc_len = 1 + 12 + 16 + 32 + 32 + 4 + QUESTION.len();
    let desc = &bytes[n - 60 - desc_len..n - 60];
    let nonce: [u8; 12] = bytes[n - 60..n - 48].try_into().unwrap();
    let wrapped = &bytes[n - 48..];
    let mut aad = bytes[..36].to_vec();
    aad.push(0x02);
    aad.extend_from_slice(&slot.get().to_be_bytes());
    aad.extend_from_slice(desc);
    let unwraps =
        |kek: &SecretBytes<32>| wallet_types::aead::open(kek, &nonce, &aad, wrapped).is_ok();

    // 1. The Argon2-only derivation of the right answer: no.
    let argon_only = derive_recovery_kek(ANSWER, &salt, &params, &wallet).unwrap();
    assert!(!unwraps(&argon_only));
    // 2. The right answer with any OPRF output the store can make itself (a guess of y, or y
    //    under a key of its own): no.
    let own = OprfServerKey::generate(&mut w.rng);
    let own_pk = own.public_key(&rid).unwrap();
    for y in [OprfOutput::new([0; 64]), true_y(&[0x11; 32], &rid, &wallet)] {
        let kek = derive_hardened_kek(
            HardenedKind::RecoveryAnswer,
            ANSWER,
            &y,
            &salt,
            &params,
            &wallet,
            &rid,
            &server_key,
        )
        .unwrap();
        assert!(!unwraps(&kek));
    }
    // ...and a factor under its own key is refused by the client: the proof must verify
    // under the pinned key, which is the real server's.
    assert_ne!(own_pk, server_key);
    // 3. With the server's y (which needs the server's per-record key, i.e. one counted
    //    evaluation) the right answer opens and a wrong one does not.
    let y = true_y(&server_seed, &rid, &wallet);
    for (answer, opens) in [(ANSWER, true), ("Rex", false)] {
        let y = if opens {
            y.duplicate()
        } else {
            true_y_for(&server_seed, &rid, &wallet, answer)
        };
        let kek = derive_hardened_kek(
            HardenedKind::RecoveryAnswer,
            answer,
            &y,
            &salt,
            &params,
            &wallet,
            &rid,
            &server_key,
        )
        .unwrap();
        assert_eq!(unwraps(&kek), opens, "{answer}");
    }
    drop(record);
}

/// `y` for `ANSWER` as the server with `seed` would compute it (SPEC §3.3 OPRF input).
fn true_y(seed: &[u8; 32], record: &RecordId, wallet: &WalletId) -> OprfOutput {
    true_y_for(seed, record, wallet, ANSWER)
}

fn true_y_for(seed: &[u8; 32], record: &RecordId, wallet: &WalletId, answer: &str) -> OprfOutput {
    let mut input = b"wallet-kek/oprf-input".to_vec();
    input.extend_from_slice(&1u16.to_be_bytes());
    input.push(0x05);
    input.extend_from_slice(wallet.as_bytes());
    input.extend_from_slice(record.as_bytes());
    input.extend_from_slice(wallet_kek::normalize_answer(answer).expose());
    let seed = SecretBytes::new(*seed);
    let info = record_key_info(record);
    let pk = oprf::derive_public_key(&seed, &info).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    let (st, b) = oprf::blind(&input, &mut rng).unwrap();
    let (e, p) = oprf::blind_evaluate(&seed, &info, &b, &mut rng).unwrap();
    oprf::finalize(st, &input, &e, &p, &pk, record.0).unwrap()
}

#[test]
fn a_hardened_slot_cannot_be_the_first() {
    let mut w = world(10, HardenedKind::Password, "pw");
    let (pending, req) = OprfPending::unlock(&w.env, w.slot, "pw", &mut w.rng).unwrap();
    let resp = evaluate(&mut w, &req).unwrap();
    let factor = pending.finish(&resp).unwrap();
    let first = NewSlot::HardenedPassword {
        factor: &factor,
        params: Argon2Params::DEFAULT,
    };
    assert_eq!(
        Envelope::generate_ed25519(*w.env.wallet_id(), &first, &mut w.rng).unwrap_err(),
        KekError::WrongSlotKind
    );
    // Nor can a second slot reuse the record, or a factor of another wallet be enrolled.
    let unlocked = passkey_unlock(&w);
    assert_eq!(
        w.env.add_slot(&unlocked, &first, &mut w.rng).unwrap_err(),
        KekError::DuplicateCredential
    );
    let mut other = world(11, HardenedKind::Password, "pw");
    let u2 = passkey_unlock(&other);
    assert_eq!(
        other.env.add_slot(&u2, &first, &mut other.rng).unwrap_err(),
        KekError::InvalidInput
    );
    // A password factor does not make a recovery slot.
    assert_eq!(
        w.env
            .add_slot(
                &unlocked,
                &NewSlot::HardenedRecoveryAnswer {
                    question: QUESTION,
                    factor: &factor,
                    params: Argon2Params::DEFAULT
                },
                &mut w.rng
            )
            .unwrap_err(),
        KekError::WrongSlotKind
    );
}

#[test]
fn migration_from_an_argon2_slot() {
    let mut w = world(8, HardenedKind::RecoveryAnswer, ANSWER);
    // An old-style recovery slot with the same answer next to the hardened one.
    let unlocked = passkey_unlock(&w);
    let old = w
        .env
        .add_slot(
            &unlocked,
            &NewSlot::RecoveryAnswer {
                question: QUESTION,
                answer: ANSWER,
                params: Argon2Params::DEFAULT,
            },
            &mut w.rng,
        )
        .unwrap();
    let by_argon = Credential::RecoveryAnswer {
        slot: old,
        answer: ANSWER,
    };
    assert!(w.env.open(&by_argon).is_ok());
    // Migration step: remove the Argon2-only slot (needs the envelope unlocked).
    w.env.remove_slot(&unlocked, old, &mut w.rng).unwrap();
    assert_eq!(w.env.open(&by_argon).unwrap_err(), KekError::Unwrap);
    // The hardened slot still opens (the payload was re-encrypted under the same DEK, so the
    // reset key the server holds is unchanged).
    assert!(try_unlock(&mut w, ANSWER).is_ok());
    // An Argon2 credential aimed at the hardened slot does not open it.
    assert_eq!(
        w.env
            .open(&Credential::RecoveryAnswer {
                slot: w.slot,
                answer: ANSWER
            })
            .unwrap_err(),
        KekError::Unwrap
    );
}

#[test]
fn server_state_round_trips_and_is_validated() {
    let mut w = world(9, HardenedKind::Password, "pw");
    assert_eq!(try_unlock(&mut w, "nope").unwrap_err(), KekError::Unwrap);
    let bytes = w.record.to_secret_bytes();
    let back = OprfRecord::from_bytes(bytes.expose()).unwrap();
    assert_eq!(back.failures(), 1);
    assert_eq!(back.record(), w.record.record());
    assert_eq!(back.to_secret_bytes().expose(), bytes.expose());
    // failures > max_attempts, a bad pending tag: refused.
    let mut b = bytes.expose().to_vec();
    b[4 + 32 + 4..4 + 32 + 8].copy_from_slice(&(MAX + 1).to_be_bytes());
    assert_eq!(
        OprfRecord::from_bytes(&b).unwrap_err(),
        DecodeError::InvalidValue
    );
    let mut b = bytes.expose().to_vec();
    b[4 + 32 + 8 + 32] = 2;
    assert!(OprfRecord::from_bytes(&b).is_err());
    // The server key round-trips and gives the same record keys; Debug prints no secret.
    let key = OprfServerKey::from_bytes(w.server.to_secret_bytes().expose()).unwrap();
    assert_eq!(
        key.public_key(w.record.record()).unwrap(),
        w.server.public_key(w.record.record()).unwrap()
    );
    assert_eq!(format!("{key:?}"), "OprfServerKey(<redacted>)");
    assert!(format!("{:?}", w.record).contains("reset_key: \"<redacted>\""));
    // Register refuses a zero or huge guess limit.
    let r = RecordId([3; 32]);
    assert!(w.server.register(r, SecretBytes::new([0; 32]), 0).is_err());
    assert!(
        w.server
            .register(r, SecretBytes::new([0; 32]), 1001)
            .is_err()
    );
    // Distinct records have distinct keys (a guess budget cannot be spent on another record).
    assert_ne!(
        w.server.public_key(&RecordId([3; 32])).unwrap(),
        w.server.public_key(&RecordId([4; 32])).unwrap()
    );
    let _ = OprfPublicKey::from_bytes(w.server.public_key(&r).unwrap().as_bytes()).unwrap();
}

/// KAT-6 (`SPEC.md` §7): the hardened slot's public key, OPRF output and KEK for fixed
/// inputs. The OPRF output does not depend on the blind (any RNG gives the same value).
#[test]
fn kat6_hardened_known_answers() {
    let seed = seq(0x00);
    let record = RecordId(seq(0x60));
    let wallet = WalletId(seq(0xa0));
    let pk = OprfServerKey::from_seed(SecretBytes::new(seed))
        .public_key(&record)
        .unwrap();
    let y = true_y_for(&seed, &record, &wallet, " Mr. Whiskers ");
    let salt: [u8; 16] = core::array::from_fn(|i| 0x10 + i as u8);
    let kek = derive_hardened_kek(
        HardenedKind::RecoveryAnswer,
        " Mr. Whiskers ",
        &y,
        &salt,
        &Argon2Params::DEFAULT,
        &wallet,
        &record,
        &pk,
    )
    .unwrap();
    assert_eq!(hex::encode(pk.as_bytes()), KAT6_PK);
    assert_eq!(hex::encode(y.expose()), KAT6_Y);
    assert_eq!(hex::encode(kek.expose()), KAT6_KEK);
}

const KAT6_PK: &str = "2c254502fab63d318d65ccc147d6f4e0f381fb3dcc7e388e0f510ab0dcc68a55";
const KAT6_Y: &str = "97a4dfa648182a05396072b43f79b2db952eb6d66ba65fc0a25d9f9e9f8ce154a72dae1f2ff533a95c7a63ae5044f22fce78abf4801a39f7a004c5ce7ff04735";
const KAT6_KEK: &str = "032627bbd171b33ea3ecf3c07c62e97e0b05eb1c6473f37afe95443a99cecdd0";

/// `rand_core` 0.6 replay RNG for the `voprf` crate's own API (batch vector below).
struct Replay06(Replay);

impl rand_core_06::RngCore for Replay06 {
    fn next_u32(&mut self) -> u32 {
        rand_core::Rng::next_u32(&mut self.0)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::Rng::next_u64(&mut self.0)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        rand_core::Rng::fill_bytes(&mut self.0, dest);
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        rand_core::Rng::fill_bytes(&mut self.0, dest);
        Ok(())
    }
}
impl rand_core_06::CryptoRng for Replay06 {}

/// RFC 9497 Appendix A.1.2.3 (VOPRF, ristretto255-SHA512, batch size 2) through the `voprf`
/// crate directly: one proof covers both evaluations. This crate evaluates one element per
/// request, so only the crate is exercised here.
#[test]
fn rfc9497_a_1_2_3_batch_of_two() {
    use voprf::{
        BlindedElement, PreparedEvaluationElement, Ristretto255, VoprfClient, VoprfServer,
        VoprfServerBatchEvaluateFinishResult,
    };
    let server = VoprfServer::<Ristretto255>::new_from_seed(&[0xa3; 32], b"test key").unwrap();
    let inputs = [unhex("00"), unhex("5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a")];
    let blinds = [
        "64d37aed22a27f5191de1c1d69fadb899d8862b58eb4220029e036ec4c1f6706",
        "222a5e897cf59db8145db8d16e597e8facb80ae7d4e26d9881aa6f61d645fc0e",
    ];
    let expected_blinded = [
        "863f330cc1a1259ed5a5998a23acfd37fb4351a793a5b3c090b642ddc439b945",
        "90a0145ea9da29254c3a56be4fe185465ebb3bf2a1801f7124bbbadac751e654",
    ];
    let expected_evaluated = [
        "aa8fa048764d5623868679402ff6108d2521884fa138cd7f9c7669a9a014267e",
        "cc5ac221950a49ceaa73c8db41b82c20372a4c8d63e5dded2db920b7eee36a2a",
    ];
    let expected_outputs = [
        "b58cfbe118e0cb94d79b5fd6a6dafb98764dff49c14e1770b566e42402da1a7da4d8527693914139caee5bd03903af43a491351d23b430948dd50cde10d32b3c",
        "8a9a2f3c7f085b65933594309041fc1898d42d0858e59f90814ae90571a6df60356f4610bf816f27afdd84f47719e480906d27ecd994985890e5f539e7ea74b6",
    ];
    let mut clients = Vec::new();
    let mut blinded: Vec<BlindedElement<Ristretto255>> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        let r = VoprfClient::<Ristretto255>::blind(input, &mut Replay06(Replay::scalar(blinds[i])))
            .unwrap();
        assert_eq!(
            &r.message.serialize()[..],
            unhex(expected_blinded[i]).as_slice()
        );
        clients.push(r.state);
        blinded.push(r.message);
    }
    let prepared: Vec<PreparedEvaluationElement<Ristretto255>> = server
        .batch_blind_evaluate_prepare(blinded.iter())
        .collect();
    let mut rng = Replay06(Replay::scalar(
        "419c4f4f5052c53c45f3da494d2b67b220d02118e0857cdbcf037f9ea84bbe0c",
    ));
    let VoprfServerBatchEvaluateFinishResult { messages, proof } = server
        .batch_blind_evaluate_finish(&mut rng, blinded.iter(), &prepared)
        .unwrap();
    let messages: Vec<_> = messages.collect();
    assert_eq!(
        &proof.serialize()[..],
        unhex("cc203910175d786927eeb44ea847328047892ddf8590e723c37205cb74600b0a5ab5337c8eb4ceae0494c2cf89529dcf94572ed267473d567aeed6ab873dee08").as_slice()
    );
    for (m, e) in messages.iter().zip(expected_evaluated) {
        assert_eq!(&m.serialize()[..], unhex(e).as_slice());
    }
    let outputs: Vec<_> = VoprfClient::batch_finalize(
        &inputs,
        &clients,
        &messages,
        &proof,
        server.get_public_key(),
    )
    .unwrap()
    .collect();
    assert_eq!(outputs.len(), 2);
    for (o, e) in outputs.into_iter().zip(expected_outputs) {
        assert_eq!(&o.unwrap()[..], unhex(e).as_slice());
    }
}

// ---------------------------------------------------------------------------------------------
// The server over a record store (`oprf_server`): the guess budget across crashes and workers.
// ---------------------------------------------------------------------------------------------

mod stored {
    use super::*;
    use wallet_kek::StoreError;
    use wallet_kek::oprf_server::{MemoryOprfRecordStore, OprfRecordStore, OprfServer};

    /// An envelope with a passkey slot and a hardened answer slot whose record lives in
    /// `server`'s store (enrolled through the stored server, as a deployment does it).
    fn enrolled<S: OprfRecordStore>(
        server: &OprfServer<S>,
        max: u32,
        rng: &mut ChaCha20Rng,
    ) -> (Envelope, PrfOutput, SlotId, RecordId) {
        let prf = PrfOutput::new([8; 32]);
        let first = NewSlot::Prf {
            credential_id: b"cred",
            rp_id: "wallet.example",
            salt: PrfSalt::random(rng),
            output: &prf,
        };
        let (mut env, _) = Envelope::generate_ed25519(WalletId::random(rng), &first, rng).unwrap();
        let unlocked = env
            .open(&Credential::Prf {
                credential_id: b"cred",
                output: &prf,
            })
            .unwrap();
        let record = RecordId::random(rng);
        let pk = server
            .register(record, unlocked.oprf_reset_key(&record).unwrap(), max)
            .unwrap();
        let (pending, req) = OprfPending::enrol(
            env.wallet_id(),
            HardenedKind::RecoveryAnswer,
            record,
            pk,
            ANSWER,
            rng,
        )
        .unwrap();
        let resp = server.evaluate(&req, rng).unwrap();
        let factor = pending.finish(&resp).unwrap();
        let slot = env
            .add_slot(
                &unlocked,
                &NewSlot::HardenedRecoveryAnswer {
                    question: QUESTION,
                    factor: &factor,
                    params: Argon2Params::DEFAULT,
                },
                rng,
            )
            .unwrap();
        server
            .reset(&unlocked.oprf_reset_proof(&record, resp.nonce()).unwrap())
            .unwrap();
        (env, prf, slot, record)
    }

    /// Eight workers evaluate one record at once (each a client with its own request): the
    /// store serialises them, so exactly `max` are answered and every other one is refused —
    /// no worker counts from a stale copy of the record.
    #[test]
    fn parallel_workers_cannot_exceed_the_guess_limit() {
        let mut rng = ChaCha20Rng::seed_from_u64(40);
        let server = OprfServer::new(
            OprfServerKey::generate(&mut rng),
            MemoryOprfRecordStore::new(),
        );
        let (env, _, slot, record) = enrolled(&server, 3, &mut rng);
        let requests: Vec<_> = (0..8)
            .map(|_| OprfPending::unlock(&env, slot, "Rex", &mut rng).unwrap().1)
            .collect();
        let results: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = requests
                .iter()
                .enumerate()
                .map(|(i, req)| {
                    let server = &server;
                    s.spawn(move || {
                        let mut rng = ChaCha20Rng::seed_from_u64(100 + i as u64);
                        server.evaluate(req, &mut rng)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let answered = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(answered, 3);
        assert!(
            results
                .iter()
                .filter_map(|r| r.as_ref().err())
                .all(|e| *e == KekError::OprfLockedOut)
        );
        assert_eq!(server.attempts_left(&record).unwrap(), 0);
        // Every answered response carries a different count of attempts left (2, 1, 0).
        let mut left: Vec<_> = results
            .iter()
            .filter_map(|r| r.as_ref().ok().map(OprfResponse::attempts_left))
            .collect();
        left.sort_unstable();
        assert_eq!(left, [0, 1, 2]);
    }

    /// A store whose writes fail (a crash between counting and persisting): the evaluation is
    /// computed on a copy but its response is never released, and the stored counter is as it
    /// was. Failing reads and unknown records are refused the same way.
    struct FailingWrites(MemoryOprfRecordStore);

    impl OprfRecordStore for FailingWrites {
        fn insert(&self, record: OprfRecord) -> Result<(), KekError> {
            self.0.insert(record)
        }
        fn load(&self, id: &RecordId) -> Result<OprfRecord, KekError> {
            self.0.load(id)
        }
        fn update(
            &self,
            id: &RecordId,
            f: &mut dyn FnMut(&mut OprfRecord) -> Result<(), KekError>,
        ) -> Result<(), KekError> {
            let mut copy = self.0.load(id)?;
            f(&mut copy)?;
            Err(KekError::Store(StoreError::Unavailable))
        }
    }

    #[test]
    fn a_failed_write_releases_no_response() {
        let mut rng = ChaCha20Rng::seed_from_u64(41);
        let key = OprfServerKey::from_seed(SecretBytes::new([0x41; 32]));
        let healthy = OprfServer::new(
            OprfServerKey::from_seed(SecretBytes::new([0x41; 32])),
            MemoryOprfRecordStore::new(),
        );
        let (env, _, slot, record) = enrolled(&healthy, 3, &mut rng);
        // The same records behind a store that cannot write.
        let broken = OprfServer::new(key, FailingWrites(MemoryOprfRecordStore::new()));
        broken
            .store()
            .insert(healthy.store().load(&record).unwrap())
            .unwrap();
        let (_, req) = OprfPending::unlock(&env, slot, ANSWER, &mut rng).unwrap();
        assert_eq!(
            broken.evaluate(&req, &mut rng).unwrap_err(),
            KekError::Store(StoreError::Unavailable)
        );
        assert_eq!(broken.attempts_left(&record).unwrap(), 3);
        assert_eq!(
            broken.challenge(&record, &mut rng).unwrap_err(),
            KekError::Store(StoreError::Unavailable)
        );
        let unknown = OprfRequest::from_bytes(&{
            let mut b = req.to_bytes();
            b[4] ^= 1; // the record id is the first field of the body
            b
        })
        .unwrap();
        assert_eq!(
            healthy.evaluate(&unknown, &mut rng).unwrap_err(),
            KekError::Store(StoreError::NotFound)
        );
        assert_eq!(healthy.attempts_left(&record).unwrap(), 3);
    }

    /// One try per reset nonce, across restarts: a wrong proof consumes the pending nonce and
    /// that is stored, so the right proof for the same nonce, sent afterwards to a restarted
    /// server over the same store, is refused; a fresh challenge works.
    #[test]
    fn a_failed_reset_consumes_its_nonce_for_good() {
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let store = MemoryOprfRecordStore::new();
        let seed = [0x42; 32];
        let server = OprfServer::new(OprfServerKey::from_seed(SecretBytes::new(seed)), &store);
        let (env, prf, slot, record) = enrolled(&server, 3, &mut rng);
        let (_, req) = OprfPending::unlock(&env, slot, "Rex", &mut rng).unwrap();
        let resp = server.evaluate(&req, &mut rng).unwrap();
        assert_eq!(server.attempts_left(&record).unwrap(), 2);
        let unlocked = env
            .open(&Credential::Prf {
                credential_id: b"cred",
                output: &prf,
            })
            .unwrap();
        let right = unlocked.oprf_reset_proof(&record, resp.nonce()).unwrap();
        let wrong = unlocked.oprf_reset_proof(&record, &[0; 32]).unwrap();
        assert_eq!(server.reset(&wrong).unwrap_err(), KekError::OprfBadReset);
        drop(server);
        let restarted = OprfServer::new(OprfServerKey::from_seed(SecretBytes::new(seed)), &store);
        assert_eq!(restarted.reset(&right).unwrap_err(), KekError::OprfBadReset);
        assert_eq!(restarted.attempts_left(&record).unwrap(), 2);
        let ch = restarted.challenge(&record, &mut rng).unwrap();
        restarted
            .reset(&unlocked.oprf_reset_proof(&record, ch.nonce()).unwrap())
            .unwrap();
        assert_eq!(restarted.attempts_left(&record).unwrap(), 3);
    }

    /// A record id registered twice is refused: a second enrolment (or an attacker who knows
    /// the id) cannot replace the record's reset key or zero its counter.
    #[test]
    fn a_record_cannot_be_registered_twice() {
        let mut rng = ChaCha20Rng::seed_from_u64(43);
        let server = OprfServer::new(
            OprfServerKey::generate(&mut rng),
            MemoryOprfRecordStore::new(),
        );
        let (env, _, slot, record) = enrolled(&server, 3, &mut rng);
        let (_, req) = OprfPending::unlock(&env, slot, "Rex", &mut rng).unwrap();
        server.evaluate(&req, &mut rng).unwrap();
        assert_eq!(
            server
                .register(record, SecretBytes::new([0; 32]), 3)
                .unwrap_err(),
            KekError::Store(StoreError::AlreadyUsed)
        );
        assert_eq!(server.attempts_left(&record).unwrap(), 2);
        assert!(format!("{server:?}").contains("<redacted>"));
    }
}

/// A rekey cannot carry a hardened slot over: under the new DEK no unlock could reset the
/// server's counter again (the reset key is derived from the DEK), so a kept slot would lock
/// itself after `MAX` correct answers. The rekey with the passkey drops the hardened slot, and
/// a new enrolment on the rekeyed envelope works and resets.
#[test]
fn rekey_refuses_to_carry_a_hardened_slot() {
    let mut w = world(12, HardenedKind::RecoveryAnswer, ANSWER);
    let (pending, req) = OprfPending::unlock(&w.env, w.slot, ANSWER, &mut w.rng).unwrap();
    let resp = evaluate(&mut w, &req).unwrap();
    let factor = pending.finish(&resp).unwrap();
    let hardened = Credential::Hardened {
        slot: w.slot,
        factor: &factor,
    };
    let passkey = Credential::Prf {
        credential_id: b"cred",
        output: &w.prf,
    };
    assert_eq!(
        w.env.rekey(&[passkey, hardened], &mut w.rng).unwrap_err(),
        KekError::WrongSlotKind
    );
    let rekeyed = w.env.rekey(&[passkey], &mut w.rng).unwrap();
    assert!(
        rekeyed.slot(w.slot).is_none(),
        "the hardened slot is dropped"
    );
    // The old reset key no longer matches the rekeyed envelope's DEK.
    let old_key = passkey_unlock(&w)
        .oprf_reset_key(w.record.record())
        .unwrap();
    let new_key = rekeyed
        .open(&passkey)
        .unwrap()
        .oprf_reset_key(w.record.record())
        .unwrap();
    assert_ne!(old_key.expose(), new_key.expose());
    // Enrolling again on the rekeyed envelope gives a slot whose unlock resets.
    w.env = rekeyed;
    let (slot, record) = enrol(&mut w, HardenedKind::RecoveryAnswer, ANSWER);
    w.slot = slot;
    w.record = record;
    assert!(try_unlock(&mut w, ANSWER).is_ok());
    assert_eq!(w.record.failures(), 0);
}

// ---------------------------------------------------------------------------------------------
// Record keys certified by the server's identity (`oprf_identity`, SPEC §10.4).
// ---------------------------------------------------------------------------------------------

mod certified {
    use super::*;
    use wallet_kek::oprf_server::{MemoryOprfRecordStore, OprfServer};
    use wallet_kek::{OprfIdentity, RecordKeyCertificate};

    /// Enrolment with a pinned identity: the client takes the record key only from a
    /// certificate that verifies under the identity it ships with, and the slot then works.
    /// An impostor that answers the registration with a key (and certificate) of its own is
    /// refused before anything is evaluated.
    #[test]
    fn certified_enrolment_and_an_impostor() {
        let mut rng = ChaCha20Rng::seed_from_u64(50);
        let server = OprfServer::new(
            OprfServerKey::generate(&mut rng),
            MemoryOprfRecordStore::new(),
        );
        let pinned = server.key().identity().unwrap();
        let record = RecordId::random(&mut rng);
        let cert = server
            .register_certified(record, SecretBytes::new([9; 32]), 3)
            .unwrap();
        let cert = RecordKeyCertificate::from_bytes(&cert.to_bytes()).unwrap();
        let pk = cert.verify(&pinned, &record).unwrap();
        assert_eq!(pk, server.key().public_key(&record).unwrap());
        let (pending, req) = OprfPending::enrol(
            &WalletId([1; 32]),
            HardenedKind::Password,
            record,
            pk,
            "pw",
            &mut rng,
        )
        .unwrap();
        let resp = server.evaluate(&req, &mut rng).unwrap();
        assert!(pending.finish(&resp).is_ok());

        // The impostor: its own seed, a certificate under its own identity.
        let impostor = OprfServerKey::generate(&mut rng);
        let forged = impostor.certify(&record).unwrap();
        assert_eq!(
            forged.verify(&pinned, &record).unwrap_err(),
            KekError::OprfBadCertificate
        );
        assert!(
            forged
                .verify(&impostor.identity().unwrap(), &record)
                .is_ok()
        );
        // A genuine certificate of another record does not certify this one.
        let other = RecordId::random(&mut rng);
        server
            .register(other, SecretBytes::new([8; 32]), 3)
            .unwrap();
        assert_eq!(
            server
                .key()
                .certify(&other)
                .unwrap()
                .verify(&pinned, &record)
                .unwrap_err(),
            KekError::OprfBadCertificate
        );
        // Any altered byte of the certificate: refused on decode or on verification.
        let bytes = cert.to_bytes();
        for i in 4..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            if let Ok(c) = RecordKeyCertificate::from_bytes(&b) {
                assert!(c.verify(&pinned, &record).is_err(), "byte {i}");
            }
        }
        // A malformed identity is refused, not a panic.
        assert_eq!(
            cert.verify(&OprfIdentity([0xff; 32]), &record).unwrap_err(),
            KekError::OprfBadCertificate
        );
    }

    /// SPEC §10.4 known answers: server seed `00 01 … 1f`, record `60 61 … 7f` (KAT-6's); the
    /// identity and the certificate (Ed25519 is deterministic). Reproduced independently by
    /// `tests/python/oprf_check.py`.
    #[test]
    fn kat7_identity_and_certificate() {
        let server = OprfServerKey::from_seed(SecretBytes::new(seq(0x00)));
        let record = RecordId(seq(0x60));
        let identity = server.identity().unwrap();
        let cert = server.certify(&record).unwrap();
        if std::env::var_os("WALLET_KEK_DUMP_KAT").is_some() {
            eprintln!("identity {}", hex::encode(identity.0));
            eprintln!("certificate {}", hex::encode(cert.to_bytes()));
        }
        assert_eq!(identity.0, arr::<32>(KAT7_IDENTITY));
        assert_eq!(cert.to_bytes(), unhex(KAT7_CERTIFICATE));
        assert!(cert.verify(&identity, &record).is_ok());
    }

    const KAT7_IDENTITY: &str = "3bf0905171facf80d054bb86591358f3bc8ba87718300deb8e3e041ef8fa9936";
    const KAT7_CERTIFICATE: &str = concat!(
        "01040800",
        "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f",
        "2c254502fab63d318d65ccc147d6f4e0f381fb3dcc7e388e0f510ab0dcc68a55",
        "51c8dfab1a2ad1eab818565d3a6fd9bb1c48e4b4be83ea35be67e5049e87f435",
        "53b63d9aabe3a638216f409b130ab1be4054abd35e73eb0fae051e78a0fcb506",
    );
}
