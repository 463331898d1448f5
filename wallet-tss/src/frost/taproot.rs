//! BIP-340 / Taproot signing mode of FROST(secp256k1): threshold Schnorr signatures that
//! Bitcoin accepts — x-only keys (BIP-340), the BIP-341 key-path tweak with or without a script
//! tree, and BIP-32 non-hardened derivation — from ordinary FROST(secp256k1) keys.
//!
//! **Design.** A Taproot key *is* a FROST(secp256k1) key: [`KeyPackage<Secp256k1>`] from the
//! DKG ([`crate::frost::dkg`]), the dealer split or a refresh / reshare (wallet-pss), unchanged.
//! What differs is one signing session, described by a [`TaprootSpend`] (derivation path and
//! tweak) that travels with the signing package ([`TaprootSigningPackage`], kind `0x0330`).
//! From it every signer and the coordinator compute the same [`TaprootKey`] and the same
//! *effective* key: an affine image of the sharing whose group key is the even-y output key
//! `Q`. Signing then runs the one FROST code path ([`crate::frost::round2`],
//! [`crate::frost::aggregate()`]) with the BIP-340 hooks (binding factors with the context
//! string `FROST-secp256k1-SHA256-TR-v1`, even-y group commitment, BIP-340 challenge), so
//! share verification and identifiable abort work as for RFC 9591: a bad share names its
//! signer. RFC 9591 signing is untouched (its vectors still pass).
//!
//! **Key arithmetic** (one place, [`TaprootKey::new`]). Root sharing `sᵢ` of `s`, group key
//! `P₀ = s·G`, Feldman commitment `Φ`:
//!
//! 1. BIP-32 `CKDpub` along the path (shared with ECDSA: [`crate::ecdsa::derive`]):
//!    `P_d = P₀ + δ·G`; shares `sᵢ + δ`.
//! 2. BIP-340 x-only internal key: `g₁ = −1` if `P_d` has odd y, else `1`; `P = g₁·P_d`.
//! 3. BIP-341 tweak: `t = int(hash_TapTweak(x(P) ‖ merkle_root))` (no script tree: `x(P)`
//!    alone, BIP-86; [`TapTweak::Untweaked`]: `t = 0`), `Q = P + t·G`.
//! 4. Even-y output key: `g₂ = −1` if `Q` has odd y, else `1`; the effective key is `g₂·Q`.
//!
//! The effective share is `s'ᵢ = g₂·(g₁·(sᵢ + δ) + t)`: adding a constant to every Shamir share
//! adds it to the secret, and multiplying every share multiplies the secret, so `s'ᵢ` is a
//! `t`-of-`n` sharing of `g₂·(g₁·(s + δ) + t)`, the discrete log of the even-y `Q`. Its Feldman
//! commitment is `Φ'₀ = g₂·Q`, `Φ'ₖ = g₁g₂·Φₖ`, so every verifying share follows publicly.
//!
//! **Signing** (FROST, RFC 9591 §5, with BIP-340's even-y rule — the behaviour of the Zcash
//! Foundation's `frost-secp256k1-tr`, whose published vectors pass byte for byte:
//! `tests/frost_taproot_vectors.rs`, `SPEC.md` "Relation to frost-secp256k1-tr"): `R = Σ Dᵢ + ρᵢ·Eᵢ` with `ρᵢ` bound to the effective key
//! (hence to the path and the merkle root); if `R` has odd y, `R := −R` and every signer
//! negates its nonce contribution; `c = int(hash_BIP0340/challenge(x(R) ‖ x(Q) ‖ m))`;
//! `zᵢ = ±(dᵢ + eᵢρᵢ) + λᵢ·s'ᵢ·c`; signature `x(R) ‖ Σ zᵢ` (64 bytes).
//!
//! **Nonces bound to the path.** Nonce pairs are preprocessed per key share, before any path
//! is known, and kept in the one-time store under the root share's scope. The binding factors
//! hash the effective key, so a commitment set produces an unrelated `R` for every other path
//! or merkle root: a coordinator cannot pick the child key after seeing `R` (the concern of
//! Groth–Shoup 2022 for additive derivation), and every signer recomputes the key from the
//! spend it was sent.
//!
//! **Cost.** On top of RFC 9591 signing, each party computes the spend's key: one base
//! multiplication per path level (BIP-32) and one for the tweak. A party that signs often for
//! one address computes the [`TaprootKey`] once and passes it ([`sign_with_key`],
//! [`sign_with_store_and_key`], [`aggregate`]).
//!
//! **Chain code.** BIP-32 needs a chain code the DKG does not produce. [`default_chain_code`]
//! derives one from the root group key, so all holders agree with nothing extra to store; with
//! it anyone who knows the root public key can derive (and link) every child key. Where the
//! children must stay unlinkable for holders of the root key, agree on a random 32-byte chain
//! code and keep it beside the key package (it must be the same for every signer and the
//! coordinator).
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
//! use std::collections::BTreeMap;
//! use wallet_tss::ecdsa::DerivationPath;
//! use wallet_tss::frost::{keys, round1, taproot};
//! use wallet_types::{Parties, Secp256k1, SecretScalar};
//! let keys = keys::split_secret(SecretScalar::<Secp256k1>::random(&mut rng), 2, &Parties::range(3).unwrap(), &mut rng).unwrap();
//! let cc = taproot::default_chain_code(keys[0].public());
//! let spend = taproot::TaprootSpend::new(DerivationPath::parse("m/0/7").unwrap(), taproot::TapTweak::KeyPathOnly);
//! let key = taproot::TaprootKey::new(keys[0].public(), &cc, &spend).unwrap();
//!
//! let (mut n1, c1) = round1::preprocess(&keys[0], 1, &mut rng);
//! let (mut n2, c2) = round1::preprocess(&keys[1], 1, &mut rng);
//! let commitments = BTreeMap::from([(keys[0].id(), c1[0]), (keys[1].id(), c2[0])]);
//! let package = taproot::TaprootSigningPackage::new(spend, commitments, [9u8; 32].to_vec()).unwrap();
//! let z1 = taproot::sign(&package, n1.remove(0), &keys[0], &cc).unwrap();
//! let z2 = taproot::sign(&package, n2.remove(0), &keys[1], &cc).unwrap();
//! let shares = BTreeMap::from([(keys[0].id(), z1), (keys[1].id(), z2)]);
//! let sig = taproot::aggregate(&package, &shares, &key).unwrap();
//! assert!(taproot::verify(&key.output_key(), &[9u8; 32], &sig.to_bytes()));
//! ```

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use ff::PrimeField;
use group::{Group, GroupEncoding};
use k256::ProjectivePoint;
use subtle::{Choice, ConditionallySelectable};
use wallet_types::store::OneTimeStore;
use wallet_types::{
    Curve as _, DecodeError, Error, ObjectKind, ParamError, PartyId, Reader, Secp256k1,
    SecretScalar, SessionId, Transcript, WireObject, Writer,
};

use super::aggregate::{aggregate_in, verify_signature_share_in};
use super::ciphersuite::{hash_to_scalar_secp256k1, sha256};
use super::keys::{KeyPackage, PublicKeyPackage};
use super::round1::{SigningCommitments, SigningNonces};
use super::round2::{Scheme, SignatureShare, SigningPackage, check_signers, sign_in};
pub use crate::ecdsa::derive::DerivationPath;
use crate::ecdsa::derive::derive_public;

/// [`TaprootSigningPackage`].
pub const KIND_TAPROOT_SIGNING_PACKAGE: ObjectKind = ObjectKind(0x0330);

/// The context string of the BIP-340 mode's binding-factor hashes (`H1`, `H4`, `H5` as RFC
/// 9591 §6.5 with this string; the Zcash Foundation's `frost-secp256k1-tr` uses the same).
pub const CONTEXT_STRING: &[u8] = b"FROST-secp256k1-SHA256-TR-v1";

/// BIP-340 `hash_tag(x) = SHA-256(SHA-256(tag) ‖ SHA-256(tag) ‖ x)` of the concatenated `parts`.
pub fn tagged_hash(tag: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let t = sha256(&[], &[tag]);
    sha256(&[&t, &t], parts)
}

/// `(x(P), y(P) is odd)` of a non-identity point (SEC1 compressed: `02`/`03 ‖ x`).
fn x_only(p: &ProjectivePoint) -> ([u8; 32], bool) {
    let enc = p.to_bytes();
    let mut x = [0u8; 32];
    x.copy_from_slice(enc.get(1..33).unwrap_or(&[0u8; 32]));
    (x, enc.first() == Some(&0x03))
}

/// BIP-340 `lift_x`: the even-y point with x-coordinate `x`, if there is one (`x < p` and on
/// the curve).
pub fn lift_x(x: &[u8; 32]) -> Option<ProjectivePoint> {
    let mut enc = [0u8; 33];
    enc[0] = 0x02;
    enc.get_mut(1..)?.copy_from_slice(x);
    wallet_types::decode_point::<Secp256k1>(&enc).ok()
}

/// `int(h) mod n` of a 32-byte hash (BIP-340 challenge: reduced, not rejected).
fn reduce32(h: &[u8; 32]) -> k256::Scalar {
    use k256::elliptic_curve::ops::Reduce;
    <k256::Scalar as Reduce<k256::FieldBytes>>::reduce(&k256::FieldBytes::from(*h))
}

/// The BIP-340 challenge `int(hash_BIP0340/challenge(x(R) ‖ x(P) ‖ m)) mod n`.
#[allow(non_snake_case)]
fn challenge(R_x: &[u8; 32], P_x: &[u8; 32], msg: &[u8]) -> k256::Scalar {
    reduce32(&tagged_hash(b"BIP0340/challenge", &[R_x, P_x, msg]))
}

/// The FROST hooks of the BIP-340 mode (see the module docs).
pub(crate) struct Bip340;

impl Scheme<Secp256k1> for Bip340 {
    fn h1(parts: &[&[u8]]) -> k256::Scalar {
        hash_to_scalar_secp256k1(&[CONTEXT_STRING, b"rho"], parts)
    }
    fn h4(parts: &[&[u8]]) -> Vec<u8> {
        sha256(&[CONTEXT_STRING, b"msg"], parts).to_vec()
    }
    fn h5(parts: &[&[u8]]) -> Vec<u8> {
        sha256(&[CONTEXT_STRING, b"com"], parts).to_vec()
    }
    fn group_commitment(r: ProjectivePoint) -> Result<(ProjectivePoint, bool), Error> {
        // An identity R has no x-coordinate: refuse (only colluding commitments reach it).
        if bool::from(r.is_identity()) {
            return Err(ParamError::OutOfRange.into());
        }
        let (_, odd) = x_only(&r);
        Ok(if odd { (-r, true) } else { (r, false) })
    }
    #[allow(non_snake_case)]
    fn challenge(R: &ProjectivePoint, group_key: &ProjectivePoint, msg: &[u8]) -> k256::Scalar {
        challenge(&x_only(R).0, &x_only(group_key).0, msg)
    }
}

/// BIP-340 `Verify(pk, m, sig)`: whether `sig` (64 bytes `r ‖ s`) is a valid signature of `msg`
/// (any length, BIP-340 §"Messages of arbitrary size") under the x-only key `pk`.
pub fn verify(pk: &[u8; 32], msg: &[u8], sig: &[u8; 64]) -> bool {
    let Some(p) = lift_x(pk) else { return false };
    let (r, s) = sig.split_at(32);
    let mut r_x = [0u8; 32];
    r_x.copy_from_slice(r);
    let mut s_bytes = k256::FieldBytes::default();
    s_bytes.copy_from_slice(s);
    // s ≥ n fails; r ≥ p fails below (x(R) < p never equals it).
    let Some(s) = Option::<k256::Scalar>::from(k256::Scalar::from_repr(s_bytes)) else {
        return false;
    };
    let e = challenge(&r_x, pk, msg);
    let big_r = Secp256k1::mul_base_add_vartime(&s, &(-e), &p);
    if bool::from(big_r.is_identity()) {
        return false;
    }
    let (x, odd) = x_only(&big_r);
    !odd && x == r_x
}

/// The BIP-341 tweak of one spend.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TapTweak {
    /// No tweak: a plain BIP-340 signature under the x-only (derived) key itself (not a
    /// Taproot output; for BIP-340 uses outside Bitcoin outputs).
    Untweaked,
    /// BIP-341 key path without a script tree (BIP-86): `t = hash_TapTweak(x(P))`, the
    /// "unspendable script path" BIP-341 recommends when no script is needed.
    KeyPathOnly,
    /// BIP-341 key path of an output with a script tree: `t = hash_TapTweak(x(P) ‖ root)`.
    ScriptTree([u8; 32]),
}

impl TapTweak {
    /// The BIP-341 tweak for an optional merkle root (`None`: [`TapTweak::KeyPathOnly`]).
    pub fn from_merkle_root(root: Option<[u8; 32]>) -> Self {
        root.map_or(Self::KeyPathOnly, Self::ScriptTree)
    }
    /// The merkle root, if the output has a script tree.
    pub fn merkle_root(&self) -> Option<[u8; 32]> {
        match self {
            Self::ScriptTree(r) => Some(*r),
            _ => None,
        }
    }
}

/// What one Taproot signature is made under: a non-hardened BIP-32 path from the root key and
/// the BIP-341 tweak. Public; part of the signing package, so every signer checks it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaprootSpend {
    path: DerivationPath,
    tweak: TapTweak,
}

impl TaprootSpend {
    /// A spend along `path` with `tweak`.
    pub fn new(path: DerivationPath, tweak: TapTweak) -> Self {
        Self { path, tweak }
    }
    /// The BIP-86 key-path spend of the root key itself (no derivation, no script tree).
    pub fn root_key_path() -> Self {
        Self::new(DerivationPath::root(), TapTweak::KeyPathOnly)
    }
    /// The derivation path.
    pub fn path(&self) -> &DerivationPath {
        &self.path
    }
    /// The tweak.
    pub fn tweak(&self) -> &TapTweak {
        &self.tweak
    }

    /// Wire form: `path (u8 depth ‖ depth × u32 index) ‖ u8 mode` (0 untweaked, 1 key path
    /// only, 2 script tree) `‖ [merkle_root[32] if mode 2]`.
    pub fn encode(&self, w: &mut Writer) {
        self.path.encode(w);
        match &self.tweak {
            TapTweak::Untweaked => w.u8(0),
            TapTweak::KeyPathOnly => w.u8(1),
            TapTweak::ScriptTree(root) => {
                w.u8(2);
                w.bytes(root);
            }
        }
    }

    /// Reads the wire form (hardened indices and unknown modes are refused).
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let path = DerivationPath::decode(r)?;
        let tweak = match r.u8()? {
            0 => TapTweak::Untweaked,
            1 => TapTweak::KeyPathOnly,
            2 => TapTweak::ScriptTree(r.array()?),
            t => return Err(DecodeError::InvalidTag(t)),
        };
        Ok(Self { path, tweak })
    }
}

/// The public key of one spend, computed from the root public package, the chain code and a
/// [`TaprootSpend`] (see the module docs for the arithmetic): internal key, output key, the
/// even-y bookkeeping and the effective public package signature shares are verified against.
#[derive(Clone, PartialEq, Eq)]
pub struct TaprootKey {
    spend: TaprootSpend,
    /// The root package: the effective key is only for shares of this root (and epoch).
    root: PublicKeyPackage<Secp256k1>,
    /// `δ`: the BIP-32 tweak of the path.
    derivation_tweak: k256::Scalar,
    /// `P_d` had odd y (`g₁ = −1`).
    internal_negated: bool,
    /// `x(P)`.
    internal_key: [u8; 32],
    /// `t`.
    tap_tweak: k256::Scalar,
    /// `Q = P + t·G` had odd y (`g₂ = −1`): BIP-341's output key parity.
    output_negated: bool,
    /// `x(Q)`.
    output_key: [u8; 32],
    /// The child chain code (BIP-32 `c` after the path).
    chain_code: [u8; 32],
    /// The effective sharing's public package (group key `g₂·Q`, even y).
    effective: PublicKeyPackage<Secp256k1>,
}

impl fmt::Debug for TaprootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaprootKey")
            .field("spend", &self.spend)
            .field("internal_key", &Hex(&self.internal_key))
            .field("output_key", &Hex(&self.output_key))
            .field("output_parity", &self.output_negated)
            .finish_non_exhaustive()
    }
}

struct Hex<'a>(&'a [u8]);
impl fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl TaprootKey {
    /// The key of `spend` under the root key `root` with BIP-32 chain code `chain_code`.
    ///
    /// Errors ([`ParamError::OutOfRange`]): BIP-32's invalid-child case on the path, or
    /// BIP-341's `t ≥ n` / `Q = ∞` (each with probability below 2⁻¹²⁷; use another index or
    /// script tree).
    #[allow(non_snake_case)]
    pub fn new(
        root: &PublicKeyPackage<Secp256k1>,
        chain_code: &[u8; 32],
        spend: &TaprootSpend,
    ) -> Result<Self, Error> {
        // 1. BIP-32 CKDpub (shared with ECDSA).
        let d = derive_public(root.group_key().get(), chain_code, &spend.path)
            .map_err(|_| ParamError::OutOfRange)?;
        // 2. x-only internal key.
        let (internal_key, internal_negated) = x_only(&d.public_key);
        let P = if internal_negated {
            -d.public_key
        } else {
            d.public_key
        };
        // 3. BIP-341 taproot_tweak_pubkey.
        let tap_tweak = match &spend.tweak {
            TapTweak::Untweaked => k256::Scalar::ZERO,
            TapTweak::KeyPathOnly => tap_tweak_scalar(&internal_key, None)?,
            TapTweak::ScriptTree(root) => tap_tweak_scalar(&internal_key, Some(root))?,
        };
        let Q = P + Secp256k1::mul_base(&tap_tweak);
        if bool::from(Q.is_identity()) {
            return Err(ParamError::OutOfRange.into());
        }
        // 4. Even-y output key.
        let (output_key, output_negated) = x_only(&Q);
        // Φ'ₖ = g₁g₂·Φₖ: a negation (public condition), never a scalar multiplication.
        let flip = internal_negated ^ output_negated;
        let mut phi: Vec<ProjectivePoint> = root
            .commitment()
            .iter()
            .map(|p| if flip { -*p } else { *p })
            .collect();
        if let Some(phi0) = phi.first_mut() {
            *phi0 = if output_negated { -Q } else { Q };
        }
        let effective =
            PublicKeyPackage::new(root.parties().clone(), phi).map_err(|_| Error::Internal)?;
        Ok(Self {
            spend: spend.clone(),
            root: root.clone(),
            derivation_tweak: d.tweak,
            internal_negated,
            internal_key,
            tap_tweak,
            output_negated,
            output_key,
            chain_code: d.chain_code,
            effective,
        })
    }

    /// The spend this key is for.
    pub fn spend(&self) -> &TaprootSpend {
        &self.spend
    }
    /// The x-only internal key `x(P)` (BIP-341), the derived key itself for
    /// [`TapTweak::Untweaked`].
    pub fn internal_key(&self) -> [u8; 32] {
        self.internal_key
    }
    /// Whether the derived key `P_d` had odd y (its shares are negated).
    pub fn internal_key_was_odd(&self) -> bool {
        self.internal_negated
    }
    /// The x-only output key `x(Q)`: what signatures verify under, what the P2TR output
    /// (`OP_1 <x(Q)>`) commits to.
    pub fn output_key(&self) -> [u8; 32] {
        self.output_key
    }
    /// The output key's parity (BIP-341 control blocks need it): `true` when `Q` has odd y
    /// (the effective shares are negated once more).
    pub fn output_key_parity(&self) -> bool {
        self.output_negated
    }
    /// The merkle root of the output's script tree, if any.
    pub fn merkle_root(&self) -> Option<[u8; 32]> {
        self.spend.tweak.merkle_root()
    }
    /// The BIP-341 tweak `t` (zero when untweaked).
    pub fn tap_tweak(&self) -> k256::Scalar {
        self.tap_tweak
    }
    /// The child chain code after the path.
    pub fn chain_code(&self) -> &[u8; 32] {
        &self.chain_code
    }
    /// The P2TR `scriptPubKey`: `OP_1 OP_PUSHBYTES_32 x(Q)` (BIP-341, segwit v1).
    pub fn script_pubkey(&self) -> [u8; 34] {
        let mut out = [0u8; 34];
        out[0] = 0x51;
        out[1] = 0x20;
        if let Some(tail) = out.get_mut(2..) {
            tail.copy_from_slice(&self.output_key);
        }
        out
    }
    /// The effective public package (group key: the even-y output key): what signature
    /// shares of this spend are verified against.
    pub fn public(&self) -> &PublicKeyPackage<Secp256k1> {
        &self.effective
    }

    /// The effective key package of `root` (a share of this key's root sharing):
    /// `s' = g₂·(g₁·(s + δ) + t)`. Refused ([`ParamError::Mismatch`]) for a share of another
    /// key or epoch.
    pub fn key_package(
        &self,
        root: &KeyPackage<Secp256k1>,
    ) -> Result<KeyPackage<Secp256k1>, Error> {
        if *root.public() != self.root {
            return Err(ParamError::Mismatch.into());
        }
        let mut s = *root.secret_share().expose() + self.derivation_tweak;
        // The negations' conditions are public (parities of public keys); selects keep the
        // share out of any branch.
        s = k256::Scalar::conditional_select(
            &s,
            &-s,
            Choice::from(u8::from(self.internal_negated)),
        );
        s += self.tap_tweak;
        s = k256::Scalar::conditional_select(&s, &-s, Choice::from(u8::from(self.output_negated)));
        let secret = SecretScalar::new(s);
        zeroize::Zeroize::zeroize(&mut s);
        // SAFETY-style note: `secret·G` equals the effective share commitment by construction
        // (the same affine map applied to a checked share and to its Feldman commitment).
        Ok(KeyPackage::from_parts_unchecked(
            root.id(),
            secret,
            self.effective.clone(),
        ))
    }
}

/// BIP-341 `taproot_tweak_pubkey`'s `t = int(hash_TapTweak(x(P) ‖ root))` (`root` omitted for
/// no script tree); `t ≥ n` fails.
fn tap_tweak_scalar(p_x: &[u8; 32], root: Option<&[u8; 32]>) -> Result<k256::Scalar, Error> {
    let h = match root {
        Some(r) => tagged_hash(b"TapTweak", &[p_x, r]),
        None => tagged_hash(b"TapTweak", &[p_x]),
    };
    Option::from(k256::Scalar::from_repr(k256::FieldBytes::from(h)))
        .ok_or(ParamError::OutOfRange.into())
}

/// A chain code every holder of the root key computes alike (see the module docs for what it
/// does not protect): `T("wallet-tss/frost-taproot-chain-code", 1, secp256k1, 0³²)
/// + a("group-key", P₀)`, `.out("chain-code")`.
pub fn default_chain_code(root: &PublicKeyPackage<Secp256k1>) -> [u8; 32] {
    let mut t = Transcript::new(
        "wallet-tss/frost-taproot-chain-code",
        1,
        Some(Secp256k1::ID),
        &SessionId([0; 32]),
    );
    t.append_point::<Secp256k1>("group-key", root.group_key().get());
    t.output32("chain-code")
}

/// A 64-byte BIP-340 signature `x(R) ‖ s`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Bip340Signature([u8; 64]);

impl fmt::Debug for Bip340Signature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Bip340Signature({:?})", Hex(&self.0))
    }
}

impl Bip340Signature {
    /// The 64 bytes.
    pub fn to_bytes(&self) -> [u8; 64] {
        self.0
    }
    /// Wraps 64 bytes (not checked: [`verify`] checks).
    pub fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }
    /// BIP-340 verification under the x-only key `pk`.
    pub fn verify(&self, pk: &[u8; 32], msg: &[u8]) -> bool {
        verify(pk, msg, &self.0)
    }
}

/// What the coordinator sends to the signers of a Taproot signature: the spend (path and
/// tweak) and an ordinary [`SigningPackage`] (commitments and message; for a Bitcoin input
/// the message is its 32-byte BIP-341 sighash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaprootSigningPackage {
    spend: TaprootSpend,
    package: SigningPackage<Secp256k1>,
}

impl TaprootSigningPackage {
    /// A package for `spend`, the signers' `commitments` and `message`.
    pub fn new(
        spend: TaprootSpend,
        commitments: BTreeMap<PartyId, SigningCommitments<Secp256k1>>,
        message: Vec<u8>,
    ) -> Result<Self, ParamError> {
        Ok(Self {
            spend,
            package: SigningPackage::new(commitments, message)?,
        })
    }
    /// The spend.
    pub fn spend(&self) -> &TaprootSpend {
        &self.spend
    }
    /// The FROST signing package.
    pub fn package(&self) -> &SigningPackage<Secp256k1> {
        &self.package
    }
    /// The message.
    pub fn message(&self) -> &[u8] {
        self.package.message()
    }
}

/// Body: `TaprootSpend ‖ SigningPackage body` (see `SPEC.md`).
impl WireObject for TaprootSigningPackage {
    const KIND: ObjectKind = KIND_TAPROOT_SIGNING_PACKAGE;
    const MAX_LEN: usize =
        1 + 4 * crate::ecdsa::derive::MAX_DEPTH + 1 + 32 + SigningPackage::<Secp256k1>::MAX_LEN;
    const CURVE: Option<wallet_types::CurveId> = Some(Secp256k1::ID);

    fn encode_body(&self, w: &mut Writer) {
        self.spend.encode(w);
        self.package.encode_body(w);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let spend = TaprootSpend::decode(r)?;
        let package = SigningPackage::decode_body(r)?;
        Ok(Self { spend, package })
    }
}

/// A signer's share of the Taproot signature of `package`, **consuming** the nonce pair
/// (`nonces` were made for `key`, the root share). Computes the spend's key from `key`'s
/// public package and `chain_code`, then signs with the effective share (see the module
/// docs). Errors as [`crate::frost::round2::sign`], plus [`ParamError::OutOfRange`] for a spend
/// without a valid key.
pub fn sign(
    package: &TaprootSigningPackage,
    nonces: SigningNonces<Secp256k1>,
    key: &KeyPackage<Secp256k1>,
    chain_code: &[u8; 32],
) -> Result<SignatureShare<Secp256k1>, Error> {
    let tk = TaprootKey::new(key.public(), chain_code, &package.spend)?;
    sign_with_key(package, nonces, key, &tk)
}

/// [`sign`] with the spend's key computed before (by this signer, from its own root package
/// and chain code: [`TaprootKey::new`]) — a signer that signs often for one address keeps it
/// instead of deriving it again (one base multiplication per path level and one for the tweak).
/// Refused ([`ParamError::Mismatch`]) when `tk` is not the key of the package's spend under
/// `key`'s root package.
pub fn sign_with_key(
    package: &TaprootSigningPackage,
    nonces: SigningNonces<Secp256k1>,
    key: &KeyPackage<Secp256k1>,
    tk: &TaprootKey,
) -> Result<SignatureShare<Secp256k1>, Error> {
    if package.spend != tk.spend {
        return Err(ParamError::Mismatch.into());
    }
    let effective = tk.key_package(key)?;
    sign_in::<Secp256k1, Bip340>(&package.package, nonces, &effective)
}

/// [`sign`] with the nonce pair persisted in `store` under the root share's scope
/// ([`SigningNonces::seal_into`] with `key`): the package and the spend are checked first (a
/// refused package leaves the nonces in the store), then the pair is **taken** — atomically,
/// its id recorded as used — and only then is the share computed. Errors as
/// [`crate::frost::round2::sign_with_store`].
pub fn sign_with_store<S: OneTimeStore + ?Sized>(
    package: &TaprootSigningPackage,
    store: &S,
    key: &KeyPackage<Secp256k1>,
    chain_code: &[u8; 32],
) -> Result<SignatureShare<Secp256k1>, Error> {
    let tk = TaprootKey::new(key.public(), chain_code, &package.spend)?;
    sign_with_store_and_key(package, store, key, &tk)
}

/// [`sign_with_store`] with the spend's key computed before (see [`sign_with_key`]).
pub fn sign_with_store_and_key<S: OneTimeStore + ?Sized>(
    package: &TaprootSigningPackage,
    store: &S,
    key: &KeyPackage<Secp256k1>,
    tk: &TaprootKey,
) -> Result<SignatureShare<Secp256k1>, Error> {
    let commitments = package
        .package
        .commitments()
        .get(&key.id())
        .ok_or(ParamError::NotAMember(key.id()))?;
    check_signers(key.public(), &package.package)?;
    if package.spend != tk.spend {
        return Err(ParamError::Mismatch.into());
    }
    let effective = tk.key_package(key)?;
    let nonces = SigningNonces::take_from(store, key, &commitments.id())?;
    sign_in::<Secp256k1, Bip340>(&package.package, nonces, &effective)
}

/// Verifies one signer's share of a Taproot signature (BIP-340 mode of RFC 9591 §5.4).
pub fn verify_signature_share(
    key: &TaprootKey,
    package: &TaprootSigningPackage,
    signer: PartyId,
    share: &SignatureShare<Secp256k1>,
) -> Result<bool, Error> {
    if package.spend != key.spend {
        return Err(ParamError::Mismatch.into());
    }
    verify_signature_share_in::<Secp256k1, Bip340>(&key.effective, &package.package, signer, share)
}

/// The coordinator's aggregation: verifies every share (naming the signers of invalid ones,
/// [`wallet_types::Reason::InvalidSignatureShare`]), adds them up and returns the BIP-340
/// signature, verified under [`TaprootKey::output_key`]. `key` must be the key of the
/// package's spend ([`ParamError::Mismatch`] otherwise).
pub fn aggregate(
    package: &TaprootSigningPackage,
    shares: &BTreeMap<PartyId, SignatureShare<Secp256k1>>,
    key: &TaprootKey,
) -> Result<Bip340Signature, Error> {
    if package.spend != key.spend {
        return Err(ParamError::Mismatch.into());
    }
    let sig = aggregate_in::<Secp256k1, Bip340>(&package.package, shares, &key.effective)?;
    let mut out = [0u8; 64];
    let (r, z) = out.split_at_mut(32);
    r.copy_from_slice(&x_only(&sig.R).0);
    z.copy_from_slice(&sig.z.to_repr());
    Ok(Bip340Signature(out))
}

/// The group commitment `R = Σ Dᵢ + ρᵢ·Eᵢ` of `package` under `key` **before** the even-y
/// rule (its parity tells whether the signers negate their nonces). For diagnostics and tests.
pub fn group_commitment(
    key: &TaprootKey,
    package: &TaprootSigningPackage,
) -> Result<ProjectivePoint, Error> {
    let ctx = super::round2::SigningContext::new::<Bip340>(
        key.effective.group_key().get(),
        &package.package,
    )?;
    Ok(if ctx.negate { -ctx.R } else { ctx.R })
}

/// **Hazmat — known-answer tests only.** The binding factors `ρᵢ` of `package` under `key` in
/// this mode (`H1` with [`CONTEXT_STRING`] over the effective, even-y group key; RFC 9591 §4.4),
/// in increasing signer order: what `frost-secp256k1-tr`'s published vectors give as
/// `binding_factor`. Public values, but only needed to compare intermediate values with
/// another implementation; signing and aggregation compute them internally.
#[cfg(feature = "hazmat")]
pub fn binding_factors(
    key: &TaprootKey,
    package: &TaprootSigningPackage,
) -> Result<Vec<k256::Scalar>, Error> {
    if package.spend != key.spend {
        return Err(ParamError::Mismatch.into());
    }
    let ctx = super::round2::SigningContext::new::<Bip340>(
        key.effective.group_key().get(),
        &package.package,
    )?;
    Ok(ctx.binding_factors)
}
