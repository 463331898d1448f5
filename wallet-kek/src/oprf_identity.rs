//! The OPRF server's identity: record keys certified at enrolment (`SPEC.md` §10.4).
//!
//! A hardened slot pins its record's OPRF public key `pkS`, which the client learns when it
//! registers the record. Without more, that is trust on first use: whoever answers the
//! registration (an impostor endpoint, a compromised gateway in front of the real server) can
//! hand out a key of its own, and its holder could later test guesses offline against the
//! envelope. With a **server identity** — an Ed25519 key derived from the server's master seed,
//! whose public half the application ships with — the server certifies each record key
//! ([`OprfServerKey::certify`]) and the client accepts a key only through
//! [`RecordKeyCertificate::verify`] against the pinned [`OprfIdentity`].
//!
//! ```text
//! identity_seed = HKDF-SHA256(ikm = seed, info = "wallet-kek/oprf-identity" || u16be(1), L = 32)
//! identity      = Ed25519 public key of identity_seed (RFC 8032)
//! message       = "wallet-kek/oprf-record-key-certificate" || u16be(1) || record_id[32] || pkS[32]
//! certificate   = record_id || pkS || Ed25519-Sign(identity_seed, message)
//! ```
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! use wallet_kek::{OprfServerKey, RecordId, RecordKeyCertificate};
//! use wallet_types::WireObject;
//!
//! let server = OprfServerKey::generate(&mut rng);
//! let pinned = server.identity()?; // shipped with the application
//! let record = RecordId::random(&mut rng);
//! let cert = RecordKeyCertificate::from_bytes(&server.certify(&record)?.to_bytes())?;
//! let pk = cert.verify(&pinned, &record)?; // the key to pin in the slot
//! assert_eq!(pk, server.public_key(&record)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::vec::Vec;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use wallet_types::{DecodeError, ObjectKind, Reader, SecretBytes, WireObject, Writer};

use crate::crypto::hkdf_sha256;
use crate::error::KekError;
use crate::hardened::{OprfServerKey, RECORD_ID_LEN, RecordId};
use crate::oprf::OprfPublicKey;

/// Object kind of a [`RecordKeyCertificate`].
pub const RECORD_CERTIFICATE_KIND: ObjectKind = ObjectKind(0x0408);
/// HKDF info label of the identity seed.
pub const IDENTITY_LABEL: &[u8] = b"wallet-kek/oprf-identity";
/// Domain label of the certified message.
pub const RECORD_KEY_LABEL: &[u8] = b"wallet-kek/oprf-record-key-certificate";

/// The OPRF server's identity: an Ed25519 public key (RFC 8032 encoding) that applications
/// pin, to check the record keys the server hands out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OprfIdentity(pub [u8; 32]);

impl OprfServerKey {
    fn identity_key(&self) -> Result<SigningKey, KekError> {
        let mut info = Vec::with_capacity(IDENTITY_LABEL.len() + 2);
        info.extend_from_slice(IDENTITY_LABEL);
        info.extend_from_slice(&1u16.to_be_bytes());
        let mut seed = SecretBytes::<32>::new([0; 32]);
        hkdf_sha256(None, self.seed().expose(), &info, seed.expose_mut())?;
        Ok(SigningKey::from_bytes(seed.expose()))
    }

    /// The server's identity (derived from the master seed; the same for every record).
    pub fn identity(&self) -> Result<OprfIdentity, KekError> {
        Ok(OprfIdentity(
            self.identity_key()?.verifying_key().to_bytes(),
        ))
    }

    /// The certificate of `record`'s public key under the server's identity (send it with the
    /// registration's answer).
    pub fn certify(&self, record: &RecordId) -> Result<RecordKeyCertificate, KekError> {
        let server_key = self.public_key(record)?;
        let signature = self
            .identity_key()?
            .sign(&message(record, &server_key))
            .to_bytes();
        Ok(RecordKeyCertificate {
            record: *record,
            server_key,
            signature,
        })
    }
}

/// What the identity signs for a record.
fn message(record: &RecordId, server_key: &OprfPublicKey) -> Vec<u8> {
    let mut m = Vec::with_capacity(RECORD_KEY_LABEL.len() + 2 + 64);
    m.extend_from_slice(RECORD_KEY_LABEL);
    m.extend_from_slice(&1u16.to_be_bytes());
    m.extend_from_slice(record.as_bytes());
    m.extend_from_slice(server_key.as_bytes());
    m
}

/// A record's OPRF public key, signed by the server's identity (`SPEC.md` §10.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordKeyCertificate {
    record: RecordId,
    server_key: OprfPublicKey,
    signature: [u8; 64],
}

impl RecordKeyCertificate {
    /// The record it certifies a key for.
    pub fn record(&self) -> &RecordId {
        &self.record
    }

    /// The certified key, **if** the certificate is for `record` and verifies under the
    /// pinned `identity` (RFC 8032 strict verification); [`KekError::OprfBadCertificate`]
    /// otherwise. Pin only a key obtained this way.
    pub fn verify(
        &self,
        identity: &OprfIdentity,
        record: &RecordId,
    ) -> Result<OprfPublicKey, KekError> {
        if self.record != *record {
            return Err(KekError::OprfBadCertificate);
        }
        let vk = VerifyingKey::from_bytes(&identity.0).map_err(|_| KekError::OprfBadCertificate)?;
        vk.verify_strict(
            &message(&self.record, &self.server_key),
            &Signature::from_bytes(&self.signature),
        )
        .map_err(|_| KekError::OprfBadCertificate)?;
        Ok(self.server_key)
    }
}

impl WireObject for RecordKeyCertificate {
    const KIND: ObjectKind = RECORD_CERTIFICATE_KIND;
    const MAX_LEN: usize = wallet_types::HEADER_LEN + RECORD_ID_LEN + 32 + 64;
    const CURVE: Option<wallet_types::CurveId> = None;
    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.record.as_bytes());
        w.bytes(self.server_key.as_bytes());
        w.bytes(&self.signature);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let record = RecordId(r.array()?);
        let server_key =
            OprfPublicKey::from_bytes(&r.array()?).map_err(|_| DecodeError::InvalidValue)?;
        Ok(Self {
            record,
            server_key,
            signature: r.array()?,
        })
    }
}
