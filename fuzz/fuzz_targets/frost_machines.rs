//! Drives the FROST machines (a DKG party, a signer, a coordinator) with arbitrary message
//! sequences, some of them genuine: no call may panic, every error is typed, an aborted machine
//! stays aborted, and a machine can be serialized and restored at any point.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_tss::frost::dkg::{DkgMessage, DkgParty};
use wallet_tss::frost::keys::split_secret;
use wallet_tss::frost::signing::{Coordinator, Signer, SigningMessage};
use wallet_tss::frost::{KeyPackage, SigningPackage, round1};
use wallet_types::{
    Ed25519, Envelope, Error, MemoryOneTimeStore, Parties, PartyId, Protocol, Recipient, SecretScalar,
    SessionId, WireObject,
};

const SID: SessionId = SessionId([7; 32]);

fn keys() -> &'static Vec<KeyPackage<Ed25519>> {
    static KEYS: OnceLock<Vec<KeyPackage<Ed25519>>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let parties = Parties::range(3).unwrap();
        split_secret(SecretScalar::random(&mut rng), 2, &parties, &mut rng).unwrap()
    })
}

/// Splits the input into envelopes: `target u8 | sender u8 | round u8 | recipient u8 |
/// u16 len | payload` (payload gets a valid header when the target's low bit says so).
fn envelopes(mut data: &[u8]) -> Vec<(u8, Envelope<Vec<u8>>)> {
    let mut out = Vec::new();
    while data.len() >= 6 {
        let (head, rest) = data.split_at(6);
        let len = usize::from(u16::from_be_bytes([head[4], head[5]])).min(rest.len());
        let (payload, rest) = rest.split_at(len);
        data = rest;
        let sender = PartyId::new(u16::from(head[1] % 5).max(1)).unwrap();
        let recipient = match head[3] % 5 {
            0 => Recipient::All,
            k => Recipient::One(PartyId::new(u16::from(k)).unwrap()),
        };
        let mut bytes = Vec::new();
        if head[0] & 1 == 1 {
            let kind: u16 = if head[0] & 2 == 0 { 0x0310 } else { 0x0320 };
            bytes.push(1);
            bytes.extend_from_slice(&kind.to_be_bytes());
            bytes.push(2);
        }
        bytes.extend_from_slice(payload);
        let session = if head[0] & 4 == 0 { SID } else { SessionId([8; 32]) };
        out.push((head[0], Envelope { session, round: u16::from(head[2] % 5), sender, recipient, payload: bytes }));
    }
    out
}

fn drive<P: Protocol + WireObject>(m: P, input: &[(u8, Envelope<Vec<u8>>)], rng: &mut ChaCha20Rng) {
    drive_with(m, input, rng, |m| P::from_bytes(m.to_secret_bytes().expose()).expect("a machine's own state decodes"));
}

fn drive_with<P: Protocol>(mut m: P, input: &[(u8, Envelope<Vec<u8>>)], rng: &mut ChaCha20Rng, reload: impl Fn(&P) -> P) {
    let _ = m.start(rng);
    let mut aborted = false;
    for (flags, env) in input {
        let Ok(msg) = P::Message::from_bytes(&env.payload) else { continue };
        let r = m.handle(env.clone().map(|_| msg), rng);
        if aborted {
            assert!(matches!(r, Err(Error::Aborted)), "an aborted machine answered {:?}", r.as_ref().err());
        }
        if let Err(e) = &r {
            if e.kind() == wallet_types::ErrorKind::Misbehaviour {
                aborted = true;
            }
        }
        if flags & 8 == 8 {
            m = reload(&m);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let input = envelopes(data);
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let parties = Parties::range(3).unwrap();

    // DKG party 1 of 3 (t = 2), plus genuine round-1 messages of parties 2 and 3 first.
    let dkg = DkgParty::<Ed25519>::new(SID, PartyId::new(1).unwrap(), parties.clone(), 2, &mut rng).unwrap();
    let mut genuine = Vec::new();
    for p in [2u16, 3] {
        let mut other = DkgParty::<Ed25519>::new(SID, PartyId::new(p).unwrap(), parties.clone(), 2, &mut rng).unwrap();
        if let Ok(step) = other.start(&mut rng) {
            for env in step.messages() {
                genuine.push((0u8, env.clone().map(|m: DkgMessage<Ed25519>| m.to_bytes())));
            }
        }
    }
    genuine.extend(input.iter().cloned());
    drive(dkg, &genuine, &mut rng);

    // Signer 1 of {1, 2} with coordinator 4, and the coordinator.
    let k = keys();
    let signers = Parties::from_ids(&[1, 2]).unwrap();
    let coord = PartyId::new(4).unwrap();
    let store = MemoryOneTimeStore::new();
    let c1 = round1::preprocess_into(&store, &k[0], 1, &mut rng).unwrap();
    let (_n2, c2) = round1::preprocess(&k[1], 1, &mut rng);
    let signer = Signer::new(&store, SID, k[0].duplicate(), coord, signers.clone(), c1.iter().map(|c| c.id())).unwrap();
    let package = SigningPackage::new(
        BTreeMap::from([(k[0].id(), c1[0]), (k[1].id(), c2[0])]),
        b"fuzz".to_vec(),
    )
    .unwrap();
    let mut with_package = vec![(
        0u8,
        Envelope {
            session: SID,
            round: 1,
            sender: coord,
            recipient: Recipient::All,
            payload: SigningMessage::Package(package.clone()).to_bytes(),
        },
    )];
    if data.first().is_some_and(|b| b & 16 == 16) {
        with_package.clear();
    }
    with_package.extend(input.iter().cloned());
    drive_with(signer, &with_package, &mut rng, |m| {
        Signer::restore(*m.store(), m.save().expose()).expect("a machine's own state decodes")
    });
    let coordinator = Coordinator::new(SID, coord, k[0].public().clone(), package).unwrap();
    drive(coordinator, &input, &mut rng);
});
