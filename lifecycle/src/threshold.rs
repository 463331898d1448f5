//! Threshold ECDSA beyond two parties: a 2-of-3 wallet that adds a device, raises its threshold
//! and removes a lost device, one address throughout; and the combined provider, whose
//! passkey-wrapped key is backed up as Shamir shares and then imported into threshold custody.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use k256::ecdsa::signature::hazmat::PrehashSigner;
use k256::ecdsa::{RecoveryId, Signature as EcdsaSig, VerifyingKey};
use rand_chacha::ChaCha20Rng;
use rand_core::Rng;
use sha3::{Digest, Keccak256};
use wallet_kek::{Credential, Envelope, NewSlot, PrfOutput, PrfSalt, WalletId};
use wallet_pss::{ReshareConfig, ReshareOutput};
use wallet_tss::ecdsa::{
    self, DerivationPath, KeyShare as EcdsaKeyShare, KeyStore, Keygen, MemoryKeyStore,
    MultiPresign, PresignatureInfo, Resetup, combine_all, partial_sign,
};
use wallet_types::sim::Simulator;
use wallet_types::{Curve, Parties, PartyId, Secp256k1, SecretScalar, SessionId, WireObject};

use crate::{
    Report, Res, confirmed, err, eth_address, key_stores, presign_sign_record, public_package,
    record_ecdsa, run, run_in, store, verifying_key,
};

type Stores = BTreeMap<PartyId, MemoryKeyStore>;

fn pid(n: u16) -> Res<PartyId> {
    PartyId::new(n).ok_or_else(|| format!("party id {n}"))
}

/// A `t`-party presignature among `signers` (each part sealed in its store).
fn presign_t(
    stores: &Stores,
    signers: &[u16],
    rng: &mut ChaCha20Rng,
    seed: u64,
) -> Res<(PresignatureInfo, usize, usize)> {
    let ids = signers.iter().map(|p| pid(*p)).collect::<Res<Vec<_>>>()?;
    let set = Parties::new(ids.iter().copied()).map_err(err("signers"))?;
    let session = SessionId::random(rng);
    let machines = ids
        .iter()
        .map(|p| {
            MultiPresign::new(
                store(stores, *p)?,
                set.clone(),
                DerivationPath::root(),
                session,
                rng,
            )
            .map_err(err("presign"))
        })
        .collect::<Res<Vec<_>>>()?;
    let sim = Simulator::with_restore(
        seed,
        Box::new(|m: &MultiPresign<&MemoryKeyStore>| {
            MultiPresign::restore(*m.store(), m.save().expose())
        }),
    );
    let (out, m, b) = run_in(sim, machines)?;
    let mut infos = out.into_values();
    let info = infos.next().ok_or("no presignature")?;
    if infos.any(|i| i != info) {
        return Err("the signers disagree on the presignature".into());
    }
    Ok((info, m, b))
}

/// Every signer of `info` releases its partial; the partials combine (verified).
fn sign_t(
    stores: &Stores,
    info: &PresignatureInfo,
    hash: &[u8; 32],
) -> Res<(EcdsaSig, RecoveryId)> {
    let partials = info
        .signers
        .iter()
        .map(|p| partial_sign(store(stores, p)?, info, hash).map_err(err("partial sign")))
        .collect::<Res<Vec<_>>>()?;
    let any = info.signers.iter().next().ok_or("signers")?;
    combine_all(&public_package(store(stores, any)?)?, info, hash, &partials)
        .map_err(err("combine"))
}

/// Reshares the key of `stores` to `new` with threshold `t`, dealt by `dealers` (their shares
/// borrowed from their stores), then pairs the new set (fresh OT setups). Returns the next
/// epoch's shares, not installed yet, and the messages and bytes of both runs.
fn reshare_ecdsa(
    stores: &Stores,
    dealers: &[u16],
    new: &[u16],
    t: usize,
    rng: &mut ChaCha20Rng,
    seed: u64,
) -> Res<(BTreeMap<PartyId, EcdsaKeyShare>, usize, usize)> {
    let any = stores.values().next().ok_or("no store")?;
    let (old_commitments, old_parties, old_epoch, key_id, chain_code) = any
        .with_key(|k| {
            k.commitments().map(|c| {
                (
                    c,
                    k.parties().clone(),
                    k.epoch(),
                    *k.key_id(),
                    *k.chain_code(),
                )
            })
        })
        .map_err(err("store"))?
        .map_err(err("commitments"))?;
    let cfg = ReshareConfig {
        old_commitments,
        old_parties,
        old_epoch,
        dealers: Parties::from_ids(dealers).map_err(err("dealers"))?,
        new_parties: Parties::from_ids(new).map_err(err("new parties"))?,
        new_threshold: t,
        allow_threshold_one: false,
    };
    let session = SessionId::random(rng);
    let everyone: BTreeSet<PartyId> = cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
    let mut machines = Vec::new();
    for p in everyone {
        let machine = match stores.get(&p).filter(|_| cfg.dealers.contains(p)) {
            Some(s) => s
                .with_key(|old| wallet_pss::ecdsa::reshare(session, cfg.clone(), p, Some(old), rng))
                .map_err(err("store"))?,
            None => wallet_pss::ecdsa::reshare(session, cfg.clone(), p, None, rng),
        };
        machines.push(machine.map_err(err("reshare"))?);
    }
    let (out, m1, b1) = run(machines, seed)?;
    if let Some((p, o)) = out.iter().find(|(_, o)| !o.may_delete_old_share()) {
        return Err(format!(
            "reshare: {p} ended unconfirmed ({o:?}); old shares kept"
        ));
    }
    let resetup = session.derive(b"ecdsa-resetup");
    let machines = out
        .into_values()
        .filter_map(ReshareOutput::into_confirmed_share)
        .map(|k| match stores.get(&k.me()) {
            Some(s) => s
                .with_key(|old| {
                    wallet_pss::ecdsa::resetup_after_reshare(
                        resetup,
                        k,
                        key_id,
                        chain_code,
                        Some(old),
                    )
                })
                .map_err(err("store"))?
                .map_err(err("resetup")),
            None => wallet_pss::ecdsa::resetup_after_reshare(resetup, k, key_id, chain_code, None)
                .map_err(err("resetup")),
        })
        .collect::<Res<Vec<Resetup>>>()?;
    // Only a resetup every party acknowledged moves anybody to the new epoch.
    let (keys, m2, b2) = run(machines, seed + 1)?;
    Ok((confirmed(keys)?, m1 + m2, b1 + b2))
}

/// Installs the next epoch: into each holder's store (which retires its previous epoch), into a
/// new store for a party new to the key. Returns the stores of parties that left.
fn install_all(stores: &mut Stores, new: BTreeMap<PartyId, EcdsaKeyShare>) -> Res<Stores> {
    let mut left = std::mem::take(stores);
    for (p, k) in new {
        match left.remove(&p) {
            Some(s) => {
                s.install(k, &[]).map_err(err("install"))?;
                stores.insert(p, s);
            }
            None => {
                stores.insert(p, MemoryKeyStore::new(k));
            }
        }
    }
    Ok(left)
}

/// A refresh of every party (zero-sharing, then fresh OT setups), installed.
fn refresh_all(stores: &Stores, rng: &mut ChaCha20Rng, seed: u64) -> Res<(usize, usize)> {
    let session = SessionId::random(rng);
    let machines = stores
        .values()
        .map(|s| {
            s.with_key(|k| wallet_pss::ecdsa::refresh(session, k, rng))
                .map_err(err("store"))?
                .map_err(err("refresh"))
        })
        .collect::<Res<Vec<_>>>()?;
    let (out, m1, b1) = run(machines, seed)?;
    let resetup = session.derive(b"ecdsa-resetup");
    let machines = confirmed(out)?
        .into_iter()
        .map(|(p, new)| {
            store(stores, p)?
                .with_key(|old| wallet_pss::ecdsa::resetup_after_refresh(resetup, new, old))
                .map_err(err("store"))?
                .map_err(err("resetup"))
        })
        .collect::<Res<Vec<_>>>()?;
    let (keys, m2, b2) = run(machines, seed + 1)?;
    for (p, k) in keys {
        // Installed only when Confirmed (an unconfirmed share is handed back, to be kept).
        ecdsa::install_confirmed(store(stores, p)?, k, &[]).map_err(err("install"))?;
    }
    Ok((m1 + m2, b1 + b2))
}

fn check_key(stores: &Stores, vk: &VerifyingKey) -> Res<()> {
    for s in stores.values() {
        if &verifying_key(&public_package(s)?.public_key())? != vk {
            return Err("the public key changed".into());
        }
    }
    Ok(())
}

/// The infrastructure-share architecture with any threshold: DKG 2-of-3 (device, provider
/// infrastructure, backup) → add a second device (2-of-4) → raise the threshold (3-of-4) →
/// remove the lost first device (2-of-3 over the rest) → sign; one address throughout, each
/// step's public key in the report.
pub fn threshold_flow(rng: &mut ChaCha20Rng, report: &mut Report) -> Res<()> {
    const F: &str = "tss-ecdsa-t";
    const K: &str = "wallet";
    let (device, infra, device2) = (pid(1)?, pid(2)?, pid(4)?);

    let t0 = Instant::now();
    let parties = Parties::range(3).map_err(err("parties"))?;
    let session = SessionId::random(rng);
    let machines = parties
        .iter()
        .map(|p| Keygen::with_threshold(session, p, parties.clone(), 2, rng))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err("keygen"))?;
    let (keys, m, b) = run(machines, 60)?;
    let mut stores = key_stores(confirmed(keys)?);
    let vk = verifying_key(&public_package(store(&stores, device)?)?.public_key())?;
    let (m2, b2) = presign_sign_record(
        report,
        F,
        &stores,
        (device, infra),
        &vk,
        b"t-flow: device + infrastructure",
        rng,
        61,
    )?;
    report.step(
        F,
        "DKG 2-of-3 (device, infrastructure, backup); device + infrastructure sign",
        t0,
        m + m2 + 2,
        b + b2,
        format!("address {}", eth_address(&vk)),
    );
    report.keyed(K, &vk);

    let t0 = Instant::now();
    let (next, m, b) = reshare_ecdsa(&stores, &[1, 2], &[1, 2, 3, 4], 2, rng, 62)?;
    install_all(&mut stores, next)?;
    check_key(&stores, &vk)?;
    let (m2, b2) = presign_sign_record(
        report,
        F,
        &stores,
        (device2, infra),
        &vk,
        b"t-flow: second device",
        rng,
        64,
    )?;
    report.step(
        F,
        "add a second device: reshare to 2-of-4 + fresh pairings; device 2 signs",
        t0,
        m + m2 + 2,
        b + b2,
        "same address, epoch 1".into(),
    );
    report.keyed(K, &vk);

    let t0 = Instant::now();
    let (next, m, b) = reshare_ecdsa(&stores, &[1, 2], &[1, 2, 3, 4], 3, rng, 65)?;
    install_all(&mut stores, next)?;
    check_key(&stores, &vk)?;
    let (info, m2, b2) = presign_t(&stores, &[1, 2, 4], rng, 67)?;
    let hash: [u8; 32] = Keccak256::digest(b"t-flow: three signers").into();
    let (sig, recid) = sign_t(&stores, &info, &hash)?;
    record_ecdsa(
        report,
        F,
        &vk,
        &hash,
        &sig.to_bytes().into(),
        recid.to_byte(),
    )?;
    // Two signers are no longer enough.
    if ecdsa::Presign::new(
        store(&stores, device)?,
        infra,
        DerivationPath::root(),
        SessionId::random(rng),
        rng,
    )
    .is_ok()
    {
        return Err("two signers presigned for a 3-of-4 key".into());
    }
    report.step(
        F,
        "raise the threshold: reshare to 3-of-4; devices 1, 2 + infrastructure sign",
        t0,
        m + m2 + 3,
        b + b2,
        "same address, epoch 2; two signers refused".into(),
    );
    report.keyed(K, &vk);

    let t0 = Instant::now();
    let (next, m, b) = reshare_ecdsa(&stores, &[2, 3, 4], &[2, 3, 4], 2, rng, 68)?;
    let removed = install_all(&mut stores, next)?;
    check_key(&stores, &vk)?;
    let lost = removed.get(&device).ok_or("the lost device's store")?;
    let (m2, b2) = presign_sign_record(
        report,
        F,
        &stores,
        (device2, infra),
        &vk,
        b"t-flow: after removing the lost device",
        rng,
        70,
    )?;
    // The lost device's share is of epoch 2; the others hold epoch 3, in which it is no party.
    let lost_epoch = lost.epoch().map_err(err("store"))?;
    let new_epoch = store(&stores, infra)?.epoch().map_err(err("store"))?;
    if lost_epoch >= new_epoch {
        return Err("the lost device is not behind".into());
    }
    report.step(
        F,
        "remove the lost device 1: reshare to 2-of-3 over 2, 3, 4; device 2 + infrastructure sign",
        t0,
        m + m2 + 2,
        b + b2,
        format!("same address, epoch {new_epoch}; the lost device's epoch-{lost_epoch} share is of no current party"),
    );
    report.keyed(K, &vk);
    Ok(())
}

/// The combined provider: a passkey-wrapped key (PRF-as-KEK), backed up as 2-of-3 Shamir
/// shares of the same key, then imported into 2-of-2 threshold custody (device / server) for
/// high-value signing and refreshed at once; one address throughout.
pub fn combined_flow(rng: &mut ChaCha20Rng, report: &mut Report) -> Res<()> {
    const F: &str = "combined";
    const K: &str = "wallet";

    let t0 = Instant::now();
    let mut prf = [0u8; 32];
    rng.fill_bytes(&mut prf);
    let prf = PrfOutput::new(prf);
    let slot = NewSlot::Prf {
        credential_id: b"passkey",
        rp_id: "wallet.example",
        salt: PrfSalt::random(rng),
        output: &prf,
    };
    let (env, pk) =
        Envelope::generate_secp256k1(WalletId::random(rng), &slot, rng).map_err(err("generate"))?;
    let cred = Credential::Prf {
        credential_id: b"passkey",
        output: &prf,
    };
    let vk = VerifyingKey::from_sec1_bytes(&pk).map_err(err("public key"))?;
    let hash: [u8; 32] = Keccak256::digest(b"combined: passkey").into();
    let sig = env.sign_secp256k1(&cred, &hash).map_err(err("sign"))?;
    record_ecdsa(report, F, &vk, &hash, &sig.signature, sig.recovery_id)?;
    report.step(
        F,
        "passkey wallet: key wrapped under the PRF, signs",
        t0,
        0,
        env.to_bytes().len(),
        format!("address {}", eth_address(&vk)),
    );
    report.keyed(K, &vk);

    // Backup: the same key as 2-of-3 Shamir shares (device, provider, recovery).
    let t0 = Instant::now();
    let unlocked = env.open(&cred).map_err(err("open"))?;
    let key = wallet_types::decode_nonzero_scalar::<Secp256k1>(unlocked.payload().expose())
        .map(SecretScalar::<Secp256k1>::new)
        .map_err(err("key"))?;
    drop(unlocked);
    let (shares, _) = wallet_sss::split(&key, 2, &Parties::range(3).map_err(err("ids"))?, rng)
        .map_err(err("split"))?;
    drop(key);
    let rebuilt =
        wallet_sss::reconstruct(shares.get(1..).ok_or("shares")?).map_err(err("reconstruct"))?;
    let signer = k256::ecdsa::SigningKey::from_bytes(&Secp256k1::encode_scalar(rebuilt.expose()))
        .map_err(err("signing key"))?;
    let hash: [u8; 32] = Keccak256::digest(b"combined: shamir backup").into();
    let (ssig, srec): (EcdsaSig, RecoveryId) = signer.sign_prehash(&hash).map_err(err("sign"))?;
    record_ecdsa(
        report,
        F,
        &vk,
        &hash,
        &ssig.to_bytes().into(),
        srec.to_byte(),
    )?;
    report.step(
        F,
        "Shamir backup 2-of-3 of the same key; provider + recovery rebuild and sign",
        t0,
        0,
        0,
        "same address".into(),
    );
    report.keyed(K, &vk);

    // Import into 2-of-2 TSS (device / server): deal from the rebuilt key, pair, refresh.
    let t0 = Instant::now();
    let mut chain_code = [0u8; 32];
    rng.fill_bytes(&mut chain_code);
    let dealt = ecdsa::import::deal(
        &rebuilt,
        chain_code,
        Parties::range(2).map_err(err("ids"))?,
        2,
        rng,
    )
    .map_err(err("deal"))?;
    drop(rebuilt);
    drop(signer);
    let session = SessionId::random(rng);
    let machines = dealt
        .iter()
        .map(|(p, s)| {
            ecdsa::import::import_input(s, *p)
                .and_then(|i| Resetup::new(session, i))
                .map_err(err("import"))
        })
        .collect::<Res<Vec<_>>>()?;
    let (keys, m1, b1) = run(machines, 80)?;
    let stores = key_stores(confirmed(keys)?);
    let (m2, b2) = refresh_all(&stores, rng, 81)?;
    check_key(&stores, &vk)?;
    let (device, server) = (pid(1)?, pid(2)?);
    let (m3, b3) = presign_sign_record(
        report,
        F,
        &stores,
        (device, server),
        &vk,
        b"combined: high-value, threshold",
        rng,
        83,
    )?;
    report.step(
        F,
        "import into 2-of-2 TSS (deal, pair, refresh at once); device + server sign",
        t0,
        m1 + m2 + m3 + 2,
        b1 + b2 + b3,
        "same address; the key existed whole on the client once (import cannot undo that)".into(),
    );
    report.keyed(K, &vk);
    Ok(())
}
