//! Conversions between Python values and the core's.
//!
//! Owns the few rules every wrapper shares: instants are tz-aware
//! `datetime`s (any zone in, UTC out), ids are `str` validated by the core,
//! and structured data that the core defines as serde values (rate plans,
//! schedules, restrictions, promos, policies, commission plans) crosses as
//! plain dicts and lists through [`to_json`] and [`from_json`]. Must never
//! decide anything the core decides: validation errors come from the core.

use std::collections::BTreeMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyByteArray, PyBytes, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyMapping,
    PySequence, PyString, PyTime, PyType,
};
use pyo3::{Borrowed, intern};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::errors::core_err;

/// A tz-aware `datetime` in any zone, read as an instant in UTC.
#[derive(Debug, Clone, Copy)]
pub struct Instant(pub DateTime<Utc>);

impl<'a, 'py> FromPyObject<'a, 'py> for Instant {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = ob.py();
        if !ob.is_instance_of::<PyDateTime>() {
            return Err(PyTypeError::new_err(format!(
                "expected a timezone-aware datetime.datetime, got {}",
                ob.get_type().name()?
            )));
        }
        if ob.getattr(intern!(py, "tzinfo"))?.is_none() {
            return Err(core_err(
                py,
                reservo::Error::invalid(
                    "datetime",
                    format!(
                        "{} has no time zone: pass a timezone-aware datetime",
                        ob.str()?
                    ),
                ),
            ));
        }
        let utc = chrono::Utc.into_pyobject(py)?;
        let in_utc = match ob.call_method1(intern!(py, "astimezone"), (utc,)) {
            Ok(in_utc) => in_utc,
            Err(e) if e.is_instance_of::<PyOverflowError>(py) => {
                let error = reservo::Error::invalid(
                    "datetime",
                    format!("{} is outside the years 1-9999 in UTC", ob.str()?),
                );
                return Err(core_err(py, error));
            }
            Err(e) => return Err(e),
        };
        Ok(Instant(in_utc.extract()?))
    }
}

/// A calendar day: a `datetime.date` that is not a `datetime` (whose time
/// and zone would be dropped without a word, and whose day depends on the
/// zone it is written in).
#[derive(Debug, Clone, Copy)]
pub struct Day(pub NaiveDate);

impl<'a, 'py> FromPyObject<'a, 'py> for Day {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if ob.is_instance_of::<PyDateTime>() {
            return Err(PyTypeError::new_err(format!(
                "expected a datetime.date, got the datetime {}: pass its .date() in the property's time zone",
                ob.str()?
            )));
        }
        if !ob.is_instance_of::<PyDate>() {
            return Err(PyTypeError::new_err(format!(
                "expected a datetime.date, got {}",
                ob.get_type().name()?
            )));
        }
        Ok(Day(ob.extract()?))
    }
}

/// A civil time of day (check-in times, entry hours): a `datetime.time`
/// without a `tzinfo`, read in the property's time zone. A time with a
/// zone is `InvalidInput`: the zone would be dropped without a word.
#[derive(Debug, Clone, Copy)]
pub struct Civil(pub NaiveTime);

impl<'a, 'py> FromPyObject<'a, 'py> for Civil {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = ob.py();
        if ob.is_instance_of::<PyTime>() && !ob.getattr(intern!(py, "tzinfo"))?.is_none() {
            return Err(core_err(
                py,
                reservo::Error::invalid(
                    "time",
                    format!(
                        "{} has a time zone: pass the civil time (no tzinfo), read in the property's time zone",
                        ob.str()?
                    ),
                ),
            ));
        }
        Ok(Civil(ob.extract()?))
    }
}

/// The unsigned integer types the core counts in, with their largest value.
pub trait Unsigned {
    /// The largest value of the type.
    const MAX: u64;
}

impl Unsigned for u8 {
    const MAX: u64 = u8::MAX as u64;
}

impl Unsigned for u32 {
    const MAX: u64 = u32::MAX as u64;
}

impl Unsigned for u64 {
    const MAX: u64 = u64::MAX;
}

impl Unsigned for usize {
    const MAX: u64 = usize::MAX as u64;
}

/// A whole number that fits the core's unsigned field `T`: a negative or
/// too large `int` is `InvalidInput` (a `ValueError`), not the
/// `OverflowError` of the conversion. A `bool` is a `TypeError`, though
/// Python counts it an `int`: `Party(True)` is a slip, not one adult.
#[derive(Debug, Clone, Copy)]
pub struct Count<T>(pub T);

impl<'a, 'py, T> FromPyObject<'a, 'py> for Count<T>
where
    T: FromPyObject<'a, 'py, Error = PyErr> + Unsigned,
{
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = ob.py();
        if ob.is_instance_of::<PyBool>() {
            return Err(PyTypeError::new_err(format!(
                "expected an int, got bool ({})",
                ob.repr()?
            )));
        }
        match ob.extract::<T>() {
            Ok(value) => Ok(Count(value)),
            Err(e) if e.is_instance_of::<PyOverflowError>(py) => Err(core_err(
                py,
                reservo::Error::invalid(
                    "integer",
                    format!("{} is not between 0 and {}", ob.repr()?, T::MAX),
                ),
            )),
            Err(e) => Err(e),
        }
    }
}

static DECIMAL: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// An exact decimal number: a `decimal.Decimal`, an `int` or a decimal
/// `str`. A `float` is refused (most cents have no exact `float`, and large
/// amounts lose them), as is a `bool`; text that is not a finite decimal is
/// `InvalidInput`.
#[derive(Debug, Clone, Copy)]
pub struct Exact(pub Decimal);

impl<'a, 'py> FromPyObject<'a, 'py> for Exact {
    type Error = PyErr;

    fn extract(ob: Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let py = ob.py();
        let is_decimal = ob.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)?;
        let is_int = ob.is_instance_of::<PyInt>() && !ob.is_instance_of::<PyBool>();
        if !(is_decimal || is_int || ob.is_instance_of::<PyString>()) {
            let hint = if ob.is_instance_of::<PyFloat>() {
                ": a float cannot hold most amounts exactly, pass Decimal(\"...\") or a str"
            } else {
                ""
            };
            return Err(PyTypeError::new_err(format!(
                "expected a decimal.Decimal, int or str, got {}{hint}",
                ob.get_type().name()?
            )));
        }
        let text = ob.str()?.to_cow()?.trim().to_owned();
        Decimal::from_str_exact(&text)
            .or_else(|_| Decimal::from_scientific(&text))
            .map(Exact)
            .map_err(|e| {
                core_err(
                    py,
                    reservo::Error::invalid(
                        "decimal",
                        format!("{text:?} is not an exact decimal number: {e}"),
                    ),
                )
            })
    }
}

/// Parses an id with the core's rules, as a typed-id value.
pub fn id<T>(value: &str) -> PyResult<T>
where
    T: std::str::FromStr<Err = reservo::Error>,
{
    value
        .parse::<T>()
        .map_err(|e| Python::attach(|py| core_err(py, e)))
}

/// The host's metadata from a Python `dict[str, str]` (`None` is none),
/// checked with the core's rules.
pub fn metadata(entries: Option<BTreeMap<String, String>>) -> PyResult<reservo::booking::Metadata> {
    reservo::booking::Metadata::try_from(entries.unwrap_or_default())
        .map_err(|e| Python::attach(|py| core_err(py, e)))
}

/// A hash of a value through its serde form, consistent with the core's
/// `PartialEq`: decimal strings are hashed in normal form, because the core
/// compares amounts by value (`10.5 EUR == 10.50 EUR`).
pub fn hash_of<T: Serialize>(value: &T) -> u64 {
    let mut hasher = DefaultHasher::new();
    if let Ok(json) = serde_json::to_value(value) {
        hash_json(&json, &mut hasher);
    }
    hasher.finish()
}

fn hash_json(value: &Value, hasher: &mut DefaultHasher) {
    match value {
        Value::String(s) => match s.parse::<Decimal>() {
            Ok(d) => d.normalize().to_string().hash(hasher),
            Err(_) => s.hash(hasher),
        },
        Value::Array(items) => items.iter().for_each(|v| hash_json(v, hasher)),
        Value::Object(map) => map.iter().for_each(|(k, v)| {
            k.hash(hasher);
            hash_json(v, hasher);
        }),
        other => other.to_string().hash(hasher),
    }
}

/// A Python value (mappings, sequences, str, int, bool, None, `Decimal`, `date`,
/// tz-aware `datetime`, `time`) as JSON. Decimals become strings, so
/// amounts stay exact; a `float` is refused, as [`Exact`] refuses it.
pub fn to_json(ob: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = ob.py();
    if ob.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = ob.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if ob.is_instance_of::<PyInt>() {
        if let Ok(i) = ob.extract::<i64>() {
            return Ok(Value::from(i));
        }
        return match ob.extract::<u64>() {
            Ok(u) => Ok(Value::from(u)),
            Err(_) => Err(core_err(
                py,
                reservo::Error::invalid(
                    "integer",
                    format!("{} does not fit in 64 bits", ob.repr()?),
                ),
            )),
        };
    }
    if let Ok(s) = ob.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if ob.is_instance_of::<PyFloat>() {
        return Err(PyTypeError::new_err(format!(
            "cannot read the float {} as data: a float cannot hold most amounts exactly, \
             pass Decimal(\"...\"), a str or an int",
            ob.repr()?
        )));
    }
    if ob.is_instance(DECIMAL.import(py, "decimal", "Decimal")?)? {
        let Exact(d) = ob.extract()?;
        return Ok(Value::String(d.to_string()));
    }
    if ob.is_instance_of::<PyDateTime>() {
        let Instant(at) = ob.extract()?;
        return Ok(Value::String(
            at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        ));
    }
    if ob.is_instance_of::<PyDate>() {
        return Ok(Value::String(ob.extract::<NaiveDate>()?.to_string()));
    }
    if ob.is_instance_of::<PyTime>() {
        return Ok(Value::String(ob.extract::<NaiveTime>()?.to_string()));
    }
    // Any mapping (dict, MappingProxyType, UserDict) and any sequence but
    // text and bytes (list, tuple, deque), as the stubs promise.
    if let Ok(mapping) = ob.cast::<PyMapping>() {
        let items = mapping.items()?;
        let mut map = Map::with_capacity(items.len());
        for item in items.iter() {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item.extract()?;
            let key = k.cast::<PyString>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "dict keys must be str, got {}",
                    k.repr().map(|r| r.to_string()).unwrap_or_default()
                ))
            })?;
            map.insert(key.to_cow()?.into_owned(), to_json(&v)?);
        }
        return Ok(Value::Object(map));
    }
    let bytes = ob.is_instance_of::<PyBytes>() || ob.is_instance_of::<PyByteArray>();
    if !bytes && ob.cast::<PySequence>().is_ok() {
        let items: PyResult<Vec<Value>> = ob.try_iter()?.map(|item| to_json(&item?)).collect();
        return Ok(Value::Array(items?));
    }
    if let Ok(money) = ob.cast::<crate::values::PyMoney>() {
        return Ok(serde_json::to_value(money.get().inner).expect("money serializes"));
    }
    Err(PyTypeError::new_err(format!(
        "cannot read {} as data: use dicts, lists, str, int, bool, None, Decimal, date, time or a tz-aware datetime",
        ob.get_type().name()?
    )))
}

/// JSON as plain Python values (dicts, lists, str, int, float, bool, None).
pub fn from_json_value<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_json_value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, from_json_value(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A core value in its serde (JSON) form, as plain Python values.
pub fn to_plain<'py, T: Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value)
        .map_err(|e| core_err(py, reservo::Error::invalid("value", e.to_string())))?;
    from_json_value(py, &json)
}

/// A core value from plain Python data (a dict, list or JSON text), with
/// the core's validation. `what` names the argument in errors.
pub fn from_data<T: DeserializeOwned>(ob: &Bound<'_, PyAny>, what: &str) -> PyResult<T> {
    let py = ob.py();
    let parsed = if let Ok(text) = ob.cast::<PyString>() {
        serde_json::from_str::<T>(&text.to_cow()?)
    } else {
        serde_json::from_value::<T>(to_json(ob)?)
    };
    parsed.map_err(|e| core_err(py, reservo::Error::invalid(what, e.to_string())))
}

/// A core value handed to Python in its plain JSON form (for results that
/// have no class of their own, such as payment outcomes).
pub struct Plain<T>(pub T);

impl<'py, T: Serialize> IntoPyObject<'py> for Plain<T> {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_plain(py, &self.0)
    }
}
