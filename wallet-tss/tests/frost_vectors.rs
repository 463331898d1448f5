//! RFC 9591 Appendix E.1 known-answer test: FROST(Ed25519, SHA-512), 2-of-3, signers 1 and 3.
//! Every intermediate value of the RFC's vector is checked: group key, shares, nonces (through
//! the hazmat randomness injection, so `nonce_generate` / H3 is covered), commitments, binding
//! factor inputs and factors (H1, H4, H5), signature shares (H2) and the final signature.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::type_complexity,
    missing_docs
)]

use std::collections::BTreeMap;

use wallet_tss::frost::ciphersuite::Ciphersuite;
use wallet_tss::frost::round2::compute_binding_factors;
use wallet_tss::frost::{
    KeyPackage, PublicKeyPackage, SigningNonces, SigningPackage, aggregate, sign,
};
use wallet_types::{Curve, Ed25519, Parties, PartyId, Secp256k1, SecretScalar, decode_scalar};

struct Vector {
    group_secret_key: &'static str,
    group_public_key: &'static str,
    message: &'static str,
    coefficient: &'static str,
    shares: [&'static str; 3],
    /// (id, hiding randomness, binding randomness, hiding nonce commitment, binding nonce
    /// commitment, binding factor input, binding factor, signature share)
    signers: [(
        u16,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    ); 2],
    signature: &'static str,
}

// RFC 9591 Appendix E.1, FROST(Ed25519, SHA-512).
const ED25519: Vector = Vector {
    group_secret_key: "7b1c33d3f5291d85de664833beb1ad469f7fb6025a0ec78b3a790c6e13a98304",
    group_public_key: "15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673",
    message: "74657374",
    coefficient: "178199860edd8c62f5212ee91eff1295d0d670ab4ed4506866bae57e7030b204",
    shares: [
        "929dcc590407aae7d388761cddb0c0db6f5627aea8e217f4a033f2ec83d93509",
        "a91e66e012e4364ac9aaa405fcafd370402d9859f7b6685c07eed76bf409e80d",
        "d3cb090a075eb154e82fdb4b3cb507f110040905468bb9c46da8bdea643a9a02",
    ],
    signers: [
        (
            1,
            "06894e04ee4aceec8619d5f6a0a180e2f47194d2ac306cba586b555e7c48d765",
            "40d6f879ff22e22409f7d808fed81f37118e7d3e4af71c0f44c60207553bcbce",
            "9b116f12589591a7e23fe8048059ab10ab48e67739e7a2fb3890f61a7999478c",
            "c39b66b7dfccb122da24f13587f9a08c4347cae70046ca15169adf90ba65854d",
            "15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673504df914fa965023fb75c25ded4bb260f417de6d32e5c442c6ba313791cc9a4948d6273e8d3511f93348ea7a708a9b862bc73ba2a79cfdfe07729a193751cbc93df7739fd1223d8697dfc21b1679435bafda1f92815944f28d2faf21ded33ae94a16100090ae7d83555c9b2d961e3d5d1b62828e8cb58a88a73cda404f8f725a0100000000000000000000000000000000000000000000000000000000000000",
            "ff960a65374e216a0918729b153466016664fa980d409bc3f308daa7acb30d0d",
            "60997f0142e43e8005027fe5ab7447dac00d22c2d7ddd9571a02613ba7d81c08",
        ),
        (
            3,
            "fa5d950626782aade9e33fa781376d4888c2d1de7c37518bc248eb818ed0cdde",
            "7459a4d14ded0e365b085271be8dc6600d5b88f3978a2174297ffa32001a5afc",
            "e679a2a971748ccfaabead4dbe8ac1def61275c186c79d471e1e45091ad1e687",
            "b2a942478453fabb6bd3181c56ba657413447b4136e1daea2484d396d1a516b3",
            "15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673504df914fa965023fb75c25ded4bb260f417de6d32e5c442c6ba313791cc9a4948d6273e8d3511f93348ea7a708a9b862bc73ba2a79cfdfe07729a193751cbc93df7739fd1223d8697dfc21b1679435bafda1f92815944f28d2faf21ded33ae94a16100090ae7d83555c9b2d961e3d5d1b62828e8cb58a88a73cda404f8f725a0300000000000000000000000000000000000000000000000000000000000000",
            "279d48ec56f16d234c09ea62f3d02ab776ee38e03f66b20f939f1316e13df10f",
            "79390e78bc59699c7af831f8f5fb478ec871a85f561a8641b5670ac4443f720f",
        ),
    ],
    signature: "154fb694ee7fcb37bf2381d94488c2a84b03b3352ad085feca81ad26d45852b7ecfe971ce4da95c4a95db93ac376b053897fca212ef85f99cf696bffeb178f07",
};

// RFC 9591 Appendix E.5, FROST(secp256k1, SHA-256).
const SECP256K1: Vector = Vector {
    group_secret_key: "0d004150d27c3bf2a42f312683d35fac7394b1e9e318249c1bfe7f0795a83114",
    group_public_key: "02f37c34b66ced1fb51c34a90bdae006901f10625cc06c4f64663b0eae87d87b4f",
    message: "74657374",
    coefficient: "fbf85eadae3058ea14f19148bb72b45e4399c0b16028acaf0395c9b03c823579",
    shares: [
        "08f89ffe80ac94dcb920c26f3f46140bfc7f95b493f8310f5fc1ea2b01f4254c",
        "04f0feac2edcedc6ce1253b7fab8c86b856a797f44d83d82a385554e6e401984",
        "00e95d59dd0d46b0e303e500b62b7ccb0e555d49f5b849f5e748c071da8c0dbc",
    ],
    signers: [
        (
            1,
            "bda8e748e599187762cff956f03dc6ea13fc8e04491a0427b7e6e78600f41c52",
            "2ca682429bf05df435b9927b8edb1d748278f3e42fa11ef358e49bbf4a1b780d",
            "0305e62a1d3f57a0b17ade569a3a4043e2a1fc3bd0b102614a8d8cc68e3322ad89",
            "03b634c2aed7f85b8eec22e97e5f916ab43a3518821480e15da2af7cffcb060a30",
            "02f37c34b66ced1fb51c34a90bdae006901f10625cc06c4f64663b0eae87d87b4fff9b5210ffbb3c07a73a7c8935be4a8c62cf015f6cf7ade6efac09a6513540fcfac8df6fa81b3f4d9ced4be2474894308232dc0be75dbf81f5a103579a8236310000000000000000000000000000000000000000000000000000000000000001",
            "9bee5aef4012de4b94c9fc1a9a9572181079e293bf1d7545a5af0ef86f824a91",
            "ca54b18d7449377cfa680760a5770b9e64e201f7ea36b068effeca5fce2155e5",
        ),
        (
            3,
            "70818dd5170672c4a4285fd593d4f222417f941f3118e1244955e7a1098a35d8",
            "74ca2da071ed4a2a6cad5087d6758b48a558ab5861c61117fee05757e4b1309e",
            "036f878da0dc19ba7da9f2d9e795e2674e62ff06c990fc4464cc1ed55a2acce46b",
            "025350e2a9e32e7b1fe0161e990623600b2d301b3307641469129cff7936c4d2ce",
            "02f37c34b66ced1fb51c34a90bdae006901f10625cc06c4f64663b0eae87d87b4fff9b5210ffbb3c07a73a7c8935be4a8c62cf015f6cf7ade6efac09a6513540fcfac8df6fa81b3f4d9ced4be2474894308232dc0be75dbf81f5a103579a8236310000000000000000000000000000000000000000000000000000000000000003",
            "cfe0db2197c94cc355b6ab05610f27f4a874898009c8bf007f2a4e2ce2c8306d",
            "da13d054e83052568706a6d161d80f112a6bc3f76aa903c022585ae7e091e65e",
        ),
    ],
    signature: "024c1ad4e031872661fa6ebd05dfc7fb30db08b38d79f0edbc82051ae931381bc6a46881e25c7989d3816eae32074f1ab0d49ee908a59713ed5284c6bade7cfb02",
};

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn scalar<C: Curve>(s: &str) -> C::Scalar {
    decode_scalar::<C>(&h(s)).unwrap()
}

fn arr32(s: &str) -> [u8; 32] {
    h(s).try_into().unwrap()
}

fn run<C: Ciphersuite>(v: &Vector) {
    let parties = Parties::range(3).unwrap();
    let s = scalar::<C>(v.group_secret_key);
    let a1 = scalar::<C>(v.coefficient);
    // The dealer's polynomial f(x) = s + a1·x, committed.
    let public =
        PublicKeyPackage::<C>::new(parties.clone(), vec![C::mul_base(&s), C::mul_base(&a1)])
            .unwrap();
    assert_eq!(hex::encode(public.group_key_bytes()), v.group_public_key);
    let keys: Vec<KeyPackage<C>> = parties
        .iter()
        .zip(v.shares)
        .map(|(p, sh)| {
            // KeyPackage::new checks sᵢ·G against the share commitment f(i)·G.
            KeyPackage::new(p, SecretScalar::new(scalar::<C>(sh)), public.clone()).unwrap()
        })
        .collect();
    let key = |id: u16| &keys[usize::from(id) - 1];

    let mut nonces = BTreeMap::new();
    let mut commitments = BTreeMap::new();
    for (id, hr, br, hc, bc, ..) in v.signers {
        let n = SigningNonces::<C>::from_randomness(key(id).secret_share(), &arr32(hr), &arr32(br));
        let c = *n.commitments();
        assert_eq!(hex::encode(C::encode_point(c.hiding())), hc);
        assert_eq!(hex::encode(C::encode_point(c.binding())), bc);
        commitments.insert(PartyId::new(id).unwrap(), c);
        nonces.insert(id, n);
    }
    let package = SigningPackage::new(commitments, h(v.message)).unwrap();

    // Binding factor inputs: Y || H4(msg) || H5(commitment list) || id.
    let msg_hash = C::h4(&[package.message()]);
    let com_hash = C::h5(&[&package.encode_group_commitment_list()]);
    let rho = compute_binding_factors(public.group_key().get(), &package);
    for (k, (id, .., input, factor, _)) in v.signers.iter().enumerate() {
        let mut expect = Vec::new();
        expect.extend_from_slice(public.group_key_bytes().as_ref());
        expect.extend_from_slice(&msg_hash);
        expect.extend_from_slice(&com_hash);
        expect.extend_from_slice(
            C::encode_scalar(&PartyId::new(*id).unwrap().to_scalar::<C>()).as_ref(),
        );
        assert_eq!(hex::encode(&expect), *input);
        assert_eq!(hex::encode(C::encode_scalar(&rho[k])), *factor);
    }

    let mut shares = BTreeMap::new();
    for (id, .., share) in v.signers {
        let z = sign(&package, nonces.remove(&id).unwrap(), key(id)).unwrap();
        assert_eq!(hex::encode(C::encode_scalar(&z.0)), share);
        shares.insert(PartyId::new(id).unwrap(), z);
    }
    let sig = aggregate(&package, &shares, &public).unwrap();
    assert_eq!(hex::encode(sig.to_bytes()), v.signature);
    assert!(sig.verify(public.group_key().get(), package.message()));
}

#[test]
fn rfc9591_ed25519_sha512() {
    run::<Ed25519>(&ED25519);
    // The RFC's signature is an RFC 8032 signature: ed25519-dalek's strict verifier accepts it.
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&arr32(ED25519.group_public_key)).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&h(ED25519.signature)).unwrap();
    vk.verify_strict(&h(ED25519.message), &sig).unwrap();
}

#[test]
fn rfc9591_secp256k1_sha256() {
    run::<Secp256k1>(&SECP256K1);
}

#[test]
fn rfc9591_group_secret_matches_public_key() {
    let s = scalar::<Ed25519>(ED25519.group_secret_key);
    assert_eq!(
        hex::encode(Ed25519::encode_point(&Ed25519::mul_base(&s))),
        ED25519.group_public_key
    );
}
