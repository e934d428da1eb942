//! Bookings: who booked, and where the booking is in its life.
//!
//! Owns the customer's contact details, the host's own metadata on a
//! booking, and the status lifecycle with its legal transitions. Must never
//! touch inventory or money: the engine moves those in the same commit as
//! the status, and refuses the transition first if this module says it is
//! illegal.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The person a booking is for, and how to reach them.
///
/// ```
/// use reservo::booking::Customer;
/// let ana = Customer::new("Ana Lima", "+351912345678", Some("ana@example.com")).unwrap();
/// assert_eq!(ana.phone, "+351912345678");
/// assert_eq!(Customer::new("Ana", "912345678", None).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Customer {
    /// Full name, for people.
    pub name: String,
    /// Mobile number in E.164 form (`+` and 8-15 digits).
    pub phone: String,
    /// Email address, if given.
    #[serde(default)]
    pub email: Option<String>,
}

impl Customer {
    /// A customer with a validated name, phone and email.
    pub fn new(name: &str, phone: &str, email: Option<&str>) -> Result<Customer> {
        let customer = Customer {
            name: name.trim().to_owned(),
            phone: phone.trim().to_owned(),
            email: email.map(|e| e.trim().to_owned()),
        };
        customer.validate()?;
        Ok(customer)
    }

    /// Checks the rules a stored customer must satisfy.
    pub fn validate(&self) -> Result<()> {
        crate::ids::validate_name("customer.name", &self.name)?;
        validate_e164(&self.phone)?;
        if let Some(email) = &self.email {
            let ok = email.len() <= 254
                && email.split_once('@').is_some_and(|(local, domain)| {
                    // One `@`, and a domain of two or more non-empty labels.
                    !local.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && domain.split('.').all(|label| !label.is_empty())
                })
                && !email.chars().any(char::is_whitespace);
            if !ok {
                return Err(Error::invalid(
                    "customer.email",
                    format!("{email:?} is not an email address"),
                ));
            }
        }
        Ok(())
    }
}

/// Checks a phone number is in E.164 form: `+` then 8 to 15 digits, the
/// first not zero.
pub fn validate_e164(phone: &str) -> Result<()> {
    let digits = phone.strip_prefix('+').unwrap_or("");
    let ok = (8..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "phone",
            format!(
                "{phone:?} is not an E.164 number: expected '+', a country code and \
                 number, 8 to 15 digits in all, no spaces (like +14155550100)"
            ),
        ))
    }
}

/// The host's own data on a booking — its order id, a channel's
/// reference, a note for the front desk — kept with the booking so the
/// host needs no table of its own to map bookings to its records.
///
/// At most [`Metadata::MAX_ENTRIES`] entries; keys of 1 to
/// [`Metadata::MAX_KEY_LEN`] ASCII letters, digits, `_` or `-` (so every
/// key can be named in an SMS template: `{metadata.order_id}`);
/// values of up to [`Metadata::MAX_VALUE_CHARS`] characters, without
/// control characters other than newlines and tabs. Reservo never reads
/// it: it is stored with the booking, returned with it, and copied into
/// the payload of `booking.*` events (as `metadata`, left out when empty).
///
/// ```
/// use reservo::booking::Metadata;
/// let mut meta = Metadata::from_pairs([("order_id", "A-1042")]).unwrap();
/// meta.insert("desk_note", "late arrival, keys in the box").unwrap();
/// assert_eq!(meta.get("order_id"), Some("A-1042"));
/// assert_eq!(meta.len(), 2);
/// let bad = meta.insert("order id", "spaces are not allowed in keys").unwrap_err();
/// assert_eq!(bad.code(), "INVALID_INPUT");
/// assert_eq!(meta.len(), 2); // a refused insert changes nothing
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Metadata(BTreeMap<String, String>);

impl Metadata {
    /// The most entries a booking's metadata may have.
    pub const MAX_ENTRIES: usize = 50;
    /// The longest key, in bytes (keys are ASCII).
    pub const MAX_KEY_LEN: usize = 40;
    /// The longest value, in characters.
    pub const MAX_VALUE_CHARS: usize = 500;

    /// No entries.
    pub fn new() -> Metadata {
        Metadata::default()
    }

    /// Metadata with `pairs`, each checked; a key given twice keeps its
    /// last value.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the first bad key or value, or the
    /// count if there are more than [`Metadata::MAX_ENTRIES`] keys.
    pub fn from_pairs<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Metadata>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let metadata = Metadata(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        );
        metadata.validate()?;
        Ok(metadata)
    }

    /// Sets `key` to `value`, returning the value it replaces.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] for a bad key or value, or a new key beyond
    /// [`Metadata::MAX_ENTRIES`]; nothing is changed then.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Option<String>> {
        let (key, value) = (key.into(), value.into());
        check_key(&key)?;
        check_value(&key, &value)?;
        if !self.0.contains_key(&key) && self.0.len() == Metadata::MAX_ENTRIES {
            return Err(too_many(self.0.len() + 1));
        }
        Ok(self.0.insert(key, value))
    }

    /// Removes `key`, returning its value if it had one.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.0.remove(key)
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The entries, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many entries there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These entries with `over`'s added on top (a key in both keeps
    /// `over`'s value): a hold's metadata under its confirmation's.
    ///
    /// Errors: `INVALID_INPUT` if together they have more than
    /// [`Metadata::MAX_ENTRIES`] keys.
    pub(crate) fn overlaid(&self, over: &Metadata) -> Result<Metadata> {
        let mut merged = self.0.clone();
        merged.extend(over.iter().map(|(k, v)| (k.to_owned(), v.to_owned())));
        if merged.len() > Metadata::MAX_ENTRIES {
            return Err(Error::invalid(
                "metadata",
                format!(
                    "the hold's {} entries and the confirmation's {} make {}, more than \
                     the {} allowed",
                    self.len(),
                    over.len(),
                    merged.len(),
                    Metadata::MAX_ENTRIES
                ),
            ));
        }
        Ok(Metadata(merged))
    }

    /// `None` when empty: what records and event payloads serialize, so
    /// that those without metadata keep the bytes they had before it.
    pub(crate) fn if_any(&self) -> Option<&Metadata> {
        (!self.is_empty()).then_some(self)
    }

    /// Checks the rules above, for metadata built by deserializing.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] naming the first bad key or value.
    pub fn validate(&self) -> Result<()> {
        if self.0.len() > Metadata::MAX_ENTRIES {
            return Err(too_many(self.0.len()));
        }
        for (key, value) in &self.0 {
            check_key(key)?;
            check_value(key, value)?;
        }
        Ok(())
    }
}

fn too_many(count: usize) -> Error {
    Error::invalid(
        "metadata",
        format!(
            "{count} entries is more than the {} allowed",
            Metadata::MAX_ENTRIES
        ),
    )
}

fn check_key(key: &str) -> Result<()> {
    let ok = !key.is_empty()
        && key.len() <= Metadata::MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "metadata",
            format!(
                "key {key:?} must be 1-{} ASCII letters, digits, '_' or '-'",
                Metadata::MAX_KEY_LEN
            ),
        ))
    }
}

fn check_value(key: &str, value: &str) -> Result<()> {
    let chars = value.chars().count();
    if chars > Metadata::MAX_VALUE_CHARS {
        return Err(Error::invalid(
            "metadata",
            format!(
                "the value of {key:?} has {chars} characters, more than the {} allowed",
                Metadata::MAX_VALUE_CHARS
            ),
        ));
    }
    if let Some(c) = value
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\n' | '\t'))
    {
        return Err(Error::invalid(
            "metadata",
            format!("the value of {key:?} contains the control character {c:?}"),
        ));
    }
    Ok(())
}

impl TryFrom<BTreeMap<String, String>> for Metadata {
    type Error = Error;
    fn try_from(entries: BTreeMap<String, String>) -> Result<Metadata> {
        let metadata = Metadata(entries);
        metadata.validate()?;
        Ok(metadata)
    }
}

/// Where a booking is in its life.
///
/// ```text
/// pending_payment ──► confirmed ──► checked_in ──► completed
///        │               │  │
///        ▼               ▼  ▼
///    cancelled ◄─────────┘  no_show
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    /// Inventory is taken; a payment is still due.
    PendingPayment,
    /// Paid (or not requiring payment) and guaranteed.
    Confirmed,
    /// The guest has arrived.
    CheckedIn,
    /// The stay or session is over.
    Completed,
    /// Cancelled before it began; inventory released.
    Cancelled,
    /// The guest never came; treated as a late cancellation.
    NoShow,
}

impl BookingStatus {
    /// Every status.
    pub const ALL: [BookingStatus; 6] = [
        BookingStatus::PendingPayment,
        BookingStatus::Confirmed,
        BookingStatus::CheckedIn,
        BookingStatus::Completed,
        BookingStatus::Cancelled,
        BookingStatus::NoShow,
    ];

    /// The stable name (`pending_payment`, `confirmed`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::PendingPayment => "pending_payment",
            BookingStatus::Confirmed => "confirmed",
            BookingStatus::CheckedIn => "checked_in",
            BookingStatus::Completed => "completed",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::NoShow => "no_show",
        }
    }

    /// Whether the booking still holds inventory in this status.
    pub fn holds_inventory(self) -> bool {
        matches!(
            self,
            BookingStatus::PendingPayment | BookingStatus::Confirmed | BookingStatus::CheckedIn
        )
    }

    /// Whether moving from `self` to `to` is allowed.
    pub fn can_become(self, to: BookingStatus) -> bool {
        use BookingStatus::*;
        matches!(
            (self, to),
            (PendingPayment, Confirmed)
                | (PendingPayment, Cancelled)
                | (Confirmed, CheckedIn)
                | (Confirmed, Cancelled)
                | (Confirmed, NoShow)
                | (CheckedIn, Completed)
        )
    }

    /// `to` if the transition is legal, else [`Error::IllegalTransition`]
    /// naming the booking and both statuses.
    ///
    /// ```
    /// use reservo::booking::BookingStatus;
    /// let s = BookingStatus::Confirmed.transition("bk-1", BookingStatus::CheckedIn).unwrap();
    /// let err = s.transition("bk-1", BookingStatus::Cancelled).unwrap_err();
    /// assert_eq!(err.code(), "ILLEGAL_TRANSITION");
    /// ```
    pub fn transition(self, booking: &str, to: BookingStatus) -> Result<BookingStatus> {
        if self.can_become(to) {
            Ok(to)
        } else {
            Err(Error::IllegalTransition {
                booking: booking.to_owned(),
                from: self.as_str().to_owned(),
                to: to.as_str().to_owned(),
            })
        }
    }
}

impl fmt::Display for BookingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_drawn_transitions_are_legal() {
        use BookingStatus::*;
        let legal = [
            (PendingPayment, Confirmed),
            (PendingPayment, Cancelled),
            (Confirmed, CheckedIn),
            (Confirmed, Cancelled),
            (Confirmed, NoShow),
            (CheckedIn, Completed),
        ];
        for from in BookingStatus::ALL {
            for to in BookingStatus::ALL {
                let expected = legal.contains(&(from, to));
                assert_eq!(from.can_become(to), expected, "{from} -> {to}");
                let result = from.transition("b", to);
                assert_eq!(result.is_ok(), expected);
                if let Err(err) = result {
                    assert_eq!(err.code(), "ILLEGAL_TRANSITION");
                    assert!(err.to_string().contains(from.as_str()));
                }
            }
        }
    }

    #[test]
    fn statuses_display_as_their_wire_names() {
        use BookingStatus::*;
        for (status, name) in [
            (PendingPayment, "pending_payment"),
            (Confirmed, "confirmed"),
            (CheckedIn, "checked_in"),
            (Completed, "completed"),
            (Cancelled, "cancelled"),
            (NoShow, "no_show"),
        ] {
            assert_eq!(status.to_string(), name);
            assert_eq!(serde_json::to_string(&status).unwrap(), format!("{name:?}"));
        }
    }

    #[test]
    fn terminal_statuses_release_inventory() {
        assert!(BookingStatus::Confirmed.holds_inventory());
        assert!(!BookingStatus::Cancelled.holds_inventory());
        assert!(!BookingStatus::Completed.holds_inventory());
        assert!(!BookingStatus::NoShow.holds_inventory());
    }

    #[test]
    fn phones_must_be_e164() {
        assert!(validate_e164("+14155550100").is_ok());
        for bad in ["14155550100", "+0123456789", "+1234", "+1415555010x", ""] {
            assert_eq!(
                validate_e164(bad).unwrap_err().code(),
                "INVALID_INPUT",
                "{bad}"
            );
        }
    }

    #[test]
    fn customers_need_a_name_and_a_real_email() {
        assert!(Customer::new("", "+14155550100", None).is_err());
        assert!(Customer::new("Jo", "+14155550100", Some("jo@localhost")).is_err());
        assert!(Customer::new("Jo", "+14155550100", Some("jo@example.org")).is_ok());
    }
}

#[cfg(test)]
mod metadata_tests {
    use super::Metadata;

    #[test]
    fn keys_values_and_counts_at_their_limits_pass_and_one_past_them_fails() {
        let key = "k".repeat(Metadata::MAX_KEY_LEN);
        let value = "é".repeat(Metadata::MAX_VALUE_CHARS);
        let mut meta = Metadata::from_pairs([(key.as_str(), value.as_str())]).unwrap();
        for (key, value) in [
            (format!("{key}k"), "v".to_owned()),
            ("ok".to_owned(), format!("{value}é")),
            (String::new(), "v".to_owned()),
            ("a b".to_owned(), "v".to_owned()),
            ("ação".to_owned(), "v".to_owned()),
            ("order.id".to_owned(), "v".to_owned()),
            ("ok".to_owned(), "bell\u{7}".to_owned()),
        ] {
            let err = meta.insert(key.clone(), value).unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT", "{key:?}");
            assert_eq!(meta.len(), 1, "a refused insert changed nothing");
        }
        meta.insert("note", "line one\nline\ttwo").unwrap();
        for i in meta.len()..Metadata::MAX_ENTRIES {
            meta.insert(format!("k{i}"), "v").unwrap();
        }
        assert_eq!(meta.len(), Metadata::MAX_ENTRIES);
        let err = meta.insert("one_more", "v").unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("51 entries"), "{err}");
        assert_eq!(meta.get("one_more"), None);
        // Replacing a value at the limit is fine.
        assert_eq!(
            meta.insert("note", "x").unwrap().as_deref(),
            Some("line one\nline\ttwo")
        );
        assert_eq!(meta.remove("note").as_deref(), Some("x"));
        assert_eq!(meta.get("note"), None);
    }

    #[test]
    fn deserialized_metadata_is_checked_by_validate() {
        let meta: Metadata = serde_json::from_str(r#"{"order id":"A-1"}"#).unwrap();
        assert_eq!(meta.validate().unwrap_err().code(), "INVALID_INPUT");
        let entries = |n: usize| (0..n).map(|i| (format!("k{i}"), "v".to_owned()));
        let most = Metadata::from_pairs(entries(Metadata::MAX_ENTRIES)).unwrap();
        assert_eq!(most.len(), Metadata::MAX_ENTRIES);
        let err = Metadata::from_pairs(entries(Metadata::MAX_ENTRIES + 1)).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("51 entries"), "{err}");
        // A map converts with the same checks.
        let map: std::collections::BTreeMap<_, _> = entries(2).collect();
        let converted = Metadata::try_from(map).unwrap();
        assert_eq!(
            converted.iter().collect::<Vec<_>>(),
            [("k0", "v"), ("k1", "v")]
        );
        let bad = std::collections::BTreeMap::from([("order id".to_owned(), "A-1".to_owned())]);
        assert_eq!(Metadata::try_from(bad).unwrap_err().code(), "INVALID_INPUT");
        let ok: Metadata = serde_json::from_str(r#"{"order_id":"A-1"}"#).unwrap();
        assert_eq!(serde_json::to_string(&ok).unwrap(), r#"{"order_id":"A-1"}"#);
    }

    #[test]
    fn overlaid_metadata_keeps_the_upper_value_and_counts_keys_once() {
        let cart = Metadata::from_pairs([("cart", "c-9"), ("source", "web")]).unwrap();
        let order = Metadata::from_pairs([("order_id", "A-1042"), ("source", "app")]).unwrap();
        let both = cart.overlaid(&order).unwrap();
        let entries: Vec<_> = both.iter().collect();
        assert_eq!(
            entries,
            [("cart", "c-9"), ("order_id", "A-1042"), ("source", "app")]
        );
        let half = |prefix: &str| {
            Metadata::from_pairs((0..25).map(|i| (format!("{prefix}{i}"), "v"))).unwrap()
        };
        // 25 + 25 distinct keys is the limit; a shared key counts once.
        assert_eq!(half("a").overlaid(&half("b")).unwrap().len(), 50);
        let mut more = half("b");
        more.insert("a0", "shared").unwrap();
        assert_eq!(half("a").overlaid(&more).unwrap().len(), 50);
        more.insert("c", "one too many").unwrap();
        let err = half("a").overlaid(&more).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("make 51"), "{err}");
    }
}
