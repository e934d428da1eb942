//! Revoking tickets: the revocation list scanners sync, and the changes
//! that put tickets on it (a cancellation, a modification, a lost ticket).
//!
//! Owns the `rl` record (the list's sequence, issue time and revoked token
//! ids), signing it for scanners with the issuer's current key, and the
//! functions that revoke or replace a booking's tickets inside another
//! operation's commit ([`Engine::revoke_tickets`] for cancellations,
//! [`Engine::reissue_tickets`] for modifications), plus the admin calls
//! built on them. Must never lower or reuse a sequence number (every
//! change expects the list's version and writes the next one), and never
//! drop a token a verifier could still accept: a scanner must be able to
//! replace any older list with a newer one and lose nothing. A token
//! leaves the list only once it expired more than the issuer's
//! `revoked_kept_days_after_expiry` plus the largest verifier leeway ago,
//! and only with the next revocation (the list is rewritten then anyway).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::booking::BookingStatus;
use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::ports::Record;
use crate::token::{MAX_LEEWAY_SECONDS, PublicKeySet, RevocationList, TokenId, whole_seconds};

use super::Engine;
use super::catalog_cache::CatalogView;
use super::confirm::Booking;
use super::idempotency::{self, remember, replayed};
use super::keys;
use super::tickets::{IssuedTicket, TicketRecord, TicketSet, TicketSettings};
use super::txn::{Txn, decode_json, retry_on_conflict};

/// A request to replace a booking's tickets (a lost phone, a forwarded
/// ticket): the old tokens are revoked, new ones issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReissueRequest {
    /// The host's key for this command: a replay returns the tickets as
    /// they are, without issuing again.
    pub idempotency_key: String,
    /// The booking.
    pub booking: BookingId,
}

/// `rl`: the revocation list as stored, signed when scanners fetch it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct RevocationRecord {
    sequence: u64,
    issued_at: DateTime<Utc>,
    tokens: BTreeSet<TokenId>,
    /// When each revoked token stops being valid, for tokens revoked since
    /// the engine records it. A token without one (revoked by an older
    /// version, or whose ticket record is missing) stays on the list.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    expires: BTreeMap<TokenId, DateTime<Utc>>,
}

impl RevocationRecord {
    /// The stored record, or the empty list at sequence 0 if none is stored.
    fn decode(record: Option<&Record>) -> Result<RevocationRecord> {
        Ok(record
            .map(decode_json::<RevocationRecord>)
            .transpose()?
            .unwrap_or_default())
    }

    /// The stored list, or the empty list at sequence 0 if none is stored.
    pub fn read(record: Option<&Record>) -> Result<RevocationList> {
        let stored = RevocationRecord::decode(record)?;
        let mut list = RevocationList::new(stored.sequence, stored.issued_at)?;
        for token in stored.tokens {
            list.revoke_token(token);
        }
        Ok(list)
    }

    /// The next list, issued at `now`: without the tokens that expired
    /// more than `kept_after_expiry` plus the largest verifier leeway ago
    /// (every verifier refuses them as expired), then with `revoked`
    /// (token and expiry, if known) added.
    fn next(
        mut self,
        now: DateTime<Utc>,
        kept_after_expiry: Duration,
        revoked: Vec<(TokenId, Option<DateTime<Utc>>)>,
    ) -> RevocationRecord {
        let cutoff = now - kept_after_expiry - Duration::seconds(MAX_LEEWAY_SECONDS);
        let tokens = &mut self.tokens;
        self.expires.retain(|token, expires| {
            let keep = *expires > cutoff;
            if !keep {
                tokens.remove(token);
            }
            keep
        });
        for (token, expires) in revoked {
            if let Some(expires) = expires {
                self.expires.insert(token.clone(), expires);
            }
            self.tokens.insert(token);
        }
        self.sequence = self.sequence.saturating_add(1);
        self.issued_at = whole_seconds(now);
        self
    }
}

impl Engine {
    /// Puts `tokens` on the revocation list under the next sequence number,
    /// in `txn`, and drops the tokens whose time on it is over (see
    /// [`TicketSettings::revoked_kept_days_after_expiry`]). Does nothing
    /// for no tokens.
    async fn revoke_tokens(
        &self,
        txn: &mut Txn,
        booking: &BookingId,
        tokens: &[TokenId],
        now: DateTime<Utc>,
    ) -> Result<()> {
        if tokens.is_empty() {
            return Ok(());
        }
        let revoked = self.token_expiries(tokens).await?;
        let kept_days = self
            .tickets
            .as_deref()
            .map_or_else(TicketSettings::default, |issuer| issuer.settings)
            .revoked_kept_days_after_expiry;
        let record = self.read_record(keys::REVOCATIONS).await?;
        let list = RevocationRecord::decode(record.as_ref())?.next(
            now,
            Duration::days(i64::from(kept_days)),
            revoked,
        );
        txn.expect_read(keys::REVOCATIONS, record.as_ref());
        txn.put_json(keys::REVOCATIONS, &list);
        txn.event(
            "tickets.revoked",
            &json!({"booking": booking, "tokens": tokens, "sequence": list.sequence}),
        );
        Ok(())
    }

    /// Each token with the expiry its ticket record gives (none if the
    /// record is missing).
    async fn token_expiries(
        &self,
        tokens: &[TokenId],
    ) -> Result<Vec<(TokenId, Option<DateTime<Utc>>)>> {
        let records = self.ticket_records(tokens).await?;
        Ok(tokens
            .iter()
            .zip(records)
            .map(|(token, (_, ticket))| (token.clone(), ticket.map(|t| t.claims.expires())))
            .collect())
    }

    /// Revokes every current ticket of `booking` in `txn`: for the commit
    /// that cancels it. Returns the revoked token ids (none if it had no
    /// tickets). The booking keeps its ticket reference.
    pub(crate) async fn revoke_tickets(
        &self,
        txn: &mut Txn,
        booking: &Booking,
        now: DateTime<Utc>,
    ) -> Result<Vec<TokenId>> {
        let Some((mut set, record)) = self.read_ticket_set(&booking.id).await? else {
            return Ok(Vec::new());
        };
        let revoked = std::mem::take(&mut set.tokens);
        if revoked.is_empty() {
            return Ok(revoked);
        }
        self.revoke_tokens(txn, &booking.id, &revoked, now).await?;
        txn.expect_read(&record.key, Some(&record));
        txn.put_json(&record.key, &set);
        Ok(revoked)
    }

    /// Replaces the tickets of `booking` (as it is after a modification)
    /// in `txn`: the current tokens are revoked and new ones issued under
    /// the same ticket reference, from `view`. Each new ticket starts with
    /// the scans of the one it replaces (the same guest of the same item),
    /// so a used entry stays used. Errors with `INVALID_INPUT` on an
    /// engine without a ticket issuer if the booking has tickets to
    /// replace.
    pub(crate) async fn reissue_tickets(
        &self,
        txn: &mut Txn,
        view: &CatalogView,
        booking: &Booking,
        now: DateTime<Utc>,
    ) -> Result<Vec<IssuedTicket>> {
        let existing = self.read_ticket_set(&booking.id).await?;
        let Some(issuer) = self.tickets.as_deref() else {
            if existing
                .as_ref()
                .is_some_and(|(set, _)| !set.tokens.is_empty())
            {
                self.issuer()?;
            }
            return Ok(Vec::new());
        };
        let Some((set, record)) = existing else {
            return self.issue_tickets(txn, view, booking);
        };
        self.revoke_tokens(txn, &booking.id, &set.tokens, now)
            .await?;
        // Pinned, so that a scan of an old ticket committed meanwhile is
        // carried over too (the commit retries on it).
        let old_keys: Vec<String> = set.tokens.iter().map(keys::ticket).collect();
        let old_records = self.storage.get(&old_keys).await?;
        let mut replaced_keys = Vec::new();
        let mut replaced = Vec::new();
        for (key, record) in old_keys.iter().zip(&old_records) {
            txn.expect_read(key, record.as_ref());
            if let Some(record) = record {
                replaced.push(decode_json::<TicketRecord>(record)?);
                replaced_keys.push(key);
            }
        }
        let issued =
            self.write_new_tickets(txn, issuer, view, booking, &set.ticket_ref, &mut replaced)?;
        // Each old ticket names its successor, for scans merged later.
        for (key, old) in replaced_keys.into_iter().zip(&replaced) {
            if old.replaced_by.is_some() {
                txn.put_json(key, old);
            }
        }
        let renewed = TicketSet {
            ticket_ref: set.ticket_ref,
            tokens: issued.iter().map(|t| t.token_id.clone()).collect(),
        };
        txn.expect_read(&record.key, Some(&record));
        txn.put_json(&record.key, &renewed);
        Ok(issued)
    }

    /// The current revocation list, signed with the issuer's current key
    /// (COSE_Sign1 bytes, see `docs/token-format.md`), for scanners to
    /// apply with [`crate::token::Verifier::apply_revocations`]. Its sequence grows with
    /// every change; before any revocation it is the empty list at
    /// sequence 0. Errors: `INVALID_INPUT` without a ticket issuer.
    pub async fn revocation_list(&self) -> Result<Vec<u8>> {
        let issuer = self.issuer()?;
        let record = self.read_record(keys::REVOCATIONS).await?;
        Ok(RevocationRecord::read(record.as_ref())?.sign(&issuer.keys))
    }

    /// The public keys of the ticket issuer, for scanners' verifiers.
    /// Errors: `INVALID_INPUT` without a ticket issuer.
    pub fn ticket_public_keys(&self) -> Result<PublicKeySet> {
        Ok(self.issuer()?.keys.public_keys())
    }

    /// Revokes every current ticket of a booking, for example one whose
    /// tickets were lost, without reissuing. Returns the revoked token ids;
    /// a booking without current tickets changes nothing. Errors:
    /// `NOT_FOUND`.
    pub async fn revoke_booking_tickets(&self, booking: &BookingId) -> Result<Vec<TokenId>> {
        retry_on_conflict(self.config.max_attempts, || async {
            let (booking, record) = self.read_booking(booking).await?;
            let mut txn = Txn::default();
            let revoked = self
                .revoke_tickets(&mut txn, &booking, self.clock.now())
                .await?;
            if !revoked.is_empty() {
                txn.expect_read(&record.key, Some(&record));
                self.commit(txn).await?;
            }
            Ok(revoked)
        })
        .await
    }

    /// Replaces a booking's tickets: the current ones are revoked, new ones
    /// issued under the same ticket reference, each with the scans of the
    /// one it replaces (a used entry stays used). Only confirmed and
    /// checked-in bookings have tickets.
    ///
    /// Errors: `NOT_FOUND`, `INVALID_INPUT` (a bad key, a booking in
    /// another status, an engine without a ticket issuer),
    /// `IDEMPOTENCY_CONFLICT`.
    pub async fn reissue_booking_tickets(
        &self,
        request: &ReissueRequest,
    ) -> Result<Vec<IssuedTicket>> {
        idempotency::validate_key(&request.idempotency_key)?;
        self.issuer()?;
        let fingerprint = idempotency::Fingerprint::of(request);
        retry_on_conflict(self.config.max_attempts, || async {
            let idem_key = keys::idempotency(&request.idempotency_key);
            let idem = self.read_record(&idem_key).await?;
            let command = "reissue_tickets";
            if replayed(
                &request.idempotency_key,
                idem.as_ref(),
                command,
                &fingerprint,
            )?
            .is_some()
            {
                return self.tickets(&request.booking).await;
            }
            let (booking, record) = self.read_booking(&request.booking).await?;
            if !matches!(
                booking.status,
                BookingStatus::Confirmed | BookingStatus::CheckedIn
            ) {
                return Err(Error::invalid(
                    "booking",
                    format!(
                        "{} is {}: only confirmed and checked-in bookings have tickets",
                        booking.id, booking.status
                    ),
                ));
            }
            let view = self.catalog().await?;
            let mut txn = Txn::default();
            let issued = self
                .reissue_tickets(&mut txn, &view, &booking, self.clock.now())
                .await?;
            txn.expect_read(&record.key, Some(&record));
            remember(
                &mut txn,
                &idem_key,
                command,
                &fingerprint,
                booking.id.as_str(),
            );
            self.commit(txn).await?;
            Ok(issued)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, d, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_token_leaves_the_list_only_after_its_expiry_plus_kept_days_and_an_hour() {
        let token = TokenId::random().unwrap();
        let kept = Duration::days(2);
        let list =
            RevocationRecord::default().next(day(1), kept, vec![(token.clone(), Some(day(10)))]);
        let last_second = day(12) + Duration::seconds(MAX_LEEWAY_SECONDS - 1);
        let still = list.clone().next(last_second, kept, Vec::new());
        assert!(still.tokens.contains(&token));
        assert_eq!(still.sequence, 2);
        let gone = list.next(last_second + Duration::seconds(1), kept, Vec::new());
        assert!(gone.tokens.is_empty() && gone.expires.is_empty());
        assert_eq!(gone.sequence, 2);
    }

    #[test]
    fn tokens_stored_without_an_expiry_stay_on_the_list() {
        let old: RevocationRecord = serde_json::from_str(
            r#"{"sequence":3,"issued_at":"2026-01-01T00:00:00Z","tokens":["0f1e2d3c4b5a6978"]}"#,
        )
        .unwrap();
        let unknown = TokenId::random().unwrap();
        let later = old.next(day(1), Duration::zero(), vec![(unknown.clone(), None)]);
        let much_later = later.next(day(30), Duration::zero(), Vec::new());
        assert_eq!(much_later.sequence, 5);
        assert_eq!(much_later.tokens.len(), 2);
        assert!(much_later.tokens.contains(&unknown));
        let json = serde_json::to_string(&much_later).unwrap();
        assert!(!json.contains("expires"), "{json}");
    }
}
