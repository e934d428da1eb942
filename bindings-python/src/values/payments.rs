//! The money side of bookings: payments, refunds, the commission ledger
//! and booking terms as a booking carries them, payment attempts,
//! reconciliation reports and modification quotes.

use chrono::{DateTime, Utc};

use reservo::engine::{
    AttemptState, BookingMoney, BookingTerms, ModificationQuote, Payment, PaymentAttempt,
    ReconcileReport, Refund, RefundState,
};

use super::money::{PyMoney, money_repr};
use super::optional_repr;
use crate::domain::{PyCancellationPolicy, PyCommissionPlan, PySplit};

value_object! {
    /// One payment the engine took through the gateway for a booking.
    PyPayment(Payment) as "Payment" {
        /// The idempotency key the gateway saw for it.
        #[getter]
        fn key(&self) -> &str {
            &self.inner.key
        }

        /// The gateway's id of the captured payment (what refunds name).
        #[getter]
        fn gateway_id(&self) -> &str {
            &self.inner.gateway_id
        }

        /// What was captured.
        #[getter]
        fn amount(&self) -> PyMoney {
            self.inner.amount.into()
        }

        /// What has been refunded from it, or is being refunded.
        #[getter]
        fn refunded(&self) -> PyMoney {
            self.inner.refunded.into()
        }

        /// What can still be refunded from it.
        #[getter]
        fn refundable(&self) -> PyMoney {
            self.inner.refundable().into()
        }

        /// When it was recorded.
        #[getter]
        fn at(&self) -> DateTime<Utc> {
            self.inner.at
        }

        fn __repr__(&self) -> String {
            format!("Payment(gateway_id={:?}, amount={}, refunded={})", self.inner.gateway_id, money_repr(&self.inner.amount), money_repr(&self.inner.refunded))
        }
    }
}

value_object! {
    /// One refund of (part of) one payment.
    PyRefund(Refund) as "Refund" {
        /// The idempotency key the gateway sees (`<command key>:refund:<n>`).
        #[getter]
        fn key(&self) -> &str {
            &self.inner.key
        }

        /// The gateway's id of the payment refunded.
        #[getter]
        fn payment(&self) -> &str {
            &self.inner.payment
        }

        /// How much.
        #[getter]
        fn amount(&self) -> PyMoney {
            self.inner.amount.into()
        }

        /// `pending` (the gateway has not confirmed it yet), `issued` or
        /// `declined` (still owed to the guest).
        #[getter]
        fn state(&self) -> &'static str {
            match self.inner.state {
                RefundState::Pending => "pending",
                RefundState::Issued { .. } => "issued",
                RefundState::Declined { .. } => "declined",
            }
        }

        /// The gateway's id of the refund, once issued.
        #[getter]
        fn gateway_id(&self) -> Option<&str> {
            match &self.inner.state {
                RefundState::Issued { gateway_id } => Some(gateway_id),
                _ => None,
            }
        }

        /// The gateway's reason, if it declined.
        #[getter]
        fn reason(&self) -> Option<&str> {
            match &self.inner.state {
                RefundState::Declined { reason } => Some(reason),
                _ => None,
            }
        }

        /// When it was decided.
        #[getter]
        fn at(&self) -> DateTime<Utc> {
            self.inner.at
        }

        fn __repr__(&self) -> String {
            format!("Refund(payment={:?}, amount={}, state={:?})", self.inner.payment, money_repr(&self.inner.amount), self.state())
        }
    }
}

value_object! {
    /// A booking's money: payments taken through the engine, refunds, the
    /// commission ledger (the split and every clawback since) and change fees.
    PyBookingMoney(BookingMoney) as "BookingMoney" {
        /// Payments, oldest first.
        #[getter]
        fn payments(&self) -> Vec<PyPayment> {
            super::wrap_all(self.inner.payments.clone())
        }

        /// Refunds issued or pending, oldest first.
        #[getter]
        fn refunds(&self) -> Vec<PyRefund> {
            super::wrap_all(self.inner.refunds.clone())
        }

        /// Whether the booking is paid through the engine's gateway: it has
        /// payments, or was confirmed free with ``pay_and_confirm``. A
        /// modification that makes it cost more charges the difference; a
        /// booking confirmed with ``confirm`` (paid outside Reservo) moves
        /// no money.
        #[getter]
        fn through_gateway(&self) -> bool {
            self.inner.through_gateway()
        }

        /// Change fees charged by modifications (non-refundable), if any.
        #[getter]
        fn change_fees(&self) -> Option<PyMoney> {
            self.inner.change_fees.map(PyMoney::from)
        }

        /// The split between platform, channel, broker, taxes and owner
        /// when the booking was made; `None` for a booking of zero value.
        #[getter]
        fn commission(&self) -> Option<PySplit> {
            self.inner.commission.as_ref().map(|l| l.split().clone().into())
        }

        /// What remains of the split after every refund's clawback.
        #[getter]
        fn commission_remaining(&self) -> Option<PySplit> {
            self.inner.commission.as_ref().map(|l| l.remaining().into())
        }

        /// Whether a refund is waiting for the gateway.
        #[getter]
        fn has_pending_refunds(&self) -> bool {
            self.inner.has_pending_refunds()
        }

        fn __repr__(&self) -> String {
            format!("BookingMoney(payments={}, refunds={})", self.inner.payments.len(), self.inner.refunds.len())
        }
    }
}

value_object! {
    /// What a booking agreed to when it was made: who sold it, when it
    /// starts, and the cancellation policy and commission plan in force then.
    PyBookingTerms(BookingTerms) as "BookingTerms" {
        /// The sales channel, if any.
        #[getter]
        fn channel(&self) -> Option<&str> {
            self.inner.attribution.channel.as_deref()
        }

        /// The broker or agent, if any.
        #[getter]
        fn broker(&self) -> Option<&str> {
            self.inner.attribution.broker.as_deref()
        }

        /// When it starts (UTC): the first check-in at the property's
        /// check-in time, or the first session's start.
        #[getter]
        fn start(&self) -> DateTime<Utc> {
            self.inner.start.instant()
        }

        /// The property's IANA time zone, in which deadlines are counted.
        #[getter]
        fn time_zone(&self) -> &str {
            self.inner.start.time_zone().name()
        }

        /// The cancellation policy snapshotted at booking, of the first
        /// item's rate plan: it judges every item whose rate plan is not in
        /// `rate_plan_policies`.
        #[getter]
        fn cancellation_policy(&self) -> PyCancellationPolicy {
            self.inner.cancellation_policy.clone().into()
        }

        /// The policies snapshotted at booking of the items' other rate
        /// plans, by rate plan id, where they differ from
        /// `cancellation_policy`: each item is judged by its own plan's.
        #[getter]
        fn rate_plan_policies(&self) -> std::collections::BTreeMap<String, PyCancellationPolicy> {
            self.inner
                .rate_plan_policies
                .iter()
                .map(|(plan, policy)| (plan.to_string(), policy.clone().into()))
                .collect()
        }

        /// When each item starts (UTC), in item order, if some item
        /// starts at another instant than `start`; empty when every item
        /// starts at `start`. A cancellation judges each item from its own
        /// start.
        #[getter]
        fn item_starts(&self) -> Vec<DateTime<Utc>> {
            self.inner.item_starts.iter().map(|s| s.instant()).collect()
        }

        /// The commission plan snapshotted at booking.
        #[getter]
        fn commission_plan(&self) -> PyCommissionPlan {
            self.inner.commission_plan.clone().into()
        }

        fn __repr__(&self) -> String {
            format!("BookingTerms(channel={}, broker={}, start={})", optional_repr(self.channel()), optional_repr(self.broker()), self.start().to_rfc3339())
        }
    }
}

value_object! {
    /// A charge the engine made or is making, kept under its command's
    /// idempotency key: `pending` until the gateway's answer is known, then
    /// `approved`, `declined` or `reversed` (approved, but the command
    /// could no longer apply, so it was refunded in full).
    PyPaymentAttempt(PaymentAttempt) as "PaymentAttempt" {
        /// The command's idempotency key.
        #[getter]
        fn key(&self) -> &str {
            &self.inner.key
        }

        /// `pay_and_confirm`, `pay_balance` or `modify`.
        #[getter]
        fn command(&self) -> &str {
            &self.inner.command
        }

        /// The hold or booking paid for.
        #[getter]
        fn reference(&self) -> &str {
            &self.inner.reference
        }

        /// The amount charged.
        #[getter]
        fn amount(&self) -> PyMoney {
            self.inner.amount.into()
        }

        /// `pending`, `approved`, `declined`, `reversing` (approved, but the
        /// command could not apply: being refunded) or `reversed`.
        #[getter]
        fn state(&self) -> &'static str {
            match self.inner.state {
                AttemptState::Pending { .. } => "pending",
                AttemptState::Approved { .. } => "approved",
                AttemptState::Declined { .. } => "declined",
                AttemptState::Reversing { .. } => "reversing",
                AttemptState::Reversed { .. } => "reversed",
            }
        }

        /// The gateway's id of the captured payment, once approved (also
        /// while it is being refunded).
        #[getter]
        fn gateway_id(&self) -> Option<&str> {
            match &self.inner.state {
                AttemptState::Approved { gateway_id }
                | AttemptState::Reversing { gateway_id, .. } => Some(gateway_id),
                _ => None,
            }
        }

        /// Why it was declined, or is being or was reversed.
        #[getter]
        fn reason(&self) -> Option<&str> {
            match &self.inner.state {
                AttemptState::Declined { reason }
                | AttemptState::Reversing { reason, .. }
                | AttemptState::Reversed { reason } => Some(reason),
                _ => None,
            }
        }

        /// The last error the gateway reported while pending (about the
        /// charge) or reversing (about the refund).
        #[getter]
        fn last_error(&self) -> Option<&str> {
            match &self.inner.state {
                AttemptState::Pending { last_error }
                | AttemptState::Reversing { last_error, .. } => last_error.as_deref(),
                _ => None,
            }
        }

        /// When it was recorded.
        #[getter]
        fn created_at(&self) -> DateTime<Utc> {
            self.inner.created_at
        }

        fn __repr__(&self) -> String {
            format!("PaymentAttempt(key={:?}, command={:?}, amount={}, state={:?})", self.inner.key, self.inner.command, money_repr(&self.inner.amount), self.state())
        }
    }
}

value_object! {
    /// What `reconcile_payments()` did, by gateway idempotency key.
    PyReconcileReport(ReconcileReport) as "ReconcileReport" {
        /// Calls whose outcome is now known and applied.
        #[getter]
        fn settled(&self) -> Vec<String> {
            self.inner.settled.clone()
        }

        /// Calls still unknown (the gateway failed again).
        #[getter]
        fn still_pending(&self) -> Vec<String> {
            self.inner.still_pending.clone()
        }

        fn __repr__(&self) -> String {
            format!("ReconcileReport(settled={:?}, still_pending={:?})", self.inner.settled, self.inner.still_pending)
        }
    }
}

value_object! {
    /// The price of a modification before it is applied:
    /// `new_total - current_total == difference`, of which `to_charge`
    /// goes through the gateway now and `to_refund` comes back now.
    PyModificationQuote(ModificationQuote) as "ModificationQuote" {
        /// The booking's total now.
        #[getter]
        fn current_total(&self) -> PyMoney {
            self.inner.current_total.into()
        }

        /// Its total after the change, the change fee included.
        #[getter]
        fn new_total(&self) -> PyMoney {
            self.inner.new_total.into()
        }

        /// The change fee.
        #[getter]
        fn change_fee(&self) -> PyMoney {
            self.inner.change_fee.into()
        }

        /// `new_total - current_total` (negative when it shrinks).
        #[getter]
        fn difference(&self) -> PyMoney {
            self.inner.difference.into()
        }

        /// What the gateway would be charged now.
        #[getter]
        fn to_charge(&self) -> PyMoney {
            self.inner.to_charge.into()
        }

        /// What would be refunded now.
        #[getter]
        fn to_refund(&self) -> PyMoney {
            self.inner.to_refund.into()
        }

        fn __repr__(&self) -> String {
            format!("ModificationQuote(new_total={}, difference={}, to_charge={}, to_refund={})", money_repr(&self.inner.new_total), money_repr(&self.inner.difference), money_repr(&self.inner.to_charge), money_repr(&self.inner.to_refund))
        }
    }
}
