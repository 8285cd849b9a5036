use chrono::TimeDelta;
use wildid_ports::repo::{Job, JobState, LeaseRequest};
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

use super::fixtures::at;

fn ask(holder: &str, now: i64, finished_before: Option<i64>) -> LeaseRequest {
    LeaseRequest {
        job: Job::Retention,
        holder: holder.to_owned(),
        now: at(now),
        until: at(now) + TimeDelta::minutes(15),
        finished_before: finished_before.map(at),
    }
}

on_both_backends!(
    one_holder_at_a_time_until_its_lease_runs_out_or_is_released,
    |t: TestDb| async move {
        let leases = t.db.job_leases();
        assert_eq!(leases.state(Job::Retention).await.unwrap(), None);
        assert!(leases.acquire(ask("a", 0, None)).await.unwrap());
        assert_eq!(
            leases.state(Job::Retention).await.unwrap(),
            Some(JobState {
                holder: Some("a".into()),
                leased_until: Some(at(0) + TimeDelta::minutes(15)),
                finished_at: None,
            })
        );
        assert!(!leases.acquire(ask("b", 60, None)).await.unwrap(), "held");
        assert!(
            leases.acquire(ask("a", 60, None)).await.unwrap(),
            "the holder renews its own lease"
        );
        assert_eq!(
            leases.state(Job::Reencryption).await.unwrap(),
            None,
            "jobs are leased apart"
        );

        // Someone else's release changes nothing; the holder's records the end.
        leases
            .release(Job::Retention, "b", Some(at(70)))
            .await
            .unwrap();
        assert!(!leases.acquire(ask("b", 80, None)).await.unwrap());
        leases
            .release(Job::Retention, "a", Some(at(90)))
            .await
            .unwrap();
        let state = leases.state(Job::Retention).await.unwrap().unwrap();
        assert_eq!(
            (state.leased_until, state.finished_at),
            (None, Some(at(90)))
        );

        // A daily job is due only when it last finished before the instant asked.
        assert!(!leases.acquire(ask("b", 100, Some(90))).await.unwrap());
        assert!(leases.acquire(ask("b", 100, Some(91))).await.unwrap());
        // A release without an end keeps the job due, and the last end as it was.
        leases.release(Job::Retention, "b", None).await.unwrap();
        let state = leases.state(Job::Retention).await.unwrap().unwrap();
        assert_eq!(
            (state.leased_until, state.finished_at),
            (None, Some(at(90)))
        );
        assert!(leases.acquire(ask("c", 110, Some(91))).await.unwrap());

        // A crashed holder's lease runs out; then of many processes exactly one takes it.
        let expired = 110 + 15 * 60;
        let mut racers = Vec::new();
        for n in 0..8 {
            let leases = t.db.job_leases();
            racers.push(tokio::spawn(async move {
                leases
                    .acquire(ask(&format!("p{n}"), expired, None))
                    .await
                    .unwrap()
            }));
        }
        let mut taken = 0;
        for racer in racers {
            taken += usize::from(racer.await.unwrap());
        }
        assert_eq!(taken, 1);
    }
);
