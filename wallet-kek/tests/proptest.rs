//! Algebraic law: open ∘ seal = id, for any opaque payload, tag and PRF output; a different
//! PRF output never opens.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use wallet_kek::{Credential, Envelope, KekError, NewSlot, Payload, PrfOutput, PrfSalt, WalletId};
use wallet_types::{SecretVec, WireObject};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn seal_then_open_is_identity(
        bytes in proptest::collection::vec(any::<u8>(), 1..600),
        tag in any::<u16>(),
        prf in any::<[u8; 32]>(),
        other in any::<[u8; 32]>(),
        cred in proptest::collection::vec(any::<u8>(), 1..64),
        seed in any::<u64>(),
    ) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let payload = Payload::opaque(tag, SecretVec::from_slice(&bytes)).unwrap();
        let out = PrfOutput::new(prf);
        let first = NewSlot::Prf { credential_id: &cred, rp_id: "rp.example", salt: PrfSalt::random(&mut rng), output: &out };
        let env = Envelope::seal(WalletId::random(&mut rng), &payload, &first, &mut rng).unwrap();
        let env = Envelope::from_bytes(&env.to_bytes()).unwrap();
        prop_assert_eq!(env.prf_requests().count(), 1);
        let u = env.open(&Credential::Prf { credential_id: &cred, output: &out }).unwrap();
        prop_assert_eq!(u.payload().expose(), bytes.as_slice());
        prop_assert_eq!(u.payload().kind(), wallet_kek::PayloadKind::Opaque(tag));
        if other != prf {
            let o = PrfOutput::new(other);
            prop_assert_eq!(env.open(&Credential::Prf { credential_id: &cred, output: &o }).unwrap_err(), KekError::Unwrap);
        }
    }
}
