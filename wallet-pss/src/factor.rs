//! Factor keys: the key pairs that new shares are encrypted to.
//!
//! A factor key lives in one place — on a device, in a backup, with a third party — and is
//! what a share is sealed to with [`crate::ecies`]. Its **public** key is not secret: it is
//! written into the account's metadata record and into every share bundle and sealed dealing
//! addressed to it, so every party of the account and every store that relays those objects
//! sees it.
//!
//! ## Backup factors protected by a password or a recovery answer
//!
//! A backup factor that the user protects with what they remember is a **random** factor key
//! whose secret is sealed in a wallet-kek [`Envelope`] ([`FactorKey::seal`]) under an
//! OPRF-hardened slot (wallet-kek `SPEC.md` §3.3: Argon2id of the secret *and* an RFC 9497
//! evaluation by a guess-limited server), and opened again with [`FactorKey::from_unlocked`].
//! The public key is a function of random bytes only, so publishing it gives nobody a test of
//! a guess. Who can test a guess, per kind of factor:
//!
//! | factor | who can test a password / answer guess |
//! |---|---|
//! | random, kept in a device's secure storage ([`FactorKey::random`]) | nobody: there is no password |
//! | random, sealed under a **hardened** slot (`04` / `05`) — the recommended backup | nobody alone: the envelope store lacks the server's OPRF output, the OPRF server lacks the envelope, and the published public key says nothing about the password. Online: one guess per counted evaluation, at most `max_attempts` failures until a reset. Store and OPRF server together: offline, one Argon2id + one OPRF evaluation per guess |
//! | random, sealed under an Argon2-only slot (`02` / `03`) | the envelope store, offline, one Argon2id per guess |
//! | derived from the password ([`FactorKey::from_password`], deprecated) | **anyone who sees the public key** — every party, every store of records, bundles or dealings — offline, one Argon2id per guess, no limit |
//!
//! The last row is why the derived factor is deprecated: its public key is published and *is*
//! the password's verifier. An OPRF cannot fix a derived factor either, because the OPRF server
//! is usually one of the account's parties and sees the public key: it could evaluate its own
//! OPRF on every guess and compare. The public key therefore must not depend on the password
//! at all, which sealing a random key gives.
//!
//! ## Enrolling and recovering a hardened backup factor
//!
//! 1. A device draws `FactorKey::random`, seals it with a first slot it can open (its
//!    passkey, [`wallet_kek::NewSlot::Prf`]), adds the hardened slot with wallet-kek's
//!    enrolment ([`wallet_kek::OprfPending::enrol`], [`Envelope::add_slot`], the record's
//!    reset) and, for a backup the device must not be able to open later, removes the
//!    passkey slot ([`Envelope::remove_slot`]). The store keeps the envelope.
//! 2. The factor's public key becomes a recipient of the next reshare (share bundle or
//!    sealed dealing) and goes into the signed metadata record.
//! 3. Recovery: the store delivers the envelope; the client runs one OPRF evaluation
//!    ([`wallet_kek::OprfPending::unlock`]), opens the envelope
//!    ([`wallet_kek::Credential::Hardened`]), takes the factor with
//!    [`FactorKey::from_unlocked`], checks it against the factor key of the verified record
//!    ([`FactorKey::expect_public`]), resets the server's counter with the proof of the
//!    opened envelope, and opens its share.
//!
//! **Lock-out.** The OPRF server counts every evaluation and locks the record after
//! `max_attempts` failures; only a reset proof from an *opened* envelope lifts the lock. A
//! backup-only envelope (passkey slot removed) that gets locked therefore stays locked: that
//! backup factor is lost and the key lives on in the account's other factors (the threshold
//! is what makes this survivable). Keep a device's passkey slot in the envelope if a device
//! should be able to reset it, and have the server authenticate the account before it
//! evaluates, so that strangers cannot burn the budget.
//!
//! ## Migrating from a derived factor
//!
//! A derived factor cannot be upgraded in place (its public key is its weakness): enrol a new
//! sealed factor as above and reshare with it **in place of** the derived one (a share set
//! reshare, or a TSS reshare with sealed dealings); the derived factor's share stays in the old
//! share set / epoch, which the new one refuses to mix with. Holders then delete their old
//! shares as the reshare's confirmation rules say. The old share sealed to the derived factor
//! stays guessable: whoever guesses the password from the old public key opens every old
//! bundle or dealing sealed to it, and with one more share of that old epoch (`t = 2`) rebuilds
//! the key. So the store must also delete the old bundles and dealings addressed to the
//! derived factor once the new epoch is confirmed.
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
//! use wallet_kek::{Credential, NewSlot, PrfOutput, PrfSalt, WalletId};
//! use wallet_pss::factor::FactorKey;
//! use wallet_types::Secp256k1;
//!
//! let wallet = WalletId::random(&mut rng);
//! let factor = FactorKey::<Secp256k1>::random(&mut rng);
//! let prf = PrfOutput::new([7; 32]); // the passkey's PRF output for the slot's salt
//! let first = NewSlot::Prf {
//!     credential_id: b"cred",
//!     rp_id: "wallet.example",
//!     salt: PrfSalt::random(&mut rng),
//!     output: &prf,
//! };
//! let envelope = factor.seal(wallet, &first, &mut rng)?;
//! // ... add the hardened slot (wallet-kek), remove the passkey slot, store the envelope ...
//! let unlocked = envelope.open(&Credential::Prf { credential_id: b"cred", output: &prf })?;
//! let opened = FactorKey::<Secp256k1>::from_unlocked(&unlocked)?.expect_public(factor.public())?;
//! assert_eq!(opened.public(), factor.public());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use wallet_kek::{
    Argon2Params, Credential, Envelope, KekError, NewSlot, Payload, PayloadKind, Unlocked, WalletId,
};
use wallet_types::{
    Curve, CurveId, DecodeError, HEADER_LEN, ObjectKind, Reader, SecretScalar, WireObject, Writer,
};
use zeroize::Zeroize;

use crate::error::PssError;

/// Object kind of an encoded [`FactorKey`] (`SPEC.md` §9) — secret, store encrypted. It is
/// also the opaque payload tag of a factor key sealed in a wallet-kek envelope
/// ([`FactorKey::seal`]).
pub const KIND_FACTOR_KEY: ObjectKind = ObjectKind(0x0547);

/// A factor key: a secret scalar and its public key.
pub struct FactorKey<C: Curve> {
    secret: SecretScalar<C>,
    public: C::Point,
}

impl<C: Curve> core::fmt::Debug for FactorKey<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FactorKey")
            .field("curve", &C::ID.name())
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

impl<C: Curve> FactorKey<C> {
    /// A fresh random factor key (a device's).
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(SecretScalar::random(rng))
    }

    /// A factor key from its secret.
    pub fn from_secret(secret: SecretScalar<C>) -> Self {
        let public = secret.public();
        Self { secret, public }
    }

    /// A backup factor derived from a password (Argon2id through wallet-kek, then
    /// `HKDF-SHA256(ikm = KEK, info = "wallet-pss/factor-key/v1" || curve, L = 64)` reduced to a
    /// scalar). The same password, salt, parameters and wallet id always give the same key.
    ///
    /// **Deprecated**: the public key of this factor is published (metadata records, bundles,
    /// dealings) and lets anyone who sees it test password guesses offline. Seal a random
    /// factor under a hardened slot instead ([`FactorKey::seal`], module docs); kept so that
    /// existing derived factors can still be opened and migrated.
    #[deprecated(
        note = "its public key is an offline password verifier; seal a random FactorKey under an OPRF-hardened wallet-kek slot (FactorKey::seal)"
    )]
    pub fn from_password(
        password: &str,
        salt: &[u8; wallet_kek::ARGON2_SALT_LEN],
        params: &Argon2Params,
        wallet_id: &WalletId,
    ) -> Result<Self, PssError> {
        let kek = wallet_kek::derive_password_kek(password, salt, params, wallet_id)
            .map_err(|_| PssError::InvalidInput)?;
        Self::from_kek(kek.expose())
    }

    /// A backup factor derived from a recovery answer (normalised as wallet-kek specifies).
    ///
    /// **Deprecated** for the reason [`FactorKey::from_password`] is: recovery answers are
    /// low-entropy, and the published public key tests them offline.
    #[deprecated(
        note = "its public key is an offline answer verifier; seal a random FactorKey under an OPRF-hardened wallet-kek slot (FactorKey::seal)"
    )]
    pub fn from_recovery_answer(
        answer: &str,
        salt: &[u8; wallet_kek::ARGON2_SALT_LEN],
        params: &Argon2Params,
        wallet_id: &WalletId,
    ) -> Result<Self, PssError> {
        let kek = wallet_kek::derive_recovery_kek(answer, salt, params, wallet_id)
            .map_err(|_| PssError::InvalidInput)?;
        Self::from_kek(kek.expose())
    }

    fn from_kek(kek: &[u8; 32]) -> Result<Self, PssError> {
        let mut info = [0u8; 25];
        let label = b"wallet-pss/factor-key/v1";
        info.get_mut(..label.len())
            .ok_or(PssError::Internal)?
            .copy_from_slice(label);
        if let Some(last) = info.last_mut() {
            *last = C::ID.to_byte();
        }
        let mut wide = [0u8; 64];
        Hkdf::<Sha256>::new(None, kek)
            .expand(&info, &mut wide)
            .map_err(|_| PssError::Internal)?;
        let s = C::scalar_from_wide(&wide);
        wide.zeroize();
        let secret = SecretScalar::new(s);
        if bool::from(secret.is_zero()) {
            return Err(PssError::Internal);
        }
        Ok(Self::from_secret(secret))
    }

    /// The secret (to open what was sealed to this factor).
    pub fn secret(&self) -> &SecretScalar<C> {
        &self.secret
    }

    /// The public key (what shares are sealed to).
    pub fn public(&self) -> &C::Point {
        &self.public
    }

    /// An explicit copy, secret included (the type is deliberately not `Clone`). Both copies
    /// zeroize on drop.
    pub fn duplicate(&self) -> Self {
        Self {
            secret: self.secret.duplicate(),
            public: self.public,
        }
    }

    /// Seals this factor's secret into a new wallet-kek envelope of `wallet_id` with `first`
    /// as its first slot: the payload is the factor's encoding ([`KIND_FACTOR_KEY`],
    /// `SPEC.md` §9) as an opaque payload tagged `0x0547`. Add the hardened slot afterwards
    /// ([`Envelope::add_slot`]; wallet-kek refuses a hardened *first* slot, whose reset key
    /// needs the envelope's DEK to exist).
    pub fn seal<R: CryptoRng + ?Sized>(
        &self,
        wallet_id: WalletId,
        first: &NewSlot<'_>,
        rng: &mut R,
    ) -> Result<Envelope, PssError> {
        let payload = Payload::opaque(KIND_FACTOR_KEY.0, self.to_secret_bytes())?;
        Ok(Envelope::seal(wallet_id, &payload, first, rng)?)
    }

    /// The factor key inside an opened envelope (see [`Envelope::open`], and
    /// [`wallet_kek::OprfPending`] for a hardened slot; keep the [`Unlocked`] for the OPRF
    /// reset proof). The envelope's AEAD has already authenticated the payload under the
    /// opened slot. Refused: an envelope of another payload kind or tag
    /// ([`PssError::Kek`] with [`KekError::WrongPayloadKind`]), of another curve or not a
    /// canonical, non-zero scalar ([`PssError::Decode`]).
    pub fn from_unlocked(unlocked: &Unlocked) -> Result<Self, PssError> {
        let payload = unlocked.payload();
        if payload.kind() != PayloadKind::Opaque(KIND_FACTOR_KEY.0) {
            return Err(PssError::Kek(KekError::WrongPayloadKind));
        }
        Ok(Self::from_bytes(payload.expose())?)
    }

    /// Opens `envelope` with `credential` and takes the factor key inside
    /// ([`FactorKey::from_unlocked`]); errors of the envelope come as [`PssError::Kek`]
    /// (a wrong password or answer is [`KekError::Unwrap`]).
    pub fn open_sealed(envelope: &Envelope, credential: &Credential<'_>) -> Result<Self, PssError> {
        Self::from_unlocked(&envelope.open(credential)?)
    }

    /// This factor, if its public key is `expected` — the factor key that the verified metadata
    /// record names for this holder (`record.devices`), or the one the caller enrolled.
    /// [`PssError::WrongFactor`] otherwise: the store delivered another envelope than the
    /// current one (e.g. that of a factor a reshare has since replaced); nobody is blamed.
    pub fn expect_public(self, expected: &C::Point) -> Result<Self, PssError> {
        if self.public == *expected {
            Ok(self)
        } else {
            Err(PssError::WrongFactor)
        }
    }
}

/// `scalar` (the factor secret, canonical, non-zero). Holds the secret: store encrypted, e.g.
/// sealed in a wallet-kek envelope ([`FactorKey::seal`]).
impl<C: Curve> WireObject for FactorKey<C> {
    const KIND: ObjectKind = KIND_FACTOR_KEY;
    const MAX_LEN: usize = HEADER_LEN + 32;
    const CURVE: Option<CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.secret_scalar(&self.secret);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let secret = r.secret_scalar::<C>()?;
        if bool::from(secret.is_zero()) {
            return Err(DecodeError::InvalidValue);
        }
        Ok(Self::from_secret(secret))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    extern crate std;

    use super::*;
    use alloc::vec::Vec;
    use rand_core::SeedableRng;
    use wallet_kek::{PrfOutput, PrfSalt};
    use wallet_types::{Ed25519, Secp256k1};

    /// `SPEC.md` §9.2: factor secret `0x9999`, wallet id `a1`×32, one passkey slot
    /// (credential id `"backup"`, RP id `"wallet.example"`, PRF salt `5a`×32, PRF output
    /// `7e`×32); the DEK and the nonces are drawn from ChaCha20 seeded with `u64` 19.
    fn kat<C: Curve>(factor_hex: &str, public_hex: &str, envelope_hex: &str) {
        let factor = FactorKey::<C>::from_secret(SecretScalar::new(C::scalar_from_u64(0x9999)));
        let prf = PrfOutput::new([0x7e; 32]);
        let first = NewSlot::Prf {
            credential_id: b"backup",
            rp_id: "wallet.example",
            salt: PrfSalt([0x5a; 32]),
            output: &prf,
        };
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(19);
        let env = factor.seal(WalletId([0xa1; 32]), &first, &mut rng).unwrap();
        let env_bytes = env.to_bytes();
        if std::env::var_os("WALLET_PSS_DUMP_KAT").is_some() {
            std::eprintln!(
                "factor {:?}: {}",
                C::ID,
                hex::encode(factor.to_secret_bytes().expose())
            );
            std::eprintln!(
                "public {:?}: {}",
                C::ID,
                hex::encode(C::encode_point(factor.public()))
            );
            std::eprintln!("envelope {:?}: {}", C::ID, hex::encode(&env_bytes));
        }
        assert_eq!(hex::encode(factor.to_secret_bytes().expose()), factor_hex);
        assert_eq!(hex::encode(C::encode_point(factor.public())), public_hex);
        assert_eq!(hex::encode(&env_bytes), envelope_hex);
        let back = Envelope::from_bytes(&hex::decode(envelope_hex).unwrap()).unwrap();
        let cred = Credential::Prf {
            credential_id: b"backup",
            output: &prf,
        };
        let opened = FactorKey::<C>::open_sealed(&back, &cred).unwrap();
        assert_eq!(opened.public(), factor.public());
        let decoded = FactorKey::<C>::from_bytes(&hex::decode(factor_hex).unwrap()).unwrap();
        assert_eq!(decoded.public(), factor.public());
    }

    fn spec_block(name: &str) -> alloc::string::String {
        let spec = include_str!("../SPEC.md");
        let marker = alloc::format!("<!-- kat {name} -->\n```\n");
        let start = spec.find(&marker).expect("marker") + marker.len();
        let len = spec.get(start..).and_then(|s| s.find("```")).expect("end");
        spec.get(start..start + len)
            .expect("block")
            .split_whitespace()
            .collect::<Vec<_>>()
            .concat()
    }

    #[test]
    fn sealed_factor_known_answers_secp256k1() {
        kat::<Secp256k1>(
            &spec_block("factor secp256k1"),
            &spec_block("factor-public secp256k1"),
            &spec_block("factor-envelope secp256k1"),
        );
    }

    #[test]
    fn sealed_factor_known_answers_ed25519() {
        kat::<Ed25519>(
            &spec_block("factor ed25519"),
            &spec_block("factor-public ed25519"),
            &spec_block("factor-envelope ed25519"),
        );
    }

    #[test]
    fn factor_encoding_refuses_zero_and_other_curves() {
        let f =
            FactorKey::<Secp256k1>::from_secret(SecretScalar::new(Secp256k1::scalar_from_u64(5)));
        let mut b = f.to_secret_bytes().expose().to_vec();
        assert!(matches!(
            FactorKey::<Ed25519>::from_bytes(&b),
            Err(DecodeError::WrongCurve { .. })
        ));
        b.get_mut(4..).unwrap().fill(0);
        assert_eq!(
            FactorKey::<Secp256k1>::from_bytes(&b).unwrap_err(),
            DecodeError::InvalidValue
        );
    }
}
