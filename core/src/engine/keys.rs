//! The engine's key layout in the storage port.
//!
//! Owns every key the engine reads or writes, so the data model is visible
//! in one page. Must never be bypassed: no other module formats keys.
//!
//! | prefix | record | why this order |
//! |---|---|---|
//! | `cat/epoch` | catalog epoch, bumped by every catalog change | one `get` validates the in-process catalog cache |
//! | `cat/p/<property>` | a property | |
//! | `cat/r/<resource>` | a resource | |
//! | `cat/rp/<rate plan>` | a rate plan | |
//! | `cat/rs/<resource>` | a resource's restrictions | |
//! | `cat/b/<resource>/<block>` | a block | |
//! | `cat/promo/<code>` | a promo code | |
//! | `cat/cp/<rate plan>` | the cancellation policy of a rate plan | snapshotted onto bookings at confirmation |
//! | `cat/cm/<property>` | the commission plan of a property (platform fee, channel and broker terms) | snapshotted onto bookings at confirmation |
//! | `cat/vr/<property>` | a property's check-in set-up: entry hours, anti-passback, ticket scopes | catalog data, cached with the rest |
//! | `pu/<code>` | uses of a promo code by confirmed bookings | outside the catalog: counting uses must not invalidate caches |
//! | `idem/<key>` | an idempotency key: command, request, result | |
//! | `hold/<hold>` | a hold and its priced items | |
//! | `hx/<expires ms>/<hold>` | holds by expiry | the sweep scans what is due, oldest first |
//! | `bk/<booking>` | a booking | |
//! | `bc/<phone>/<booking>` | bookings by customer phone | |
//! | `bm/<resource>/<YYYY-MM>/<booking>` | bookings by resource and month of their nights or session dates (one entry a month, however many nights); the value is the first and last date used in that month (`2026-07-02 2026-07-04`; empty in entries written before) | a range scan per resource; readers skip entries whose dates miss the range, then keep only bookings that use the dates asked for |
//! | `br/<resource>/<date>/<booking>` | bookings by resource and night or session date, as written before `bm/` (ADR 021): read, deleted on modification, never written | |
//! | `ob/<owner>/<booking>` | bookings by owner | one prefix scan feeds an owner statement |
//! | `pa/<command key>` | a payment attempt: the command, its request, amount and outcome | written before the gateway is called, so no attempt is ever lost |
//! | `pq/<gateway key>` | a gateway call whose outcome is not known yet (a charge or a refund) | what `reconcile_payments` re-asks the gateway about |
//! | `tk/<booking>` | a booking's ticket reference and current token ids | one `get` lists a booking's tickets |
//! | `tt/<token id>` | a ticket by token id (hex): booking, text, claims, scan log | a check-in reads and pins one record per token |
//! | `tr/<ticket ref>` | the booking of a ticket reference | absent-expected on issue, so references are unique |
//! | `rl` | the revocation list: sequence, revoked token ids | one record, so every change gets the next sequence |
//! | `nt/<date>/<resource>` | night ledger: units held, booked | date first, so a search scans one range per night |
//! | `st/<resource>/<start>` | session ledger: seats held, booked | start as zero-padded unix seconds, so sessions sort in time |
//! | `sms/cursor` | notifier: last outbox seq turned into deliveries | one record, so two notifiers never both advance it |
//! | `sms/q/<due ms>/<seq>/<audience>` | notifier: a pending SMS delivery | due time first, so "what is due now" is one range scan; a claim moves it to its lease's end |
//! | `sms/sent/<seq>/<audience>`, `sms/failed/<seq>/<audience>` | notifier: a delivered or given-up SMS | by event, for hosts to list |
//!
//! Ids never contain `/` (see [`crate::ids`]), so prefixes never collide.
//! The `sms/` keys are formatted in `notify/records.rs` until this module is
//! compiled into the crate; they move here then.

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};

use crate::ids::{BlockId, BookingId, HoldId, OwnerId, PropertyId, RatePlanId, ResourceId};
use crate::ports::KeyRange;
use crate::text;
use crate::token::TokenId;

/// The catalog epoch record.
pub(crate) const CATALOG_EPOCH: &str = "cat/epoch";
/// Everything in the catalog.
pub(crate) const CATALOG_PREFIX: &str = "cat/";

pub(crate) fn property(id: &PropertyId) -> String {
    format!("cat/p/{id}")
}

pub(crate) fn resource(id: &ResourceId) -> String {
    format!("cat/r/{id}")
}

pub(crate) fn rate_plan(id: &RatePlanId) -> String {
    format!("cat/rp/{id}")
}

pub(crate) fn restrictions(id: &ResourceId) -> String {
    format!("cat/rs/{id}")
}

pub(crate) fn block(resource: &ResourceId, id: &BlockId) -> String {
    format!("cat/b/{resource}/{id}")
}

pub(crate) fn promo(code: &str) -> String {
    format!("cat/promo/{code}")
}

pub(crate) fn cancellation_policy(id: &RatePlanId) -> String {
    format!("cat/cp/{id}")
}

pub(crate) fn commission_plan(id: &PropertyId) -> String {
    format!("cat/cm/{id}")
}

pub(crate) fn booking_by_owner(owner: &OwnerId, id: &BookingId) -> String {
    join(&["ob/", owner.as_str(), "/", id.as_str()])
}

pub(crate) fn bookings_of_owner(owner: &OwnerId) -> KeyRange {
    KeyRange::prefix(&format!("ob/{owner}/"))
}

pub(crate) fn payment_attempt(command_key: &str) -> String {
    format!("pa/{command_key}")
}

pub(crate) fn pending_gateway_call(gateway_key: &str) -> String {
    format!("pq/{gateway_key}")
}

/// Every gateway call whose outcome is not known yet.
pub(crate) const PENDING_GATEWAY_CALLS: &str = "pq/";

/// A property's check-in set-up.
pub(crate) fn venue(id: &PropertyId) -> String {
    format!("cat/vr/{id}")
}

pub(crate) fn idempotency(key: &str) -> String {
    join(&["idem/", key])
}

pub(crate) fn hold(id: &HoldId) -> String {
    join(&["hold/", id.as_str()])
}

/// Whether `key` is a hold's record or an inventory ledger (night or
/// session): what a hold or a confirmation reads besides the catalog.
pub(crate) fn is_ledger_or_hold(key: &str) -> bool {
    ["hold/", "nt/", "st/"].iter().any(|p| key.starts_with(p))
}

/// Holds by expiry: zero-padded milliseconds sort in time.
pub(crate) fn hold_expiry(expires_at: DateTime<Utc>, id: &HoldId) -> String {
    let millis = expires_at.timestamp_millis().max(0).unsigned_abs();
    join(&["hx/", &text::zero_padded(millis, 15), "/", id.as_str()])
}

/// Every hold expiry entry due at `now` (expiry at or before it).
pub(crate) fn holds_due(now: DateTime<Utc>) -> KeyRange {
    KeyRange {
        start: "hx/".to_owned(),
        end: Some(format!("hx/{:015}0", now.timestamp_millis().max(0))),
    }
}

pub(crate) fn booking(id: &BookingId) -> String {
    join(&["bk/", id.as_str()])
}

pub(crate) fn booking_by_customer(phone: &str, id: &BookingId) -> String {
    join(&["bc/", phone, "/", id.as_str()])
}

pub(crate) fn bookings_of_customer(phone: &str) -> KeyRange {
    KeyRange::prefix(&format!("bc/{phone}/"))
}

/// A booking's entry under `resource` for the month of `date`: one per
/// month a booking uses the resource in, however many nights.
pub(crate) fn booking_by_resource_month(
    resource: &ResourceId,
    date: NaiveDate,
    id: &BookingId,
) -> String {
    join(&[
        "bm/",
        resource.as_str(),
        "/",
        &month(date),
        "/",
        id.as_str(),
    ])
}

/// The value of a `bm/` entry: the first and last night or session date
/// the booking uses on the resource in that month, `2026-07-02 2026-07-04`.
pub(crate) fn date_span(first: NaiveDate, last: NaiveDate) -> Vec<u8> {
    join(&[&text::date(first), " ", &text::date(last)]).into_bytes()
}

/// The dates of a `bm/` entry's value, `None` for an entry written before
/// entries carried them (an empty value) or for one that does not parse.
pub(crate) fn parse_date_span(value: &[u8]) -> Option<(NaiveDate, NaiveDate)> {
    let (first, last) = std::str::from_utf8(value).ok()?.split_once(' ')?;
    Some((first.parse().ok()?, last.parse().ok()?))
}

/// A booking's entry under `resource` for one date, as written before
/// the month entries (ADR 021): only deleted now.
pub(crate) fn booking_by_resource_date(
    resource: &ResourceId,
    date: NaiveDate,
    id: &BookingId,
) -> String {
    join(&[
        "br/",
        resource.as_str(),
        "/",
        &text::date(date),
        "/",
        id.as_str(),
    ])
}

/// The index ranges holding every booking of `resource` with a night or
/// session date in `[from, to)` (`from < to`): the month entries of the
/// months the dates fall in, and the date entries older files hold. They
/// may list bookings that use other dates of those months: readers filter.
pub(crate) fn bookings_of_resource(
    resource: &ResourceId,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<KeyRange> {
    let last = to.pred_opt().unwrap_or(to).max(from);
    let month_prefix = |date| join(&["bm/", resource.as_str(), "/", &month(date), "/"]);
    let dates = KeyRange {
        start: join(&["br/", resource.as_str(), "/", &text::date(from), "/"]),
        end: Some(join(&["br/", resource.as_str(), "/", &text::date(to), "/"])),
    };
    if (0..=9999).contains(&from.year()) && (0..=9999).contains(&last.year()) {
        // "YYYY-MM" sorts in time, and "YYYY-MM0" comes after every key of
        // that month ('0' follows '/') and before the next month's.
        let months = KeyRange {
            start: month_prefix(from),
            end: Some(join(&["bm/", resource.as_str(), "/", &month(last), "0"])),
        };
        return vec![months, dates];
    }
    // Years chrono writes with a sign or five digits do not sort as text:
    // one prefix per month.
    let mut ranges = vec![dates];
    let mut first = from.with_day(1).unwrap_or(from);
    while first <= last {
        ranges.push(KeyRange::prefix(&month_prefix(first)));
        match first.checked_add_months(Months::new(1)) {
            Some(next) => first = next,
            None => break,
        }
    }
    ranges
}

/// `date`'s year and month as its date is written, without the day.
fn month(date: NaiveDate) -> String {
    let mut written = text::date(date).to_string();
    written.truncate(written.len() - 3);
    written
}

/// The tickets of a booking.
pub(crate) fn tickets(booking: &BookingId) -> String {
    format!("tk/{booking}")
}

/// A ticket by its token id, written as lower-case hex.
pub(crate) fn ticket(token: &TokenId) -> String {
    format!("tt/{token}")
}

/// The booking a ticket reference stands for.
pub(crate) fn ticket_ref(reference: &BookingId) -> String {
    format!("tr/{reference}")
}

/// The revocation list.
pub(crate) const REVOCATIONS: &str = "rl";

/// How many confirmed bookings used a promo code.
pub(crate) fn promo_uses(code: &str) -> String {
    format!("pu/{code}")
}

/// The ledger of one night of one nightly resource.
pub(crate) fn night(date: NaiveDate, resource: &ResourceId) -> String {
    join(&["nt/", &text::date(date), "/", resource.as_str()])
}

/// Every night ledger of `date`, across resources.
pub(crate) fn nights_of(date: NaiveDate) -> KeyRange {
    KeyRange::prefix(&join(&["nt/", &text::date(date), "/"]))
}

/// The resource id at the end of a night ledger key.
pub(crate) fn resource_of_night(key: &str) -> &str {
    // "nt/" + "YYYY-MM-DD" + "/" = 14 bytes.
    key.get(14..).unwrap_or("")
}

/// The ledger of one session of a timed resource.
pub(crate) fn session(resource: &ResourceId, start: DateTime<Utc>) -> String {
    // Offset so that pre-1970 instants still sort correctly as text.
    let secs = start.timestamp() + OFFSET_SECS;
    match u64::try_from(secs) {
        Ok(secs) => join(&["st/", resource.as_str(), "/", &text::zero_padded(secs, 12)]),
        // Before the year -1200: as the format always wrote it.
        Err(_) => format!("st/{resource}/{secs:012}"),
    }
}

const OFFSET_SECS: i64 = 100_000_000_000;

/// `parts` end to end, in a string allocated once at its final size.
/// Keys written on every booking are built this way instead of with
/// `format!`, which grows its string piece by piece and goes through
/// `Display` for each one (a tenth of a hold + confirm, measured).
fn join(parts: &[&str]) -> String {
    let mut key = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        key.push_str(part);
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn night_keys_sort_by_date_then_resource_and_round_trip() {
        let r = ResourceId::new("villa-1").unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let key = night(d, &r);
        assert_eq!(key, "nt/2026-07-01/villa-1");
        assert_eq!(resource_of_night(&key), "villa-1");
        assert!(nights_of(d).contains(&key));
        assert!(!nights_of(d.succ_opt().unwrap()).contains(&key));
    }

    #[test]
    fn booking_path_keys_keep_the_bytes_format_wrote() {
        let r = ResourceId::new("double").unwrap();
        let b = BookingId::new("b1").unwrap();
        let h = HoldId::new("h1").unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 7, 2).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 6, 1, 10, 15, 0).unwrap();
        assert_eq!(idempotency("c0"), "idem/c0");
        assert_eq!(hold(&h), "hold/h1");
        assert_eq!(hold_expiry(t, &h), "hx/001780308900000/h1");
        assert_eq!(
            hold_expiry(DateTime::UNIX_EPOCH, &h),
            "hx/000000000000000/h1"
        );
        assert_eq!(booking(&b), "bk/b1");
        assert_eq!(booking_by_customer("+351", &b), "bc/+351/b1");
        let owner = OwnerId::new("ana").unwrap();
        assert_eq!(booking_by_owner(&owner, &b), "ob/ana/b1");
        assert_eq!(booking_by_resource_month(&r, d, &b), "bm/double/2026-07/b1");
        let later = NaiveDate::from_ymd_opt(2026, 7, 4).unwrap();
        assert_eq!(date_span(d, later), b"2026-07-02 2026-07-04");
        assert_eq!(parse_date_span(&date_span(d, later)), Some((d, later)));
        let far = NaiveDate::from_ymd_opt(-12, 1, 31).unwrap();
        assert_eq!(parse_date_span(&date_span(far, far)), Some((far, far)));
        assert_eq!(parse_date_span(b""), None);
        assert_eq!(parse_date_span(b"2026-07-02"), None);
        assert_eq!(
            booking_by_resource_date(&r, d, &b),
            "br/double/2026-07-02/b1"
        );
        assert_eq!(nights_of(d).start, "nt/2026-07-02/");
        assert_eq!(session(&r, t), "st/double/101780308900");
        let ancient = Utc.with_ymd_and_hms(-5000, 1, 1, 0, 0, 0).unwrap();
        let secs = ancient.timestamp() + OFFSET_SECS;
        assert_eq!(session(&r, ancient), format!("st/double/{secs:012}"));
    }

    #[test]
    fn resource_ranges_hold_the_month_entries_of_the_dates_asked_for_and_no_others() {
        let r = ResourceId::new("double").unwrap();
        let b = BookingId::new("b1").unwrap();
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let holds = |ranges: &[KeyRange], key: &str| ranges.iter().any(|x| x.contains(key));
        for (from, to) in [
            (d(2026, 7, 2), d(2026, 7, 3)),
            (d(2026, 6, 30), d(2026, 8, 2)),
            (d(9999, 12, 30), d(10000, 1, 2)),
            (d(-1, 12, 31), d(0, 1, 1)),
        ] {
            let ranges = bookings_of_resource(&r, from, to);
            let last = to.pred_opt().unwrap();
            for date in from.iter_days().take_while(|x| *x < to) {
                assert!(
                    holds(&ranges, &booking_by_resource_month(&r, date, &b)),
                    "{date}"
                );
                if [from, to].iter().all(|x| (0..=9999).contains(&x.year())) {
                    // Date entries were only ever found by a range within
                    // these years (as before the month entries).
                    assert!(
                        holds(&ranges, &booking_by_resource_date(&r, date, &b)),
                        "{date}"
                    );
                }
            }
            let before = from.with_day(1).unwrap().pred_opt().unwrap();
            let after = last
                .with_day(1)
                .unwrap()
                .checked_add_months(Months::new(1))
                .unwrap();
            for outside in [before, after] {
                assert!(
                    !holds(&ranges, &booking_by_resource_month(&r, outside, &b)),
                    "{outside}"
                );
                assert!(
                    !holds(&ranges, &booking_by_resource_date(&r, outside, &b)),
                    "{outside}"
                );
            }
            let other = ResourceId::new("double-2").unwrap();
            assert!(!holds(
                &ranges,
                &booking_by_resource_month(&other, from, &b)
            ));
        }
    }

    #[test]
    fn session_keys_sort_in_time() {
        let r = ResourceId::new("yoga").unwrap();
        let early = Utc.with_ymd_and_hms(1969, 12, 31, 0, 0, 0).unwrap();
        let late = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(session(&r, early) < session(&r, late));
    }
}
