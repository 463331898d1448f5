//! Property tests of the wire formats: round trips for every wire type, and every class of
//! malformed input rejected with its specific error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use group::GroupEncoding;
use proptest::prelude::*;
use wallet_types::session_id::SessionIdMessage;
use wallet_types::{
    Curve, DecodeError, Ed25519, Envelope, Parties, PartyId, Recipient, Secp256k1, SessionId,
    WireObject, decode_point, decode_point_or_identity, decode_scalar,
};

fn arb_parties() -> impl Strategy<Value = Parties> {
    proptest::collection::btree_set(1u16..=u16::MAX, 1..40)
        .prop_map(|s| Parties::new(s.into_iter().map(|i| PartyId::new(i).unwrap())).unwrap())
}

fn arb_message() -> impl Strategy<Value = SessionIdMessage> {
    (0u8..3, any::<[u8; 32]>()).prop_map(|(t, v)| match t {
        0 => SessionIdMessage::Commit(v),
        1 => SessionIdMessage::Reveal(v),
        _ => SessionIdMessage::Confirm(v),
    })
}

fn arb_envelope() -> impl Strategy<Value = Envelope<Vec<u8>>> {
    (
        any::<[u8; 32]>(),
        any::<u16>(),
        1u16..,
        proptest::option::of(1u16..),
        proptest::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(s, round, sender, to, payload)| Envelope {
            session: SessionId(s),
            round,
            sender: PartyId::new(sender).unwrap(),
            recipient: to.map_or(Recipient::All, |p| Recipient::One(PartyId::new(p).unwrap())),
            payload,
        })
}

/// Round trip, every strict prefix rejected, any extension rejected, header fields checked.
fn check_encoding<T: WireObject + PartialEq + std::fmt::Debug>(v: &T) {
    let b = v.to_bytes();
    assert_eq!(&T::from_bytes(&b).unwrap(), v);
    for cut in 0..b.len() {
        assert!(T::from_bytes(&b[..cut]).is_err(), "prefix {cut} accepted");
    }
    let mut longer = b.clone();
    longer.push(0);
    assert!(matches!(
        T::from_bytes(&longer),
        Err(DecodeError::TrailingBytes | DecodeError::TooLarge { .. })
    ));
    let mut bad = b.clone();
    bad[0] ^= 0x80;
    assert!(matches!(
        T::from_bytes(&bad),
        Err(DecodeError::UnsupportedVersion(_))
    ));
    let mut bad = b.clone();
    bad[2] ^= 0x40;
    assert!(matches!(
        T::from_bytes(&bad),
        Err(DecodeError::WrongKind { .. })
    ));
    let mut bad = b;
    bad[3] ^= 0x07;
    assert!(matches!(
        T::from_bytes(&bad),
        Err(DecodeError::WrongCurve { .. } | DecodeError::UnknownCurve(_))
    ));
}

proptest! {
    #[test]
    fn parties_roundtrip(p in arb_parties()) {
        check_encoding(&p);
    }

    #[test]
    fn session_id_message_roundtrip(m in arb_message()) {
        check_encoding(&m);
    }

    #[test]
    fn envelope_roundtrip(e in arb_envelope()) {
        check_encoding(&e);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
        let _ = Parties::from_bytes(&bytes);
        let _ = SessionIdMessage::from_bytes(&bytes);
        let _ = Envelope::<Vec<u8>>::from_bytes(&bytes);
        let _ = Envelope::<SessionIdMessage>::decode(&bytes);
    }

    #[test]
    fn scalars_decode_iff_below_order(bytes in any::<[u8; 32]>()) {
        scalar_rule::<Secp256k1>(&bytes);
        scalar_rule::<Ed25519>(&bytes);
    }

    #[test]
    fn points_roundtrip(seed in any::<[u8; 64]>()) {
        point_rule::<Secp256k1>(&seed);
        point_rule::<Ed25519>(&seed);
    }

    #[test]
    fn random_point_bytes_valid_or_specific_error(bytes in any::<[u8; 33]>()) {
        for (len, res) in [
            (33, decode_point::<Secp256k1>(&bytes).map(|_| ())),
            (32, decode_point::<Ed25519>(&bytes[..32]).map(|_| ())),
        ] {
            if let Err(e) = res {
                prop_assert!(matches!(
                    e,
                    DecodeError::InvalidPoint
                        | DecodeError::TorsionPoint
                        | DecodeError::NonCanonicalPoint
                        | DecodeError::IdentityPoint
                ), "len {len}: {e:?}");
            }
        }
    }

    #[test]
    fn ed25519_torsion_is_rejected(seed in any::<[u8; 64]>(), t in 1usize..8) {
        let s = curve25519_dalek::Scalar::from_bytes_mod_order_wide(&seed);
        let p = curve25519_dalek::EdwardsPoint::mul_base(&s)
            + curve25519_dalek::constants::EIGHT_TORSION[t];
        prop_assert_eq!(
            decode_point::<Ed25519>(&p.compress().to_bytes()),
            Err(DecodeError::TorsionPoint)
        );
    }
}

fn scalar_rule<C: Curve>(bytes: &[u8; 32]) {
    match decode_scalar::<C>(bytes) {
        Ok(s) => assert_eq!(C::encode_scalar(&s).as_ref(), bytes),
        Err(e) => assert_eq!(e, DecodeError::ScalarOutOfRange),
    }
}

fn point_rule<C: Curve>(seed: &[u8; 64]) {
    let p = C::mul_base(&C::scalar_from_wide(seed));
    let enc = p.to_bytes();
    assert_eq!(decode_point::<C>(enc.as_ref()).unwrap(), p);
    assert!(decode_point::<C>(&enc.as_ref()[1..]).is_err());
}

#[test]
fn scalar_equal_to_order_is_rejected() {
    // secp256k1 n, big-endian.
    let n = hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    assert_eq!(
        decode_scalar::<Secp256k1>(&n),
        Err(DecodeError::ScalarOutOfRange)
    );
    let mut n1 = n.clone();
    n1[31] -= 1;
    assert!(decode_scalar::<Secp256k1>(&n1).is_ok());
    // Ed25519 ℓ = 2^252 + 27742317777372353535851937790883648493, little-endian.
    let l = hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
    assert_eq!(
        decode_scalar::<Ed25519>(&l),
        Err(DecodeError::ScalarOutOfRange)
    );
    let mut l1 = l.clone();
    l1[0] -= 1;
    assert!(decode_scalar::<Ed25519>(&l1).is_ok());
    assert!(matches!(
        decode_scalar::<Ed25519>(&l[..31]),
        Err(DecodeError::InvalidLength {
            expected: 32,
            found: 31
        })
    ));
}

#[test]
fn identity_needs_permission() {
    let id = <Secp256k1 as Curve>::Point::default().to_bytes();
    assert_eq!(
        decode_point::<Secp256k1>(id.as_ref()),
        Err(DecodeError::IdentityPoint)
    );
    assert!(decode_point_or_identity::<Secp256k1>(id.as_ref()).is_ok());
    let mut ed_id = [0u8; 32];
    ed_id[0] = 1;
    assert_eq!(
        decode_point::<Ed25519>(&ed_id),
        Err(DecodeError::IdentityPoint)
    );
    assert!(decode_point_or_identity::<Ed25519>(&ed_id).is_ok());
}

#[test]
fn envelope_known_answer() {
    // Frozen encoding of one envelope (wallet-types SPEC.md, "Envelope").
    let e = Envelope {
        session: SessionId([0xab; 32]),
        round: 2,
        sender: PartyId::new(3).unwrap(),
        recipient: Recipient::One(PartyId::new(1).unwrap()),
        payload: SessionIdMessage::Reveal([0x11; 32]).to_bytes(),
    };
    let expect = format!(
        "01010100{}000200030100010000002501010200{}{}",
        "ab".repeat(32),
        "02",
        "11".repeat(32)
    );
    assert_eq!(to_hex(&e.to_bytes()), expect);
    // The typed envelope encodes to the same bytes, through `encode` and the zeroizing
    // `encode_secret` alike, and decodes back from them.
    let typed = e.clone().map(|b| SessionIdMessage::from_bytes(&b).unwrap());
    assert_eq!(to_hex(&typed.encode()), expect);
    assert_eq!(to_hex(typed.encode_secret().expose()), expect);
    assert_eq!(
        Envelope::<SessionIdMessage>::decode(&typed.encode()).unwrap(),
        typed
    );
}

#[test]
fn typed_envelope_decode_refuses_what_the_raw_decoder_refuses() {
    let typed = Envelope {
        session: SessionId([0xab; 32]),
        round: 2,
        sender: PartyId::new(3).unwrap(),
        recipient: Recipient::All,
        payload: SessionIdMessage::Reveal([0x11; 32]),
    };
    let good = typed.encode();
    let raw = |b: &[u8]| Envelope::<Vec<u8>>::from_bytes(b).map(|_| ());
    // Trailing bytes, another kind, a truncated body: the same error as the raw decoder's,
    // with no sender (the addressing itself is in doubt).
    let mut trailing = good.clone();
    trailing.push(0);
    let mut kind = good.clone();
    kind[2] = 0x02;
    let truncated = good[..good.len() - 1].to_vec();
    for bad in [trailing, kind, truncated] {
        let e = Envelope::<SessionIdMessage>::decode(&bad).unwrap_err();
        assert_eq!((e.sender, Err(e.error)), (None, raw(&bad)));
    }
    // A payload that does not decode names the envelope's sender.
    let mut payload = good.clone();
    let at = good.len() - 33;
    payload[at] = 9;
    assert_eq!(
        Envelope::<SessionIdMessage>::decode(&payload).unwrap_err(),
        wallet_types::EnvelopeDecodeError {
            sender: Some(PartyId::new(3).unwrap()),
            error: DecodeError::InvalidTag(9)
        }
    );
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn envelope_decode_error_is_a_std_error_with_the_claimed_sender() {
    use wallet_types::{EnvelopeDecodeError, Error, PartyId, Recipient, SessionId};
    fn decode(bytes: &[u8]) -> Result<Envelope<SessionIdMessage>, Box<dyn std::error::Error>> {
        Ok(Envelope::<SessionIdMessage>::decode(bytes)?) // `?` works
    }
    let claimed = PartyId::new(2).unwrap();
    let raw = Envelope {
        session: SessionId([1; 32]),
        round: 1,
        sender: claimed,
        recipient: Recipient::All,
        payload: vec![0xff, 0x00],
    };
    // The envelope decodes, its payload does not: the claimed sender is reported.
    let e = Envelope::<SessionIdMessage>::decode(&raw.to_bytes()).unwrap_err();
    assert_eq!(e.sender, Some(claimed));
    assert!(e.to_string().contains("party 2"), "{e}");
    assert!(std::error::Error::source(&e).is_some());
    assert!(decode(&raw.to_bytes()).is_err());
    // Blame goes to the party the transport authenticated, not to the claim.
    let authenticated = PartyId::new(3).unwrap();
    match e.attribute(authenticated) {
        Error::Decode { sender, error } => {
            assert_eq!(sender, authenticated);
            assert_eq!(error, e.error);
        }
        other => panic!("unexpected {other:?}"),
    }
    // Garbage: no sender at all.
    let e: EnvelopeDecodeError = Envelope::<SessionIdMessage>::decode(&[1, 2, 3]).unwrap_err();
    assert_eq!(e.sender, None);
    assert_eq!(wallet_types::DecodeError::from(e), e.error);
}
