//! The booking record's encoding, reusing the priced items the hold record
//! already holds.
//!
//! Owns writing `bk/<booking>` as exactly the JSON of [`Booking`] while
//! copying, rather than encoding again, the `items` array of the hold it
//! was confirmed from (the items, their requests and full quotes are most
//! of both records). Must never write bytes that differ from encoding the
//! booking whole: the copy is used only when the hold record is laid out
//! as encoding the hold gives, and debug builds compare the two.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::booking::{BookingStatus, Customer, Metadata};
use crate::ids::{BookingId, HoldId};
use crate::money::Money;

use super::confirm::{Booking, StatusChange};
use super::hold::{Hold, HoldState};
use super::payment::BookingMoney;
use super::terms::BookingTerms;
use super::txn::encode_json;

/// The fields of [`Hold`] after its items, in its order.
#[derive(Serialize)]
struct HoldTail<'a> {
    total: &'a Money,
    #[serde(serialize_with = "crate::text::serialize_instant")]
    created_at: &'a DateTime<Utc>,
    #[serde(serialize_with = "crate::text::serialize_instant")]
    expires_at: &'a DateTime<Utc>,
    #[serde(serialize_with = "crate::text::serialize_instant")]
    max_until: &'a DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<&'a Customer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Metadata>,
    state: &'a HoldState,
}

/// The fields of [`Booking`] before its items, in its order.
#[derive(Serialize)]
struct BookingHead<'a> {
    id: &'a BookingId,
    hold: &'a HoldId,
    status: &'a BookingStatus,
    customer: &'a Customer,
}

/// The fields of [`Booking`] after its items, in its order.
#[derive(Serialize)]
struct BookingTail<'a> {
    total: &'a Money,
    #[serde(serialize_with = "crate::text::serialize_instant")]
    created_at: &'a DateTime<Utc>,
    history: &'a [StatusChange],
    terms: &'a BookingTerms,
    money: &'a BookingMoney,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Metadata>,
}

/// The JSON of `hold.items` inside `record`, the hold's record as read
/// (with `hold` decoded from it), if the record is laid out as encoding
/// `hold` gives.
pub(crate) fn held_items_json<'r>(hold: &Hold, record: &'r [u8]) -> Option<&'r [u8]> {
    let mut head = Vec::with_capacity(48);
    head.extend_from_slice(br#"{"id":"#);
    serde_json::to_writer(&mut head, &hold.id).expect("ids serialize");
    head.extend_from_slice(br#","items":"#);
    let mut tail = encode_json(&HoldTail {
        total: &hold.total,
        created_at: &hold.created_at,
        expires_at: &hold.expires_at,
        max_until: &hold.max_until,
        customer: hold.customer.as_ref(),
        metadata: hold.metadata.if_any(),
        state: &hold.state,
    });
    tail[0] = b',';
    record.strip_prefix(&head[..])?.strip_suffix(&tail[..])
}

/// The record of `booking`; `items_json`, if given, must be the JSON of
/// `booking.items` (see [`held_items_json`]).
pub(crate) fn encode_booking(booking: &Booking, items_json: Option<&[u8]>) -> Vec<u8> {
    let Some(items_json) = items_json else {
        return encode_json(booking);
    };
    let head = encode_json(&BookingHead {
        id: &booking.id,
        hold: &booking.hold,
        status: &booking.status,
        customer: &booking.customer,
    });
    let tail = encode_json(&BookingTail {
        total: &booking.total,
        created_at: &booking.created_at,
        history: &booking.history,
        terms: &booking.terms,
        money: &booking.money,
        metadata: booking.metadata.if_any(),
    });
    const ITEMS: &[u8] = br#","items":"#;
    let mut out = Vec::with_capacity(head.len() + ITEMS.len() + items_json.len() + tail.len());
    out.extend_from_slice(&head[..head.len() - 1]);
    out.extend_from_slice(ITEMS);
    out.extend_from_slice(items_json);
    out.push(b',');
    out.extend_from_slice(&tail[1..]);
    debug_assert_eq!(
        out,
        encode_json(booking),
        "the booking record is the booking's JSON"
    );
    out
}
