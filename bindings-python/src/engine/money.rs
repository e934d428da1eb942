//! The engine's money operations: paying for holds and balances,
//! reconciling unknown payments, cancellation and no-shows with their
//! refunds, refund quotes, modification, booking terms and owner
//! statements, and the host's metadata on bookings. Each returns a
//! [`Pending`] call, as in [`super`].

use std::collections::BTreeMap;

use pyo3::prelude::*;

use reservo::commission::StatementPeriod;
use reservo::engine::{
    Attribution, CancelRequest, CompleteRequest, DeskCheckInRequest, ModifyRequest, NoShowRequest,
    PayAmount, PayBalanceRequest, PayRequest, SetMetadataRequest,
};
use reservo::ids::{BookingId, HoldId, OwnerId, PropertyId, RatePlanId};
use reservo::money::Currency;

use super::PyEngine;
use crate::convert::{self, Day, Instant, id};
use crate::domain::{PyCancellationPolicy, PyCommissionPlan, PyOwnerStatement, PyRefundQuote};
use crate::errors::IntoPyResult;
use crate::runtime::Pending;
use crate::values::{
    PyBooking, PyCustomer, PyModificationQuote, PyMoney, PyPaymentAttempt, PyReconcileReport,
    quote_requests,
};

#[pymethods]
impl PyEngine {
    #[pyo3(signature = (hold, *, customer=None, payment_method, idempotency_key, deposit=None, channel=None, broker=None, broker_phone=None, metadata=None))]
    #[allow(clippy::too_many_arguments)]
    fn pay_and_confirm(
        &self,
        hold: &str,
        customer: Option<PyRef<'_, PyCustomer>>,
        payment_method: String,
        idempotency_key: String,
        deposit: Option<PyRef<'_, PyMoney>>,
        channel: Option<String>,
        broker: Option<String>,
        broker_phone: Option<String>,
        metadata: Option<BTreeMap<String, String>>,
    ) -> PyResult<Pending> {
        let request = PayRequest {
            idempotency_key,
            hold: id::<HoldId>(hold)?,
            customer: customer.map(|c| c.inner.clone()),
            payment_method,
            amount: match deposit {
                Some(amount) => PayAmount::Deposit {
                    amount: amount.inner,
                },
                None => PayAmount::Full,
            },
            attribution: Attribution {
                channel,
                broker,
                broker_phone,
            },
            metadata: convert::metadata(metadata)?,
        };
        Ok(self.call(|e| async move { e.pay_and_confirm(&request).await.map(PyBooking::from) }))
    }

    #[pyo3(signature = (booking, *, payment_method, idempotency_key))]
    fn pay_balance(
        &self,
        booking: &str,
        payment_method: String,
        idempotency_key: String,
    ) -> PyResult<Pending> {
        let request = PayBalanceRequest {
            idempotency_key,
            booking: id::<BookingId>(booking)?,
            payment_method,
        };
        Ok(self.call(|e| async move { e.pay_balance(&request).await.map(PyBooking::from) }))
    }

    fn reconcile_payments(&self) -> Pending {
        self.call(|e| async move { e.reconcile_payments().await.map(PyReconcileReport::from) })
    }

    fn payment_attempt(&self, idempotency_key: String) -> Pending {
        self.call(|e| async move {
            e.payment_attempt(&idempotency_key)
                .await
                .map(PyPaymentAttempt::from)
        })
    }

    #[pyo3(signature = (booking, *, idempotency_key, reason=None))]
    fn cancel(
        &self,
        booking: &str,
        idempotency_key: String,
        reason: Option<String>,
    ) -> PyResult<Pending> {
        let request = CancelRequest {
            idempotency_key,
            booking: id::<BookingId>(booking)?,
            reason,
        };
        Ok(self.call(|e| async move { e.cancel(&request).await.map(PyBooking::from) }))
    }

    #[pyo3(signature = (booking, *, idempotency_key))]
    fn mark_no_show(&self, booking: &str, idempotency_key: String) -> PyResult<Pending> {
        let request = NoShowRequest {
            idempotency_key,
            booking: id::<BookingId>(booking)?,
        };
        Ok(self.call(|e| async move { e.mark_no_show(&request).await.map(PyBooking::from) }))
    }

    #[pyo3(signature = (booking, *, idempotency_key))]
    fn check_in_at_desk(&self, booking: &str, idempotency_key: String) -> PyResult<Pending> {
        let request = DeskCheckInRequest {
            idempotency_key,
            booking: id::<BookingId>(booking)?,
        };
        Ok(self.call(|e| async move { e.check_in_at_desk(&request).await.map(PyBooking::from) }))
    }

    #[pyo3(signature = (booking, *, idempotency_key))]
    fn complete_booking(&self, booking: &str, idempotency_key: String) -> PyResult<Pending> {
        let request = CompleteRequest {
            idempotency_key,
            booking: id::<BookingId>(booking)?,
        };
        Ok(self.call(|e| async move { e.complete_booking(&request).await.map(PyBooking::from) }))
    }

    #[pyo3(signature = (booking, metadata, *, idempotency_key))]
    fn set_booking_metadata(
        &self,
        booking: &str,
        metadata: Option<BTreeMap<String, String>>,
        idempotency_key: String,
    ) -> PyResult<Pending> {
        let request = SetMetadataRequest {
            idempotency_key,
            booking: id::<BookingId>(booking)?,
            metadata: convert::metadata(metadata)?,
        };
        Ok(self
            .call(|e| async move { e.set_booking_metadata(&request).await.map(PyBooking::from) }))
    }

    fn refund_quote(&self, booking: &str, at: Instant) -> PyResult<Pending> {
        let booking = id::<BookingId>(booking)?;
        Ok(self.call(|e| async move {
            e.refund_quote(&booking, at.0)
                .await
                .map(PyRefundQuote::from)
        }))
    }

    fn quote_modification(&self, booking: &str, items: &Bound<'_, PyAny>) -> PyResult<Pending> {
        let booking = id::<BookingId>(booking)?;
        let items = quote_requests(items)?;
        Ok(self.call(|e| async move {
            e.quote_modification(&booking, &items)
                .await
                .map(PyModificationQuote::from)
        }))
    }

    #[pyo3(signature = (booking, items, *, idempotency_key, payment_method=None, expected_total=None))]
    fn modify(
        &self,
        booking: &str,
        items: &Bound<'_, PyAny>,
        idempotency_key: String,
        payment_method: Option<String>,
        expected_total: Option<PyRef<'_, PyMoney>>,
    ) -> PyResult<Pending> {
        let request = ModifyRequest {
            idempotency_key,
            booking: id::<BookingId>(booking)?,
            items: quote_requests(items)?,
            payment_method,
            expected_total: expected_total.map(|total| total.inner),
        };
        Ok(self.call(|e| async move { e.modify(&request).await.map(PyBooking::from) }))
    }

    fn set_cancellation_policy(
        &self,
        rate_plan: &str,
        policy: PyRef<'_, PyCancellationPolicy>,
    ) -> PyResult<Pending> {
        let (rate_plan, policy) = (id::<RatePlanId>(rate_plan)?, policy.inner.clone());
        Ok(self.call(|e| async move { e.set_cancellation_policy(&rate_plan, policy).await }))
    }

    fn set_commission_plan(
        &self,
        property: &str,
        plan: PyRef<'_, PyCommissionPlan>,
    ) -> PyResult<Pending> {
        let (property, plan) = (id::<PropertyId>(property)?, plan.inner.clone());
        Ok(self.call(|e| async move { e.set_commission_plan(&property, plan).await }))
    }

    #[pyo3(signature = (owner, *, start, end, currency=None))]
    fn owner_statement(
        &self,
        py: Python<'_>,
        owner: &str,
        start: Day,
        end: Day,
        currency: Option<&str>,
    ) -> PyResult<Pending> {
        let start = start.0;
        let end = end.0;
        let owner = id::<OwnerId>(owner)?;
        let period = StatementPeriod::new(start, end).py(py)?;
        let currency = currency.map(Currency::from_code).transpose().py(py)?;
        Ok(self.call(|e| async move {
            let statement = match currency {
                Some(currency) => e.owner_statement_in(&owner, period, currency).await,
                None => e.owner_statement(&owner, period).await,
            };
            statement.map(PyOwnerStatement::from)
        }))
    }
}
