//! The offline phase for `t ≥ 2` signers: DKLs23 Protocol 3.6, steps 4–9 without the message,
//! as the paper writes it for any threshold.
//!
//! A signer set `S` (at least the key's threshold `t`, this party included) of a `t`-of-n key.
//! Each `P_i ∈ S` holds the Shamir share `x_i`; with the BIP-32 tweak `δ` of the path and the
//! Lagrange coefficient `λ_i` of `i` in `S` at 0, `Σ_{i∈S} λ_i·(x_i + δ) = sk + δ`, the derived
//! key. Two point-to-point rounds, every message one pair's:
//!
//! 1. (steps 5–6) `P_i` samples its instance key `r_i`, its inversion mask `φ_i` and a salt, and
//!    sends every `P_j` the commitment `com_i = T("instance-commit", i, R_i = r_i·G, salt_i)`;
//!    as **Bob** of the `F_RVOLE` instance with `P_j` as Alice, the multiplication's first
//!    message ([`crate::mul::mul_receiver_round1`]), whose random input is `χ_{i,j}`; and its
//!    **zero-share** contribution `z_{i→j}` (a fresh random scalar: see
//!    [below](#the-zero-sharing)).
//! 2. (step 7) On every round-1 message: `ζ_i = Σ_j (z_{i→j} − z_{j→i})`, so `Σ_{i∈S} ζ_i = 0`,
//!    and the re-randomised additive key share `sk_i = λ_i·(x_i + δ) + ζ_i` with
//!    `pk_i = sk_i·G`. As **Alice** with inputs `(r_i, sk_i)` in each pair
//!    ([`crate::mul::mul_sender_round2`]) `P_i` obtains `c^u_{i,j}`, `c^v_{i,j}` with
//!    `c^u_{i,j} + d^u_{j,i} = r_i·χ_{j,i}` and `c^v_{i,j} + d^v_{j,i} = sk_i·χ_{j,i}`, and sends
//!    `P_j` the second message, `Γ^u_{i,j} = c^u_{i,j}·G`, `Γ^v_{i,j} = c^v_{i,j}·G`,
//!    `pk_i`, the opening `(R_i, salt_i)` and the correction `ψ_{i,j} = φ_i − χ_{i,j}`.
//! 3. (step 8, on every round-2 message) check each opening ([`Reason::CommitmentMismatch`]
//!    naming the sender); finish each multiplication as Bob ([`Reason::OtConsistency`] /
//!    [`Reason::MultiplicationCheck`], both bans of that pair) and check, per pair,
//!    `χ_{i,j}·R_j = Γ^u_{j,i} + d^u_{i,j}·G` and `χ_{i,j}·pk_j = Γ^v_{j,i} + d^v_{i,j}·G`
//!    (batched into one equation with a fresh local `ρ < 2^128`, as in [`super::Presign`];
//!    [`Reason::MultiplicationCheck`] naming that counterparty, a ban: it fed its
//!    multiplication inputs other than the ones it is committed to). Then
//!    `Σ_{j∈S} pk_j = sk·G + δ·G` ([`Reason::PublicKeyMismatch`], naming every other signer:
//!    with the zero-sharing in place no one `pk_j` can be checked alone).
//! 4. (step 9, message-independent part) `R = Σ_j R_j`,
//!    `u_i = r_i·(φ_i + Σ_j ψ_{j,i}) + Σ_j (c^u_{i,j} + d^u_{i,j})` and
//!    `v_i = sk_i·(φ_i + Σ_j ψ_{j,i}) + Σ_j (c^v_{i,j} + d^v_{i,j})`. Since
//!    `χ_{j,i} + ψ_{j,i} = φ_j`, the cross terms add up to `Σ_{i≠j} r_i·φ_j`, so
//!    `Σ u_i = r·φ` and `Σ v_i = (sk + δ)·φ`. The presignature `(R, φ_i, u_i, v_i)` is sealed
//!    into the signer's [`KeyStore`]; the output is the public [`PresignatureInfo`], and the
//!    online step is the same as for two signers ([`super::partial_sign`] /
//!    [`super::combine_all`]).
//!
//! A presign among `t` signers runs `t·(t − 1)` multiplications, two per pair and direction
//! messages. Every pair's work is independent of the others': a server signer may run them in
//! the order the messages arrive (the machine waits for a round to be complete only because
//! the sums of step 4 need every pair).
//!
//! ## The zero-sharing
//!
//! The paper re-randomises the additive key shares with `F_Zero` (DKLs23 §3, Functionality 3.4
//! in the version read): fresh shares `ζ_i` of zero, so that the `pk_i` a signer reveals in round
//! 2 are fresh in every session instead of the fixed `λ_i·(X_i + δ·G)`. The two-party
//! specialisation ([`super::Presign`]) may drop it (with two signers `pk_j` is determined by
//! the public key and `pk_i` anyway). Here it is realised with one fresh value per ordered pair
//! sent over the (authenticated, private: see [`crate::ot`]) channel in round 1:
//! `ζ_i = Σ_j (z_{i→j} − z_{j→i})`. As with `F_Zero`, a corrupt party knows exactly the
//! contributions of the pairs it is in; the honest parties' shares are uniformly random subject
//! to summing to zero with the corrupt ones. It costs 32 bytes per pair message and no extra
//! round; its price is that the sum check of step 3 cannot say *which* signer's `pk_j` is off.
//!
//! ## Who owns what
//!
//! As in [`super::Presign`]: the machine never holds the key share or an OT setup. Every step
//! that uses the setup with `P_j` runs under that pairing's lock ([`super::store`]), which
//! refuses a banned pairing or a retired epoch and records a ban before the error returns;
//! `sk_i` is recomputed from the store's share inside the lock each time it is needed and
//! dropped there. The state holds this session's ephemeral secrets only (`r_i`, `φ_i`, the
//! zero-share contributions, Bob's OT outputs, `c^u`, `c^v`).
//!
//! ## Consistency of `R`
//!
//! All messages are point-to-point, and so is the "broadcast" of `com_i` and `R_i`: a signer
//! that shows different instance points to different signers makes them compute different
//! presignatures (different ids: [`super::combine_all`] refuses the partials as
//! [`wallet_types::ParamError::Mismatch`]; [`super::Sign`] names the other signers). Nothing
//! leaks: each presignature is still used once, and the multiplication checks bind every
//! `R_j` a signer saw to the instance key its sender multiplied with.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use k256::elliptic_curve::ops::LinearCombination;
use rand_core::CryptoRng;
use wallet_types::group::Group;
use wallet_types::{
    DecodeError, Envelope, Error, Inbox, Lifecycle, ObjectKind, ParamError, Parties, PartyId,
    Protocol, Reader, Reason, Recipient, RoundMessage, RoundSpec, Secp256k1, SecretBytes,
    SecretScalar, SecretVec, SessionId, Step, Transcript, WireObject, Writer,
};

use crate::mul::{MulMsg1, MulMsg2, MulReceiverState};

use super::derive::DerivationPath;
use super::keygen::{KeyShare, PairSetup, ShareInTransit};
use super::presign::{
    MAX_OBJ, Presignature, PresignatureInfo, batch_coefficient, encode_points, get_opt_scalar,
    instance_commitment, prefix_of, put_opt_scalar,
};
use super::store::{KeyStore, PairingGuard, with_pairing};
use super::{MULTI_PRESIGN_PROTOCOL, kinds};

type Point = k256::ProjectivePoint;

fn rounds() -> Vec<RoundSpec> {
    alloc::vec![RoundSpec::p2p(), RoundSpec::p2p()]
}

/// The session of the multiplication in which `alice` is Alice and `bob` is Bob (bound to the
/// key id, as for two signers, and labelled apart from the two-party presign's).
fn mul_session(session: &SessionId, key_id: &[u8; 32], alice: PartyId, bob: PartyId) -> SessionId {
    let mut label = Vec::with_capacity(55);
    label.extend_from_slice(b"ecdsa-presign-t-mul");
    label.extend_from_slice(&alice.to_bytes());
    label.extend_from_slice(&bob.to_bytes());
    label.extend_from_slice(key_id);
    session.derive(&label)
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/// Round 1 to one signer: commitment to `R_i`, the zero-share contribution, the
/// multiplication's first message (sender as Bob).
#[derive(Clone, Debug)]
pub struct MultiPresignRound1 {
    /// `T("instance-commit", i, R_i, salt_i)` (the same to every signer).
    pub commitment: [u8; 32],
    /// `z_{i→j}` (secret: the channel must encrypt).
    pub zero: ShareInTransit,
    /// `F_RVOLE` message 1 (sender as Bob).
    pub mul: MulMsg1,
}

/// Round 2 to one signer: the opening of `R_i`, `pk_i`, `ψ_{i,j}`, the multiplication's second
/// message (sender as Alice) and its `Γ`s.
#[derive(Clone, Debug)]
pub struct MultiPresignRound2 {
    /// The instance point `R_i`.
    pub instance_point: Point,
    /// The commitment's salt.
    pub salt: [u8; 32],
    /// `pk_i = sk_i·G` of the re-randomised additive share.
    pub public_share: Point,
    /// `ψ_{i,j} = φ_i − χ_{i,j}` (secret: the channel must encrypt).
    pub psi: ShareInTransit,
    /// `Γ^u = c^u·G`.
    pub gamma_u: Point,
    /// `Γ^v = c^v·G`.
    pub gamma_v: Point,
    /// `F_RVOLE` message 2 (sender as Alice).
    pub mul: MulMsg2,
}

/// A message of the `t`-party presign.
// Messages are built once and moved a few times per round; boxing would only add allocations.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum MultiPresignMessage {
    /// Round 1.
    Round1(MultiPresignRound1),
    /// Round 2.
    Round2(MultiPresignRound2),
}

impl RoundMessage for MultiPresignMessage {
    fn round(&self) -> u16 {
        match self {
            Self::Round1(_) => 1,
            Self::Round2(_) => 2,
        }
    }
}

/// Body: `round u8 ||` round 1: `commitment[32] || z[32] || u32be(len) || MulMsg1`; round 2:
/// `R_i[33] || salt[32] || pk_i[33] || ψ[32] || Γ^u[33] || Γ^v[33] || u32be(len) || MulMsg2`.
/// See `SPEC.md`.
impl WireObject for MultiPresignMessage {
    const KIND: ObjectKind = kinds::MULTI_PRESIGN_MESSAGE;
    const MAX_LEN: usize = 1 << 22;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.u8(self.round() as u8);
        match self {
            Self::Round1(m) => {
                w.bytes(&m.commitment);
                w.secret_scalar(&m.zero.to_secret());
                w.object(&m.mul);
            }
            Self::Round2(m) => {
                let [r, pk, gu, gv] =
                    encode_points(&[m.instance_point, m.public_share, m.gamma_u, m.gamma_v]);
                w.bytes(&r);
                w.bytes(&m.salt);
                w.bytes(&pk);
                w.secret_scalar(&m.psi.to_secret());
                w.bytes(&gu);
                w.bytes(&gv);
                w.object(&m.mul);
            }
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            1 => Self::Round1(MultiPresignRound1 {
                commitment: r.array()?,
                zero: ShareInTransit::new(&r.secret_scalar::<Secp256k1>()?),
                mul: MulMsg1::from_bytes(r.var_bytes(MulMsg1::MAX_LEN)?)?,
            }),
            2 => Self::Round2(MultiPresignRound2 {
                instance_point: r.point::<Secp256k1>()?,
                salt: r.array()?,
                public_share: r.point::<Secp256k1>()?,
                psi: ShareInTransit::new(&r.secret_scalar::<Secp256k1>()?),
                gamma_u: r.point::<Secp256k1>()?,
                gamma_v: r.point::<Secp256k1>()?,
                mul: MulMsg2::from_bytes(r.var_bytes(MulMsg2::MAX_LEN)?)?,
            }),
            t => return Err(DecodeError::InvalidTag(t)),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// The machine
// ---------------------------------------------------------------------------------------------

/// This signer's view of one other signer `P_j`.
struct Peer {
    /// `z_{i→j}`, sampled at construction.
    zero_out: SecretScalar<Secp256k1>,
    /// Bob's state of the multiplication with `P_j` as Alice (round 1 to round 2).
    mul: Option<MulReceiverState>,
    /// `com_j` (round 1).
    commitment: Option<[u8; 32]>,
    /// `z_{j→i}` (round 1).
    zero_in: Option<SecretScalar<Secp256k1>>,
    /// Alice's shares `c^u_{i,j}`, `c^v_{i,j}` (round 2).
    c_u: Option<SecretScalar<Secp256k1>>,
    c_v: Option<SecretScalar<Secp256k1>>,
}

struct State {
    inbox: Inbox<MultiPresignMessage>,
    key_id: [u8; 32],
    epoch: u64,
    path: DerivationPath,
    public_key: Point,
    /// The BIP-32 tweak `δ` of the path (public).
    delta: k256::Scalar,
    /// `λ_i` of this party in the signer set (public).
    lambda: k256::Scalar,
    r: SecretScalar<Secp256k1>,
    phi: SecretScalar<Secp256k1>,
    salt: SecretBytes<32>,
    /// `pk_i`, after round 2 was sent (public).
    public_share: Option<Point>,
    peers: BTreeMap<PartyId, Peer>,
    /// Recomputed on construction and on decode, never stored.
    cache: Cache,
}

struct Cache {
    prefix: Transcript,
    instance_point: Point,
    instance_bytes: [u8; 33],
    commitment: [u8; 32],
}

impl Cache {
    fn new(
        inbox: &Inbox<MultiPresignMessage>,
        key_id: &[u8; 32],
        path: &DerivationPath,
        public_key: &Point,
        r: &SecretScalar<Secp256k1>,
        salt: &SecretBytes<32>,
    ) -> Self {
        let instance_point = r.public();
        let [pk_bytes, instance_bytes] = encode_points(&[*public_key, instance_point]);
        let prefix = prefix_of(
            MULTI_PRESIGN_PROTOCOL,
            inbox.session(),
            key_id,
            inbox.parties(),
            path,
            &pk_bytes,
        );
        let commitment = instance_commitment(&prefix, inbox.me(), &instance_bytes, salt.expose());
        Self {
            prefix,
            instance_point,
            instance_bytes,
            commitment,
        }
    }
}

/// One signer of the `t`-party presign (see the module docs), on the key share owned by its
/// [`KeyStore`] `S`. For two signers of a 2-of-n key, [`super::Presign`] is the faster
/// specialisation (no zero-sharing, no `ψ`); this machine also runs with two signers.
///
/// Persist it between rounds with [`MultiPresign::save`] / [`MultiPresign::restore`] (this
/// session's ephemeral secrets, no key material: store encrypted).
pub struct MultiPresign<S: KeyStore> {
    store: S,
    inner: MultiPresignState,
}

/// The serialized form of a [`MultiPresign`] machine (kind `0x03a9`): everything but the store.
pub struct MultiPresignState {
    me: PartyId,
    life: Lifecycle<State>,
}

impl<S: KeyStore> fmt::Debug for MultiPresign<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl fmt::Debug for MultiPresignState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MultiPresign")
            .field("me", &self.me)
            .field("state", &self.life.tag())
            .finish_non_exhaustive()
    }
}

/// Adds `a` into the accumulator `acc` (constant-time scalar arithmetic).
fn add_into(acc: &mut SecretScalar<Secp256k1>, a: &k256::Scalar) {
    *acc.expose_mut() += a;
}

impl State {
    fn with_pairing<S: KeyStore + ?Sized, T>(
        &self,
        store: &S,
        j: PartyId,
        f: impl FnOnce(&KeyShare, &PairSetup) -> Result<T, Error>,
    ) -> Result<T, Error> {
        with_pairing(store, j, &self.key_id, self.epoch, f)
    }

    /// `ζ_i = Σ_j (z_{i→j} − z_{j→i})`, once every round-1 message is in.
    fn zeta(&self) -> Result<SecretScalar<Secp256k1>, Error> {
        let mut zeta = SecretScalar::<Secp256k1>::new(k256::Scalar::ZERO);
        for p in self.peers.values() {
            let zin = p.zero_in.as_ref().ok_or(Error::Internal)?;
            add_into(&mut zeta, &(*p.zero_out.expose() - zin.expose()));
        }
        Ok(zeta)
    }

    /// `sk_i = λ_i·(x_i + δ) + ζ_i` from the store's current share.
    fn additive_share(
        &self,
        key: &KeyShare,
        zeta: &SecretScalar<Secp256k1>,
    ) -> SecretScalar<Secp256k1> {
        SecretScalar::new(self.lambda * (*key.secret_share().expose() + self.delta) + zeta.expose())
    }

    fn start<S: KeyStore + ?Sized, R: CryptoRng + ?Sized>(
        &mut self,
        store: &S,
        rng: &mut R,
    ) -> Result<Vec<Envelope<MultiPresignMessage>>, Error> {
        let me = self.inbox.me();
        let commitment = self.cache.commitment;
        let others: Vec<PartyId> = self.peers.keys().copied().collect();
        let mut out = Vec::with_capacity(others.len());
        for j in others {
            // Step 6: as Bob with P_j as Alice (random input χ_{i,j}).
            let session = mul_session(self.inbox.session(), &self.key_id, j, me);
            let (state, msg1) = self.with_pairing(store, j, |_, pair| {
                crate::mul::mul_receiver_round1(&pair.receiver, &session, 2, rng)
            })?;
            let peer = self.peers.get_mut(&j).ok_or(Error::Internal)?;
            peer.mul = Some(state);
            let zero = ShareInTransit::new(&peer.zero_out);
            out.push(self.inbox.envelope(
                1,
                Recipient::One(j),
                MultiPresignMessage::Round1(MultiPresignRound1 {
                    commitment,
                    zero,
                    mul: msg1,
                }),
            ));
        }
        Ok(out)
    }

    fn advance<S: KeyStore + ?Sized, R: CryptoRng + ?Sized>(
        &mut self,
        store: &S,
        rng: &mut R,
    ) -> Result<(Vec<Envelope<MultiPresignMessage>>, Option<PresignatureInfo>), Error> {
        let mut out = Vec::new();
        while let Some(msgs) = self.inbox.take_current() {
            match self.inbox.current_round() {
                2 => out.extend(self.round1(store, msgs, rng)?),
                3 => return Ok((out, Some(self.round2(store, msgs, rng)?))),
                _ => return Err(Error::Internal),
            }
        }
        Ok((out, None))
    }

    fn round1<S: KeyStore + ?Sized, R: CryptoRng + ?Sized>(
        &mut self,
        store: &S,
        msgs: BTreeMap<PartyId, MultiPresignMessage>,
        rng: &mut R,
    ) -> Result<Vec<Envelope<MultiPresignMessage>>, Error> {
        let me = self.inbox.me();
        let mut firsts = BTreeMap::new();
        for (j, m) in msgs {
            let MultiPresignMessage::Round1(m) = m else {
                return Err(Error::blame(j, Reason::MalformedMessage));
            };
            let peer = self.peers.get_mut(&j).ok_or(Error::Internal)?;
            peer.commitment = Some(m.commitment);
            peer.zero_in = Some(m.zero.to_secret());
            firsts.insert(j, m.mul);
        }
        let zeta = self.zeta()?;
        let mut out = Vec::with_capacity(firsts.len());
        let mut public_share = None;
        for (j, msg1) in firsts {
            // Step 7: as Alice with inputs (r_i, sk_i) in the pair with P_j.
            let session = mul_session(self.inbox.session(), &self.key_id, me, j);
            let (c, msg2) = self.with_pairing(store, j, |key, pair| {
                let sk = self.additive_share(key, &zeta);
                if public_share.is_none() {
                    public_share = Some(sk.public());
                }
                let inputs = [self.r.duplicate(), sk];
                crate::mul::mul_sender_round2(&pair.sender, &session, &inputs, &msg1, j, rng)
                    .map_err(super::attribute(j))
            })?;
            let [c_u, c_v]: [SecretScalar<Secp256k1>; 2] =
                c.try_into().map_err(|_| Error::Internal)?;
            let (gamma_u, gamma_v) = (c_u.public(), c_v.public());
            let pk = public_share.ok_or(Error::Internal)?;
            let peer = self.peers.get_mut(&j).ok_or(Error::Internal)?;
            let chi = peer.mul.as_ref().ok_or(Error::Internal)?.b();
            let psi = SecretScalar::<Secp256k1>::new(*self.phi.expose() - chi.expose());
            peer.c_u = Some(c_u);
            peer.c_v = Some(c_v);
            out.push(self.inbox.envelope(
                2,
                Recipient::One(j),
                MultiPresignMessage::Round2(MultiPresignRound2 {
                    instance_point: self.cache.instance_point,
                    salt: *self.salt.expose(),
                    public_share: pk,
                    psi: ShareInTransit::new(&psi),
                    gamma_u,
                    gamma_v,
                    mul: msg2,
                }),
            ));
        }
        self.public_share = public_share;
        Ok(out)
    }

    #[allow(non_snake_case)]
    fn round2<S: KeyStore + ?Sized, R: CryptoRng + ?Sized>(
        &mut self,
        store: &S,
        msgs: BTreeMap<PartyId, MultiPresignMessage>,
        rng: &mut R,
    ) -> Result<PresignatureInfo, Error> {
        let me = self.inbox.me();
        // Step 8, first the checks that consume nothing: every opening, every echo (a stale
        // answer is a rejection that leaves the machine as it was).
        let mut seconds = BTreeMap::new();
        let mut opened = BTreeMap::new();
        for (j, m) in msgs {
            let MultiPresignMessage::Round2(m) = m else {
                return Err(Error::blame(j, Reason::MalformedMessage));
            };
            let peer = self.peers.get(&j).ok_or(Error::Internal)?;
            let com = peer.commitment.ok_or(Error::Internal)?;
            let R_j_bytes = super::derive::compressed(&m.instance_point);
            if instance_commitment(&self.cache.prefix, j, &R_j_bytes, &m.salt) != com {
                return Err(Error::blame(j, Reason::CommitmentMismatch));
            }
            peer.mul
                .as_ref()
                .ok_or(Error::Internal)?
                .check_answers(&m.mul, j)
                .map_err(super::attribute(j))?;
            opened.insert(j, (R_j_bytes, com));
            seconds.insert(j, m);
        }
        // The presignature's id: every signer's R_p and com_p, in id order.
        let mut t = self.cache.prefix.clone();
        let mut R = self.cache.instance_point;
        for p in self.inbox.parties().iter() {
            let (point, c) = if p == me {
                (&self.cache.instance_bytes, &self.cache.commitment)
            } else {
                let (b, c) = opened.get(&p).ok_or(Error::Internal)?;
                (b, c)
            };
            t.append_party("party", p);
            t.append("instance-point", point);
            t.append("instance-commit", c);
        }
        for m in seconds.values() {
            R += m.instance_point;
        }
        let info = PresignatureInfo {
            id: t.output32("presignature-id"),
            key_id: self.key_id,
            epoch: self.epoch,
            signers: self.inbox.parties().clone(),
            path: self.path.clone(),
            public_key: self.public_key,
            instance_point: R,
        };
        // Step 8, each pair under its lock: finish the multiplication as Bob, then the batched
        // Γ checks. A failure bans that pair (recorded before the lock is released).
        let zero = k256::Scalar::ZERO;
        let mut sum_u = SecretScalar::<Secp256k1>::new(zero);
        let mut sum_v = SecretScalar::<Secp256k1>::new(zero);
        let mut psi_sum = SecretScalar::<Secp256k1>::new(zero);
        let mut pk_sum = self.public_share.ok_or(Error::Internal)?;
        for (j, m) in &seconds {
            let j = *j;
            let peer = self.peers.get_mut(&j).ok_or(Error::Internal)?;
            let state = peer.mul.take().ok_or(Error::Internal)?;
            let c_u = peer.c_u.take().ok_or(Error::Internal)?;
            let c_v = peer.c_v.take().ok_or(Error::Internal)?;
            let session = mul_session(self.inbox.session(), &self.key_id, j, me);
            let (d_u, d_v) = with_pairing(store, j, &self.key_id, self.epoch, |_, pair| {
                let (chi, d) = state
                    .finish(&pair.receiver, &session, &m.mul, j)
                    .map_err(super::attribute(j))?;
                let [d_u, d_v]: [SecretScalar<Secp256k1>; 2] =
                    d.try_into().map_err(|_| Error::Internal)?;
                // χ·R_j + (ρ·χ)·pk_j − ρ·Γ^v = Γ^u + (d^u + ρ·d^v)·G, for a fresh local ρ.
                let rho = batch_coefficient(rng);
                let rho_chi = SecretScalar::<Secp256k1>::new(rho * chi.expose());
                let lhs = Point::lincomb(&[
                    (m.instance_point, *chi.expose()),
                    (m.public_share, *rho_chi.expose()),
                    (m.gamma_v, -rho),
                ]);
                let d = SecretScalar::<Secp256k1>::new(*d_u.expose() + rho * d_v.expose());
                if lhs != m.gamma_u + d.public() {
                    return Err(Error::blame(j, Reason::MultiplicationCheck));
                }
                Ok((d_u, d_v))
            })?;
            add_into(&mut sum_u, &(*c_u.expose() + d_u.expose()));
            add_into(&mut sum_v, &(*c_v.expose() + d_v.expose()));
            add_into(&mut psi_sum, m.psi.to_secret().expose());
            pk_sum += m.public_share;
        }
        if pk_sum != self.public_key {
            let others: Vec<PartyId> = seconds.keys().copied().collect();
            return Err(Error::blame_all(others, Reason::PublicKeyMismatch));
        }
        if bool::from(info.instance_point.is_identity()) {
            let others: Vec<PartyId> = seconds.keys().copied().collect();
            return Err(Error::blame_all(others, Reason::InvalidResult));
        }
        // Step 9 (message-independent part), with the share under a lock once more.
        let zeta = self.zeta()?;
        let first = *self.peers.keys().next().ok_or(Error::Internal)?;
        let sealed = self.with_pairing(store, first, |key, _| {
            let sk = self.additive_share(key, &zeta);
            let mask = SecretScalar::<Secp256k1>::new(*self.phi.expose() + psi_sum.expose());
            let u =
                SecretScalar::<Secp256k1>::new(*self.r.expose() * mask.expose() + sum_u.expose());
            let v = SecretScalar::<Secp256k1>::new(*sk.expose() * mask.expose() + sum_v.expose());
            Presignature::new(&info, me, self.phi.duplicate(), u, v).seal(key, rng)
        })?;
        // Single use across restores: the store refuses a second copy under one id.
        store.put(&info.key_id, &info.id, sealed)?;
        Ok(info)
    }
}

impl<S: KeyStore> MultiPresign<S> {
    /// A presign machine for the store's party among `signers` (this party and at least
    /// `threshold − 1` others of the key), bound to the derivation `path` and the fresh
    /// `session` (see the module docs and [`super::Presign::new`] on choosing it).
    ///
    /// Errors: this party not among `signers`, or a signer that is not a party of the key
    /// ([`ParamError::NotAMember`]); fewer signers than the threshold
    /// ([`ParamError::TooFewParties`]); a pairing with a signer was ended ([`Error::Banned`]);
    /// the path hits BIP-32's invalid-child case ([`ParamError::OutOfRange`]); the store failed
    /// ([`Error::Store`]).
    pub fn new<R: CryptoRng + ?Sized>(
        store: S,
        signers: Parties,
        path: DerivationPath,
        session: SessionId,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let first = signers.iter().next().ok_or(ParamError::Mismatch)?;
        let guard = store.lock_pairing(first)?;
        let key = guard.key();
        let me = key.me();
        if !signers.contains(me) {
            return Err(ParamError::NotAMember(me).into());
        }
        if let Some(p) = signers.iter().find(|p| !key.parties().contains(*p)) {
            return Err(ParamError::NotAMember(p).into());
        }
        if signers.len() < key.threshold().max(2) {
            return Err(ParamError::TooFewParties {
                needed: key.threshold().max(2),
                given: signers.len(),
            }
            .into());
        }
        if let Some(p) = signers.others(me).find(|p| key.pair(*p).is_none()) {
            return Err(Error::Banned { party: p });
        }
        let derivation = key.derive(&path).map_err(|_| ParamError::OutOfRange)?;
        let ids: Vec<PartyId> = signers.iter().collect();
        let lambda =
            wallet_sss::lagrange_at_zero::<Secp256k1>(&ids, me).map_err(|_| Error::Internal)?;
        let (key_id, epoch) = (*key.key_id(), key.epoch());
        drop(guard);
        let inbox = Inbox::new(session, me, signers, rounds())?;
        let r = SecretScalar::random(rng);
        let phi = SecretScalar::random(rng);
        let salt = SecretBytes::random(rng);
        let peers = ids
            .iter()
            .filter(|p| **p != me)
            .map(|p| {
                (
                    *p,
                    Peer {
                        zero_out: SecretScalar::random(rng),
                        mul: None,
                        commitment: None,
                        zero_in: None,
                        c_u: None,
                        c_v: None,
                    },
                )
            })
            .collect();
        let cache = Cache::new(&inbox, &key_id, &path, &derivation.public_key, &r, &salt);
        Ok(Self {
            store,
            inner: MultiPresignState {
                me,
                life: Lifecycle::Created(State {
                    inbox,
                    key_id,
                    epoch,
                    path,
                    public_key: derivation.public_key,
                    delta: derivation.tweak,
                    lambda,
                    r,
                    phi,
                    salt,
                    public_share: None,
                    peers,
                    cache,
                }),
            },
        })
    }

    /// The machine's serialized state (kind `0x03a9`; ephemeral secrets, no key material:
    /// store encrypted).
    pub fn save(&self) -> SecretVec {
        self.inner.to_secret_bytes()
    }

    /// A machine restored from [`MultiPresign::save`]'s bytes, working on `store` again (the
    /// store decides at the next step whether the session may go on, as for
    /// [`super::Presign::restore`]).
    pub fn restore(store: S, bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self::from_state(
            store,
            MultiPresignState::from_bytes(bytes)?,
        ))
    }

    /// Attaches a decoded state to `store`.
    pub fn from_state(store: S, inner: MultiPresignState) -> Self {
        Self { store, inner }
    }

    /// The store the machine works on.
    pub fn store(&self) -> &S {
        &self.store
    }
}

impl<S: KeyStore> Protocol for MultiPresign<S> {
    type Message = MultiPresignMessage;
    type Output = PresignatureInfo;

    fn me(&self) -> PartyId {
        self.inner.me
    }

    fn start<R: CryptoRng + ?Sized>(
        &mut self,
        rng: &mut R,
    ) -> Result<Step<MultiPresignMessage, PresignatureInfo>, Error> {
        let store = &self.store;
        self.inner
            .life
            .start(|s| Ok((Step::Continue(s.start(store, rng)?), false)))
    }

    fn handle<R: CryptoRng + ?Sized>(
        &mut self,
        incoming: Envelope<MultiPresignMessage>,
        rng: &mut R,
    ) -> Result<Step<MultiPresignMessage, PresignatureInfo>, Error> {
        let store = &self.store;
        self.inner.life.step(|s| {
            s.inbox.receive(incoming)?;
            let (out, output) = s.advance(store, rng)?;
            Ok(Step::from_round(out, output))
        })
    }
}

/// State body: `me u16 || lifecycle u8`; if created / running: `inbox || key_id[32] || epoch
/// u64 || path || public_key[33] || δ[32] || λ_i[32] || r[32] || φ[32] || salt[32] || has u8 ||
/// [pk_i[33]] || u16 k || k × (party u16 || z_out[32] || has u8 || [u32be(len) ||
/// MulReceiverState] || has u8 || [com[32]] || has u8 || [z_in[32]] || has u8 || [c_u[32]] ||
/// has u8 || [c_v[32]])`, one entry per other signer in id order. No key share, no OT setup.
/// Holds this session's secrets: store encrypted.
impl WireObject for MultiPresignState {
    const KIND: ObjectKind = kinds::MULTI_PRESIGN_STATE;
    const SECRET: bool = true;
    const MAX_LEN: usize = 1 << 26;
    const CURVE: Option<wallet_types::CurveId> = Some(wallet_types::CurveId::Secp256k1);

    fn encode_body(&self, w: &mut Writer) {
        w.party(self.me);
        w.u8(self.life.tag());
        let Some(s) = self.life.state() else {
            return;
        };
        s.inbox.encode(w);
        w.bytes(&s.key_id);
        w.u64(s.epoch);
        s.path.encode(w);
        w.point::<Secp256k1>(&s.public_key);
        w.scalar::<Secp256k1>(&s.delta);
        w.scalar::<Secp256k1>(&s.lambda);
        w.secret_scalar(&s.r);
        w.secret_scalar(&s.phi);
        w.bytes(s.salt.expose());
        match &s.public_share {
            Some(p) => {
                w.u8(1);
                w.point::<Secp256k1>(p);
            }
            None => w.u8(0),
        }
        w.u16(s.peers.len() as u16);
        for (j, p) in &s.peers {
            w.party(*j);
            w.secret_scalar(&p.zero_out);
            match &p.mul {
                Some(m) => {
                    w.u8(1);
                    w.object(m);
                }
                None => w.u8(0),
            }
            match &p.commitment {
                Some(c) => {
                    w.u8(1);
                    w.bytes(c);
                }
                None => w.u8(0),
            }
            put_opt_scalar(w, &p.zero_in);
            put_opt_scalar(w, &p.c_u);
            put_opt_scalar(w, &p.c_v);
        }
    }

    fn decode_body(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let me = r.party()?;
        let tag = r.u8()?;
        let life = match tag {
            0 | 1 => {
                let inbox = Inbox::<MultiPresignMessage>::decode(r, rounds())?;
                if inbox.me() != me || inbox.parties().len() < 2 {
                    return Err(DecodeError::InvalidValue);
                }
                let key_id = r.array()?;
                let epoch = r.u64()?;
                let path = DerivationPath::decode(r)?;
                let public_key = r.point::<Secp256k1>()?;
                let delta = r.scalar::<Secp256k1>()?;
                let lambda = r.scalar::<Secp256k1>()?;
                let ids: Vec<PartyId> = inbox.parties().iter().collect();
                if wallet_sss::lagrange_at_zero::<Secp256k1>(&ids, me).ok() != Some(lambda) {
                    return Err(DecodeError::InvalidValue);
                }
                let rr = r.secret_scalar::<Secp256k1>()?;
                let phi = r.secret_scalar::<Secp256k1>()?;
                let salt = SecretBytes::new(r.array()?);
                let public_share = if r.bool()? {
                    Some(r.point::<Secp256k1>()?)
                } else {
                    None
                };
                let n = r.count16(ids.len() - 1, 2 + 32 + 6)?;
                let mut peers = BTreeMap::new();
                for _ in 0..n {
                    let j = r.party()?;
                    let zero_out = r.secret_scalar::<Secp256k1>()?;
                    let mul = if r.bool()? {
                        Some(MulReceiverState::from_bytes(r.var_bytes(MAX_OBJ)?)?)
                    } else {
                        None
                    };
                    let commitment = if r.bool()? { Some(r.array()?) } else { None };
                    let peer = Peer {
                        zero_out,
                        mul,
                        commitment,
                        zero_in: get_opt_scalar(r)?,
                        c_u: get_opt_scalar(r)?,
                        c_v: get_opt_scalar(r)?,
                    };
                    if j == me || !inbox.parties().contains(j) || peers.insert(j, peer).is_some() {
                        return Err(DecodeError::InvalidValue);
                    }
                }
                if peers.len() != ids.len() - 1 {
                    return Err(DecodeError::InvalidValue);
                }
                let cache = Cache::new(&inbox, &key_id, &path, &public_key, &rr, &salt);
                let s = State {
                    inbox,
                    key_id,
                    epoch,
                    path,
                    public_key,
                    delta,
                    lambda,
                    r: rr,
                    phi,
                    salt,
                    public_share,
                    peers,
                    cache,
                };
                if tag == 0 {
                    Lifecycle::Created(s)
                } else {
                    Lifecycle::Running(s)
                }
            }
            2 => Lifecycle::Finished,
            3 => Lifecycle::Aborted,
            t => return Err(DecodeError::InvalidTag(t)),
        };
        Ok(Self { me, life })
    }
}
