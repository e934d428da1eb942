//! Domain functions that need no engine: cancellation refund quotes
//! (`reservo.policy`) and the money split, clawbacks and owner statements
//! (`reservo.commission`). Policies and commission plans cross as the
//! core's serde data; results are frozen value objects.

use std::sync::Mutex;

use chrono::NaiveDate;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

use reservo::commission::{
    BookingLedger, CommissionPlan, OwnerStatement, Split, StatementAmounts, StatementLine,
    StatementPeriod, owner_statement,
};
use reservo::ids::{BookingId, OwnerId};
use reservo::money::Currency;
use reservo::policy::{
    BookingFacts, BookingStart, CancellationEvent, CancellationPolicy, RefundQuote, presets,
};

use crate::convert::{Day, Instant, from_data, id, to_plain};
use crate::errors::{IntoPyResult, core_err};
use crate::values::{PyMoney, wrap_all};

value_object! {
    /// A cancellation policy: free windows, tiers by time before the
    /// start, and a late penalty that also covers no-shows.
    PyCancellationPolicy(CancellationPolicy) as "CancellationPolicy" {
        /// A policy from the core's JSON form.
        #[staticmethod]
        fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
            from_data::<CancellationPolicy>(data, "policy").map(Self::from)
        }

        /// A named preset: `airbnb.flexible`, `airbnb.moderate`,
        /// `airbnb.limited`, `airbnb.firm`, `airbnb.strict`,
        /// `airbnb.non_refundable`, `booking_com.non_refundable`,
        /// `vrbo.relaxed`, `vrbo.moderate`, `vrbo.firm`, `vrbo.strict`,
        /// `vrbo.no_refund`.
        #[staticmethod]
        fn preset(py: Python<'_>, name: &str) -> PyResult<Self> {
            let policy = presets::by_name(name)
                .ok_or_else(|| core_err(py, reservo::Error::not_found("policy preset", name)))?;
            Ok(policy.into())
        }

        /// The names `preset` takes.
        #[staticmethod]
        fn preset_names() -> Vec<&'static str> {
            presets::NAMES.to_vec()
        }

        /// What comes back if the booking is cancelled at `cancelled_at`,
        /// or (with `no_show=True`) if the guest never came.
        #[pyo3(signature = (facts, *, cancelled_at=None, no_show=false))]
        fn quote(&self, py: Python<'_>, facts: PyRef<'_, PyBookingFacts>, cancelled_at: Option<Instant>, no_show: bool) -> PyResult<PyRefundQuote> {
            let event = match (cancelled_at, no_show) {
                (Some(at), false) => CancellationEvent::Cancelled { at: at.0 },
                (None, true) => CancellationEvent::NoShow,
                _ => {
                    return Err(core_err(py, reservo::Error::invalid("event", "give either cancelled_at or no_show=True")));
                }
            };
            self.inner.quote(&facts.inner, event).py(py).map(PyRefundQuote::from)
        }

        fn __repr__(&self) -> String {
            format!("CancellationPolicy({} tiers)", self.inner.tiers().len())
        }
    }
}

value_object! {
    /// The facts a refund is judged by: when it was booked and starts, the
    /// price, what was paid, the non-refundable part and per-night amounts.
    PyBookingFacts(BookingFacts) as "BookingFacts" {
        #[new]
        #[pyo3(signature = (*, booked_at, start, time_zone, price, paid, non_refundable, night_amounts=Vec::new()))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            py: Python<'_>,
            booked_at: Instant,
            start: Instant,
            time_zone: &str,
            price: PyRef<'_, PyMoney>,
            paid: PyRef<'_, PyMoney>,
            non_refundable: PyRef<'_, PyMoney>,
            night_amounts: Vec<PyRef<'_, PyMoney>>,
        ) -> PyResult<Self> {
            let tz = reservo::time::parse_time_zone(time_zone).py(py)?;
            BookingFacts::new(
                booked_at.0,
                BookingStart::at_instant(start.0, tz),
                price.inner,
                paid.inner,
                non_refundable.inner,
                night_amounts.iter().map(|m| m.inner).collect(),
            )
            .py(py)
            .map(Self::from)
        }

        /// What can be refunded at most: the price less its non-refundable part.
        #[getter]
        fn refundable(&self) -> PyMoney {
            self.inner.refundable().into()
        }

        fn __repr__(&self) -> String {
            format!("BookingFacts(price={}, paid={})", self.inner.price(), self.inner.paid())
        }
    }
}

value_object! {
    /// What comes back on a cancellation: `refund + penalty +
    /// non_refundable_kept == paid`, exactly.
    PyRefundQuote(RefundQuote) as "RefundQuote" {
        /// What goes back to the guest.
        #[getter]
        fn refund(&self) -> PyMoney {
            self.inner.refund().into()
        }

        /// What the policy keeps.
        #[getter]
        fn penalty(&self) -> PyMoney {
            self.inner.penalty().into()
        }

        /// The non-refundable part kept.
        #[getter]
        fn non_refundable_kept(&self) -> PyMoney {
            self.inner.non_refundable_kept().into()
        }

        /// Everything kept: penalty and non-refundable part.
        #[getter]
        fn kept(&self) -> PyMoney {
            self.inner.kept().into()
        }

        /// Which rule decided, as data (`{"kind": "tier", ...}`).
        #[getter]
        fn rule<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
            to_plain(py, &self.inner.rule())
        }

        /// Why, for people.
        #[getter]
        fn reason(&self) -> &str {
            self.inner.reason()
        }

        /// For a booking whose items have different cancellation policies:
        /// each group of items (their 0-based positions in the booking)
        /// with its own quote, whose amounts this one sums. Empty when one
        /// policy judged the whole booking.
        #[getter]
        fn parts(&self) -> Vec<(Vec<usize>, PyRefundQuote)> {
            self.inner
                .parts()
                .iter()
                .map(|p| (p.items().to_vec(), p.quote().clone().into()))
                .collect()
        }

        fn __repr__(&self) -> String {
            format!("RefundQuote(refund={}, penalty={}, reason={:?})", self.inner.refund(), self.inner.penalty(), self.inner.reason())
        }
    }
}

value_object! {
    /// How a booking's money is split: platform fee, intermediaries'
    /// commissions, taxes and who remits them, and the owner's payout.
    PyCommissionPlan(CommissionPlan) as "CommissionPlan" {
        /// A plan from the core's JSON form.
        #[staticmethod]
        fn from_dict(data: &Bound<'_, PyAny>) -> PyResult<Self> {
            from_data::<CommissionPlan>(data, "commission_plan").map(Self::from)
        }

        /// Splits `gross` (of which `taxes` are taxes) exactly between the
        /// parties.
        fn split(&self, py: Python<'_>, gross: PyRef<'_, PyMoney>, taxes: PyRef<'_, PyMoney>) -> PyResult<PySplit> {
            self.inner.split(gross.inner, taxes.inner).py(py).map(PySplit::from)
        }

        fn __repr__(&self) -> String {
            format!("CommissionPlan({} intermediaries)", self.inner.intermediaries().len())
        }
    }
}

value_object! {
    /// Money divided between the parties of one booking; the parts sum to
    /// `gross` exactly.
    PySplit(Split) as "Split" {
        /// Everything: the sum of the parts.
        #[getter]
        fn gross(&self) -> PyMoney {
            self.inner.gross().into()
        }

        /// The platform's fee.
        #[getter]
        fn platform_fee(&self) -> PyMoney {
            self.inner.platform_fee().into()
        }

        /// Each intermediary's commission: `(role, id, amount)`.
        #[getter]
        fn commissions(&self, py: Python<'_>) -> PyResult<Vec<(String, String, PyMoney)>> {
            self.inner
                .commissions()
                .iter()
                .map(|c| {
                    let role: String = to_plain(py, &c.intermediary.role())?.extract()?;
                    Ok((role, c.intermediary.id().to_owned(), c.amount.into()))
                })
                .collect()
        }

        /// Taxes passed through to their remitter.
        #[getter]
        fn taxes(&self) -> PyMoney {
            self.inner.taxes().into()
        }

        /// What the owner receives.
        #[getter]
        fn owner_payout(&self) -> PyMoney {
            self.inner.owner_payout().into()
        }

        fn __repr__(&self) -> String {
            format!("Split(gross={}, platform_fee={}, owner_payout={})", self.inner.gross(), self.inner.platform_fee(), self.inner.owner_payout())
        }
    }
}

/// One booking's money over time: its split and the refunds clawed back
/// from it pro rata.
#[pyclass(frozen, module = "reservo._reservo", name = "BookingLedger")]
pub struct PyBookingLedger {
    pub(crate) ledger: Mutex<BookingLedger>,
}

#[pymethods]
impl PyBookingLedger {
    #[new]
    #[pyo3(signature = (*, booking, owner, recognized_on, split))]
    fn new(
        py: Python<'_>,
        booking: &str,
        owner: &str,
        recognized_on: Day,
        split: PyRef<'_, PySplit>,
    ) -> PyResult<Self> {
        let recognized_on = recognized_on.0;
        let ledger = BookingLedger::new(
            id::<BookingId>(booking)?,
            id::<OwnerId>(owner)?,
            recognized_on,
            split.inner.clone(),
        )
        .py(py)?;
        Ok(PyBookingLedger {
            ledger: Mutex::new(ledger),
        })
    }

    /// Records a refund of `amount` on `on`, clawing it back from every
    /// party pro rata; returns the clawback split.
    fn refund(&self, py: Python<'_>, amount: PyRef<'_, PyMoney>, on: Day) -> PyResult<PySplit> {
        let on = on.0;
        let mut ledger = self
            .ledger
            .lock()
            .map_err(|_| PyRuntimeError::new_err("ledger lock poisoned"))?;
        let entry = ledger.refund(amount.inner, on).py(py)?;
        Ok(entry.clawback.clone().into())
    }

    /// What remains of the split after the refunds.
    fn remaining(&self) -> PyResult<PySplit> {
        let ledger = self
            .ledger
            .lock()
            .map_err(|_| PyRuntimeError::new_err("ledger lock poisoned"))?;
        Ok(ledger.remaining().into())
    }

    fn __repr__(&self) -> PyResult<String> {
        let ledger = self
            .ledger
            .lock()
            .map_err(|_| PyRuntimeError::new_err("ledger lock poisoned"))?;
        Ok(format!(
            "BookingLedger(booking={:?}, refunds={})",
            ledger.booking().as_str(),
            ledger.refunds().len()
        ))
    }
}

value_object! {
    /// Totals of a statement or of one of its lines.
    PyStatementAmounts(StatementAmounts) as "StatementAmounts" {
        /// Gross booked.
        #[getter]
        fn gross(&self) -> PyMoney { self.inner.gross.into() }
        /// Refunded.
        #[getter]
        fn refunds(&self) -> PyMoney { self.inner.refunds.into() }
        /// Platform fees, net of clawbacks.
        #[getter]
        fn platform_fees(&self) -> PyMoney { self.inner.platform_fees.into() }
        /// Commissions, net of clawbacks.
        #[getter]
        fn commissions(&self) -> PyMoney { self.inner.commissions.into() }
        /// Taxes, net of clawbacks.
        #[getter]
        fn taxes(&self) -> PyMoney { self.inner.taxes.into() }
        /// The owner's payout, net of clawbacks (may be negative).
        #[getter]
        fn owner_payout(&self) -> PyMoney { self.inner.owner_payout.into() }

        fn __repr__(&self) -> String {
            format!("StatementAmounts(gross={}, owner_payout={})", self.inner.gross, self.inner.owner_payout)
        }
    }
}

value_object! {
    /// One booking's movements in a statement period.
    PyStatementLine(StatementLine) as "StatementLine" {
        /// The booking.
        #[getter]
        fn booking(&self) -> &str { self.inner.booking.as_str() }
        /// When it was recognized.
        #[getter]
        fn recognized_on(&self) -> NaiveDate { self.inner.recognized_on }
        /// Its amounts in the period.
        #[getter]
        fn amounts(&self) -> PyStatementAmounts { self.inner.amounts.into() }

        fn __repr__(&self) -> String {
            format!("StatementLine(booking={:?}, owner_payout={})", self.booking(), self.inner.amounts.owner_payout)
        }
    }
}

value_object! {
    /// An owner's statement for a period: a line per booking and totals.
    PyOwnerStatement(OwnerStatement) as "OwnerStatement" {
        /// The owner.
        #[getter]
        fn owner(&self) -> &str { self.inner.owner.as_str() }
        /// The ISO 4217 currency.
        #[getter]
        fn currency(&self) -> String { self.inner.currency.code().to_owned() }
        /// One line per booking with movements in the period.
        #[getter]
        fn lines(&self) -> Vec<PyStatementLine> { wrap_all(self.inner.lines.clone()) }
        /// The sums of the lines.
        #[getter]
        fn totals(&self) -> PyStatementAmounts { self.inner.totals.into() }

        fn __repr__(&self) -> String {
            format!("OwnerStatement(owner={:?}, lines={}, owner_payout={})", self.owner(), self.inner.lines.len(), self.inner.totals.owner_payout)
        }
    }
}

/// The statement of `owner` for `[start, end)` over the given ledgers.
#[pyfunction(name = "owner_statement")]
#[pyo3(signature = (owner, *, start, end, currency, ledgers))]
fn py_owner_statement(
    py: Python<'_>,
    owner: &str,
    start: Day,
    end: Day,
    currency: &str,
    ledgers: Vec<PyRef<'_, PyBookingLedger>>,
) -> PyResult<PyOwnerStatement> {
    let start = start.0;
    let end = end.0;
    let period = StatementPeriod::new(start, end).py(py)?;
    let currency = Currency::from_code(currency).py(py)?;
    let records = ledgers
        .iter()
        .map(|l| {
            l.ledger
                .lock()
                .map(|g| g.clone())
                .map_err(|_| PyRuntimeError::new_err("ledger lock poisoned"))
        })
        .collect::<PyResult<Vec<_>>>()?;
    owner_statement(&id::<OwnerId>(owner)?, period, currency, &records)
        .py(py)
        .map(PyOwnerStatement::from)
}

/// Registers the policy and commission classes and functions.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyCancellationPolicy>()?;
    m.add_class::<PyBookingFacts>()?;
    m.add_class::<PyRefundQuote>()?;
    m.add_class::<PyCommissionPlan>()?;
    m.add_class::<PySplit>()?;
    m.add_class::<PyBookingLedger>()?;
    m.add_class::<PyStatementAmounts>()?;
    m.add_class::<PyStatementLine>()?;
    m.add_class::<PyOwnerStatement>()?;
    m.add_function(wrap_pyfunction!(py_owner_statement, m)?)?;
    Ok(())
}
