//! Pickling of the token, ticket and check-in classes. Claims and ticket
//! settings pickle as calls of their constructors; the others as their
//! parts, rebuilt with the core's constructors and serde. Private keys
//! (`IssuerKey`, `IssuerKeySet`) refuse: a key leaves only through the
//! explicit `to_seed()`. `PublicKeySet` pickles as a call of its
//! constructor with its public keys; `Verifier` refuses: it is a scanner's
//! live verifier (keys and the revocation list in force).

use std::collections::BTreeSet;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyTuple, PyType};
use serde::{Deserialize, Serialize};

use reservo::booking::BookingStatus;
use reservo::checkin::{
    DoubleAdmission, EntryHours, MergeReport, Passage, Refusal, Scan, ScanId, ScanLog, ScanRecord,
    VenueRules,
};
use reservo::engine::{CheckInOutcome, IssuedTicket, ScanMergeReport};
use reservo::ids::{BookingId, ResourceId};
use reservo::token::qr::TokenQr;
use reservo::token::{KeyId, PublicKey, RevocationList, TokenId};

use super::{by_restore, restored, state_of};
use crate::checkin::{PyScanLog, PyVenueRules};
use crate::convert::{Instant, id};
use crate::errors::IntoPyResult;
use crate::tickets::{
    PyCheckInOutcome, PyIssuedTicket, PyScanMergeReport, PyTicketSettings, PyTokenQr,
};
use crate::tokens::{
    PyIssuerKey, PyIssuerKeySet, PyPublicKey, PyPublicKeySet, PyRevocationList, PyTicketClaims,
    PyVerifier, equal_locked, locked,
};

type Reduced<'py> = (Bound<'py, PyAny>, Bound<'py, PyTuple>);
type NewArgs<'py> = (Bound<'py, PyTuple>, Bound<'py, PyDict>);

/// `__getnewargs_ex__`'s answer: no positional arguments, these keywords.
fn keywords<'py>(py: Python<'py>, pairs: &[(&str, Bound<'py, PyAny>)]) -> PyResult<NewArgs<'py>> {
    let kwargs = PyDict::new(py);
    for (name, value) in pairs {
        kwargs.set_item(*name, value)?;
    }
    Ok((PyTuple::empty(py), kwargs))
}

/// The refusal of an object that must not, or cannot, be pickled.
fn refuse(class: &str, why: &str) -> PyErr {
    PyTypeError::new_err(format!("cannot pickle '{class}' object: {why}"))
}

#[pymethods]
impl PyTicketClaims {
    /// Pickles as a call of the constructor with every field.
    fn __getnewargs_ex__<'py>(slf: &Bound<'py, Self>) -> PyResult<NewArgs<'py>> {
        let py = slf.py();
        let get = |name: &str| slf.getattr(name);
        let mut pairs = Vec::new();
        for name in [
            "booking",
            "resource",
            "not_before",
            "expires",
            "token_id",
            "entries",
            "per_day",
            "reentry",
            "gates",
            "zones",
        ] {
            pairs.push((name, get(name)?));
        }
        keywords(py, &pairs)
    }
}

#[pymethods]
impl PyTicketSettings {
    /// Pickles as a call of the constructor with every field.
    fn __getnewargs_ex__<'py>(slf: &Bound<'py, Self>) -> PyResult<NewArgs<'py>> {
        let mut pairs = Vec::new();
        for name in [
            "session_opens_minutes_before",
            "session_closes_minutes_after",
            "stay_entry",
            "session_entry",
            "revoked_kept_days_after_expiry",
        ] {
            pairs.push((name, slf.getattr(name)?));
        }
        keywords(slf.py(), &pairs)
    }
}

#[pymethods]
impl PyPublicKey {
    /// Pickles as its key id and 32 bytes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let key = &slf.get().key;
        let bytes = PyBytes::new(slf.py(), &key.to_bytes());
        by_restore(slf.as_any(), (key.kid().to_string(), bytes))
    }

    /// The key a pickle holds (the arguments `__reduce__` gave).
    #[classmethod]
    fn _restore(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        kid: &str,
        key: [u8; 32],
    ) -> PyResult<Self> {
        let kid = kid.parse::<KeyId>().py(py)?;
        Ok(PyPublicKey {
            key: PublicKey::from_bytes(kid, key).py(py)?,
        })
    }
}

#[pymethods]
impl PyIssuedTicket {
    /// Pickles as its token id, text, claims and item.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let t = &slf.get().ticket;
        let claims = PyTicketClaims {
            claims: t.claims.clone(),
        };
        by_restore(
            slf.as_any(),
            (t.token_id.to_string(), t.text.clone(), claims, t.item),
        )
    }

    /// The ticket a pickle holds (the arguments `__reduce__` gave).
    #[classmethod]
    fn _restore(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        token_id: &str,
        text: String,
        claims: PyRef<'_, PyTicketClaims>,
        item: usize,
    ) -> PyResult<Self> {
        let ticket = IssuedTicket {
            token_id: token_id.parse::<TokenId>().py(py)?,
            text,
            claims: claims.claims.clone(),
            item,
        };
        Ok(ticket.into())
    }
}

#[pymethods]
impl PyTokenQr {
    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.text == other.text
    }

    fn __hash__(&self) -> u64 {
        crate::convert::hash_of(&self.text)
    }

    /// Pickles as the token text it encodes.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        by_restore(slf.as_any(), (slf.get().text.clone(),))
    }

    /// The symbol a pickle holds (the argument `__reduce__` gave).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, py: Python<'_>, text: String) -> PyResult<Self> {
        let qr = TokenQr::new(&text).py(py)?;
        Ok(PyTokenQr { text, qr })
    }
}

/// A check-in outcome but its claims (which pickle on their own).
#[derive(Serialize, Deserialize)]
struct OutcomeState {
    passage: Passage,
    booking: BookingId,
    status: BookingStatus,
    scan: Scan,
}

#[pymethods]
impl PyCheckInOutcome {
    /// Pickles as its claims and the rest in JSON form.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let o = &slf.get().outcome;
        let state = OutcomeState {
            passage: o.passage,
            booking: o.booking.clone(),
            status: o.status,
            scan: o.scan.clone(),
        };
        let claims = PyTicketClaims {
            claims: o.claims.clone(),
        };
        by_restore(slf.as_any(), (state_of(slf.py(), &state)?, claims))
    }

    /// The outcome a pickle holds (the arguments `__reduce__` gave).
    #[classmethod]
    fn _restore(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        state: &str,
        claims: PyRef<'_, PyTicketClaims>,
    ) -> PyResult<Self> {
        let s: OutcomeState = serde_state(py, state)?;
        let outcome = CheckInOutcome {
            passage: s.passage,
            booking: s.booking,
            status: s.status,
            claims: claims.claims.clone(),
            scan: s.scan,
        };
        Ok(outcome.into())
    }
}

/// A scan merge report in JSON form.
#[derive(Serialize, Deserialize)]
struct MergeReportState {
    added: usize,
    conflicts: Vec<ScanId>,
    double_admissions: Vec<(ScanRecord, Refusal)>,
    checked_in: Vec<BookingId>,
    unknown_tokens: Vec<TokenId>,
}

#[pymethods]
impl PyScanMergeReport {
    /// Pickles as the report's JSON form.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let r = &slf.get().report;
        let state = MergeReportState {
            added: r.merged.added,
            conflicts: r.merged.conflicts.clone(),
            double_admissions: r
                .double_admissions
                .iter()
                .map(|d| (d.record.clone(), d.refusal.clone()))
                .collect(),
            checked_in: r.checked_in.clone(),
            unknown_tokens: r.unknown_tokens.clone(),
        };
        by_restore(slf.as_any(), (state_of(slf.py(), &state)?,))
    }

    /// The report a pickle holds (the argument `__reduce__` gave).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, py: Python<'_>, state: &str) -> PyResult<Self> {
        let s: MergeReportState = serde_state(py, state)?;
        let report = ScanMergeReport {
            merged: MergeReport {
                added: s.added,
                conflicts: s.conflicts,
            },
            double_admissions: s
                .double_admissions
                .into_iter()
                .map(|(record, refusal)| DoubleAdmission { record, refusal })
                .collect(),
            checked_in: s.checked_in,
            unknown_tokens: s.unknown_tokens,
        };
        Ok(report.into())
    }
}

/// Venue rules in JSON form (the time zone by its IANA name).
#[derive(Serialize, Deserialize)]
struct RulesState {
    time_zone: String,
    resources: BTreeSet<ResourceId>,
    entry_hours: Option<EntryHours>,
    anti_passback: bool,
}

fn rules_state(rules: &VenueRules) -> RulesState {
    RulesState {
        time_zone: rules.time_zone.name().to_owned(),
        resources: rules.resources.clone(),
        entry_hours: rules.entry_hours,
        anti_passback: rules.anti_passback,
    }
}

#[pymethods]
impl PyVenueRules {
    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.rules == other.rules
    }

    fn __hash__(&self) -> u64 {
        crate::convert::hash_of(&rules_state(&self.rules))
    }

    /// Pickles as the rules' JSON form.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let state = state_of(slf.py(), &rules_state(&slf.get().rules))?;
        by_restore(slf.as_any(), (state,))
    }

    /// The rules a pickle holds (the argument `__reduce__` gave).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, py: Python<'_>, state: &str) -> PyResult<Self> {
        let s: RulesState = serde_state(py, state)?;
        let rules = VenueRules {
            time_zone: reservo::time::parse_time_zone(&s.time_zone).py(py)?,
            resources: s.resources,
            entry_hours: s.entry_hours,
            anti_passback: s.anti_passback,
        };
        Ok(PyVenueRules { rules })
    }
}

#[pymethods]
impl PyScanLog {
    /// Equal when they hold the same scan records (a log grows: it has
    /// no hash).
    fn __eq__(&self, other: PyRef<'_, Self>) -> PyResult<bool> {
        equal_locked(&self.log, &other.log)
    }

    /// Pickles as its scan records in JSON form.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let records: Vec<ScanRecord> = locked(&slf.get().log)?.records().cloned().collect();
        by_restore(slf.as_any(), (state_of(slf.py(), &records)?,))
    }

    /// The log a pickle holds (the argument `__reduce__` gave).
    #[classmethod]
    fn _restore(_cls: &Bound<'_, PyType>, py: Python<'_>, state: &str) -> PyResult<Self> {
        let records: Vec<ScanRecord> = serde_state(py, state)?;
        let mut log = ScanLog::new();
        for record in records {
            log.insert(record);
        }
        Ok(PyScanLog {
            log: std::sync::Mutex::new(log),
        })
    }
}

#[pymethods]
impl PyRevocationList {
    /// Equal when sequence, issue time and revocations are (a list
    /// changes: it has no hash).
    fn __eq__(&self, other: PyRef<'_, Self>) -> PyResult<bool> {
        equal_locked(&self.list, &other.list)
    }

    /// Pickles as its sequence, issue time and revoked token and booking ids.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let list = locked(&slf.get().list)?;
        let tokens: Vec<String> = list.tokens().iter().map(ToString::to_string).collect();
        let bookings: Vec<String> = list
            .bookings()
            .iter()
            .map(|b| b.as_str().to_owned())
            .collect();
        by_restore(
            slf.as_any(),
            (list.sequence(), list.issued_at(), tokens, bookings),
        )
    }

    /// The list a pickle holds (the arguments `__reduce__` gave).
    #[classmethod]
    fn _restore(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        sequence: u64,
        issued_at: Instant,
        tokens: Vec<String>,
        bookings: Vec<String>,
    ) -> PyResult<Self> {
        let mut list = RevocationList::new(sequence, issued_at.0).py(py)?;
        for token in tokens {
            list.revoke_token(token.parse::<TokenId>().py(py)?);
        }
        for booking in bookings {
            list.revoke_booking(id::<BookingId>(&booking)?);
        }
        Ok(PyRevocationList {
            list: std::sync::Mutex::new(list),
        })
    }
}

#[pymethods]
impl PyIssuerKey {
    /// Refuses: a private key leaves only through `to_seed()`.
    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse(
            "IssuerKey",
            "it is a private key; store to_seed() in a secret store and rebuild it with IssuerKey.from_seed()",
        ))
    }
}

#[pymethods]
impl PyIssuerKeySet {
    /// Refuses: it holds private keys.
    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse(
            "IssuerKeySet",
            "it holds private keys; load them from a secret store in each process",
        ))
    }
}

#[pymethods]
impl PyPublicKeySet {
    /// Pickles as a call of the constructor with its keys (each pickles
    /// as its key id and 32 bytes).
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<Reduced<'py>> {
        let keys: Vec<PyPublicKey> = slf
            .get()
            .keys
            .iter()
            .map(|key| PyPublicKey { key: key.clone() })
            .collect();
        Ok((slf.get_type().into_any(), (keys,).into_pyobject(slf.py())?))
    }
}

#[pymethods]
impl PyVerifier {
    /// Refuses: it is a scanner's verifying service, not a value.
    fn __reduce__(&self) -> PyResult<()> {
        Err(refuse(
            "Verifier",
            "it is a scanner's verifier (keys and the revocation list in force); build one in each process",
        ))
    }
}

/// A binding-side state struct read from pickle JSON.
fn serde_state<T: serde::de::DeserializeOwned>(py: Python<'_>, state: &str) -> PyResult<T> {
    struct Json<T>(T);
    impl<T: serde::de::DeserializeOwned> super::Restore for Json<T> {
        fn restore(json: &str) -> serde_json::Result<Self> {
            serde_json::from_str(json).map(Json)
        }
    }
    restored::<Json<T>>(py, state).map(|j| j.0)
}
