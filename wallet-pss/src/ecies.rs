//! ECIES (SEC 1 §5.1 style, with HKDF-SHA256 and AES-256-GCM) over either curve.
//!
//! The recipient's public key `Q` is a share commitment `g^{sᵢ}` (the holder of `sᵢ` decrypts)
//! or a *factor key* (a key pair that lives on one device, in a backup or with a third party).
//! Every ciphertext is bound to a [`Context`] — the protocol session, the epoch of the sharing
//! it belongs to and the recipient's party id — and to the recipient key, so a ciphertext
//! replayed into another session or epoch, or moved to another recipient, does not open.
//! [`seal_bound`] / [`open_bound`] add a 32-byte *binding* to the AAD (not to the encoding): a
//! hash of what the plaintext belongs to (for a sealed reshare dealing, the configuration and
//! the dealer's commitments), so the ciphertext opens only next to that object.
//!
//! Byte layout, key derivation and AAD: `wallet-pss/SPEC.md` §2.
//!
//! ```
//! # use rand_core::SeedableRng;
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! use wallet_pss::ecies::{Context, Ciphertext, seal, open};
//! use wallet_types::{Secp256k1, SecretScalar, SessionId, PartyId};
//! let factor = SecretScalar::<Secp256k1>::random(&mut rng);
//! let ctx = Context { session: SessionId([1; 32]), epoch: 4, recipient: PartyId::new(2).unwrap() };
//! let ct = seal::<Secp256k1, _>(&factor.public(), &ctx, b"new share", &mut rng).unwrap();
//! let pt = open(&factor, &ctx, &ct).unwrap();
//! assert_eq!(pt.expose(), b"new share");
//! ```

use alloc::vec::Vec;

use hkdf::Hkdf;
use rand_core::CryptoRng;
use sha2::Sha256;
use wallet_types::group::{Group, GroupEncoding};
use wallet_types::wire::header_of;
use wallet_types::{
    Curve, CurveId, DecodeError, HEADER_LEN, ObjectKind, PartyId, Reader, SecretBytes,
    SecretScalar, SecretVec, SessionId, WireObject, Writer,
};
use zeroize::Zeroize;

use crate::error::PssError;

/// Object kind of an ECIES ciphertext.
pub const KIND_ECIES: ObjectKind = ObjectKind(0x0501);
/// Largest plaintext accepted (64 KiB: shares, share bundles, metadata).
pub const MAX_PLAINTEXT_LEN: usize = 1 << 16;
/// AES-GCM tag length.
pub const TAG_LEN: usize = crate::aead::TAG_LEN;
const INFO: &[u8] = b"wallet-pss/ecies/v1";

/// What a ciphertext is bound to besides the recipient key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Context {
    /// The protocol run (refresh / reshare session) the ciphertext belongs to.
    pub session: SessionId,
    /// The epoch of the sharing the plaintext belongs to.
    pub epoch: u64,
    /// The recipient's party id.
    pub recipient: PartyId,
}

/// An ECIES ciphertext (see `SPEC.md` §2 for the bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ciphertext<C: Curve> {
    context: Context,
    ephemeral: C::Point,
    sealed: Vec<u8>,
}

impl<C: Curve> Ciphertext<C> {
    /// The context the ciphertext claims (checked against the caller's on open).
    pub fn context(&self) -> &Context {
        &self.context
    }
}

/// `header || session[32] || epoch u64 || recipient u16 || E (point) || var_bytes(ct || tag)`.
impl<C: Curve> WireObject for Ciphertext<C> {
    const KIND: ObjectKind = KIND_ECIES;
    const MAX_LEN: usize = HEADER_LEN + 32 + 8 + 2 + 33 + 4 + MAX_PLAINTEXT_LEN + TAG_LEN;
    const CURVE: Option<CurveId> = Some(C::ID);

    fn encode_body(&self, w: &mut Writer) {
        w.session(&self.context.session);
        w.u64(self.context.epoch);
        w.party(self.context.recipient);
        w.point::<C>(&self.ephemeral);
        w.var_bytes(&self.sealed);
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let session = r.session()?;
        let epoch = r.u64()?;
        let recipient = r.party()?;
        let ephemeral = r.point::<C>()?;
        let sealed = r.var_bytes(MAX_PLAINTEXT_LEN + TAG_LEN)?;
        if sealed.len() < TAG_LEN {
            return Err(DecodeError::Truncated);
        }
        Ok(Self {
            context: Context {
                session,
                epoch,
                recipient,
            },
            ephemeral,
            sealed: sealed.to_vec(),
        })
    }
}

/// AAD = `header || session || epoch || recipient || E || Q [|| binding]`. Without a binding
/// the AAD has a fixed length for the curve, with one it is 32 bytes longer, so the two kinds
/// never share an AAD.
fn aad<C: Curve>(ctx: &Context, e: &C::Point, q: &C::Point, binding: Option<&[u8; 32]>) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(&header_of::<Ciphertext<C>>().to_bytes());
    w.session(&ctx.session);
    w.u64(ctx.epoch);
    w.party(ctx.recipient);
    w.point::<C>(e);
    w.point::<C>(q);
    if let Some(b) = binding {
        w.bytes(b);
    }
    w.finish()
}

/// HKDF-SHA256(salt = E ‖ Q, ikm = Z, info = "wallet-pss/ecies/v1" ‖ curve byte) → key ‖ nonce.
fn derive<C: Curve>(
    z: &C::Point,
    e: &C::Point,
    q: &C::Point,
) -> Result<(SecretBytes<32>, [u8; 12]), PssError> {
    let mut salt = Vec::with_capacity(2 * C::POINT_LEN);
    salt.extend_from_slice(e.to_bytes().as_ref());
    salt.extend_from_slice(q.to_bytes().as_ref());
    let mut ikm = z.to_bytes();
    let mut info = Vec::with_capacity(INFO.len() + 1);
    info.extend_from_slice(INFO);
    info.push(C::ID.to_byte());
    let mut okm = [0u8; 44];
    let res = Hkdf::<Sha256>::new(Some(&salt), ikm.as_ref()).expand(&info, &mut okm);
    ikm.as_mut().zeroize();
    res.map_err(|_| PssError::Internal)?;
    let mut key = SecretBytes::<32>::new([0u8; 32]);
    let mut nonce = [0u8; 12];
    key.expose_mut()
        .copy_from_slice(okm.get(..32).ok_or(PssError::Internal)?);
    nonce.copy_from_slice(okm.get(32..).ok_or(PssError::Internal)?);
    okm.zeroize();
    Ok((key, nonce))
}

/// Encrypts `plaintext` to the holder of the secret behind `recipient_key`.
pub fn seal<C: Curve, R: CryptoRng + ?Sized>(
    recipient_key: &C::Point,
    ctx: &Context,
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Ciphertext<C>, PssError> {
    if plaintext.len() > MAX_PLAINTEXT_LEN || bool::from(recipient_key.is_identity()) {
        return Err(PssError::InvalidInput);
    }
    let eph = SecretScalar::<C>::random(rng);
    seal_ephemeral(recipient_key, ctx, None, plaintext, &eph)
}

/// [`seal`] with a 32-byte `binding` in the AAD: the ciphertext opens only with
/// [`open_bound`] and the same binding (`SPEC.md` §2.1, step 4). The binding is not part of
/// the encoding; the recipient recomputes it from the object the ciphertext travels with.
pub fn seal_bound<C: Curve, R: CryptoRng + ?Sized>(
    recipient_key: &C::Point,
    ctx: &Context,
    binding: &[u8; 32],
    plaintext: &[u8],
    rng: &mut R,
) -> Result<Ciphertext<C>, PssError> {
    if plaintext.len() > MAX_PLAINTEXT_LEN || bool::from(recipient_key.is_identity()) {
        return Err(PssError::InvalidInput);
    }
    let eph = SecretScalar::<C>::random(rng);
    seal_ephemeral(recipient_key, ctx, Some(binding), plaintext, &eph)
}

/// [`seal`] with a caller-chosen ephemeral key, for known-answer tests only (feature
/// `hazmat`).
///
/// <div class="warning">
///
/// Reusing an ephemeral key for two plaintexts to the same recipient reuses the AES-GCM key
/// and nonce, which reveals the XOR of the plaintexts and lets anyone forge ciphertexts. Never
/// enable `hazmat` in production.
///
/// </div>
#[cfg(any(test, feature = "hazmat"))]
pub fn seal_with_ephemeral<C: Curve>(
    recipient_key: &C::Point,
    ctx: &Context,
    plaintext: &[u8],
    eph: &SecretScalar<C>,
) -> Result<Ciphertext<C>, PssError> {
    seal_ephemeral(recipient_key, ctx, None, plaintext, eph)
}

/// [`seal_bound`] with a caller-chosen ephemeral key, for known-answer tests only (feature
/// `hazmat`; the warning of [`seal_with_ephemeral`] applies).
#[cfg(any(test, feature = "hazmat"))]
pub fn seal_bound_with_ephemeral<C: Curve>(
    recipient_key: &C::Point,
    ctx: &Context,
    binding: &[u8; 32],
    plaintext: &[u8],
    eph: &SecretScalar<C>,
) -> Result<Ciphertext<C>, PssError> {
    seal_ephemeral(recipient_key, ctx, Some(binding), plaintext, eph)
}

fn seal_ephemeral<C: Curve>(
    recipient_key: &C::Point,
    ctx: &Context,
    binding: Option<&[u8; 32]>,
    plaintext: &[u8],
    eph: &SecretScalar<C>,
) -> Result<Ciphertext<C>, PssError> {
    if plaintext.len() > MAX_PLAINTEXT_LEN || bool::from(recipient_key.is_identity()) {
        return Err(PssError::InvalidInput);
    }
    let e = eph.public();
    let z = *recipient_key * eph.expose();
    let (key, nonce) = derive::<C>(&z, &e, recipient_key)?;
    let sealed = crate::aead::seal(
        &key,
        &nonce,
        &aad::<C>(ctx, &e, recipient_key, binding),
        plaintext,
    )?;
    Ok(Ciphertext {
        context: *ctx,
        ephemeral: e,
        sealed,
    })
}

/// Decrypts with the recipient's secret. The ciphertext must carry exactly the `expected`
/// context ([`PssError::ContextMismatch`] otherwise: a replay from another session / epoch or a
/// ciphertext for someone else); any other failure is the opaque [`PssError::Decrypt`].
pub fn open<C: Curve>(
    secret: &SecretScalar<C>,
    expected: &Context,
    ct: &Ciphertext<C>,
) -> Result<SecretVec, PssError> {
    open_inner(secret, expected, None, ct)
}

/// [`open`] for a ciphertext of [`seal_bound`]: it opens only with the binding it was sealed
/// with (otherwise the opaque [`PssError::Decrypt`]).
pub fn open_bound<C: Curve>(
    secret: &SecretScalar<C>,
    expected: &Context,
    binding: &[u8; 32],
    ct: &Ciphertext<C>,
) -> Result<SecretVec, PssError> {
    open_inner(secret, expected, Some(binding), ct)
}

fn open_inner<C: Curve>(
    secret: &SecretScalar<C>,
    expected: &Context,
    binding: Option<&[u8; 32]>,
    ct: &Ciphertext<C>,
) -> Result<SecretVec, PssError> {
    if ct.context != *expected {
        return Err(PssError::ContextMismatch);
    }
    let q = secret.public();
    let z = ct.ephemeral * secret.expose();
    let (key, nonce) = derive::<C>(&z, &ct.ephemeral, &q)?;
    crate::aead::open(
        &key,
        &nonce,
        &aad::<C>(&ct.context, &ct.ephemeral, &q, binding),
        &ct.sealed,
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_types::{Ed25519, Secp256k1};

    fn ctx() -> Context {
        Context {
            session: SessionId([7; 32]),
            epoch: 3,
            recipient: PartyId::new(2).unwrap(),
        }
    }

    fn roundtrip_and_tamper<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let sk = SecretScalar::<C>::random(&mut rng);
        let other = SecretScalar::<C>::random(&mut rng);
        let ct = seal::<C, _>(&sk.public(), &ctx(), b"sub-share bytes", &mut rng).unwrap();
        assert_eq!(open(&sk, &ctx(), &ct).unwrap().expose(), b"sub-share bytes");
        // Wrong key.
        assert_eq!(open(&other, &ctx(), &ct).unwrap_err(), PssError::Decrypt);
        // Replayed into another epoch / session / recipient.
        for c in [
            Context { epoch: 4, ..ctx() },
            Context {
                session: SessionId([8; 32]),
                ..ctx()
            },
            Context {
                recipient: PartyId::new(3).unwrap(),
                ..ctx()
            },
        ] {
            assert_eq!(open(&sk, &c, &ct).unwrap_err(), PssError::ContextMismatch);
        }
        // Every bit flip of the encoding is refused (decode error or failed open).
        let bytes = ct.to_bytes();
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                if let Ok(t) = Ciphertext::<C>::from_bytes(&b) {
                    assert!(open(&sk, &ctx(), &t).is_err(), "flip {i}/{bit} opened");
                }
            }
        }
    }

    #[test]
    fn secp256k1() {
        roundtrip_and_tamper::<Secp256k1>();
    }

    #[test]
    fn ed25519() {
        roundtrip_and_tamper::<Ed25519>();
    }

    /// A bound ciphertext opens only with its binding, and never through the unbound calls
    /// (nor an unbound one through the bound calls).
    fn binding_is_enforced<C: Curve>() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let sk = SecretScalar::<C>::random(&mut rng);
        let b = [0xb1; 32];
        let ct = seal_bound::<C, _>(&sk.public(), &ctx(), &b, b"bound", &mut rng).unwrap();
        assert_eq!(open_bound(&sk, &ctx(), &b, &ct).unwrap().expose(), b"bound");
        assert_eq!(
            open_bound(&sk, &ctx(), &[0xb2; 32], &ct).unwrap_err(),
            PssError::Decrypt
        );
        assert_eq!(open(&sk, &ctx(), &ct).unwrap_err(), PssError::Decrypt);
        let plain = seal::<C, _>(&sk.public(), &ctx(), b"plain", &mut rng).unwrap();
        assert_eq!(
            open_bound(&sk, &ctx(), &b, &plain).unwrap_err(),
            PssError::Decrypt
        );
        assert_eq!(
            open_bound(&sk, &Context { epoch: 9, ..ctx() }, &b, &ct).unwrap_err(),
            PssError::ContextMismatch
        );
    }

    #[test]
    fn binding_both_curves() {
        binding_is_enforced::<Secp256k1>();
        binding_is_enforced::<Ed25519>();
    }

    #[test]
    fn refuses_identity_and_oversize() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let id = <Secp256k1 as Curve>::Point::identity();
        assert_eq!(
            seal::<Secp256k1, _>(&id, &ctx(), b"x", &mut rng).unwrap_err(),
            PssError::InvalidInput
        );
        let sk = SecretScalar::<Secp256k1>::random(&mut rng);
        let big = alloc::vec![0u8; MAX_PLAINTEXT_LEN + 1];
        assert_eq!(
            seal::<Secp256k1, _>(&sk.public(), &ctx(), &big, &mut rng).unwrap_err(),
            PssError::InvalidInput
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod known_answer {
    //! Frozen vectors of `SPEC.md` §2.4: fixed recipient and ephemeral keys, fixed context.
    use super::*;
    use wallet_types::{Ed25519, Secp256k1, decode_scalar};

    fn kat<C: Curve>(recipient: &[u8], ephemeral: &[u8], expect: &str) {
        kat_bound::<C>(recipient, ephemeral, None, expect);
    }

    /// With `binding`, the vector of `seal_bound` (`SPEC.md` §2.4, third and fourth vectors).
    fn kat_bound<C: Curve>(
        recipient: &[u8],
        ephemeral: &[u8],
        binding: Option<&[u8; 32]>,
        expect: &str,
    ) {
        let q = SecretScalar::<C>::new(decode_scalar::<C>(recipient).unwrap());
        let e = SecretScalar::<C>::new(decode_scalar::<C>(ephemeral).unwrap());
        let ctx = Context {
            session: SessionId([0x5a; 32]),
            epoch: 7,
            recipient: PartyId::new(3).unwrap(),
        };
        let pt = b"wallet-pss ecies known answer";
        let ct = match binding {
            None => seal_with_ephemeral::<C>(&q.public(), &ctx, pt, &e),
            Some(b) => seal_bound_with_ephemeral::<C>(&q.public(), &ctx, b, pt, &e),
        }
        .unwrap();
        let hex: alloc::string::String = ct
            .to_bytes()
            .iter()
            .map(|b| alloc::format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expect);
        let back = Ciphertext::<C>::from_bytes(&hex::decode(expect).unwrap()).unwrap();
        let opened = match binding {
            None => open(&q, &ctx, &back),
            Some(b) => open_bound(&q, &ctx, b, &back),
        };
        assert_eq!(opened.unwrap().expose(), pt);
    }

    #[test]
    fn bound_vectors() {
        let mut r = [0u8; 32];
        r[31] = 0x11;
        r[0] = 0x01;
        let mut e = [0u8; 32];
        e[31] = 0x22;
        e[0] = 0x02;
        kat_bound::<Secp256k1>(&r, &e, Some(&[0xb1; 32]), SECP256K1_BOUND_VECTOR);
        let mut r = [0u8; 32];
        r[0] = 0x11;
        r[31] = 0x01;
        let mut e = [0u8; 32];
        e[0] = 0x22;
        e[31] = 0x02;
        kat_bound::<Ed25519>(&r, &e, Some(&[0xb1; 32]), ED25519_BOUND_VECTOR);
    }

    const SECP256K1_BOUND_VECTOR: &str = "010501015a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a000000000000000700030201b6e4065a5691c0d46de44c67b4d0165cad6a639e5038ffddf34e0ca1967bac0000002d49ac0caf2ab05490d0660051c188274173ccc258822fde02979e9579f2aea12ddb023d290769b7a722ddae99e4";
    const ED25519_BOUND_VECTOR: &str = "010501025a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a000000000000000700036d9f39d81b15a3ff412e220451a6579942d804bf8eac1180c960f14c8e80c4d10000002d2908114baa347947598f65ef28a40dc7f477fc8f6e73b6fb365dcfe49fab527573eb7019eca71b7517ac625ae0";

    #[test]
    fn secp256k1_vector() {
        let mut r = [0u8; 32];
        r[31] = 0x11;
        r[0] = 0x01;
        let mut e = [0u8; 32];
        e[31] = 0x22;
        e[0] = 0x02;
        kat::<Secp256k1>(&r, &e, SECP256K1_VECTOR);
    }

    #[test]
    fn ed25519_vector() {
        let mut r = [0u8; 32];
        r[0] = 0x11;
        r[31] = 0x01;
        let mut e = [0u8; 32];
        e[0] = 0x22;
        e[31] = 0x02;
        kat::<Ed25519>(&r, &e, ED25519_VECTOR);
    }

    const SECP256K1_VECTOR: &str = "010501015a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a000000000000000700030201b6e4065a5691c0d46de44c67b4d0165cad6a639e5038ffddf34e0ca1967bac0000002d49ac0caf2ab05490d0660051c188274173ccc258822fde02979e9579f2b46e7789982623a5b3ba63f6b2594f49";
    const ED25519_VECTOR: &str = "010501025a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a000000000000000700036d9f39d81b15a3ff412e220451a6579942d804bf8eac1180c960f14c8e80c4d10000002d2908114baa347947598f65ef28a40dc7f477fc8f6e73b6fb365dcfe49fb3e260ccfd74cf342fbff88ac0ab7908";
}
