//! Known-answer tests of every FROST wire format (SPEC.md, "## FROST"): each encoding is
//! composed by hand from the RFC 9591 vector's values and the layout in SPEC.md, and must equal
//! what the crate writes; decoding must give the object back and reject the obvious mutations.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::collections::BTreeMap;

use wallet_tss::frost::dkg::{DkgMessage, DkgShare};
use wallet_tss::frost::signing::SigningMessage;
use wallet_tss::frost::{
    KeyPackage, PublicKeyPackage, SignatureShare, SigningCommitments, SigningNonces, SigningPackage,
};
use wallet_types::{
    Acknowledgement, Curve, DecodeError, Ed25519, Parties, PartyId, SecretScalar, WireObject,
    decode_point, decode_scalar,
};

// RFC 9591 Appendix E.1 values.
const Y: &str = "15d21ccd7ee42959562fc8aa63224c8851fb3ec85a3faf66040d380fb9738673";
const SK: &str = "7b1c33d3f5291d85de664833beb1ad469f7fb6025a0ec78b3a790c6e13a98304";
const A1: &str = "178199860edd8c62f5212ee91eff1295d0d670ab4ed4506866bae57e7030b204";
const S1: &str = "929dcc590407aae7d388761cddb0c0db6f5627aea8e217f4a033f2ec83d93509";
const D1: &str = "9b116f12589591a7e23fe8048059ab10ab48e67739e7a2fb3890f61a7999478c";
const E1: &str = "c39b66b7dfccb122da24f13587f9a08c4347cae70046ca15169adf90ba65854d";
const D3: &str = "e679a2a971748ccfaabead4dbe8ac1def61275c186c79d471e1e45091ad1e687";
const E3: &str = "b2a942478453fabb6bd3181c56ba657413447b4136e1daea2484d396d1a516b3";
const HR1: &str = "06894e04ee4aceec8619d5f6a0a180e2f47194d2ac306cba586b555e7c48d765";
const BR1: &str = "40d6f879ff22e22409f7d808fed81f37118e7d3e4af71c0f44c60207553bcbce";
const HN1: &str = "ef6599dea4010581a72b3018c37c29a4341d7cab0773e8687ca74dcf14009701";
const BN1: &str = "2baadfa0c69aa60d517ad4751de372a73f9d89cfc39026601f18458cdec12605";
const Z1: &str = "60997f0142e43e8005027fe5ab7447dac00d22c2d7ddd9571a02613ba7d81c08";

fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}
fn pt(s: &str) -> <Ed25519 as Curve>::Point {
    decode_point::<Ed25519>(&h(s)).unwrap()
}
fn sc(s: &str) -> curve25519_dalek::Scalar {
    decode_scalar::<Ed25519>(&h(s)).unwrap()
}
fn pid(n: u16) -> PartyId {
    PartyId::new(n).unwrap()
}

/// `version 01 || kind (2 bytes) || curve 02 (Ed25519)`.
fn header(kind: &str) -> String {
    format!("01{kind}02")
}

fn check<T: WireObject + PartialEq + std::fmt::Debug>(v: &T, expected: &str) {
    assert_eq!(hex::encode(v.to_bytes()), expected);
    let bytes = h(expected);
    assert_eq!(&T::from_bytes(&bytes).unwrap(), v);
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(T::from_bytes(&longer).is_err());
    assert!(T::from_bytes(&bytes[..bytes.len() - 1]).is_err());
}

fn public() -> PublicKeyPackage<Ed25519> {
    let a1g = Ed25519::mul_base(&sc(A1));
    PublicKeyPackage::new(Parties::range(3).unwrap(), vec![pt(Y), a1g]).unwrap()
}

#[test]
fn signing_commitments() {
    let c = SigningCommitments::<Ed25519>::new(pt(D1), pt(E1)).unwrap();
    check(&c, &format!("{}{D1}{E1}", header("0303")));
    // The identity is refused.
    let id = hex::encode(Ed25519::encode_point(&<Ed25519 as Curve>::Point::default()));
    let bad = h(&format!("{}{D1}{id}", header("0303")));
    assert_eq!(
        SigningCommitments::<Ed25519>::from_bytes(&bad),
        Err(DecodeError::IdentityPoint)
    );
}

#[test]
fn signing_package_and_messages() {
    let c1 = SigningCommitments::<Ed25519>::new(pt(D1), pt(E1)).unwrap();
    let c3 = SigningCommitments::<Ed25519>::new(pt(D3), pt(E3)).unwrap();
    let p = SigningPackage::new(
        BTreeMap::from([(pid(1), c1), (pid(3), c3)]),
        b"test".to_vec(),
    )
    .unwrap();
    let body = "0000000474657374".to_string() /* len 4, "test" */
        + "0002"
        + "0001"
        + D1
        + E1
        + "0003"
        + D3
        + E3;
    check(&p, &format!("{}{body}", header("0305")));
    check(
        &SigningMessage::Package(p.clone()),
        &format!("{}01{body}", header("0320")),
    );
    // Entries out of order (3 before 1) are refused.
    let swapped = format!("{}0000000474657374", header("0305"))
        + "0002"
        + "0003"
        + D3
        + E3
        + "0001"
        + D1
        + E1;
    assert_eq!(
        SigningPackage::<Ed25519>::from_bytes(&h(&swapped)),
        Err(DecodeError::NotSorted)
    );

    let z = SignatureShare::<Ed25519>(sc(Z1));
    check(&z, &format!("{}{Z1}", header("0306")));
    check(
        &SigningMessage::Share(z),
        &format!("{}02{Z1}", header("0320")),
    );
}

#[test]
fn public_and_key_packages() {
    let pk = public();
    let a1g = hex::encode(Ed25519::encode_point(&Ed25519::mul_base(&sc(A1))));
    let body = "0003000100020003".to_string() /* 3 parties */ + "0002" + Y + &a1g;
    check(&pk, &format!("{}{body}", header("0301")));
    assert_eq!(hex::encode(pk.group_key_bytes()), Y);

    let k = KeyPackage::new(pid(1), SecretScalar::new(sc(S1)), pk.clone()).unwrap();
    let expected = format!("{}0001{S1}{body}", header("0302"));
    assert_eq!(hex::encode(k.to_secret_bytes().expose()), expected);
    let back = KeyPackage::<Ed25519>::from_bytes(&h(&expected)).unwrap();
    assert_eq!(back.public(), &pk);
    // A share that does not match its commitment is refused.
    let wrong = format!("{}0002{S1}{body}", header("0302"));
    assert_eq!(
        KeyPackage::<Ed25519>::from_bytes(&h(&wrong)).unwrap_err(),
        DecodeError::InvalidValue
    );
    let _ = SK;
}

#[test]
fn sealed_nonces() {
    let share = SecretScalar::<Ed25519>::new(sc(S1));
    let n = SigningNonces::<Ed25519>::from_randomness(
        &share,
        &h(HR1).try_into().unwrap(),
        &h(BR1).try_into().unwrap(),
    );
    let id = n.id();
    let sealed = n.seal();
    assert_eq!(sealed.id(), id);
    let expected = format!("{}{HN1}{BN1}", header("0304"));
    assert_eq!(hex::encode(sealed.bytes()), expected);
    let back = SigningNonces::<Ed25519>::restore(&h(&expected)).unwrap();
    assert_eq!(
        hex::encode(Ed25519::encode_point(back.commitments().hiding())),
        D1
    );
    assert_eq!(back.id(), id);
    let zero = format!("{}{}{BN1}", header("0304"), "00".repeat(32));
    assert_eq!(
        SigningNonces::<Ed25519>::restore(&h(&zero)).unwrap_err(),
        DecodeError::ZeroScalar
    );
}

#[test]
fn dkg_messages() {
    let a1g = Ed25519::mul_base(&sc(A1));
    let commit = DkgMessage::<Ed25519>::Commit {
        commitment: vec![pt(Y), a1g],
        R: pt(D1),
        mu: sc(Z1),
    };
    let a1g_hex = hex::encode(Ed25519::encode_point(&a1g));
    let expected = format!("{}01", header("0312")) + "0002" + Y + &a1g_hex + D1 + Z1;
    assert_eq!(hex::encode(commit.to_bytes()), expected);
    assert_eq!(
        DkgMessage::<Ed25519>::from_bytes(&h(&expected))
            .unwrap()
            .to_bytes(),
        h(&expected)
    );

    let share = DkgMessage::<Ed25519>::Share(DkgShare::new(SecretScalar::new(sc(S1))));
    let expected = format!("{}02{S1}", header("0312"));
    assert_eq!(hex::encode(share.to_bytes()), expected);

    let confirm = DkgMessage::<Ed25519>::Confirm {
        digests: vec![[1; 32], [2; 32]],
        hash: [3; 32],
    };
    let expected = format!("{}03", header("0312"))
        + "0002"
        + &"01".repeat(32)
        + &"02".repeat(32)
        + &"03".repeat(32);
    assert_eq!(hex::encode(confirm.to_bytes()), expected);
    assert_eq!(
        DkgMessage::<Ed25519>::from_bytes(&h(&expected))
            .unwrap()
            .to_bytes(),
        h(&expected)
    );
    let ack = DkgMessage::<Ed25519>::Acknowledge(Acknowledgement::Decline([4; 32]));
    let expected = format!("{}0402", header("0312")) + &"04".repeat(32);
    assert_eq!(hex::encode(ack.to_bytes()), expected);
    assert_eq!(
        DkgMessage::<Ed25519>::from_bytes(&h(&expected))
            .unwrap()
            .to_bytes(),
        h(&expected)
    );
    // Unknown tag, unknown verdict.
    let bad = format!("{}05", header("0312"));
    assert_eq!(
        DkgMessage::<Ed25519>::from_bytes(&h(&bad)).unwrap_err(),
        DecodeError::InvalidTag(5)
    );
    let bad = format!("{}0403", header("0312")) + &"04".repeat(32);
    assert_eq!(
        DkgMessage::<Ed25519>::from_bytes(&h(&bad)).unwrap_err(),
        DecodeError::InvalidTag(3)
    );
    // The three-round message kind is retired.
    let old = format!("{}03", header("0310"))
        + "0002"
        + &"01".repeat(32)
        + &"02".repeat(32)
        + &"03".repeat(32);
    assert!(matches!(
        DkgMessage::<Ed25519>::from_bytes(&h(&old)),
        Err(DecodeError::WrongKind { .. })
    ));
}

#[test]
fn signature_encoding() {
    let sig = "154fb694ee7fcb37bf2381d94488c2a84b03b3352ad085feca81ad26d45852b7ecfe971ce4da95c4a95db93ac376b053897fca212ef85f99cf696bffeb178f07";
    let s = wallet_tss::frost::Signature::<Ed25519>::from_bytes(&h(sig)).unwrap();
    assert_eq!(hex::encode(s.to_bytes()), sig);
    assert_eq!(hex::encode(s.to_array()), sig);
    assert!(s.verify(&pt(Y), b"test"));
    assert!(!s.verify(&pt(Y), b"tesT"));
}
