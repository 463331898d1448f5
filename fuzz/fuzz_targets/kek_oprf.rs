//! wallet-kek's OPRF messages and server state from arbitrary bytes (first byte selects the
//! object): a decoded object re-encodes to the same bytes; a decoded request given to the
//! server either is answered (one failure counted) or is refused with the record unchanged;
//! the stored server (`oprf_server`) answers exactly when it has stored the count;
//! a decoded response given to a client never panics; a decoded reset proof never resets a
//! record it was not made for; a decoded record-key certificate never verifies under the fixed
//! server's identity.
//!
//! Never panics except on a broken invariant.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_kek::oprf_server::{MemoryOprfRecordStore, OprfRecordStore, OprfServer};
use wallet_kek::{
    HardenedKind, OprfPending, OprfRecord, OprfRequest, OprfResponse, OprfServerKey, RecordId,
    RecordKeyCertificate, ResetChallenge, ResetProof, WalletId,
};
use wallet_types::{SecretBytes, WireObject};

fn server() -> (OprfServerKey, OprfRecord) {
    let key = OprfServerKey::from_seed(SecretBytes::new([7; 32]));
    let (rec, _) = key
        .register(RecordId([1; 32]), SecretBytes::new([2; 32]), 5)
        .unwrap();
    (key, rec)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    match mode % 7 {
        0 => {
            if let Ok(req) = OprfRequest::from_bytes(bytes) {
                assert_eq!(req.to_bytes(), bytes);
                let (key, mut rec) = server();
                match key.evaluate(&mut rec, &req, &mut rng) {
                    Ok(_) => assert_eq!(rec.failures(), 1),
                    Err(_) => assert_eq!(rec.failures(), 0),
                }
                // The same through the stored server: answered iff counted in the store.
                let (key, rec) = server();
                let stored = OprfServer::new(key, MemoryOprfRecordStore::new());
                stored.store().insert(rec).unwrap();
                let answered = stored.evaluate(&req, &mut rng).is_ok();
                let left = stored.attempts_left(&RecordId([1; 32])).unwrap();
                assert_eq!(left, if answered { 4 } else { 5 });
            }
        }
        1 => {
            if let Ok(resp) = OprfResponse::from_bytes(bytes) {
                assert_eq!(resp.to_bytes(), bytes);
                let (key, _) = server();
                let pk = key.public_key(&RecordId([1; 32])).unwrap();
                let (pending, _) = OprfPending::enrol(
                    &WalletId([3; 32]),
                    HardenedKind::Password,
                    RecordId([1; 32]),
                    pk,
                    "pw",
                    &mut rng,
                )
                .unwrap();
                // Forged responses never verify under the pinned key.
                assert!(pending.finish(&resp).is_err());
            }
        }
        2 => {
            if let Ok(p) = ResetProof::from_bytes(bytes) {
                assert_eq!(p.to_bytes(), bytes);
                let (key, mut rec) = server();
                let _ = rec.challenge(&mut rng);
                let req = {
                    let (pending, req) = OprfPending::enrol(
                        &WalletId([3; 32]),
                        HardenedKind::Password,
                        RecordId([1; 32]),
                        key.public_key(&RecordId([1; 32])).unwrap(),
                        "pw",
                        &mut rng,
                    )
                    .unwrap();
                    drop(pending);
                    req
                };
                key.evaluate(&mut rec, &req, &mut rng).unwrap();
                assert!(rec.reset(&p).is_err());
                assert_eq!(rec.failures(), 1);
            }
        }
        3 => {
            if let Ok(c) = ResetChallenge::from_bytes(bytes) {
                assert_eq!(c.to_bytes(), bytes);
            }
        }
        4 => {
            if let Ok(r) = OprfRecord::from_bytes(bytes) {
                assert_eq!(r.to_secret_bytes().expose(), bytes);
                assert!(r.failures() <= r.max_attempts());
            }
        }
        5 => {
            // A decoded certificate never verifies under the fixed server's identity (no fuzz
            // input was signed by it).
            if let Ok(c) = RecordKeyCertificate::from_bytes(bytes) {
                assert_eq!(c.to_bytes(), bytes);
                let (key, _) = server();
                let identity = key.identity().unwrap();
                assert!(c.verify(&identity, c.record()).is_err());
            }
        }
        _ => {
            if let Ok(k) = OprfServerKey::from_bytes(bytes) {
                assert_eq!(k.to_secret_bytes().expose(), bytes);
            }
        }
    }
});
