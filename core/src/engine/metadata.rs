//! The host's metadata on a booking, replaced after confirmation.
//!
//! Owns [`Engine::set_booking_metadata`]: one commit pinned to the booking,
//! with its idempotency record and a `booking.metadata_changed` event. Must
//! never change anything else of the booking: status, money, items and
//! inventory stay as they are, in any status.

use serde::{Deserialize, Serialize};

use crate::booking::Metadata;
use crate::error::Result;
use crate::ids::BookingId;

use super::Engine;
use super::confirm::Booking;
use super::events::booking_event;
use super::idempotency::{self, Fingerprint, remember};
use super::keys;
use super::txn::{Txn, retry_on_conflict};

/// A request to replace a booking's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetMetadataRequest {
    /// The host's key for this command.
    pub idempotency_key: String,
    /// The booking.
    pub booking: BookingId,
    /// Its new metadata, replacing all of the old (empty clears it).
    pub metadata: Metadata,
}

impl Engine {
    /// Replaces the metadata of a booking in any status, and appends
    /// `booking.metadata_changed` (its payload carries the new metadata,
    /// like every `booking.*` event). Metadata equal to what the booking
    /// has changes nothing and appends no event. A replay of the key
    /// returns the booking as it is now.
    ///
    /// Errors: `NOT_FOUND`, `INVALID_INPUT` (bad metadata or key; nothing
    /// changed), `IDEMPOTENCY_CONFLICT`.
    pub async fn set_booking_metadata(&self, request: &SetMetadataRequest) -> Result<Booking> {
        const COMMAND: &str = "set_metadata";
        idempotency::validate_key(&request.idempotency_key)?;
        request.metadata.validate()?;
        let fingerprint = Fingerprint::of(request);
        let key = &request.idempotency_key;
        retry_on_conflict(self.config.max_attempts, || async {
            if self.replay_of(key, COMMAND, &fingerprint).await?.is_some() {
                return Ok(());
            }
            let (mut booking, record) = self.read_booking(&request.booking).await?;
            let mut txn = Txn::default();
            if booking.metadata != request.metadata {
                booking.metadata = request.metadata.clone();
                txn.expect_read(&record.key, Some(&record));
                txn.put_json(&record.key, &booking);
                let view = self.catalog().await?;
                txn.event("booking.metadata_changed", &booking_event(&view, &booking));
            }
            remember(
                &mut txn,
                &keys::idempotency(key),
                COMMAND,
                &fingerprint,
                booking.id.as_str(),
            );
            self.commit(txn).await?;
            Ok(())
        })
        .await?;
        self.booking(&request.booking).await
    }
}
