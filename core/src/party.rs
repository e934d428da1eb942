//! Party: who is coming on a booking.
//!
//! Owns the guest counts that capacity checks and occupancy pricing read.
//! Must never hold personal data (names and phones belong to the booking's
//! customer, not to the party).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Adults and the ages of the children in a party.
///
/// ```
/// use reservo::party::Party;
/// let family = Party::new(2, vec![4, 11]).unwrap();
/// assert_eq!(family.size(), 4);
/// assert_eq!(Party::new(0, vec![]).unwrap_err().code(), "INVALID_INPUT");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Party {
    adults: u32,
    children_ages: Vec<u8>,
}

impl Party {
    /// The largest party Reservo accepts in one request.
    pub const MAX_SIZE: u32 = 10_000;

    /// A party of `adults` and children of the given ages (0-17). A party
    /// needs at least one guest; children alone are allowed (a kids' class).
    pub fn new(adults: u32, children_ages: Vec<u8>) -> Result<Party> {
        if let Some(age) = children_ages.iter().find(|a| **a > 17) {
            return Err(Error::invalid(
                "children_ages",
                format!("a child's age must be 0-17, got {age}"),
            ));
        }
        let size = u64::from(adults) + children_ages.len() as u64;
        if size == 0 {
            return Err(Error::invalid(
                "party",
                "a party needs at least one guest, got 0",
            ));
        }
        if size > u64::from(Party::MAX_SIZE) {
            return Err(Error::invalid(
                "party",
                format!(
                    "{size} guests is more than the maximum of {}",
                    Party::MAX_SIZE
                ),
            ));
        }
        Ok(Party {
            adults,
            children_ages,
        })
    }

    /// A party of adults only.
    pub fn adults(adults: u32) -> Result<Party> {
        Party::new(adults, Vec::new())
    }

    /// Number of adults.
    pub fn adult_count(&self) -> u32 {
        self.adults
    }

    /// Ages of the children, as given.
    pub fn children_ages(&self) -> &[u8] {
        &self.children_ages
    }

    /// Number of guests.
    pub fn size(&self) -> u32 {
        self.adults + u32::try_from(self.children_ages.len()).expect("bounded in new")
    }
}

impl<'de> Deserialize<'de> for Party {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            adults: u32,
            #[serde(default)]
            children_ages: Vec<u8>,
        }
        let raw = Raw::deserialize(d)?;
        Party::new(raw.adults, raw.children_ages).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_must_be_children() {
        let err = Party::new(1, vec![18]).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
        assert!(err.to_string().contains("18"));
    }

    #[test]
    fn kids_class_party_without_adults_is_fine() {
        assert_eq!(Party::new(0, vec![7, 8]).unwrap().size(), 2);
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<Party>(r#"{"adults":0}"#).is_err());
        let p: Party = serde_json::from_str(r#"{"adults":2}"#).unwrap();
        assert_eq!(p.size(), 2);
    }
}
