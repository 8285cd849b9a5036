use wildid_domain::captcha::{AnswerHash, CaptchaChallenge, CaptchaKind, CaptchaPolicy};
use wildid_domain::ids::CaptchaId;
use wildid_domain::session::Session;
use wildid_ports::RepoError;
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

use super::fixtures::{at, session};

fn challenge(n: u8, kind: CaptchaKind, owner: &Session) -> CaptchaChallenge {
    let id = CaptchaId::from_random([n; 16]);
    CaptchaChallenge::issue(
        id,
        kind,
        AnswerHash::compute(&id, "7"),
        Some(owner.key()),
        &CaptchaPolicy::default(),
        at(n.into()),
    )
}

on_both_backends!(
    challenges_round_trip_and_refuse_duplicates,
    |t: TestDb| async move {
        let repo = t.db.captchas();
        let owner = session(&t, 1).await;
        for (n, kind) in [(1, CaptchaKind::Arithmetic), (2, CaptchaKind::ProofOfWork)] {
            let c = challenge(n, kind, &owner);
            repo.insert(&c).await.unwrap();
            assert_eq!(repo.insert(&c).await, Err(RepoError::Duplicate));
            assert_eq!(repo.get(c.id).await.unwrap(), Some(c));
        }
        let missing = CaptchaId::from_random([9; 16]);
        assert_eq!(repo.get(missing).await.unwrap(), None);
    }
);

on_both_backends!(
    attempts_change_by_compare_and_swap_and_a_challenge_is_taken_once,
    |t: TestDb| async move {
        let repo = t.db.captchas();
        let owner = session(&t, 1).await;
        let c = challenge(1, CaptchaKind::Arithmetic, &owner);
        repo.insert(&c).await.unwrap();
        assert!(repo.swap_attempts(c.id, 0, 1).await.unwrap());
        assert!(
            !repo.swap_attempts(c.id, 0, 1).await.unwrap(),
            "stale expectation"
        );
        assert_eq!(repo.get(c.id).await.unwrap().unwrap().attempts, 1);

        // Of many concurrent takes, exactly one wins.
        let takes = (0..8).map(|_| {
            let repo = t.db.captchas();
            let id = c.id;
            tokio::spawn(async move { repo.take(id).await.unwrap() })
        });
        let mut won = 0;
        for take in takes {
            won += usize::from(take.await.unwrap());
        }
        assert_eq!(won, 1);
        assert_eq!(repo.get(c.id).await.unwrap(), None);
        assert!(!repo.swap_attempts(c.id, 1, 2).await.unwrap(), "gone");
    }
);

on_both_backends!(
    expired_challenges_are_purged_and_challenges_die_with_their_session,
    |t: TestDb| async move {
        let repo = t.db.captchas();
        let owner = session(&t, 1).await;
        let other = session(&t, 2).await;
        let early = challenge(1, CaptchaKind::Arithmetic, &owner);
        let late = challenge(50, CaptchaKind::Arithmetic, &owner);
        let others = challenge(3, CaptchaKind::ProofOfWork, &other);
        for c in [&early, &late, &others] {
            repo.insert(c).await.unwrap();
        }
        // At the instant `early` expires it can no longer be passed: it is purged.
        assert_eq!(repo.purge_expired(early.expires_at).await.unwrap(), 1);
        assert_eq!(repo.get(early.id).await.unwrap(), None);
        assert!(repo.get(late.id).await.unwrap().is_some());

        t.db.sessions().delete(&other.key()).await.unwrap();
        assert_eq!(repo.get(others.id).await.unwrap(), None);
        assert!(repo.get(late.id).await.unwrap().is_some());
    }
);
