//! The vectors' operations after a hold is taken: extending it, the
//! expiry sweep, paying and confirming, cancelling, refund quotes,
//! modifications and the host's metadata. Each runs one engine call and returns what `then` may
//! check; money that moved in the step is the difference between the
//! booking's payments or refunds before and after it.

use chrono::{DateTime, Utc};
use reservo::engine::{
    Attribution, Booking, CancelRequest, ExtendRequest, ModifyRequest, PayAmount, PayRequest,
    SetMetadataRequest, UpdateHoldRequest,
};
use reservo::money::Money;
use serde_json::{Value, json};

use super::{Metadata, Run, field, items, money, optional_customer, person};

/// Money the step took: the payments `after` has beyond those of `before`.
fn charged(before: &Booking, after: &Booking) -> Money {
    let new = &after.money.payments[before.money.payments.len()..];
    Money::sum(after.total.currency(), new.iter().map(|p| &p.amount)).unwrap()
}

/// Money the step gave back: the refunds `after` has beyond those of `before`.
fn refunded(before: &Booking, after: &Booking) -> Money {
    let new = &after.money.refunds[before.money.refunds.len()..];
    Money::sum(after.total.currency(), new.iter().map(|r| &r.amount)).unwrap()
}

/// What `then` may check of a booking after a step that changed it.
fn booking_outcome(before: &Booking, after: &Booking) -> Value {
    json!({
        "status": after.status.as_str(),
        "total": after.total,
        "paid": after.money.paid(after.total.currency()),
        "charged": charged(before, after),
        "refund": refunded(before, after),
    })
}

impl Run {
    pub(super) async fn extend(&self, when: &Value) -> reservo::Result<Value> {
        let request = ExtendRequest::new(
            field::<String>(when, "idempotency_key"),
            self.hold_named(when),
            field(when, "ttl_seconds"),
        );
        let hold = self.engine.extend(&request).await?;
        Ok(json!({"expires_at": hold.expires_at}))
    }

    pub(super) async fn update_hold(&self, when: &Value) -> reservo::Result<Value> {
        let mut request = UpdateHoldRequest::new(
            field::<String>(when, "idempotency_key"),
            self.hold_named(when),
        );
        request.customer = optional_customer(when)?;
        request.metadata = when.get("metadata").map(|_| metadata(when));
        let hold = self.engine.update_hold(&request).await?;
        Ok(json!({
            "customer": hold.customer.as_ref().map(person),
            "metadata": hold.metadata,
        }))
    }

    pub(super) async fn expire_due(&self, when: &Value) -> reservo::Result<Value> {
        let limit = when.get("limit").map_or(100, |_| field(when, "limit"));
        let expired = self.engine.expire_due(limit).await?;
        Ok(json!({"expired": expired.len()}))
    }

    pub(super) async fn pay(&mut self, when: &Value) -> reservo::Result<Value> {
        let amount = match when.get("deposit") {
            Some(deposit) => PayAmount::Deposit {
                amount: money(deposit),
            },
            None => PayAmount::Full,
        };
        let booking = self
            .engine
            .pay_and_confirm(&PayRequest {
                idempotency_key: field(when, "idempotency_key"),
                hold: self.hold_named(when),
                customer: optional_customer(when)?,
                payment_method: field(when, "payment_method"),
                amount,
                attribution: Attribution::direct(),
                metadata: Metadata::new(),
            })
            .await?;
        self.name_booking(when, &booking.id);
        Ok(json!({
            "status": booking.status.as_str(),
            "total": booking.total,
            "paid": booking.money.paid(booking.total.currency()),
            "customer": person(&booking.customer),
        }))
    }

    pub(super) async fn cancel(&self, when: &Value) -> reservo::Result<Value> {
        let id = self.booking_named(when);
        let before = self.engine.booking(&id).await?;
        let after = self
            .engine
            .cancel(&CancelRequest {
                idempotency_key: field(when, "idempotency_key"),
                booking: id,
                reason: when.get("reason").map(|_| field(when, "reason")),
            })
            .await?;
        Ok(booking_outcome(&before, &after))
    }

    pub(super) async fn set_metadata(&self, when: &Value) -> reservo::Result<Value> {
        let booking = self
            .engine
            .set_booking_metadata(&SetMetadataRequest {
                idempotency_key: field(when, "idempotency_key"),
                booking: self.booking_named(when),
                metadata: metadata(when),
            })
            .await?;
        Ok(json!({"status": booking.status.as_str(), "metadata": booking.metadata}))
    }

    pub(super) async fn refund_quote(&self, when: &Value) -> reservo::Result<Value> {
        let at: DateTime<Utc> = field(when, "at");
        let quote = self
            .engine
            .refund_quote(&self.booking_named(when), at)
            .await?;
        let rule = serde_json::to_value(quote.rule()).unwrap();
        Ok(json!({
            "refund": quote.refund(),
            "penalty": quote.penalty(),
            "non_refundable_kept": quote.non_refundable_kept(),
            "kept": quote.kept(),
            "rule": rule["kind"],
        }))
    }

    pub(super) async fn quote_modification(&self, when: &Value) -> reservo::Result<Value> {
        let quote = self
            .engine
            .quote_modification(&self.booking_named(when), &items(when)?)
            .await?;
        Ok(serde_json::to_value(quote).unwrap())
    }

    pub(super) async fn modify(&self, when: &Value) -> reservo::Result<Value> {
        let id = self.booking_named(when);
        let before = self.engine.booking(&id).await?;
        let after = self
            .engine
            .modify(&ModifyRequest {
                idempotency_key: field(when, "idempotency_key"),
                booking: id,
                items: items(when)?,
                payment_method: when
                    .get("payment_method")
                    .map(|_| field(when, "payment_method")),
                expected_total: when.get("expected_total").map(money),
            })
            .await?;
        Ok(booking_outcome(&before, &after))
    }
}

/// The step's `metadata` (none if absent), as given: the engine checks it.
pub(super) fn metadata(when: &Value) -> Metadata {
    when.get("metadata")
        .map(|m| serde_json::from_value(m.clone()).expect("metadata is an object of strings"))
        .unwrap_or_default()
}
