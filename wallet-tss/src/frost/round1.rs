//! Round one, the **offline** phase: nonce preprocessing (RFC 9591 §5.1 `commit`).
//!
//! A signer draws a batch of nonce pairs `(dᵢ, eᵢ)` long before any message exists and publishes
//! their commitments `(Dᵢ, Eᵢ) = (dᵢ·G, eᵢ·G)`. Each pair is used for **one** signature share
//! and then destroyed: [`SigningNonces`] is not `Clone` and is consumed by value by
//! [`crate::frost::round2::sign`], so the compiler forbids a second use:
//!
//! ```compile_fail,E0382
//! # use wallet_tss::frost::{round1, round2};
//! # fn f(pkg: &round2::SigningPackage<wallet_types::Ed25519>,
//! #      key: &wallet_tss::frost::KeyPackage<wallet_types::Ed25519>,
//! #      nonces: round1::SigningNonces<wallet_types::Ed25519>) {
//! let share = round2::sign(pkg, nonces, key);
//! let again = round2::sign(pkg, nonces, key); // error[E0382]: use of moved value: `nonces`
//! # }
//! ```
//!
//! ```compile_fail,E0599
//! # fn f(nonces: wallet_tss::frost::round1::SigningNonces<wallet_types::Ed25519>) {
//! let copy = nonces.clone(); // error[E0599]: SigningNonces is not Clone
//! # }
//! ```
//!
//! ## Persisting nonces: through a one-time store
//!
//! Nonces that must outlive the process go into a [`OneTimeStore`] — never into storage the
//! caller manages by hand, where a restored backup or a second worker could bring one back.
//! Using one nonce pair for two different signing packages reveals the key share, so the
//! library itself keeps persisted nonces single-use:
//!
//! * [`SigningNonces::seal_into`] consumes the pair and puts its sealed encoding into the store
//!   under the key share's scope ([`KeyPackage::nonce_scope`]) and the pair's [`NonceId`];
//! * [`crate::frost::round2::sign_with_store`] (or [`SigningNonces::take_from`]) **takes** the
//!   pair out of the store — atomically and durably, recording its id as used — *before* the
//!   signature share is computed. A second take of the same id, by a restored process or a
//!   parallel worker, is `Error::Store(StoreError::AlreadyUsed)`;
//! * a refresh or reshare gives the key share a new scope; [`retire_nonces`] with the old key
//!   package erases every nonce of the old epoch and refuses the old scope from then on
//!   (`StoreError::Retired`).
//!
//! ```
//! # use rand_core::SeedableRng;
//! use std::collections::BTreeMap;
//! use wallet_tss::frost::{keys, round1::SigningNonces, round2};
//! use wallet_types::{Ed25519, Error, MemoryOneTimeStore, Parties, SecretScalar, StoreError};
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! let keys = keys::split_secret(SecretScalar::<Ed25519>::random(&mut rng), 2, &Parties::range(2).unwrap(), &mut rng).unwrap();
//! let store = MemoryOneTimeStore::new(); // a database table in production
//! let n1 = SigningNonces::new(keys[0].secret_share(), &mut rng);
//! let n2 = SigningNonces::new(keys[1].secret_share(), &mut rng);
//! let commitments = BTreeMap::from([(keys[0].id(), *n1.commitments()), (keys[1].id(), *n2.commitments())]);
//! n1.seal_into(&store, &keys[0])?; // offline: persisted, the in-memory pair is gone
//! let package = round2::SigningPackage::new(commitments, b"msg".to_vec())?;
//! let z1 = round2::sign_with_store(&package, &store, &keys[0])?;
//! // A restored process (or another worker) trying again is refused:
//! assert_eq!(
//!     round2::sign_with_store(&package, &store, &keys[0]).unwrap_err(),
//!     Error::Store(StoreError::AlreadyUsed)
//! );
//! # let _ = (z1, n2);
//! # Ok::<(), Error>(())
//! ```
//!
//! The sealed bytes are secret: a store that is not in the process's memory must encrypt them
//! (e.g. under a wallet-kek envelope). In-memory [`SigningNonces`] (and [`NoncePool`]) stay
//! single-use by the type system as above; they never go into a machine state. The signing
//! machine ([`crate::frost::signing::Signer`]) works on the store: [`preprocess_into`] seals
//! fresh pairs straight into it, and the machine's serialized state names them by id only.

use alloc::vec::Vec;
use core::fmt;

use ff::Field;
use group::GroupEncoding;
use rand_core::CryptoRng;
use wallet_types::store::OneTimeStore;
use wallet_types::{
    DecodeError, Error, HEADER_LEN, ObjectKind, Reader, SecretScalar, SecretVec, SessionId,
    Transcript, WireObject, Writer,
};
use zeroize::Zeroize;

use super::ciphersuite::Ciphersuite;
use super::keys::KeyPackage;
use super::{KIND_SEALED_NONCES, KIND_SIGNING_COMMITMENTS};

/// RFC 9591 §4.1 `nonce_generate(secret)`: `H3(random_bytes(32) || SerializeScalar(secret))`.
///
/// Hashing the key share in protects against a weak RNG (the nonce stays unpredictable to
/// anyone who does not know the share).
pub fn nonce_generate<C: Ciphersuite, R: CryptoRng + ?Sized>(
    secret: &SecretScalar<C>,
    rng: &mut R,
) -> SecretScalar<C> {
    let mut random = [0u8; 32];
    rng.fill_bytes(&mut random);
    let n = nonce_from_randomness(secret, &random);
    random.zeroize();
    n
}

fn nonce_from_randomness<C: Ciphersuite>(
    secret: &SecretScalar<C>,
    random: &[u8; 32],
) -> SecretScalar<C> {
    let mut enc = C::encode_scalar(secret.expose());
    let n = C::h3(&[random, enc.as_ref()]);
    enc.as_mut().zeroize();
    SecretScalar::new(n)
}

type Repr<C> = <<C as wallet_types::Curve>::Point as GroupEncoding>::Repr;

/// The public commitments `(D, E) = (d·G, e·G)` of one nonce pair (RFC 9591 §5.1).
///
/// The encodings are kept next to the points (computed once, or taken from the wire), because
/// every signer and the coordinator hash all commitments of a package (RFC 9591 §4.3) and an
/// encoding costs a field inversion.
#[derive(Clone, Copy)]
pub struct SigningCommitments<C: Ciphersuite> {
    hiding: C::Point,
    binding: C::Point,
    hiding_enc: Repr<C>,
    binding_enc: Repr<C>,
}

impl<C: Ciphersuite> PartialEq for SigningCommitments<C> {
    fn eq(&self, other: &Self) -> bool {
        self.hiding == other.hiding && self.binding == other.binding
    }
}

impl<C: Ciphersuite> Eq for SigningCommitments<C> {}

impl<C: Ciphersuite> fmt::Debug for SigningCommitments<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningCommitments")
            .field("hiding", &self.hiding)
            .field("binding", &self.binding)
            .finish()
    }
}

impl<C: Ciphersuite> SigningCommitments<C> {
    /// Reads `D || E` (non-identity points), keeping their encodings.
    pub(crate) fn decode_points(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let mut read = || -> Result<(C::Point, Repr<C>), DecodeError> {
            let bytes = r.bytes(C::POINT_LEN)?;
            let p = wallet_types::decode_point::<C>(bytes)?;
            let mut repr = Repr::<C>::default();
            repr.as_mut().copy_from_slice(bytes);
            Ok((p, repr))
        };
        let (hiding, hiding_enc) = read()?;
        let (binding, binding_enc) = read()?;
        Ok(Self {
            hiding,
            binding,
            hiding_enc,
            binding_enc,
        })
    }

    /// Commitments from their points; `None` if either is the identity (RFC 9591 rejects
    /// identity commitments).
    pub fn new(hiding: C::Point, binding: C::Point) -> Option<Self> {
        use group::Group;
        if bool::from(hiding.is_identity() | binding.is_identity()) {
            return None;
        }
        Some(Self {
            hiding,
            binding,
            hiding_enc: hiding.to_bytes(),
            binding_enc: binding.to_bytes(),
        })
    }
    /// `SerializeElement(D)`.
    pub fn hiding_bytes(&self) -> &[u8] {
        self.hiding_enc.as_ref()
    }
    /// `SerializeElement(E)`.
    pub fn binding_bytes(&self) -> &[u8] {
        self.binding_enc.as_ref()
    }
    /// `D = d·G`, the hiding nonce commitment.
    pub fn hiding(&self) -> &C::Point {
        &self.hiding
    }
    /// `E = e·G`, the binding nonce commitment.
    pub fn binding(&self) -> &C::Point {
        &self.binding
    }
    /// The id of the nonce pair behind these commitments (see [`NonceId`]).
    pub fn id(&self) -> NonceId {
        NonceId::of::<C>(self)
    }
}

/// Body: `SerializeElement(D) || SerializeElement(E)` (both non-identity).
impl<C: Ciphersuite> WireObject for SigningCommitments<C> {
    const KIND: ObjectKind = KIND_SIGNING_COMMITMENTS;
    const MAX_LEN: usize = HEADER_LEN + 2 * 33;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.bytes(self.hiding_bytes());
        w.bytes(self.binding_bytes());
    }
    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Self::decode_points(r)
    }
}

/// A public, stable name of one nonce pair: a hash of its commitments. Signer and coordinator
/// compute the same id from the commitments alone; it is what the storage rule marks used.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NonceId(pub [u8; 32]);

impl NonceId {
    fn of<C: Ciphersuite>(c: &SigningCommitments<C>) -> Self {
        let mut t = Transcript::new(
            "wallet-tss/frost-nonce-id",
            1,
            Some(C::ID),
            &SessionId([0; 32]),
        );
        t.append("hiding", c.hiding_bytes());
        t.append("binding", c.binding_bytes());
        Self(t.output32("nonce-id"))
    }
}

impl fmt::Debug for NonceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NonceId(")?;
        for b in self.0.iter().take(8) {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

/// One secret nonce pair `(d, e)` with its commitments. **Single use**: not `Clone`, consumed by
/// value by [`crate::frost::round2::sign`], zeroized on drop, `Debug` prints no secret.
pub struct SigningNonces<C: Ciphersuite> {
    hiding: SecretScalar<C>,
    binding: SecretScalar<C>,
    commitments: SigningCommitments<C>,
}

impl<C: Ciphersuite> fmt::Debug for SigningNonces<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningNonces")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

impl<C: Ciphersuite> SigningNonces<C> {
    /// RFC 9591 §5.1 `commit`: two fresh nonces bound to `secret` (the signer's key share) and
    /// their commitments. The commitments use the precomputed basepoint table.
    pub fn new<R: CryptoRng + ?Sized>(secret: &SecretScalar<C>, rng: &mut R) -> Self {
        let hiding = nonce_generate(secret, rng);
        let binding = nonce_generate(secret, rng);
        Self::from_nonces(hiding, binding)
    }

    fn from_nonces(hiding: SecretScalar<C>, binding: SecretScalar<C>) -> Self {
        let d = C::base_mul(hiding.expose());
        let e = C::base_mul(binding.expose());
        let commitments = SigningCommitments {
            hiding: d,
            binding: e,
            hiding_enc: d.to_bytes(),
            binding_enc: e.to_bytes(),
        };
        Self {
            hiding,
            binding,
            commitments,
        }
    }

    /// **Hazmat — test vectors only.** The nonces RFC 9591's `nonce_generate` derives from the
    /// given 32-byte "random" inputs. With chosen inputs the nonces are predictable: never use
    /// this outside known-answer tests.
    #[cfg(feature = "hazmat")]
    pub fn from_randomness(
        secret: &SecretScalar<C>,
        hiding_randomness: &[u8; 32],
        binding_randomness: &[u8; 32],
    ) -> Self {
        Self::from_nonces(
            nonce_from_randomness(secret, hiding_randomness),
            nonce_from_randomness(secret, binding_randomness),
        )
    }

    /// **Hazmat — test vectors only.** Nonce pair from given scalars.
    #[cfg(feature = "hazmat")]
    pub fn from_scalars(hiding: SecretScalar<C>, binding: SecretScalar<C>) -> Self {
        Self::from_nonces(hiding, binding)
    }

    /// The public commitments to publish.
    pub fn commitments(&self) -> &SigningCommitments<C> {
        &self.commitments
    }

    /// The nonce pair's id.
    pub fn id(&self) -> NonceId {
        self.commitments.id()
    }

    /// Seals the nonce pair (consuming it) into `store`, under `key`'s scope
    /// ([`KeyPackage::nonce_scope`]) and the pair's id, which it returns. The only way to use
    /// it afterwards is to take it out of the store again ([`SigningNonces::take_from`],
    /// [`crate::frost::round2::sign_with_store`]), once.
    ///
    /// `key` must be the key share the nonces were made for ([`SigningNonces::new`] with its
    /// secret share). Errors: [`Error::Store`] when the store refuses (an id stored or used
    /// before: `StoreError::AlreadyUsed`; a retired scope: `StoreError::Retired`) or fails.
    pub fn seal_into<S: OneTimeStore + ?Sized>(
        self,
        store: &S,
        key: &KeyPackage<C>,
    ) -> Result<NonceId, Error> {
        let id = self.id();
        store.put(&key.nonce_scope(), &id.0, self.sealed_bytes())?;
        Ok(id)
    }

    /// Takes the nonce pair `id` of `key` out of `store`: atomically and durably (the id is
    /// recorded as used) **before** anything is computed from it. Errors ([`Error::Store`]): a
    /// second take of the same id is `StoreError::AlreadyUsed`, a retired scope
    /// `StoreError::Retired`, an unknown id `StoreError::NotFound` (see
    /// [`wallet_types::StoreError`]). A stored entry that does not decode to the pair `id` (a
    /// corrupted store) is [`Error::Internal`], which blames nobody; either way the entry is
    /// gone.
    pub fn take_from<S: OneTimeStore + ?Sized>(
        store: &S,
        key: &KeyPackage<C>,
        id: &NonceId,
    ) -> Result<Self, Error> {
        let sealed = store.take(&key.nonce_scope(), &id.0)?;
        let nonces = Self::decode_sealed(sealed.expose()).map_err(|_| Error::Internal)?;
        if nonces.id() != *id {
            return Err(Error::Internal);
        }
        Ok(nonces)
    }

    /// The sealed encoding `header || SerializeScalar(d) || SerializeScalar(e)`, written
    /// through the zeroizing writer.
    fn sealed_bytes(&self) -> SecretVec {
        let mut w = Writer::secret();
        w.bytes(&wallet_types::wire::header_of::<SealedNoncesBody<C>>().to_bytes());
        w.secret_scalar::<C>(&self.hiding);
        w.secret_scalar::<C>(&self.binding);
        w.into_secret()
    }

    /// **Hazmat — outside the one-time store.** Seals the nonce pair into bytes the caller
    /// stores itself. Nothing then stops the bytes from being restored twice (reusing a nonce
    /// pair reveals the key share): use [`SigningNonces::seal_into`]. For format tests, fuzzing
    /// and benchmarks only.
    #[cfg(feature = "hazmat")]
    pub fn seal(self) -> SealedNonces {
        SealedNonces {
            id: self.id(),
            bytes: self.sealed_bytes(),
        }
    }

    /// **Hazmat — outside the one-time store.** Restores a nonce pair from its sealed bytes
    /// without marking anything used: the same bytes restore again. Use
    /// [`SigningNonces::take_from`]. For format tests, fuzzing and benchmarks only.
    #[cfg(feature = "hazmat")]
    pub fn restore(bytes: &[u8]) -> Result<Self, DecodeError> {
        Self::decode_sealed(bytes)
    }

    /// Decodes a sealed encoding (header, kind, curve, two non-zero scalars, nothing more).
    fn decode_sealed(bytes: &[u8]) -> Result<Self, DecodeError> {
        if bytes.len() > SealedNoncesBody::<C>::MAX_LEN {
            return Err(DecodeError::TooLarge {
                len: bytes.len(),
                max: SealedNoncesBody::<C>::MAX_LEN,
            });
        }
        let mut r = Reader::new(bytes);
        let h = wallet_types::Header::parse(&r.array::<HEADER_LEN>()?)?;
        if h.version != wallet_types::FORMAT_VERSION {
            return Err(DecodeError::UnsupportedVersion(h.version));
        }
        if h.kind != KIND_SEALED_NONCES {
            return Err(DecodeError::WrongKind {
                expected: KIND_SEALED_NONCES.0,
                found: h.kind.0,
            });
        }
        if h.curve != Some(C::ID) {
            return Err(DecodeError::WrongCurve {
                expected: C::ID.to_byte(),
                found: h.curve.map_or(0, |c| c.to_byte()),
            });
        }
        let n = Self::decode_secret(&mut r)?;
        r.finish()?;
        Ok(n)
    }

    pub(crate) fn into_parts(self) -> (SecretScalar<C>, SecretScalar<C>, SigningCommitments<C>) {
        (self.hiding, self.binding, self.commitments)
    }

    pub(crate) fn decode_secret(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let hiding = nonzero_secret::<C>(r)?;
        let binding = nonzero_secret::<C>(r)?;
        Ok(Self::from_nonces(hiding, binding))
    }
}

fn nonzero_secret<C: Ciphersuite>(r: &mut Reader<'_>) -> Result<SecretScalar<C>, DecodeError> {
    let s = r.secret_scalar::<C>()?;
    if bool::from(s.expose().is_zero()) {
        return Err(DecodeError::ZeroScalar);
    }
    Ok(s)
}

/// Only used for its header constants.
struct SealedNoncesBody<C: Ciphersuite>(core::marker::PhantomData<C>);

impl<C: Ciphersuite> WireObject for SealedNoncesBody<C> {
    const KIND: ObjectKind = KIND_SEALED_NONCES;
    const MAX_LEN: usize = HEADER_LEN + 64;
    const CURVE: Option<wallet_types::CurveId> = Some(C::ID);
    const SECRET: bool = true;
    fn encode_body(&self, _w: &mut Writer) {}
    fn decode_body(_r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self(core::marker::PhantomData))
    }
}

/// **Hazmat.** A nonce pair sealed outside the one-time store ([`SigningNonces::seal`]): its
/// public [`NonceId`] and its secret encoding (`header || SerializeScalar(d) ||
/// SerializeScalar(e)`, see `SPEC.md`).
#[cfg(feature = "hazmat")]
#[derive(Debug)]
pub struct SealedNonces {
    id: NonceId,
    bytes: wallet_types::SecretVec,
}

#[cfg(feature = "hazmat")]
impl SealedNonces {
    /// The id to mark used (durably) before releasing a share made with these nonces.
    pub fn id(&self) -> NonceId {
        self.id
    }

    /// The secret bytes to store (encrypted).
    pub fn bytes(&self) -> &[u8] {
        self.bytes.expose()
    }
}

/// Retires the nonce scope of `old` (a key share replaced by a refresh or reshare): every nonce
/// sealed for it is erased and the scope refuses new ones. Call it once the new share is
/// stored. Errors: [`Error::Store`] when the store fails.
pub fn retire_nonces<C: Ciphersuite, S: OneTimeStore + ?Sized>(
    store: &S,
    old: &KeyPackage<C>,
) -> Result<(), Error> {
    store.retire(&old.nonce_scope()).map_err(Error::Store)
}

/// Preprocesses `count` nonce pairs for `key` (the offline phase): returns the secret nonces
/// (keep them in memory, or persist them with [`SigningNonces::seal_into`]) and the commitments
/// to publish to coordinators.
pub fn preprocess<C: Ciphersuite, R: CryptoRng + ?Sized>(
    key: &KeyPackage<C>,
    count: usize,
    rng: &mut R,
) -> (Vec<SigningNonces<C>>, Vec<SigningCommitments<C>>) {
    let nonces: Vec<SigningNonces<C>> = (0..count)
        .map(|_| SigningNonces::new(key.secret_share(), rng))
        .collect();
    let commitments = nonces.iter().map(|n| *n.commitments()).collect();
    (nonces, commitments)
}

/// Preprocesses `count` nonce pairs for `key` straight into `store` (the offline phase for the
/// [`crate::frost::signing::Signer`] machine, or for [`crate::frost::round2::sign_with_store`]):
/// each pair is sealed under `key`'s scope ([`SigningNonces::seal_into`]) as soon as it is
/// drawn, and only the commitments to publish are returned — no secret nonce leaves this call.
///
/// Errors: [`Error::Store`] when the store refuses or fails; pairs sealed before the failure
/// stay in the store unused (retiring the scope erases them).
pub fn preprocess_into<C: Ciphersuite, S: OneTimeStore + ?Sized, R: CryptoRng + ?Sized>(
    store: &S,
    key: &KeyPackage<C>,
    count: usize,
    rng: &mut R,
) -> Result<Vec<SigningCommitments<C>>, Error> {
    (0..count)
        .map(|_| {
            let nonces = SigningNonces::new(key.secret_share(), rng);
            let commitments = *nonces.commitments();
            nonces.seal_into(store, key)?;
            Ok(commitments)
        })
        .collect()
}

/// A set of preprocessed nonce pairs held by a signer, looked up by commitment when a signing
/// package arrives. Taking a pair removes it.
#[derive(Default)]
pub struct NoncePool<C: Ciphersuite> {
    nonces: Vec<SigningNonces<C>>,
}

impl<C: Ciphersuite> fmt::Debug for NoncePool<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NoncePool({} pairs)", self.nonces.len())
    }
}

impl<C: Ciphersuite> NoncePool<C> {
    /// A pool of the given nonce pairs.
    pub fn new(nonces: Vec<SigningNonces<C>>) -> Self {
        Self { nonces }
    }
    /// Number of unused pairs.
    pub fn len(&self) -> usize {
        self.nonces.len()
    }
    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.nonces.is_empty()
    }
    /// Commitments of the unused pairs.
    pub fn commitments(&self) -> Vec<SigningCommitments<C>> {
        self.nonces.iter().map(|n| *n.commitments()).collect()
    }
    /// Removes and returns the pair with these commitments.
    pub fn take(&mut self, c: &SigningCommitments<C>) -> Option<SigningNonces<C>> {
        let i = self.nonces.iter().position(|n| n.commitments() == c)?;
        Some(self.nonces.swap_remove(i))
    }
    /// Adds a pair.
    pub fn push(&mut self, n: SigningNonces<C>) {
        self.nonces.push(n);
    }
}
