//! Tickets: the signed entry tokens a booking gets when it is confirmed.
//!
//! Owns issuing tickets in the commit that confirms a booking (one ticket
//! per guest of each booked item), the rules for their validity window and
//! entry policy ([`TicketSettings`]), the short ticket reference tokens
//! carry instead of the booking id, and the ticket records (`tk/`, `tt/`,
//! `tr/`). Where a ticket admits comes from the property's
//! [`super::VenueCheckIn`]; revoking and re-issuing is
//! [`super::revocation`]'s. The reasoning is in
//! `docs/adr/002-tickets-in-the-engine.md`.
//!
//! Must never put a booking id or personal data in a token (tokens carry
//! the ticket reference), and never issue a ticket outside the commit that
//! records it.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::{Property, ResourceKind};
use crate::checkin::ScanRecord;
use crate::error::{Error, Result};
use crate::ids::{BookingId, ResourceId};
use crate::ports::Record;
use crate::time::{Disambiguation, add_days, local_date, to_instant};
use crate::token::{
    EntryPolicy, IssuerKeySet, Scope, TicketClaims, TokenId, ValidityWindow, Verifier,
};

use super::catalog_cache::CatalogView;
use super::confirm::Booking;
use super::item::Span;
use super::keys;
use super::txn::{Txn, decode_json};
use super::{Engine, hold::HeldItem};

/// How the engine turns a booked item into tickets.
///
/// A ticket admits one person: an item gets one ticket per guest of its
/// party (a family of four at a surf lesson gets four tickets), so each
/// guest can carry their own, gates with anti-passback admit each of them,
/// and a lost ticket is replaced alone.
///
/// Validity windows are fixed rules relative to the booking: a stay's
/// tickets are valid from 00:00 on the check-in date to the end of the
/// check-out date, in the property's time zone; a session's from
/// [`session_opens_minutes_before`](Self::session_opens_minutes_before)
/// its start to
/// [`session_closes_minutes_after`](Self::session_closes_minutes_after)
/// its end.
///
/// A revoked ticket stays on the revocation list until
/// [`revoked_kept_days_after_expiry`](Self::revoked_kept_days_after_expiry)
/// days and one hour (the largest leeway a verifier accepts,
/// [`MAX_LEEWAY_SECONDS`](crate::token::MAX_LEEWAY_SECONDS)) have passed
/// since it expired; from then on every verifier refuses it as expired, so
/// the list scanners sync stays as long as the revocations that still
/// matter instead of growing with every cancellation ever made.
///
/// ```
/// use reservo::engine::TicketSettings;
/// use reservo::token::EntryPolicy;
/// let settings = TicketSettings {
///     stay_entry: EntryPolicy::once_per_day(),
///     ..TicketSettings::default()
/// };
/// assert_eq!(settings.session_opens_minutes_before, 30);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketSettings {
    /// How long before a session starts its tickets admit (default 30
    /// minutes; at most about 45 days).
    pub session_opens_minutes_before: u16,
    /// How long after a session ends its tickets still admit (default 0).
    pub session_closes_minutes_after: u16,
    /// The entry policy of a stay's tickets (default: one entry, the
    /// arrival scan).
    pub stay_entry: EntryPolicy,
    /// The entry policy of a session's tickets (default: one entry).
    pub session_entry: EntryPolicy,
    /// How many days a revoked ticket stays on the revocation list after
    /// it expired, beyond the hour of verifier leeway (default 7): a margin
    /// for scanners whose clocks run late. Tickets revoked before the
    /// engine recorded their expiry stay on the list for good.
    pub revoked_kept_days_after_expiry: u16,
}

impl Default for TicketSettings {
    fn default() -> Self {
        TicketSettings {
            session_opens_minutes_before: 30,
            session_closes_minutes_after: 0,
            stay_entry: EntryPolicy::default(),
            session_entry: EntryPolicy::default(),
            revoked_kept_days_after_expiry: 7,
        }
    }
}

/// The engine's ticket issuer: the signing keys, the settings, and a
/// verifier over the keys' public halves.
pub(crate) struct TicketIssuer {
    pub keys: IssuerKeySet,
    pub settings: TicketSettings,
    pub verifier: Verifier,
}

impl TicketIssuer {
    pub fn new(keys: IssuerKeySet, settings: TicketSettings) -> TicketIssuer {
        let verifier = Verifier::new(keys.public_keys());
        TicketIssuer {
            keys,
            settings,
            verifier,
        }
    }
}

/// A ticket of a booking: the token to show at the gate and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedTicket {
    /// The token's id, as revocation lists and scan logs name it.
    pub token_id: TokenId,
    /// The token text (`RV1:` and base45), for a QR code in alphanumeric
    /// mode.
    pub text: String,
    /// The signed claims. `claims.booking` is the booking's short ticket
    /// reference, not its id.
    pub claims: TicketClaims,
    /// The index of the booking item the ticket is for.
    pub item: usize,
}

#[cfg(feature = "qr")]
impl IssuedTicket {
    /// The ticket's QR symbol, to render as SVG or PNG.
    pub fn qr(&self) -> Result<crate::token::qr::TokenQr> {
        crate::token::qr::TokenQr::new(&self.text)
    }
}

/// `tk/<booking>`: the booking's ticket reference and its current tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TicketSet {
    pub ticket_ref: BookingId,
    pub tokens: Vec<TokenId>,
}

/// `tt/<token>`: one ticket, its claims and every scan of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct TicketRecord {
    pub booking: BookingId,
    pub item: usize,
    pub text: String,
    pub claims: StoredClaims,
    pub scans: Vec<ScanRecord>,
    /// The ticket that replaced this one when it was reissued (the same
    /// guest of the same item): scans of this ticket merged later count in
    /// that one's history too. Absent on tickets never reissued, revoked
    /// without a successor, or reissued before Reservo kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<TokenId>,
}

impl TicketRecord {
    fn issued(&self) -> Result<IssuedTicket> {
        let claims = self.claims.to_claims()?;
        Ok(IssuedTicket {
            token_id: claims.token_id.clone(),
            text: self.text.clone(),
            claims,
            item: self.item,
        })
    }
}

/// Scans of a replaced ticket as the history of its successor `token`.
pub(crate) fn carried_as(records: &[ScanRecord], token: &TokenId) -> Vec<ScanRecord> {
    records
        .iter()
        .map(|record| ScanRecord {
            token: token.clone(),
            ..record.clone()
        })
        .collect()
}

/// [`TicketClaims`] as stored: the validity window as its two instants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredClaims {
    token_id: TokenId,
    booking: BookingId,
    resource: ResourceId,
    not_before: DateTime<Utc>,
    expires: DateTime<Utc>,
    entry: EntryPolicy,
    scope: Scope,
}

impl StoredClaims {
    pub fn resource(&self) -> &ResourceId {
        &self.resource
    }

    /// The first instant the ticket is no longer valid.
    pub fn expires(&self) -> DateTime<Utc> {
        self.expires
    }

    fn of(claims: &TicketClaims) -> StoredClaims {
        StoredClaims {
            token_id: claims.token_id.clone(),
            booking: claims.booking.clone(),
            resource: claims.resource.clone(),
            not_before: claims.validity.not_before(),
            expires: claims.validity.expires(),
            entry: claims.entry,
            scope: claims.scope.clone(),
        }
    }

    pub fn to_claims(&self) -> Result<TicketClaims> {
        Ok(TicketClaims {
            token_id: self.token_id.clone(),
            booking: self.booking.clone(),
            resource: self.resource.clone(),
            validity: ValidityWindow::new(self.not_before, self.expires)?,
            entry: self.entry,
            scope: self.scope.clone(),
        })
    }
}

/// A new random ticket reference: 8 characters of Crockford's base32
/// (40 bits), short enough to keep tokens near 180 characters and to read
/// out at a desk. Uniqueness is enforced by the `tr/` record.
fn new_ticket_ref() -> BookingId {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let random = uuid::Uuid::new_v4();
    let bits = random.as_bytes()[..5]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let text: String = (0..8)
        .map(|i| char::from(ALPHABET[((bits >> (35 - 5 * i)) & 31) as usize]))
        .collect();
    BookingId::new(text).expect("base32 characters make a valid id")
}

/// 00:00 of `date` in the property's time zone (shifted forward if a DST
/// gap skips midnight).
fn midnight(property: &Property, date: NaiveDate) -> Result<DateTime<Utc>> {
    to_instant(
        property.time_zone,
        date.and_time(NaiveTime::MIN),
        Disambiguation::Compatible,
    )
}

/// When tickets for `item` admit (see [`TicketSettings`]).
fn validity(
    settings: &TicketSettings,
    property: &Property,
    kind: &ResourceKind,
    item: &HeldItem,
) -> Result<ValidityWindow> {
    match &item.request.item.span {
        Span::Stay(stay) => ValidityWindow::new(
            midnight(property, stay.check_in())?,
            midnight(property, add_days(stay.check_out(), 1)?)?,
        ),
        Span::Session { start } => {
            let tz = property.time_zone;
            let scheduled_end = match kind {
                ResourceKind::Timed { schedule, .. } => {
                    schedule.occurrence_at(tz, *start).map(|o| o.slot().end())
                }
                ResourceKind::Nightly { .. } => None,
            };
            // A session taken off the schedule since it was booked keeps
            // its tickets valid to the end of its day.
            let end = match scheduled_end {
                Some(end) => end,
                None => midnight(property, add_days(local_date(*start, tz), 1)?)?,
            };
            ValidityWindow::new(
                *start - Duration::minutes(settings.session_opens_minutes_before.into()),
                end + Duration::minutes(settings.session_closes_minutes_after.into()),
            )
        }
    }
}

impl Engine {
    pub(crate) fn issuer(&self) -> Result<&TicketIssuer> {
        self.tickets.as_deref().ok_or_else(|| {
            Error::invalid(
                "tickets",
                "this engine has no ticket issuer: build it with EngineBuilder::tickets",
            )
        })
    }

    /// Signs one ticket per guest of every item of `booking` under
    /// `ticket_ref` and writes their `tt/` records, expecting them absent.
    /// Each new ticket starts with the scans of the ticket it replaces in
    /// `replaced` (the same guest of the same item, by position), so that
    /// replacing a ticket never gives back entries it used.
    pub(crate) fn write_new_tickets(
        &self,
        txn: &mut Txn,
        issuer: &TicketIssuer,
        view: &CatalogView,
        booking: &Booking,
        ticket_ref: &BookingId,
        replaced: &mut [TicketRecord],
    ) -> Result<Vec<IssuedTicket>> {
        let mut issued = Vec::new();
        for (index, item) in booking.items.iter().enumerate() {
            let mut predecessors = replaced.iter_mut().filter(|old| old.item == index);
            let entry = view.resource(item.resource())?;
            let property = view.property(&entry.resource.property)?;
            let settings = &issuer.settings;
            let validity = validity(settings, property, &entry.resource.kind, item)?;
            let policy = match item.request.item.span {
                Span::Stay(_) => settings.stay_entry,
                Span::Session { .. } => settings.session_entry,
            };
            let scope = view
                .venues
                .get(&property.id)
                .map(|venue| venue.scope_for(item.resource()))
                .unwrap_or_default();
            for _ in 0..item.request.item.party.size() {
                let claims = TicketClaims {
                    token_id: TokenId::random()?,
                    booking: ticket_ref.clone(),
                    resource: item.resource().clone(),
                    validity,
                    entry: policy,
                    scope: scope.clone(),
                };
                let scans = match predecessors.next() {
                    Some(old) => {
                        old.replaced_by = Some(claims.token_id.clone());
                        carried_as(&old.scans, &claims.token_id)
                    }
                    None => Vec::new(),
                };
                let record = TicketRecord {
                    booking: booking.id.clone(),
                    item: index,
                    text: issuer.keys.issue(&claims),
                    claims: StoredClaims::of(&claims),
                    scans,
                    replaced_by: None,
                };
                let key = keys::ticket(&claims.token_id);
                txn.expect(&key, None);
                txn.put_json(&key, &record);
                issued.push(record.issued()?);
            }
        }
        Ok(issued)
    }

    /// Issues the first tickets of a booking under a new ticket reference,
    /// in `txn`: for the commit that confirms it. Does nothing on an engine
    /// without a ticket issuer.
    pub(crate) fn issue_tickets(
        &self,
        txn: &mut Txn,
        view: &CatalogView,
        booking: &Booking,
    ) -> Result<Vec<IssuedTicket>> {
        let Some(issuer) = self.tickets.as_deref() else {
            return Ok(Vec::new());
        };
        let ticket_ref = new_ticket_ref();
        txn.expect(keys::ticket_ref(&ticket_ref), None);
        txn.put_json(keys::ticket_ref(&ticket_ref), &booking.id);
        let issued = self.write_new_tickets(txn, issuer, view, booking, &ticket_ref, &mut [])?;
        let set = TicketSet {
            ticket_ref,
            tokens: issued.iter().map(|t| t.token_id.clone()).collect(),
        };
        txn.expect(keys::tickets(&booking.id), None);
        txn.put_json(keys::tickets(&booking.id), &set);
        Ok(issued)
    }

    pub(crate) async fn read_ticket_set(
        &self,
        booking: &BookingId,
    ) -> Result<Option<(TicketSet, Record)>> {
        let record = self.read_record(&keys::tickets(booking)).await?;
        record.map(|r| Ok((decode_json(&r)?, r))).transpose()
    }

    /// The current tickets of a booking, one per guest of each item, in
    /// item order. Empty for a booking confirmed without a ticket issuer
    /// or whose tickets were revoked. Errors: `NOT_FOUND`.
    pub async fn tickets(&self, booking: &BookingId) -> Result<Vec<IssuedTicket>> {
        let Some((set, _)) = self.read_ticket_set(booking).await? else {
            self.booking(booking).await?;
            return Ok(Vec::new());
        };
        self.ticket_records(&set.tokens)
            .await?
            .into_iter()
            .map(|(key, ticket)| {
                ticket
                    .ok_or_else(|| Error::CorruptRecord {
                        key,
                        message: "a booking lists a ticket that is not stored".into(),
                    })?
                    .issued()
            })
            .collect()
    }

    /// The `tt/` record of each of `tokens`, with its key, in order (`None`
    /// where none is stored).
    pub(crate) async fn ticket_records(
        &self,
        tokens: &[TokenId],
    ) -> Result<Vec<(String, Option<TicketRecord>)>> {
        let keys: Vec<String> = tokens.iter().map(keys::ticket).collect();
        let records = self.storage.get(&keys).await?;
        keys.into_iter()
            .zip(records)
            .map(|(key, record)| Ok((key, record.map(|r| decode_json(&r)).transpose()?)))
            .collect()
    }

    /// The booking a ticket reference (a token's `sub`) stands for.
    /// Errors: `NOT_FOUND`.
    pub async fn booking_by_ticket_ref(&self, ticket_ref: &BookingId) -> Result<BookingId> {
        let record = self
            .read_record(&keys::ticket_ref(ticket_ref))
            .await?
            .ok_or_else(|| Error::not_found("ticket reference", ticket_ref.as_str()))?;
        decode_json(&record)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    /// References carry their 40 random bits, every character drawn from
    /// the whole alphabet: 2,000 references are all different (a clash
    /// among them has odds of about one in 500,000) and each of the eight
    /// positions shows most of the 32 characters.
    #[test]
    fn ticket_refs_spread_their_forty_bits_over_eight_characters() {
        let refs: Vec<String> = (0..2000)
            .map(|_| new_ticket_ref().as_str().to_owned())
            .collect();
        let distinct: HashSet<&String> = refs.iter().collect();
        assert_eq!(distinct.len(), refs.len());
        for position in 0..8 {
            let seen: HashSet<u8> = refs.iter().map(|r| r.as_bytes()[position]).collect();
            assert!(seen.len() >= 28, "position {position}: {seen:?}");
        }
        assert!(refs.iter().all(|r| r.len() == 8));
    }
}
