//! Agreement attacks (docs/invariants.md, invariants 11 and 12): a party below the threshold, or the
//! untrusted store of the embedded-wallet model, tries to make honest parties accept a sharing
//! they do not agree on, blame an honest party, or destroy the key (dealers delete their old
//! shares while the new ones are lost). Every test asserts the outcome **and** the culprit (or
//! that nobody is blamed), and that the key still signs or reconstructs afterwards.
//!
//! One module per protocol; add a section for yours below the last one.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

// ==========================================================================================
// reshare
// ==========================================================================================

mod reshare {
    use std::collections::{BTreeMap, BTreeSet};

    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;
    use wallet_pss::ecies::{self, Context};
    use wallet_pss::frost::from_key_share;
    use wallet_pss::reshare::DealingSignature;
    use wallet_pss::{
        DeliveryFault, KeyShare, PssError, Reshare, ReshareConfig, ReshareMessage, ReshareOutput,
        SealedDealing, combine_sealed, deal_sealed, verify_sealed_dealings,
    };
    use wallet_sss::{Commitments, Polynomial, Share, ShareSetId, lagrange_at_zero};
    use wallet_tss::frost::{Ciphersuite, KeyPackage, aggregate, round1, round2};
    use wallet_types::ff::Field;
    use wallet_types::sim::{Fault, FaultRule, Outcome, Simulator};
    use wallet_types::{
        Curve, Ed25519, Envelope, Error, ParamError, Parties, PartyId, Recipient, Secp256k1,
        SecretScalar, SessionId, Transcript, WireObject, Writer,
    };

    fn pid(n: u16) -> PartyId {
        PartyId::new(n).unwrap()
    }

    /// A dealer-split key (test fixture; in production keys come from a DKG).
    fn dealt<C: Curve>(t: usize, ids: &[u16], rng: &mut ChaCha20Rng) -> Vec<KeyShare<C>> {
        let f = Polynomial::<C>::random(SecretScalar::random(rng), t, rng).unwrap();
        let c = f.commit();
        let parties = Parties::from_ids(ids).unwrap();
        parties
            .iter()
            .map(|p| KeyShare::new(p, t, parties.clone(), f.share_for(p), c.clone(), 0).unwrap())
            .collect()
    }

    fn config<C: Curve>(
        keys: &[KeyShare<C>],
        dealers: &[u16],
        new: &[u16],
        t_new: usize,
    ) -> ReshareConfig<C> {
        ReshareConfig {
            old_commitments: keys[0].commitments().clone(),
            old_parties: keys[0].parties().clone(),
            old_epoch: keys[0].epoch(),
            dealers: Parties::from_ids(dealers).unwrap(),
            new_parties: Parties::from_ids(new).unwrap(),
            new_threshold: t_new,
            allow_threshold_one: false,
        }
    }

    /// The public key the given shares reconstruct (wallet-sss), or `None` if they do not
    /// reach their threshold.
    fn reconstructed_key<C: Curve>(shares: &[&KeyShare<C>]) -> Option<C::Point> {
        let t = shares.first()?.threshold();
        let set = ShareSetId([0; 16]);
        let shares: Vec<Share<C>> = shares
            .iter()
            .map(|k| Share::new(set, t, k.me(), k.share().duplicate()).unwrap())
            .collect();
        wallet_sss::reconstruct(&shares).ok().map(|s| s.public())
    }

    /// A FROST signature (RFC 9591) by `signers`, verified under the group key.
    fn frost_signs<C: Ciphersuite>(
        signers: &[&KeyShare<C>],
        msg: &[u8],
        rng: &mut ChaCha20Rng,
    ) -> bool {
        let kps: Vec<KeyPackage<C>> = signers.iter().map(|k| from_key_share(k).unwrap()).collect();
        let mut nonces = BTreeMap::new();
        let mut commitments = BTreeMap::new();
        for k in &kps {
            let (mut n, c) = round1::preprocess(k, 1, rng);
            nonces.insert(k.id(), n.remove(0));
            commitments.insert(k.id(), c[0]);
        }
        let package = round2::SigningPackage::new(commitments, msg.to_vec()).unwrap();
        let mut shares = BTreeMap::new();
        for k in &kps {
            let n = nonces.remove(&k.id()).unwrap();
            shares.insert(k.id(), round2::sign(&package, n, k).unwrap());
        }
        let public = kps[0].public();
        match aggregate::aggregate(&package, &shares, public) {
            Ok(sig) => sig.verify(public.group_key().get(), msg),
            Err(_) => false,
        }
    }

    /// The key is alive: `shares` (old or new, `t` of them) reconstruct the public key and
    /// sign with FROST.
    fn key_alive<C: Ciphersuite>(shares: &[&KeyShare<C>], pk: &C::Point, rng: &mut ChaCha20Rng) {
        assert_eq!(reconstructed_key(shares).as_ref(), Some(pk));
        assert!(frost_signs(shares, b"the key survived", rng));
    }

    /// The party a sealed-dealing error blames, if any (the library's own answer).
    fn culprit(e: &PssError) -> Option<PartyId> {
        e.culprit()
    }

    // --------------------------------------------------------------------------------------
    // Sealed dealings through an untrusted store
    // --------------------------------------------------------------------------------------

    /// 2-of-3 → 2-of-{4, 5, 6} dealt by {1, 2} as sealed dealings, one factor key per new
    /// party.
    struct Sealed<C: Curve> {
        keys: Vec<KeyShare<C>>,
        cfg: ReshareConfig<C>,
        session: SessionId,
        factors: BTreeMap<PartyId, SecretScalar<C>>,
        public: BTreeMap<PartyId, C::Point>,
        dealings: Vec<SealedDealing<C>>,
    }

    fn sealed_setup<C: Curve>(seed: u64) -> (Sealed<C>, ChaCha20Rng) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = dealt::<C>(2, &[1, 2, 3], &mut rng);
        let cfg = config(&keys, &[1, 2], &[4, 5, 6], 2);
        let session = SessionId([seed as u8; 32]);
        let factors: BTreeMap<PartyId, SecretScalar<C>> = cfg
            .new_parties
            .iter()
            .map(|p| (p, SecretScalar::random(&mut rng)))
            .collect();
        let public = factors.iter().map(|(p, s)| (*p, s.public())).collect();
        let dealings = keys[..2]
            .iter()
            .map(|k| deal_sealed(&session, &cfg, k, &public, &mut rng).unwrap())
            .collect();
        (
            Sealed {
                keys,
                cfg,
                session,
                factors,
                public,
                dealings,
            },
            rng,
        )
    }

    impl<C: Curve> Sealed<C> {
        fn combine(
            &self,
            me: u16,
            dealings: &[SealedDealing<C>],
        ) -> Result<wallet_pss::SealedOutcome<C>, PssError> {
            combine_sealed(
                &self.session,
                &self.cfg,
                pid(me),
                &self.factors[&pid(me)],
                dealings,
            )
        }

        /// The honest outcome: every new party combines and they agree on the dealings hash.
        fn all_combine(&self, dealings: &[SealedDealing<C>]) -> Vec<KeyShare<C>> {
            let outs: Vec<_> = [4, 5, 6]
                .iter()
                .map(|p| self.combine(*p, dealings).unwrap())
                .collect();
            let h = verify_sealed_dealings(&self.session, &self.cfg, dealings).unwrap();
            assert!(outs.iter().all(|o| o.dealings_hash == h));
            outs.into_iter().map(|o| o.share).collect()
        }

        /// The old shares of the dealers still hold the key (they were never deleted).
        fn old_shares_alive(&self, rng: &mut ChaCha20Rng)
        where
            C: Ciphersuite,
        {
            let pk = self.keys[0].public_key();
            key_alive(&[&self.keys[0], &self.keys[1]], &pk, rng);
        }
    }

    /// `SPEC.md` §5.4, recomputed here from the spec: the ECIES binding of dealer `i`'s dealing.
    fn spec_binding<C: Curve>(
        session: &SessionId,
        config_hash: &[u8; 32],
        dealer: PartyId,
        commitments: &Commitments<C>,
    ) -> [u8; 32] {
        spec_prefix(session, config_hash, dealer, commitments).output32("ecies-binding")
    }

    fn spec_prefix<C: Curve>(
        session: &SessionId,
        config_hash: &[u8; 32],
        dealer: PartyId,
        commitments: &Commitments<C>,
    ) -> Transcript {
        let mut t = Transcript::new("wallet-pss/reshare-sealed", 1, Some(C::ID), session);
        t.append("config", config_hash);
        t.append_party("dealer", dealer);
        for p in commitments.points() {
            t.append_point::<C>("commitment", p);
        }
        t
    }

    /// `SPEC.md` §5.4: (re-)signs `d` as its dealer would, with the dealer's old share — what
    /// a malicious dealer does after changing its dealing.
    fn spec_sign<C: Curve>(
        d: &mut SealedDealing<C>,
        key: &KeyShare<C>,
        cfg: &ReshareConfig<C>,
        rng: &mut ChaCha20Rng,
    ) {
        let lambda = lagrange_at_zero::<C>(cfg.dealers.as_slice(), key.me()).unwrap();
        let x = lambda * key.share().expose();
        let big_x = C::mul_base(&x);
        let k = SecretScalar::<C>::random(rng);
        let r = k.public();
        let mut t = spec_prefix(&d.session, &d.config_hash, d.dealer, &d.commitments);
        for (p, ct) in &d.sealed {
            t.append_party("recipient", *p);
            t.append("ciphertext", &ct.to_bytes());
        }
        t.append_point::<C>("R", &r);
        t.append_point::<C>("X", &big_x);
        let c = t.challenge::<C>("signature");
        d.signature = DealingSignature {
            r,
            z: *k.expose() + c * x,
        };
    }

    fn scalar_plaintext<C: Curve>(s: &C::Scalar) -> Vec<u8> {
        let mut w = Writer::new();
        w.scalar::<C>(s);
        w.finish()
    }

    /// The review's forgery, from public data only: pick a sub-share `x` for recipient `j`,
    /// set `F₀ = λᵢ·Yᵢ` and `F₁ = j⁻¹·(x·G − F₀)`, seal `x` to `j`'s factor key. It passes
    /// every check of the unsigned dealing; without dealer `i`'s signature it is refused, and
    /// nobody is blamed.
    fn forged_from_public_data<C: Ciphersuite>(seed: u64) {
        let (s, mut rng) = sealed_setup::<C>(seed);
        let (i, j) = (pid(1), pid(4));
        let lambda = lagrange_at_zero::<C>(s.cfg.dealers.as_slice(), i).unwrap();
        let f0 = s.cfg.old_commitments.share_commitment(i) * lambda;
        let x = SecretScalar::<C>::random(&mut rng);
        let j_inv = j.to_scalar::<C>().invert().unwrap();
        let f1 = (x.public() - f0) * j_inv;
        let commitments = Commitments::new(vec![f0, f1]).unwrap();
        let config_hash = s.cfg.hash();
        let binding = spec_binding(&s.session, &config_hash, i, &commitments);
        let mut sealed = BTreeMap::new();
        for p in s.cfg.new_parties.iter() {
            let ctx = Context {
                session: s.session,
                epoch: s.cfg.new_epoch(),
                recipient: p,
            };
            let value = if p == j {
                *x.expose()
            } else {
                // Consistent values for the others too: f(p) = F₀ + p·F₁ in the exponent is
                // not computable, so the forger gives them garbage; only j is targeted.
                C::Scalar::ONE
            };
            let ct = ecies::seal_bound::<C, _>(
                &s.public[&p],
                &ctx,
                &binding,
                &scalar_plaintext::<C>(&value),
                &mut rng,
            )
            .unwrap();
            sealed.insert(p, ct);
        }
        // The old checks all pass for j: the right length, F₀ = λᵢ·Yᵢ, x·G = F₀ + j·F₁, and the
        // ciphertext opens under j's factor key with the binding.
        assert_eq!(commitments.threshold(), s.cfg.new_threshold);
        assert_eq!(commitments.public_key(), f0);
        assert!(commitments.verify_share(j, &x));
        let ctx_j = Context {
            session: s.session,
            epoch: s.cfg.new_epoch(),
            recipient: j,
        };
        assert!(ecies::open_bound(&s.factors[&j], &ctx_j, &binding, &sealed[&j]).is_ok());
        // The forger has no signature of dealer 1: a random one, or dealer 1's genuine
        // signature lifted from its real dealing.
        let genuine = s.dealings[0].signature.clone();
        let random = DealingSignature {
            r: SecretScalar::<C>::random(&mut rng).public(),
            z: *SecretScalar::<C>::random(&mut rng).expose(),
        };
        for signature in [genuine, random] {
            let forged = SealedDealing {
                session: s.session,
                config_hash,
                dealer: i,
                commitments: commitments.clone(),
                sealed: sealed.clone(),
                signature,
            };
            let set = vec![forged, s.dealings[1].clone()];
            let e = s.combine(4, &set).unwrap_err();
            assert_eq!(
                e,
                PssError::StoreDelivered {
                    dealing_of: i,
                    fault: DeliveryFault::BadSignature
                }
            );
            assert_eq!(culprit(&e), None, "the honest dealer is not framed");
            assert_eq!(
                verify_sealed_dealings(&s.session, &s.cfg, &set).unwrap_err(),
                e
            );
        }
        // The real dealings still give a working sharing, and the old shares still hold the key.
        let fresh = s.all_combine(&s.dealings);
        let pk = s.keys[0].public_key();
        key_alive(&[&fresh[0], &fresh[2]], &pk, &mut rng);
        s.old_shares_alive(&mut rng);
    }

    #[test]
    fn sealed_forgery_from_public_data_is_refused() {
        forged_from_public_data::<Secp256k1>(0x31);
        forged_from_public_data::<Ed25519>(0x32);
    }

    /// The store alters a ciphertext (or any byte of a dealing), or the dealer was handed a
    /// wrong factor key for a recipient by the store's directory: refused, and never blamed on
    /// the dealer, which did nothing wrong.
    fn store_corruption_is_not_blamed<C: Ciphersuite>(seed: u64) {
        let (s, mut rng) = sealed_setup::<C>(seed);
        let store_fault = |dealing_of, fault| PssError::StoreDelivered { dealing_of, fault };
        // A ciphertext altered in the store (one bit of its sealed bytes).
        let mut bytes = s.dealings[1].to_bytes();
        let ct4 = s.dealings[1].sealed[&pid(4)].to_bytes();
        let at = bytes
            .windows(ct4.len())
            .position(|w| w == ct4.as_slice())
            .unwrap();
        bytes[at + ct4.len() - 1] ^= 0x01;
        let altered = SealedDealing::<C>::from_bytes(&bytes).unwrap();
        let set = vec![s.dealings[0].clone(), altered];
        let e = s.combine(4, &set).unwrap_err();
        assert_eq!(e, store_fault(pid(2), DeliveryFault::BadSignature));
        assert_eq!(culprit(&e), None);
        // Every single-bit change of a dealing is refused, and none of them frames dealer 2.
        let bytes = s.dealings[1].to_bytes();
        for i in (4..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            let Ok(d) = SealedDealing::<C>::from_bytes(&b) else {
                continue;
            };
            let e = s
                .combine(4, &[s.dealings[0].clone(), d])
                .expect_err("an altered dealing was accepted");
            assert_eq!(culprit(&e), None, "byte {i}: {e:?}");
        }
        // The directory gave dealer 1 a wrong key for party 5: its ciphertext for 5 does not
        // open. Nobody is blamed; the other recipients are unaffected.
        let mut wrong = s.public.clone();
        wrong.insert(pid(5), SecretScalar::<C>::random(&mut rng).public());
        let d1 = deal_sealed(&s.session, &s.cfg, &s.keys[0], &wrong, &mut rng).unwrap();
        let set = vec![d1, s.dealings[1].clone()];
        let e = s.combine(5, &set).unwrap_err();
        assert_eq!(e, store_fault(pid(1), DeliveryFault::Undecryptable));
        assert_eq!(culprit(&e), None);
        assert!(s.combine(4, &set).is_ok());
        // A dealing the store withheld.
        let e = s.combine(6, &s.dealings[1..]).unwrap_err();
        assert_eq!(e, store_fault(pid(1), DeliveryFault::Missing));
        assert_eq!(culprit(&e), None);
        // The untouched dealings still work; the old shares were never at risk.
        let fresh = s.all_combine(&s.dealings);
        key_alive(&[&fresh[1], &fresh[2]], &s.keys[0].public_key(), &mut rng);
        s.old_shares_alive(&mut rng);
    }

    #[test]
    fn sealed_store_corruption_is_refused_without_blaming_the_dealer() {
        store_corruption_is_not_blamed::<Secp256k1>(0x33);
        store_corruption_is_not_blamed::<Ed25519>(0x34);
    }

    fn other_run(dealing_of: PartyId) -> PssError {
        PssError::StoreDelivered {
            dealing_of,
            fault: DeliveryFault::OtherRun,
        }
    }

    /// Dealings of two runs mixed by the store: one of another session.
    fn other_session_mixed<C: Ciphersuite>(seed: u64) {
        let (s, mut rng) = sealed_setup::<C>(seed);
        let session_b = SessionId([0xbb; 32]);
        let b2 = deal_sealed(&session_b, &s.cfg, &s.keys[1], &s.public, &mut rng).unwrap();
        let mixed = vec![s.dealings[0].clone(), b2.clone()];
        let e = s.combine(4, &mixed).unwrap_err();
        assert_eq!(e, other_run(pid(2)));
        assert_eq!(culprit(&e), None);
        // … with its session field rewritten to this run's: the signature binds the session.
        let mut relabelled = b2;
        relabelled.session = s.session;
        let e = s
            .combine(4, &[s.dealings[0].clone(), relabelled])
            .unwrap_err();
        assert_eq!(
            e,
            PssError::StoreDelivered {
                dealing_of: pid(2),
                fault: DeliveryFault::BadSignature
            }
        );
        s.old_shares_alive(&mut rng);
    }

    #[test]
    fn sealed_dealing_of_another_session_is_refused() {
        other_session_mixed::<Secp256k1>(0x35);
        other_session_mixed::<Ed25519>(0x36);
    }

    /// Dealings of two runs mixed by the store: the same session and epoch, another
    /// configuration (the new set {4, 5, 7} instead of {4, 5, 6}, same threshold) — what the
    /// unsigned dealings could not tell apart: party 4 would have combined it.
    fn other_config_mixed<C: Ciphersuite>(seed: u64) {
        let (s, mut rng) = sealed_setup::<C>(seed);
        let cfg_c = ReshareConfig {
            new_parties: Parties::from_ids(&[4, 5, 7]).unwrap(),
            ..s.cfg.clone()
        };
        let mut public = s.public.clone();
        public.insert(pid(7), SecretScalar::<C>::random(&mut rng).public());
        let c2 = deal_sealed(&s.session, &cfg_c, &s.keys[1], &public, &mut rng).unwrap();
        let e = s
            .combine(4, &[s.dealings[0].clone(), c2.clone()])
            .unwrap_err();
        assert_eq!(e, other_run(pid(2)));
        // … relabelled with this run's configuration hash: the signature binds it.
        let mut relabelled = c2;
        relabelled.config_hash = s.cfg.hash();
        let e = s
            .combine(4, &[s.dealings[0].clone(), relabelled])
            .unwrap_err();
        assert_eq!(
            e,
            PssError::StoreDelivered {
                dealing_of: pid(2),
                fault: DeliveryFault::BadSignature
            }
        );
        assert_eq!(culprit(&e), None);
        s.old_shares_alive(&mut rng);
    }

    #[test]
    fn sealed_dealing_of_another_configuration_is_refused() {
        other_config_mixed::<Secp256k1>(0x3b);
        other_config_mixed::<Ed25519>(0x3c);
    }

    /// The same run dealt twice by dealer 2 (a retry after a crash). Both delivered together:
    /// refused. One delivered to each recipient: each combines, but their dealings hashes
    /// differ, so the agreement on that hash (the signed metadata record) stops the dealers
    /// from deleting.
    fn dealt_twice<C: Ciphersuite>(seed: u64) {
        let (s, mut rng) = sealed_setup::<C>(seed);
        let again = deal_sealed(&s.session, &s.cfg, &s.keys[1], &s.public, &mut rng).unwrap();
        let both = vec![s.dealings[0].clone(), s.dealings[1].clone(), again.clone()];
        let e = s.combine(4, &both).unwrap_err();
        assert_eq!(
            e,
            PssError::StoreDelivered {
                dealing_of: pid(2),
                fault: DeliveryFault::Duplicate
            }
        );
        assert_eq!(culprit(&e), None);
        // The same dealing twice is harmless.
        let dup = vec![
            s.dealings[0].clone(),
            s.dealings[1].clone(),
            s.dealings[1].clone(),
        ];
        assert!(s.combine(4, &dup).is_ok());
        let at4 = s.combine(4, &s.dealings).unwrap();
        let at5 = s
            .combine(5, &[s.dealings[0].clone(), again.clone()])
            .unwrap();
        assert_ne!(at4.dealings_hash, at5.dealings_hash);
        assert_eq!(
            verify_sealed_dealings(&s.session, &s.cfg, &s.dealings).unwrap(),
            at4.dealings_hash
        );
        // (Indeed 4 and 5 would not reconstruct the key together.)
        assert_ne!(
            reconstructed_key(&[&at4.share, &at5.share]),
            Some(s.keys[0].public_key())
        );
        s.old_shares_alive(&mut rng);
    }

    #[test]
    fn sealed_second_dealing_of_a_dealer_is_refused_or_caught_by_the_dealings_hash() {
        dealt_twice::<Secp256k1>(0x39);
        dealt_twice::<Ed25519>(0x3a);
    }

    /// The agreement on the dealings hash goes through the signed metadata record of the new
    /// epoch. The store hands party 5 (only) the second dealing of dealer 2; the record is made
    /// from what party 4 (and the dealers) saw. Party 5 opens the authenticated record and
    /// `check_dealings_hash` refuses it — naming nobody — so it keeps its old state and the
    /// dealers, checking the same record against `verify_sealed_dealings` of the dealings they
    /// see, learn that a new party disagrees... only through 5's refusal: 4 and the dealers
    /// accept it. A record carrying 5's hash is refused by 4 and the dealers in turn; a record
    /// of another epoch and one without a hash are refused too. The old shares still sign.
    fn record_with_another_dealings_hash_is_refused<C>(seed: u64)
    where
        C: Ciphersuite + wallet_pss::wallet_sig::WalletCurve,
    {
        use wallet_pss::metadata::{
            AccountMetadata, MetadataCertificate, MetadataKey, MetadataTrust, open_metadata,
            seal_metadata,
        };
        let (s, mut rng) = sealed_setup::<C>(seed);
        let again = deal_sealed(&s.session, &s.cfg, &s.keys[1], &s.public, &mut rng).unwrap();
        let at4 = s.combine(4, &s.dealings).unwrap();
        let at5 = s
            .combine(5, &[s.dealings[0].clone(), again.clone()])
            .unwrap();
        let dealer_view = verify_sealed_dealings(&s.session, &s.cfg, &s.dealings).unwrap();
        assert_eq!(dealer_view, at4.dealings_hash);
        assert_ne!(at4.dealings_hash, at5.dealings_hash);

        // The wallet key certifies a metadata key; the record of epoch 1 carries a hash.
        let set = ShareSetId([0; 16]);
        let wallet_secret = wallet_sss::reconstruct(&[
            Share::new(set, 2, s.keys[0].me(), s.keys[0].share().duplicate()).unwrap(),
            Share::new(set, 2, s.keys[1].me(), s.keys[1].share().duplicate()).unwrap(),
        ])
        .unwrap();
        let y = s.keys[0].public_key();
        let mkey = MetadataKey::<C>::random(&mut rng);
        let cert = MetadataCertificate::sign(&wallet_secret, &mkey).unwrap();
        let record = |version: u64, epoch: u64, h: Option<[u8; 32]>| AccountMetadata::<C> {
            version,
            epoch,
            commitments: at4.share.commitments().clone(),
            share_set: None,
            ecdsa: None,
            dealings_hash: h,
            devices: s.public.clone(),
        };
        let open = |r: &AccountMetadata<C>, rng: &mut ChaCha20Rng| {
            let sealed = seal_metadata(&mkey, &cert, r, rng).unwrap();
            open_metadata(&mkey, &sealed, &mut MetadataTrust::new(y)).unwrap()
        };
        let epoch = s.cfg.new_epoch();
        let from4 = open(&record(1, epoch, Some(at4.dealings_hash)), &mut rng);
        assert_eq!(
            from4.check_dealings_hash(epoch, &at5.dealings_hash),
            Err(PssError::DealingsMismatch { recorded: true })
        );
        assert_eq!(
            from4
                .check_dealings_hash(epoch, &at5.dealings_hash)
                .unwrap_err()
                .culprit(),
            None
        );
        assert_eq!(from4.check_dealings_hash(epoch, &at4.dealings_hash), Ok(()));
        assert_eq!(from4.check_dealings_hash(epoch, &dealer_view), Ok(()));
        let from5 = open(&record(2, epoch, Some(at5.dealings_hash)), &mut rng);
        for honest in [at4.dealings_hash, dealer_view] {
            assert_eq!(
                from5.check_dealings_hash(epoch, &honest),
                Err(PssError::DealingsMismatch { recorded: true })
            );
        }
        let without = open(&record(3, epoch, None), &mut rng);
        assert_eq!(
            without.check_dealings_hash(epoch, &at4.dealings_hash),
            Err(PssError::DealingsMismatch { recorded: false })
        );
        let older = open(&record(4, epoch - 1, Some(at4.dealings_hash)), &mut rng);
        assert_eq!(
            older.check_dealings_hash(epoch, &at4.dealings_hash),
            Err(PssError::Mismatch)
        );
        s.old_shares_alive(&mut rng);
    }

    #[test]
    fn sealed_reshare_record_with_another_dealings_hash_is_refused() {
        record_with_another_dealings_hash_is_refused::<Secp256k1>(0x3c);
        record_with_another_dealings_hash_is_refused::<Ed25519>(0x3d);
    }

    /// A dealing **signed by its dealer** whose content is wrong is the dealer's fault: named.
    fn signed_but_wrong_names_the_dealer<C: Ciphersuite>(seed: u64) {
        let (s, mut rng) = sealed_setup::<C>(seed);
        let config_hash = s.cfg.hash();
        // Re-signing an unchanged dealing per SPEC gives a valid dealing (the spec check).
        let mut same = s.dealings[1].clone();
        spec_sign(&mut same, &s.keys[1], &s.cfg, &mut rng);
        assert!(s.combine(4, &[s.dealings[0].clone(), same.clone()]).is_ok());
        // Dealer 2 seals a wrong sub-share to party 5 (f(5) + 1) and signs the dealing.
        let mut bad = s.dealings[1].clone();
        let binding = spec_binding(&s.session, &config_hash, pid(2), &bad.commitments);
        let ctx5 = Context {
            session: s.session,
            epoch: s.cfg.new_epoch(),
            recipient: pid(5),
        };
        let good =
            ecies::open_bound(&s.factors[&pid(5)], &ctx5, &binding, &bad.sealed[&pid(5)]).unwrap();
        let mut r = wallet_types::Reader::new(good.expose());
        let wrong = r.scalar::<C>().unwrap() + C::Scalar::ONE;
        let ct = ecies::seal_bound::<C, _>(
            &s.public[&pid(5)],
            &ctx5,
            &binding,
            &scalar_plaintext::<C>(&wrong),
            &mut rng,
        )
        .unwrap();
        bad.sealed.insert(pid(5), ct);
        spec_sign(&mut bad, &s.keys[1], &s.cfg, &mut rng);
        let set = vec![s.dealings[0].clone(), bad];
        let e = s.combine(5, &set).unwrap_err();
        assert_eq!(e, PssError::InvalidSubShare(pid(2)));
        assert_eq!(culprit(&e), Some(pid(2)));
        // Party 4's sub-share is fine: it combines (and the dealers would only delete after
        // every new party acknowledged, which 5 will not).
        assert!(s.combine(4, &set).is_ok());
        // Dealer 2 signs a dealing that would change the key (its F₀ moved by G).
        let mut moved = s.dealings[1].clone();
        let mut pts = moved.commitments.points().to_vec();
        pts[0] += C::mul_base(&C::Scalar::ONE);
        moved.commitments = Commitments::new(pts).unwrap();
        spec_sign(&mut moved, &s.keys[1], &s.cfg, &mut rng);
        assert_eq!(
            s.combine(4, &[s.dealings[0].clone(), moved]).unwrap_err(),
            PssError::KeyChanged(pid(2))
        );
        s.old_shares_alive(&mut rng);
    }

    #[test]
    fn sealed_signed_dealing_with_a_wrong_sub_share_names_its_dealer() {
        signed_but_wrong_names_the_dealer::<Secp256k1>(0x37);
        signed_but_wrong_names_the_dealer::<Ed25519>(0x38);
    }

    // --------------------------------------------------------------------------------------
    // The interactive reshare: acknowledged termination
    // --------------------------------------------------------------------------------------

    /// Runs a reshare through the simulator; the old shares are only borrowed and stay here.
    fn run<C: Curve>(
        keys: &[KeyShare<C>],
        cfg: &ReshareConfig<C>,
        seed: u64,
        setup: impl FnOnce(&mut Simulator<Reshare<C>>),
    ) -> (Outcome<ReshareOutput<C>>, Simulator<Reshare<C>>) {
        let session = SessionId([seed as u8; 32]);
        let mut sim = Simulator::new(seed);
        let everyone: BTreeSet<PartyId> =
            cfg.dealers.iter().chain(cfg.new_parties.iter()).collect();
        for p in everyone {
            let old = keys
                .iter()
                .find(|k| k.me() == p)
                .filter(|_| cfg.dealers.contains(p));
            let m = Reshare::new(session, cfg.clone(), p, old, sim.rng()).unwrap();
            sim.add(m);
        }
        setup(&mut sim);
        let out = sim.run();
        (out, sim)
    }

    fn replace_hash<C: Curve>(to: [u8; 32]) -> Fault {
        Fault::tamper_payload(move |m: &mut ReshareMessage<C>| match m {
            ReshareMessage::Confirm(h) | ReshareMessage::Ack(h) | ReshareMessage::Decline(h) => {
                *h = to
            }
            ReshareMessage::Deal { .. } => {}
        })
    }

    fn unconfirmed<C: Curve>(o: &ReshareOutput<C>) -> (&KeyShare<C>, &[PartyId]) {
        match o {
            ReshareOutput::Unconfirmed {
                share,
                missing_or_mismatched,
                ..
            } => (share, missing_or_mismatched),
            other => panic!("expected Unconfirmed, got {other:?}"),
        }
    }

    fn not_dealt<C: Curve>(o: &ReshareOutput<C>) -> &[PartyId] {
        match o {
            ReshareOutput::NotDealt {
                missing_or_mismatched,
            } => missing_or_mismatched,
            other => panic!("expected NotDealt, got {other:?}"),
        }
    }

    /// The probe of the review: 2-of-3 → {4, 5, 6}, t' = 2; P6 confirms the right hash to the
    /// dealers and another one to P4 and P5. No dealer may see `Dealt`; P4 and P5 keep the
    /// share they computed; the dealers keep their old shares; the key still signs.
    fn last_round_equivocation<C: Ciphersuite>(seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = dealt::<C>(2, &[1, 2, 3], &mut rng);
        let pk = keys[0].public_key();
        let cfg = config(&keys, &[1, 2], &[4, 5, 6], 2);
        let (out, _) = run(&keys, &cfg, seed, |sim| {
            for victim in [4, 5] {
                sim.rule(
                    FaultRule::any(replace_hash::<C>([0xee; 32]))
                        .from(pid(6))
                        .to(pid(victim))
                        .round(2),
                );
            }
        });
        assert!(out.failures.is_empty(), "nobody aborts: {:?}", out.failures);
        assert!(out.stalled.is_empty(), "{:?}", out.stalled);
        // Nobody may delete an old share.
        assert!(
            out.outputs.values().all(|o| !o.may_delete_old_share()),
            "{:?}",
            out.outputs
        );
        // The dealers: not dealt, because P4 and P5 did not acknowledge.
        for d in [1, 2] {
            assert_eq!(not_dealt(&out.outputs[&pid(d)]), &[pid(4), pid(5)]);
        }
        // P4 and P5 name P6, keep their shares, and agree with each other.
        let (s4, m4) = unconfirmed(&out.outputs[&pid(4)]);
        let (s5, m5) = unconfirmed(&out.outputs[&pid(5)]);
        assert_eq!((m4, m5), (&[pid(6)][..], &[pid(6)][..]));
        for p in [4, 5] {
            assert!(matches!(
                out.outputs[&pid(p)],
                ReshareOutput::Unconfirmed {
                    acknowledged: false,
                    ..
                }
            ));
        }
        assert_eq!(
            out.outputs[&pid(4)].transcript_hash(),
            out.outputs[&pid(5)].transcript_hash()
        );
        // P6 (its machine) saw the declines.
        assert_eq!(unconfirmed(&out.outputs[&pid(6)]).1, &[pid(4), pid(5)]);
        // Both ends of the key are alive: the dealers' old shares (never consumed) and the
        // honest new parties' kept shares each reconstruct the key and sign.
        key_alive(&[&keys[0], &keys[1]], &pk, &mut rng);
        key_alive(&[s4, s5], &pk, &mut rng);
    }

    #[test]
    fn reshare_confirmation_equivocation_cannot_destroy_the_key() {
        last_round_equivocation::<Secp256k1>(0x41);
        last_round_equivocation::<Ed25519>(0x42);
    }

    /// The same attack one round later: P6 confirms consistently, then acknowledges to the
    /// dealers and sends P4 and P5 another acknowledgement. The dealers may delete (every new
    /// party acknowledged to them, and P4 and P5 acknowledged having the share), and P4 and P5
    /// do hold it: they end unconfirmed, keeping shares that reconstruct the key and sign.
    fn ack_equivocation<C: Ciphersuite>(seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = dealt::<C>(2, &[1, 2, 3], &mut rng);
        let pk = keys[0].public_key();
        let cfg = config(&keys, &[1, 2], &[4, 5, 6], 2);
        let (out, _) = run(&keys, &cfg, seed, |sim| {
            for victim in [4, 5] {
                sim.rule(
                    FaultRule::any(replace_hash::<C>([0xee; 32]))
                        .from(pid(6))
                        .to(pid(victim))
                        .round(3),
                );
            }
        });
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        for d in [1, 2] {
            assert!(matches!(out.outputs[&pid(d)], ReshareOutput::Dealt { .. }));
        }
        let (s4, m4) = unconfirmed(&out.outputs[&pid(4)]);
        let (s5, m5) = unconfirmed(&out.outputs[&pid(5)]);
        assert_eq!((m4, m5), (&[pid(6)][..], &[pid(6)][..]));
        // Even if the dealers delete now, the key survives with the honest new parties.
        key_alive(&[s4, s5], &pk, &mut rng);
    }

    #[test]
    fn reshare_acknowledgement_equivocation_leaves_the_honest_shares_in_place() {
        ack_equivocation::<Secp256k1>(0x43);
        ack_equivocation::<Ed25519>(0x44);
    }

    /// P6 sends P4 a second, different confirmation after P4 acknowledged (an equivocation
    /// the inbox sees, in a round that is over): P4 does not abort and drop its share; it ends
    /// unconfirmed naming P6, and its share still reconstructs the key with P5's.
    fn direct_equivocation<C: Ciphersuite>(seed: u64) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = dealt::<C>(2, &[1, 2, 3], &mut rng);
        let pk = keys[0].public_key();
        let cfg = config(&keys, &[1, 2], &[4, 5, 6], 2);
        let session = SessionId([seed as u8; 32]);
        // P6's acknowledgement to P4 is held back, so P4 waits in round 3 …
        let (out, mut sim) = run(&keys, &cfg, seed, |sim| {
            sim.rule(FaultRule::any(Fault::Drop).from(pid(6)).to(pid(4)).round(3));
        });
        assert_eq!(out.stalled, [pid(4)]);
        for d in [1, 2] {
            assert!(matches!(out.outputs[&pid(d)], ReshareOutput::Dealt { .. }));
        }
        // … when P6's second confirmation reaches it.
        let second = Envelope {
            session,
            round: 2,
            sender: pid(6),
            recipient: Recipient::All,
            payload: ReshareMessage::<C>::Confirm([0x66; 32]),
        }
        .map(|m| m.to_bytes());
        let out4 = sim.inject(pid(4), second).resume();
        assert!(out4.failures.is_empty(), "{:?}", out4.failures);
        let (s4, m4) = unconfirmed(&out4.outputs[&pid(4)]);
        assert_eq!(m4, &[pid(6)]);
        let s5 = out.outputs[&pid(5)].share().unwrap();
        key_alive(&[s4, s5], &pk, &mut rng);
    }

    #[test]
    fn reshare_equivocation_seen_by_the_inbox_does_not_drop_the_share() {
        direct_equivocation::<Secp256k1>(0x45);
        direct_equivocation::<Ed25519>(0x46);
    }

    /// P6 goes silent in round `round` (its confirmations or its acknowledgements are
    /// dropped): everybody waits. When the caller gives up, `stop_waiting` hands every honest
    /// party what it has — the new parties their shares, unconfirmed; a new party that had not
    /// acknowledged yet also a `Decline` to broadcast — and no dealer is told to delete.
    fn silent_party<C: Ciphersuite>(seed: u64, round: u16) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let keys = dealt::<C>(2, &[1, 2, 3], &mut rng);
        let pk = keys[0].public_key();
        let cfg = config(&keys, &[1, 2], &[4, 5, 6], 2);
        let (out, sim) = run(&keys, &cfg, seed, |sim| {
            sim.rule(
                FaultRule::any(Fault::Drop)
                    .from(pid(6))
                    .round(round)
                    .times(usize::MAX),
            );
        });
        assert!(out.failures.is_empty(), "{:?}", out.failures);
        // Only P6's own machine (silent in round 3, it received everyone's acknowledgement)
        // may have finished; every honest party is still waiting.
        assert!(out.outputs.keys().all(|p| *p == pid(6)));
        let mut stalled = out.stalled.clone();
        stalled.sort_unstable();
        let mut kept = Vec::new();
        for p in stalled.iter().copied().filter(|p| *p != pid(6)) {
            // The caller restores the machine from its (encrypted) saved state and gives up.
            let saved = sim.machine(p).unwrap().to_secret_bytes();
            let mut m = Reshare::<C>::from_bytes(saved.expose()).unwrap();
            let (msgs, o) = m.stop_waiting().unwrap();
            assert!(!o.may_delete_old_share());
            assert!(m.stop_waiting().is_none(), "ended once");
            match &o {
                ReshareOutput::NotDealt {
                    missing_or_mismatched,
                } => assert_eq!(missing_or_mismatched, &[pid(4), pid(5), pid(6)]),
                ReshareOutput::Unconfirmed {
                    share,
                    acknowledged,
                    ..
                } => {
                    // Silent in round 2: nobody acknowledged, so each declines now; silent
                    // in round 3: they had acknowledged, nothing more to send.
                    assert_eq!(*acknowledged, round == 3);
                    assert_eq!(msgs.len(), usize::from(round == 2));
                    kept.push(share.duplicate());
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(kept.len(), 2);
        let refs: Vec<&KeyShare<C>> = kept.iter().collect();
        key_alive(&refs, &pk, &mut rng);
        key_alive(&[&keys[0], &keys[1]], &pk, &mut rng);
    }

    #[test]
    fn reshare_silent_party_then_stop_waiting_keeps_every_share() {
        for round in [2, 3] {
            silent_party::<Secp256k1>(0x47, round);
            silent_party::<Ed25519>(0x48, round);
        }
    }

    /// A failure in round 1 (a dealer that would change the key) aborts the new parties with
    /// the dealer named — and the callers' old shares, only borrowed, still sign.
    #[test]
    fn reshare_round_one_abort_leaves_the_old_shares_usable() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x49);
        let keys = dealt::<Ed25519>(2, &[1, 2, 3], &mut rng);
        let pk = keys[0].public_key();
        let cfg = config(&keys, &[1, 2], &[1, 2, 3, 4], 2);
        let (out, _) = run(&keys, &cfg, 0x49, |sim| {
            sim.rule(
                FaultRule::any(Fault::tamper_payload(|m: &mut ReshareMessage<Ed25519>| {
                    if let ReshareMessage::Deal { sub_share, .. } = m {
                        *sub_share.expose_mut() += curve25519_dalek::Scalar::ONE;
                    }
                }))
                .from(pid(2))
                .to(pid(4)),
            );
        });
        assert_eq!(
            out.failures.get(&pid(4)),
            Some(&Error::blame(pid(2), wallet_types::Reason::InvalidShare))
        );
        assert!(out.outputs.values().all(|o| !o.may_delete_old_share()));
        key_alive(&[&keys[0], &keys[2]], &pk, &mut rng);
        key_alive(&[&keys[1], &keys[2]], &pk, &mut rng);
    }

    /// `t' = 1` (every new party holds the whole key) only when asked for.
    #[test]
    fn reshare_to_threshold_one_needs_explicit_consent() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x4a);
        let keys = dealt::<Secp256k1>(2, &[1, 2, 3], &mut rng);
        let cfg = config(&keys, &[1, 2], &[4, 5], 1);
        let refused = ParamError::InvalidThreshold {
            threshold: 1,
            parties: 2,
        };
        assert_eq!(cfg.check(), Err(refused.clone()));
        assert_eq!(
            Reshare::new(
                SessionId([1; 32]),
                cfg.clone(),
                pid(1),
                Some(&keys[0]),
                &mut rng
            )
            .unwrap_err(),
            Error::Params(refused)
        );
        let keys_pub: BTreeMap<PartyId, _> = [4, 5]
            .map(|p| (pid(p), SecretScalar::<Secp256k1>::random(&mut rng).public()))
            .into_iter()
            .collect();
        assert_eq!(
            deal_sealed(&SessionId([1; 32]), &cfg, &keys[0], &keys_pub, &mut rng).unwrap_err(),
            PssError::InvalidInput
        );
        let cfg = ReshareConfig {
            allow_threshold_one: true,
            ..cfg
        };
        let (out, _) = run(&keys, &cfg, 0x4a, |_| {});
        let pk = keys[0].public_key();
        for p in [4, 5] {
            let share = out.outputs[&pid(p)].share().unwrap();
            assert_eq!(share.threshold(), 1);
            assert_eq!(share.share().public(), pk, "each holds the whole key");
        }
    }
}

// ==========================================================================================
// refresh and the ECDSA refresh with its resetup (acknowledged termination; the FROST DKG and
// ECDSA key generation have theirs in wallet-tss/tests/frost_dkg_sim.rs and
// wallet-tss/tests/ecdsa_lifecycle/keygen.rs)
// ==========================================================================================

#[path = "agreement/termination.rs"]
mod termination;
