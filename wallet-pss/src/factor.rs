//! Factor keys: the key pairs that new shares are encrypted to.
//!
//! A factor key lives in one place — on a device, in a backup, with a third party — and is
//! what a share is sealed to with [`crate::ecies`]. It can be random (a device keeps it in its
//! secure storage) or derived from a password / recovery answer through wallet-kek's Argon2id
//! KEK, so that a backup factor needs nothing but what the user remembers.

use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use wallet_kek::{Argon2Params, WalletId};
use wallet_types::{Curve, SecretScalar};
use zeroize::Zeroize;

use crate::error::PssError;

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
}
