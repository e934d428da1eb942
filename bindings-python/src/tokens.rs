//! Entry tokens: keys and key sets, issuing, offline verification and
//! revocation lists (the check-in rules are in [`crate::checkin`]).
//!
//! Key sets, verifiers and revocation lists change over time (rotation,
//! new lists), so their classes hold the core value behind a lock; claims
//! and keys are frozen values. Must never expose a
//! private key except through the explicit `to_seed()`.

use std::collections::BTreeSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::num::NonZeroU32;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use reservo::ids::{BookingId, ResourceId};
use reservo::token::{
    Entries, EntryPolicy, GateId, IssuerKey, IssuerKeySet, KeyId, PublicKey, PublicKeySet,
    RevocationList, Scope, TicketClaims, TokenId, ValidityWindow, Verifier, ZoneId,
};

use crate::convert::{Count, Instant, id};
use crate::errors::IntoPyResult;

pub(crate) fn locked<T>(lock: &Mutex<T>) -> PyResult<std::sync::MutexGuard<'_, T>> {
    lock.lock()
        .map_err(|_| PyRuntimeError::new_err("a previous call panicked while holding this object"))
}

/// Whether two locked values are equal; one object compared with itself
/// is, without locking it twice.
pub(crate) fn equal_locked<T: PartialEq>(a: &Mutex<T>, b: &Mutex<T>) -> PyResult<bool> {
    Ok(std::ptr::eq(a, b) || *locked(a)? == *locked(b)?)
}

fn key_id(py: Python<'_>, text: &str) -> PyResult<KeyId> {
    text.parse::<KeyId>().py(py)
}

/// An entry policy: `entries=None` admits any number of times; limits
/// must be at least 1.
pub(crate) fn entry_policy(
    py: Python<'_>,
    entries: Option<u32>,
    per_day: Option<u32>,
    reentry: bool,
) -> PyResult<EntryPolicy> {
    let nonzero = |field: &str, n: u32| {
        NonZeroU32::new(n)
            .ok_or_else(|| reservo::Error::invalid(field, "must be at least 1, got 0"))
            .py(py)
    };
    Ok(EntryPolicy {
        entries: match entries {
            Some(n) => Entries::Limited(nonzero("entries", n)?),
            None => Entries::Unlimited,
        },
        per_day: per_day.map(|n| nonzero("per_day", n)).transpose()?,
        reentry,
    })
}

/// Gate and zone names as a core [`Scope`] (empty: everywhere).
pub(crate) fn scope(py: Python<'_>, gates: &[String], zones: &[String]) -> PyResult<Scope> {
    Ok(Scope {
        gates: gates
            .iter()
            .map(|g| GateId::new(g.as_str()).py(py))
            .collect::<PyResult<BTreeSet<_>>>()?,
        zones: zones
            .iter()
            .map(|z| ZoneId::new(z.as_str()).py(py))
            .collect::<PyResult<BTreeSet<_>>>()?,
    })
}

/// A private Ed25519 signing key with its key id (`kid`).
#[pyclass(frozen, module = "reservo._reservo", name = "IssuerKey")]
pub struct PyIssuerKey {
    key: IssuerKey,
}

#[pymethods]
impl PyIssuerKey {
    /// A new key from the operating system's secure random source.
    #[staticmethod]
    fn generate(py: Python<'_>, kid: &str) -> PyResult<Self> {
        Ok(PyIssuerKey {
            key: IssuerKey::generate(key_id(py, kid)?).py(py)?,
        })
    }

    /// The key with this raw 32-byte Ed25519 seed.
    #[staticmethod]
    fn from_seed(py: Python<'_>, kid: &str, seed: [u8; 32]) -> PyResult<Self> {
        Ok(PyIssuerKey {
            key: IssuerKey::from_seed(key_id(py, kid)?, seed),
        })
    }

    /// The raw seed: the secret. Store it like a password.
    fn to_seed<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.key.to_seed())
    }

    /// The key id.
    #[getter]
    fn kid(&self) -> String {
        self.key.kid().to_string()
    }

    /// The public half, for scanners.
    fn public_key(&self) -> PyPublicKey {
        PyPublicKey {
            key: self.key.public_key(),
        }
    }

    fn __repr__(&self) -> String {
        format!("IssuerKey(kid={:?})", self.kid())
    }
}

/// A public Ed25519 key with its key id: all a scanner needs.
#[pyclass(frozen, module = "reservo._reservo", name = "PublicKey")]
#[derive(Clone)]
pub struct PyPublicKey {
    pub(crate) key: PublicKey,
}

#[pymethods]
impl PyPublicKey {
    /// A public key from its 32 raw bytes.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, kid: &str, key: [u8; 32]) -> PyResult<Self> {
        Ok(PyPublicKey {
            key: PublicKey::from_bytes(key_id(py, kid)?, key).py(py)?,
        })
    }

    /// The 32 raw bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.key.to_bytes())
    }

    /// The key id.
    #[getter]
    fn kid(&self) -> String {
        self.key.kid().to_string()
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.key == other.key
    }

    fn __hash__(&self) -> u64 {
        crate::convert::hash_of(&(self.kid(), self.key.to_bytes()))
    }

    fn __repr__(&self) -> String {
        format!("PublicKey(kid={:?})", self.kid())
    }
}

/// The issuer's keys: one current signing key and older ones kept while
/// their tokens are still out. Rotate with `rotate_to`.
#[pyclass(frozen, module = "reservo._reservo", name = "IssuerKeySet")]
pub struct PyIssuerKeySet {
    pub(crate) keys: Mutex<IssuerKeySet>,
}

#[pymethods]
impl PyIssuerKeySet {
    #[new]
    fn new(current: PyRef<'_, PyIssuerKey>) -> Self {
        PyIssuerKeySet {
            keys: Mutex::new(IssuerKeySet::new(current.key.clone())),
        }
    }

    /// Makes `next` the signing key, keeping the previous one for verifying.
    fn rotate_to(&self, py: Python<'_>, next: PyRef<'_, PyIssuerKey>) -> PyResult<()> {
        locked(&self.keys)?.rotate_to(next.key.clone()).py(py)
    }

    /// Drops an old key (not the current one); its tokens stop verifying.
    fn remove(&self, py: Python<'_>, kid: &str) -> PyResult<PyIssuerKey> {
        let kid = key_id(py, kid)?;
        Ok(PyIssuerKey {
            key: locked(&self.keys)?.remove(&kid).py(py)?,
        })
    }

    /// The current signing key's id.
    #[getter]
    fn current_kid(&self) -> PyResult<String> {
        Ok(locked(&self.keys)?.current().kid().to_string())
    }

    /// Signs the claims with the current key: the token text (`RV1:...`).
    fn issue(&self, claims: PyRef<'_, PyTicketClaims>) -> PyResult<String> {
        Ok(locked(&self.keys)?.issue(&claims.claims))
    }

    /// The public keys of every key in the set, for scanners.
    fn public_keys(&self) -> PyResult<PyPublicKeySet> {
        Ok(PyPublicKeySet {
            keys: locked(&self.keys)?.public_keys(),
        })
    }

    /// Signs a revocation list for scanners.
    fn sign_revocations<'py>(
        &self,
        py: Python<'py>,
        list: PyRef<'_, PyRevocationList>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let keys = locked(&self.keys)?;
        Ok(PyBytes::new(py, &locked(&list.list)?.sign(&keys)))
    }

    fn __repr__(&self) -> PyResult<String> {
        Ok(format!(
            "IssuerKeySet(current_kid={:?})",
            self.current_kid()?
        ))
    }
}

/// Public keys a verifier trusts.
#[pyclass(frozen, module = "reservo._reservo", name = "PublicKeySet")]
#[derive(Clone)]
pub struct PyPublicKeySet {
    pub(crate) keys: PublicKeySet,
}

#[pymethods]
impl PyPublicKeySet {
    #[new]
    fn new(py: Python<'_>, keys: Vec<PyRef<'_, PyPublicKey>>) -> PyResult<Self> {
        let mut set = PublicKeySet::new();
        for key in keys {
            set.insert(key.key.clone()).py(py)?;
        }
        Ok(PyPublicKeySet { keys: set })
    }

    fn __len__(&self) -> usize {
        self.keys.len()
    }

    /// Equal when they hold the same keys under the same key ids.
    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.keys == other.keys
    }

    fn __hash__(&self) -> u64 {
        let keys: Vec<_> = self
            .keys
            .iter()
            .map(|key| (key.kid().to_string(), key.to_bytes()))
            .collect();
        crate::convert::hash_of(&keys)
    }

    fn __repr__(&self) -> String {
        format!("PublicKeySet({} keys)", self.keys.len())
    }
}

/// What an entry token asserts: token id, booking, resource, validity
/// window, entry allowance and gate/zone scope. No personal data.
#[pyclass(frozen, module = "reservo._reservo", name = "TicketClaims")]
#[derive(Clone)]
pub struct PyTicketClaims {
    pub(crate) claims: TicketClaims,
}

#[pymethods]
impl PyTicketClaims {
    /// `entries=None` admits any number of times (a `per_day` limit may
    /// still apply); `token_id` is hex, random if not given; empty `gates`
    /// or `zones` admit everywhere.
    #[new]
    #[pyo3(signature = (*, booking, resource, not_before, expires, token_id=None, entries=Some(1), per_day=None, reentry=false, gates=Vec::new(), zones=Vec::new()))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        booking: &str,
        resource: &str,
        not_before: Instant,
        expires: Instant,
        token_id: Option<&str>,
        entries: Option<u32>,
        per_day: Option<u32>,
        reentry: bool,
        gates: Vec<String>,
        zones: Vec<String>,
    ) -> PyResult<Self> {
        let token_id = match token_id {
            Some(hex) => hex.parse::<TokenId>().py(py)?,
            None => TokenId::random().py(py)?,
        };
        let claims = TicketClaims {
            token_id,
            booking: id::<BookingId>(booking)?,
            resource: id::<ResourceId>(resource)?,
            validity: ValidityWindow::new(not_before.0, expires.0).py(py)?,
            entry: entry_policy(py, entries, per_day, reentry)?,
            scope: scope(py, &gates, &zones)?,
        };
        Ok(PyTicketClaims { claims })
    }

    /// The token id, as hex.
    #[getter]
    fn token_id(&self) -> String {
        self.claims.token_id.to_string()
    }

    /// The booking it admits for.
    #[getter]
    fn booking(&self) -> &str {
        self.claims.booking.as_str()
    }

    /// The resource it is for.
    #[getter]
    fn resource(&self) -> &str {
        self.claims.resource.as_str()
    }

    /// Start of validity.
    #[getter]
    fn not_before(&self) -> DateTime<Utc> {
        self.claims.validity.not_before()
    }

    /// End of validity (exclusive).
    #[getter]
    fn expires(&self) -> DateTime<Utc> {
        self.claims.validity.expires()
    }

    /// Total entries, or `None` for unlimited.
    #[getter]
    fn entries(&self) -> Option<u32> {
        match self.claims.entry.entries {
            Entries::Limited(n) => Some(n.get()),
            Entries::Unlimited => None,
        }
    }

    /// Most entries per venue day, if limited.
    #[getter]
    fn per_day(&self) -> Option<u32> {
        self.claims.entry.per_day.map(NonZeroU32::get)
    }

    /// Whether re-entry after an exit is free.
    #[getter]
    fn reentry(&self) -> bool {
        self.claims.entry.reentry
    }

    /// Gates it admits at (empty: all).
    #[getter]
    fn gates(&self) -> Vec<String> {
        self.claims
            .scope
            .gates
            .iter()
            .map(|g| g.as_str().to_owned())
            .collect()
    }

    /// Zones it admits into (empty: all).
    #[getter]
    fn zones(&self) -> Vec<String> {
        self.claims
            .scope
            .zones
            .iter()
            .map(|z| z.as_str().to_owned())
            .collect()
    }

    fn __eq__(&self, other: PyRef<'_, Self>) -> bool {
        self.claims == other.claims
    }

    fn __hash__(&self) -> u64 {
        let mut hasher = DefaultHasher::new();
        self.claims.hash(&mut hasher);
        hasher.finish()
    }

    fn __repr__(&self) -> String {
        format!(
            "TicketClaims(token_id={:?}, booking={:?}, resource={:?}, expires={})",
            self.token_id(),
            self.booking(),
            self.resource(),
            self.expires().to_rfc3339()
        )
    }
}

/// Verifies tokens offline with public keys, a time and the last
/// revocation list applied.
#[pyclass(frozen, module = "reservo._reservo", name = "Verifier")]
pub struct PyVerifier {
    verifier: Mutex<Verifier>,
}

#[pymethods]
impl PyVerifier {
    #[new]
    #[pyo3(signature = (keys, *, leeway=None))]
    fn new(
        py: Python<'_>,
        keys: PyRef<'_, PyPublicKeySet>,
        leeway: Option<chrono::Duration>,
    ) -> PyResult<Self> {
        let mut verifier = Verifier::new(keys.keys.clone());
        if let Some(leeway) = leeway {
            verifier = verifier.with_leeway(leeway).py(py)?;
        }
        Ok(PyVerifier {
            verifier: Mutex::new(verifier),
        })
    }

    /// The claims of `token` if it verifies at `at`; raises `TokenMalformed`,
    /// `TokenUnknownKey`, `TokenBadSignature`, `TokenNotYetValid`,
    /// `TokenExpired` or `TokenRevoked`.
    fn verify(&self, py: Python<'_>, token: &str, at: Instant) -> PyResult<PyTicketClaims> {
        let claims = locked(&self.verifier)?.verify_at(token, at.0).py(py)?;
        Ok(PyTicketClaims { claims })
    }

    /// Verifies a signed revocation list and puts it in force; refuses one
    /// that is not newer than the list held. Returns its sequence.
    fn apply_revocations(&self, py: Python<'_>, signed: &[u8]) -> PyResult<u64> {
        let mut verifier = locked(&self.verifier)?;
        Ok(verifier.apply_revocations(signed).py(py)?.sequence())
    }

    fn __repr__(&self) -> &'static str {
        "Verifier(...)"
    }
}

/// Tokens and bookings that gates must refuse, numbered by `sequence`.
/// `RevocationList(sequence, issued_at)` raises `InvalidInput` for an
/// issue time before 1970, which the signed form cannot carry.
#[pyclass(frozen, module = "reservo._reservo", name = "RevocationList")]
pub struct PyRevocationList {
    pub(crate) list: Mutex<RevocationList>,
}

#[pymethods]
impl PyRevocationList {
    #[new]
    fn new(py: Python<'_>, sequence: Count<u64>, issued_at: Instant) -> PyResult<Self> {
        Ok(PyRevocationList {
            list: Mutex::new(RevocationList::new(sequence.0, issued_at.0).py(py)?),
        })
    }

    /// Revokes one token, by its hex id.
    fn revoke_token(&self, py: Python<'_>, token_id: &str) -> PyResult<()> {
        let token = token_id.parse::<TokenId>().py(py)?;
        locked(&self.list)?.revoke_token(token);
        Ok(())
    }

    /// Revokes every token of a booking.
    fn revoke_booking(&self, booking: &str) -> PyResult<()> {
        let booking = id::<BookingId>(booking)?;
        locked(&self.list)?.revoke_booking(booking);
        Ok(())
    }

    /// Verifies signed list bytes (from `Engine.revocation_list()` or
    /// `IssuerKeySet.sign_revocations`) with `keys` and decodes them, to
    /// see what a scanner would hold. Raises `TokenMalformed`,
    /// `TokenUnknownKey` or `TokenBadSignature`.
    #[staticmethod]
    fn open(py: Python<'_>, signed: &[u8], keys: PyRef<'_, PyPublicKeySet>) -> PyResult<Self> {
        let list = RevocationList::open(signed, &keys.keys).py(py)?;
        Ok(PyRevocationList {
            list: Mutex::new(list),
        })
    }

    /// The list's sequence number.
    #[getter]
    fn sequence(&self) -> PyResult<u64> {
        Ok(locked(&self.list)?.sequence())
    }

    /// When the list was issued (whole seconds).
    #[getter]
    fn issued_at(&self) -> PyResult<DateTime<Utc>> {
        Ok(locked(&self.list)?.issued_at())
    }

    /// The revoked token ids (hex), sorted.
    #[getter]
    fn token_ids(&self) -> PyResult<Vec<String>> {
        Ok(locked(&self.list)?
            .tokens()
            .iter()
            .map(ToString::to_string)
            .collect())
    }

    /// The bookings (ticket references) all of whose tokens are revoked,
    /// sorted.
    #[getter]
    fn booking_ids(&self) -> PyResult<Vec<String>> {
        Ok(locked(&self.list)?
            .bookings()
            .iter()
            .map(|b| b.as_str().to_owned())
            .collect())
    }

    fn __repr__(&self) -> PyResult<String> {
        let list = locked(&self.list)?;
        Ok(format!(
            "RevocationList(sequence={}, tokens={}, bookings={})",
            list.sequence(),
            list.tokens().len(),
            list.bookings().len()
        ))
    }
}

/// Registers the token classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyIssuerKey>()?;
    m.add_class::<PyPublicKey>()?;
    m.add_class::<PyIssuerKeySet>()?;
    m.add_class::<PyPublicKeySet>()?;
    m.add_class::<PyTicketClaims>()?;
    m.add_class::<PyVerifier>()?;
    m.add_class::<PyRevocationList>()?;
    Ok(())
}
