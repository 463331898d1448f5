//! Known-answer tests of every wire format in `SPEC.md`: the frozen hex below was computed
//! independently of this crate (the points `7·G`, `11·G` by a separate big-integer
//! implementation of both curves) and spelled field by field as the spec lays it out.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use wallet_sss::encoding::{ShareSetCommitments, decode_share};
use wallet_sss::polynomial::Polynomial;
use wallet_sss::shamir::{Share, ShareSetId};
use wallet_sss::wallet::{Role, WalletShare};
use wallet_sss::{Commitments, Mismatched, ShamirError};
use wallet_types::group::Group;
use wallet_types::{Curve, DecodeError, Ed25519, PartyId, Secp256k1, SecretScalar, WireObject};

const SET_ID: &str = "000102030405060708090a0b0c0d0e0f";
const K256_7G: &str = "025cbdf0646e5db4eaa398f365f2ea7a0e3d419b7e0330e39ce92bddedcac4f9bc";
const K256_11G: &str = "03774ae7f858a9411e5ef4246b70c65aac5649980be5c17891bbec17895da008cb";
const ED_7B: &str = "b862409fb5c4c4123df2abf7462b88f041ad36dd6864ce872fd5472be363c5b1";
const ED_11B: &str = "1337036ac32d8f30d4589c3c1c595812ce0fff40e37c6f5a97ab213f318290ad";
/// f(3) = 7 + 11·3 = 40 = 0x28.
const F3_BE: &str = "0000000000000000000000000000000000000000000000000000000000000028";
const F3_LE: &str = "2800000000000000000000000000000000000000000000000000000000000000";

fn set_id() -> ShareSetId {
    let mut b = [0u8; 16];
    b.copy_from_slice(&hex::decode(SET_ID).unwrap());
    ShareSetId(b)
}

/// The polynomial f(x) = 7 + 11·x and its share for party 3.
fn dealing<C: Curve>() -> (Share<C>, Commitments<C>) {
    let f = Polynomial::<C>::from_coefficients(vec![
        SecretScalar::new(C::scalar_from_u64(7)),
        SecretScalar::new(C::scalar_from_u64(11)),
    ])
    .unwrap();
    let id = PartyId::new(3).unwrap();
    let share = Share::new(set_id(), 2, id, f.share_for(id)).unwrap();
    (share, f.commit())
}

fn kat_share<C: Curve>(expected: &str) {
    let (share, _) = dealing::<C>();
    let bytes = share.to_secret_bytes();
    assert_eq!(hex::encode(bytes.expose()), expected);
    let back = Share::<C>::from_bytes(&hex::decode(expected).unwrap()).unwrap();
    assert_eq!(back.set_id(), set_id());
    assert_eq!(back.threshold(), 2);
    assert_eq!(back.id().get(), 3);
    assert_eq!(back.value().expose(), &C::scalar_from_u64(40));
}

#[test]
fn share_kat() {
    kat_share::<Secp256k1>(&format!("01020101{SET_ID}00020003{F3_BE}"));
    kat_share::<Ed25519>(&format!("01020102{SET_ID}00020003{F3_LE}"));
}

#[test]
fn commitments_kat() {
    let (_, c) = dealing::<Secp256k1>();
    let expected = format!("010202010002{K256_7G}{K256_11G}");
    assert_eq!(hex::encode(c.to_bytes()), expected);
    assert_eq!(
        Commitments::<Secp256k1>::from_bytes(&hex::decode(&expected).unwrap()).unwrap(),
        c
    );

    let (_, c) = dealing::<Ed25519>();
    let expected = format!("010202020002{ED_7B}{ED_11B}");
    assert_eq!(hex::encode(c.to_bytes()), expected);
    assert_eq!(
        Commitments::<Ed25519>::from_bytes(&hex::decode(&expected).unwrap()).unwrap(),
        c
    );

    let (_, c) = dealing::<Secp256k1>();
    let ssc = ShareSetCommitments::new(set_id(), c);
    let expected = format!("01020301{SET_ID}0002{K256_7G}{K256_11G}");
    assert_eq!(hex::encode(ssc.to_bytes()), expected);
    assert_eq!(
        ShareSetCommitments::<Secp256k1>::from_bytes(&hex::decode(&expected).unwrap()).unwrap(),
        ssc
    );
}

#[test]
fn wallet_share_kat() {
    let (share, c) = dealing::<Secp256k1>();
    let w = WalletShare::new(share, ShareSetCommitments::new(set_id(), c)).unwrap();
    assert_eq!(w.role(), Role::Recovery);
    let expected = format!("01020401{SET_ID}03{F3_BE}{K256_7G}{K256_11G}");
    assert_eq!(hex::encode(w.to_secret_bytes().expose()), expected);
    let back = WalletShare::from_bytes(&hex::decode(&expected).unwrap()).unwrap();
    assert_eq!(back.role(), Role::Recovery);
    assert_eq!(back.public(), w.public());
    // The same bytes with role 2 (auth) no longer verify: 40·G ≠ 7·G + 2·11·G.
    let wrong_role = format!("01020401{SET_ID}02{F3_BE}{K256_7G}{K256_11G}");
    assert_eq!(
        WalletShare::from_bytes(&hex::decode(wrong_role).unwrap()).unwrap_err(),
        DecodeError::InvalidValue
    );
}

#[test]
fn malformed_encodings_are_refused() {
    let bad = |s: String| hex::decode(s).unwrap();
    let err = |s: String| Share::<Secp256k1>::from_bytes(&bad(s)).unwrap_err();
    assert_eq!(
        err(format!("01020101{SET_ID}00000003{F3_BE}")),
        DecodeError::InvalidValue
    );
    assert_eq!(
        err(format!("01020101{SET_ID}04010003{F3_BE}")),
        DecodeError::InvalidValue
    );
    assert_eq!(
        err(format!("01020101{SET_ID}00020000{F3_BE}")),
        DecodeError::ZeroPartyId
    );
    assert_eq!(
        err(format!("01020101{SET_ID}00020003{}", "ff".repeat(32))),
        DecodeError::ScalarOutOfRange
    );
    assert_eq!(
        err(format!("01020101{SET_ID}00020003{F3_BE}00")),
        DecodeError::TooLarge { len: 57, max: 56 }
    );
    assert_eq!(
        err(format!("01020101{SET_ID}00020003")),
        DecodeError::Truncated
    );
    assert_eq!(
        err(format!("02020101{SET_ID}00020003{F3_BE}")),
        DecodeError::UnsupportedVersion(2)
    );
    // An Ed25519 share offered as a secp256k1 share: a curve mismatch, not a wrong value.
    assert_eq!(
        decode_share::<Secp256k1>(&bad(format!("01020102{SET_ID}00020003{F3_LE}"))).unwrap_err(),
        ShamirError::Mismatch {
            what: Mismatched::Curve
        }
    );
    assert!(matches!(
        decode_share::<Secp256k1>(&bad(format!("01020103{SET_ID}00020003{F3_LE}"))).unwrap_err(),
        ShamirError::Decode(DecodeError::WrongCurve {
            expected: 1,
            found: 3
        })
    ));
    let cerr = |s: String| Commitments::<Secp256k1>::from_bytes(&bad(s)).unwrap_err();
    assert_eq!(
        cerr("0102020100".to_string() + "00"),
        DecodeError::InvalidValue
    );
    assert_eq!(
        cerr(format!("010202010003{K256_7G}{K256_11G}")),
        DecodeError::CountTooLarge
    );
    assert_eq!(
        cerr(format!("010202010001{K256_7G}{K256_11G}")),
        DecodeError::TrailingBytes
    );
    // A point with a bad SEC1 tag byte.
    let bad_tag = K256_7G.replacen("02", "05", 1);
    assert!(matches!(
        cerr(format!("010202010001{bad_tag}")),
        DecodeError::InvalidPoint | DecodeError::NonCanonicalPoint
    ));
    // An x-coordinate with no point on the curve (x = 5 has no square root of x³ + 7).
    let no_point = format!("02{}", "0".repeat(62) + "05");
    assert_eq!(
        cerr(format!("010202010001{no_point}")),
        DecodeError::InvalidPoint
    );
    // The identity is a legitimate commitment (sharing of zero) and round-trips.
    let z = Commitments::<Secp256k1>::new(vec![
        <Secp256k1 as Curve>::Point::identity(),
        <Secp256k1 as Curve>::Point::generator(),
    ])
    .unwrap();
    assert_eq!(
        Commitments::<Secp256k1>::from_bytes(&z.to_bytes()).unwrap(),
        z
    );
    // …but not in a wallet share, whose secret is non-zero.
    let mut w = hex::decode(format!("01020401{SET_ID}03{F3_BE}{K256_7G}{K256_11G}")).unwrap();
    let id_enc = <Secp256k1 as Curve>::encode_point(&<Secp256k1 as Curve>::Point::identity());
    w[53..86].copy_from_slice(id_enc.as_slice());
    assert_eq!(
        WalletShare::from_bytes(&w).unwrap_err(),
        DecodeError::IdentityPoint
    );
}
