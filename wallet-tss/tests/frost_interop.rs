//! A key made by the Zcash Foundation's `frost-ed25519` 3.0 (trusted dealer) comes in through
//! `PublicKeyPackage::from_verifying_shares` from the bytes frost exposes, signs with this
//! crate's FROST, and the signature verifies under frost's verifying key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};
use wallet_tss::frost::{KeyPackage, PublicKeyPackage, aggregate, round1, round2};
use wallet_types::{Ed25519, ParamError, PartyId, SecretScalar, decode_point, decode_scalar};

/// rand_core 0.6 view of a ChaCha20Rng, for frost-ed25519.
struct Rng06(ChaCha20Rng);
impl rand_core_06::RngCore for Rng06 {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core_06::Error> {
        self.0.fill_bytes(dest);
        Ok(())
    }
}
impl rand_core_06::CryptoRng for Rng06 {}

/// frost's identifier (a little-endian scalar) as a 16-bit party id, if it is one.
fn party_id(id: &frost_ed25519::Identifier) -> Option<PartyId> {
    let bytes = id.serialize();
    if bytes.iter().skip(2).any(|b| *b != 0) {
        return None;
    }
    PartyId::new(u16::from_le_bytes([bytes[0], bytes[1]]))
}

#[test]
fn frost_dealer_key_imports_and_signs() {
    let mut rng = ChaCha20Rng::seed_from_u64(17);
    let (secret_shares, their_public) = frost_ed25519::keys::generate_with_dealer(
        3,
        2,
        frost_ed25519::keys::IdentifierList::Default,
        Rng06(ChaCha20Rng::seed_from_u64(18)),
    )
    .unwrap();
    let threshold = usize::from(their_public.min_signers().unwrap());

    // Only bytes cross over: verifying shares, the verifying key, the threshold.
    let shares: Vec<_> = their_public
        .verifying_shares()
        .iter()
        .map(|(id, y)| {
            (
                party_id(id).unwrap(),
                decode_point::<Ed25519>(&y.serialize().unwrap()).unwrap(),
            )
        })
        .collect();
    let group_key =
        decode_point::<Ed25519>(&their_public.verifying_key().serialize().unwrap()).unwrap();
    let public =
        PublicKeyPackage::<Ed25519>::from_verifying_shares(shares, group_key, threshold).unwrap();
    assert_eq!(
        public.group_key_bytes().to_vec(),
        their_public.verifying_key().serialize().unwrap()
    );

    // Each party's KeyPackage: its signing share (checked against its verifying share).
    let keys: BTreeMap<PartyId, KeyPackage<Ed25519>> = secret_shares
        .into_values()
        .map(|s| {
            let kp = frost_ed25519::keys::KeyPackage::try_from(s).unwrap();
            let id = party_id(kp.identifier()).unwrap();
            let scalar = decode_scalar::<Ed25519>(&kp.signing_share().serialize()).unwrap();
            (
                id,
                KeyPackage::new(id, SecretScalar::new(scalar), public.clone()).unwrap(),
            )
        })
        .collect();
    assert_eq!(keys.len(), 3);

    // Sign with parties 2 and 3 in this crate; verify with frost.
    let signers: Vec<&KeyPackage<Ed25519>> = keys.values().skip(1).collect();
    let mut nonces = Vec::new();
    let mut commitments = BTreeMap::new();
    for k in &signers {
        let (mut n, c) = round1::preprocess(k, 1, &mut rng);
        nonces.push(n.remove(0));
        commitments.insert(k.id(), c[0]);
    }
    let message = b"signed with a key dealt by frost-ed25519";
    let package = round2::SigningPackage::new(commitments, message.to_vec()).unwrap();
    let shares: BTreeMap<_, _> = signers
        .iter()
        .zip(nonces)
        .map(|(k, n)| (k.id(), round2::sign(&package, n, k).unwrap()))
        .collect();
    let sig = aggregate::aggregate(&package, &shares, &public).unwrap();
    let theirs = frost_ed25519::Signature::deserialize(&sig.to_dalek().to_bytes()).unwrap();
    their_public
        .verifying_key()
        .verify(message, &theirs)
        .unwrap();

    // frost's ids derived from a hash have no 16-bit party id (documented limit).
    let derived = frost_ed25519::Identifier::derive(b"alice@example.com").unwrap();
    assert_eq!(party_id(&derived), None);

    // A verifying share from another key is refused.
    let (_, other) = frost_ed25519::keys::generate_with_dealer(
        3,
        2,
        frost_ed25519::keys::IdentifierList::Default,
        Rng06(ChaCha20Rng::seed_from_u64(19)),
    )
    .unwrap();
    let mut mixed: Vec<_> = their_public
        .verifying_shares()
        .iter()
        .map(|(id, y)| {
            (
                party_id(id).unwrap(),
                decode_point::<Ed25519>(&y.serialize().unwrap()).unwrap(),
            )
        })
        .collect();
    let (id0, y0) = other.verifying_shares().iter().next().unwrap();
    mixed[0] = (
        party_id(id0).unwrap(),
        decode_point::<Ed25519>(&y0.serialize().unwrap()).unwrap(),
    );
    assert_eq!(
        PublicKeyPackage::<Ed25519>::from_verifying_shares(mixed, group_key, threshold)
            .unwrap_err(),
        ParamError::Mismatch
    );
}
