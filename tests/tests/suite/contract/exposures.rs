use chrono::TimeDelta;
use wildid_domain::ids::{ExposureReportId, NotificationId, SiteId, UserId};
use wildid_domain::sighting::Area;
use wildid_domain::text::PlainText;
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_domain::visits::{ExposureReport, Notification, Site};
use wildid_ports::RepoError;
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

use super::fixtures::at;

async fn person(t: &TestDb, n: u8) -> UserId {
    let id = UserId::from_random([n; 16]);
    let user = User::new(
        id,
        EmailLookup::from_bytes([n; 32]),
        EncryptedField::new(format!("gAAAA-ciphertext-{n}")),
        at(0),
    );
    t.db.users().insert(&user).await.unwrap();
    id
}

async fn site(t: &TestDb) -> SiteId {
    let site = Site::new(SiteId::from_random([1; 16]), "Marsh", "", Area::WORLD, true).unwrap();
    t.db.sites().insert(&site).await.unwrap();
    site.id()
}

fn report(n: u8, site: SiteId, by: UserId) -> ExposureReport {
    ExposureReport::new(
        ExposureReportId::from_random([n; 16]),
        site,
        (at(0) - TimeDelta::hours(3), at(0) - TimeDelta::hours(1)),
        "Avian influenza in a dead gull.",
        by,
        at(0),
    )
    .unwrap()
}

fn notice(n: u8, user: UserId, report: &ExposureReport, secs: i64) -> Notification {
    Notification {
        id: NotificationId::from_random([n; 16]),
        user,
        report: report.id,
        message: PlainText::new("You were at Marsh while it was exposed.", 1000).unwrap(),
        created_at: at(secs),
        read_at: None,
    }
}

on_both_backends!(
    a_report_and_its_notifications_are_stored_together_and_read_by_their_owner_only,
    |t: TestDb| async move {
        let site = site(&t).await;
        let (ana, ben, ranger) = (
            person(&t, 1).await,
            person(&t, 2).await,
            person(&t, 3).await,
        );
        let reports = t.db.exposure_reports();
        let notifications = t.db.notifications();

        // A recipient that does not exist stores nothing at all.
        let first = report(1, site, ranger);
        let ghost = UserId::from_random([99; 16]);
        assert_eq!(
            reports
                .record(
                    &first,
                    &[notice(1, ana, &first, 1), notice(2, ghost, &first, 1)]
                )
                .await,
            Err(RepoError::NotFound)
        );
        assert!(reports.latest(10).await.unwrap().is_empty());
        assert_eq!(notifications.unread(ana).await.unwrap(), 0);

        // One notification per person and report.
        assert_eq!(
            reports
                .record(
                    &first,
                    &[notice(1, ana, &first, 1), notice(2, ana, &first, 1)]
                )
                .await,
            Err(RepoError::Duplicate)
        );
        assert!(reports.latest(10).await.unwrap().is_empty());

        reports
            .record(
                &first,
                &[notice(1, ana, &first, 1), notice(2, ben, &first, 1)],
            )
            .await
            .unwrap();
        let second = report(2, site, ranger);
        reports
            .record(&second, &[notice(3, ana, &second, 5)])
            .await
            .unwrap();
        assert_eq!(
            reports.latest(10).await.unwrap(),
            vec![second.clone(), first.clone()]
        );

        // (Reported at the same instant: the later id comes first, as ids break ties.)
        let mine = notifications.for_user(ana, 10).await.unwrap();
        assert_eq!(
            mine,
            vec![notice(3, ana, &second, 5), notice(1, ana, &first, 1)]
        );
        assert_eq!(notifications.unread(ana).await.unwrap(), 2);
        assert_eq!(
            notifications
                .mark_read(NotificationId::from_random([1; 16]), ben, at(9))
                .await,
            Err(RepoError::NotFound),
            "someone else's notification is missing"
        );
        let id = NotificationId::from_random([1; 16]);
        notifications.mark_read(id, ana, at(9)).await.unwrap();
        notifications.mark_read(id, ana, at(20)).await.unwrap();
        let read = notifications.for_user(ana, 10).await.unwrap();
        assert_eq!(read[1].read_at, Some(at(9)), "the first reading counts");
        assert_eq!(notifications.unread(ana).await.unwrap(), 1);
        assert_eq!(notifications.unread(ben).await.unwrap(), 1);

        // Notifications go with their person's account; the report stays.
        t.db.users().delete(ana).await.unwrap();
        assert!(notifications.for_user(ana, 10).await.unwrap().is_empty());
        assert_eq!(reports.latest(10).await.unwrap().len(), 2);
    }
);

on_both_backends!(
    only_notifications_read_before_the_cut_off_are_purged,
    |t: TestDb| async move {
        let site = site(&t).await;
        let (ana, ranger) = (person(&t, 1).await, person(&t, 2).await);
        let reports = t.db.exposure_reports();
        let notifications = t.db.notifications();
        let first = report(1, site, ranger);
        let second = report(2, site, ranger);
        let third = report(3, site, ranger);
        for (n, r) in [(1u8, &first), (2, &second), (3, &third)] {
            reports.record(r, &[notice(n, ana, r, 1)]).await.unwrap();
        }
        notifications
            .mark_read(NotificationId::from_random([1; 16]), ana, at(10))
            .await
            .unwrap();
        notifications
            .mark_read(NotificationId::from_random([2; 16]), ana, at(30))
            .await
            .unwrap();
        assert_eq!(notifications.count_read_before(at(20)).await.unwrap(), 1);
        assert_eq!(notifications.purge_read_before(at(20), 1).await.unwrap(), 1);
        assert_eq!(notifications.count_read_before(at(20)).await.unwrap(), 0);
        let left: Vec<_> = notifications
            .for_user(ana, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.report)
            .collect();
        assert_eq!(
            left,
            vec![third.id, second.id],
            "the unread and the recently read stay"
        );
    }
);
