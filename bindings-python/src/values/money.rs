//! `Money`: an exact `Decimal` amount in one currency.

use pyo3::prelude::*;
use rust_decimal::Decimal;

use reservo::money::Money;

use crate::convert::Exact;
use crate::errors::IntoPyResult;

value_object! {
    /// An exact amount of one ISO 4217 currency. `amount` is a
    /// `decimal.Decimal`; mixing currencies is an error in the core.
    PyMoney(Money) as "Money" {
        #[new]
        fn new(py: Python<'_>, amount: Exact, currency: &str) -> PyResult<Self> {
            Money::parse(&amount.0.to_string(), currency).py(py).map(PyMoney::from)
        }

        /// The amount, exactly.
        #[getter]
        fn amount(&self) -> Decimal {
            self.inner.amount()
        }

        /// The ISO 4217 code.
        #[getter]
        fn currency(&self) -> String {
            self.inner.currency().code().to_owned()
        }

        fn __repr__(&self) -> String {
            money_repr(&self.inner)
        }

        fn __str__(&self) -> String {
            self.inner.to_string()
        }
    }
}

/// `Money('345.00', 'EUR')`: the repr of an amount, for other reprs too.
pub fn money_repr(money: &Money) -> String {
    format!("Money('{}', '{}')", money.amount(), money.currency())
}
