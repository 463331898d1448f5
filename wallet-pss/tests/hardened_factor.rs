//! Backup factors protected by a recovery answer or password that nobody can guess offline
//! (issue 19, the wallet-pss part): a random factor key sealed under an OPRF-hardened
//! wallet-kek slot, enrolled, reshared to, recovered through the guess-limited server; what
//! the published public key gives an attacker (nothing, against everything the derived factor
//! gives); envelopes a store delivers that are stale, of another kind, curve or tampered.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_kek::oprf_server::{MemoryOprfRecordStore, OprfServer};
use wallet_kek::{
    Argon2Params, Credential, Envelope, HardenedKind, KekError, NewSlot, OprfPending, OprfRequest,
    OprfResponse, OprfServerKey, Payload, PrfOutput, PrfSalt, RecordId, SlotId, SlotParams,
    Unlocked, WalletId,
};
use wallet_pss::PssError;
use wallet_pss::factor::{FactorKey, KIND_FACTOR_KEY};
use wallet_pss::share_set::{open_share, reshare_share_set};
use wallet_sss::{Commitments, Share, reconstruct, split};
use wallet_types::{
    Curve, DecodeError, Ed25519, Parties, PartyId, Secp256k1, SecretBytes, SecretScalar, SecretVec,
    WireObject,
};

const QUESTION: &str = "First pet?";
const ANSWER: &str = "Mr. Whiskers";
const MAX: u32 = 3;

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

/// The guess-limited OPRF server of the account: wallet-kek's stored server, every message
/// passing through its wire encoding.
struct Server(OprfServer<MemoryOprfRecordStore>);

impl Server {
    fn new(seed: [u8; 32]) -> Self {
        Self(OprfServer::new(
            OprfServerKey::from_seed(SecretBytes::new(seed)),
            MemoryOprfRecordStore::new(),
        ))
    }

    /// One evaluation over the wire (counted and stored before it answers).
    fn evaluate(&self, req: &OprfRequest, rng: &mut ChaCha20Rng) -> Result<OprfResponse, KekError> {
        let req = OprfRequest::from_bytes(&req.to_bytes()).unwrap();
        let resp = self.0.evaluate(&req, rng)?;
        Ok(OprfResponse::from_bytes(&resp.to_bytes()).unwrap())
    }

    fn failures(&self, record: &RecordId) -> u32 {
        MAX - self.0.attempts_left(record).unwrap()
    }
}

/// A passkey that the enrolling device holds (its PRF output for the slot's salt).
struct Passkey {
    prf: PrfOutput,
}

impl Passkey {
    fn slot<'a>(&'a self, rng: &mut ChaCha20Rng) -> NewSlot<'a> {
        NewSlot::Prf {
            credential_id: b"device-1",
            rp_id: "wallet.example",
            salt: PrfSalt::random(rng),
            output: &self.prf,
        }
    }
    fn credential(&self) -> Credential<'_> {
        Credential::Prf {
            credential_id: b"device-1",
            output: &self.prf,
        }
    }
}

/// Enrols a hardened recovery-answer slot for `answer` into `env` (opened with the device's
/// passkey), the wallet-kek way: register the record with a reset key of the envelope, one
/// enrolment evaluation, add the slot, reset the counter with the opened envelope's proof.
fn enrol(
    env: &mut Envelope,
    passkey: &Passkey,
    server: &Server,
    answer: &str,
    rng: &mut ChaCha20Rng,
) -> (SlotId, RecordId) {
    let unlocked = env.open(&passkey.credential()).unwrap();
    let record = RecordId::random(rng);
    let pk = server
        .0
        .register(record, unlocked.oprf_reset_key(&record).unwrap(), MAX)
        .unwrap();
    let (pending, req) = OprfPending::enrol(
        env.wallet_id(),
        HardenedKind::RecoveryAnswer,
        record,
        pk,
        answer,
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
    let proof = unlocked.oprf_reset_proof(&record, resp.nonce()).unwrap();
    server.0.reset(&proof).unwrap();
    (slot, record)
}

/// The recovering client: one OPRF evaluation, open the hardened slot, take the factor and
/// check it against the recorded public key, reset the server's counter.
fn recover<C: Curve>(
    env: &Envelope,
    slot: SlotId,
    answer: &str,
    expected: &C::Point,
    server: &Server,
    rng: &mut ChaCha20Rng,
) -> Result<FactorKey<C>, PssError> {
    let (pending, req) = OprfPending::unlock(env, slot, answer, rng)?;
    let resp = server.evaluate(&req, rng)?;
    let hardened = pending.finish(&resp)?;
    let unlocked: Unlocked = env.open(&Credential::Hardened {
        slot,
        factor: &hardened,
    })?;
    let factor = FactorKey::<C>::from_unlocked(&unlocked)?.expect_public(expected)?;
    let proof = unlocked.oprf_reset_proof(resp.record(), resp.nonce())?;
    server.0.reset(&proof)?;
    Ok(factor)
}

struct Account {
    secret: SecretScalar<Secp256k1>,
    shares: Vec<Share<Secp256k1>>,
    commitments: Commitments<Secp256k1>,
}

fn account(rng: &mut ChaCha20Rng) -> Account {
    let secret = SecretScalar::<Secp256k1>::random(rng);
    let (shares, commitments) = split(&secret, 2, &Parties::range(3).unwrap(), rng).unwrap();
    Account {
        secret,
        shares,
        commitments,
    }
}

/// The whole life of a hardened backup factor: enrolled by device 1, made a recipient of a
/// reshare (party 9, in place of the lost device 3), recovered by a new client from the stored
/// envelope and the answer alone, and its share combined with device 2's.
#[test]
fn enrol_reshare_recover() {
    let mut rng = ChaCha20Rng::seed_from_u64(190);
    let acct = account(&mut rng);
    let wallet = WalletId::random(&mut rng);
    let server = Server::new([0x5e; 32]);
    let passkey = Passkey {
        prf: PrfOutput::new([7; 32]),
    };

    // Enrolment on device 1: a random factor, sealed with the device's passkey first, the
    // hardened slot added, the passkey slot removed (the backup must not depend on it).
    let backup = FactorKey::<Secp256k1>::random(&mut rng);
    let first = passkey.slot(&mut rng);
    let mut env = backup.seal(wallet, &first, &mut rng).unwrap();
    let passkey_slot = env.slots()[0].id();
    let (slot, record) = enrol(&mut env, &passkey, &server, ANSWER, &mut rng);
    let unlocked = env.open(&passkey.credential()).unwrap();
    env.remove_slot(&unlocked, passkey_slot, &mut rng).unwrap();
    drop(unlocked);
    assert_eq!(env.slots().len(), 1);
    assert!(matches!(
        env.slots()[0].params(),
        SlotParams::HardenedRecoveryAnswer { .. }
    ));
    let stored = env.to_bytes();
    let published = *backup.public();
    drop(backup);

    // The reshare: devices 1 and 2 keep their factors, the backup factor joins as party 9.
    let devices: BTreeMap<PartyId, FactorKey<Secp256k1>> =
        [1, 2].map(|i| (pid(i), FactorKey::random(&mut rng))).into();
    let mut recipients: BTreeMap<PartyId, _> =
        devices.iter().map(|(p, k)| (*p, *k.public())).collect();
    recipients.insert(pid(9), published);
    let bundle = reshare_share_set(
        &acct.shares[..2],
        &acct.commitments,
        0,
        &recipients,
        2,
        &mut rng,
    )
    .unwrap();
    let (wallet_key, old_set) = (acct.commitments.public_key(), acct.shares[0].set_id());

    // Recovery on a new client: the stored envelope, the answer as typed (normalised), one
    // counted evaluation that the reset proof then clears.
    let env = Envelope::from_bytes(&stored).unwrap();
    assert_eq!(
        FactorKey::<Secp256k1>::open_sealed(&env, &passkey.credential()).unwrap_err(),
        PssError::Kek(KekError::Unwrap),
        "the removed passkey slot opens nothing"
    );
    let factor =
        recover::<Secp256k1>(&env, slot, "  mr. WHISKERS ", &published, &server, &mut rng).unwrap();
    assert_eq!(server.failures(&record), 0);
    let mine = open_share(&bundle, &wallet_key, &old_set, pid(9), &factor).unwrap();
    let other = open_share(&bundle, &wallet_key, &old_set, pid(2), &devices[&pid(2)]).unwrap();
    assert_eq!(
        reconstruct(&[mine, other]).unwrap().expose(),
        acct.secret.expose()
    );
}

/// Wrong answers are counted by the server, `MAX` of them lock the record (the right answer is
/// then refused before anything is evaluated), and only a reset proof from an opened envelope
/// — here the device's passkey slot, kept for that — lifts the lock.
#[test]
fn wrong_answers_count_and_lock_the_factor() {
    let mut rng = ChaCha20Rng::seed_from_u64(191);
    let wallet = WalletId::random(&mut rng);
    let server = Server::new([0x42; 32]);
    let passkey = Passkey {
        prf: PrfOutput::new([9; 32]),
    };
    let backup = FactorKey::<Ed25519>::random(&mut rng);
    let first = passkey.slot(&mut rng);
    let mut env = backup.seal(wallet, &first, &mut rng).unwrap();
    let (slot, record) = enrol(&mut env, &passkey, &server, ANSWER, &mut rng);

    for n in 1..=MAX {
        assert_eq!(
            recover::<Ed25519>(&env, slot, "Rex", backup.public(), &server, &mut rng).unwrap_err(),
            PssError::Kek(KekError::Unwrap)
        );
        assert_eq!(server.failures(&record), n);
    }
    assert_eq!(
        recover::<Ed25519>(&env, slot, ANSWER, backup.public(), &server, &mut rng).unwrap_err(),
        PssError::Kek(KekError::OprfLockedOut)
    );
    assert_eq!(
        server.failures(&record),
        MAX,
        "a refused request counts nothing"
    );

    // A proof from another envelope (another DEK) does not reset it.
    let other = FactorKey::<Ed25519>::random(&mut rng)
        .seal(wallet, &passkey.slot(&mut rng), &mut rng)
        .unwrap();
    let challenge = server.0.challenge(&record, &mut rng).unwrap();
    let foreign = other
        .open(&passkey.credential())
        .unwrap()
        .oprf_reset_proof(&record, challenge.nonce())
        .unwrap();
    assert_eq!(
        server.0.reset(&foreign).unwrap_err(),
        KekError::OprfBadReset
    );
    assert_eq!(server.0.attempts_left(&record).unwrap(), 0, "still locked");

    // The device that kept its passkey slot resets the record; the answer works again.
    let challenge = server.0.challenge(&record, &mut rng).unwrap();
    let proof = env
        .open(&passkey.credential())
        .unwrap()
        .oprf_reset_proof(&record, challenge.nonce())
        .unwrap();
    server.0.reset(&proof).unwrap();
    let f = recover::<Ed25519>(&env, slot, ANSWER, backup.public(), &server, &mut rng).unwrap();
    assert_eq!(f.public(), backup.public());
}

/// Why the derived factor is deprecated, and what the sealed one changes. The derived factor's
/// published public key lets anyone test a guess: one Argon2id and one scalar multiplication,
/// no server, no limit. The sealed factor's public key is a function of random bytes only: the
/// OPRF server, which knows its key, the record, the slot's public values and the published
/// public key, computes the hardened KEK of the **right** answer and still has nothing to test
/// it against — re-enrolling the same factor under another answer leaves the public key as it
/// was, so no function of the answer can be compared with it.
#[test]
fn the_published_public_key_tests_no_guess() {
    let mut rng = ChaCha20Rng::seed_from_u64(192);
    let wallet = WalletId::random(&mut rng);
    let salt = [3u8; 16];

    // The derived factor: its public key is a password verifier for anyone.
    #[allow(deprecated)]
    let derived = FactorKey::<Secp256k1>::from_recovery_answer(
        ANSWER,
        &salt,
        &Argon2Params::DEFAULT,
        &wallet,
    )
    .unwrap();
    let published_derived = *derived.public();
    let attacker_test = |guess: &str| {
        #[allow(deprecated)]
        let k = FactorKey::<Secp256k1>::from_recovery_answer(
            guess,
            &salt,
            &Argon2Params::DEFAULT,
            &wallet,
        )
        .unwrap();
        *k.public() == published_derived
    };
    assert!(!attacker_test("Rex"));
    assert!(
        attacker_test(" mr. WHISKERS"),
        "the offline test the deprecation is about"
    );

    // The sealed factor.
    let server = Server::new([0x77; 32]);
    let passkey = Passkey {
        prf: PrfOutput::new([1; 32]),
    };
    let backup = FactorKey::<Secp256k1>::random(&mut rng);
    let mut env = backup
        .seal(wallet, &passkey.slot(&mut rng), &mut rng)
        .unwrap();
    let (slot, record) = enrol(&mut env, &passkey, &server, ANSWER, &mut rng);
    let published = *backup.public();

    // The derived factor of the right answer under the slot's own Argon2 salt and costs is
    // not it either.
    let SlotParams::HardenedRecoveryAnswer {
        params,
        salt: argon_salt,
        ..
    } = env.slot(slot).unwrap().params().clone()
    else {
        panic!("hardened slot")
    };
    #[allow(deprecated)]
    let derived_right =
        FactorKey::<Secp256k1>::from_recovery_answer(ANSWER, &argon_salt, &params, &wallet)
            .unwrap();
    assert_ne!(*derived_right.public(), published);
    let _ = record;

    // The same factor re-enrolled under another answer (and the first slot removed): the
    // public key is unchanged, and only the new answer opens.
    let (new_slot, _new_record) = enrol(&mut env, &passkey, &server, "Rex", &mut rng);
    let unlocked = env.open(&passkey.credential()).unwrap();
    env.remove_slot(&unlocked, slot, &mut rng).unwrap();
    drop(unlocked);
    let f = recover::<Secp256k1>(&env, new_slot, "Rex", &published, &server, &mut rng).unwrap();
    assert_eq!(*f.public(), published);
    assert!(matches!(
        recover::<Secp256k1>(&env, new_slot, ANSWER, &published, &server, &mut rng),
        Err(PssError::Kek(KekError::Unwrap))
    ));
}

/// The migration from a derived factor: a new sealed factor takes party 9's place in a reshare;
/// the derived factor's old share stays in the old share set, which the new shares refuse.
#[test]
fn migration_from_a_derived_factor() {
    let mut rng = ChaCha20Rng::seed_from_u64(193);
    let secret = SecretScalar::<Secp256k1>::random(&mut rng);
    let wallet = WalletId::random(&mut rng);
    let salt = [4u8; 16];
    #[allow(deprecated)]
    let derived = FactorKey::<Secp256k1>::from_password(
        "hunter2 hunter2",
        &salt,
        &Argon2Params::DEFAULT,
        &wallet,
    )
    .unwrap();
    let device = FactorKey::<Secp256k1>::random(&mut rng);
    // Epoch 0 → 1: the account as it is today, device 1 and the derived backup factor (9).
    let (shares0, c0) = split(&secret, 2, &Parties::range(2).unwrap(), &mut rng).unwrap();
    let r1: BTreeMap<PartyId, _> = [(pid(1), *device.public()), (pid(9), *derived.public())].into();
    let b1 = reshare_share_set(&shares0, &c0, 0, &r1, 2, &mut rng).unwrap();
    let wallet_key = c0.public_key();
    let s1_dev = open_share(&b1, &wallet_key, &shares0[0].set_id(), pid(1), &device).unwrap();
    let s1_old_backup =
        open_share(&b1, &wallet_key, &shares0[0].set_id(), pid(9), &derived).unwrap();
    let c1 = b1.commitments().clone();

    // Migration: device 1 seals a new random factor under a hardened slot and reshares with
    // it in party 9's place (device 1 holds its share and rebuilds from t = 2 with the old
    // backup's share, which the user opens once more with the password).
    let server = Server::new([0x33; 32]);
    let passkey = Passkey {
        prf: PrfOutput::new([2; 32]),
    };
    let sealed = FactorKey::<Secp256k1>::random(&mut rng);
    let mut env = sealed
        .seal(wallet, &passkey.slot(&mut rng), &mut rng)
        .unwrap();
    let (slot, _) = enrol(&mut env, &passkey, &server, "hunter2 hunter2", &mut rng);
    let r2: BTreeMap<PartyId, _> = [(pid(1), *device.public()), (pid(9), *sealed.public())].into();
    let b2 = reshare_share_set(
        &[s1_dev.duplicate(), s1_old_backup.duplicate()],
        &c1,
        1,
        &r2,
        2,
        &mut rng,
    )
    .unwrap();
    let set1 = s1_dev.set_id();
    let factor = recover::<Secp256k1>(
        &env,
        slot,
        "hunter2 hunter2",
        sealed.public(),
        &server,
        &mut rng,
    )
    .unwrap();
    let s2_backup = open_share(&b2, &wallet_key, &set1, pid(9), &factor).unwrap();
    let s2_dev = open_share(&b2, &wallet_key, &set1, pid(1), &device).unwrap();
    assert_eq!(
        reconstruct(&[s2_dev.duplicate(), s2_backup])
            .unwrap()
            .expose(),
        secret.expose()
    );
    // The derived factor opens nothing of the new epoch, and its old share does not combine
    // with a new one.
    assert_eq!(
        open_share(&b2, &wallet_key, &set1, pid(9), &derived).unwrap_err(),
        PssError::Decrypt
    );
    assert!(reconstruct(&[s2_dev, s1_old_backup]).is_err());
}

/// What a store may deliver instead of the current envelope: the envelope of a factor a
/// reshare replaced (opens, refused by `expect_public`), an envelope of another payload kind,
/// of the other curve, with a malformed factor inside, or tampered anywhere (never opens to a
/// factor).
#[test]
fn store_delivered_envelopes_are_checked() {
    let mut rng = ChaCha20Rng::seed_from_u64(194);
    let wallet = WalletId::random(&mut rng);
    let passkey = Passkey {
        prf: PrfOutput::new([5; 32]),
    };
    let current = FactorKey::<Secp256k1>::random(&mut rng);
    let env = current
        .seal(wallet, &passkey.slot(&mut rng), &mut rng)
        .unwrap();
    let cred = passkey.credential();
    assert_eq!(
        FactorKey::<Secp256k1>::open_sealed(&env, &cred)
            .unwrap()
            .expect_public(current.public())
            .unwrap()
            .public(),
        current.public()
    );

    // A replaced factor's envelope: a valid factor, not the current one.
    let replaced = FactorKey::<Secp256k1>::random(&mut rng);
    let stale = replaced
        .seal(wallet, &passkey.slot(&mut rng), &mut rng)
        .unwrap();
    assert_eq!(
        FactorKey::<Secp256k1>::open_sealed(&stale, &cred)
            .unwrap()
            .expect_public(current.public())
            .unwrap_err(),
        PssError::WrongFactor
    );

    // Another payload kind (a wallet key envelope opened with the same passkey).
    let (key_env, _) =
        Envelope::generate_secp256k1(wallet, &passkey.slot(&mut rng), &mut rng).unwrap();
    assert_eq!(
        FactorKey::<Secp256k1>::open_sealed(&key_env, &cred).unwrap_err(),
        PssError::Kek(KekError::WrongPayloadKind)
    );
    // An opaque payload of another tag.
    let other_tag = Envelope::seal(
        wallet,
        &Payload::opaque(0x0502, current.to_secret_bytes()).unwrap(),
        &passkey.slot(&mut rng),
        &mut rng,
    )
    .unwrap();
    assert_eq!(
        FactorKey::<Secp256k1>::open_sealed(&other_tag, &cred).unwrap_err(),
        PssError::Kek(KekError::WrongPayloadKind)
    );

    // The other curve.
    let ed = FactorKey::<Ed25519>::random(&mut rng)
        .seal(wallet, &passkey.slot(&mut rng), &mut rng)
        .unwrap();
    assert!(matches!(
        FactorKey::<Secp256k1>::open_sealed(&ed, &cred).unwrap_err(),
        PssError::Decode(DecodeError::WrongCurve { .. })
    ));

    // The right tag around a malformed factor: zero, out of range, short, long.
    let header = current.to_secret_bytes().expose()[..4].to_vec();
    let n_bytes =
        hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141").unwrap();
    for body in [vec![0u8; 32], n_bytes, vec![1u8; 31], vec![1u8; 33]] {
        let bytes = [header.as_slice(), body.as_slice()].concat();
        let bad = Envelope::seal(
            wallet,
            &Payload::opaque(KIND_FACTOR_KEY.0, SecretVec::from_slice(&bytes)).unwrap(),
            &passkey.slot(&mut rng),
            &mut rng,
        )
        .unwrap();
        assert!(
            matches!(
                FactorKey::<Secp256k1>::open_sealed(&bad, &cred).unwrap_err(),
                PssError::Decode(_)
            ),
            "{}",
            hex::encode(&body)
        );
    }

    // Every single-bit flip of the stored envelope: refused on decode or on open, never a
    // factor.
    let stored = env.to_bytes();
    for i in 0..stored.len() {
        for bit in [0x01u8, 0x80] {
            let mut b = stored.clone();
            b[i] ^= bit;
            if let Ok(e) = Envelope::from_bytes(&b) {
                let r = FactorKey::<Secp256k1>::open_sealed(&e, &cred);
                assert!(r.is_err(), "flip of byte {i} opened");
            }
        }
    }
}

/// What the envelope store can do alone with everything it holds — the envelope, the published
/// factor key, every public value of the slot — and even the right answer: it has no valid
/// OPRF output. An evaluation under an OPRF key of its own (an impostor server for the same
/// record id) fails the proof against the key pinned in the slot, so the client refuses it;
/// the real server's counter is untouched. (wallet-kek's `tests/oprf.rs` shows that no output
/// the store can compute opens the slot's wrapped DEK.)
#[test]
fn the_store_alone_cannot_open_the_factor() {
    let mut rng = ChaCha20Rng::seed_from_u64(195);
    let wallet = WalletId::random(&mut rng);
    let server = Server::new([0x21; 32]);
    let passkey = Passkey {
        prf: PrfOutput::new([6; 32]),
    };
    let backup = FactorKey::<Secp256k1>::random(&mut rng);
    let mut env = backup
        .seal(wallet, &passkey.slot(&mut rng), &mut rng)
        .unwrap();
    let first = env.slots()[0].id();
    let (slot, record) = enrol(&mut env, &passkey, &server, ANSWER, &mut rng);
    let unlocked = env.open(&passkey.credential()).unwrap();
    env.remove_slot(&unlocked, first, &mut rng).unwrap();
    drop(unlocked);
    let stored = Envelope::from_bytes(&env.to_bytes()).unwrap();

    let impostor = Server::new([0x99; 32]);
    impostor
        .0
        .register(record, SecretBytes::new([0; 32]), MAX)
        .unwrap();
    assert_eq!(
        recover::<Secp256k1>(&stored, slot, ANSWER, backup.public(), &impostor, &mut rng)
            .unwrap_err(),
        PssError::Kek(KekError::OprfBadProof { record: record.0 })
    );
    assert_eq!(server.failures(&record), 0);
    // The real server's evaluation opens it.
    let f =
        recover::<Secp256k1>(&stored, slot, ANSWER, backup.public(), &server, &mut rng).unwrap();
    assert_eq!(f.public(), backup.public());
}
