//! Idempotent retries for a server that handles one request at a time.
//!
//! A protocol machine ignores an identical duplicate of a message it already processed and
//! returns **nothing** for it — right for a machine, wrong for a server whose client retried
//! because the response was lost (a timeout, a crashed server process, a dropped connection):
//! the client would wait forever. [`LastResponse`] keeps the last request's digest together
//! with the response that was sent for it; the server consults it first and answers an
//! identical request with the identical response, without touching the machine again.
//!
//! The server must persist the `LastResponse` **in the same atomic write** as the machine
//! state the request produced (and before it replies): then a retry after a crash either finds
//! the old state (the request was not processed: process it) or the new state with its
//! response (answer from the cache), never a processed request without its response. The
//! response can hold secrets (point-to-point protocol messages carry shares): it is kept in a
//! zeroizing buffer, and its encoding belongs in the server's encrypted state.
//!
//! ```
//! use wallet_types::retry::LastResponse;
//! use wallet_types::SecretVec;
//! let mut last: Option<LastResponse> = None; // loaded with the server state
//! let request = b"round 2 messages".to_vec();
//! let respond = |req: &[u8]| -> Vec<u8> {
//!     if let Some(cached) = last.as_ref().and_then(|l| l.replay(req)) {
//!         return cached.to_vec(); // a retry: the same answer, the machine is not run again
//!     }
//!     b"round 3 messages".to_vec() // ...run the machine...
//! };
//! let first = respond(&request);
//! last = Some(LastResponse::new(&request, SecretVec::from_slice(&first)));
//! // ...persist machine state + `last` atomically, then send `first`...
//! assert_eq!(last.as_ref().and_then(|l| l.replay(&request)), Some(&first[..]));
//! assert_eq!(last.as_ref().and_then(|l| l.replay(b"another request")), None);
//! ```

use sha2::{Digest, Sha256};

use crate::secret::SecretVec;
use crate::wire::{DecodeError, Reader, Writer};

/// Domain separator of the request digest.
const DOMAIN: &[u8] = b"wallet-types/last-response/v1";

/// Largest response [`LastResponse::decode`] accepts (16 MiB).
pub const MAX_RESPONSE_LEN: usize = 16 << 20;

/// The last request a server answered (as a digest) and the response it sent.
pub struct LastResponse {
    digest: [u8; 32],
    response: SecretVec,
}

impl core::fmt::Debug for LastResponse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LastResponse")
            .field("response_len", &self.response.len())
            .finish_non_exhaustive()
    }
}

fn digest(request: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update((DOMAIN.len() as u64).to_be_bytes());
    h.update(DOMAIN);
    h.update((request.len() as u64).to_be_bytes());
    h.update(request);
    h.finalize().into()
}

impl LastResponse {
    /// Records that `response` was the answer to `request`.
    pub fn new(request: &[u8], response: SecretVec) -> Self {
        Self {
            digest: digest(request),
            response,
        }
    }

    /// The recorded response if `request` is byte for byte the recorded request.
    #[must_use]
    pub fn replay(&self, request: &[u8]) -> Option<&[u8]> {
        (digest(request) == self.digest).then(|| self.response.expose())
    }

    /// `digest (32) || u32be(len) || response`, in a zeroizing buffer (store it encrypted).
    pub fn encode(&self) -> SecretVec {
        let mut w = Writer::secret();
        w.bytes(&self.digest);
        w.var_bytes(self.response.expose());
        w.into_secret()
    }

    /// Decodes [`LastResponse::encode`]'s bytes (exactly; at most [`MAX_RESPONSE_LEN`]).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let digest = r.array::<32>()?;
        let response = SecretVec::from_slice(r.var_bytes(MAX_RESPONSE_LEN)?);
        r.finish()?;
        Ok(Self { digest, response })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn replays_only_the_identical_request() {
        let last = LastResponse::new(b"req", SecretVec::from_slice(b"resp"));
        assert_eq!(last.replay(b"req"), Some(&b"resp"[..]));
        assert_eq!(last.replay(b"req "), None);
        assert_eq!(last.replay(b""), None);
        let back = LastResponse::decode(last.encode().expose()).unwrap();
        assert_eq!(back.replay(b"req"), Some(&b"resp"[..]));
        assert_eq!(
            alloc::format!("{back:?}"),
            "LastResponse { response_len: 4, .. }"
        );
        let enc = last.encode();
        assert!(LastResponse::decode(enc.expose().get(..enc.len() - 1).unwrap()).is_err());
        let mut longer = alloc::vec::Vec::from(enc.expose());
        longer.push(0);
        assert!(LastResponse::decode(&longer).is_err());
    }
}
