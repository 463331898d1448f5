//! Message addressing.
//!
//! A machine emits [`Envelope`]s whose `recipient` is [`Recipient::All`] (a broadcast) or one
//! party; the caller moves them by any transport and hands each received one back to the
//! recipient's machine. The transport is assumed to **authenticate the sender** and to
//! **encrypt point-to-point messages** (they can carry secret shares); the `sender` field of a
//! received envelope must be set from the authenticated channel, not trusted from the bytes.
//! Which rounds need a *reliable* broadcast is stated by each protocol; where it matters the
//! protocols add an echo / confirmation round so that inconsistent broadcasts are detected.

use alloc::vec::Vec;

use crate::curve::CurveId;
use crate::party::{PartyId, SessionId};
use crate::secret::SecretVec;
use crate::wire::{
    DecodeError, HEADER_LEN, ObjectKind, Reader, WireObject, Writer, header_of, open_object,
};

/// Why [`Envelope::decode`] failed: the decoding error and, when the envelope itself was well
/// formed (only its payload was not), the sender it *claims*. The claim is not authenticated:
/// blame the party the transport authenticated ([`EnvelopeDecodeError::attribute`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvelopeDecodeError {
    /// The sender named in the envelope, if the envelope decoded.
    pub sender: Option<PartyId>,
    /// What was wrong.
    pub error: DecodeError,
}

impl EnvelopeDecodeError {
    /// The protocol error blaming `authenticated_sender` (the party the transport says sent
    /// the bytes), as a machine would report it.
    pub fn attribute(self, authenticated_sender: PartyId) -> crate::error::Error {
        crate::error::Error::Decode {
            sender: authenticated_sender,
            error: self.error,
        }
    }
}

impl core::fmt::Display for EnvelopeDecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.sender {
            Some(p) => write!(
                f,
                "undecodable payload in an envelope from party {}: {}",
                p.get(),
                self.error
            ),
            None => write!(f, "undecodable envelope: {}", self.error),
        }
    }
}

impl core::error::Error for EnvelopeDecodeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<EnvelopeDecodeError> for DecodeError {
    fn from(e: EnvelopeDecodeError) -> Self {
        e.error
    }
}

/// Who a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// Every other party of the protocol (a broadcast).
    All,
    /// One party (a point-to-point message).
    One(PartyId),
}

/// A protocol message with its addressing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope<M> {
    /// The protocol run it belongs to.
    pub session: SessionId,
    /// The round (1-based) it belongs to.
    pub round: u16,
    /// Who sent it (set from the authenticated transport on receipt).
    pub sender: PartyId,
    /// Who it is for.
    pub recipient: Recipient,
    /// The protocol's message.
    pub payload: M,
}

impl<M> Envelope<M> {
    /// Maps the payload (e.g. to bytes and back).
    pub fn map<N>(self, f: impl FnOnce(M) -> N) -> Envelope<N> {
        Envelope {
            session: self.session,
            round: self.round,
            sender: self.sender,
            recipient: self.recipient,
            payload: f(self.payload),
        }
    }

    /// Whether `party` should receive this message.
    pub fn is_for(&self, party: PartyId) -> bool {
        party != self.sender
            && match self.recipient {
                Recipient::All => true,
                Recipient::One(p) => p == party,
            }
    }
}

/// Upper bound of one envelope's payload on the wire (16 MiB).
pub const MAX_PAYLOAD_LEN: usize = 1 << 24;

/// An envelope with an encoded payload: what crosses the wire.
///
/// Body: `session[32] || round u16 || sender u16 || recipient (u8 tag: 0 = all, 1 = one) ||
/// [party u16 if one] || u32be(len) || payload` where the payload is itself a full wire object.
impl WireObject for Envelope<Vec<u8>> {
    const KIND: ObjectKind = ObjectKind::ENVELOPE;
    const MAX_LEN: usize = HEADER_LEN + 32 + 2 + 2 + 3 + 4 + MAX_PAYLOAD_LEN;
    const CURVE: Option<CurveId> = None;

    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.session);
        w.u16(self.round);
        w.party(self.sender);
        match self.recipient {
            Recipient::All => w.u8(0),
            Recipient::One(p) => {
                w.u8(1);
                w.party(p);
            }
        }
        w.var_bytes(&self.payload);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let (addressing, payload) = read_body(r)?;
        Ok(addressing.map(|()| payload.to_vec()))
    }
}

/// Reads an envelope's body: its addressing, and its payload as a slice of the input.
fn read_body<'a>(r: &mut Reader<'a>) -> Result<(Envelope<()>, &'a [u8]), DecodeError> {
    let session = r.session()?;
    let round = r.u16()?;
    let sender = r.party()?;
    let recipient = match r.u8()? {
        0 => Recipient::All,
        1 => Recipient::One(r.party()?),
        t => return Err(DecodeError::InvalidTag(t)),
    };
    let payload = r.var_bytes(MAX_PAYLOAD_LEN)?;
    Ok((
        Envelope {
            session,
            round,
            sender,
            recipient,
            payload: (),
        },
        payload,
    ))
}

impl<M: WireObject> Envelope<M> {
    /// Writes the envelope with its payload encoded in place (no separate payload buffer) into
    /// a zeroizing writer: no intermediate copy of a payload that carries a secret share is
    /// left behind in freed memory.
    fn write(&self) -> Writer {
        let mut w = Writer::secret();
        w.bytes(&header_of::<Envelope<Vec<u8>>>().to_bytes());
        w.session(&self.session);
        w.u16(self.round);
        w.party(self.sender);
        match self.recipient {
            Recipient::All => w.u8(0),
            Recipient::One(p) => {
                w.u8(1);
                w.party(p);
            }
        }
        w.object(&self.payload);
        w
    }

    /// Encodes the envelope and its payload. The returned buffer is the only copy of the
    /// encoding (the payload is encoded in place, through a writer that zeroizes what it
    /// outgrows); for a payload that carries a secret (a DKG, refresh or reshare round that
    /// deals sub-shares) prefer [`Envelope::encode_secret`], which also zeroizes the result
    /// when it drops.
    pub fn encode(&self) -> Vec<u8> {
        self.write().finish()
    }

    /// [`Envelope::encode`] into a buffer that is zeroized on drop: the encoding to use for a
    /// payload that carries a secret share (hand [`SecretVec::expose`] to the encrypted
    /// channel and let the buffer drop). Same bytes as [`Envelope::encode`].
    pub fn encode_secret(&self) -> SecretVec {
        self.write().into_secret()
    }

    /// Decodes an envelope and its payload. A payload that fails to decode is reported with
    /// the envelope's claimed sender ([`EnvelopeDecodeError::sender`]), so the caller can
    /// attribute it once the transport has confirmed that sender
    /// ([`EnvelopeDecodeError::attribute`]). The error implements [`core::error::Error`], so `?`
    /// works in functions returning `Box<dyn Error>` (or `DecodeError`, through `From`). The
    /// payload is decoded from the input in place (no intermediate copy of its bytes, which may
    /// carry a secret share).
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeDecodeError> {
        let (header, payload) = split_envelope(bytes).map_err(|error| EnvelopeDecodeError {
            sender: None,
            error,
        })?;
        let payload = M::from_bytes(payload).map_err(|error| EnvelopeDecodeError {
            sender: Some(header.sender),
            error,
        })?;
        Ok(header.map(|()| payload))
    }
}

/// Checks an encoded envelope as [`WireObject::from_bytes`] of `Envelope<Vec<u8>>` does
/// (size bound, header, fields, no trailing bytes) and returns its addressing with the payload
/// as a slice of `bytes`.
fn split_envelope(bytes: &[u8]) -> Result<(Envelope<()>, &[u8]), DecodeError> {
    let mut r = open_object::<Envelope<Vec<u8>>>(bytes)?;
    let (addressing, payload) = read_body(&mut r)?;
    r.finish()?;
    Ok((addressing, payload))
}
