//! Round two, the **online** phase: the signing package and one signature share per signer
//! (RFC 9591 §4.4–4.6 and §5.2 `sign`).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use ff::Field;
use group::GroupEncoding;
use subtle::{Choice, ConditionallySelectable};
use wallet_types::{
    DecodeError, Error, HEADER_LEN, MAX_PARTIES, ObjectKind, ParamError, PartyId, Reader,
    WireObject, Writer,
};

use super::ciphersuite::{Ciphersuite, identifier_bytes};
use super::keys::{KeyPackage, PublicKeyPackage};
use super::round1::{SigningCommitments, SigningNonces};
use super::{KIND_SIGNATURE_SHARE, KIND_SIGNING_PACKAGE};
use wallet_sss::lagrange::lagrange_at_zero;
use wallet_types::store::OneTimeStore;

/// Largest message accepted in a signing package (1 MiB).
pub const MAX_MESSAGE_LEN: usize = 1 << 20;

/// What the coordinator sends to the chosen signers: the message and, for each signer (sorted
/// by identifier, no duplicates), the nonce commitments it will use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningPackage<C: Ciphersuite> {
    commitments: BTreeMap<PartyId, SigningCommitments<C>>,
    message: Vec<u8>,
}

impl<C: Ciphersuite> SigningPackage<C> {
    /// A package for the signers in `commitments` (at least one) and `message` (at most
    /// [`MAX_MESSAGE_LEN`] bytes).
    pub fn new(
        commitments: BTreeMap<PartyId, SigningCommitments<C>>,
        message: Vec<u8>,
    ) -> Result<Self, ParamError> {
        if commitments.is_empty() {
            return Err(ParamError::EmptyPartySet);
        }
        if commitments.len() > MAX_PARTIES || message.len() > MAX_MESSAGE_LEN {
            return Err(ParamError::OutOfRange);
        }
        Ok(Self {
            commitments,
            message,
        })
    }

    /// The signers' commitments, by identifier.
    pub fn commitments(&self) -> &BTreeMap<PartyId, SigningCommitments<C>> {
        &self.commitments
    }
    /// The signers, increasing.
    pub fn signers(&self) -> Vec<PartyId> {
        self.commitments.keys().copied().collect()
    }
    /// The message to sign.
    pub fn message(&self) -> &[u8] {
        &self.message
    }

    /// RFC 9591 §4.3 `encode_group_commitment_list`:
    /// `Σ SerializeScalar(id) || SerializeElement(D) || SerializeElement(E)` in id order.
    pub fn encode_group_commitment_list(&self) -> Vec<u8> {
        let mut out =
            Vec::with_capacity(self.commitments.len() * (C::SCALAR_LEN + 2 * C::POINT_LEN));
        for (id, c) in &self.commitments {
            out.extend_from_slice(identifier_bytes::<C>(*id).as_ref());
            out.extend_from_slice(c.hiding_bytes());
            out.extend_from_slice(c.binding_bytes());
        }
        out
    }
}

/// Body: `u32 len || message || u16 k || k × (u16 id || SerializeElement(D) || SerializeElement(E))`
/// with ids strictly increasing, `1 ≤ k`, points non-identity.
impl<C: Ciphersuite> WireObject for SigningPackage<C> {
    const KIND: ObjectKind = KIND_SIGNING_PACKAGE;
    const MAX_LEN: usize = HEADER_LEN + 4 + MAX_MESSAGE_LEN + 2 + MAX_PARTIES * (2 + 66);
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.var_bytes(&self.message);
        w.u16(self.commitments.len() as u16);
        for (id, c) in &self.commitments {
            w.party(*id);
            w.bytes(c.hiding_bytes());
            w.bytes(c.binding_bytes());
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let message = r.var_bytes(MAX_MESSAGE_LEN)?.to_vec();
        let k = r.count16(MAX_PARTIES, 2 + 2 * C::POINT_LEN)?;
        if k == 0 {
            return Err(DecodeError::InvalidValue);
        }
        let mut commitments = BTreeMap::new();
        let mut last: Option<PartyId> = None;
        for _ in 0..k {
            let id = r.party()?;
            if last.is_some_and(|l| l >= id) {
                return Err(DecodeError::NotSorted);
            }
            last = Some(id);
            commitments.insert(id, SigningCommitments::decode_points(r)?);
        }
        Ok(Self {
            commitments,
            message,
        })
    }
}

/// One signer's answer: `zᵢ` (RFC 9591 §5.2). The signer's identity comes from the
/// authenticated channel, not from the share.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureShare<C: Ciphersuite>(pub C::Scalar);

/// Body: `SerializeScalar(zᵢ)`.
impl<C: Ciphersuite> WireObject for SignatureShare<C> {
    const KIND: ObjectKind = KIND_SIGNATURE_SHARE;
    const MAX_LEN: usize = HEADER_LEN + 32;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);
    fn encode_body(&self, w: &mut Writer) {
        w.scalar::<C>(&self.0);
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(r.scalar::<C>()?))
    }
}

/// The signing scheme: what differs between RFC 9591 FROST and its BIP-340 mode
/// ([`crate::frost::taproot`]), so that both run through one code path (the signer's share,
/// the coordinator's share verification, culprit search and aggregation).
///
/// RFC 9591 ([`Rfc9591`]) is the identity on every hook. BIP-340 hashes the binding factors
/// with its own context string, makes the group commitment even-y (negating every nonce
/// contribution when `R` has odd y) and uses the BIP-340 tagged-hash challenge over
/// x-coordinates.
pub(crate) trait Scheme<C: Ciphersuite> {
    /// `H1`: binding factors.
    fn h1(parts: &[&[u8]]) -> C::Scalar;
    /// `H4`: message hash inside binding factors.
    fn h4(parts: &[&[u8]]) -> Vec<u8>;
    /// `H5`: commitment-list hash inside binding factors.
    fn h5(parts: &[&[u8]]) -> Vec<u8>;
    /// The group commitment actually used from `R = Σ Dᵢ + ρᵢ·Eᵢ`: `(R', negate)` with
    /// `R' = −R` and `negate` true when the scheme flips it (the nonces are then negated).
    fn group_commitment(r: C::Point) -> Result<(C::Point, bool), Error>;
    /// The challenge `c` from the used commitment `R'`, the group key and the message.
    #[allow(non_snake_case)]
    fn challenge(R: &C::Point, group_key: &C::Point, msg: &[u8]) -> C::Scalar;
}

/// RFC 9591 as written: the ciphersuite's `H1`, `H4`, `H5`, `H2`; `R` as computed.
pub(crate) struct Rfc9591;

impl<C: Ciphersuite> Scheme<C> for Rfc9591 {
    fn h1(parts: &[&[u8]]) -> C::Scalar {
        C::h1(parts)
    }
    fn h4(parts: &[&[u8]]) -> Vec<u8> {
        C::h4(parts)
    }
    fn h5(parts: &[&[u8]]) -> Vec<u8> {
        C::h5(parts)
    }
    fn group_commitment(r: C::Point) -> Result<(C::Point, bool), Error> {
        Ok((r, false))
    }
    #[allow(non_snake_case)]
    fn challenge(R: &C::Point, group_key: &C::Point, msg: &[u8]) -> C::Scalar {
        C::h2(&[R.to_bytes().as_ref(), group_key.to_bytes().as_ref(), msg])
    }
}

/// Everything signers and the coordinator derive from a package and the group key: binding
/// factors (RFC 9591 §4.4), the group commitment `R` (§4.5) and the challenge `c` (§4.6),
/// computed once.
#[allow(non_snake_case)]
pub(crate) struct SigningContext<C: Ciphersuite> {
    /// Signers in increasing order.
    pub ids: Vec<PartyId>,
    /// `ρᵢ` in the order of `ids`.
    pub binding_factors: Vec<C::Scalar>,
    /// The group commitment used: `R = Σ Dᵢ + ρᵢ·Eᵢ`, negated when `negate` (BIP-340 even y).
    pub R: C::Point,
    /// Whether the scheme negated `R` (every signer then negates its nonces `dᵢ + eᵢρᵢ`).
    pub negate: bool,
    /// `c = H2(R || Y || msg)` (RFC 9591) or the scheme's challenge.
    pub challenge: C::Scalar,
    /// `SerializeElement(Y)`.
    pub group_key_bytes: Vec<u8>,
    /// RFC 9591 `encode_group_commitment_list` of the package.
    pub commitment_list: Vec<u8>,
}

impl<C: Ciphersuite> SigningContext<C> {
    #[allow(non_snake_case)]
    pub(crate) fn new<S: Scheme<C>>(
        group_key: &C::Point,
        package: &SigningPackage<C>,
    ) -> Result<Self, Error> {
        let ids = package.signers();
        let group_key_bytes = group_key.to_bytes().as_ref().to_vec();
        let commitment_list = package.encode_group_commitment_list();
        let binding_factors =
            binding_factors_for::<C, S>(&group_key_bytes, &commitment_list, package);
        // §4.5: R = Σ Dᵢ + Σ ρᵢ·Eᵢ — the Dᵢ are added, the ρᵢ·Eᵢ in one multi-scalar
        // multiplication (public data, variable time).
        let D: C::Point = package.commitments.values().map(|c| *c.hiding()).sum();
        let E: Vec<C::Point> = package.commitments.values().map(|c| *c.binding()).collect();
        let (R, negate) = S::group_commitment(D + C::msm(&binding_factors, &E))?;
        let challenge = S::challenge(&R, group_key, package.message());
        Ok(Self {
            ids,
            binding_factors,
            R,
            negate,
            challenge,
            group_key_bytes,
            commitment_list,
        })
    }

    /// `+1` or `−1`: the factor on every nonce contribution (`−1` when `R` was negated).
    pub(crate) fn nonce_factor(&self) -> C::Scalar {
        if self.negate {
            -C::Scalar::ONE
        } else {
            C::Scalar::ONE
        }
    }
}

/// RFC 9591 §4.4 `compute_binding_factors`: `ρᵢ = H1(Y || H4(msg) || H5(commitment list) || id)`,
/// in identifier order.
pub fn compute_binding_factors<C: Ciphersuite>(
    group_key: &C::Point,
    package: &SigningPackage<C>,
) -> Vec<C::Scalar> {
    let y = group_key.to_bytes();
    binding_factors_for::<C, Rfc9591>(y.as_ref(), &package.encode_group_commitment_list(), package)
}

fn binding_factors_for<C: Ciphersuite, S: Scheme<C>>(
    y: &[u8],
    commitment_list: &[u8],
    package: &SigningPackage<C>,
) -> Vec<C::Scalar> {
    let msg_hash = S::h4(&[package.message()]);
    let com_hash = S::h5(&[commitment_list]);
    package
        .commitments
        .keys()
        .map(|id| S::h1(&[y, &msg_hash, &com_hash, identifier_bytes::<C>(*id).as_ref()]))
        .collect()
}

/// RFC 9591 §4.6 `compute_challenge`: `H2(SerializeElement(R) || SerializeElement(Y) || msg)`.
#[allow(non_snake_case)]
pub fn compute_challenge<C: Ciphersuite>(
    R: &C::Point,
    group_key: &C::Point,
    msg: &[u8],
) -> C::Scalar {
    <Rfc9591 as Scheme<C>>::challenge(R, group_key, msg)
}

/// RFC 9591 §5.2 `sign`: the signer's share `zᵢ = dᵢ + eᵢ·ρᵢ + λᵢ·sᵢ·c`, **consuming** the
/// nonce pair.
///
/// Checks first (and then refuses to sign, dropping the nonces): the package's commitments for
/// this signer are exactly `nonces`' commitments, every signer belongs to the key, and there are
/// at least `t` signers. Nonces persisted in a one-time store are signed with through
/// [`sign_with_store`], which takes them out of the store first (see [`crate::frost::round1`]).
pub fn sign<C: Ciphersuite>(
    package: &SigningPackage<C>,
    nonces: SigningNonces<C>,
    key: &KeyPackage<C>,
) -> Result<SignatureShare<C>, Error> {
    sign_in::<C, Rfc9591>(package, nonces, key)
}

/// [`sign`] under scheme `S`: `zᵢ = ±(dᵢ + eᵢ·ρᵢ) + λᵢ·sᵢ·c` (the sign is `−` when `S`
/// negated the group commitment).
pub(crate) fn sign_in<C: Ciphersuite, S: Scheme<C>>(
    package: &SigningPackage<C>,
    nonces: SigningNonces<C>,
    key: &KeyPackage<C>,
) -> Result<SignatureShare<C>, Error> {
    let (d, e, commitments) = nonces.into_parts();
    let me = key.id();
    let public = key.public();
    if package.commitments.get(&me) != Some(&commitments) {
        return Err(ParamError::Mismatch.into());
    }
    check_signers(public, package)?;
    let ctx = SigningContext::new::<S>(public.group_key().get(), package)?;
    let idx = ctx
        .ids
        .iter()
        .position(|p| *p == me)
        .ok_or(Error::Internal)?;
    let rho = ctx.binding_factors.get(idx).ok_or(Error::Internal)?;
    let lambda = lagrange_at_zero::<C>(&ctx.ids, me).map_err(|_| Error::Internal)?;
    // The negation's condition is public (the parity of R); the select keeps the secret
    // nonce sum out of any branch anyway.
    let k = *d.expose() + *e.expose() * rho;
    let k = C::Scalar::conditional_select(&k, &-k, Choice::from(u8::from(ctx.negate)));
    let z = k + lambda * key.secret_share().expose() * ctx.challenge;
    Ok(SignatureShare(z))
}

/// RFC 9591 §5.2 `sign` with the nonce pair persisted in `store` ([`SigningNonces::seal_into`]):
/// the pair named by this signer's commitments in `package` is **taken** out of the store —
/// atomically and durably, its id recorded as used — before the share is computed, so the same
/// pair never signs twice, across crashes, restores and parallel workers (see
/// [`crate::frost::round1`]).
///
/// The package is checked first (this signer is in it, every signer belongs to the key, at
/// least `t` signers): a package refused there leaves the nonces in the store. Errors beyond
/// [`sign`]'s: [`Error::Store`] — [`wallet_types::StoreError::AlreadyUsed`] for a pair taken
/// before, [`wallet_types::StoreError::Retired`] after a refresh or reshare retired the key
/// share's scope, [`wallet_types::StoreError::NotFound`] for a pair this store never held.
pub fn sign_with_store<C: Ciphersuite, S: OneTimeStore + ?Sized>(
    package: &SigningPackage<C>,
    store: &S,
    key: &KeyPackage<C>,
) -> Result<SignatureShare<C>, Error> {
    let commitments = package
        .commitments
        .get(&key.id())
        .ok_or(ParamError::NotAMember(key.id()))?;
    check_signers(key.public(), package)?;
    let nonces = SigningNonces::take_from(store, key, &commitments.id())?;
    sign(package, nonces, key)
}

/// The signer set of `package` is a subset of the key's parties with at least `t` members.
pub(crate) fn check_signers<C: Ciphersuite>(
    public: &PublicKeyPackage<C>,
    package: &SigningPackage<C>,
) -> Result<(), ParamError> {
    if let Some(p) = package
        .commitments
        .keys()
        .find(|p| !public.parties().contains(**p))
    {
        return Err(ParamError::NotAMember(*p));
    }
    if package.commitments.len() < public.threshold() {
        return Err(ParamError::TooFewParties {
            needed: public.threshold(),
            given: package.commitments.len(),
        });
    }
    Ok(())
}
