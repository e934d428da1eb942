//! Value objects: frozen Python classes over the core's values.
//!
//! Each wrapper is named `PyX` here and `X` in Python (the core's name). It
//! is immutable, compares by the core's `PartialEq`, hashes consistently
//! with that, has a `repr` a person can read, and gives its JSON form with
//! `to_dict()`. Must never hold logic of its own: getters convert, the core
//! validates and computes.

/// Declares a frozen value-object class over a core value: `__eq__`,
/// `__hash__`, `to_dict()` and pickling (through the core value's JSON
/// form, see [`crate::pickle`]) come from the core value; the block adds
/// the constructor, getters and `__repr__`.
macro_rules! value_object {
    (@class $(#[$meta:meta])* $py:ident($inner:ty) as $name:literal { $($body:tt)* }) => {
        $(#[$meta])*
        #[pyo3::pyclass(frozen, module = "reservo._reservo", name = $name)]
        #[derive(Clone)]
        pub struct $py {
            /// The core value.
            pub inner: $inner,
        }

        impl From<$inner> for $py {
            fn from(inner: $inner) -> Self {
                $py { inner }
            }
        }

        #[pyo3::pymethods]
        impl $py {
            fn __eq__(&self, other: pyo3::PyRef<'_, Self>) -> bool {
                self.inner == other.inner
            }

            fn __hash__(&self) -> u64 {
                $crate::convert::hash_of(&self.inner)
            }

            /// The value itself: it is immutable.
            fn __copy__(slf: pyo3::PyRef<'_, Self>) -> pyo3::PyRef<'_, Self> {
                slf
            }

            /// The value itself: it is immutable.
            fn __deepcopy__<'py>(
                slf: pyo3::PyRef<'py, Self>,
                _memo: &pyo3::Bound<'py, pyo3::PyAny>,
            ) -> pyo3::PyRef<'py, Self> {
                slf
            }

            /// The value in its JSON form: plain dicts and lists, amounts,
            /// dates and instants as strings.
            fn to_dict<'py>(
                &self,
                py: pyo3::Python<'py>,
            ) -> pyo3::PyResult<pyo3::Bound<'py, pyo3::PyAny>> {
                $crate::convert::to_plain(py, &self.inner)
            }

            $($body)*
        }
    };
    ($(#[$meta:meta])* $py:ident($inner:ty) as $name:literal { $($body:tt)* }) => {
        value_object!(@class $(#[$meta])* $py($inner) as $name { $($body)* });

        #[pyo3::pymethods]
        impl $py {
            /// Pickles as the core value's JSON form, read back by `_restore`.
            fn __reduce__<'py>(
                slf: &pyo3::Bound<'py, Self>,
            ) -> pyo3::PyResult<(pyo3::Bound<'py, pyo3::PyAny>, pyo3::Bound<'py, pyo3::types::PyTuple>)> {
                let state = $crate::pickle::state_of(slf.py(), &slf.get().inner)?;
                $crate::pickle::by_restore(slf.as_any(), (state,))
            }

            /// The value a pickle holds (the argument `__reduce__` gave).
            #[classmethod]
            fn _restore(
                _cls: &pyo3::Bound<'_, pyo3::types::PyType>,
                py: pyo3::Python<'_>,
                state: &str,
            ) -> pyo3::PyResult<Self> {
                $crate::pickle::restored::<$inner>(py, state).map(Self::from)
            }
        }
    };
}

mod catalog;
mod holds;
mod money;
mod payments;
mod request;
mod results;

pub use catalog::{PyBlock, PyProperty, PyRatePlan, PyResource};
pub use holds::{EventRecord, PyBooking, PyEvent, PyHeldItem, PyHold, PyStatusChange};
pub use money::PyMoney;
pub use payments::{
    PyBookingMoney, PyBookingTerms, PyModificationQuote, PyPayment, PyPaymentAttempt,
    PyReconcileReport, PyRefund,
};
pub use request::{PyCustomer, PyItem, PyParty, PyQuoteRequest, quote_requests};
pub use results::{
    PyNightAvailability, PyQuote, PyQuoteLine, PyQuoted, PySearchHit, PySessionAvailability,
};

/// `None` or the value's `Debug` form: an optional field in a repr, as
/// Python writes it (`None`, `"web"`, `2`), not as Rust does (`Some(2)`).
pub fn optional_repr<T: std::fmt::Debug>(value: Option<T>) -> String {
    value.map_or_else(|| "None".to_owned(), |v| format!("{v:?}"))
}

/// Wraps each core value of `values` in its Python class.
pub fn wrap_all<T, P: From<T>>(values: Vec<T>) -> Vec<P> {
    values.into_iter().map(P::from).collect()
}
