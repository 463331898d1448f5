//! FROST(secp256k1) keys used in the BIP-340 / Taproot mode (`wallet_tss::frost::taproot`) keep
//! signing under the same Taproot output key — root and BIP-32 children, with and without a
//! script tree — after a refresh and after reshares (add a device, remove one, raise the
//! threshold); a signer of an old epoch is named by the coordinator. Signatures are checked
//! with libsecp256k1's `verify_schnorr`.
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
use wallet_pss::frost::{from_key_share, to_key_share};
use wallet_pss::{KeyShare, Refresh, Reshare, ReshareConfig, ReshareOutput};
use wallet_tss::ecdsa::DerivationPath;
use wallet_tss::frost::taproot::{self, TapTweak, TaprootKey, TaprootSigningPackage, TaprootSpend};
use wallet_tss::frost::{KeyPackage, keys, round1};
use wallet_types::sim::Simulator;
use wallet_types::{
    Error, MemoryOneTimeStore, Parties, PartyId, Reason, Secp256k1, SecretScalar, SessionId,
};

/// One Taproot signature by `signers` (nonces through a one-time store); the coordinator uses
/// the first signer's view of the public package.
fn tr_sign(
    signers: &[&KeyPackage<Secp256k1>],
    cc: &[u8; 32],
    spend: &TaprootSpend,
    msg: &[u8; 32],
    rng: &mut ChaCha20Rng,
) -> Result<([u8; 64], [u8; 32]), Error> {
    let store = MemoryOneTimeStore::new();
    let mut commitments = BTreeMap::new();
    for k in signers {
        commitments.insert(k.id(), round1::preprocess_into(&store, k, 1, rng)?[0]);
    }
    let package = TaprootSigningPackage::new(spend.clone(), commitments, msg.to_vec())?;
    let mut shares = BTreeMap::new();
    for k in signers {
        shares.insert(k.id(), taproot::sign_with_store(&package, &store, k, cc)?);
    }
    let key = TaprootKey::new(signers[0].public(), cc, spend)?;
    let sig = taproot::aggregate(&package, &shares, &key)?;
    Ok((sig.to_bytes(), key.output_key()))
}

fn libsecp_verify(pk: &[u8; 32], msg: &[u8; 32], sig: &[u8; 64]) {
    let secp = secp256k1::Secp256k1::verification_only();
    secp.verify_schnorr(
        &secp256k1::schnorr::Signature::from_slice(sig).unwrap(),
        &secp256k1::Message::from_digest(*msg),
        &secp256k1::XOnlyPublicKey::from_slice(pk).unwrap(),
    )
    .unwrap();
}

fn refresh(keys: Vec<KeyShare<Secp256k1>>, seed: u64) -> Vec<KeyShare<Secp256k1>> {
    let mut sim = Simulator::new(seed);
    for k in &keys {
        let m = Refresh::new(SessionId([seed as u8; 32]), k, sim.rng()).unwrap();
        sim.add(m);
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    out.outputs
        .into_values()
        .map(|o| o.into_confirmed().unwrap())
        .collect()
}

fn reshare(
    keys: Vec<KeyShare<Secp256k1>>,
    dealers: &[u16],
    new: &[u16],
    t: usize,
    seed: u64,
) -> Vec<KeyShare<Secp256k1>> {
    let cfg = ReshareConfig {
        old_commitments: keys[0].commitments().clone(),
        old_parties: keys[0].parties().clone(),
        old_epoch: keys[0].epoch(),
        dealers: Parties::from_ids(dealers).unwrap(),
        new_parties: Parties::from_ids(new).unwrap(),
        new_threshold: t,
        allow_threshold_one: false,
    };
    let by_id: BTreeMap<PartyId, KeyShare<Secp256k1>> =
        keys.into_iter().map(|k| (k.me(), k)).collect();
    let mut sim = Simulator::new(seed);
    let everyone: std::collections::BTreeSet<PartyId> =
        cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
    for p in everyone {
        let old = by_id.get(&p).filter(|_| cfg.dealers.contains(p));
        let m = Reshare::new(SessionId([seed as u8; 32]), cfg.clone(), p, old, sim.rng());
        sim.add(m.unwrap());
    }
    let out = sim.run();
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    out.outputs
        .into_values()
        .filter_map(ReshareOutput::into_confirmed_share)
        .collect()
}

/// Every `t`-subset of `keys` signs every spend, under the output key recorded before any
/// refresh or reshare.
fn all_subsets_sign(
    keys: &[KeyShare<Secp256k1>],
    t: usize,
    cc: &[u8; 32],
    spends: &[(TaprootSpend, [u8; 32])],
    rng: &mut ChaCha20Rng,
) {
    let kps: Vec<KeyPackage<Secp256k1>> = keys.iter().map(|k| from_key_share(k).unwrap()).collect();
    let n = kps.len();
    let mut signed = 0;
    for mask in 0u32..(1 << n) {
        if mask.count_ones() as usize != t {
            continue;
        }
        let signers: Vec<&KeyPackage<Secp256k1>> = (0..n)
            .filter(|i| mask & (1 << i) != 0)
            .map(|i| &kps[i])
            .collect();
        for (spend, q) in spends {
            let msg = [mask as u8; 32];
            let (sig, output_key) = tr_sign(&signers, cc, spend, &msg, rng).unwrap();
            assert_eq!(&output_key, q);
            libsecp_verify(q, &msg, &sig);
            signed += 1;
        }
    }
    assert!(signed >= spends.len());
}

#[test]
fn taproot_keys_sign_after_refresh_and_reshare() {
    let mut rng = ChaCha20Rng::seed_from_u64(86);
    let parties = Parties::range(3).unwrap();
    let kps = keys::split_secret(
        SecretScalar::<Secp256k1>::random(&mut rng),
        2,
        &parties,
        &mut rng,
    )
    .unwrap();
    // The chain code is a function of the group key, which refresh and reshare keep.
    let cc = taproot::default_chain_code(kps[0].public());
    let spends: Vec<(TaprootSpend, [u8; 32])> = [
        TaprootSpend::root_key_path(),
        TaprootSpend::new(
            DerivationPath::parse("m/0/1").unwrap(),
            TapTweak::KeyPathOnly,
        ),
        TaprootSpend::new(
            DerivationPath::parse("m/0/2").unwrap(),
            TapTweak::ScriptTree([0x5c; 32]),
        ),
    ]
    .into_iter()
    .map(|s| {
        let q = TaprootKey::new(kps[0].public(), &cc, &s)
            .unwrap()
            .output_key();
        (s, q)
    })
    .collect();
    let shares: Vec<KeyShare<Secp256k1>> =
        kps.iter().map(|k| to_key_share(k, 0).unwrap()).collect();
    all_subsets_sign(&shares, 2, &cc, &spends, &mut rng);

    // Refresh: same key, new shares.
    let refreshed = refresh(shares, 1);
    let fresh_public = from_key_share(&refreshed[0]).unwrap().public().clone();
    assert_eq!(taproot::default_chain_code(&fresh_public), cc);
    all_subsets_sign(&refreshed, 2, &cc, &spends, &mut rng);

    // A signer still on epoch 0 signs with its own (old) effective share; the coordinator of
    // the new epoch verifies against the new verifying shares and names it.
    let stale = &kps[0];
    let fresh = from_key_share(&refreshed[1]).unwrap();
    assert_eq!(
        tr_sign(&[&fresh, stale], &cc, &spends[1].0, &[1; 32], &mut rng).unwrap_err(),
        Error::blame(stale.id(), Reason::InvalidSignatureShare)
    );

    // Add a device (4): 2-of-4.
    let added = reshare(refreshed, &[1, 2], &[1, 2, 3, 4], 2, 2);
    all_subsets_sign(&added, 2, &cc, &spends, &mut rng);
    // Remove device 1: 2-of-3 over {2, 3, 4}.
    let removed = reshare(added, &[1, 3], &[2, 3, 4], 2, 3);
    all_subsets_sign(&removed, 2, &cc, &spends, &mut rng);
    // Raise to 3-of-3.
    let raised = reshare(removed, &[2, 4], &[2, 3, 4], 3, 4);
    assert!(raised.iter().all(|k| k.threshold() == 3));
    all_subsets_sign(&raised, 3, &cc, &spends, &mut rng);
}
