use wildid_domain::ids::UserId;
use wildid_domain::token::{LoginToken, RawToken, TokenPolicy};
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_ports::RepoError;
use wildid_ports::repo::{ColumnProgress, SealedColumn};
use wildid_tests::db::TestDb;
use wildid_tests::on_both_backends;

use super::fixtures::at;

fn person(n: u8) -> User {
    User::new(
        UserId::from_random([n; 16]),
        EmailLookup::from_bytes([n; 32]),
        EncryptedField::new(format!("gAAAA-address-{n}")),
        at(0),
    )
}

on_both_backends!(
    sealed_columns_are_walked_in_key_order_and_replaced_only_if_unchanged,
    |t: TestDb| async move {
        let sealed = t.db.sealed_values();
        let users = t.db.users();
        for n in [3, 1, 2] {
            users.insert(&person(n)).await.unwrap();
        }
        // Two address changes waiting: their addresses sit under byte keys (token hashes).
        for (n, hash) in [(1u8, 0xf0u8), (2, 0x0f)] {
            let link = LoginToken::email_change(
                RawToken::from_random([hash; 32]).hash(),
                person(n).id(),
                EmailLookup::from_bytes([n + 10; 32]),
                EncryptedField::new(format!("gAAAA-new-address-{n}")),
                &TokenPolicy::default(),
                at(0),
            );
            t.db.login_tokens().insert(&link).await.unwrap();
        }
        assert_eq!(sealed.count(SealedColumn::UserEmails).await.unwrap(), 3);
        assert_eq!(
            sealed.count(SealedColumn::TotpSecrets).await.unwrap(),
            0,
            "no secret, no value"
        );
        assert!(
            sealed
                .page(SealedColumn::TotpSecrets, None, 10)
                .await
                .unwrap()
                .is_empty()
        );

        // Pages follow the key order and resume after a row.
        let first = sealed
            .page(SealedColumn::UserEmails, None, 2)
            .await
            .unwrap();
        let ids: Vec<String> = first.iter().map(|v| v.row.clone()).collect();
        assert_eq!(
            ids,
            [person(1).id().to_string(), person(2).id().to_string()]
        );
        let rest = sealed
            .page(SealedColumn::UserEmails, Some(ids[1].clone()), 2)
            .await
            .unwrap();
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].row, person(3).id().to_string());
        assert_eq!(rest[0].value.as_str(), "gAAAA-address-3");

        // A replacement needs the value read: a changed row is left alone.
        let fresh = EncryptedField::new("gAAAA-under-the-new-key".into());
        assert!(
            !sealed
                .replace(
                    SealedColumn::UserEmails,
                    rest[0].row.clone(),
                    EncryptedField::new("gAAAA-stale".into()),
                    fresh.clone(),
                )
                .await
                .unwrap()
        );
        assert!(
            sealed
                .replace(
                    SealedColumn::UserEmails,
                    rest[0].row.clone(),
                    rest[0].value.clone(),
                    fresh.clone(),
                )
                .await
                .unwrap()
        );
        let stored = users.get(person(3).id()).await.unwrap();
        assert_eq!(*stored.email_encrypted(), fresh);

        // Byte keys read as hex, in byte order, and are replaced by their hex.
        let pending = sealed
            .page(SealedColumn::PendingAddresses, None, 10)
            .await
            .unwrap();
        assert_eq!(pending.len(), 2);
        assert!(pending[0].row < pending[1].row);
        assert_eq!(pending[0].row.len(), 64);
        assert!(
            sealed
                .replace(
                    SealedColumn::PendingAddresses,
                    pending[1].row.clone(),
                    pending[1].value.clone(),
                    fresh.clone(),
                )
                .await
                .unwrap()
        );
        let after = sealed
            .page(
                SealedColumn::PendingAddresses,
                Some(pending[0].row.clone()),
                10,
            )
            .await
            .unwrap();
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].value, fresh);
        assert!(matches!(
            sealed
                .page(SealedColumn::PendingAddresses, Some("not hex".into()), 10)
                .await,
            Err(RepoError::Corrupt(_))
        ));

        // Progress round-trips and is replaced.
        assert_eq!(
            sealed.progress(SealedColumn::UserEmails).await.unwrap(),
            None
        );
        let mut progress = ColumnProgress::start(SealedColumn::UserEmails, "0123456789abcdef");
        progress.cursor = Some(ids[1].clone());
        progress.examined = 2;
        progress.rewritten = 1;
        sealed.save_progress(progress.clone()).await.unwrap();
        assert_eq!(
            sealed.progress(SealedColumn::UserEmails).await.unwrap(),
            Some(progress.clone())
        );
        progress.examined = 3;
        progress.unreadable = 1;
        progress.finished_at = Some(at(5));
        sealed.save_progress(progress.clone()).await.unwrap();
        assert_eq!(
            sealed.progress(SealedColumn::UserEmails).await.unwrap(),
            Some(progress)
        );
        assert_eq!(
            sealed.progress(SealedColumn::VisitTokens).await.unwrap(),
            None
        );
    }
);
