//! A booking's change of status (claim, release, check-in, completion, cancellation), stored
//! by compare-and-set: only if the booking still has the status and worker the change was
//! decided from. In the same transaction a check-in writes its visit mapping, a check-in or
//! cancellation deletes the visit token, and a booking that stops holding a place gives it back
//! to its slot.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use wildid_domain::visits::{BookingStatus, Transition, VisitMapping};
use wildid_ports::RepoError;

use super::SqlVisits;
use super::bookings::booking_row;
use super::mappings::mapping_row;
use crate::error::TxError;
use crate::pool::write_transaction;
use crate::schema::{bookings, visit_mappings, visit_slots, visit_tokens};

impl SqlVisits {
    /// Stores `transition` if the booking is still where it was, and `mapping` with it.
    pub(super) async fn store(
        &self,
        transition: &Transition,
        mapping: Option<&VisitMapping>,
    ) -> Result<(), RepoError> {
        let mapping_row = mapping.map(mapping_row);
        let row = booking_row(&transition.to);
        let from = transition.from.as_str();
        let from_worker = transition.from_worker.map(|w| w.to_string());
        let gives_back = transition.from.holds_a_place() && !transition.to.status().holds_a_place();
        // The token is for check-in only: it goes when the visitor is checked in or the
        // booking cancelled.
        let token_spent = matches!(
            transition.to.status(),
            BookingStatus::CheckedIn | BookingStatus::Completed | BookingStatus::Cancelled
        );
        write_transaction!(self.db, |conn| -> Result<(), TxError> {
            let target = bookings::table
                .find(&row.id)
                .filter(bookings::status.eq(from));
            let changes = (
                bookings::status.eq(&row.status),
                bookings::worker_id.eq(&row.worker_id),
                bookings::checked_in_at.eq(row.checked_in_at),
                bookings::completed_at.eq(row.completed_at),
                bookings::cancelled_at.eq(row.cancelled_at),
            );
            let changed = match &from_worker {
                Some(worker) => {
                    diesel::update(target.filter(bookings::worker_id.eq(worker)))
                        .set(changes)
                        .execute(conn)
                        .await?
                }
                None => {
                    diesel::update(target.filter(bookings::worker_id.is_null()))
                        .set(changes)
                        .execute(conn)
                        .await?
                }
            };
            if changed == 0 {
                let exists: i64 = bookings::table
                    .find(&row.id)
                    .count()
                    .get_result(conn)
                    .await?;
                return Err(if exists == 0 {
                    RepoError::NotFound
                } else {
                    RepoError::Conflict
                }
                .into());
            }
            if let Some(row) = &mapping_row {
                diesel::insert_into(visit_mappings::table)
                    .values(row)
                    .execute(conn)
                    .await?;
            }
            if token_spent {
                diesel::delete(visit_tokens::table.find(&row.id))
                    .execute(conn)
                    .await?;
            }
            if gives_back {
                diesel::update(visit_slots::table.find((
                    &row.site_id,
                    &row.service_type_id,
                    row.starts_at,
                )))
                .set(visit_slots::taken.eq(visit_slots::taken - 1))
                .execute(conn)
                .await?;
            }
            Ok(())
        })
    }
}
