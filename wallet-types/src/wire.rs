//! The wire header and a small, strict binary codec.
//!
//! Every encoded object is `header || body` where the 4-byte header is
//! `version (u8) || kind (u16 big-endian) || curve (u8, 0 = none)`. Each object has exactly one
//! encoding; decoders reject trailing bytes, bad lengths, inputs longer than the object's
//! [`WireObject::MAX_LEN`] (before allocating anything) and counts that could not fit in the
//! remaining input. The byte-level rules are in this crate's `SPEC.md`.

use alloc::vec::Vec;
use core::fmt;

use ff::PrimeField;
use group::GroupEncoding;

use crate::curve::{Curve, CurveId, decode_point, decode_point_or_identity, decode_scalar};
use crate::party::{Parties, PartyId, SessionId};
use crate::secret::{SecretScalar, SecretVec};
use sha2::{Digest, Sha256};

/// The current wire format version.
pub const FORMAT_VERSION: u8 = 1;
/// Length of the header.
pub const HEADER_LEN: usize = 4;

/// Why an encoding was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ended early.
    Truncated,
    /// Bytes were left after the object.
    TrailingBytes,
    /// The input is longer than any valid encoding of the object.
    TooLarge {
        /// The input's length.
        len: usize,
        /// The object's bound.
        max: usize,
    },
    /// A field of fixed length had another length.
    InvalidLength {
        /// Expected length.
        expected: usize,
        /// Found length.
        found: usize,
    },
    /// The header's version is not one this build reads.
    UnsupportedVersion(u8),
    /// The header names another kind of object.
    WrongKind {
        /// Expected kind.
        expected: u16,
        /// Found kind.
        found: u16,
    },
    /// The header names another curve (or none where one is needed).
    WrongCurve {
        /// Expected curve byte.
        expected: u8,
        /// Found curve byte.
        found: u8,
    },
    /// A curve byte that names no curve.
    UnknownCurve(u8),
    /// Not the encoding of a curve point.
    InvalidPoint,
    /// A point outside the prime-order subgroup (Ed25519 torsion / small order).
    TorsionPoint,
    /// The identity where it is not allowed.
    IdentityPoint,
    /// A non-canonical point encoding.
    NonCanonicalPoint,
    /// A scalar encoding `≥ q`.
    ScalarOutOfRange,
    /// A zero scalar where it is not allowed.
    ZeroScalar,
    /// A party id of zero.
    ZeroPartyId,
    /// A list that must be strictly increasing is not (duplicates or disorder).
    NotSorted,
    /// A count above the allowed bound (or larger than the remaining input could hold).
    CountTooLarge,
    /// An enum tag byte with no meaning.
    InvalidTag(u8),
    /// A boolean byte other than 0 or 1.
    InvalidBool(u8),
    /// A value violating a documented constraint of its field (e.g. a threshold above `n`).
    InvalidValue,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl core::error::Error for DecodeError {}

/// The kind of an encoded object (the header's `kind` field). Ranges per crate:
/// `0x01xx` wallet-types, `0x02xx` wallet-sss, `0x03xx` wallet-tss, `0x04xx` wallet-kek,
/// `0x05xx` wallet-pss. The full registry is in `wallet-types/SPEC.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectKind(pub u16);

impl ObjectKind {
    /// A message envelope ([`crate::message::Envelope`]).
    pub const ENVELOPE: Self = Self(0x0101);
    /// A session-id agreement message.
    pub const SESSION_ID_MESSAGE: Self = Self(0x0102);
    /// A session-id agreement machine's state.
    pub const SESSION_ID_STATE: Self = Self(0x0103);
    /// A bare party set.
    pub const PARTIES: Self = Self(0x0104);
    /// A retried-confirmation message ([`crate::reconfirm::ReconfirmMessage`]).
    pub const RECONFIRM_MESSAGE: Self = Self(0x0105);
    /// A retried-confirmation machine's state ([`crate::reconfirm::Reconfirm`]).
    pub const RECONFIRM_STATE: Self = Self(0x0106);
}

/// The 4-byte header of every encoded object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Format version ([`FORMAT_VERSION`]).
    pub version: u8,
    /// Object kind.
    pub kind: ObjectKind,
    /// Curve, or `None` for curve-independent objects.
    pub curve: Option<CurveId>,
}

impl Header {
    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let k = self.kind.0.to_be_bytes();
        [
            self.version,
            k[0],
            k[1],
            self.curve.map_or(0, CurveId::to_byte),
        ]
    }

    /// Parses a header (any known version, kind and curve).
    pub fn parse(bytes: &[u8; HEADER_LEN]) -> Result<Self, DecodeError> {
        let [version, k0, k1, c] = *bytes;
        let curve = if c == 0 {
            None
        } else {
            Some(CurveId::from_byte(c)?)
        };
        Ok(Self {
            version,
            kind: ObjectKind(u16::from_be_bytes([k0, k1])),
            curve,
        })
    }
}

/// Appends canonical encodings to a buffer.
///
/// Inside this crate a writer can also feed a SHA-256 hash directly or only count bytes (for
/// the digests of [`crate::Inbox`] and the length prefix of [`Writer::object`]), so large
/// messages are hashed without being copied into a buffer first.
#[derive(Default)]
pub struct Writer {
    sink: Sink,
}

enum Sink {
    /// An ordinary buffer; `secret` ones zeroize every buffer they outgrow.
    Buf { buf: Vec<u8>, secret: bool },
    /// Into SHA-256, through a staging buffer (the fields are small; the hash is fed in
    /// chunks of up to [`STAGE`] bytes).
    Hash(alloc::boxed::Box<Hashing>),
    /// Only the length.
    Count(usize),
}

/// Size of the hashing writer's staging buffer.
const STAGE: usize = 1024;

struct Hashing {
    h: Sha256,
    stage: [u8; STAGE],
    used: usize,
}

impl Drop for Hashing {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.stage);
    }
}

impl Default for Sink {
    fn default() -> Self {
        Self::Buf {
            buf: Vec::new(),
            secret: false,
        }
    }
}

impl Writer {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty writer for an encoding that holds secrets: when its buffer has to grow, the
    /// old allocation is zeroized before it is freed (finish with [`Writer::into_secret`]).
    pub fn secret() -> Self {
        Self {
            sink: Sink::Buf {
                buf: Vec::new(),
                secret: true,
            },
        }
    }

    pub(crate) fn hashing() -> Self {
        Self {
            sink: Sink::Hash(alloc::boxed::Box::new(Hashing {
                h: Sha256::new(),
                stage: [0u8; STAGE],
                used: 0,
            })),
        }
    }

    fn counting() -> Self {
        Self {
            sink: Sink::Count(0),
        }
    }

    fn put(&mut self, b: &[u8]) {
        match &mut self.sink {
            Sink::Buf { buf, secret } => {
                if *secret && buf.capacity() - buf.len() < b.len() {
                    let want = buf.len() + b.len();
                    let mut grown = Vec::with_capacity(want.max(2 * buf.capacity()).max(64));
                    grown.extend_from_slice(buf);
                    zeroize::Zeroize::zeroize(buf);
                    *buf = grown;
                }
                buf.extend_from_slice(b);
            }
            Sink::Hash(hashing) => {
                let Hashing { h, stage, used } = &mut **hashing;
                if *used + b.len() > STAGE {
                    h.update(stage.get(..*used).unwrap_or(&[]));
                    *used = 0;
                }
                match stage.get_mut(*used..*used + b.len()) {
                    Some(slot) => {
                        slot.copy_from_slice(b);
                        *used += b.len();
                    }
                    // Larger than the whole stage: straight through.
                    None => h.update(b),
                }
            }
            Sink::Count(n) => *n += b.len(),
        }
    }

    /// Appends a byte.
    pub fn u8(&mut self, v: u8) {
        self.put(&[v]);
    }
    /// Appends a `u16` big-endian.
    pub fn u16(&mut self, v: u16) {
        self.put(&v.to_be_bytes());
    }
    /// Appends a `u32` big-endian.
    pub fn u32(&mut self, v: u32) {
        self.put(&v.to_be_bytes());
    }
    /// Appends a `u64` big-endian.
    pub fn u64(&mut self, v: u64) {
        self.put(&v.to_be_bytes());
    }
    /// Appends `u64`s big-endian, one after the other (the bytes of calling [`Writer::u64`] on
    /// each, written in larger pieces).
    pub fn u64s(&mut self, v: &[u64]) {
        let mut chunk = [0u8; 512];
        for words in v.chunks(64) {
            for (c, x) in chunk.chunks_exact_mut(8).zip(words) {
                c.copy_from_slice(&x.to_be_bytes());
            }
            self.put(chunk.get(..8 * words.len()).unwrap_or(&[]));
        }
    }
    /// Appends a boolean as one byte (0 / 1).
    pub fn bool(&mut self, v: bool) {
        self.put(&[u8::from(v)]);
    }
    /// Appends raw bytes (fixed-length fields).
    pub fn bytes(&mut self, b: &[u8]) {
        self.put(b);
    }
    /// Appends `u32be(len) || bytes` (variable-length fields).
    pub fn var_bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.put(b);
    }
    /// Appends `u32be(len) || encoding of o` — the same bytes as
    /// `self.var_bytes(&o.to_bytes())` without building the inner encoding separately.
    pub fn object<T: WireObject>(&mut self, o: &T) {
        if let Sink::Buf { buf, .. } = &self.sink {
            // Reserve the length, encode in place, then fill the length in.
            let at = buf.len();
            self.u32(0);
            self.bytes(&header_of::<T>().to_bytes());
            o.encode_body(self);
            if let Sink::Buf { buf, .. } = &mut self.sink {
                let n = (buf.len() - at - 4) as u32;
                if let Some(slot) = buf.get_mut(at..at + 4) {
                    slot.copy_from_slice(&n.to_be_bytes());
                }
            }
        } else {
            // A hash cannot be patched: count the bytes first.
            let mut c = Writer::counting();
            c.bytes(&header_of::<T>().to_bytes());
            o.encode_body(&mut c);
            self.u32(c.len() as u32);
            self.bytes(&header_of::<T>().to_bytes());
            o.encode_body(self);
        }
    }
    /// Appends a party id (2 bytes).
    pub fn party(&mut self, p: PartyId) {
        self.u16(p.get());
    }
    /// Appends a party set: `u16be(n) || ids`.
    pub fn parties(&mut self, p: &Parties) {
        self.u16(p.len() as u16);
        for id in p.iter() {
            self.party(id);
        }
    }
    /// Appends a session id (32 bytes).
    pub fn session(&mut self, s: &SessionId) {
        self.bytes(s.as_bytes());
    }
    /// Appends a point's canonical encoding.
    pub fn point<C: Curve>(&mut self, p: &C::Point) {
        self.bytes(p.to_bytes().as_ref());
    }
    /// Appends a public scalar's canonical encoding.
    pub fn scalar<C: Curve>(&mut self, s: &C::Scalar) {
        self.bytes(s.to_repr().as_ref());
    }
    /// Appends a secret scalar (the output must then be treated as secret, see
    /// [`Writer::into_secret`]).
    pub fn secret_scalar<C: Curve>(&mut self, s: &SecretScalar<C>) {
        let mut r = s.expose().to_repr();
        self.bytes(r.as_ref());
        zeroize::Zeroize::zeroize(r.as_mut());
    }

    fn len(&self) -> usize {
        match &self.sink {
            Sink::Buf { buf, .. } => buf.len(),
            Sink::Hash(_) => 0,
            Sink::Count(n) => *n,
        }
    }

    /// The encoded bytes.
    pub fn finish(mut self) -> Vec<u8> {
        match &mut self.sink {
            Sink::Buf { buf, .. } => core::mem::take(buf),
            Sink::Hash(_) | Sink::Count(_) => Vec::new(),
        }
    }
    /// The encoded bytes as a secret (for objects holding secrets).
    pub fn into_secret(self) -> SecretVec {
        SecretVec::new(self.finish())
    }

    /// The SHA-256 of what a [`Writer::hashing`] writer was given.
    pub(crate) fn digest(mut self) -> [u8; 32] {
        match &mut self.sink {
            Sink::Hash(hashing) => {
                let Hashing { h, stage, used } = &mut **hashing;
                h.update(stage.get(..*used).unwrap_or(&[]));
                h.finalize_reset().into()
            }
            Sink::Buf { buf, .. } => Sha256::digest(buf).into(),
            Sink::Count(_) => [0u8; 32],
        }
    }
}

/// SHA-256 of `header || body` of `o` (the bytes of [`WireObject::to_bytes`]), computed
/// without building the encoding.
pub fn digest_of<T: WireObject>(o: &T) -> [u8; 32] {
    let mut w = Writer::hashing();
    w.bytes(&header_of::<T>().to_bytes());
    o.encode_body(&mut w);
    w.digest()
}

/// Reads canonical encodings from a slice; every read checks the remaining length first.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Reads from `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len()
    }

    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.buf.len() {
            return Err(DecodeError::Truncated);
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }
    /// Takes the next `N` bytes as an array.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let s = self.bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
    /// Reads a byte.
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    /// Reads a `u16` big-endian.
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    /// Reads a `u32` big-endian.
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    /// Reads a `u64` big-endian.
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    /// Reads a boolean byte (0 or 1 only).
    pub fn bool(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(DecodeError::InvalidBool(b)),
        }
    }
    /// Reads `u32be(len) || bytes` with `len ≤ max`.
    pub fn var_bytes(&mut self, max: usize) -> Result<&'a [u8], DecodeError> {
        let n = self.u32()? as usize;
        if n > max {
            return Err(DecodeError::CountTooLarge);
        }
        self.bytes(n)
    }
    /// Reads a count for a list whose items take at least `min_item_len` bytes each; rejects a
    /// count above `max` or one the remaining input cannot hold (so no allocation is driven by
    /// an unchecked count).
    pub fn count(&mut self, max: usize, min_item_len: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        self.check_count(n, max, min_item_len)
    }
    /// Like [`Reader::count`] for a 16-bit count.
    pub fn count16(&mut self, max: usize, min_item_len: usize) -> Result<usize, DecodeError> {
        let n = usize::from(self.u16()?);
        self.check_count(n, max, min_item_len)
    }
    fn check_count(&self, n: usize, max: usize, min_item_len: usize) -> Result<usize, DecodeError> {
        if n > max || n.saturating_mul(min_item_len) > self.buf.len() {
            return Err(DecodeError::CountTooLarge);
        }
        Ok(n)
    }
    /// Reads a non-zero party id.
    pub fn party(&mut self) -> Result<PartyId, DecodeError> {
        PartyId::new(self.u16()?).ok_or(DecodeError::ZeroPartyId)
    }
    /// Reads a party set (strictly increasing, non-empty, bounded).
    pub fn parties(&mut self) -> Result<Parties, DecodeError> {
        let n = self.count16(crate::party::MAX_PARTIES, 2)?;
        if n == 0 {
            return Err(DecodeError::InvalidValue);
        }
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            let p = self.party()?;
            if let Some(last) = v.last()
                && *last >= p
            {
                return Err(DecodeError::NotSorted);
            }
            v.push(p);
        }
        Parties::new(v).map_err(|_| DecodeError::InvalidValue)
    }
    /// Reads a session id.
    pub fn session(&mut self) -> Result<SessionId, DecodeError> {
        Ok(SessionId(self.array()?))
    }
    /// Reads a non-identity point.
    pub fn point<C: Curve>(&mut self) -> Result<C::Point, DecodeError> {
        decode_point::<C>(self.bytes(C::POINT_LEN)?)
    }
    /// Reads a point that may be the identity.
    pub fn point_or_identity<C: Curve>(&mut self) -> Result<C::Point, DecodeError> {
        decode_point_or_identity::<C>(self.bytes(C::POINT_LEN)?)
    }
    /// Reads a canonical scalar.
    pub fn scalar<C: Curve>(&mut self) -> Result<C::Scalar, DecodeError> {
        decode_scalar::<C>(self.bytes(C::SCALAR_LEN)?)
    }
    /// Reads a canonical scalar as a secret.
    pub fn secret_scalar<C: Curve>(&mut self) -> Result<SecretScalar<C>, DecodeError> {
        self.scalar::<C>().map(SecretScalar::new)
    }
    /// Succeeds only if everything was read.
    pub fn finish(self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes)
        }
    }
}

/// An object with a header and one canonical encoding.
pub trait WireObject: Sized {
    /// Header kind.
    const KIND: ObjectKind;
    /// Upper bound on the encoded length (header included); longer inputs are rejected before
    /// any parsing.
    const MAX_LEN: usize;
    /// Header curve (`None` for curve-independent objects).
    const CURVE: Option<CurveId>;
    /// Whether the object holds secrets (a key share, a machine state, sealed one-time
    /// material). For such an object [`WireObject::to_secret_bytes`] is the only encoding:
    /// [`WireObject::to_bytes`] does not compile for it, so no plain, unzeroized copy of its
    /// encoding can be made by accident.
    const SECRET: bool = false;

    /// Writes the body (after the header).
    fn encode_body(&self, w: &mut Writer);
    /// Reads the body; must consume exactly what [`WireObject::encode_body`] wrote.
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError>;

    /// `header || body`, for public objects only (a compile-time error for a
    /// [`WireObject::SECRET`] one).
    fn to_bytes(&self) -> Vec<u8> {
        const {
            assert!(
                !Self::SECRET,
                "a secret object is encoded with to_secret_bytes, never to_bytes"
            )
        };
        let mut w = Writer::new();
        w.bytes(&header_of::<Self>().to_bytes());
        self.encode_body(&mut w);
        w.finish()
    }

    /// `header || body` in a zeroizing buffer (for objects that hold secrets).
    fn to_secret_bytes(&self) -> SecretVec {
        let mut w = Writer::secret();
        w.bytes(&header_of::<Self>().to_bytes());
        self.encode_body(&mut w);
        w.into_secret()
    }

    /// Checks size bound, header (version, kind, curve), body and absence of trailing bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = open_object::<Self>(bytes)?;
        let v = Self::decode_body(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// The checks of [`WireObject::from_bytes`] before the body: the size bound and the header
/// (version, kind, curve) of `T`; returns a reader positioned at the body.
pub(crate) fn open_object<T: WireObject>(bytes: &[u8]) -> Result<Reader<'_>, DecodeError> {
    if bytes.len() > T::MAX_LEN {
        return Err(DecodeError::TooLarge {
            len: bytes.len(),
            max: T::MAX_LEN,
        });
    }
    let mut r = Reader::new(bytes);
    let h = r.array::<HEADER_LEN>()?;
    let [version, k0, k1, c] = h;
    if version != FORMAT_VERSION {
        return Err(DecodeError::UnsupportedVersion(version));
    }
    let kind = u16::from_be_bytes([k0, k1]);
    if kind != T::KIND.0 {
        return Err(DecodeError::WrongKind {
            expected: T::KIND.0,
            found: kind,
        });
    }
    let expected_curve = T::CURVE.map_or(0, CurveId::to_byte);
    if c != expected_curve {
        return Err(DecodeError::WrongCurve {
            expected: expected_curve,
            found: c,
        });
    }
    Ok(r)
}

/// The header an object of type `T` is written with.
pub fn header_of<T: WireObject>() -> Header {
    Header {
        version: FORMAT_VERSION,
        kind: T::KIND,
        curve: T::CURVE,
    }
}

impl WireObject for Parties {
    const KIND: ObjectKind = ObjectKind::PARTIES;
    const MAX_LEN: usize = HEADER_LEN + 2 + 2 * crate::party::MAX_PARTIES;
    const CURVE: Option<CurveId> = None;
    fn encode_body(&self, w: &mut Writer) {
        w.parties(self);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.parties()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// `object` writes exactly `var_bytes(to_bytes())`, into a buffer and into a hash;
    /// `digest_of` is the SHA-256 of `to_bytes`; secret writers give the same bytes.
    #[test]
    fn streaming_encodings_match_buffers() {
        let ids: Vec<u16> = (1..=300).collect();
        let big = Parties::from_ids(&ids).unwrap();
        let small = Parties::from_ids(&[2, 7]).unwrap();
        for p in [&big, &small] {
            let mut a = Writer::new();
            let words: Vec<u64> = (0..150u64).map(|i| i.wrapping_mul(0x9e37_79b9)).collect();
            for x in &words {
                a.u64(*x);
            }
            a.u8(9);
            a.var_bytes(&p.to_bytes());
            a.u8(10);
            let mut b = Writer::new();
            b.u64s(&words);
            b.u8(9);
            b.object(p);
            b.u8(10);
            let a = a.finish();
            assert_eq!(b.finish(), a);
            let mut h = Writer::hashing();
            h.u64s(&words);
            h.u8(9);
            h.object(p);
            h.u8(10);
            assert_eq!(h.digest(), <[u8; 32]>::from(Sha256::digest(&a)));
            assert_eq!(digest_of(p), <[u8; 32]>::from(Sha256::digest(p.to_bytes())));
            assert_eq!(p.to_secret_bytes().expose(), p.to_bytes().as_slice());
        }
    }

    #[test]
    fn header_roundtrip_and_checks() {
        let p = Parties::from_ids(&[1, 4, 9]).unwrap();
        let b = p.to_bytes();
        assert_eq!(&b[..4], &[1, 0x01, 0x04, 0]);
        assert_eq!(Parties::from_bytes(&b).unwrap(), p);
        let mut v = b.clone();
        v[0] = 2;
        assert_eq!(
            Parties::from_bytes(&v),
            Err(DecodeError::UnsupportedVersion(2))
        );
        let mut v = b.clone();
        v[2] = 0x05;
        assert_eq!(
            Parties::from_bytes(&v),
            Err(DecodeError::WrongKind {
                expected: 0x0104,
                found: 0x0105
            })
        );
        let mut v = b.clone();
        v[3] = 1;
        assert_eq!(
            Parties::from_bytes(&v),
            Err(DecodeError::WrongCurve {
                expected: 0,
                found: 1
            })
        );
        let mut v = b.clone();
        v.push(0);
        assert_eq!(Parties::from_bytes(&v), Err(DecodeError::TrailingBytes));
        // A list cut short: its count no longer fits the input.
        assert_eq!(
            Parties::from_bytes(&b[..b.len() - 1]),
            Err(DecodeError::CountTooLarge)
        );
        assert_eq!(Parties::from_bytes(&b[..3]), Err(DecodeError::Truncated));
        assert_eq!(Parties::from_bytes(&b[..5]), Err(DecodeError::Truncated));
        // Unsorted / duplicate ids.
        let mut v = b.clone();
        v[6..8].copy_from_slice(&9u16.to_be_bytes());
        assert_eq!(Parties::from_bytes(&v), Err(DecodeError::NotSorted));
        // A count that the input cannot hold is refused before allocation.
        let v = [1, 0x01, 0x04, 0, 0x03, 0xff, 0, 1];
        assert_eq!(Parties::from_bytes(&v), Err(DecodeError::CountTooLarge));
        let big = alloc::vec![0u8; Parties::MAX_LEN + 1];
        assert!(matches!(
            Parties::from_bytes(&big),
            Err(DecodeError::TooLarge { .. })
        ));
    }
}
