//! The engine's tickets: a booking's tickets, revocation and re-issue, the
//! signed revocation list and public keys for offline scanners, check-in
//! at a gate, offline scans merged, and each venue's check-in set-up.
//! Each I/O operation returns a [`Pending`] call, as in [`super`].

use std::collections::BTreeMap;

use pyo3::prelude::*;

use reservo::checkin::{EntryHours, ScanId};
use reservo::engine::{CheckInRequest, ReissueRequest, VenueCheckIn};
use reservo::ids::{BookingId, PropertyId, ResourceId};
use reservo::token::{GateId, Scope, ZoneId};

use super::PyEngine;
use crate::checkin::{PyScanLog, PyVenueRules, direction_of};
use crate::convert::{Civil, from_data, id};
use crate::errors::IntoPyResult;
use crate::runtime::Pending;
use crate::tickets::{PyCheckInOutcome, PyIssuedTicket, PyScanMergeReport};
use crate::tokens::{PyPublicKeySet, locked, scope};
use crate::values::wrap_all;

#[pymethods]
impl PyEngine {
    fn tickets(&self, booking: &str) -> PyResult<Pending> {
        let booking = id::<BookingId>(booking)?;
        Ok(self
            .call(|e| async move { e.tickets(&booking).await.map(wrap_all::<_, PyIssuedTicket>) }))
    }

    fn booking_by_ticket_ref(&self, ticket_ref: &str) -> PyResult<Pending> {
        let ticket_ref = id::<BookingId>(ticket_ref)?;
        Ok(self.call(|e| async move {
            e.booking_by_ticket_ref(&ticket_ref)
                .await
                .map(|b| b.as_str().to_owned())
        }))
    }

    fn revoke_booking_tickets(&self, booking: &str) -> PyResult<Pending> {
        let booking = id::<BookingId>(booking)?;
        Ok(self.call(|e| async move {
            e.revoke_booking_tickets(&booking)
                .await
                .map(|tokens| tokens.iter().map(ToString::to_string).collect::<Vec<_>>())
        }))
    }

    #[pyo3(signature = (booking, *, idempotency_key))]
    fn reissue_booking_tickets(&self, booking: &str, idempotency_key: String) -> PyResult<Pending> {
        let request = ReissueRequest {
            idempotency_key,
            booking: id::<BookingId>(booking)?,
        };
        Ok(self.call(|e| async move {
            e.reissue_booking_tickets(&request)
                .await
                .map(wrap_all::<_, PyIssuedTicket>)
        }))
    }

    fn revocation_list(&self) -> Pending {
        self.call(|e| async move { e.revocation_list().await })
    }

    fn ticket_public_keys(&self, py: Python<'_>) -> PyResult<PyPublicKeySet> {
        Ok(PyPublicKeySet {
            keys: self.engine.ticket_public_keys().py(py)?,
        })
    }

    #[pyo3(signature = (token, *, gate, zone=None, direction="in", scan_id=None))]
    fn check_in(
        &self,
        py: Python<'_>,
        token: String,
        gate: &str,
        zone: Option<&str>,
        direction: &str,
        scan_id: Option<&str>,
    ) -> PyResult<Pending> {
        let request = CheckInRequest {
            token,
            gate: GateId::new(gate).py(py)?,
            zone: zone.map(ZoneId::new).transpose().py(py)?,
            direction: direction_of(py, direction)?,
            scan_id: match scan_id {
                Some(s) => ScanId::new(s).py(py)?,
                None => ScanId::generate(),
            },
        };
        Ok(self.call(|e| async move { e.check_in(&request).await.map(PyCheckInOutcome::from) }))
    }

    fn merge_offline_scans(&self, log: PyRef<'_, PyScanLog>) -> PyResult<Pending> {
        let log = locked(&log.log)?.clone();
        Ok(self.call(|e| async move {
            e.merge_offline_scans(&log)
                .await
                .map(PyScanMergeReport::from)
        }))
    }

    #[pyo3(signature = (property, *, entry_hours=None, anti_passback=false, gates=Vec::new(), zones=Vec::new(), resources=None))]
    #[allow(clippy::too_many_arguments)]
    fn set_venue_check_in(
        &self,
        py: Python<'_>,
        property: &str,
        entry_hours: Option<(Civil, Civil)>,
        anti_passback: bool,
        gates: Vec<String>,
        zones: Vec<String>,
        resources: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Pending> {
        let property = id::<PropertyId>(property)?;
        let resources: BTreeMap<ResourceId, Scope> = match resources {
            Some(data) => from_data(data, "resources")?,
            None => BTreeMap::new(),
        };
        let venue = VenueCheckIn {
            entry_hours: entry_hours
                .map(|(opens, closes)| EntryHours::new(opens.0, closes.0))
                .transpose()
                .py(py)?,
            anti_passback,
            scope: scope(py, &gates, &zones)?,
            resources,
        };
        Ok(self.call(|e| async move { e.set_venue_check_in(&property, venue).await }))
    }

    fn venue_rules(&self, property: &str) -> PyResult<Pending> {
        let property = id::<PropertyId>(property)?;
        Ok(self.call(|e| async move {
            e.venue_rules(&property)
                .await
                .map(|rules| PyVenueRules { rules })
        }))
    }
}
