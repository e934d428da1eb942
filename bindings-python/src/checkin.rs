//! Check-in at gates: the venue's rules and the scan log that one rules
//! engine evaluates, on a server or an offline scanner.
//!
//! A scan log grows with every scan, so its class holds the core value
//! behind a lock. Must never decide a scan itself: `reservo::checkin` does.

use std::sync::Mutex;

use chrono::NaiveTime;
use pyo3::prelude::*;

use reservo::checkin::{Direction, EntryHours, Passage, Scan, ScanId, ScanLog, VenueRules};
use reservo::ids::ResourceId;
use reservo::token::{GateId, ZoneId};

use crate::convert::{Civil, Instant, id};
use crate::errors::IntoPyResult;
use crate::tokens::{PyTicketClaims, locked};

/// A scan's direction from `"in"` or `"out"`.
pub(crate) fn direction_of(py: Python<'_>, direction: &str) -> PyResult<Direction> {
    match direction {
        "in" => Ok(Direction::In),
        "out" => Ok(Direction::Out),
        other => Err(crate::errors::core_err(
            py,
            reservo::Error::invalid(
                "direction",
                format!("must be \"in\" or \"out\", got {other:?}"),
            ),
        )),
    }
}

/// A passage's name: `"entry"`, `"re_entry"` or `"exit"`.
pub(crate) fn passage_name(passage: Passage) -> &'static str {
    match passage {
        Passage::Entry => "entry",
        Passage::ReEntry => "re_entry",
        Passage::Exit => "exit",
    }
}

/// A venue's own rules, the same on every gate of the venue.
#[pyclass(frozen, module = "reservo._reservo", name = "VenueRules")]
pub struct PyVenueRules {
    pub(crate) rules: VenueRules,
}

#[pymethods]
impl PyVenueRules {
    /// `entry_hours` is `(opens, closes)` in the venue's civil time, or
    /// `None` for any time. Closing at or before opening runs past
    /// midnight (`(time(20), time(3))`); then a venue day, for daily
    /// limits and re-entry, runs from closing to closing time.
    #[new]
    #[pyo3(signature = (*, time_zone, resources, entry_hours=None, anti_passback=false))]
    fn new(
        py: Python<'_>,
        time_zone: &str,
        resources: Vec<String>,
        entry_hours: Option<(Civil, Civil)>,
        anti_passback: bool,
    ) -> PyResult<Self> {
        let rules = VenueRules {
            time_zone: reservo::time::parse_time_zone(time_zone).py(py)?,
            resources: resources
                .iter()
                .map(|r| id::<ResourceId>(r))
                .collect::<PyResult<_>>()?,
            entry_hours: entry_hours
                .map(|(opens, closes)| EntryHours::new(opens.0, closes.0))
                .transpose()
                .py(py)?,
            anti_passback,
        };
        Ok(PyVenueRules { rules })
    }

    /// The venue's time zone (IANA name).
    #[getter]
    fn time_zone(&self) -> &'static str {
        self.rules.time_zone.name()
    }

    /// The resources whose tickets this venue admits, in id order.
    #[getter]
    fn resources(&self) -> Vec<String> {
        self.rules
            .resources
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// `(opens, closes)` in the venue's civil time, or `None` for any time.
    #[getter]
    fn entry_hours(&self) -> Option<(NaiveTime, NaiveTime)> {
        self.rules.entry_hours.map(|h| (h.opens(), h.closes()))
    }

    /// Whether a second entry into a zone needs an exit in between.
    #[getter]
    fn anti_passback(&self) -> bool {
        self.rules.anti_passback
    }

    fn __repr__(&self) -> String {
        format!(
            "VenueRules(time_zone={:?}, resources={})",
            self.rules.time_zone.name(),
            self.rules.resources.len()
        )
    }
}

/// The scans a gate (or a venue) has seen; decides new scans with the
/// check-in rules and records them. Logs from offline gates merge.
#[pyclass(frozen, module = "reservo._reservo", name = "ScanLog")]
pub struct PyScanLog {
    pub(crate) log: Mutex<ScanLog>,
}

#[pymethods]
impl PyScanLog {
    #[new]
    fn new() -> Self {
        PyScanLog {
            log: Mutex::new(ScanLog::new()),
        }
    }

    /// Decides a scan of the token with `claims` (already verified) at
    /// `gate` into `zone`, records it, and returns the passage: `"entry"`,
    /// `"re_entry"` or `"exit"`. A refusal raises `TokenWrongGate`,
    /// `TokenAlreadyUsed` or `EntryRefused` (and is recorded too).
    #[pyo3(signature = (rules, claims, *, gate, zone, at, direction="in", scan_id=None))]
    #[allow(clippy::too_many_arguments)]
    fn check_in(
        &self,
        py: Python<'_>,
        rules: PyRef<'_, PyVenueRules>,
        claims: PyRef<'_, PyTicketClaims>,
        gate: &str,
        zone: &str,
        at: Instant,
        direction: &str,
        scan_id: Option<&str>,
    ) -> PyResult<&'static str> {
        let direction = direction_of(py, direction)?;
        let scan = Scan {
            id: match scan_id {
                Some(s) => ScanId::new(s).py(py)?,
                None => ScanId::generate(),
            },
            gate: GateId::new(gate).py(py)?,
            zone: ZoneId::new(zone).py(py)?,
            direction,
            at: at.0,
        };
        let passage = locked(&self.log)?
            .check_in(&rules.rules, &claims.claims, scan)
            .py(py)?;
        Ok(passage_name(passage))
    }

    /// Adds every scan of `other` not already here; returns how many.
    fn merge(&self, other: PyRef<'_, PyScanLog>) -> PyResult<usize> {
        let theirs = locked(&other.log)?.clone();
        Ok(locked(&self.log)?.merge(&theirs).added)
    }

    fn __len__(&self) -> PyResult<usize> {
        Ok(locked(&self.log)?.len())
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!("ScanLog({} scans)", locked(&self.log)?.len()))
    }
}

/// Registers the check-in classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyVenueRules>()?;
    m.add_class::<PyScanLog>()?;
    Ok(())
}
