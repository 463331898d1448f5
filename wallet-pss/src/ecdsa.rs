//! Threshold ECDSA keys (DKLs23, `wallet_tss::ecdsa`, any `t`-of-`n`) through refresh and
//! reshare — including a change of threshold (2-of-3 → 3-of-5 → 2-of-3) and of membership (add a
//! device, remove a lost one).
//!
//! An ECDSA [`EcdsaKeyShare`] is a Shamir share of a `t`-of-n sharing **plus** pairwise
//! multiplication (VOLE) setups built on OT with every other party. Refreshing or resharing it is
//! two steps:
//!
//! 1. the generic step on the Shamir share: [`Refresh<Secp256k1>`](crate::Refresh) (same
//!    parties, a sharing of zero added) or [`Reshare<Secp256k1>`](crate::Reshare) (a new party
//!    set and any new threshold `2 ≤ t' ≤ n'`), started here
//!    with [`refresh`] / [`reshare`];
//! 2. [`Resetup`]: fresh OT setups for every ordered pair of the new party set, ending with a
//!    [`Termination`] of a new [`EcdsaKeyShare`] of the new epoch ([`resetup_after_refresh`] /
//!    [`resetup_after_reshare`] build the machine).
//!
//! **Ending together.** Both steps end with an acknowledgement round
//! ([`wallet_types::termination`]). A party moves its key store to the new epoch only when the
//! resetup is Confirmed — every party acknowledged the same setup confirmation —, with
//! [`install_confirmed`], which refuses an Unconfirmed outcome and hands it back. On an
//! Unconfirmed resetup the party keeps **both** shares: the old one stays installed in its
//! store (it keeps signing with every party that did not move on; no party can have deleted its
//! old share unless it was Confirmed, and then this party acknowledged) and the new one is kept
//! aside, encrypted, until a retried confirmation of its transcript hash
//! ([`wallet_types::reconfirm::Reconfirm`], [`Unconfirmed::settle`]) confirms it; then it is
//! installed. If it did **not** acknowledge (`acknowledged == false`), nobody is on the new
//! epoch: it may also drop the new share and refresh again. Persist the outcome before sending
//! the messages returned with it. An old ECDSA share is erased only after its store installed
//! the next epoch (and ideally after a test signature with the new shares,
//! [`crate::release_old_share`]).
//!
//! [`install_confirmed`]: wallet_tss::ecdsa::install_confirmed
//! [`Termination`]: wallet_types::Termination
//! [`Unconfirmed::settle`]: wallet_types::Unconfirmed::settle
//!
//! **Why the OT setups are redone.** A device compromised in epoch `e` gave the attacker its
//! OT-extension setup secrets. Were the setups kept, the attacker could break the privacy of the
//! VOLE multiplications in later presignatures of that device's counterparties and learn
//! new-epoch share material from them — the refresh would protect nothing. Fresh setups every
//! epoch restore proactive security.
//!
//! **Epochs.** The new share's key id is a fresh hash binding the previous key id and the epoch
//! ([`EcdsaKeyShare::key_id`]); presignatures are bound to the key id, so an old-epoch
//! presignature never combines with a new-epoch one, and an old-epoch share cannot presign with
//! a new-epoch share (the first multiplication message is refused as belonging to another key).
//! The public key, the chain code and hence every derived address stay the same.
//!
//! **Bans.** A party the old share banned (recorded by the presign machine in its key store after a failed
//! check of the reusable OT setup) stays banned: [`resetup_after_refresh`] and [`resetup_after_reshare`]
//! carry the old share's [`EcdsaKeyShare::banned`] parties into the [`ResetupInput`], and the new
//! share has no pairing with them. Re-pairing is an explicit call: take the input from
//! [`refresh_input`] / [`reshare_input`], [`ResetupInput::lift_ban`], then [`Resetup::new`];
//! a key store re-bans on install unless the party is named in `install`'s `lift_bans` too.
//!
//! **Key stores.** A signing party keeps its share in a [`KeyStore`] (e.g. wallet-tss's
//! `MemoryKeyStore`, feature `std`), which owns its pairings, bans and presignatures. The
//! machines here read the current share from it (`store.with_key(|k| refresh(session, k, rng))`);
//! the resetup's Confirmed output is then installed into the same store with
//! [`install_confirmed`] (which calls [`KeyStore::install`]), which refuses a share of an older or the same epoch or of another key, carries the bans over
//! and retires the previous epoch: its presignatures are erased, and [`partial_sign`] with one
//! of them is refused ([`Error::WrongEpoch`]). A device added by a reshare starts a new store
//! with its first share.
//!
//! [`KeyStore`]: wallet_tss::ecdsa::KeyStore
//! [`KeyStore::install`]: wallet_tss::ecdsa::KeyStore::install
//! [`partial_sign`]: wallet_tss::ecdsa::partial_sign
//!
//! ```
//! # use wallet_tss::ecdsa::{Keygen, KeyShare as EcdsaKeyShare, MemoryKeyStore, install_confirmed};
//! # use wallet_types::{Parties, Protocol, SessionId, Step, Envelope, Recipient};
//! # use rand_core::SeedableRng;
//! # fn run<P: Protocol>(mut m: Vec<P>, rng: &mut rand_chacha::ChaCha20Rng) -> Vec<P::Output> {
//! #     let mut q: Vec<Envelope<P::Message>> = Vec::new();
//! #     let mut out = Vec::new();
//! #     for x in m.iter_mut() { match x.start(rng).unwrap() { Step::Continue(e) => q.extend(e), Step::Done(e, o) => { q.extend(e); out.push(o) } } }
//! #     while let Some(env) = q.pop() {
//! #         let to: Vec<_> = match env.recipient { Recipient::One(p) => vec![p], Recipient::All => m.iter().map(|x| x.me()).filter(|p| *p != env.sender).collect() };
//! #         for p in to {
//! #             let x = m.iter_mut().find(|x| x.me() == p).unwrap();
//! #             match x.handle(Envelope::decode(&env.encode()).unwrap(), rng).unwrap() { Step::Continue(e) => q.extend(e), Step::Done(e, o) => { q.extend(e); out.push(o) } }
//! #         }
//! #     }
//! #     out
//! # }
//! # let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
//! # let parties = Parties::range(2)?;
//! # let sid = SessionId::random(&mut rng);
//! # let machines = parties.iter().map(|p| Keygen::new(sid, p, parties.clone(), &mut rng)).collect::<Result<Vec<_>, _>>()?;
//! // Epoch 0, from the DKG; a key is used only once every party acknowledged it.
//! let mut keys: Vec<EcdsaKeyShare> = run(machines, &mut rng).into_iter()
//!     .map(|o| o.into_confirmed().map_err(|_| wallet_types::Error::Internal))
//!     .collect::<Result<_, _>>()?;
//! keys.sort_by_key(|k| k.me());
//! // Each party's share lives in its key store (sorted by party, as `keys` is).
//! let stores: Vec<MemoryKeyStore> = keys.into_iter().map(MemoryKeyStore::new).collect();
//! let old = stores[0].public_package()?;
//! let session = SessionId::random(&mut rng); // fresh, agreed
//! // 1. Zero-sharing refresh of the Shamir shares, read from the stores.
//! let machines = stores.iter()
//!     .map(|s| s.with_key(|k| wallet_pss::ecdsa::refresh(session, k, &mut rng))?)
//!     .collect::<Result<Vec<_>, _>>()?;
//! // Every party acknowledged: only a confirmed refresh goes on to the resetup.
//! let mut refreshed = run(machines, &mut rng).into_iter()
//!     .map(|o| o.into_confirmed().map_err(|_| wallet_types::Error::Internal))
//!     .collect::<Result<Vec<_>, _>>()?;
//! refreshed.sort_by_key(|k| k.me());
//! // 2. Fresh OT setups: new ECDSA key shares of epoch 1.
//! let resetup = session.derive(b"ecdsa-resetup");
//! let machines = refreshed.into_iter().zip(&stores)
//!     .map(|(new, s)| {
//!         s.with_key(|old| wallet_pss::ecdsa::resetup_after_refresh(resetup, new, old))?
//!     })
//!     .collect::<Result<Vec<_>, _>>()?;
//! let mut outcomes = run(machines, &mut rng);
//! outcomes.sort_by_key(|o| o.result().me());
//! assert!(outcomes.iter().map(|o| o.result()).all(|k| k.epoch() == 1
//!     && k.public_key() == old.public_key() && k.chain_code() == old.chain_code()
//!     && k.key_id() != old.key_id()));
//! // 3. Every party acknowledged: each installs its new share, epoch 0 is retired (its
//! //    presignatures erased). An unconfirmed outcome would come back, to be kept.
//! for (s, outcome) in stores.iter().zip(outcomes) {
//!     install_confirmed(s, outcome, &[]).map_err(|_| wallet_types::Error::Internal)?;
//! }
//! assert_eq!(stores[1].epoch()?, 1);
//! # Ok::<(), wallet_types::Error>(())
//! ```
//!
//! The resetup needs the previous key id and the chain code: holders of an old share take them
//! from it; a device added by a reshare gets them with the key's public metadata (both are
//! public within the account; the chain code is as sensitive as an xpub).

use rand_core::CryptoRng;
use wallet_sss::Commitments;
use wallet_tss::ecdsa::{KeyShare as EcdsaKeyShare, Resetup, ResetupInput};
use wallet_types::{Error, ParamError, PartyId, Secp256k1, SessionId};

use crate::error::PssError;
use crate::key::KeyShare;
use crate::refresh::Refresh;
use crate::reshare::{Reshare, ReshareConfig};

/// The smallest threshold of the ECDSA keys (a key of threshold 1 would be one party's key).
pub const ECDSA_THRESHOLD: usize = wallet_tss::ecdsa::THRESHOLD;

/// The generic view of an ECDSA key share (its Shamir share, commitments and epoch).
pub fn to_key_share(k: &EcdsaKeyShare) -> Result<KeyShare<Secp256k1>, PssError> {
    let commitments = k.commitments().map_err(|_| PssError::InvalidInput)?;
    KeyShare::new(
        k.me(),
        k.threshold(),
        k.parties().clone(),
        k.secret_share().duplicate(),
        commitments,
        k.epoch(),
    )
}

fn mismatch(_: PssError) -> Error {
    ParamError::Mismatch.into()
}

/// Step 1 of an ECDSA refresh: the generic refresh machine for `key` (run it with every party
/// of the key in a fresh `session`; it deals here, with `rng`, and keeps no copy of the share).
/// With the share in a key store: `store.with_key(|k| refresh(session, k, rng))`. Only a
/// Confirmed outcome goes on to [`resetup_after_refresh`]; the old share stays in its store
/// until the resetup's share is installed.
pub fn refresh<R: CryptoRng + ?Sized>(
    session: SessionId,
    key: &EcdsaKeyShare,
    rng: &mut R,
) -> Result<Refresh<Secp256k1>, Error> {
    Refresh::new(session, &to_key_share(key).map_err(mismatch)?, rng)
}

/// Refuses a reshare configuration the ECDSA keys cannot take: a new threshold below 2 — a
/// "threshold" ECDSA key of one party is that party's key, and the two-party protocol is the
/// smallest DKLs23 runs ([`ParamError::InvalidThreshold`]), on top of
/// [`ReshareConfig::check`].
pub fn check_reshare_config(config: &ReshareConfig<Secp256k1>) -> Result<(), Error> {
    config.check()?;
    if config.new_threshold < ECDSA_THRESHOLD
        || config.old_commitments.threshold() < ECDSA_THRESHOLD
        || config.new_parties.len() < config.new_threshold
    {
        return Err(ParamError::InvalidThreshold {
            threshold: config.new_threshold,
            parties: config.new_parties.len(),
        }
        .into());
    }
    Ok(())
}

/// Step 1 of an ECDSA reshare: the generic reshare machine for `me` (`old` is its ECDSA key
/// share if it is a dealer; it is only read — the dealer deals here, with `rng` — and stays
/// in its store). Refuses a new threshold below 2 (see [`check_reshare_config`]). Keep
/// the old share until the machine's output allows deleting it
/// ([`ReshareOutput::may_delete_old_share`](crate::ReshareOutput::may_delete_old_share)).
pub fn reshare<R: CryptoRng + ?Sized>(
    session: SessionId,
    config: ReshareConfig<Secp256k1>,
    me: PartyId,
    old: Option<&EcdsaKeyShare>,
    rng: &mut R,
) -> Result<Reshare<Secp256k1>, Error> {
    check_reshare_config(&config)?;
    let old = old.map(to_key_share).transpose().map_err(mismatch)?;
    Reshare::new(session, config, me, old.as_ref(), rng)
}

/// The [`ResetupInput`] of a new-epoch generic share of an ECDSA key whose previous key id and
/// chain code are given, **without bans** (add them with [`ResetupInput::carry_bans`];
/// [`resetup_after_refresh`] and [`resetup_after_reshare`] do). Errors: a threshold below 2
/// ([`ParamError::InvalidThreshold`]).
pub fn resetup_input(
    new: KeyShare<Secp256k1>,
    previous_key_id: [u8; 32],
    chain_code: [u8; 32],
) -> Result<ResetupInput, Error> {
    let (me, threshold, parties, share, commitments, epoch) = new.into_parts();
    if threshold < ECDSA_THRESHOLD || commitments.points().len() != threshold {
        return Err(ParamError::InvalidThreshold {
            threshold,
            parties: parties.len(),
        }
        .into());
    }
    Ok(ResetupInput::new(
        me,
        parties,
        share,
        commitments.points().to_vec(),
        chain_code,
        epoch,
        previous_key_id,
    ))
}

/// Step 2 of an ECDSA refresh: the [`Resetup`] machine turning the refreshed generic share `new`
/// of `old`'s key into an ECDSA key share of the new epoch. Run it with every party in a fresh
/// `session` (e.g. `refresh_session.derive(b"ecdsa-resetup")`), then install a **Confirmed**
/// output into the party's key store (`wallet_tss::ecdsa::install_confirmed`), which retires
/// `old`'s epoch; keep an Unconfirmed one next to `old` (see the [module docs](self)).
///
/// **Bans carry over**: every party `old` banned ([`EcdsaKeyShare::banned`]) stays banned in the
/// new share (no pairing with it). To re-pair a banned party, take the input from
/// [`refresh_input`], call [`ResetupInput::lift_ban`] on it and build the machine with
/// [`Resetup::new`].
///
/// Errors ([`ParamError::Mismatch`]): `new` is not a later-epoch share of the same key, party
/// and party set as `old`.
pub fn resetup_after_refresh(
    session: SessionId,
    new: KeyShare<Secp256k1>,
    old: &EcdsaKeyShare,
) -> Result<Resetup, Error> {
    Resetup::new(session, refresh_input(new, old)?)
}

/// The [`ResetupInput`] [`resetup_after_refresh`] runs on: `new`'s key material with `old`'s
/// bans carried over. Lift a ban on it ([`ResetupInput::lift_ban`]) before [`Resetup::new`] to
/// re-pair that party in the new epoch. Errors as [`resetup_after_refresh`].
pub fn refresh_input(new: KeyShare<Secp256k1>, old: &EcdsaKeyShare) -> Result<ResetupInput, Error> {
    if new.me() != old.me()
        || new.parties() != old.parties()
        || new.public_key() != old.public_key()
        || new.epoch() <= old.epoch()
    {
        return Err(ParamError::Mismatch.into());
    }
    let mut input = resetup_input(new, *old.key_id(), *old.chain_code())?;
    input.carry_bans(old);
    Ok(input)
}

/// Step 2 of an ECDSA reshare: the [`Resetup`] machine for a new party's reshared share `new`.
/// Run it with every party of the new set in a fresh `session`; on a **Confirmed** output a
/// party that had a share installs it into its key store (`wallet_tss::ecdsa::install_confirmed`),
/// a party new to the key starts a store with it; an Unconfirmed output is kept (next to the old
/// share, for a party that had one) until a retried confirmation confirms it. `previous_key_id` and
/// `chain_code` are those of the old key (a new device gets them with the key's metadata; the
/// confirmation of the resetup's first round checks that all parties agree on them).
///
/// `old` is this party's ECDSA share of the old key if it held one (`None` for a device the
/// reshare adds): its bans of parties that are in the new set **carry over**, as in
/// [`resetup_after_refresh`] (party ids name the same devices across the reshare; if an id is
/// given to a new device, lift its ban explicitly with [`reshare_input`] and
/// [`ResetupInput::lift_ban`]).
///
/// Errors ([`ParamError::Mismatch`]): `old` is not a share of this party of the key with
/// `previous_key_id`, `chain_code` and `new`'s public key, or not of an earlier epoch.
pub fn resetup_after_reshare(
    session: SessionId,
    new: KeyShare<Secp256k1>,
    previous_key_id: [u8; 32],
    chain_code: [u8; 32],
    old: Option<&EcdsaKeyShare>,
) -> Result<Resetup, Error> {
    Resetup::new(
        session,
        reshare_input(new, previous_key_id, chain_code, old)?,
    )
}

/// The [`ResetupInput`] [`resetup_after_reshare`] runs on (bans of `old` carried over). Errors
/// as [`resetup_after_reshare`].
pub fn reshare_input(
    new: KeyShare<Secp256k1>,
    previous_key_id: [u8; 32],
    chain_code: [u8; 32],
    old: Option<&EcdsaKeyShare>,
) -> Result<ResetupInput, Error> {
    if let Some(old) = old
        && (old.me() != new.me()
            || *old.key_id() != previous_key_id
            || *old.chain_code() != chain_code
            || old.public_key() != new.public_key()
            || new.epoch() <= old.epoch())
    {
        return Err(ParamError::Mismatch.into());
    }
    let mut input = resetup_input(new, previous_key_id, chain_code)?;
    if let Some(old) = old {
        input.carry_bans(old);
    }
    Ok(input)
}

/// The commitments `(X, A₁, …, A_{t−1})` of an ECDSA key share as generic Feldman commitments (for a
/// [`ReshareConfig::old_commitments`]).
pub fn commitments(k: &EcdsaKeyShare) -> Result<Commitments<Secp256k1>, Error> {
    Ok(k.commitments()?)
}
