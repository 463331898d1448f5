//! The 2-of-3 wallet share set: device, auth and recovery shares of one wallet secret.
//!
//! This is the SSS architecture of embedded wallets (Privy- / UTXOS-style): the wallet secret is
//! split into three Shamir shares — **device** (kept on the user's device), **auth** (held by
//! the provider, released on authentication) and **recovery** (backed up by the user) — and any
//! two rebuild it *on the client only, for one operation*, after which it is zeroized.
//!
//! * The wallet secret is a secp256k1 scalar `s ∈ [1, n)` whose 32-byte big-endian encoding is
//!   the 256-bit BIP-39 entropy (24 words). Sharing the scalar (not arbitrary bytes) is what lets
//!   Feldman commitments `s·G, a₁·G` make every share verifiable.
//! * Every derived key comes from the BIP-39 seed of that mnemonic (empty passphrase):
//!   BIP-32 `m/44'/60'/0'/0/i` for Ethereum (secp256k1 ECDSA), SLIP-10 `m/44'/501'/i'/0'` for
//!   Ed25519 (Solana-style).
//! * Shares carry the share-set id and the commitments; two shares combine only if both match
//!   (a rotation draws a new id, so old and new shares are refused together), and the rebuilt
//!   secret is checked against the committed public key before any use.
//!
//! Every signing call is one function ([`sign_ecdsa`], [`sign_ed25519`]): combine, derive,
//! sign, and zeroize the secret, the seed and every derived key before returning — the caller
//! never holds the whole key.

use alloc::string::String;
use core::fmt;

use rand_core::CryptoRng;
use wallet_types::zeroize::{Zeroize, Zeroizing};
use wallet_types::{
    Curve, CurveId, DecodeError, HEADER_LEN, ObjectKind, Parties, PartyId, Reader, Secp256k1,
    SecretBytes, SecretScalar, WireObject, Writer,
};

use crate::derive::{
    self, Bip32Key, DeriveError, Slip10Ed25519Key, entropy_from_scalar, ethereum_path, solana_path,
};
use crate::encoding::{ShareSetCommitments, WALLET_SHARE, read_set_id};
use crate::error::{Mismatched, ShamirError};
use crate::feldman::Commitments;
use crate::lagrange::lagrange_at;
use crate::shamir::{SHARE_SET_ID_LEN, Share, ShareSetId, reconstruct, split_with_set_id};

/// The threshold of the wallet share set.
pub const THRESHOLD: usize = 2;

/// Who holds a share. The role's number is the share's Shamir evaluation point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Kept on the user's device (evaluation point 1).
    Device = 1,
    /// Held by the provider and released on authentication (evaluation point 2).
    Auth = 2,
    /// The user's backup (evaluation point 3).
    Recovery = 3,
}

impl Role {
    /// All roles in order.
    pub const ALL: [Role; 3] = [Role::Device, Role::Auth, Role::Recovery];

    /// The role's byte on the wire (1, 2, 3).
    pub const fn to_byte(self) -> u8 {
        self as u8
    }

    /// Parses a role byte.
    pub fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Device),
            2 => Some(Self::Auth),
            3 => Some(Self::Recovery),
            _ => None,
        }
    }

    /// The role's Shamir party id.
    pub fn party_id(self) -> PartyId {
        nonzero_id(u16::from(self.to_byte()))
    }

    /// `"device"`, `"auth"` or `"recovery"`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Device => "device",
            Self::Auth => "auth",
            Self::Recovery => "recovery",
        }
    }
}

/// `PartyId` of a non-zero constant (the roles' 1, 2, 3); zero would map to 1, which the
/// roles never ask for.
const fn nonzero_id(n: u16) -> PartyId {
    match PartyId::new(n) {
        Some(p) => p,
        None => nonzero_id(1),
    }
}

/// Why a wallet operation failed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalletError {
    /// The shares do not combine: different share sets or commitments
    /// ([`ShamirError::Mismatch`]), the same role twice ([`ShamirError::DuplicateId`]), or a
    /// share that fails Feldman verification ([`ShamirError::InvalidShare`]).
    Shares(ShamirError),
    /// Mnemonic parsing or key derivation failed (see [`DeriveError`], including an imported
    /// mnemonic whose entropy is not a secp256k1 scalar).
    Derive(DeriveError),
}

impl From<ShamirError> for WalletError {
    fn from(e: ShamirError) -> Self {
        Self::Shares(e)
    }
}

impl From<DeriveError> for WalletError {
    fn from(e: DeriveError) -> Self {
        Self::Derive(e)
    }
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shares(e) => write!(f, "shares: {e}"),
            Self::Derive(e) => write!(f, "derivation: {e}"),
        }
    }
}

impl core::error::Error for WalletError {}

/// One share of a wallet share set: its role, its value and the share set's public record
/// (id and Feldman commitments), so that it can be verified on its own.
///
/// Invariant: the value verifies against the commitments (checked when dealt and when
/// decoded). Not `Clone` ([`WalletShare::duplicate`]); the value is zeroized on drop and never
/// printed.
pub struct WalletShare {
    share: Share<Secp256k1>,
    public: ShareSetCommitments<Secp256k1>,
}

impl fmt::Debug for WalletShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WalletShare")
            .field("role", &self.role())
            .field("set_id", &self.set_id())
            .field("value", self.share.value())
            .finish()
    }
}

impl WalletShare {
    /// The holder's role.
    pub fn role(&self) -> Role {
        // The id is 1, 2 or 3 by construction.
        match self.share.id().get() {
            1 => Role::Device,
            2 => Role::Auth,
            _ => Role::Recovery,
        }
    }

    /// The share-set id.
    pub fn set_id(&self) -> ShareSetId {
        self.share.set_id()
    }

    /// The share set's public record (id and commitments).
    pub fn public(&self) -> &ShareSetCommitments<Secp256k1> {
        &self.public
    }

    /// The underlying Shamir share.
    pub fn share(&self) -> &Share<Secp256k1> {
        &self.share
    }

    /// An explicit copy; named so that reviewers see every duplication of a secret.
    pub fn duplicate(&self) -> Self {
        Self {
            share: self.share.duplicate(),
            public: self.public.clone(),
        }
    }

    /// Builds a wallet share from a Shamir share of a 2-of-3 set and the set's commitments,
    /// verifying it.
    pub fn new(
        share: Share<Secp256k1>,
        public: ShareSetCommitments<Secp256k1>,
    ) -> Result<Self, ShamirError> {
        if share.threshold() != THRESHOLD {
            return Err(ShamirError::Mismatch {
                what: Mismatched::Threshold,
            });
        }
        if Role::from_byte(u8::try_from(share.id().get()).unwrap_or(0)).is_none() {
            return Err(ShamirError::NotAMember(share.id()));
        }
        public.check(&share)?;
        Ok(Self { share, public })
    }
}

/// Body: `set_id[16] ‖ role u8 ‖ value[32] ‖ C₀[33] ‖ C₁[33]`; decoding verifies the value
/// against the commitments.
impl WireObject for WalletShare {
    const KIND: ObjectKind = WALLET_SHARE;
    const MAX_LEN: usize = HEADER_LEN + SHARE_SET_ID_LEN + 1 + 32 + 2 * 33;
    const CURVE: Option<CurveId> = Some(CurveId::Secp256k1);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.set_id().as_bytes());
        w.u8(self.role().to_byte());
        w.secret_scalar(self.share.value());
        for p in self.public.commitments().points() {
            w.point::<Secp256k1>(p);
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let set_id = read_set_id(r)?;
        let role_byte = r.u8()?;
        let role = Role::from_byte(role_byte).ok_or(DecodeError::InvalidTag(role_byte))?;
        let value = r.secret_scalar::<Secp256k1>()?;
        let c0 = r.point::<Secp256k1>()?;
        let c1 = r.point::<Secp256k1>()?;
        let commitments =
            Commitments::new(alloc::vec![c0, c1]).map_err(|_| DecodeError::InvalidValue)?;
        let share = Share::new(set_id, THRESHOLD, role.party_id(), value)
            .map_err(|_| DecodeError::InvalidValue)?;
        WalletShare::new(share, ShareSetCommitments::new(set_id, commitments))
            .map_err(|_| DecodeError::InvalidValue)
    }
}

/// An Ethereum account of the wallet (BIP-44 `m/44'/60'/0'/0/index`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthereumAccount {
    /// The account index `i`.
    pub index: u32,
    /// SEC1 compressed public key.
    pub public_key: [u8; 33],
    /// The 20-byte address (Keccak-256 of the uncompressed key, last 20 bytes).
    pub address: [u8; 20],
}

impl EthereumAccount {
    /// The address as `0x` + 40 hex digits with the EIP-55 checksum.
    pub fn address_string(&self) -> String {
        derive::eip55(&self.address)
    }
}

/// An Ed25519 account of the wallet (SLIP-10 `m/44'/501'/index'/0'`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ed25519Account {
    /// The account index `i`.
    pub index: u32,
    /// RFC 8032 public key.
    pub public_key: [u8; 32],
}

/// The public description of a new share set: its record and the first accounts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletInfo {
    /// Share-set id and Feldman commitments (`C₀ = s·G` commits to the wallet secret; it is
    /// not a signing key).
    pub public: ShareSetCommitments<Secp256k1>,
    /// Ethereum account 0.
    pub ethereum: EthereumAccount,
    /// Ed25519 account 0.
    pub ed25519: Ed25519Account,
}

/// The three shares of a freshly dealt share set, and its public description.
#[derive(Debug)]
pub struct NewShareSet {
    /// The device share.
    pub device: WalletShare,
    /// The auth share.
    pub auth: WalletShare,
    /// The recovery share.
    pub recovery: WalletShare,
    /// Public keys and addresses of the wallet.
    pub info: WalletInfo,
}

impl NewShareSet {
    /// The share of `role`.
    pub fn share(&self, role: Role) -> &WalletShare {
        match role {
            Role::Device => &self.device,
            Role::Auth => &self.auth,
            Role::Recovery => &self.recovery,
        }
    }
}

/// An ECDSA signature by a wallet account: as bytes (the public fields) and as the `k256`
/// types ([`EcdsaSignature::ecdsa`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EcdsaSignature {
    /// The signing account.
    pub account: EthereumAccount,
    /// `r ‖ s` (64 bytes, big-endian, low-s).
    pub signature: [u8; 64],
    /// The recovery id (0 or 1: parity of `R.y`; `x ≥ n` cannot occur for a low-s signature
    /// of k256 with overwhelming probability and is reported as 2 or 3 if it does).
    pub recovery_id: u8,
    typed: (k256::ecdsa::Signature, k256::ecdsa::RecoveryId),
}

impl EcdsaSignature {
    /// The signature and recovery id as `k256` types.
    pub fn ecdsa(&self) -> (k256::ecdsa::Signature, k256::ecdsa::RecoveryId) {
        self.typed
    }
}

impl From<EcdsaSignature> for (k256::ecdsa::Signature, k256::ecdsa::RecoveryId) {
    fn from(sig: EcdsaSignature) -> Self {
        sig.typed
    }
}

/// An Ed25519 signature by a wallet account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ed25519Signature {
    /// The signing account.
    pub account: Ed25519Account,
    /// `R ‖ S` (RFC 8032).
    pub signature: [u8; 64],
}

impl Ed25519Signature {
    /// The signature as the `ed25519-dalek` type.
    pub fn ed25519(&self) -> ed25519_dalek::Signature {
        ed25519_dalek::Signature::from_bytes(&self.signature)
    }
}

/// Two shares and an Ethereum account index as a RustCrypto signer: every
/// `sign_prehash` is one [`sign_ecdsa`] (combine, derive, sign, zeroize); nothing secret is
/// kept between calls.
///
/// ```
/// use wallet_sss::k256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
/// use wallet_sss::k256::ecdsa::{RecoveryId, Signature, VerifyingKey};
/// use wallet_sss::wallet::{self, EcdsaSigner};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
/// let w = wallet::create(&mut rng)?;
/// let signer = EcdsaSigner::new(&w.device, &w.auth, 0);
/// let hash = [0x11; 32];
/// let (sig, _recid): (Signature, RecoveryId) = signer.sign_prehash(&hash)?;
/// let account = wallet::ethereum_account(&w.device, &w.auth, 0)?;
/// VerifyingKey::from_sec1_bytes(&account.public_key)?.verify_prehash(&hash, &sig)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct EcdsaSigner<'a> {
    a: &'a WalletShare,
    b: &'a WalletShare,
    index: u32,
}

impl<'a> EcdsaSigner<'a> {
    /// Signs with Ethereum account `index` of the wallet that `a` and `b` belong to.
    pub fn new(a: &'a WalletShare, b: &'a WalletShare, index: u32) -> Self {
        Self { a, b, index }
    }
}

impl
    k256::ecdsa::signature::hazmat::PrehashSigner<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId)>
    for EcdsaSigner<'_>
{
    fn sign_prehash(
        &self,
        prehash: &[u8],
    ) -> Result<(k256::ecdsa::Signature, k256::ecdsa::RecoveryId), k256::ecdsa::signature::Error>
    {
        let prehash: &[u8; 32] = prehash
            .try_into()
            .map_err(|_| k256::ecdsa::signature::Error::new())?;
        sign_ecdsa(self.a, self.b, self.index, prehash)
            .map(Into::into)
            .map_err(|_| k256::ecdsa::signature::Error::new())
    }
}

/// Two shares and an Ed25519 (Solana) account index as a RustCrypto signer: every `try_sign`
/// is one [`sign_ed25519`].
#[derive(Clone, Copy, Debug)]
pub struct Ed25519Signer<'a> {
    a: &'a WalletShare,
    b: &'a WalletShare,
    index: u32,
}

impl<'a> Ed25519Signer<'a> {
    /// Signs with Ed25519 account `index` of the wallet that `a` and `b` belong to.
    pub fn new(a: &'a WalletShare, b: &'a WalletShare, index: u32) -> Self {
        Self { a, b, index }
    }
}

impl k256::ecdsa::signature::Signer<ed25519_dalek::Signature> for Ed25519Signer<'_> {
    fn try_sign(
        &self,
        message: &[u8],
    ) -> Result<ed25519_dalek::Signature, k256::ecdsa::signature::Error> {
        sign_ed25519(self.a, self.b, self.index, message)
            .map(|s| s.ed25519())
            .map_err(|_| k256::ecdsa::signature::Error::new())
    }
}

// ---------------------------------------------------------------------------------------------
// Dealing
// ---------------------------------------------------------------------------------------------

fn parties() -> Result<Parties, ShamirError> {
    Ok(Parties::new(Role::ALL.iter().map(|r| r.party_id()))?)
}

/// Splits `secret` 2-of-3 under a fresh share-set id and derives account 0.
fn deal<R: CryptoRng + ?Sized>(
    secret: &SecretScalar<Secp256k1>,
    rng: &mut R,
) -> Result<NewShareSet, WalletError> {
    let info_accounts = with_seed(secret, |seed| {
        Ok((ethereum_account_of(seed, 0)?, ed25519_account_of(seed, 0)?))
    })?;
    let set_id = ShareSetId::random(rng);
    let (shares, commitments) = split_with_set_id(secret, THRESHOLD, &parties()?, set_id, rng)?;
    let public = ShareSetCommitments::new(set_id, commitments);
    let mut it = shares.into_iter();
    let mut next = || -> Result<WalletShare, WalletError> {
        let s = it.next().ok_or(ShamirError::Internal)?;
        Ok(WalletShare::new(s, public.clone())?)
    };
    let device = next()?;
    let auth = next()?;
    let recovery = next()?;
    Ok(NewShareSet {
        device,
        auth,
        recovery,
        info: WalletInfo {
            public,
            ethereum: info_accounts.0,
            ed25519: info_accounts.1,
        },
    })
}

/// Creates a wallet: samples the secret (a uniformly random non-zero secp256k1 scalar, whose
/// big-endian encoding is the 256-bit BIP-39 entropy), splits it 2-of-3 into device, auth and
/// recovery shares under a fresh share-set id, and derives account 0's public keys.
///
/// ```
/// use wallet_sss::wallet::{self, Role};
/// # use rand_core::SeedableRng;
/// # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
/// let w = wallet::create(&mut rng)?;
/// let sig = wallet::sign_ecdsa(&w.device, &w.auth, 0, &[7u8; 32])?;
/// assert_eq!(sig.account, w.info.ethereum);
/// // Any two shares, in any order, give the same account.
/// let again = wallet::sign_ecdsa(&w.recovery, &w.device, 0, &[7u8; 32])?;
/// assert_eq!(again.signature, sig.signature);
/// # Ok::<(), wallet_sss::wallet::WalletError>(())
/// ```
pub fn create<R: CryptoRng + ?Sized>(rng: &mut R) -> Result<NewShareSet, WalletError> {
    let secret = SecretScalar::<Secp256k1>::random(rng);
    deal(&secret, rng)
}

/// Imports an existing 24-word English BIP-39 mnemonic into a new share set (same accounts
/// as any BIP-39 wallet with an empty passphrase).
///
/// Errors: an invalid mnemonic, another word count, or entropy that is zero or `≥ n`
/// ([`DeriveError::EntropyNotAScalar`]): such a mnemonic is refused, never silently mapped to
/// another key.
pub fn import_mnemonic<R: CryptoRng + ?Sized>(
    phrase: &str,
    rng: &mut R,
) -> Result<NewShareSet, WalletError> {
    let secret = derive::scalar_from_mnemonic(phrase)?;
    deal(&secret, rng)
}

// ---------------------------------------------------------------------------------------------
// Combining
// ---------------------------------------------------------------------------------------------

/// Rebuilds the wallet secret from two shares of one set, checking set id, commitments, roles
/// and the result against the committed public key. Private: callers only reach the secret
/// through the one-call operations below, which zeroize it.
fn combine(a: &WalletShare, b: &WalletShare) -> Result<SecretScalar<Secp256k1>, ShamirError> {
    if a.set_id() != b.set_id() || a.public != b.public {
        return Err(ShamirError::Mismatch {
            what: Mismatched::ShareSet,
        });
    }
    let secret = reconstruct(&[a.share.duplicate(), b.share.duplicate()])?;
    // The shares verified against the commitments when built, so this holds; checking it
    // costs one fixed-base multiplication and guarantees no wrong key is ever used.
    if secret.public() != a.public.public_key() || bool::from(secret.is_zero()) {
        return Err(ShamirError::InconsistentShares(alloc::vec![
            a.share.id(),
            b.share.id()
        ]));
    }
    Ok(secret)
}

/// Runs `f` on the BIP-39 seed of `secret` (empty passphrase); the entropy and the seed are
/// zeroized when it returns.
fn with_seed<T>(
    secret: &SecretScalar<Secp256k1>,
    f: impl FnOnce(&SecretBytes<64>) -> Result<T, WalletError>,
) -> Result<T, WalletError> {
    let entropy = entropy_from_scalar(secret);
    let seed = derive::seed_from_entropy(&entropy, "")?;
    f(&seed)
}

fn ethereum_account_of(seed: &SecretBytes<64>, index: u32) -> Result<EthereumAccount, WalletError> {
    let key = Bip32Key::derive(seed.expose(), &ethereum_path(index)?)?;
    Ok(ethereum_account_from_point(index, &key.public_key()))
}

fn ethereum_account_from_point(index: u32, pk: &k256::ProjectivePoint) -> EthereumAccount {
    EthereumAccount {
        index,
        public_key: derive::compressed(pk),
        address: derive::ethereum_address(pk),
    }
}

fn ed25519_account_of(seed: &SecretBytes<64>, index: u32) -> Result<Ed25519Account, WalletError> {
    let key = Slip10Ed25519Key::derive(seed.expose(), &solana_path(index)?)?;
    Ok(Ed25519Account {
        index,
        public_key: key.public_key(),
    })
}

/// Signs the 32-byte prehash `message_hash` (e.g. Keccak-256 of an Ethereum transaction) with
/// Ethereum account `index` (`m/44'/60'/0'/0/index`): combines the two shares, derives the key,
/// signs (RFC 6979, low-s) with recovery id, and zeroizes the secret, the seed and the derived
/// key before returning.
pub fn sign_ecdsa(
    a: &WalletShare,
    b: &WalletShare,
    index: u32,
    message_hash: &[u8; 32],
) -> Result<EcdsaSignature, WalletError> {
    let secret = combine(a, b)?;
    with_seed(&secret, |seed| {
        let key = Bip32Key::derive(seed.expose(), &ethereum_path(index)?)?;
        let mut bytes = Secp256k1::encode_scalar(key.secret().expose());
        let signing = k256::ecdsa::SigningKey::from_bytes(&bytes);
        bytes.as_mut_slice().zeroize();
        // A BIP-32 key is a non-zero scalar, so `from_bytes` accepts it.
        let signing = signing.map_err(|_| DeriveError::InvalidChildKey { depth: 5 })?;
        let (sig, recid) = signing.sign_prehash_recoverable(message_hash);
        let mut signature = [0u8; 64];
        signature.copy_from_slice(sig.to_bytes().as_slice());
        let pk = k256::ProjectivePoint::from(*signing.verifying_key().as_affine());
        Ok(EcdsaSignature {
            account: ethereum_account_from_point(index, &pk),
            signature,
            recovery_id: recid.to_byte(),
            typed: (sig, recid),
        })
    })
}

/// Signs `message` (RFC 8032 Ed25519, pure) with Ed25519 account `index`
/// (`m/44'/501'/index'/0'`): combines, derives, signs and zeroizes in one call.
pub fn sign_ed25519(
    a: &WalletShare,
    b: &WalletShare,
    index: u32,
    message: &[u8],
) -> Result<Ed25519Signature, WalletError> {
    use ed25519_dalek::Signer;
    let secret = combine(a, b)?;
    with_seed(&secret, |seed| {
        let key = Slip10Ed25519Key::derive(seed.expose(), &solana_path(index)?)?;
        let signing = key.signing_key();
        let sig = signing.sign(message);
        Ok(Ed25519Signature {
            account: Ed25519Account {
                index,
                public_key: signing.verifying_key().to_bytes(),
            },
            signature: sig.to_bytes(),
        })
    })
}

/// The public keys of Ethereum account `index` (needs two shares: derivation is hardened).
pub fn ethereum_account(
    a: &WalletShare,
    b: &WalletShare,
    index: u32,
) -> Result<EthereumAccount, WalletError> {
    let secret = combine(a, b)?;
    with_seed(&secret, |seed| ethereum_account_of(seed, index))
}

/// The public key of Ed25519 account `index`.
pub fn ed25519_account(
    a: &WalletShare,
    b: &WalletShare,
    index: u32,
) -> Result<Ed25519Account, WalletError> {
    let secret = combine(a, b)?;
    with_seed(&secret, |seed| ed25519_account_of(seed, index))
}

/// Re-issues the share of `role` from two shares of the same set (`f(role)` by Lagrange
/// interpolation at `role`); the result verifies against the same commitments.
pub fn reissue(a: &WalletShare, b: &WalletShare, role: Role) -> Result<WalletShare, WalletError> {
    let secret = combine(a, b)?;
    drop(secret);
    let ids = [a.share.id(), b.share.id()];
    let x = role.party_id().to_scalar::<Secp256k1>();
    let mut value = SecretScalar::<Secp256k1>::zero();
    for s in [&a.share, &b.share] {
        let l = lagrange_at::<Secp256k1>(&ids, s.id(), &x)?;
        *value.expose_mut() += l * s.value().expose();
    }
    let share = Share::new(a.set_id(), THRESHOLD, role.party_id(), value)?;
    Ok(WalletShare::new(share, a.public.clone())?)
}

/// Recovery on a new device: the auth and recovery shares (any two shares, in fact) give the
/// device share again — same secret, same accounts, same share set.
///
/// The re-issued device share equals the lost one. If the old device may be compromised,
/// [`rotate`] instead: that makes the old device share useless.
pub fn recover_device(a: &WalletShare, b: &WalletShare) -> Result<WalletShare, WalletError> {
    reissue(a, b, Role::Device)
}

/// Rotation / purge: re-splits the same secret into a new share set (fresh share-set id and
/// polynomial). The accounts do not change; shares of the old set are refused together with
/// shares of the new one ([`ShamirError::Mismatch`]), so the old shares can be deleted and a
/// leaked old share is useless.
pub fn rotate<R: CryptoRng + ?Sized>(
    a: &WalletShare,
    b: &WalletShare,
    rng: &mut R,
) -> Result<NewShareSet, WalletError> {
    let secret = combine(a, b)?;
    deal(&secret, rng)
}

/// Exports the wallet's 24-word English BIP-39 mnemonic (in a zeroizing string).
pub fn export_mnemonic(a: &WalletShare, b: &WalletShare) -> Result<Zeroizing<String>, WalletError> {
    let secret = combine(a, b)?;
    let entropy = entropy_from_scalar(&secret);
    Ok(derive::mnemonic_from_entropy(&entropy))
}

impl WalletInfo {
    /// The committed public key `s·G` of the wallet secret (not a signing key).
    pub fn secret_commitment(&self) -> k256::ProjectivePoint {
        self.public.public_key()
    }
}
