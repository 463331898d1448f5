//! Serde support for public objects (feature `serde`), through their canonical wire encoding.
//!
//! A public object is serialized as its [`WireObject`] encoding — header and body, the bytes
//! `SPEC.md` specifies — as a lowercase hex string in human-readable formats (JSON, TOML) and
//! as a byte string in binary ones. Deserializing runs the full decoder ([`WireObject::from_bytes`]:
//! size bound first, header, every point and scalar checked), so a value that came in through
//! serde is as validated as one decoded by hand.
//!
//! Secret objects (key shares, machine states, sealed one-time material: those with
//! [`WireObject::SECRET`]) have **no** serde implementation, and passing one to this module's
//! [`serialize`] fails to build (a constant assertion, evaluated when the call is instantiated:
//! in `cargo build` / `cargo test`, not in `cargo check`); they leave memory only through
//! `to_secret_bytes` and are stored encrypted.
//!
//! Use it on a field of your own type with `#[serde(with = "wallet_types::serde_wire")]`, or
//! rely on the `Serialize` / `Deserialize` implementations the crates give their public types
//! with their `serde` feature (see [`impl_serde_via_wire!`](crate::impl_serde_via_wire)).
//!
//! ```
//! use wallet_types::{Parties, PartyId, WireObject};
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Stored {
//!     #[serde(with = "wallet_types::serde_wire")]
//!     signers: Parties,
//! }
//! let signers = Parties::new([1, 3].into_iter().filter_map(PartyId::new))?;
//! let json = serde_json::to_string(&Stored { signers: signers.clone() })?;
//! // The value is the hex of the wire encoding.
//! let hex = wallet_types::serde_wire::to_hex(&signers.to_bytes());
//! assert_eq!(json, format!(r#"{{"signers":"{hex}"}}"#));
//! let back: Stored = serde_json::from_str(&json)?;
//! assert_eq!(back.signers, signers);
//! // Decoding validates: a truncated encoding is refused.
//! let bad = format!(r#"{{"signers":"{}"}}"#, &hex[..hex.len() - 2]);
//! assert!(serde_json::from_str::<Stored>(&bad).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::Serializer;

use crate::wire::WireObject;

/// Serializes a public object as its wire encoding (hex string or byte string).
pub fn serialize<T: WireObject, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    // `to_bytes` does not compile for a `SECRET` object: secrets cannot reach a serializer.
    let bytes = value.to_bytes();
    if serializer.is_human_readable() {
        serializer.serialize_str(&to_hex(&bytes))
    } else {
        serializer.serialize_bytes(&bytes)
    }
}

/// Deserializes and fully validates a public object from its wire encoding.
pub fn deserialize<'de, T: WireObject, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    let visitor = WireVisitor { max: T::MAX_LEN };
    let bytes = if deserializer.is_human_readable() {
        deserializer.deserialize_str(visitor)?
    } else {
        deserializer.deserialize_bytes(visitor)?
    };
    T::from_bytes(&bytes).map_err(de::Error::custom)
}

/// Lowercase hex of `bytes` (the human-readable serde form).
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len().saturating_mul(2));
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            s.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

/// Parses lowercase or uppercase hex (no prefix); `None` on odd length or a non-hex digit.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some(digit(*hi)? << 4 | digit(*lo)?),
            _ => None,
        })
        .collect()
}

struct WireVisitor {
    max: usize,
}

impl WireVisitor {
    fn check_len<E: de::Error>(&self, len: usize) -> Result<(), E> {
        if len > self.max {
            return Err(E::invalid_length(len, self));
        }
        Ok(())
    }
}

impl<'de> Visitor<'de> for WireVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a wire-encoded object of at most {} bytes (hex or bytes)",
            self.max
        )
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<u8>, E> {
        // The size bound is checked before decoding allocates.
        self.check_len(v.len() / 2)?;
        from_hex(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        self.check_len(v.len())?;
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        self.check_len(v.len())?;
        Ok(v)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.max));
        while let Some(b) = seq.next_element::<u8>()? {
            if out.len() >= self.max {
                return Err(de::Error::invalid_length(
                    out.len().saturating_add(1),
                    &self,
                ));
            }
            out.push(b);
        }
        Ok(out)
    }
}

/// Implements `serde::Serialize` and `serde::Deserialize` for a public [`WireObject`] through
/// [`serde_wire`](crate::serde_wire) (used by the wallet crates' `serde` features; usable for
/// your own wire objects). Generic parameters go in brackets:
/// `impl_serde_via_wire!([C: Curve] Commitments<C>)`. A secret object does not compile.
#[macro_export]
macro_rules! impl_serde_via_wire {
    ([$($g:tt)*] $ty:ty) => {
        impl<$($g)*> $crate::serde::Serialize for $ty {
            fn serialize<S: $crate::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::serde_wire::serialize(self, s)
            }
        }
        impl<'de, $($g)*> $crate::serde::Deserialize<'de> for $ty {
            fn deserialize<D: $crate::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                $crate::serde_wire::deserialize(d)
            }
        }
    };
    ($ty:ty) => {
        $crate::impl_serde_via_wire!([] $ty);
    };
}

impl_serde_via_wire!(crate::party::Parties);

impl serde::Serialize for crate::party::PartyId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.get())
    }
}

impl<'de> serde::Deserialize<'de> for crate::party::PartyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = <u16 as serde::Deserialize>::deserialize(d)?;
        Self::new(n).ok_or_else(|| {
            de::Error::invalid_value(de::Unexpected::Unsigned(0), &"a non-zero party id")
        })
    }
}

impl serde::Serialize for crate::party::SessionId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&to_hex(&self.0))
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

impl<'de> serde::Deserialize<'de> for crate::party::SessionId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let visitor = WireVisitor { max: 32 };
        let bytes = if d.is_human_readable() {
            d.deserialize_str(visitor)?
        } else {
            d.deserialize_bytes(visitor)?
        };
        let id: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| de::Error::invalid_length(bytes.len(), &"32 bytes"))?;
        Ok(Self(id))
    }
}

impl_serde_via_wire!(crate::message::Envelope<Vec<u8>>);
impl_serde_via_wire!(crate::session_id::SessionIdMessage);
impl_serde_via_wire!(crate::reconfirm::ReconfirmMessage);
