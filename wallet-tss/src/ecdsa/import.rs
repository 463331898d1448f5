//! Importing an existing secp256k1 key into threshold custody, keeping its address.
//!
//! A wallet whose key exists whole on one client — reconstructed from a Shamir share set
//! (`wallet-sss`), opened from a passkey envelope (`wallet-kek`), or derived from a BIP-39
//! mnemonic (`wallet_sss::Bip32Key`) — moves into a `t`-of-n ECDSA key with the **same public
//! key and chain code**, so every address it had, and every non-hardened BIP-32 child of it,
//! stays the same. Three steps:
//!
//! 1. **Deal** ([`deal`], on the client that holds the key): a random degree `t − 1` polynomial
//!    with the key as its constant term; each party's Shamir share goes to it as an
//!    [`ImportShare`] over an encrypting, authenticated channel, with the public Feldman
//!    commitments and the chain code.
//! 2. **Pair** ([`import_input`] + [`super::Resetup`], all parties): each party checks its share
//!    against the commitments, and the parties run fresh OT setups for every ordered pair, whose
//!    first round also checks that all of them received the same commitments, chain code and
//!    party set. The output is a [`Termination`](wallet_types::Termination) of a [`KeyShare`]
//!    of epoch 0 (the resetup's acknowledgement round): start a key store with it only when
//!    Confirmed.
//! 3. **Refresh at once** (`wallet-pss`: `ecdsa::refresh` + `resetup_after_refresh`, then
//!    [`install_confirmed`](super::install_confirmed)): a zero-sharing from every party re-randomises every share, so the
//!    shares the dealer computed in step 1 are worthless (they are of a sharing no party uses
//!    any more, and the dealer does not know the other parties' zero-sharings). Only then is the
//!    key used.
//!
//! ## What import cannot undo
//!
//! The key **existed whole once, on that client**, and every copy of it that ever existed (the
//! mnemonic on paper, an old backup, the client's memory before it was wiped) still signs for
//! the address on its own. Threshold custody protects the key from the moment of import
//! *only if* those copies are gone — and nobody can prove that they are. For new funds, a key
//! created by distributed key generation ([`super::Keygen`]) never had a single copy; import is
//! for moving an existing address (and its history) into custody, and a careful wallet moves
//! the funds to a DKG key afterwards when it can. What the refresh does guarantee is narrower:
//! the *dealing* of step 1 (the shares and polynomial the client computed) stops being useful,
//! so a client compromised later, after it wiped the key, learns nothing from what it kept of
//! the import.
//!
//! BIP-32: a TSS key derives only **non-hardened** children ([`super::derive`]). For an account
//! whose addresses are `m/44'/60'/0'/0/i`, import the extended key of the last hardened level
//! (`m/44'/60'/0'`: its private key and chain code) and derive `0/i` from the TSS key.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use rand_core::CryptoRng;
use wallet_sss::Polynomial;
use wallet_types::group::Group;
use wallet_types::{
    DecodeError, Error, ObjectKind, ParamError, Parties, PartyId, Reader, Secp256k1, SecretScalar,
    Transcript, WireObject, Writer,
};

use super::keygen::{KeyShare, ShareInTransit, horner};
use super::resetup::ResetupInput;
use super::{IMPORT_PROTOCOL, THRESHOLD, VERSION, kinds};

type Point = k256::ProjectivePoint;

/// What every party of an import receives from the dealer: the public dealing (party set,
/// Feldman commitments `A₀ = X … A_{t−1}`, chain code) and its own Shamir share. Secret (the
/// share): send it over an encrypting channel and never store it in the clear.
#[derive(Clone)]
pub struct ImportShare {
    /// The parties of the new key.
    pub parties: Parties,
    /// The recipient.
    pub recipient: PartyId,
    /// The Feldman commitments of the dealing; `commitments[0]` is the imported public key,
    /// their number the threshold.
    pub commitments: Vec<Point>,
    /// The imported key's BIP-32 chain code.
    pub chain_code: [u8; 32],
    /// The recipient's share `f(recipient)`.
    pub share: ShareInTransit,
}

impl core::fmt::Debug for ImportShare {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ImportShare")
            .field("recipient", &self.recipient)
            .field("threshold", &self.commitments.len())
            .finish_non_exhaustive()
    }
}

impl ImportShare {
    /// The import's id: a hash of the public dealing (parties, commitments, chain code). It
    /// stands in for the "previous key id" of the resetup that pairs the parties, so the first
    /// epoch's key id binds the dealing.
    pub fn import_id(&self) -> [u8; 32] {
        let mut t = Transcript::new(
            IMPORT_PROTOCOL,
            VERSION,
            Some(wallet_types::CurveId::Secp256k1),
            &wallet_types::SessionId([0; 32]),
        );
        let mut w = Writer::new();
        w.parties(&self.parties);
        t.append("parties", &w.finish());
        t.append_u64("threshold", self.commitments.len() as u64);
        for c in &self.commitments {
            t.append_point::<Secp256k1>("commitment", c);
        }
        t.append("chain-code", &self.chain_code);
        t.output32("import-id")
    }

    /// The checks a recipient runs: a threshold from 2 to n, a non-identity key, the recipient a
    /// party, and its share on the committed polynomial ([`ParamError::Mismatch`] otherwise:
    /// the dealer sent an inconsistent dealing).
    pub fn check(&self) -> Result<(), Error> {
        let t = self.commitments.len();
        if t < THRESHOLD || t > self.parties.len() {
            return Err(ParamError::InvalidThreshold {
                threshold: t,
                parties: self.parties.len(),
            }
            .into());
        }
        if !self.parties.contains(self.recipient) {
            return Err(ParamError::NotAMember(self.recipient).into());
        }
        let x = self.commitments.first().copied().unwrap_or_default();
        if bool::from(x.is_identity())
            || self.share.to_secret().public() != horner(&self.commitments, self.recipient)
        {
            return Err(ParamError::Mismatch.into());
        }
        Ok(())
    }
}

/// Body: `parties ‖ recipient u16 ‖ u8 t ‖ t × A_k[33] ‖ chain_code[32] ‖ share[32]`. Secret:
/// encode with [`WireObject::to_secret_bytes`]; decoding runs [`ImportShare::check`].
impl WireObject for ImportShare {
    const KIND: ObjectKind = kinds::IMPORT_SHARE;
    const SECRET: bool = true;
    const MAX_LEN: usize = 4 + 2 + 2 * wallet_types::MAX_PARTIES + 2 + 1 + 33 * 255 + 64;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.parties(&self.parties);
        w.party(self.recipient);
        w.u8(self.commitments.len() as u8);
        for c in &self.commitments {
            w.point::<Secp256k1>(c);
        }
        w.bytes(&self.chain_code);
        w.secret_scalar(&self.share.to_secret());
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let parties = r.parties()?;
        let recipient = r.party()?;
        let t = usize::from(r.u8()?);
        let mut commitments = Vec::with_capacity(t);
        for _ in 0..t {
            commitments.push(r.point::<Secp256k1>()?);
        }
        let v = Self {
            parties,
            recipient,
            commitments,
            chain_code: r.array()?,
            share: ShareInTransit::new(&r.secret_scalar::<Secp256k1>()?),
        };
        v.check().map_err(|_| DecodeError::InvalidValue)?;
        Ok(v)
    }
}

/// Step 1, on the client that holds the key: splits `secret` (with its BIP-32 `chain_code`)
/// into a `threshold`-of-`parties` Shamir sharing and returns each party's [`ImportShare`].
/// The client zeroizes `secret` and everything else it kept once the shares are sent.
///
/// Errors: a threshold below 2 or above the number of parties
/// ([`ParamError::InvalidThreshold`]).
///
/// ```
/// # use wallet_tss::ecdsa::import::{deal, import_input};
/// # use wallet_types::{Parties, SecretScalar, Secp256k1};
/// # use rand_core::SeedableRng;
/// let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
/// let key = SecretScalar::<Secp256k1>::random(&mut rng); // e.g. opened from an envelope
/// let shares = deal(&key, [7; 32], Parties::range(3)?, 2, &mut rng)?;
/// for (p, s) in &shares {
///     // Each party, on receipt: its ResetupInput for the pairing run (then refresh at once).
///     let input = import_input(s, *p)?;
///     assert_eq!(input.commitments[0], key.public());
/// }
/// # Ok::<(), wallet_types::Error>(())
/// ```
pub fn deal<R: CryptoRng + ?Sized>(
    secret: &SecretScalar<Secp256k1>,
    chain_code: [u8; 32],
    parties: Parties,
    threshold: usize,
    rng: &mut R,
) -> Result<BTreeMap<PartyId, ImportShare>, Error> {
    if threshold < THRESHOLD || threshold > parties.len() {
        return Err(ParamError::InvalidThreshold {
            threshold,
            parties: parties.len(),
        }
        .into());
    }
    if bool::from(secret.public().is_identity()) {
        return Err(ParamError::Mismatch.into());
    }
    let poly =
        Polynomial::random(secret.duplicate(), threshold, rng).map_err(|_| Error::Internal)?;
    let commitments = poly.commit().points().to_vec();
    Ok(parties
        .iter()
        .map(|p| {
            let s = ImportShare {
                parties: parties.clone(),
                recipient: p,
                commitments: commitments.clone(),
                chain_code,
                share: ShareInTransit::new(&poly.share_for(p)),
            };
            (p, s)
        })
        .collect())
}

/// Step 2, on each party: the [`ResetupInput`] of epoch 0 for `me`'s received share (checked:
/// [`ImportShare::check`], and the share must be `me`'s). Run [`super::Resetup`] with it among
/// all parties in a fresh session; then refresh at once (module docs).
pub fn import_input(share: &ImportShare, me: PartyId) -> Result<ResetupInput, Error> {
    share.check()?;
    if share.recipient != me {
        return Err(ParamError::Mismatch.into());
    }
    Ok(ResetupInput::new(
        me,
        share.parties.clone(),
        share.share.to_secret(),
        share.commitments.clone(),
        share.chain_code,
        0,
        share.import_id(),
    ))
}

/// Whether `key` is the epoch-0 share of the import `share` describes (same public key, chain
/// code, party set and threshold): what a party checks before it refreshes the imported key.
pub fn is_imported(key: &KeyShare, share: &ImportShare) -> bool {
    key.public_key() == share.commitments.first().copied().unwrap_or_default()
        && key.chain_code() == &share.chain_code
        && key.parties() == &share.parties
        && key.threshold() == share.commitments.len()
}
