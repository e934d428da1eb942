//! Bookings: who booked, and where the booking is in its life.
//!
//! Owns the customer's contact details and the status lifecycle with its
//! legal transitions. Must never touch inventory or money: the engine moves
//! those in the same commit as the status, and refuses the transition first
//! if this module says it is illegal.

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
