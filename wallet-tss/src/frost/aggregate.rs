//! The coordinator's last step: verify every signature share, name the culprits of invalid
//! ones (identifiable abort), add the shares up and check the result (RFC 9591 §5.3, §5.4).
//!
//! Share verification is batched: with weights `rᵢ` derived from a hash of everything the
//! coordinator received (so no signer can choose its share as a function of them), one
//! multi-scalar multiplication checks
//!
//! ```text
//! (Σ rᵢ·zᵢ + r₀·z)·G − Σ rᵢ·Dᵢ − Σ rᵢρᵢ·Eᵢ − Σ rᵢ·c·λᵢ·Yᵢ − r₀·R − r₀·c·Y = 0
//! ```
//!
//! i.e. every share equation `zᵢ·G = Dᵢ + ρᵢ·Eᵢ + c·λᵢ·Yᵢ` **and** the final signature equation
//! `z·G = R + c·Y` at once (a false equation survives with probability ≤ 2⁻¹²⁸). Only when the
//! batch fails are the shares checked one by one, to find the culprits.
//!
//! The BIP-340 mode ([`crate::frost::taproot`]) runs the same code with its hooks: when it
//! negated `R` (odd y), the `Dᵢ` and `ρᵢ·Eᵢ` terms carry a factor `−1`.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use ff::PrimeField;
use group::{Group, GroupEncoding};

use wallet_types::{
    Error, ParamError, PartyId, Reason, SessionId, Transcript, decode_point, decode_scalar,
};

use super::ciphersuite::Ciphersuite;
use super::keys::PublicKeyPackage;
use super::round2::{
    Rfc9591, Scheme, SignatureShare, SigningContext, SigningPackage, check_signers,
    compute_challenge,
};
use wallet_sss::lagrange::lagrange_coefficients_at_zero;

/// A Schnorr signature `(R, z)` (RFC 9591 §5.3); for FROST(Ed25519, SHA-512) an RFC 8032
/// Ed25519 signature.
#[allow(non_snake_case)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature<C: Ciphersuite> {
    /// The commitment `R`.
    pub R: C::Point,
    /// The response `z`.
    pub z: C::Scalar,
}

impl<C: Ciphersuite> Signature<C> {
    /// `SerializeElement(R) || SerializeScalar(z)` (64 bytes for Ed25519).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(C::SIGNATURE_LEN);
        v.extend_from_slice(self.R.to_bytes().as_ref());
        v.extend_from_slice(self.z.to_repr().as_ref());
        v
    }

    /// Parses `R || z` (canonical encodings, `R` in the prime-order group and not the identity).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, wallet_types::DecodeError> {
        if bytes.len() != C::SIGNATURE_LEN {
            return Err(wallet_types::DecodeError::InvalidLength {
                expected: C::SIGNATURE_LEN,
                found: bytes.len(),
            });
        }
        let (r, z) = bytes.split_at(C::POINT_LEN);
        Ok(Self {
            R: decode_point::<C>(r)?,
            z: decode_scalar::<C>(z)?,
        })
    }

    /// RFC 9591 §6 `verify_signature` (prime-order group: `z·G == R + c·Y`).
    pub fn verify(&self, group_key: &C::Point, msg: &[u8]) -> bool {
        let c = compute_challenge::<C>(&self.R, group_key, msg);
        C::mul_base_add_vartime(&self.z, &(-c), group_key) == self.R
    }
}

impl Signature<wallet_types::Ed25519> {
    /// The signature as `ed25519_dalek`'s type (it verifies with
    /// `ed25519_dalek::VerifyingKey::verify_strict`).
    pub fn to_dalek(&self) -> ed25519_dalek::Signature {
        ed25519_dalek::Signature::from_bytes(&self.to_array())
    }

    /// The 64-byte RFC 8032 encoding.
    pub fn to_array(&self) -> [u8; 64] {
        let mut out = [0u8; 64];
        let (r, z) = out.split_at_mut(32);
        r.copy_from_slice(&self.R.to_bytes());
        z.copy_from_slice(self.z.as_bytes());
        out
    }
}

/// RFC 9591 §5.4 `verify_signature_share` for one signer:
/// `zᵢ·G == Dᵢ + ρᵢ·Eᵢ + c·λᵢ·Yᵢ`.
pub fn verify_signature_share<C: Ciphersuite>(
    public: &PublicKeyPackage<C>,
    package: &SigningPackage<C>,
    signer: PartyId,
    share: &SignatureShare<C>,
) -> Result<bool, Error> {
    verify_signature_share_in::<C, Rfc9591>(public, package, signer, share)
}

/// [`verify_signature_share`] under scheme `S`.
pub(crate) fn verify_signature_share_in<C: Ciphersuite, S: Scheme<C>>(
    public: &PublicKeyPackage<C>,
    package: &SigningPackage<C>,
    signer: PartyId,
    share: &SignatureShare<C>,
) -> Result<bool, Error> {
    check_signers(public, package)?;
    let ctx = SigningContext::new::<S>(public.group_key().get(), package)?;
    let lambdas = lagrange_coefficients_at_zero::<C>(&ctx.ids).map_err(|_| Error::Internal)?;
    let i = ctx
        .ids
        .iter()
        .position(|p| *p == signer)
        .ok_or(ParamError::NotAMember(signer))?;
    share_is_valid(public, package, &ctx, &lambdas, i, signer, share)
}

fn share_is_valid<C: Ciphersuite>(
    public: &PublicKeyPackage<C>,
    package: &SigningPackage<C>,
    ctx: &SigningContext<C>,
    lambdas: &[C::Scalar],
    i: usize,
    id: PartyId,
    share: &SignatureShare<C>,
) -> Result<bool, Error> {
    let com = package.commitments().get(&id).ok_or(Error::Internal)?;
    let rho = ctx.binding_factors.get(i).ok_or(Error::Internal)?;
    let lambda = lambdas.get(i).ok_or(Error::Internal)?;
    let y = public
        .share_commitment(id)
        .ok_or(ParamError::NotAMember(id))?;
    // zᵢ·G − c·λᵢ·Yᵢ − ±ρᵢ·Eᵢ == ±Dᵢ (the sign is the scheme's nonce factor: BIP-340
    // negates every nonce contribution when R has odd y).
    let f = ctx.nonce_factor();
    let lhs = C::msm(
        &[share.0, -(ctx.challenge * lambda), -(f * rho)],
        &[C::Point::generator(), *y, *com.binding()],
    );
    let d = if ctx.negate {
        -*com.hiding()
    } else {
        *com.hiding()
    };
    Ok(lhs == d)
}

/// RFC 9591 §5.3 `aggregate` with every share verified.
///
/// `shares` must hold exactly one share per signer of `package` (keys are the signers'
/// identifiers as authenticated by the transport). On an invalid share the error is
/// [`Reason::InvalidSignatureShare`] naming every signer whose share is invalid. The returned
/// signature has been verified against the group key.
#[allow(non_snake_case)]
pub fn aggregate<C: Ciphersuite>(
    package: &SigningPackage<C>,
    shares: &BTreeMap<PartyId, SignatureShare<C>>,
    public: &PublicKeyPackage<C>,
) -> Result<Signature<C>, Error> {
    aggregate_in::<C, Rfc9591>(package, shares, public)
}

/// [`aggregate`] under scheme `S`: the returned `R` is the group commitment the scheme used
/// (even-y for BIP-340).
#[allow(non_snake_case)]
pub(crate) fn aggregate_in<C: Ciphersuite, S: Scheme<C>>(
    package: &SigningPackage<C>,
    shares: &BTreeMap<PartyId, SignatureShare<C>>,
    public: &PublicKeyPackage<C>,
) -> Result<Signature<C>, Error> {
    check_signers(public, package)?;
    if shares.len() != package.commitments().len()
        || !shares.keys().eq(package.commitments().keys())
    {
        return Err(ParamError::Mismatch.into());
    }
    let Y = *public.group_key().get();
    let ctx = SigningContext::new::<S>(&Y, package)?;
    let f = ctx.nonce_factor();
    let lambdas = lagrange_coefficients_at_zero::<C>(&ctx.ids).map_err(|_| Error::Internal)?;
    let z: C::Scalar = shares.values().map(|s| s.0).sum();
    let sig = Signature { R: ctx.R, z };

    // Batch weights from a hash of all inputs (our own protocol hash: through the transcript).
    let mut t = Transcript::new(
        "wallet-tss/frost-aggregate",
        1,
        Some(C::ID),
        &SessionId([0; 32]),
    );
    t.append("group-key", &ctx.group_key_bytes);
    t.append("commitments", &ctx.commitment_list);
    t.append("message", package.message());
    for (id, s) in shares {
        t.append_party("signer", *id);
        t.append_scalar::<C>("share", &s.0);
    }
    let weight = |label: u64| -> C::Scalar {
        let mut t = t.clone();
        t.append_u64("index", label);
        let out = t.output32("weight");
        let mut w = [0u8; 16];
        w.copy_from_slice(out.get(..16).unwrap_or(&[0u8; 16]));
        C::Scalar::from_u128(u128::from_le_bytes(w))
    };

    let k = ctx.ids.len();
    let mut scalars = Vec::with_capacity(3 * k + 3);
    let mut points = Vec::with_capacity(3 * k + 3);
    let r0 = weight(0);
    let mut g_coeff = r0 * z;
    let y_coeff = r0 * ctx.challenge;
    for (i, (id, com)) in package.commitments().iter().enumerate() {
        let r = weight(i as u64 + 1);
        let share = shares.get(id).ok_or(Error::Internal)?;
        let rho = ctx.binding_factors.get(i).ok_or(Error::Internal)?;
        let lambda = lambdas.get(i).ok_or(Error::Internal)?;
        let yi = public
            .share_commitment(*id)
            .ok_or(ParamError::NotAMember(*id))?;
        g_coeff += r * share.0;
        scalars.push(-(r * f));
        points.push(*com.hiding());
        scalars.push(-(r * f * rho));
        points.push(*com.binding());
        scalars.push(-(r * ctx.challenge * lambda));
        points.push(*yi);
    }
    scalars.push(-r0);
    points.push(ctx.R);
    scalars.push(-y_coeff);
    points.push(Y);
    scalars.push(g_coeff);
    points.push(C::Point::generator());
    if C::msm_is_identity(&scalars, &points) {
        return Ok(sig);
    }
    // Culprit search: check each share on its own.
    let mut culprits = Vec::new();
    for (i, (id, share)) in shares.iter().enumerate() {
        if !share_is_valid(public, package, &ctx, &lambdas, i, *id, share)? {
            culprits.push(*id);
        }
    }
    if culprits.is_empty() {
        // Every share verified but the sum does not: the public package is inconsistent.
        return Err(Error::Internal);
    }
    Err(Error::blame_all(culprits, Reason::InvalidSignatureShare))
}
