//! What a downstream crate writes: two-party ECDSA and a passkey signature, with every
//! `k256` / `ed25519_dalek` / `rand_core` type named through the wallet crates' re-exports.

use wallet_kek::k256::ecdsa::signature::hazmat::PrehashSigner;
use wallet_tss::ecdsa::{
    DerivationPath, Keygen, MemoryKeyStore, Presign, PresignatureInfo, combine, partial_sign,
};
use wallet_tss::k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
use wallet_tss::rand_core::CryptoRng;
use wallet_types::{Envelope, Error, Parties, PartyId, Protocol, Recipient, SessionId, Step};

/// Runs two machines in one process (the queue stands in for a transport).
fn run<P: Protocol>(
    mut machines: Vec<P>,
    rng: &mut impl CryptoRng,
) -> Result<Vec<P::Output>, Error> {
    let mut queue: Vec<Envelope<P::Message>> = Vec::new();
    let mut outputs = Vec::new();
    let mut steps = Vec::new();
    for m in machines.iter_mut() {
        steps.push(m.start(rng)?);
    }
    loop {
        for step in steps.drain(..) {
            match step {
                Step::Continue(out) => queue.extend(out),
                Step::Done(out, o) => {
                    queue.extend(out);
                    outputs.push(o);
                }
            }
        }
        let Some(env) = queue.pop() else {
            return Ok(outputs);
        };
        let (to, from) = (env.recipient, env.sender);
        let m = machines
            .iter_mut()
            .find(|m| match to {
                Recipient::One(id) => m.me() == id,
                Recipient::All => m.me() != from,
            })
            .ok_or(Error::Internal)?;
        steps.push(m.handle(env, rng)?);
    }
}

/// A 2-of-2 ECDSA key, one presignature and one signature of `hash`, with the OS RNG; returns
/// the `k256` types a wallet would hand to an Ethereum library, and the public presignature
/// info as JSON (serde feature).
pub fn ecdsa_sign(hash: &[u8; 32]) -> Result<(VerifyingKey, Signature, RecoveryId, String), Error> {
    let mut rng = wallet_types::os_rng();
    let parties = Parties::range(2)?;
    let (device, server) = (
        PartyId::new(1).ok_or(Error::Internal)?,
        PartyId::new(2).ok_or(Error::Internal)?,
    );
    let sid = SessionId::random(&mut rng);
    let machines = parties
        .iter()
        .map(|p| Keygen::new(sid, p, parties.clone(), &mut rng))
        .collect::<Result<Vec<_>, _>>()?;
    let mut keys = run(machines, &mut rng)?
        .into_iter()
        .map(|o| o.into_confirmed().map_err(|_| Error::Internal))
        .collect::<Result<Vec<_>, _>>()?;
    keys.sort_by_key(|k| k.me());
    let server_store = MemoryKeyStore::new(keys.pop().ok_or(Error::Internal)?);
    let device_store = MemoryKeyStore::new(keys.pop().ok_or(Error::Internal)?);
    let path = DerivationPath::parse("m/0").map_err(|_| Error::Internal)?;
    let sid = SessionId::random(&mut rng);
    let machines = vec![
        Presign::new(&device_store, server, path.clone(), sid, &mut rng)?,
        Presign::new(&server_store, device, path, sid, &mut rng)?,
    ];
    let info: PresignatureInfo = run(machines, &mut rng)?.pop().ok_or(Error::Internal)?;
    let json = presignature_info_hex(&info);
    let a = partial_sign(&device_store, &info, hash)?;
    let b = partial_sign(&server_store, &info, hash)?;
    let (sig, recid) = combine(&device_store.public_package()?, &info, hash, &a, &b)?;
    Ok((info.verifying_key()?, sig, recid, json))
}

/// The serde form of a public object (its wire encoding in hex), as the wallet crates. serde
/// feature writes it.
fn presignature_info_hex(info: &PresignatureInfo) -> String {
    use wallet_types::WireObject;
    wallet_types::serde_wire::to_hex(&info.to_bytes())
}

/// A passkey-style signature through the RustCrypto trait, with the `k256` types re-exported
/// by wallet-kek.
pub fn passkey_sign(
    payload: &wallet_kek::Payload,
    hash: &[u8; 32],
) -> Result<(Signature, RecoveryId), wallet_kek::k256::ecdsa::signature::Error> {
    payload.sign_prehash(hash)
}
