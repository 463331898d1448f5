//! Drives the two-party ECDSA machines (keygen, presign, sign) with arbitrary message sequences,
//! presign and sign working on key stores: every call returns (an output, a rejection or a
//! blame) and never panics; machines may be saved and restored onto their store after every
//! message. A fourth mode hands `partial_sign` arbitrary bytes as a stored presignature (what a
//! corrupted or hostile storage backend delivers): refused, never opened, never a panic.
//!
//! Input: a selector byte (low bits: the machine; bit 7: restore after every message), then
//! messages as `u16be(len) || Envelope<M>` bytes (mode 3: `id[32] || sealed bytes`).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::{
    DerivationPath, KeyShare, Keygen, MemoryKeyStore, Presign, PresignatureInfo, Sign, partial_sign,
};
use wallet_types::{
    Envelope, OneTimeStore, Parties, PartyId, Protocol, SecretVec, SessionId, Step, WireObject,
};

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

/// The encodings of a 2-of-2 key's shares, generated once per process by an honest run.
fn keys() -> &'static (SecretVec, SecretVec) {
    static KEYS: OnceLock<(SecretVec, SecretVec)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let parties = Parties::range(2).unwrap();
        let session = SessionId([1; 32]);
        let mut a = Keygen::new(session, pid(1), parties.clone(), &mut rng).unwrap();
        let mut b = Keygen::new(session, pid(2), parties, &mut rng).unwrap();
        let mut qa = step(a.start(&mut rng).unwrap()).0;
        let mut qb = step(b.start(&mut rng).unwrap()).0;
        let (mut ka, mut kb) = (None, None);
        while ka.is_none() || kb.is_none() {
            let mut next_a = Vec::new();
            let mut next_b = Vec::new();
            for env in qa.drain(..) {
                let (out, k) = step(b.handle(env, &mut rng).unwrap());
                next_b.extend(out);
                kb = kb.or(k);
            }
            for env in qb.drain(..) {
                let (out, k) = step(a.handle(env, &mut rng).unwrap());
                next_a.extend(out);
                ka = ka.or(k);
            }
            qa = next_a;
            qb = next_b;
        }
        let (ka, kb): (KeyShare, KeyShare) = (
            ka.unwrap().into_confirmed().unwrap(),
            kb.unwrap().into_confirmed().unwrap(),
        );
        (ka.to_secret_bytes(), kb.to_secret_bytes())
    })
}

/// Fresh stores for every input (a ban or a used presignature must not leak into the next).
fn stores() -> (MemoryKeyStore, MemoryKeyStore) {
    let (a, b) = keys();
    let open = |k: &SecretVec| MemoryKeyStore::new(KeyShare::from_bytes(k.expose()).unwrap());
    (open(a), open(b))
}

fn step<M, O>(s: Step<M, O>) -> (Vec<Envelope<M>>, Option<O>) {
    match s {
        Step::Continue(m) => (m, None),
        Step::Done(m, o) => (m, Some(o)),
    }
}

/// Starts `m` and feeds it every decodable message of `data`; with `restore`, the machine is
/// replaced by its restored copy after every call.
fn feed<P: Protocol>(
    mut m: P,
    mut data: &[u8],
    rng: &mut ChaCha20Rng,
    restore: Option<&dyn Fn(&P) -> P>,
) {
    let _ = m.start(rng);
    while data.len() >= 2 {
        if let Some(r) = restore {
            m = r(&m);
        }
        let n = usize::from(u16::from_be_bytes([data[0], data[1]])).min(data.len() - 2);
        let msg = &data[2..2 + n];
        data = &data[2 + n..];
        if let Ok(env) = Envelope::<P::Message>::decode(msg) {
            let _ = m.handle(env, rng);
        }
    }
}

/// A presign machine restored from its bytes onto its store (a crash); the state's encoding
/// is stable across the round trip.
fn restore_presign<'a>(m: &Presign<&'a MemoryKeyStore>) -> Presign<&'a MemoryKeyStore> {
    let bytes = m.save();
    let r = Presign::restore(*m.store(), bytes.expose()).unwrap();
    assert_eq!(r.save().expose(), bytes.expose(), "unstable presign state");
    r
}

/// A sign machine restored from its bytes onto its store (a crash); the state's encoding is
/// stable across the round trip.
fn restore_sign<'a>(m: &Sign<&'a MemoryKeyStore>) -> Sign<&'a MemoryKeyStore> {
    let bytes = m.save();
    let r = Sign::restore(*m.store(), &bytes).unwrap();
    assert_eq!(r.save(), bytes, "unstable sign state");
    r
}

/// An honest presign run between the two stores; the presignature stays in them.
fn presign(
    sa: &MemoryKeyStore,
    sb: &MemoryKeyStore,
    rng: &mut ChaCha20Rng,
) -> Option<PresignatureInfo> {
    let session = SessionId([3; 32]);
    let mut a = Presign::new(sa, pid(2), DerivationPath::root(), session, rng).unwrap();
    let mut b = Presign::new(sb, pid(1), DerivationPath::root(), session, rng).unwrap();
    let qa = step(a.start(rng).unwrap()).0;
    let qb = step(b.start(rng).unwrap()).0;
    let mut rb = Vec::new();
    for env in qa {
        rb.extend(step(b.handle(env, rng).unwrap()).0);
    }
    for env in qb {
        let _ = step(a.handle(env, rng).unwrap());
    }
    let mut info = None;
    for env in rb {
        info = info.or(step(a.handle(env, rng).unwrap()).1);
    }
    info
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let restore_every_step = sel & 0x80 != 0;
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    match sel % 4 {
        0 => {
            let parties = Parties::range(3).unwrap();
            let m = Keygen::new(SessionId([1; 32]), pid(1), parties, &mut rng).unwrap();
            let restore = |m: &Keygen| Keygen::from_bytes(m.to_secret_bytes().expose()).unwrap();
            feed(m, rest, &mut rng, restore_every_step.then_some(&restore));
        }
        1 => {
            let (sa, _sb) = stores();
            let m = Presign::new(
                &sa,
                pid(2),
                DerivationPath::root(),
                SessionId([2; 32]),
                &mut rng,
            )
            .unwrap();
            feed(
                m,
                rest,
                &mut rng,
                restore_every_step.then_some(&restore_presign),
            );
        }
        2 => {
            // A real presignature for party 1 in its store, then arbitrary partials from party 2.
            let (sa, sb) = stores();
            if let Some(info) = presign(&sa, &sb, &mut rng) {
                let m = Sign::new(&sa, info, [7; 32]).unwrap();
                feed(
                    m,
                    rest,
                    &mut rng,
                    restore_every_step.then_some(&restore_sign),
                );
            }
        }
        _ => {
            // Arbitrary bytes stored as the sealed presignature of a real presignature's id
            // (the genuine one taken out first): partial_sign must refuse them.
            if rest.len() < 32 {
                return;
            }
            let (sa, sb) = stores();
            let Some(mut info) = presign(&sa, &sb, &mut rng) else {
                return;
            };
            let _ = partial_sign(&sa, &info, &[7; 32]);
            let key_id = info.key_id;
            info.id.copy_from_slice(&rest[..32]);
            if sa
                .put(&key_id, &info.id, SecretVec::from_slice(&rest[32..]))
                .is_ok()
            {
                assert!(
                    partial_sign(&sa, &info, &[7; 32]).is_err(),
                    "partial_sign opened bytes the store was handed"
                );
            }
        }
    }
});
