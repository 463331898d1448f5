//! The 2-of-3 Shamir share set (wallet-sss): create, sign with two shares, recover the device
//! share, export the mnemonic. Every share enters and leaves sealed ([`crate::seal`], kind
//! `ShamirShare`), each under the wrapping secret of the place it lives (the device's, the
//! provider's, the recovery holder's); the reconstructed secret exists only inside one call.

use rand_core::CryptoRng;
use wallet_sss::wallet::{self, WalletShare};
use wallet_types::WireObject;

use crate::error::{Result, array};
use crate::seal::{SealedKind, WrapSecret, open, seal};

/// A sealed share with the secret that opens it.
pub struct SealedShare<'a> {
    /// The wrapping secret of the share's holder.
    pub wrap: &'a WrapSecret,
    /// The sealed share.
    pub sealed: &'a [u8],
}

impl SealedShare<'_> {
    fn open(&self) -> Result<WalletShare> {
        let plain = open(self.wrap, SealedKind::ShamirShare, self.sealed)?;
        Ok(WalletShare::from_bytes(plain.expose())?)
    }
}

/// A new share set: the three shares sealed (device, auth, recovery, each under its own
/// wrapping secret), and the public part.
pub struct NewShareSet {
    /// The sealed device, auth and recovery shares.
    pub sealed: [Vec<u8>; 3],
    /// The share-set id.
    pub set_id: Vec<u8>,
    /// Ethereum account 0's compressed public key.
    pub ethereum_public_key: Vec<u8>,
    /// Ethereum account 0's EIP-55 address.
    pub ethereum_address: String,
    /// Ed25519 account 0's public key.
    pub ed25519_public_key: Vec<u8>,
}

fn seal_share<R: CryptoRng + ?Sized>(
    wrap: &WrapSecret,
    s: &WalletShare,
    rng: &mut R,
) -> Result<Vec<u8>> {
    seal(
        wrap,
        SealedKind::ShamirShare,
        s.to_secret_bytes().expose(),
        rng,
    )
}

/// Deals a new share set.
pub fn create<R: CryptoRng + ?Sized>(
    device: &WrapSecret,
    auth: &WrapSecret,
    recovery: &WrapSecret,
    rng: &mut R,
) -> Result<NewShareSet> {
    let set = wallet::create(rng)?;
    Ok(NewShareSet {
        sealed: [
            seal_share(device, &set.device, rng)?,
            seal_share(auth, &set.auth, rng)?,
            seal_share(recovery, &set.recovery, rng)?,
        ],
        set_id: set.info.public.set_id().as_bytes().to_vec(),
        ethereum_public_key: set.info.ethereum.public_key.to_vec(),
        ethereum_address: set.info.ethereum.address_string(),
        ed25519_public_key: set.info.ed25519.public_key.to_vec(),
    })
}

/// Signs with two shares: `"secp256k1"` signs the 32-byte prehash with Ethereum account
/// `index` (`r || s || recovery_id`), `"ed25519"` the message with Ed25519 account `index`.
/// Returns `(public key, signature)`.
pub fn sign(
    a: &SealedShare<'_>,
    b: &SealedShare<'_>,
    curve: crate::kek::KeyCurve,
    index: u32,
    message: &[u8],
) -> Result<(Vec<u8>, Vec<u8>)> {
    let (a, b) = (a.open()?, b.open()?);
    match curve {
        crate::kek::KeyCurve::Secp256k1 => {
            let s = wallet::sign_ecdsa(&a, &b, index, &array("message hash", message)?)?;
            let mut sig = s.signature.to_vec();
            sig.push(s.recovery_id);
            Ok((s.account.public_key.to_vec(), sig))
        }
        crate::kek::KeyCurve::Ed25519 => {
            let s = wallet::sign_ed25519(&a, &b, index, message)?;
            Ok((s.account.public_key.to_vec(), s.signature.to_vec()))
        }
    }
}

/// Rebuilds the device share from two others (a new device) and seals it under `device`.
pub fn recover_device<R: CryptoRng + ?Sized>(
    a: &SealedShare<'_>,
    b: &SealedShare<'_>,
    device: &WrapSecret,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let share = wallet::recover_device(&a.open()?, &b.open()?)?;
    seal_share(device, &share, rng)
}

/// The BIP-39 mnemonic of the share set, sealed (kind `Mnemonic`) under `export`: the user
/// asked to move the wallet elsewhere, and whatever shows or transfers the words (a native
/// screen, an isolated origin holding `export`) opens it; the words never appear in this
/// page's JavaScript in clear.
pub fn export_mnemonic<R: CryptoRng + ?Sized>(
    a: &SealedShare<'_>,
    b: &SealedShare<'_>,
    export: &WrapSecret,
    rng: &mut R,
) -> Result<Vec<u8>> {
    let words = wallet::export_mnemonic(&a.open()?, &b.open()?)?;
    seal(export, SealedKind::Mnemonic, words.as_bytes(), rng)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::kek::KeyCurve;
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    use rand_core::SeedableRng;

    #[test]
    fn create_sign_recover_export() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(4);
        let w = |b| WrapSecret::from_slice(&[b; 32]).unwrap();
        let (wd, wa, wr) = (w(1), w(2), w(3));
        let set = create(&wd, &wa, &wr, &mut rng).unwrap();
        let [d, a, r] = &set.sealed;
        let dev = SealedShare {
            wrap: &wd,
            sealed: d,
        };
        let auth = SealedShare {
            wrap: &wa,
            sealed: a,
        };
        let rec = SealedShare {
            wrap: &wr,
            sealed: r,
        };
        let (pk, sig) = sign(&dev, &auth, KeyCurve::Secp256k1, 0, &[6; 32]).unwrap();
        assert_eq!(pk, set.ethereum_public_key);
        let vk = k256::ecdsa::VerifyingKey::from_sec1_bytes(&pk).unwrap();
        vk.verify_prehash(
            &[6; 32],
            &k256::ecdsa::Signature::from_slice(&sig[..64]).unwrap(),
        )
        .unwrap();
        let (epk, _) = sign(&dev, &rec, KeyCurve::Ed25519, 0, b"m").unwrap();
        assert_eq!(epk, set.ed25519_public_key);
        // A share sealed for the auth holder does not open with the device's secret.
        let wrong = SealedShare {
            wrap: &wd,
            sealed: a,
        };
        assert_eq!(
            sign(&dev, &wrong, KeyCurve::Secp256k1, 0, &[6; 32])
                .unwrap_err()
                .kind(),
            "unwrap"
        );
        // A new device from auth + recovery signs for the same account.
        let new_dev = recover_device(&auth, &rec, &wd, &mut rng).unwrap();
        let nd = SealedShare {
            wrap: &wd,
            sealed: &new_dev,
        };
        assert_eq!(
            sign(&nd, &auth, KeyCurve::Secp256k1, 0, &[6; 32])
                .unwrap()
                .0,
            pk
        );
        // The exported mnemonic opens only with the export secret and has 24 words.
        let we = w(9);
        let m = export_mnemonic(&dev, &auth, &we, &mut rng).unwrap();
        let words = open(&we, SealedKind::Mnemonic, &m).unwrap();
        assert_eq!(
            core::str::from_utf8(words.expose())
                .unwrap()
                .split(' ')
                .count(),
            24
        );
        assert_eq!(
            open(&wd, SealedKind::Mnemonic, &m).unwrap_err().kind(),
            "unwrap"
        );
    }
}
