//! The pairwise OT setups of a 2-of-n ECDSA key, shared by [`super::Keygen`] and
//! [`super::Resetup`]: for every **ordered** pair `(Alice = P_a, Bob = P_b)` the five-message
//! setup of [`crate::ot`] runs under `SessionId::derive("ecdsa-ot-setup" ‖ a ‖ b)` of the
//! embedding machine's session. In the embedding protocol's round `k` (1..=5) each party sends
//! every counterparty the `k`-th setup message of the direction in which it is Bob (`k` odd) or
//! Alice (`k` even).
//!
//! Both machines end with the same two closing rounds: once all its setups are complete, each
//! party sends every other party a hash of its protocol transcript extended by
//! [`PairwiseSetups::append_setup_ids`] (round 6), then acknowledges the confirmations it got
//! (round 7, [`wallet_types::termination`]); see [`super::keygen`] and [`super::resetup`].

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use rand_core::CryptoRng;
use wallet_types::{
    DecodeError, Error, Parties, PartyId, Reader, SessionId, Transcript, WireObject, Writer,
};

use crate::ot::{
    MulReceiverSetup, MulSenderSetup, OtSetupMsg1, OtSetupMsg2, OtSetupMsg3, OtSetupMsg4,
    OtSetupMsg5, SetupAlice2, SetupAlice4, SetupBob1, SetupBob3,
};

use super::keygen::PairSetup;

const MAX_OT_STATE: usize = 1 << 20;

/// The session of the OT setup in which `alice` is Alice and `bob` is Bob.
pub(crate) fn ot_session(session: &SessionId, alice: PartyId, bob: PartyId) -> SessionId {
    let mut label = Vec::with_capacity(18);
    label.extend_from_slice(b"ecdsa-ot-setup");
    label.extend_from_slice(&alice.to_bytes());
    label.extend_from_slice(&bob.to_bytes());
    session.derive(&label)
}

/// Bob's side of the OT setup with one counterparty (this party as VOLE receiver).
enum BobSide {
    R1(SetupBob1),
    R3(SetupBob3),
    Done(MulReceiverSetup),
}

/// Alice's side of the OT setup with one counterparty (this party as VOLE sender).
enum AliceSide {
    Waiting,
    R2(SetupAlice2),
    R4(SetupAlice4),
    Done(MulSenderSetup),
}

fn put_secret_obj<T: WireObject>(w: &mut Writer, o: &T) {
    let b = o.to_secret_bytes();
    w.var_bytes(b.expose());
}

/// This party's OT setups with every other party, in progress.
#[derive(Default)]
pub(crate) struct PairwiseSetups {
    bob: BTreeMap<PartyId, BobSide>,
    alice: BTreeMap<PartyId, AliceSide>,
}

impl PairwiseSetups {
    /// Message 1 (this party as Bob) for every other party.
    pub(crate) fn round1<R: CryptoRng + ?Sized>(
        &mut self,
        session: &SessionId,
        me: PartyId,
        parties: &Parties,
        rng: &mut R,
    ) -> BTreeMap<PartyId, OtSetupMsg1> {
        let mut out = BTreeMap::new();
        for j in parties.others(me) {
            let (b1, m1) = crate::ot::setup_bob_round1(&ot_session(session, j, me), me, j, rng);
            self.bob.insert(j, BobSide::R1(b1));
            self.alice.insert(j, AliceSide::Waiting);
            out.insert(j, m1);
        }
        out
    }

    /// Message 2 (this party as Alice) answering `j`'s message 1.
    pub(crate) fn round2<R: CryptoRng + ?Sized>(
        &mut self,
        session: &SessionId,
        me: PartyId,
        j: PartyId,
        m1: &OtSetupMsg1,
        rng: &mut R,
    ) -> Result<OtSetupMsg2, Error> {
        match self.alice.get(&j) {
            Some(AliceSide::Waiting) => {}
            _ => return Err(Error::Internal),
        }
        let (a2, m2) = crate::ot::setup_alice_round2(&ot_session(session, me, j), me, j, m1, rng)
            .map_err(super::attribute(j))?;
        self.alice.insert(j, AliceSide::R2(a2));
        Ok(m2)
    }

    /// Message 3 (as Bob) answering `j`'s message 2.
    pub(crate) fn round3(&mut self, j: PartyId, m2: &OtSetupMsg2) -> Result<OtSetupMsg3, Error> {
        let Some(BobSide::R1(b1)) = self.bob.remove(&j) else {
            return Err(Error::Internal);
        };
        let (b3, m3) = crate::ot::setup_bob_round3(b1, m2).map_err(super::attribute(j))?;
        self.bob.insert(j, BobSide::R3(b3));
        Ok(m3)
    }

    /// Message 4 (as Alice) answering `j`'s message 3.
    pub(crate) fn round4(&mut self, j: PartyId, m3: &OtSetupMsg3) -> Result<OtSetupMsg4, Error> {
        let Some(AliceSide::R2(a2)) = self.alice.remove(&j) else {
            return Err(Error::Internal);
        };
        let (a4, m4) = crate::ot::setup_alice_round4(a2, m3).map_err(super::attribute(j))?;
        self.alice.insert(j, AliceSide::R4(a4));
        Ok(m4)
    }

    /// Message 5 (as Bob) answering `j`'s message 4; Bob's setup with `j` is complete.
    pub(crate) fn round5(&mut self, j: PartyId, m4: &OtSetupMsg4) -> Result<OtSetupMsg5, Error> {
        let Some(BobSide::R3(b3)) = self.bob.remove(&j) else {
            return Err(Error::Internal);
        };
        let (setup, m5) = crate::ot::setup_bob_round5(b3, m4).map_err(super::attribute(j))?;
        self.bob.insert(j, BobSide::Done(setup));
        Ok(m5)
    }

    /// Alice's setup with `j` completes on `j`'s message 5.
    pub(crate) fn finish_alice(&mut self, j: PartyId, m5: &OtSetupMsg5) -> Result<(), Error> {
        let Some(AliceSide::R4(a4)) = self.alice.remove(&j) else {
            return Err(Error::Internal);
        };
        let setup = crate::ot::setup_alice_finish(a4, m5).map_err(super::attribute(j))?;
        self.alice.insert(j, AliceSide::Done(setup));
        Ok(())
    }

    /// The setup ids of every completed ordered pair, `(alice, bob, id)` in order.
    pub(crate) fn setup_ids(
        &self,
        me: PartyId,
    ) -> Result<Vec<(PartyId, PartyId, SessionId)>, Error> {
        let mut ids = Vec::new();
        for (j, b) in &self.bob {
            let BobSide::Done(s) = b else {
                return Err(Error::Internal);
            };
            ids.push((*j, me, *s.setup_id()));
        }
        for (j, a) in &self.alice {
            let AliceSide::Done(s) = a else {
                return Err(Error::Internal);
            };
            ids.push((me, *j, *s.setup_id()));
        }
        Ok(ids)
    }

    /// Appends the setup id of every **ordered** pair of `parties` to `t` (`a` ascending, then `b`
    /// ascending: `party "alice" a ‖ party "bob" b ‖ "setup-id" id`), after checking that every
    /// setup of this party is complete and is the one of this run (`session`). Every party of an
    /// honest run appends the same list, so the result is the input of the closing
    /// confirmation.
    pub(crate) fn append_setup_ids(
        &self,
        t: &mut Transcript,
        session: &SessionId,
        me: PartyId,
        parties: &Parties,
    ) -> Result<(), Error> {
        let own = self.setup_ids(me)?;
        if own.len() != 2 * parties.len().saturating_sub(1) {
            return Err(Error::Internal);
        }
        for (a, b, id) in own {
            if id != ot_session(session, a, b) {
                return Err(Error::Internal);
            }
        }
        for a in parties.iter() {
            for b in parties.others(a) {
                t.append_party("alice", a);
                t.append_party("bob", b);
                t.append("setup-id", ot_session(session, a, b).as_bytes());
            }
        }
        Ok(())
    }

    /// Takes the completed setups, one [`PairSetup`] per other party.
    pub(crate) fn take(
        &mut self,
        me: PartyId,
        parties: &Parties,
    ) -> Result<BTreeMap<PartyId, PairSetup>, Error> {
        let mut pairs = BTreeMap::new();
        for j in parties.others(me) {
            let (Some(BobSide::Done(receiver)), Some(AliceSide::Done(sender))) =
                (self.bob.remove(&j), self.alice.remove(&j))
            else {
                return Err(Error::Internal);
            };
            pairs.insert(j, PairSetup { sender, receiver });
        }
        Ok(pairs)
    }

    /// `u16 k || k × (party, bob tag u8, u32 len, state) || u16 k || k × (party, alice tag u8,
    /// [u32 len, state])` (tags: Bob 1, 3, 5 = done; Alice 0 = waiting, 2, 4, 6 = done).
    pub(crate) fn encode(&self, w: &mut Writer) {
        w.u16(self.bob.len() as u16);
        for (p, b) in &self.bob {
            w.party(*p);
            match b {
                BobSide::R1(x) => {
                    w.u8(1);
                    put_secret_obj(w, x);
                }
                BobSide::R3(x) => {
                    w.u8(3);
                    put_secret_obj(w, x);
                }
                BobSide::Done(x) => {
                    w.u8(5);
                    put_secret_obj(w, x);
                }
            }
        }
        w.u16(self.alice.len() as u16);
        for (p, a) in &self.alice {
            w.party(*p);
            match a {
                AliceSide::Waiting => w.u8(0),
                AliceSide::R2(x) => {
                    w.u8(2);
                    put_secret_obj(w, x);
                }
                AliceSide::R4(x) => {
                    w.u8(4);
                    put_secret_obj(w, x);
                }
                AliceSide::Done(x) => {
                    w.u8(6);
                    put_secret_obj(w, x);
                }
            }
        }
    }

    /// Decodes [`PairwiseSetups::encode`]'s output for `me` among `parties`.
    pub(crate) fn decode(
        r: &mut Reader<'_>,
        me: PartyId,
        parties: &Parties,
    ) -> Result<Self, DecodeError> {
        let n = parties.len();
        let mut bob = BTreeMap::new();
        for _ in 0..r.count16(n, 3)? {
            let p = r.party()?;
            let b = match r.u8()? {
                1 => BobSide::R1(SetupBob1::from_bytes(r.var_bytes(MAX_OT_STATE)?)?),
                3 => BobSide::R3(SetupBob3::from_bytes(r.var_bytes(MAX_OT_STATE)?)?),
                5 => BobSide::Done(MulReceiverSetup::from_bytes(r.var_bytes(MAX_OT_STATE)?)?),
                t => return Err(DecodeError::InvalidTag(t)),
            };
            if p == me || !parties.contains(p) || bob.insert(p, b).is_some() {
                return Err(DecodeError::InvalidValue);
            }
        }
        let mut alice = BTreeMap::new();
        for _ in 0..r.count16(n, 3)? {
            let p = r.party()?;
            let a = match r.u8()? {
                0 => AliceSide::Waiting,
                2 => AliceSide::R2(SetupAlice2::from_bytes(r.var_bytes(MAX_OT_STATE)?)?),
                4 => AliceSide::R4(SetupAlice4::from_bytes(r.var_bytes(MAX_OT_STATE)?)?),
                6 => AliceSide::Done(MulSenderSetup::from_bytes(r.var_bytes(MAX_OT_STATE)?)?),
                t => return Err(DecodeError::InvalidTag(t)),
            };
            if p == me || !parties.contains(p) || alice.insert(p, a).is_some() {
                return Err(DecodeError::InvalidValue);
            }
        }
        Ok(Self { bob, alice })
    }
}
