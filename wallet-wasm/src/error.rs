//! The one error type of the package: a kind and a message, thrown to JavaScript as an `Error`
//! whose `message` is the Rust message and whose `kind` property names the family.

use core::fmt;

/// Why a call failed. `kind` is one of the strings listed at [`WasmError::kind`]; `message` is
/// the Rust error's `Display` text (it never holds secret material: the errors of the wallet
/// crates name parties, lengths and reasons, never values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasmError {
    kind: &'static str,
    message: String,
    state: Option<Vec<u8>>,
}

impl WasmError {
    /// A new error of `kind`.
    pub fn new(kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            state: None,
        }
    }

    /// Attaches the sealed state the caller must store although the call failed: a protocol
    /// machine aborted, or a ban was recorded (it must outlive this error, see the ECDSA
    /// module). JavaScript sees it as the exception's `state` property.
    pub fn with_state(mut self, state: Vec<u8>) -> Self {
        self.state = Some(state);
        self
    }

    /// The sealed state to store despite the failure, if any.
    pub fn state(&self) -> Option<&[u8]> {
        self.state.as_deref()
    }

    /// The family of the error:
    /// * `"input"`: bytes from the caller that do not decode or have the wrong length;
    /// * `"unwrap"`: an envelope, a sealed state or a sealed share did not open with the
    ///   secret given (deliberately opaque: no oracle);
    /// * `"oprf"`: the OPRF exchange of a hardened slot failed for a reason that does not
    ///   depend on the answer: a response whose proof does not verify under the slot's pinned
    ///   key (another server answered, or the response was tampered with or replayed), a
    ///   message for another record, a locked record, a refused reset, the server's store;
    /// * `"kek"`, `"sss"`: another error of wallet-kek / wallet-sss;
    /// * `"rejected"`, `"misbehaviour"`, `"usage"`: a protocol error of wallet-tss, by
    ///   [`wallet_types::ErrorKind`];
    /// * `"state"`: a call that does not fit the sealed state (e.g. a presign before keygen).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for WasmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for WasmError {}

impl From<wallet_types::Error> for WasmError {
    fn from(e: wallet_types::Error) -> Self {
        let kind = match e.kind() {
            wallet_types::ErrorKind::Rejected => "rejected",
            wallet_types::ErrorKind::Misbehaviour => "misbehaviour",
            _ => "usage",
        };
        Self::new(kind, e.to_string())
    }
}

impl From<wallet_types::DecodeError> for WasmError {
    fn from(e: wallet_types::DecodeError) -> Self {
        Self::new("input", e.to_string())
    }
}

impl From<wallet_types::StoreError> for WasmError {
    fn from(e: wallet_types::StoreError) -> Self {
        wallet_types::Error::from(e).into()
    }
}

impl From<wallet_kek::KekError> for WasmError {
    fn from(e: wallet_kek::KekError) -> Self {
        let kind = match e {
            wallet_kek::KekError::Unwrap => "unwrap",
            wallet_kek::KekError::Decode(_) => "input",
            wallet_kek::KekError::OprfLockedOut
            | wallet_kek::KekError::OprfBadProof { .. }
            | wallet_kek::KekError::OprfWrongRecord
            | wallet_kek::KekError::OprfBadReset
            | wallet_kek::KekError::OprfBadCertificate
            | wallet_kek::KekError::Store(_) => "oprf",
            _ => "kek",
        };
        Self::new(kind, e.to_string())
    }
}

impl From<wallet_sss::wallet::WalletError> for WasmError {
    fn from(e: wallet_sss::wallet::WalletError) -> Self {
        Self::new("sss", e.to_string())
    }
}

/// The result type of the package.
pub type Result<T> = core::result::Result<T, WasmError>;

/// `bytes` as a fixed-size array, or an `"input"` error naming `what`.
pub fn array<const N: usize>(what: &str, bytes: &[u8]) -> Result<[u8; N]> {
    <[u8; N]>::try_from(bytes).map_err(|_| {
        WasmError::new(
            "input",
            format!("{what}: {} bytes, {N} expected", bytes.len()),
        )
    })
}
