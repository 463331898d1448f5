//! Key material: a party's [`KeyPackage`], the public [`PublicKeyPackage`] every party and the
//! coordinator hold, the trusted-dealer split (RFC 9591 Appendix C), the import of an existing
//! RFC 8032 seed's key into a sharing, and the explicit threshold export of the group secret.
//!
//! ## Scalars are not seeds
//!
//! An RFC 8032 Ed25519 private key is a 32-byte **seed**; the signing scalar is derived from it
//! (`SHA-512(seed)`, lower half clamped) and the upper half seeds deterministic nonces. A key
//! made by DKG never had a seed: only the scalar exists (shared). This module keeps the two
//! apart in the types:
//!
//! * [`Ed25519Seed`] — an RFC 8032 seed; [`Ed25519Seed::to_scalar`] performs RFC 8032 §5.1.5
//!   steps 1–3 (hash, clamp, reduce) and [`split_ed25519_seed`] shares the result (dealer split):
//!   the threshold key then has the same public key as the seed, and FROST signatures made with
//!   it verify under that public key (they differ from the seed's own deterministic signatures,
//!   which is allowed: Ed25519 verifiers cannot tell).
//! * [`GroupSecretKey`] — what [`export_group_secret`] returns: the **scalar**. There is no way
//!   back from a scalar to a seed, so wallets that import only seeds cannot take an exported
//!   DKG key; they need an "expanded secret key" import (scalar plus a fresh random 32-byte
//!   nonce prefix) instead.

use alloc::vec::Vec;
use core::fmt;

use group::Group;
use rand_core::CryptoRng;
use subtle::ConstantTimeEq;
use wallet_types::{
    Curve, DecodeError, Ed25519, Error, HEADER_LEN, MAX_PARTIES, NonIdentity, ObjectKind,
    ParamError, Parties, PartyId, Reader, SecretBytes, SecretScalar, SessionId, Transcript,
    WireObject, Writer,
};

use super::ciphersuite::Ciphersuite;
use super::{KIND_KEY_PACKAGE, KIND_PUBLIC_KEY_PACKAGE};
use wallet_sss::feldman::Commitments;
use wallet_sss::lagrange::lagrange_coefficients_at_zero;
use wallet_sss::polynomial::Polynomial;

/// The public side of a threshold key: party set, threshold, the group's Feldman commitment
/// `Φ = (Φ₀, …, Φ_{t−1})` (with `Φ₀` the group public key) and, derived from it, every party's
/// share commitment `Yᵢ = Σₖ iᵏ·Φₖ = sᵢ·G` (what signature shares are verified against).
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKeyPackage<C: Ciphersuite> {
    parties: Parties,
    commitments: Commitments<C>,
    group_key: NonIdentity<C>,
    /// `Yᵢ` in the order of `parties`.
    share_commitments: Vec<C::Point>,
}

impl<C: Ciphersuite> fmt::Debug for PublicKeyPackage<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKeyPackage")
            .field("curve", &C::ID)
            .field("threshold", &self.threshold())
            .field("parties", &self.parties)
            .field("group_key", &self.group_key)
            .finish()
    }
}

impl<C: Ciphersuite> PublicKeyPackage<C> {
    /// A package from the group commitment `Φ` (`t` points, `Φ₀ ≠ identity`) for `parties`
    /// (`1 ≤ t ≤ n`). Computes every share commitment.
    pub fn new(parties: Parties, commitment: Vec<C::Point>) -> Result<Self, ParamError> {
        let t = commitment.len();
        if t == 0 || t > parties.len() {
            return Err(ParamError::InvalidThreshold {
                threshold: t,
                parties: parties.len(),
            });
        }
        let group_key = commitment
            .first()
            .and_then(|p| NonIdentity::new(*p))
            .ok_or(ParamError::Mismatch)?;
        let commitments = Commitments::new(commitment).map_err(|_| ParamError::OutOfRange)?;
        let share_commitments = parties
            .iter()
            .map(|p| share_commitment::<C>(commitments.points(), p))
            .collect();
        Ok(Self {
            parties,
            commitments,
            group_key,
            share_commitments,
        })
    }

    /// A package from what other FROST implementations keep: every party's **verifying share**
    /// `Yᵢ = sᵢ·G`, the group key `Y` and the threshold `t` — without the group commitment `Φ`,
    /// which e.g. the Zcash Foundation's `frost-core` does not store.
    ///
    /// The inputs are checked for consistency: every `t`-subset of the shares must interpolate
    /// to `Y` in the exponent. Checking all `C(n, t)` subsets is not needed: `Φ` is
    /// interpolated (in the exponent) from the `t` points `(0, Y)` and the first `t − 1`
    /// shares, and every remaining share must equal `Σₖ iᵏ·Φₖ`. Then all `n + 1` points lie
    /// on one polynomial of degree `< t`, so any `t` shares determine that polynomial and
    /// interpolate to `Y`. Cost: `t²` scalar multiplications for `Φ` plus `(n − t + 1)` cheap
    /// small-integer evaluations (a 2-of-3 key: well under a millisecond). Errors: a threshold
    /// outside `1..=n`, duplicate or too many parties, an identity group key
    /// ([`ParamError::InvalidThreshold`], [`ParamError::DuplicateParty`],
    /// [`ParamError::TooManyParties`], [`ParamError::Mismatch`]), and
    /// [`ParamError::Mismatch`] for shares that do not belong to `Y` and `t` (including shares
    /// of a lower threshold than claimed: `Φ_{t−1}` must not be the identity).
    ///
    /// **Identifiers.** Party ids here are 16-bit integers (`1..=65535`, at most
    /// [`MAX_PARTIES`] per key) and are the Shamir evaluation points themselves. An RFC 9591
    /// identifier is a non-zero *scalar*: `frost-core`'s `Identifier::try_from(u16)` ids map
    /// one to one (identifier `i` ↔ `PartyId` `i`), but ids made with `Identifier::derive` (a
    /// hash) or any scalar ≥ 2¹⁶ have no `PartyId` and such a key must be reshared to small
    /// ids before it can come in.
    ///
    /// Importing a `frost-ed25519` key (`PublicKeyPackage::verifying_shares()` and
    /// `verifying_key()`, `KeyPackage::signing_share()`, each `.serialize()`d to 32 bytes):
    ///
    /// ```
    /// use wallet_tss::frost::{KeyPackage, PublicKeyPackage};
    /// use wallet_types::{decode_point, decode_scalar, Ed25519, PartyId, SecretScalar};
    /// # use rand_core::SeedableRng;
    /// # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    /// # let parties = wallet_types::Parties::range(3).unwrap();
    /// # let theirs = wallet_tss::frost::keys::split_secret(
    /// #     SecretScalar::<Ed25519>::random(&mut rng), 2, &parties, &mut rng).unwrap();
    /// # use group::GroupEncoding;
    /// # let verifying_shares_bytes: Vec<(u16, [u8; 32])> = theirs.iter().map(|k| (k.id().get(),
    /// #     k.public().share_commitment(k.id()).unwrap().to_bytes())).collect();
    /// # let verifying_key_bytes: [u8; 32] = theirs[0].public().group_key_bytes();
    /// # let (my_id, my_signing_share_bytes): (u16, [u8; 32]) = (1,
    /// #     <Ed25519 as wallet_types::Curve>::encode_scalar(theirs[0].secret_share().expose()).as_ref().try_into().unwrap());
    /// // From frost: `(identifier as u16, verifying_share.serialize())` for every party,
    /// // `verifying_key.serialize()`, the threshold (`min_signers`), and this party's
    /// // `signing_share.serialize()` (its secret; frost's scalar bytes are little-endian,
    /// // the same as this crate's Ed25519 encoding).
    /// let shares = verifying_shares_bytes
    ///     .iter()
    ///     .map(|(id, y)| Ok((PartyId::new(*id).ok_or("id 0")?, decode_point::<Ed25519>(y)?)))
    ///     .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
    /// let group_key = decode_point::<Ed25519>(&verifying_key_bytes)?;
    /// let public = PublicKeyPackage::<Ed25519>::from_verifying_shares(shares, group_key, 2)?;
    /// let secret = SecretScalar::new(decode_scalar::<Ed25519>(&my_signing_share_bytes)?);
    /// let key = KeyPackage::new(PartyId::new(my_id).ok_or("id 0")?, secret, public)?;
    /// assert_eq!(key.public().group_key_bytes(), verifying_key_bytes);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_verifying_shares(
        verifying_shares: impl IntoIterator<Item = (PartyId, C::Point)>,
        group_key: C::Point,
        threshold: usize,
    ) -> Result<Self, ParamError> {
        let shares: Vec<(PartyId, C::Point)> = verifying_shares.into_iter().collect();
        if shares.len() > MAX_PARTIES {
            return Err(ParamError::TooManyParties);
        }
        let parties = Parties::new(shares.iter().map(|(id, _)| *id))?;
        let n = parties.len();
        if threshold == 0 || threshold > n {
            return Err(ParamError::InvalidThreshold {
                threshold,
                parties: n,
            });
        }
        if NonIdentity::<C>::new(group_key).is_none() {
            return Err(ParamError::Mismatch);
        }
        // The interpolation points: (0, Y) and the first t − 1 shares in party order.
        let share_of = |id: PartyId| {
            shares
                .iter()
                .find(|(i, _)| *i == id)
                .map(|(_, y)| *y)
                .ok_or(ParamError::NotAMember(id))
        };
        let mut xs: Vec<C::Scalar> = Vec::with_capacity(threshold);
        let mut ys: Vec<C::Point> = Vec::with_capacity(threshold);
        xs.push(<C::Scalar as ff::Field>::ZERO);
        ys.push(group_key);
        for id in parties.iter().take(threshold - 1) {
            xs.push(C::Scalar::from(u64::from(id.get())));
            ys.push(share_of(id)?);
        }
        let phi = interpolate_in_exponent::<C>(&xs, &ys).ok_or(ParamError::Mismatch)?;
        // A sharing of degree < t − 1 claimed as t-of-n is refused too: the leading
        // coefficient of a real t-of-n sharing is the identity only with negligible probability,
        // and accepting it would let fewer than t shares sign.
        if threshold > 1 && phi.last().is_none_or(|p| bool::from(p.is_identity())) {
            return Err(ParamError::Mismatch);
        }
        // `new` recomputes every Yᵢ from Φ; each must be the share that was given.
        let package = Self::new(parties, phi)?;
        for (id, y) in &shares {
            if package.share_commitment(*id) != Some(y) {
                return Err(ParamError::Mismatch);
            }
        }
        Ok(package)
    }

    /// The threshold `t`: how many shares sign.
    pub fn threshold(&self) -> usize {
        self.commitments.threshold()
    }
    /// All parties holding a share.
    pub fn parties(&self) -> &Parties {
        &self.parties
    }
    /// The group public key `Y = Φ₀`.
    pub fn group_key(&self) -> &NonIdentity<C> {
        &self.group_key
    }
    /// The group public key's encoding (RFC 8032 for Ed25519).
    pub fn group_key_bytes(&self) -> <C::Point as group::GroupEncoding>::Repr {
        self.group_key.to_bytes()
    }
    /// The group Feldman commitment `Φ`.
    pub fn commitment(&self) -> &[C::Point] {
        self.commitments.points()
    }
    /// Party `id`'s share commitment `Y_id = s_id·G`.
    pub fn share_commitment(&self, id: PartyId) -> Option<&C::Point> {
        self.share_commitments.get(self.parties.index_of(id)?)
    }

    /// The identifier of this sharing of the key: a hash of the party set, the threshold, the
    /// group key and every party's verifying share `Y_i` (see `SPEC.md`). The same for every
    /// party; it changes with every refresh and reshare (the verifying shares do — except for a
    /// 1-of-n key, whose shares *are* the key and never change), so it names one epoch of the
    /// key. Nonces are stored under it ([`KeyPackage::nonce_scope`]).
    pub fn key_id(&self) -> [u8; 32] {
        let mut t = Transcript::new(KEY_ID_PROTOCOL, 1, Some(C::ID), &SessionId([0; 32]));
        let mut w = Writer::new();
        w.parties(&self.parties);
        t.append("parties", &w.finish());
        t.append_u64("threshold", self.threshold() as u64);
        t.append_point::<C>("group-key", self.group_key.get());
        for (p, y) in self.parties.iter().zip(&self.share_commitments) {
            t.append_party("party", p);
            t.append_point::<C>("verifying-share", y);
        }
        t.output32("key-id")
    }
}

/// Transcript protocol name of [`PublicKeyPackage::key_id`] and [`KeyPackage::nonce_scope`].
const KEY_ID_PROTOCOL: &str = "wallet-tss/frost-key-id";

/// Body: `parties || u16 t || SerializeElement(Φ₀) || … || SerializeElement(Φ_{t−1})`
/// (`Φ₀` non-identity; later points may be the identity; `1 ≤ t ≤ n`).
impl<C: Ciphersuite> WireObject for PublicKeyPackage<C> {
    const KIND: ObjectKind = KIND_PUBLIC_KEY_PACKAGE;
    const MAX_LEN: usize = HEADER_LEN + 2 + 2 * MAX_PARTIES + 2 + 33 * MAX_PARTIES;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.parties(&self.parties);
        w.u16(self.threshold() as u16);
        for p in self.commitments.points() {
            w.bytes(C::encode_point(p).as_ref());
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let parties = r.parties()?;
        let t = r.count16(parties.len(), C::POINT_LEN)?;
        let mut points = Vec::with_capacity(t);
        for k in 0..t {
            points.push(if k == 0 {
                r.point::<C>()?
            } else {
                r.point_or_identity::<C>()?
            });
        }
        Self::new(parties, points).map_err(|_| DecodeError::InvalidValue)
    }
}

/// The coefficients `Φ₀..Φ_{t−1}` of the polynomial of degree `< t` (in the exponent) through
/// the `t` points `(xs[m], ys[m])` (distinct `xs`): `Φₖ = Σᵢ [xᵏ]Lᵢ(x) · ysᵢ`, with the Lagrange
/// basis `Lᵢ = M(x) / ((x − xᵢ) · M'(xᵢ))`, `M = Πₘ (x − xₘ)`. `None` if two `xs` coincide.
/// Variable time; public data only.
fn interpolate_in_exponent<C: Ciphersuite>(
    xs: &[C::Scalar],
    ys: &[C::Point],
) -> Option<Vec<C::Point>> {
    use ff::Field;
    let t = xs.len();
    // M(x) = Π (x − xₘ), coefficients low to high (degree t).
    let m = poly_from_roots::<C>(xs)?;
    let mut phi = alloc::vec![C::Point::identity(); t];
    for (xi, yi) in xs.iter().zip(ys) {
        // Nᵢ = M / (x − xᵢ) by synthetic division (degree t − 1), dᵢ = Nᵢ(xᵢ).
        let mut n = alloc::vec![C::Scalar::ZERO; t];
        let mut carry = C::Scalar::ZERO;
        for k in (0..t).rev() {
            carry = *m.get(k + 1)? + carry * xi;
            *n.get_mut(k)? = carry;
        }
        let d = n.iter().rev().fold(C::Scalar::ZERO, |acc, c| acc * xi + c);
        let d_inv = Option::<C::Scalar>::from(d.invert())?;
        for (p, c) in phi.iter_mut().zip(&n) {
            *p += *yi * (*c * d_inv);
        }
    }
    Some(phi)
}

/// The coefficients (low to high) of `Πₘ (x − rootsₘ)`.
fn poly_from_roots<C: Ciphersuite>(roots: &[C::Scalar]) -> Option<Vec<C::Scalar>> {
    use ff::Field;
    let mut p = alloc::vec![C::Scalar::ONE];
    for r in roots {
        // p · (x − r): new[k] = old[k − 1] − r·old[k].
        let mut next = alloc::vec![C::Scalar::ZERO; p.len() + 1];
        for (k, c) in p.iter().enumerate() {
            *next.get_mut(k + 1)? += c;
            *next.get_mut(k)? -= *c * r;
        }
        p = next;
    }
    Some(p)
}

/// `Y_id = Σₖ idᵏ·Φₖ` (what `wallet_sss::Commitments::share_commitment` computes), by
/// Horner's rule with the small integer `id`: `t − 1` multiplications by a 16-bit number
/// (a few doublings and additions each) instead of a `t`-point multi-scalar multiplication
/// with full-size powers. Variable time; public data only.
pub(crate) fn share_commitment<C: Ciphersuite>(phi: &[C::Point], id: PartyId) -> C::Point {
    let x = u64::from(id.get());
    let mut acc = C::Point::identity();
    for p in phi.iter().rev() {
        acc = mul_small::<C>(&acc, x) + p;
    }
    acc
}

/// `k·P` for a small public `k`, by double-and-add (variable time).
fn mul_small<C: Ciphersuite>(p: &C::Point, k: u64) -> C::Point {
    let mut acc = C::Point::identity();
    for bit in (0..u64::BITS - k.leading_zeros()).rev() {
        acc = acc.double();
        if (k >> bit) & 1 == 1 {
            acc += p;
        }
    }
    acc
}

/// One party's key: its id, its secret share `sᵢ` and the public package. Holds a secret: not
/// `Clone` (use [`KeyPackage::duplicate`]), zeroized on drop, `Debug` prints no secret.
pub struct KeyPackage<C: Ciphersuite> {
    id: PartyId,
    secret: SecretScalar<C>,
    public: PublicKeyPackage<C>,
}

impl<C: Ciphersuite> fmt::Debug for KeyPackage<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPackage")
            .field("id", &self.id)
            .field("secret", &self.secret)
            .field("public", &self.public)
            .finish()
    }
}

impl<C: Ciphersuite> KeyPackage<C> {
    /// Checks that `secret·G` is `id`'s share commitment in `public`.
    pub fn new(
        id: PartyId,
        secret: SecretScalar<C>,
        public: PublicKeyPackage<C>,
    ) -> Result<Self, ParamError> {
        let expected = public
            .share_commitment(id)
            .ok_or(ParamError::NotAMember(id))?;
        if !bool::from(C::base_mul(secret.expose()).ct_eq(expected)) {
            return Err(ParamError::Mismatch);
        }
        Ok(Self { id, secret, public })
    }

    /// A package whose consistency (`secret·G` is `id`'s share commitment in `public`) the
    /// caller guarantees by construction: the Taproot mode's tweaked share, an affine image of
    /// a checked share and its commitments (`crate::frost::taproot`). Skips the constant-time
    /// base multiplication of [`KeyPackage::new`] on the signing path.
    pub(crate) fn from_parts_unchecked(
        id: PartyId,
        secret: SecretScalar<C>,
        public: PublicKeyPackage<C>,
    ) -> Self {
        Self { id, secret, public }
    }

    /// This party.
    pub fn id(&self) -> PartyId {
        self.id
    }
    /// The secret share `sᵢ`.
    pub fn secret_share(&self) -> &SecretScalar<C> {
        &self.secret
    }
    /// The public package.
    pub fn public(&self) -> &PublicKeyPackage<C> {
        &self.public
    }
    /// An explicit copy (named so that reviewers see every duplication of a secret).
    pub fn duplicate(&self) -> Self {
        Self {
            id: self.id,
            secret: self.secret.duplicate(),
            public: self.public.clone(),
        }
    }

    /// The [`wallet_types::store::OneTimeStore`] scope of this key share's sealed nonces:
    /// `(T("wallet-tss/frost-key-id", 1, curve, 0³²) + a("key-id", key_id) + a("party", id))
    /// .out("nonce-scope")` with [`PublicKeyPackage::key_id`]. One scope per party and epoch: a
    /// refresh or reshare gives the new share another scope, and the caller retires the old one
    /// ([`crate::frost::round1::retire_nonces`]), which erases every nonce of the old epoch.
    pub fn nonce_scope(&self) -> [u8; 32] {
        let mut t = Transcript::new(KEY_ID_PROTOCOL, 1, Some(C::ID), &SessionId([0; 32]));
        t.append("key-id", &self.public.key_id());
        t.append_party("party", self.id);
        t.output32("nonce-scope")
    }
}

/// Body: `party id || SerializeScalar(sᵢ) || PublicKeyPackage body`. Secret: store encrypted.
impl<C: Ciphersuite> WireObject for KeyPackage<C> {
    const KIND: ObjectKind = KIND_KEY_PACKAGE;
    const MAX_LEN: usize = HEADER_LEN + 2 + 32 + PublicKeyPackage::<C>::MAX_LEN;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);
    const SECRET: bool = true;

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.id);
        w.secret_scalar::<C>(&self.secret);
        self.public.encode_body(w);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let id = r.party()?;
        let secret = r.secret_scalar::<C>()?;
        let public = PublicKeyPackage::decode_body(r)?;
        Self::new(id, secret, public).map_err(|_| DecodeError::InvalidValue)
    }
}

/// RFC 9591 Appendix C `trusted_dealer_keygen`, for a secret the caller already has: shares
/// `secret` `t`-of-`parties` with a random polynomial and returns every party's package. The
/// dealer sees the whole key: use DKG ([`crate::frost::dkg`]) unless importing an existing key.
pub fn split_secret<C: Ciphersuite, R: CryptoRng + ?Sized>(
    secret: SecretScalar<C>,
    threshold: usize,
    parties: &Parties,
    rng: &mut R,
) -> Result<Vec<KeyPackage<C>>, ParamError> {
    if threshold == 0 || threshold > parties.len() {
        return Err(ParamError::InvalidThreshold {
            threshold,
            parties: parties.len(),
        });
    }
    if bool::from(secret.is_zero()) {
        return Err(ParamError::OutOfRange);
    }
    let poly = Polynomial::random(secret, threshold, rng).map_err(|_| ParamError::OutOfRange)?;
    let public = PublicKeyPackage::new(parties.clone(), super::dkg::commit_polynomial(&poly))?;
    parties
        .iter()
        .map(|p| KeyPackage::new(p, poly.share_for(p), public.clone()))
        .collect()
}

/// The group secret key `s` reassembled from a threshold of shares by [`export_group_secret`].
///
/// This is a **scalar**, not an RFC 8032 seed (see the module docs): [`GroupSecretKey::expose`]
/// gives the scalar; there is deliberately no conversion to a seed.
pub struct GroupSecretKey<C: Ciphersuite>(SecretScalar<C>);

impl<C: Ciphersuite> fmt::Debug for GroupSecretKey<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupSecretKey<{}>(<redacted>)", C::ID.name())
    }
}

impl<C: Ciphersuite> GroupSecretKey<C> {
    /// The secret scalar.
    pub fn expose(&self) -> &SecretScalar<C> {
        &self.0
    }
    /// The public key `s·G`.
    pub fn public_key(&self) -> C::Point {
        self.0.public()
    }
    /// The scalar's canonical encoding (little-endian for Ed25519) as a secret.
    pub fn to_scalar_bytes(&self) -> SecretBytes<32> {
        let mut repr = C::encode_scalar(self.0.expose());
        let out =
            SecretBytes::from_slice(repr.as_ref()).unwrap_or_else(|| SecretBytes::new([0; 32]));
        zeroize::Zeroize::zeroize(repr.as_mut());
        out
    }
}

/// **Key export — the end of the threshold guarantee.** Interpolates the group secret from at
/// least `t` key packages of one key (distinct parties) and checks it against the group key.
/// After this call one place holds the whole key; do it only to leave threshold custody.
pub fn export_group_secret<C: Ciphersuite>(
    shares: &[&KeyPackage<C>],
) -> Result<GroupSecretKey<C>, Error> {
    let first = shares.first().ok_or(ParamError::TooFewParties {
        needed: 1,
        given: 0,
    })?;
    let public = first.public();
    if shares.len() < public.threshold() {
        return Err(ParamError::TooFewParties {
            needed: public.threshold(),
            given: shares.len(),
        }
        .into());
    }
    if shares.iter().any(|k| k.public() != public) {
        return Err(ParamError::Mismatch.into());
    }
    let ids: Vec<PartyId> = shares.iter().map(|k| k.id()).collect();
    Parties::new(ids.iter().copied())?;
    let lambdas = lagrange_coefficients_at_zero::<C>(&ids).map_err(|_| Error::Internal)?;
    let mut s = SecretScalar::<C>::zero();
    for (k, l) in shares.iter().zip(&lambdas) {
        *s.expose_mut() += *k.secret_share().expose() * l;
    }
    if !bool::from(s.public().ct_eq(public.group_key().get())) {
        return Err(Error::Internal);
    }
    Ok(GroupSecretKey(s))
}

/// An RFC 8032 Ed25519 private key (the 32-byte seed). Secret: zeroized, never printed.
pub struct Ed25519Seed(SecretBytes<32>);

impl fmt::Debug for Ed25519Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ed25519Seed(<redacted>)")
    }
}

impl Ed25519Seed {
    /// Takes the seed bytes.
    pub fn new(seed: SecretBytes<32>) -> Self {
        Self(seed)
    }

    /// RFC 8032 §5.1.5 steps 1–3: `h = SHA-512(seed)`, clamp `h[0..32]` (clear the 3 low bits
    /// and the top bit, set bit 254), read it little-endian, reduce mod ℓ. The upper half of `h`
    /// (the deterministic-nonce prefix) is not used by FROST, whose nonces are random.
    pub fn to_scalar(&self) -> SecretScalar<Ed25519> {
        use sha2::{Digest, Sha512};
        let mut h: [u8; 64] = Sha512::digest(self.0.expose()).into();
        let mut lower = [0u8; 32];
        lower.copy_from_slice(h.get(..32).unwrap_or(&[0u8; 32]));
        lower[0] &= 0b1111_1000;
        lower[31] &= 0b0111_1111;
        lower[31] |= 0b0100_0000;
        let s = curve25519_dalek::Scalar::from_bytes_mod_order(lower);
        zeroize::Zeroize::zeroize(&mut lower);
        zeroize::Zeroize::zeroize(&mut h);
        SecretScalar::new(s)
    }

    /// The RFC 8032 public key of this seed.
    pub fn public_key(&self) -> [u8; 32] {
        Ed25519::encode_point(&self.to_scalar().public())
    }
}

/// Imports an existing RFC 8032 key into a `t`-of-`parties` FROST sharing (a dealer split of
/// [`Ed25519Seed::to_scalar`]). The group public key equals the seed's public key. The dealer
/// holds the whole key during this call; afterwards destroy the seed.
pub fn split_ed25519_seed<R: CryptoRng + ?Sized>(
    seed: &Ed25519Seed,
    threshold: usize,
    parties: &Parties,
    rng: &mut R,
) -> Result<Vec<KeyPackage<Ed25519>>, ParamError> {
    split_secret(seed.to_scalar(), threshold, parties, rng)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn horner_share_commitment_matches_wallet_sss() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        for t in [1usize, 2, 5, 10] {
            let poly =
                Polynomial::<Ed25519>::random(SecretScalar::random(&mut rng), t, &mut rng).unwrap();
            let c = poly.commit();
            for id in [1u16, 2, 7, 15, 1000, u16::MAX] {
                let id = PartyId::new(id).unwrap();
                assert_eq!(
                    share_commitment::<Ed25519>(c.points(), id),
                    c.share_commitment(id)
                );
            }
        }
    }
}
