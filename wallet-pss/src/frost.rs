//! FROST keys of `wallet-tss` through refresh and reshare.
//!
//! A FROST [`KeyPackage`] carries the group commitment `Φ`, so it converts losslessly to the
//! generic [`KeyShare`] that [`crate::refresh`] and [`crate::reshare`] work on, and back. FROST
//! keys carry no epoch of their own: the caller keeps the epoch beside the key (it is in every
//! [`KeyShare`]), and a signer of an old epoch is caught anyway — its signature share fails
//! verification against the new share commitments and the coordinator names it.
//!
//! **Stored nonces.** Nonce pairs persisted with `SigningNonces::seal_into` live under the key
//! share's scope (`KeyPackage::nonce_scope`, a hash of the key id — party set, threshold, group
//! key and verifying shares — and the party id). A refresh or reshare changes the verifying
//! shares, so the new share has a new scope and the old nonces are unreachable through it; once
//! the new share is stored, retire the old scope (`wallet_tss::frost::round1::retire_nonces`
//! with the old key package) to erase them and refuse the old scope for good.
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! use wallet_pss::frost::{from_key_share, to_key_share};
//! use wallet_tss::frost::keys;
//! use wallet_types::{Ed25519, Parties, SecretScalar};
//! let kps = keys::split_secret(SecretScalar::<Ed25519>::random(&mut rng), 2, &Parties::range(3).unwrap(), &mut rng).unwrap();
//! let share = to_key_share(&kps[0], 0).unwrap();
//! let back = from_key_share(&share).unwrap();
//! assert_eq!(back.public(), kps[0].public());
//! ```

use wallet_sss::Commitments;
use wallet_tss::frost::{Ciphersuite, KeyPackage, PublicKeyPackage};

use crate::error::PssError;
use crate::key::KeyShare;

/// The generic view of a FROST key package at `epoch`.
pub fn to_key_share<C: Ciphersuite>(
    kp: &KeyPackage<C>,
    epoch: u64,
) -> Result<KeyShare<C>, PssError> {
    let public = kp.public();
    let commitments = Commitments::new(public.commitment().to_vec())?;
    KeyShare::new(
        kp.id(),
        public.threshold(),
        public.parties().clone(),
        kp.secret_share().duplicate(),
        commitments,
        epoch,
    )
}

/// A FROST key package from a (refreshed or reshared) key share.
pub fn from_key_share<C: Ciphersuite>(share: &KeyShare<C>) -> Result<KeyPackage<C>, PssError> {
    let public = PublicKeyPackage::new(
        share.parties().clone(),
        share.commitments().points().to_vec(),
    )
    .map_err(|_| PssError::InvalidInput)?;
    KeyPackage::new(share.me(), share.share().duplicate(), public)
        .map_err(|_| PssError::InvalidInput)
}
