//! The envelope: one wallet secret encrypted under a random data-encryption key (DEK), the
//! DEK wrapped once per slot (passkey PRF, password, recovery answer). Byte layout in
//! `SPEC.md` §2. The AAD of every AES-GCM call binds the header, the wallet id and a purpose
//! byte; a wrapped DEK's AAD adds the slot id and the slot's whole public description; the
//! payload's AAD adds the whole slot table. So a ciphertext moved into another envelope, slot
//! or purpose fails, and *any* change to the envelope's bytes makes every opening fail (even
//! through a slot that was not touched). Every change of the slot table therefore re-encrypts
//! the payload (same DEK, fresh nonce) and needs the envelope unlocked.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use rand_core::CryptoRng;
use wallet_types::wire::header_of;
use wallet_types::{
    Curve, DecodeError, ObjectKind, Reader, Secp256k1, SecretBytes, SecretScalar, WireObject,
    Writer,
};

use crate::crypto::{self, KEY_LEN, NONCE_LEN, TAG_LEN};
use crate::error::KekError;
use crate::hardened::{
    self, HardenedFactor, HardenedKind, RECORD_ID_LEN, RESET_NONCE_LEN, RecordId, ResetKey,
    ResetProof, SLOT_HARDENED_PASSWORD, SLOT_HARDENED_RECOVERY,
};
use crate::oprf::{OPRF_ELEMENT_LEN, OprfPublicKey};
use crate::password::{self, ARGON2_SALT_LEN, Argon2Params, TextSecret};
use crate::payload::{self, MAX_OPAQUE_LEN, Payload, PayloadKind, RecoverableSignature};
use crate::prf::{
    self, Kek, MAX_CREDENTIAL_ID_LEN, MAX_RP_ID_LEN, PRF_SALT_LEN, PrfOutput, PrfSalt, WalletId,
};

/// Wire kind of an envelope.
pub const ENVELOPE_KIND: ObjectKind = ObjectKind(0x0401);
/// Most slots an envelope may hold.
pub const MAX_SLOTS: usize = 16;
/// Longest recovery question stored with a recovery-answer slot, in bytes.
pub const MAX_QUESTION_LEN: usize = 255;
/// Length of a wrapped DEK: 32 bytes of ciphertext and a 16-byte tag.
pub const WRAPPED_DEK_LEN: usize = KEY_LEN + TAG_LEN;

/// AAD purpose byte of the payload ciphertext.
pub const PURPOSE_PAYLOAD: u8 = 0x01;
/// AAD purpose byte of a wrapped DEK.
pub const PURPOSE_SLOT: u8 = 0x02;

const SLOT_PRF: u8 = 1;
const SLOT_PASSWORD: u8 = 2;
const SLOT_RECOVERY: u8 = 3;

/// Shortest encoded slot (a password slot): id, kind, m, t, p, salt, nonce, wrapped DEK.
const MIN_SLOT_LEN: usize = 2 + 1 + 12 + ARGON2_SALT_LEN + NONCE_LEN + WRAPPED_DEK_LEN;
/// Longest encoded slot (a passkey slot with maximal ids).
const MAX_SLOT_LEN: usize = 2
    + 1
    + 4
    + MAX_CREDENTIAL_ID_LEN
    + 4
    + MAX_RP_ID_LEN
    + PRF_SALT_LEN
    + NONCE_LEN
    + WRAPPED_DEK_LEN;

/// The data-encryption key (secret).
type Dek = SecretBytes<KEY_LEN>;

/// Identifies a slot within its envelope (non-zero; assigned in increasing order, never
/// reused while the slot with the highest id remains).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(u16);

impl SlotId {
    /// A slot id, or `None` for zero.
    pub fn new(id: u16) -> Option<Self> {
        (id != 0).then_some(Self(id))
    }

    /// The id's value.
    pub fn get(&self) -> u16 {
        self.0
    }
}

/// The public description of a slot (stored in clear, bound into the slot's AAD).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SlotParams {
    /// A passkey whose WebAuthn PRF output is the key material.
    Prf {
        /// The WebAuthn credential id (1..=1023 bytes).
        credential_id: Vec<u8>,
        /// The relying-party id the credential is scoped to (1..=255 bytes UTF-8).
        rp_id: String,
        /// The PRF input to evaluate.
        salt: PrfSalt,
    },
    /// A password, stretched with Argon2id.
    Password {
        /// Argon2id costs.
        params: Argon2Params,
        /// Argon2id salt.
        salt: [u8; ARGON2_SALT_LEN],
    },
    /// The answer to a recovery question, normalised then stretched with Argon2id.
    RecoveryAnswer {
        /// Argon2id costs.
        params: Argon2Params,
        /// Argon2id salt.
        salt: [u8; ARGON2_SALT_LEN],
        /// The question shown to the user (0..=255 bytes UTF-8).
        question: String,
    },
    /// A password, stretched with Argon2id and hardened by the OPRF server's record
    /// ([`crate::hardened`]). The recommended password slot.
    HardenedPassword {
        /// Argon2id costs.
        params: Argon2Params,
        /// Argon2id salt.
        salt: [u8; ARGON2_SALT_LEN],
        /// The record at the OPRF server (its guess counter).
        record: RecordId,
        /// The record's pinned OPRF public key (the server's proof must verify under it).
        server_key: OprfPublicKey,
    },
    /// A recovery answer, normalised, stretched with Argon2id and hardened by the OPRF
    /// server's record. The recommended recovery slot.
    HardenedRecoveryAnswer {
        /// Argon2id costs.
        params: Argon2Params,
        /// Argon2id salt.
        salt: [u8; ARGON2_SALT_LEN],
        /// The record at the OPRF server.
        record: RecordId,
        /// The record's pinned OPRF public key.
        server_key: OprfPublicKey,
        /// The question shown to the user (0..=255 bytes UTF-8).
        question: String,
    },
}

impl SlotParams {
    fn kind_code(&self) -> u8 {
        match self {
            Self::Prf { .. } => SLOT_PRF,
            Self::Password { .. } => SLOT_PASSWORD,
            Self::RecoveryAnswer { .. } => SLOT_RECOVERY,
            Self::HardenedPassword { .. } => SLOT_HARDENED_PASSWORD,
            Self::HardenedRecoveryAnswer { .. } => SLOT_HARDENED_RECOVERY,
        }
    }

    fn encode(&self, w: &mut Writer) {
        w.u8(self.kind_code());
        match self {
            Self::Prf {
                credential_id,
                rp_id,
                salt,
            } => {
                w.var_bytes(credential_id);
                w.var_bytes(rp_id.as_bytes());
                w.bytes(salt.as_bytes());
            }
            Self::Password { params, salt } => {
                encode_argon2(w, params);
                w.bytes(salt);
            }
            Self::RecoveryAnswer {
                params,
                salt,
                question,
            } => {
                encode_argon2(w, params);
                w.bytes(salt);
                w.var_bytes(question.as_bytes());
            }
            Self::HardenedPassword {
                params,
                salt,
                record,
                server_key,
            } => {
                encode_argon2(w, params);
                w.bytes(salt);
                w.bytes(record.as_bytes());
                w.bytes(server_key.as_bytes());
            }
            Self::HardenedRecoveryAnswer {
                params,
                salt,
                record,
                server_key,
                question,
            } => {
                encode_argon2(w, params);
                w.bytes(salt);
                w.bytes(record.as_bytes());
                w.bytes(server_key.as_bytes());
                w.var_bytes(question.as_bytes());
            }
        }
    }

    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            SLOT_PRF => {
                let credential_id = r.var_bytes(MAX_CREDENTIAL_ID_LEN)?;
                if credential_id.is_empty() {
                    return Err(DecodeError::InvalidValue);
                }
                let rp_id = utf8(r.var_bytes(MAX_RP_ID_LEN)?)?;
                if rp_id.is_empty() {
                    return Err(DecodeError::InvalidValue);
                }
                Ok(Self::Prf {
                    credential_id: credential_id.to_vec(),
                    rp_id,
                    salt: PrfSalt(r.array()?),
                })
            }
            SLOT_PASSWORD => Ok(Self::Password {
                params: decode_argon2(r)?,
                salt: r.array()?,
            }),
            SLOT_RECOVERY => Ok(Self::RecoveryAnswer {
                params: decode_argon2(r)?,
                salt: r.array()?,
                question: utf8(r.var_bytes(MAX_QUESTION_LEN)?)?,
            }),
            SLOT_HARDENED_PASSWORD => Ok(Self::HardenedPassword {
                params: decode_argon2(r)?,
                salt: r.array()?,
                record: RecordId(r.array::<RECORD_ID_LEN>()?),
                server_key: decode_server_key(r)?,
            }),
            SLOT_HARDENED_RECOVERY => Ok(Self::HardenedRecoveryAnswer {
                params: decode_argon2(r)?,
                salt: r.array()?,
                record: RecordId(r.array::<RECORD_ID_LEN>()?),
                server_key: decode_server_key(r)?,
                question: utf8(r.var_bytes(MAX_QUESTION_LEN)?)?,
            }),
            other => Err(DecodeError::InvalidTag(other)),
        }
    }

    fn credential_id(&self) -> Option<&[u8]> {
        match self {
            Self::Prf { credential_id, .. } => Some(credential_id),
            _ => None,
        }
    }

    /// For a hardened slot: the OPRF record.
    pub fn oprf_record(&self) -> Option<&RecordId> {
        match self {
            Self::HardenedPassword { record, .. } | Self::HardenedRecoveryAnswer { record, .. } => {
                Some(record)
            }
            _ => None,
        }
    }
}

/// Reads a pinned OPRF public key: a canonical ristretto255 element, not the identity.
fn decode_server_key(r: &mut Reader<'_>) -> Result<OprfPublicKey, DecodeError> {
    let b = r.array::<OPRF_ELEMENT_LEN>()?;
    OprfPublicKey::from_bytes(&b).map_err(|_| DecodeError::InvalidPoint)
}

fn encode_argon2(w: &mut Writer, p: &Argon2Params) {
    w.u32(p.m_cost_kib());
    w.u32(p.t_cost());
    w.u32(p.p_cost());
}

/// Reads Argon2id costs, refusing anything outside `[MIN, MAX]` (no weak parameters ever come
/// in from storage, and no unbounded memory cost either).
fn decode_argon2(r: &mut Reader<'_>) -> Result<Argon2Params, DecodeError> {
    let (m, t, p) = (r.u32()?, r.u32()?, r.u32()?);
    Argon2Params::new(m, t, p).map_err(|_| DecodeError::InvalidValue)
}

fn utf8(bytes: &[u8]) -> Result<String, DecodeError> {
    core::str::from_utf8(bytes)
        .map(String::from)
        .map_err(|_| DecodeError::InvalidValue)
}

/// One slot: its public description and the DEK wrapped under the slot's KEK.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    id: SlotId,
    params: SlotParams,
    nonce: [u8; NONCE_LEN],
    wrapped_dek: [u8; WRAPPED_DEK_LEN],
}

impl Slot {
    /// The slot's id.
    pub fn id(&self) -> SlotId {
        self.id
    }
    /// The slot's public description.
    pub fn params(&self) -> &SlotParams {
        &self.params
    }
    /// For a passkey slot: the credential id.
    pub fn credential_id(&self) -> Option<&[u8]> {
        self.params.credential_id()
    }
    /// For a passkey slot: the PRF input to ask the authenticator for.
    pub fn prf_salt(&self) -> Option<&PrfSalt> {
        match &self.params {
            SlotParams::Prf { salt, .. } => Some(salt),
            _ => None,
        }
    }
}

/// A credential presented to open an envelope. Its `Debug` prints no secret.
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    /// A passkey: the credential id the authenticator answered with and its PRF output for
    /// the slot's salt.
    Prf {
        /// The credential id.
        credential_id: &'a [u8],
        /// The PRF output.
        output: &'a PrfOutput,
    },
    /// A password (tried against every password slot, in slot order).
    Password(&'a str),
    /// The answer to the question of one recovery slot.
    RecoveryAnswer {
        /// The recovery slot.
        slot: SlotId,
        /// The answer as typed (normalised before use).
        answer: &'a str,
    },
    /// A hardened slot's OPRF-evaluated password or answer ([`crate::OprfPending::finish`]).
    Hardened {
        /// The hardened slot.
        slot: SlotId,
        /// The finished evaluation for this slot's record.
        factor: &'a HardenedFactor,
    },
}

impl fmt::Debug for Credential<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Prf { .. } => f.write_str("Credential::Prf(<redacted>)"),
            Self::Password(_) => f.write_str("Credential::Password(<redacted>)"),
            Self::RecoveryAnswer { slot, .. } => {
                write!(f, "Credential::RecoveryAnswer({}, <redacted>)", slot.0)
            }
            Self::Hardened { slot, .. } => {
                write!(f, "Credential::Hardened({}, <redacted>)", slot.0)
            }
        }
    }
}

/// A slot to create, with the secret that will open it. Its `Debug` prints no secret.
#[derive(Clone, Copy)]
pub enum NewSlot<'a> {
    /// A passkey slot. `salt` is the PRF input the authenticator evaluated to give `output`
    /// (draw it with [`PrfSalt::random`] before the WebAuthn ceremony).
    Prf {
        /// The credential id.
        credential_id: &'a [u8],
        /// The relying-party id.
        rp_id: &'a str,
        /// The PRF input.
        salt: PrfSalt,
        /// The PRF output for `salt`.
        output: &'a PrfOutput,
    },
    /// A password slot (Argon2id only: whoever stores the envelope can guess offline; prefer
    /// [`NewSlot::HardenedPassword`]).
    Password {
        /// The password (NFKC-normalised before use).
        password: &'a str,
        /// Argon2id costs.
        params: Argon2Params,
    },
    /// A recovery-answer slot (Argon2id only: whoever stores the envelope can guess
    /// offline; prefer [`NewSlot::HardenedRecoveryAnswer`]).
    RecoveryAnswer {
        /// The question (stored in clear).
        question: &'a str,
        /// The answer (normalised before use, see [`crate::normalize_answer`]).
        answer: &'a str,
        /// Argon2id costs.
        params: Argon2Params,
    },
    /// A hardened password slot (recommended over [`NewSlot::Password`]): `factor` is the
    /// enrolment evaluation ([`crate::OprfPending::enrol`]) of the password.
    HardenedPassword {
        /// The finished OPRF evaluation of the password.
        factor: &'a HardenedFactor,
        /// Argon2id costs.
        params: Argon2Params,
    },
    /// A hardened recovery-answer slot (recommended over [`NewSlot::RecoveryAnswer`]).
    HardenedRecoveryAnswer {
        /// The question (stored in clear).
        question: &'a str,
        /// The finished OPRF evaluation of the answer.
        factor: &'a HardenedFactor,
        /// Argon2id costs.
        params: Argon2Params,
    },
}

impl fmt::Debug for NewSlot<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Prf { .. } => f.write_str("NewSlot::Prf(<redacted>)"),
            Self::Password { .. } => f.write_str("NewSlot::Password(<redacted>)"),
            Self::RecoveryAnswer { .. } => f.write_str("NewSlot::RecoveryAnswer(<redacted>)"),
            Self::HardenedPassword { .. } => f.write_str("NewSlot::HardenedPassword(<redacted>)"),
            Self::HardenedRecoveryAnswer { .. } => {
                f.write_str("NewSlot::HardenedRecoveryAnswer(<redacted>)")
            }
        }
    }
}

/// An opened envelope: the payload and the DEK, both in zeroizing types. Needed to add slots.
#[derive(Debug)]
pub struct Unlocked {
    wallet_id: WalletId,
    slot: SlotId,
    dek: Dek,
    payload: Payload,
}

/// An opened secp256k1 envelope signs through the RustCrypto interface (like [`Payload`]):
/// `unlocked.sign_prehash(&hash)` gives `(k256::ecdsa::Signature, k256::ecdsa::RecoveryId)`.
impl
    k256::ecdsa::signature::hazmat::PrehashSigner<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId)>
    for Unlocked
{
    fn sign_prehash(
        &self,
        prehash: &[u8],
    ) -> Result<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId), k256::ecdsa::signature::Error>
    {
        k256::ecdsa::signature::hazmat::PrehashSigner::sign_prehash(&self.payload, prehash)
    }
}

/// An opened Ed25519 envelope signs through the RustCrypto interface (like [`Payload`]).
impl k256::ecdsa::signature::Signer<ed25519_dalek::Signature> for Unlocked {
    fn try_sign(
        &self,
        message: &[u8],
    ) -> Result<ed25519_dalek::Signature, k256::ecdsa::signature::Error> {
        k256::ecdsa::signature::Signer::try_sign(&self.payload, message)
    }
}

impl Unlocked {
    /// The secret.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }
    /// Takes the secret out (the DEK is dropped and zeroized).
    pub fn into_payload(self) -> Payload {
        self.payload
    }
    /// The slot that opened the envelope.
    pub fn slot(&self) -> SlotId {
        self.slot
    }
    /// The envelope's wallet id.
    pub fn wallet_id(&self) -> &WalletId {
        &self.wallet_id
    }
    /// The reset key of an OPRF record of this envelope (`SPEC.md` §10.3): derived from the
    /// DEK, so only someone who opened the envelope has it. Sent to the server once, at
    /// registration ([`crate::OprfServerKey::register`]).
    pub fn oprf_reset_key(&self, record: &RecordId) -> Result<ResetKey, KekError> {
        hardened::reset_key(&self.dek, &self.wallet_id, record)
    }
    /// The proof that resets `record`'s failure counter, answering a server nonce (from an
    /// [`crate::OprfResponse`] or a [`crate::ResetChallenge`]).
    pub fn oprf_reset_proof(
        &self,
        record: &RecordId,
        nonce: &[u8; RESET_NONCE_LEN],
    ) -> Result<ResetProof, KekError> {
        let key = self.oprf_reset_key(record)?;
        hardened::make_reset_proof(&key, *record, *nonce)
    }
}

/// An encrypted wallet secret with one or more slots (`SPEC.md` §2).
///
/// ```
/// use wallet_kek::{Credential, Envelope, NewSlot, PrfOutput, PrfSalt, WalletId};
/// use wallet_types::WireObject;
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
/// let wallet = WalletId::random(&mut rng);
/// let salt = PrfSalt::random(&mut rng);
/// // ... the browser evaluates the passkey's PRF at `salt` ...
/// let prf = PrfOutput::new([0x42; 32]);
/// let first = NewSlot::Prf { credential_id: b"cred-1", rp_id: "wallet.example", salt, output: &prf };
/// let (env, public_key) = Envelope::generate_secp256k1(wallet, &first, &mut rng).unwrap();
///
/// let stored = env.to_bytes(); // what the server keeps
/// let env = Envelope::from_bytes(&stored).unwrap();
/// let cred = Credential::Prf { credential_id: b"cred-1", output: &prf };
/// let sig = env.sign_secp256k1(&cred, &[9u8; 32]).unwrap();
/// assert_eq!(sig.signature.len(), 64);
/// assert_eq!(public_key.len(), 33);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    wallet_id: WalletId,
    payload_kind: PayloadKind,
    payload_nonce: [u8; NONCE_LEN],
    payload_ct: Vec<u8>,
    slots: Vec<Slot>,
}

fn random_nonce<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut n);
    n
}

/// `header || wallet_id || 0x01 || payload_kind || u16be(tag) || slot table`, the slot
/// table being the envelope's encoding from the slot count to the end (`SPEC.md` §2.4).
fn payload_aad(wallet_id: &WalletId, kind: PayloadKind, slots: &[Slot]) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(&header_of::<Envelope>().to_bytes());
    w.bytes(wallet_id.as_bytes());
    w.u8(PURPOSE_PAYLOAD);
    w.u8(kind.code());
    w.u16(kind.tag());
    encode_slot_table(slots, &mut w);
    w.finish()
}

fn encode_slot_table(slots: &[Slot], w: &mut Writer) {
    w.u16(slots.len() as u16);
    for s in slots {
        w.u16(s.id.0);
        s.params.encode(w);
        w.bytes(&s.nonce);
        w.bytes(&s.wrapped_dek);
    }
}

/// `header || wallet_id || 0x02 || u16be(slot_id) || slot description` (`SPEC.md` §2.4).
fn slot_aad(wallet_id: &WalletId, slot: SlotId, params: &SlotParams) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(&header_of::<Envelope>().to_bytes());
    w.bytes(wallet_id.as_bytes());
    w.u8(PURPOSE_SLOT);
    w.u16(slot.0);
    params.encode(&mut w);
    w.finish()
}

/// The KEK of a slot for a credential, or `None` when the credential does not fit the slot.
fn kek_for(
    wallet_id: &WalletId,
    slot: &Slot,
    cred: &Credential<'_>,
    normalized: Option<&wallet_types::SecretVec>,
) -> Result<Option<Kek>, KekError> {
    match (&slot.params, cred) {
        (
            SlotParams::Prf {
                credential_id,
                rp_id,
                ..
            },
            Credential::Prf {
                credential_id: c,
                output,
            },
        ) if credential_id.as_slice() == *c => {
            prf::derive_prf_kek(output, credential_id, rp_id, wallet_id).map(Some)
        }
        (SlotParams::Password { params, salt }, Credential::Password(_)) => match normalized {
            Some(n) => password::derive_text_kek(TextSecret::Password, n, salt, params, wallet_id)
                .map(Some),
            None => Ok(None),
        },
        (
            SlotParams::RecoveryAnswer { params, salt, .. },
            Credential::RecoveryAnswer { slot: s, .. },
        ) if *s == slot.id => match normalized {
            Some(n) => {
                password::derive_text_kek(TextSecret::RecoveryAnswer, n, salt, params, wallet_id)
                    .map(Some)
            }
            None => Ok(None),
        },
        (
            SlotParams::HardenedPassword {
                params,
                salt,
                record,
                server_key,
            },
            Credential::Hardened { slot: s, factor },
        ) if *s == slot.id
            && factor.kind() == HardenedKind::Password
            && factor.record() == record
            && factor.server_key() == server_key
            && factor.wallet_id() == wallet_id =>
        {
            hardened::hardened_kek(factor, salt, params).map(Some)
        }
        (
            SlotParams::HardenedRecoveryAnswer {
                params,
                salt,
                record,
                server_key,
                ..
            },
            Credential::Hardened { slot: s, factor },
        ) if *s == slot.id
            && factor.kind() == HardenedKind::RecoveryAnswer
            && factor.record() == record
            && factor.server_key() == server_key
            && factor.wallet_id() == wallet_id =>
        {
            hardened::hardened_kek(factor, salt, params).map(Some)
        }
        _ => Ok(None),
    }
}

impl Envelope {
    /// Encrypts `payload` under a fresh DEK and wraps the DEK for a first slot.
    ///
    /// The first slot cannot be a hardened one ([`KekError::WrongSlotKind`]): its record's
    /// reset key is derived from the DEK and must be registered with the OPRF server before
    /// the enrolment evaluation, so the DEK must exist first. Seal with a passkey (or a
    /// temporary Argon2 slot), add the hardened slot with [`Envelope::add_slot`], then remove
    /// the temporary slot.
    pub fn seal<R: CryptoRng + ?Sized>(
        wallet_id: WalletId,
        payload: &Payload,
        first: &NewSlot<'_>,
        rng: &mut R,
    ) -> Result<Self, KekError> {
        if matches!(
            first,
            NewSlot::HardenedPassword { .. } | NewSlot::HardenedRecoveryAnswer { .. }
        ) {
            return Err(KekError::WrongSlotKind);
        }
        let kind = payload.kind();
        if !kind.valid_len(payload.expose().len()) {
            return Err(KekError::InvalidInput);
        }
        let dek = Dek::random(rng);
        let mut env = Self {
            wallet_id,
            payload_kind: kind,
            payload_nonce: [0; NONCE_LEN],
            payload_ct: Vec::new(),
            slots: Vec::new(),
        };
        env.push_slot(&dek, first, rng)?;
        env.encrypt_payload(payload, &dek, rng)?;
        Ok(env)
    }

    /// Generates a secp256k1 key straight into a new envelope; returns the envelope and the
    /// SEC1 compressed public key. The key exists only in secret types.
    pub fn generate_secp256k1<R: CryptoRng + ?Sized>(
        wallet_id: WalletId,
        first: &NewSlot<'_>,
        rng: &mut R,
    ) -> Result<(Self, [u8; 33]), KekError> {
        let sk = SecretScalar::<Secp256k1>::random(rng);
        let mut repr = Secp256k1::encode_scalar(sk.expose());
        let key = SecretBytes::<32>::from_slice(repr.as_slice());
        zeroize::Zeroize::zeroize(repr.as_mut_slice());
        let payload = Payload::secp256k1(key.ok_or(KekError::InvalidInput)?)?;
        let public = payload::secp256k1_public_key(match &payload {
            Payload::Secp256k1(k) => k,
            _ => return Err(KekError::InvalidInput),
        })?;
        let env = Self::seal(wallet_id, &payload, first, rng)?;
        Ok((env, public))
    }

    /// Generates an Ed25519 seed straight into a new envelope; returns the envelope and the
    /// RFC 8032 public key.
    pub fn generate_ed25519<R: CryptoRng + ?Sized>(
        wallet_id: WalletId,
        first: &NewSlot<'_>,
        rng: &mut R,
    ) -> Result<(Self, [u8; 32]), KekError> {
        let seed = SecretBytes::<32>::random(rng);
        let public = payload::ed25519_public_key(&seed);
        let payload = Payload::ed25519_seed(seed);
        let env = Self::seal(wallet_id, &payload, first, rng)?;
        Ok((env, public))
    }

    /// Generates BIP-39 entropy of `len` bytes (16, 20, 24, 28 or 32: 12 to 24 words) straight
    /// into a new envelope.
    pub fn generate_bip39_entropy<R: CryptoRng + ?Sized>(
        wallet_id: WalletId,
        len: usize,
        first: &NewSlot<'_>,
        rng: &mut R,
    ) -> Result<Self, KekError> {
        if !PayloadKind::Bip39Entropy.valid_len(len) {
            return Err(KekError::InvalidInput);
        }
        let mut entropy = SecretBytes::<32>::random(rng);
        let payload = Payload::bip39_entropy(wallet_types::SecretVec::from_slice(
            entropy.expose().get(..len).ok_or(KekError::InvalidInput)?,
        ));
        zeroize::Zeroize::zeroize(&mut entropy);
        Self::seal(wallet_id, &payload?, first, rng)
    }

    /// (Re-)encrypts the payload under `dek` with a fresh nonce, bound to the current slot
    /// table. Called after every change of the slot table.
    fn encrypt_payload<R: CryptoRng + ?Sized>(
        &mut self,
        payload: &Payload,
        dek: &Dek,
        rng: &mut R,
    ) -> Result<(), KekError> {
        if payload.kind() != self.payload_kind {
            return Err(KekError::WrongPayloadKind);
        }
        let nonce = random_nonce(rng);
        let aad = payload_aad(&self.wallet_id, self.payload_kind, &self.slots);
        self.payload_ct = crypto::seal(dek, &nonce, &aad, payload.expose())?;
        self.payload_nonce = nonce;
        Ok(())
    }

    /// The wallet id.
    pub fn wallet_id(&self) -> &WalletId {
        &self.wallet_id
    }
    /// The kind of secret inside.
    pub fn payload_kind(&self) -> PayloadKind {
        self.payload_kind
    }
    /// The slots, in increasing id order.
    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }
    /// The slot with this id.
    pub fn slot(&self, id: SlotId) -> Option<&Slot> {
        self.slots.iter().find(|s| s.id == id)
    }
    /// The passkey slot of this credential id.
    pub fn prf_slot(&self, credential_id: &[u8]) -> Option<&Slot> {
        self.slots
            .iter()
            .find(|s| s.params.credential_id() == Some(credential_id))
    }
    /// `(credential id, PRF salt)` of every passkey slot: what a client puts into WebAuthn's
    /// `allowCredentials` and `extensions.prf.evalByCredential`.
    pub fn prf_requests(&self) -> impl Iterator<Item = (&[u8], &PrfSalt)> {
        self.slots.iter().filter_map(|s| match &s.params {
            SlotParams::Prf {
                credential_id,
                salt,
                ..
            } => Some((credential_id.as_slice(), salt)),
            _ => None,
        })
    }

    /// Finds the slot the credential opens and unwraps the DEK: `(slot index, KEK, DEK)`.
    fn unwrap_dek(&self, cred: &Credential<'_>) -> Result<(usize, Kek, Dek), KekError> {
        let normalized = match cred {
            Credential::Prf { .. } | Credential::Hardened { .. } => None,
            Credential::Password(p) => password::normalize(TextSecret::Password, p).ok(),
            Credential::RecoveryAnswer { answer, .. } => {
                password::normalize(TextSecret::RecoveryAnswer, answer).ok()
            }
        };
        for (i, slot) in self.slots.iter().enumerate() {
            let Ok(Some(kek)) = kek_for(&self.wallet_id, slot, cred, normalized.as_ref()) else {
                continue;
            };
            if let Ok(dek) = self.unwrap_slot(slot, &kek) {
                return Ok((i, kek, dek));
            }
        }
        Err(KekError::Unwrap)
    }

    fn unwrap_slot(&self, slot: &Slot, kek: &Kek) -> Result<Dek, KekError> {
        let aad = slot_aad(&self.wallet_id, slot.id, &slot.params);
        let dek = crypto::open(kek, &slot.nonce, &aad, &slot.wrapped_dek)?;
        Dek::from_slice(dek.expose()).ok_or(KekError::Unwrap)
    }

    fn decrypt_payload(&self, dek: &Dek) -> Result<Payload, KekError> {
        let aad = payload_aad(&self.wallet_id, self.payload_kind, &self.slots);
        let pt = crypto::open(dek, &self.payload_nonce, &aad, &self.payload_ct)?;
        Payload::from_plaintext(self.payload_kind, pt).map_err(|_| KekError::Unwrap)
    }

    /// Opens the envelope. Succeeds only if a slot unwraps the DEK *and* the payload decrypts
    /// and validates; otherwise [`KekError::Unwrap`] and nothing else.
    pub fn open(&self, cred: &Credential<'_>) -> Result<Unlocked, KekError> {
        let (i, _kek, dek) = self.unwrap_dek(cred)?;
        let payload = self.decrypt_payload(&dek)?;
        let slot = self.slots.get(i).map(|s| s.id).ok_or(KekError::Unwrap)?;
        Ok(Unlocked {
            wallet_id: self.wallet_id,
            slot,
            dek,
            payload,
        })
    }

    /// Client-side ECDSA: unwraps, signs the 32-byte `prehash` (RFC 6979, low-S, with recovery
    /// id) and zeroizes; only the signature comes out.
    pub fn sign_secp256k1(
        &self,
        cred: &Credential<'_>,
        prehash: &[u8; 32],
    ) -> Result<RecoverableSignature, KekError> {
        if self.payload_kind != PayloadKind::Secp256k1 {
            return Err(KekError::WrongPayloadKind);
        }
        self.open(cred)?.payload.sign_secp256k1(prehash)
    }

    /// Client-side Ed25519: unwraps, signs `message` (RFC 8032) and zeroizes; only the
    /// signature comes out (`.to_bytes()` for `R ‖ S`).
    pub fn sign_ed25519(
        &self,
        cred: &Credential<'_>,
        message: &[u8],
    ) -> Result<ed25519_dalek::Signature, KekError> {
        if self.payload_kind != PayloadKind::Ed25519Seed {
            return Err(KekError::WrongPayloadKind);
        }
        self.open(cred)?.payload.sign_ed25519(message)
    }

    /// Checks that `unlocked` came from this envelope (same wallet id, and its DEK decrypts
    /// this envelope's payload).
    fn check_unlocked(&self, unlocked: &Unlocked) -> Result<(), KekError> {
        if unlocked.wallet_id != self.wallet_id {
            return Err(KekError::NotThisEnvelope);
        }
        self.decrypt_payload(&unlocked.dek)
            .map(drop)
            .map_err(|_| KekError::NotThisEnvelope)
    }

    /// Adds a slot; needs the envelope opened through an existing slot. Returns the new id.
    /// The payload is re-encrypted (same DEK, fresh nonce) to bind the new slot table; the
    /// envelope is unchanged on error.
    pub fn add_slot<R: CryptoRng + ?Sized>(
        &mut self,
        unlocked: &Unlocked,
        new: &NewSlot<'_>,
        rng: &mut R,
    ) -> Result<SlotId, KekError> {
        self.check_unlocked(unlocked)?;
        let mut next = self.clone();
        let id = next.push_slot(&unlocked.dek, new, rng)?;
        next.encrypt_payload(&unlocked.payload, &unlocked.dek, rng)?;
        *self = next;
        Ok(id)
    }

    fn next_slot_id(&self) -> Result<SlotId, KekError> {
        match self.slots.last() {
            None => Ok(SlotId(1)),
            Some(s) => {
                s.id.0
                    .checked_add(1)
                    .map(SlotId)
                    .ok_or(KekError::TooManySlots)
            }
        }
    }

    fn push_slot<R: CryptoRng + ?Sized>(
        &mut self,
        dek: &Dek,
        new: &NewSlot<'_>,
        rng: &mut R,
    ) -> Result<SlotId, KekError> {
        if self.slots.len() >= MAX_SLOTS {
            return Err(KekError::TooManySlots);
        }
        let id = self.next_slot_id()?;
        let (params, kek) = match new {
            NewSlot::Prf {
                credential_id,
                rp_id,
                salt,
                output,
            } => {
                if self.prf_slot(credential_id).is_some() {
                    return Err(KekError::DuplicateCredential);
                }
                let kek = prf::derive_prf_kek(output, credential_id, rp_id, &self.wallet_id)?;
                let params = SlotParams::Prf {
                    credential_id: credential_id.to_vec(),
                    rp_id: String::from(*rp_id),
                    salt: *salt,
                };
                (params, kek)
            }
            NewSlot::Password { password, params } => {
                let mut salt = [0u8; ARGON2_SALT_LEN];
                rng.fill_bytes(&mut salt);
                let n = password::normalize(TextSecret::Password, password)?;
                let kek = password::derive_text_kek(
                    TextSecret::Password,
                    &n,
                    &salt,
                    params,
                    &self.wallet_id,
                )?;
                (
                    SlotParams::Password {
                        params: *params,
                        salt,
                    },
                    kek,
                )
            }
            NewSlot::RecoveryAnswer {
                question,
                answer,
                params,
            } => {
                if question.len() > MAX_QUESTION_LEN {
                    return Err(KekError::InvalidInput);
                }
                let mut salt = [0u8; ARGON2_SALT_LEN];
                rng.fill_bytes(&mut salt);
                let n = password::normalize(TextSecret::RecoveryAnswer, answer)?;
                let kek = password::derive_text_kek(
                    TextSecret::RecoveryAnswer,
                    &n,
                    &salt,
                    params,
                    &self.wallet_id,
                )?;
                (
                    SlotParams::RecoveryAnswer {
                        params: *params,
                        salt,
                        question: String::from(*question),
                    },
                    kek,
                )
            }
            NewSlot::HardenedPassword { factor, params } => {
                self.check_factor(factor, HardenedKind::Password)?;
                let mut salt = [0u8; ARGON2_SALT_LEN];
                rng.fill_bytes(&mut salt);
                let kek = hardened::hardened_kek(factor, &salt, params)?;
                (
                    SlotParams::HardenedPassword {
                        params: *params,
                        salt,
                        record: *factor.record(),
                        server_key: *factor.server_key(),
                    },
                    kek,
                )
            }
            NewSlot::HardenedRecoveryAnswer {
                question,
                factor,
                params,
            } => {
                if question.len() > MAX_QUESTION_LEN {
                    return Err(KekError::InvalidInput);
                }
                self.check_factor(factor, HardenedKind::RecoveryAnswer)?;
                let mut salt = [0u8; ARGON2_SALT_LEN];
                rng.fill_bytes(&mut salt);
                let kek = hardened::hardened_kek(factor, &salt, params)?;
                (
                    SlotParams::HardenedRecoveryAnswer {
                        params: *params,
                        salt,
                        record: *factor.record(),
                        server_key: *factor.server_key(),
                        question: String::from(*question),
                    },
                    kek,
                )
            }
        };
        let slot = self.wrap(id, params, &kek, dek, rng)?;
        self.slots.push(slot);
        Ok(id)
    }

    /// A factor for a new hardened slot must be of the slot's kind, for this wallet, and for a
    /// record no other slot of the envelope uses.
    fn check_factor(&self, factor: &HardenedFactor, kind: HardenedKind) -> Result<(), KekError> {
        if factor.kind() != kind {
            return Err(KekError::WrongSlotKind);
        }
        if factor.wallet_id() != &self.wallet_id {
            return Err(KekError::InvalidInput);
        }
        if self
            .slots
            .iter()
            .any(|s| s.params.oprf_record() == Some(factor.record()))
        {
            return Err(KekError::DuplicateCredential);
        }
        Ok(())
    }

    fn wrap<R: CryptoRng + ?Sized>(
        &self,
        id: SlotId,
        params: SlotParams,
        kek: &Kek,
        dek: &Dek,
        rng: &mut R,
    ) -> Result<Slot, KekError> {
        let nonce = random_nonce(rng);
        let aad = slot_aad(&self.wallet_id, id, &params);
        let ct = crypto::seal(kek, &nonce, &aad, dek.expose())?;
        let wrapped_dek: [u8; WRAPPED_DEK_LEN] = ct
            .as_slice()
            .try_into()
            .map_err(|_| KekError::InvalidInput)?;
        Ok(Slot {
            id,
            params,
            nonce,
            wrapped_dek,
        })
    }

    /// Removes a slot; refuses to remove the last one. Needs the envelope unlocked (the
    /// payload is re-encrypted to bind the new slot table).
    ///
    /// Removing a slot from *this copy* does not revoke the credential if an older copy of the
    /// envelope survives somewhere; after a suspected compromise use [`Envelope::rekey`] and
    /// make the server discard old copies.
    pub fn remove_slot<R: CryptoRng + ?Sized>(
        &mut self,
        unlocked: &Unlocked,
        id: SlotId,
        rng: &mut R,
    ) -> Result<(), KekError> {
        self.check_unlocked(unlocked)?;
        let i = self
            .slots
            .iter()
            .position(|s| s.id == id)
            .ok_or(KekError::UnknownSlot(id.0))?;
        if self.slots.len() == 1 {
            return Err(KekError::LastSlot);
        }
        let mut next = self.clone();
        next.slots.remove(i);
        next.encrypt_payload(&unlocked.payload, &unlocked.dek, rng)?;
        *self = next;
        Ok(())
    }

    /// Moves a passkey slot to a new PRF salt. WebAuthn evaluates two salts in one ceremony
    /// (`eval: { first: old, second: new }`): `old_output` opens the slot, `new_output` (the
    /// PRF at `new_salt`) becomes its key material. The slot keeps its id.
    pub fn rotate_prf_salt<R: CryptoRng + ?Sized>(
        &mut self,
        credential_id: &[u8],
        old_output: &PrfOutput,
        new_salt: PrfSalt,
        new_output: &PrfOutput,
        rng: &mut R,
    ) -> Result<(), KekError> {
        let cred = Credential::Prf {
            credential_id,
            output: old_output,
        };
        let (i, _old_kek, dek) = self.unwrap_dek(&cred)?;
        let payload = self.decrypt_payload(&dek)?;
        let slot = self.slots.get(i).ok_or(KekError::Unwrap)?;
        let SlotParams::Prf { rp_id, .. } = &slot.params else {
            return Err(KekError::WrongSlotKind);
        };
        let params = SlotParams::Prf {
            credential_id: credential_id.to_vec(),
            rp_id: rp_id.clone(),
            salt: new_salt,
        };
        let kek = prf::derive_prf_kek(new_output, credential_id, rp_id, &self.wallet_id)?;
        let new_slot = self.wrap(slot.id, params, &kek, &dek, rng)?;
        let mut next = self.clone();
        if let Some(s) = next.slots.get_mut(i) {
            *s = new_slot;
        }
        next.encrypt_payload(&payload, &dek, rng)?;
        *self = next;
        Ok(())
    }

    /// Re-keys the DEK: a new envelope (same wallet id and payload) under a fresh DEK, with
    /// exactly the slots opened by `credentials` (each must open a slot; slots nobody presents
    /// a credential for are dropped, since their KEKs are unknown). Slots keep their ids and
    /// descriptions and get fresh nonces.
    ///
    /// A hardened slot cannot be carried over ([`KekError::WrongSlotKind`] for a
    /// [`Credential::Hardened`]): its OPRF record's reset key is derived from the DEK, so under
    /// a new DEK no successful unlock could reset the server's counter any more and the slot
    /// would lock itself after `max_attempts` correct answers. Rekey with the other slots'
    /// credentials (the hardened slots are dropped), then enrol the hardened slots again.
    pub fn rekey<R: CryptoRng + ?Sized>(
        &self,
        credentials: &[Credential<'_>],
        rng: &mut R,
    ) -> Result<Self, KekError> {
        if credentials
            .iter()
            .any(|c| matches!(c, Credential::Hardened { .. }))
        {
            return Err(KekError::WrongSlotKind);
        }
        let mut opened: Vec<(usize, Kek)> = Vec::with_capacity(credentials.len());
        let mut payload = None;
        for cred in credentials {
            let (i, kek, dek) = self.unwrap_dek(cred)?;
            if payload.is_none() {
                payload = Some(self.decrypt_payload(&dek)?);
            }
            if opened.iter().all(|(j, _)| *j != i) {
                opened.push((i, kek));
            }
        }
        let payload = payload.ok_or(KekError::InvalidInput)?;
        opened.sort_by_key(|(i, _)| *i);
        let dek = Dek::random(rng);
        let mut env = Self {
            wallet_id: self.wallet_id,
            payload_kind: self.payload_kind,
            payload_nonce: [0; NONCE_LEN],
            payload_ct: Vec::new(),
            slots: Vec::with_capacity(opened.len()),
        };
        for (i, kek) in &opened {
            let slot = self.slots.get(*i).ok_or(KekError::Unwrap)?;
            let new_slot = env.wrap(slot.id, slot.params.clone(), kek, &dek, rng)?;
            env.slots.push(new_slot);
        }
        env.encrypt_payload(&payload, &dek, rng)?;
        Ok(env)
    }
}

impl WireObject for Envelope {
    const KIND: ObjectKind = ENVELOPE_KIND;
    const MAX_LEN: usize = wallet_types::HEADER_LEN
        + 32
        + 1
        + 2
        + NONCE_LEN
        + 4
        + MAX_OPAQUE_LEN
        + TAG_LEN
        + 2
        + MAX_SLOTS * MAX_SLOT_LEN;
    const CURVE: Option<wallet_types::CurveId> = None;

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.wallet_id.as_bytes());
        w.u8(self.payload_kind.code());
        w.u16(self.payload_kind.tag());
        w.bytes(&self.payload_nonce);
        w.var_bytes(&self.payload_ct);
        encode_slot_table(&self.slots, w);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let wallet_id = WalletId(r.array()?);
        let code = r.u8()?;
        let tag = r.u16()?;
        let payload_kind =
            PayloadKind::from_wire(code, tag).ok_or(DecodeError::InvalidTag(code))?;
        let payload_nonce = r.array()?;
        let ct = r.var_bytes(MAX_OPAQUE_LEN + TAG_LEN)?;
        let pt_len = ct
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(DecodeError::InvalidValue)?;
        if !payload_kind.valid_len(pt_len) {
            return Err(DecodeError::InvalidValue);
        }
        let n = r.count16(MAX_SLOTS, MIN_SLOT_LEN)?;
        if n == 0 {
            return Err(DecodeError::InvalidValue);
        }
        let mut slots: Vec<Slot> = Vec::with_capacity(n);
        for _ in 0..n {
            let id = SlotId::new(r.u16()?).ok_or(DecodeError::InvalidValue)?;
            if slots.last().is_some_and(|last| last.id >= id) {
                return Err(DecodeError::NotSorted);
            }
            let params = SlotParams::decode(r)?;
            if let Some(c) = params.credential_id()
                && slots.iter().any(|s| s.params.credential_id() == Some(c))
            {
                return Err(DecodeError::InvalidValue);
            }
            slots.push(Slot {
                id,
                params,
                nonce: r.array()?,
                wrapped_dek: r.array()?,
            });
        }
        Ok(Self {
            wallet_id,
            payload_kind,
            payload_nonce,
            payload_ct: ct.to_vec(),
            slots,
        })
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    //! Argon2 slots with weak parameters (only constructible under `cfg(test)` / `hazmat`),
    //! so that these tests stay fast; decoding must refuse every one of them.
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_types::SecretVec;

    fn weak() -> Argon2Params {
        Argon2Params::new_insecure(64, 1, 1).unwrap()
    }

    fn password_envelope(rng: &mut ChaCha20Rng) -> Envelope {
        let payload = Payload::bip39_entropy(SecretVec::new(alloc::vec![7; 16])).unwrap();
        let first = NewSlot::Password {
            password: "pässword",
            params: weak(),
        };
        Envelope::seal(WalletId::random(rng), &payload, &first, rng).unwrap()
    }

    #[test]
    fn password_round_trip_and_nfkc() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let env = password_envelope(&mut rng);
        // "ä" precomposed and decomposed are the same password after NFKC.
        for p in ["pässword", "pa\u{308}ssword"] {
            let u = env.open(&Credential::Password(p)).unwrap();
            assert_eq!(u.payload().expose(), &[7; 16]);
        }
        for p in ["Pässword", "password", "pässword ", ""] {
            assert_eq!(
                env.open(&Credential::Password(p)).unwrap_err(),
                KekError::Unwrap
            );
        }
    }

    #[test]
    fn recovery_answer_normalisation() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let mut env = password_envelope(&mut rng);
        let u = env.open(&Credential::Password("pässword")).unwrap();
        let id = env
            .add_slot(
                &u,
                &NewSlot::RecoveryAnswer {
                    question: "Street you grew up on?",
                    answer: "Elm  Street",
                    params: weak(),
                },
                &mut rng,
            )
            .unwrap();
        for a in [
            "elm street",
            "  ELM\tStreet\n",
            "Ｅｌｍ Ｓｔｒｅｅｔ",
            "elm\u{3000}street",
        ] {
            let u = env
                .open(&Credential::RecoveryAnswer {
                    slot: id,
                    answer: a,
                })
                .unwrap();
            assert_eq!(u.slot(), id);
        }
        for a in ["elmstreet", "elm street.", "", "   "] {
            assert_eq!(
                env.open(&Credential::RecoveryAnswer {
                    slot: id,
                    answer: a
                })
                .unwrap_err(),
                KekError::Unwrap
            );
        }
        // The right answer for the wrong slot id.
        let other = SlotId::new(1).unwrap();
        assert_eq!(
            env.open(&Credential::RecoveryAnswer {
                slot: other,
                answer: "elm street"
            })
            .unwrap_err(),
            KekError::Unwrap
        );
        // Empty answers are refused when creating a slot.
        assert_eq!(
            env.add_slot(
                &u,
                &NewSlot::RecoveryAnswer {
                    question: "q",
                    answer: " \t ",
                    params: weak()
                },
                &mut rng
            )
            .unwrap_err(),
            KekError::InvalidInput
        );
    }

    #[test]
    fn several_password_slots_are_all_tried() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let mut env = password_envelope(&mut rng);
        let u = env.open(&Credential::Password("pässword")).unwrap();
        let id = env
            .add_slot(
                &u,
                &NewSlot::Password {
                    password: "second",
                    params: weak(),
                },
                &mut rng,
            )
            .unwrap();
        assert_eq!(
            env.open(&Credential::Password("second")).unwrap().slot(),
            id
        );
    }

    #[test]
    fn weak_params_refused_on_decode() {
        let mut rng = ChaCha20Rng::seed_from_u64(4);
        let env = password_envelope(&mut rng);
        let bytes = env.to_bytes();
        assert_eq!(
            Envelope::from_bytes(&bytes).unwrap_err(),
            DecodeError::InvalidValue
        );
        // The same envelope with each cost raised to the minimum one by one: still refused
        // until all three are acceptable. Offsets: slot table after the 16-byte payload.
        let m_at = 4 + 32 + 3 + 12 + 4 + 32 + 2 + 2 + 1;
        let with = |m: u32, t: u32, p: u32| {
            let mut b = bytes.clone();
            b[m_at..m_at + 4].copy_from_slice(&m.to_be_bytes());
            b[m_at + 4..m_at + 8].copy_from_slice(&t.to_be_bytes());
            b[m_at + 8..m_at + 12].copy_from_slice(&p.to_be_bytes());
            Envelope::from_bytes(&b)
        };
        assert!(with(19456, 1, 1).is_err());
        assert!(with(19455, 2, 1).is_err());
        assert!(with(19456, 2, 0).is_err());
        assert!(with(19456, 33, 1).is_err());
        assert!(with(19456, 2, 17).is_err());
        assert!(with((1 << 20) + 1, 2, 1).is_err());
        // Acceptable costs decode (the envelope no longer opens: the KEK depends on them and
        // the payload AAD on the slot table).
        let env2 = with(19456, 2, 1).unwrap();
        assert_eq!(
            env2.slots()[0].params(),
            &SlotParams::Password {
                params: Argon2Params::DEFAULT,
                salt: match env.slots()[0].params() {
                    SlotParams::Password { salt, .. } => *salt,
                    _ => panic!(),
                },
            }
        );
    }
}
