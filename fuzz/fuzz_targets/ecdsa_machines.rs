//! Drives the two-party ECDSA machines (keygen, presign, sign) with arbitrary message sequences:
//! every call returns (an output, a rejection or a blame) and never panics.
//!
//! Input: a selector byte, then messages as `u16be(len) || Envelope<M>` bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::ecdsa::{DerivationPath, KeyShare, Keygen, Presign, Sign};
use wallet_types::{Envelope, Parties, PartyId, Protocol, SessionId, Step};

fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

/// A 2-of-2 key, generated once per process by an honest run.
fn keys() -> &'static (KeyShare, KeyShare) {
    static KEYS: OnceLock<(KeyShare, KeyShare)> = OnceLock::new();
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
        (ka.unwrap(), kb.unwrap())
    })
}

fn step<M, O>(s: Step<M, O>) -> (Vec<Envelope<M>>, Option<O>) {
    match s {
        Step::Continue(m) => (m, None),
        Step::Done(m, o) => (m, Some(o)),
    }
}

fn feed<P: Protocol>(m: &mut P, mut data: &[u8], rng: &mut ChaCha20Rng) {
    let _ = m.start(rng);
    while data.len() >= 2 {
        let n = usize::from(u16::from_be_bytes([data[0], data[1]])).min(data.len() - 2);
        let msg = &data[2..2 + n];
        data = &data[2 + n..];
        if let Ok(env) = Envelope::<P::Message>::decode(msg) {
            let _ = m.handle(env, rng);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    match sel % 3 {
        0 => {
            let parties = Parties::range(3).unwrap();
            let mut m = Keygen::new(SessionId([1; 32]), pid(1), parties, &mut rng).unwrap();
            feed::<Keygen>(&mut m, rest, &mut rng);
        }
        1 => {
            let (ka, _) = keys();
            let mut m = Presign::new(
                ka,
                pid(2),
                DerivationPath::root(),
                SessionId([2; 32]),
                &mut rng,
            )
            .unwrap();
            feed::<Presign>(&mut m, rest, &mut rng);
        }
        _ => {
            // A real presignature for party 1, then arbitrary partials from party 2.
            let (ka, kb) = keys();
            let session = SessionId([3; 32]);
            let mut a =
                Presign::new(ka, pid(2), DerivationPath::root(), session, &mut rng).unwrap();
            let mut b =
                Presign::new(kb, pid(1), DerivationPath::root(), session, &mut rng).unwrap();
            let qa = step(a.start(&mut rng).unwrap()).0;
            let qb = step(b.start(&mut rng).unwrap()).0;
            let mut rb = Vec::new();
            for env in qa {
                rb.extend(step(b.handle(env, &mut rng).unwrap()).0);
            }
            for env in qb {
                let _ = step(a.handle(env, &mut rng).unwrap());
            }
            let mut pa = None;
            for env in rb {
                pa = pa.or(step(a.handle(env, &mut rng).unwrap()).1);
            }
            if let Some(p) = pa {
                let mut m = Sign::new(p, [7; 32]).unwrap();
                feed::<Sign>(&mut m, rest, &mut rng);
            }
        }
    }
});
