//! Tickets as the engine issues and checks them: the settings an engine
//! issues with (`TicketSettings`, `EntryPolicy`), a booking's
//! `IssuedTicket`s and their QR symbols, the outcome of a gate's scan and
//! the report of merging offline scans. The offline pieces (claims,
//! verifiers, scan logs) are in [`crate::tokens`]. Must never decide an
//! entry: the core's rules do.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroU32;

use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use reservo::checkin::Direction;
use reservo::engine::{CheckInOutcome, IssuedTicket, ScanMergeReport, TicketSettings};
use reservo::token::qr::TokenQr;
use reservo::token::{Entries, EntryPolicy};

use crate::checkin::passage_name;
use crate::convert::{Count, to_plain};
use crate::errors::IntoPyResult;
use crate::tokens::{PyTicketClaims, entry_policy};
use crate::values::optional_repr;

value_object! {
    /// How often a ticket admits: `entries` in all (`None`: any number),
    /// at most `per_day` per venue day, and whether re-entry after an exit
    /// is free. The default is a single entry.
    PyEntryPolicy(EntryPolicy) as "EntryPolicy" {
        #[new]
        #[pyo3(signature = (*, entries=Some(Count(1)), per_day=None, reentry=false), text_signature = "(*, entries=1, per_day=None, reentry=False)")]
        fn new(py: Python<'_>, entries: Option<Count<u32>>, per_day: Option<Count<u32>>, reentry: bool) -> PyResult<Self> {
            entry_policy(py, entries.map(|e| e.0), per_day.map(|p| p.0), reentry).map(Self::from)
        }

        /// Total entries, or `None` for unlimited.
        #[getter]
        fn entries(&self) -> Option<u32> {
            match self.inner.entries {
                Entries::Limited(n) => Some(n.get()),
                Entries::Unlimited => None,
            }
        }

        /// Most entries per venue day, if limited.
        #[getter]
        fn per_day(&self) -> Option<u32> {
            self.inner.per_day.map(NonZeroU32::get)
        }

        /// Whether re-entry after an exit is free.
        #[getter]
        fn reentry(&self) -> bool {
            self.inner.reentry
        }

        fn __repr__(&self) -> String {
            format!("EntryPolicy(entries={}, per_day={}, reentry={})", optional_repr(self.entries()), optional_repr(self.per_day()), if self.inner.reentry { "True" } else { "False" })
        }
    }
}

/// How an engine turns booked items into tickets: one ticket per guest of
/// each item; a stay's tickets are valid from 00:00 on check-in to the end
/// of the check-out date (property time), a session's from
/// `session_opens_minutes_before` its start to `session_closes_minutes_after`
/// its end. A revoked ticket leaves the revocation list once
/// `revoked_kept_days_after_expiry` days and an hour (the largest verifier
/// leeway) have passed since it expired.
#[pyclass(frozen, module = "reservo._reservo", name = "TicketSettings")]
#[derive(Clone)]
pub struct PyTicketSettings {
    pub(crate) settings: TicketSettings,
}

#[pymethods]
impl PyTicketSettings {
    #[new]
    #[pyo3(signature = (*, session_opens_minutes_before=30, session_closes_minutes_after=0, stay_entry=None, session_entry=None, revoked_kept_days_after_expiry=7))]
    fn new(
        session_opens_minutes_before: u16,
        session_closes_minutes_after: u16,
        stay_entry: Option<PyRef<'_, PyEntryPolicy>>,
        session_entry: Option<PyRef<'_, PyEntryPolicy>>,
        revoked_kept_days_after_expiry: u16,
    ) -> Self {
        PyTicketSettings {
            settings: TicketSettings {
                session_opens_minutes_before,
                session_closes_minutes_after,
                stay_entry: stay_entry.map(|p| p.inner).unwrap_or_default(),
                session_entry: session_entry.map(|p| p.inner).unwrap_or_default(),
                revoked_kept_days_after_expiry,
            },
        }
    }

    /// Minutes before a session starts that its tickets admit.
    #[getter]
    fn session_opens_minutes_before(&self) -> u16 {
        self.settings.session_opens_minutes_before
    }

    /// Minutes after a session ends that its tickets still admit.
    #[getter]
    fn session_closes_minutes_after(&self) -> u16 {
        self.settings.session_closes_minutes_after
    }

    /// The entry policy of a stay's tickets.
    #[getter]
    fn stay_entry(&self) -> PyEntryPolicy {
        self.settings.stay_entry.into()
    }

    /// The entry policy of a session's tickets.
    #[getter]
    fn session_entry(&self) -> PyEntryPolicy {
        self.settings.session_entry.into()
    }

    /// Days a revoked ticket stays on the revocation list after it expired,
    /// beyond the hour of verifier leeway.
    #[getter]
    fn revoked_kept_days_after_expiry(&self) -> u16 {
        self.settings.revoked_kept_days_after_expiry
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.settings == other.settings
    }

    fn __hash__(&self) -> u64 {
        let s = &self.settings;
        let mut hasher = DefaultHasher::new();
        (
            s.session_opens_minutes_before,
            s.session_closes_minutes_after,
            s.stay_entry,
            s.session_entry,
            s.revoked_kept_days_after_expiry,
        )
            .hash(&mut hasher);
        hasher.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "TicketSettings(session_opens_minutes_before={}, session_closes_minutes_after={}, stay_entry={}, session_entry={}, revoked_kept_days_after_expiry={})",
            self.settings.session_opens_minutes_before,
            self.settings.session_closes_minutes_after,
            self.stay_entry().__repr__(),
            self.session_entry().__repr__(),
            self.settings.revoked_kept_days_after_expiry
        )
    }
}

/// One ticket of a booking: the token to show at the gate (`text`, for a
/// QR code) and what it says. `claims.booking` is the booking's short
/// ticket reference, never its id.
#[pyclass(frozen, module = "reservo._reservo", name = "IssuedTicket")]
pub struct PyIssuedTicket {
    pub(crate) ticket: IssuedTicket,
}

impl From<IssuedTicket> for PyIssuedTicket {
    fn from(ticket: IssuedTicket) -> Self {
        PyIssuedTicket { ticket }
    }
}

#[pymethods]
impl PyIssuedTicket {
    /// The token's id (hex), as revocation lists and scan logs name it.
    #[getter]
    fn token_id(&self) -> String {
        self.ticket.token_id.to_string()
    }

    /// The token text (`RV1:...`), all QR alphanumeric characters.
    #[getter]
    fn text(&self) -> &str {
        &self.ticket.text
    }

    /// The signed claims.
    #[getter]
    fn claims(&self) -> PyTicketClaims {
        PyTicketClaims {
            claims: self.ticket.claims.clone(),
        }
    }

    /// The index of the booking item the ticket is for.
    #[getter]
    fn item(&self) -> usize {
        self.ticket.item
    }

    /// The ticket's QR symbol (level M, alphanumeric mode), to render.
    fn qr(&self, py: Python<'_>) -> PyResult<PyTokenQr> {
        Ok(PyTokenQr {
            text: self.ticket.text.clone(),
            qr: self.ticket.qr().py(py)?,
        })
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.ticket == other.ticket
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        (&self.ticket.text, self.ticket.item).hash(&mut hasher);
        hasher.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "IssuedTicket(token_id={:?}, item={}, resource={:?})",
            self.token_id(),
            self.ticket.item,
            self.ticket.claims.resource.as_str()
        )
    }
}

/// A token's QR symbol.
#[pyclass(frozen, module = "reservo._reservo", name = "TokenQr")]
pub struct PyTokenQr {
    /// The token text the symbol encodes (what it pickles as).
    pub(crate) text: String,
    pub(crate) qr: TokenQr,
}

#[pymethods]
impl PyTokenQr {
    /// The QR version (1 to 40): the symbol is `17 + 4 * version` modules wide.
    #[getter]
    fn version(&self) -> i16 {
        self.qr.version()
    }

    /// Modules per side, without the quiet zone.
    #[getter]
    fn width(&self) -> usize {
        self.qr.width()
    }

    /// The symbol as an SVG document, `module_px` units per module (1-64).
    #[pyo3(signature = (module_px=Count(4)), text_signature = "(self, module_px=4)")]
    fn to_svg(&self, py: Python<'_>, module_px: Count<u32>) -> PyResult<String> {
        let module_px = module_px.0;
        self.qr.to_svg(module_px).py(py)
    }

    /// The symbol as a grayscale PNG, `module_px` pixels per module (1-64).
    #[pyo3(signature = (module_px=Count(4)), text_signature = "(self, module_px=4)")]
    fn to_png<'py>(&self, py: Python<'py>, module_px: Count<u32>) -> PyResult<Bound<'py, PyBytes>> {
        let module_px = module_px.0;
        let png = self.qr.to_png(module_px).py(py)?;
        Ok(PyBytes::new(py, &png))
    }

    fn __repr__(&self) -> String {
        format!(
            "TokenQr(version={}, width={})",
            self.qr.version(),
            self.qr.width()
        )
    }
}

/// A scan the engine let through: the passage, the ticket's booking and
/// its status after the scan, the ticket's claims, and the scan as
/// recorded (at the engine clock's time).
#[pyclass(frozen, module = "reservo._reservo", name = "CheckInOutcome")]
pub struct PyCheckInOutcome {
    pub(crate) outcome: CheckInOutcome,
}

impl From<CheckInOutcome> for PyCheckInOutcome {
    fn from(outcome: CheckInOutcome) -> Self {
        PyCheckInOutcome { outcome }
    }
}

#[pymethods]
impl PyCheckInOutcome {
    /// `"entry"`, `"re_entry"` or `"exit"`.
    #[getter]
    fn passage(&self) -> &'static str {
        passage_name(self.outcome.passage)
    }

    /// The ticket's booking.
    #[getter]
    fn booking(&self) -> &str {
        self.outcome.booking.as_str()
    }

    /// The booking's status after the scan (`checked_in` after an entry).
    #[getter]
    fn status(&self) -> &'static str {
        self.outcome.status.as_str()
    }

    /// The claims of the ticket scanned.
    #[getter]
    fn claims(&self) -> PyTicketClaims {
        PyTicketClaims {
            claims: self.outcome.claims.clone(),
        }
    }

    /// The scan's id: sending it again returns this decision.
    #[getter]
    fn scan_id(&self) -> String {
        self.outcome.scan.id.to_string()
    }

    /// The gate that scanned.
    #[getter]
    fn gate(&self) -> &str {
        self.outcome.scan.gate.as_str()
    }

    /// The zone entered or left.
    #[getter]
    fn zone(&self) -> &str {
        self.outcome.scan.zone.as_str()
    }

    /// `"in"` or `"out"`.
    #[getter]
    fn direction(&self) -> &'static str {
        match self.outcome.scan.direction {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }

    /// When the scan was recorded.
    #[getter]
    fn at(&self) -> DateTime<Utc> {
        self.outcome.scan.at
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.outcome == other.outcome
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        (&self.outcome.scan, self.outcome.booking.as_str()).hash(&mut hasher);
        hasher.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "CheckInOutcome(passage={:?}, booking={:?}, status={:?}, gate={:?})",
            self.passage(),
            self.booking(),
            self.status(),
            self.gate()
        )
    }
}

/// What merging offline gates' scans did.
#[pyclass(frozen, module = "reservo._reservo", name = "ScanMergeReport")]
pub struct PyScanMergeReport {
    pub(crate) report: ScanMergeReport,
}

impl From<ScanMergeReport> for PyScanMergeReport {
    fn from(report: ScanMergeReport) -> Self {
        PyScanMergeReport { report }
    }
}

#[pymethods]
impl PyScanMergeReport {
    /// Scan records new to the engine.
    #[getter]
    fn added(&self) -> usize {
        self.report.merged.added
    }

    /// Scan ids recorded twice with different contents.
    #[getter]
    fn conflicts(&self) -> Vec<String> {
        self.report
            .merged
            .conflicts
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    /// Admissions beyond what a ticket allows once every gate's scans are
    /// known, as data: `{"record": {...}, "refusal": {"reason": ...}}`.
    #[getter]
    fn double_admissions<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyAny>>> {
        self.report
            .double_admissions
            .iter()
            .map(|d| {
                let record = to_plain(py, &d.record)?;
                let refusal = to_plain(py, &d.refusal)?;
                let entry = pyo3::types::PyDict::new(py);
                entry.set_item("record", record)?;
                entry.set_item("refusal", refusal)?;
                Ok(entry.into_any())
            })
            .collect()
    }

    /// Bookings the merged entries moved to `checked_in`.
    #[getter]
    fn checked_in(&self) -> Vec<String> {
        self.report
            .checked_in
            .iter()
            .map(|b| b.as_str().to_owned())
            .collect()
    }

    /// Tokens this engine never issued; their scans were left out.
    #[getter]
    fn unknown_tokens(&self) -> Vec<String> {
        self.report
            .unknown_tokens
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.report == other.report
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        (
            self.added(),
            self.conflicts(),
            self.checked_in(),
            self.unknown_tokens(),
            self.report.double_admissions.len(),
        )
            .hash(&mut hasher);
        hasher.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "ScanMergeReport(added={}, double_admissions={}, checked_in={:?}, unknown_tokens={})",
            self.report.merged.added,
            self.report.double_admissions.len(),
            self.checked_in(),
            self.report.unknown_tokens.len()
        )
    }
}

/// Registers the engine's ticket classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEntryPolicy>()?;
    m.add_class::<PyTicketSettings>()?;
    m.add_class::<PyIssuedTicket>()?;
    m.add_class::<PyTokenQr>()?;
    m.add_class::<PyCheckInOutcome>()?;
    m.add_class::<PyScanMergeReport>()?;
    Ok(())
}
