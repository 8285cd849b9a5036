use std::sync::Arc;

use chrono::{TimeZone, Utc};
use wildid_domain::audit::{Actor, AuditAction, AuditDetails, AuditRecord, ChainProblem, Origin};
use wildid_domain::ids::{RequestId, UserId};
use wildid_ports::repo::{AuditFilter, AuditRow};
use wildid_ports::services::audit::{AuditTrail, VerifyOutcome};
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

fn record(i: i64) -> AuditRecord {
    let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
        + chrono::TimeDelta::microseconds(i * 1_000_123);
    AuditRecord::new(
        at,
        Actor::User(UserId::from_random([7; 16])),
        AuditAction::new("test.event").unwrap(),
    )
    .target(format!("target-{i}"))
    .details(
        AuditDetails::new()
            .with("index", i.to_string())
            .with("note", "ünïcode ✓"),
    )
    .origin(Some(Origin::new(
        RequestId::from_random([i as u8; 16]),
        // With and without the client's network, of both address families.
        match i % 3 {
            0 => None,
            1 => Some("203.0.113.77".parse().unwrap()),
            _ => Some("2001:db8:abcd:12::1".parse().unwrap()),
        },
    )))
}

on_both_backends!(appends_link_and_read_back_exactly, |t: TestDb| async move {
    let log = t.db.audit_log();
    assert_eq!(log.head().await.unwrap(), None);
    let mut appended = Vec::new();
    for i in 0..3 {
        appended.push(log.append(record(i)).await.unwrap());
    }
    assert_eq!(
        appended.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(appended[1].prev_hash, appended[0].hash);
    assert_eq!(log.head().await.unwrap(), Some((3, appended[2].hash)));
    let rows = log.page(0, 10).await.unwrap();
    assert_eq!(
        rows,
        appended
            .iter()
            .cloned()
            .map(AuditRow::Entry)
            .collect::<Vec<_>>()
    );
    assert_eq!(log.page(2, 10).await.unwrap().len(), 1);
    let trail = AuditTrail::new(log);
    assert!(
        matches!(trail.verify(None).await.unwrap(), VerifyOutcome::Intact(s) if s.entries == 3)
    );
});

on_both_backends!(
    concurrent_appends_never_fork_the_chain,
    |t: TestDb| async move {
        let log = t.db.audit_log();
        let mut tasks = Vec::new();
        for i in 0..40 {
            let log = Arc::clone(&log);
            tasks.push(tokio::spawn(async move { log.append(record(i)).await }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        let rows = log.page(0, 100).await.unwrap();
        assert_eq!(
            rows.iter().map(AuditRow::seq).collect::<Vec<_>>(),
            (1..=40).collect::<Vec<_>>()
        );
        let trail = AuditTrail::new(log);
        assert!(
            matches!(trail.verify(None).await.unwrap(), VerifyOutcome::Intact(s) if s.entries == 40)
        );
    }
);

on_both_backends!(
    the_table_refuses_update_and_delete,
    |t: TestDb| async move {
        let log = t.db.audit_log();
        log.append(record(0)).await.unwrap();
        let update = t
            .exec_raw("UPDATE audit_log SET target = 'forged' WHERE seq = 1")
            .await;
        assert!(update.unwrap_err().contains("append-only"));
        let delete = t.exec_raw("DELETE FROM audit_log WHERE seq = 1").await;
        assert!(delete.unwrap_err().contains("append-only"));
        if t.is_postgres() {
            let truncate = t.exec_raw("TRUNCATE audit_log").await;
            assert!(truncate.unwrap_err().contains("append-only"));
        }
        assert_eq!(log.page(0, 10).await.unwrap().len(), 1);
    }
);

// An attacker with full database access disables the protection and tampers; verification
// names the first entry affected.
on_both_backends!(
    verify_finds_edited_and_deleted_entries,
    |t: TestDb| async move {
        let log = t.db.audit_log();
        for i in 0..5 {
            log.append(record(i)).await.unwrap();
        }
        let trail = AuditTrail::new(Arc::clone(&log));
        let disable = if t.is_postgres() {
            "ALTER TABLE audit_log DISABLE TRIGGER USER"
        } else {
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete"
        };
        t.exec_raw(disable).await.unwrap();

        t.exec_raw("UPDATE audit_log SET target = 'forged' WHERE seq = 4")
            .await
            .unwrap();
        let outcome = trail.verify(None).await.unwrap();
        assert!(
            matches!(outcome, VerifyOutcome::Broken(b) if b.seq == 4 && b.problem == ChainProblem::Altered),
            "{outcome:?}"
        );

        t.exec_raw("UPDATE audit_log SET actor = 'nobody' WHERE seq = 3")
            .await
            .unwrap();
        let outcome = trail.verify(None).await.unwrap();
        assert!(
            matches!(outcome, VerifyOutcome::Broken(b) if b.seq == 3 && b.problem == ChainProblem::Altered),
            "{outcome:?}"
        );

        t.exec_raw("DELETE FROM audit_log WHERE seq = 2")
            .await
            .unwrap();
        let outcome = trail.verify(None).await.unwrap();
        assert!(
            matches!(outcome, VerifyOutcome::Broken(b) if b.seq == 3 && b.problem == ChainProblem::Missing { expected_seq: 2 }),
            "{outcome:?}"
        );
    }
);

on_both_backends!(
    searches_filter_by_actor_action_and_time_newest_first,
    |t: TestDb| async move {
        let log = t.db.audit_log();
        let (ann, bob) = (UserId::from_random([1; 16]), UserId::from_random([2; 16]));
        let start = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        // Entry i (seq i + 1) is an hour after the one before; actors and actions alternate.
        for i in 0..12_i64 {
            let actor = match i % 3 {
                0 => Actor::User(ann),
                1 => Actor::User(bob),
                _ => Actor::System,
            };
            let action = if i % 2 == 0 { "test.even" } else { "test.odd" };
            let at = start + chrono::TimeDelta::hours(i);
            log.append(AuditRecord::new(
                at,
                actor,
                AuditAction::new(action).unwrap(),
            ))
            .await
            .unwrap();
        }
        let seqs = |rows: Vec<AuditRow>| rows.iter().map(AuditRow::seq).collect::<Vec<_>>();
        let all = AuditFilter::default();
        assert_eq!(
            seqs(log.search(&all, None, 100).await.unwrap()),
            (1..=12).rev().collect::<Vec<_>>()
        );
        assert_eq!(
            seqs(log.search(&all, Some(5), 3).await.unwrap()),
            vec![4, 3, 2]
        );
        let by_ann = AuditFilter {
            actor: Some(Actor::User(ann)),
            ..AuditFilter::default()
        };
        assert_eq!(
            seqs(log.search(&by_ann, None, 100).await.unwrap()),
            vec![10, 7, 4, 1]
        );
        let system_odd = AuditFilter {
            actor: Some(Actor::System),
            action: Some(AuditAction::new("test.odd").unwrap()),
            ..AuditFilter::default()
        };
        assert_eq!(
            seqs(log.search(&system_odd, None, 100).await.unwrap()),
            vec![12, 6]
        );
        // From is inclusive, until exclusive.
        let window = AuditFilter {
            from: Some(start + chrono::TimeDelta::hours(2)),
            until: Some(start + chrono::TimeDelta::hours(5)),
            ..AuditFilter::default()
        };
        assert_eq!(
            seqs(log.search(&window, None, 100).await.unwrap()),
            vec![5, 4, 3]
        );
        assert_eq!(
            seqs(log.search(&window, Some(4), 100).await.unwrap()),
            vec![3]
        );
        let nobody = AuditFilter {
            actor: Some(Actor::Anonymous),
            ..AuditFilter::default()
        };
        assert!(log.search(&nobody, None, 100).await.unwrap().is_empty());
        // Whole entries come back, as `page` reads them.
        let newest = log.search(&all, None, 1).await.unwrap();
        assert_eq!(newest, log.page(11, 1).await.unwrap());
    }
);
