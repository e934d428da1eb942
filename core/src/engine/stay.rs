//! The stay's own transitions: a front desk checks a guest in without a
//! ticket, and a checked-in booking is completed when the guest leaves.
//!
//! Owns `confirmed → checked_in` at a desk ([`Engine::check_in_at_desk`];
//! gates check in with tickets, see [`Engine::check_in`]) and
//! `checked_in → completed` ([`Engine::complete_booking`]). Each is one commit
//! pinned to the booking, with its idempotency record and its event. Must
//! never move money: what was paid stays paid.

use serde::{Deserialize, Serialize};

use crate::booking::BookingStatus;
use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::time::local_date;

use super::Engine;
use super::confirm::Booking;
use super::events::booking_event;
use super::hold::{ItemNeeds, booked_units};
use super::idempotency::{self, Fingerprint, remember};
use super::keys;
use super::txn::{Txn, retry_on_conflict};

/// A request to check a booking's guest in at a desk, without a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskCheckInRequest {
    /// The host's key for this command.
    pub idempotency_key: String,
    /// The booking.
    pub booking: BookingId,
}

/// A request to complete a checked-in booking: the guest has left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompleteRequest {
    /// The host's key for this command.
    pub idempotency_key: String,
    /// The booking.
    pub booking: BookingId,
}

impl Engine {
    /// Checks the guest of a `confirmed` booking in at a desk (no ticket
    /// is scanned), from the booking's first day on in the property's time
    /// zone, and appends `booking.checked_in`.
    ///
    /// Errors: `NOT_FOUND`, `ILLEGAL_TRANSITION` (not `confirmed`),
    /// `INVALID_INPUT` (before the first day, or a bad key),
    /// `IDEMPOTENCY_CONFLICT`.
    pub async fn check_in_at_desk(&self, request: &DeskCheckInRequest) -> Result<Booking> {
        let fingerprint = Fingerprint::of(request);
        let key = &request.idempotency_key;
        self.change_stay(
            key,
            "desk_check_in",
            &fingerprint,
            &request.booking,
            |booking, now| {
                let zone = booking.terms.start.time_zone();
                let first = booking.terms.first_start();
                let first_day = local_date(first, zone);
                if local_date(now, zone) < first_day {
                    return Err(Error::invalid(
                        "booking",
                        format!(
                            "{} starts on {first_day}: too early to check in",
                            booking.id
                        ),
                    ));
                }
                booking
                    .status
                    .transition(booking.id.as_str(), BookingStatus::CheckedIn)
            },
        )
        .await
    }

    /// Completes a `checked_in` booking: the guest has left. Its nights or
    /// seats go back to inventory (an early departure frees the rest of the
    /// stay), its tickets are revoked, and `booking.completed` is appended.
    /// Payments and commissions are untouched.
    ///
    /// Errors: `NOT_FOUND`, `ILLEGAL_TRANSITION` (not `checked_in`),
    /// `INVALID_INPUT` (a bad key), `IDEMPOTENCY_CONFLICT`.
    pub async fn complete_booking(&self, request: &CompleteRequest) -> Result<Booking> {
        let fingerprint = Fingerprint::of(request);
        let key = &request.idempotency_key;
        self.change_stay(
            key,
            "complete",
            &fingerprint,
            &request.booking,
            |booking, _| {
                booking
                    .status
                    .transition(booking.id.as_str(), BookingStatus::Completed)
            },
        )
        .await
    }

    /// Moves booking `id` to the status `next` decides, in one commit with
    /// the idempotency record, the inventory it gives back (if the new
    /// status holds none) and its event; a replay of `key` returns the
    /// booking as it is now.
    async fn change_stay(
        &self,
        key: &str,
        command: &str,
        fingerprint: &Fingerprint,
        id: &BookingId,
        next: impl Fn(&Booking, chrono::DateTime<chrono::Utc>) -> Result<BookingStatus>,
    ) -> Result<Booking> {
        idempotency::validate_key(key)?;
        retry_on_conflict(self.config.max_attempts, || async {
            if self.replay_of(key, command, fingerprint).await?.is_some() {
                return Ok(());
            }
            let (mut booking, record) = self.read_booking(id).await?;
            let now = self.clock.now();
            let status = next(&booking, now)?;
            let mut txn = Txn::default();
            if !status.holds_inventory() {
                let units = booked_units(&booking.items);
                self.move_booked(&mut txn, &units, &ItemNeeds::new(), now)
                    .await?;
                self.revoke_tickets(&mut txn, &booking, now).await?;
            }
            booking.enter(status, now);
            txn.expect_read(&record.key, Some(&record));
            txn.put_json(&record.key, &booking);
            remember(
                &mut txn,
                &keys::idempotency(key),
                command,
                fingerprint,
                id.as_str(),
            );
            let view = self.catalog().await?;
            let kind = format!("booking.{}", status.as_str());
            txn.event(&kind, &booking_event(&view, &booking));
            self.commit(txn).await?;
            Ok(())
        })
        .await?;
        self.booking(id).await
    }
}
