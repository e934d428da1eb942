//! Identifiers of catalog and booking records.
//!
//! Owns the one rule for what an id may look like, so that ids are safe in
//! storage keys, URLs, QR payloads and every binding: 1 to 64 characters of
//! ASCII letters, digits, `-`, `_`, `.` and `:`. Must never accept `/`
//! (the storage key separator) or anything outside printable ASCII.

use crate::error::{Error, Result};

/// Checks an id and returns it unchanged, or an [`Error::InvalidInput`]
/// naming `field` and the value.
pub fn validate_id(field: &str, id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{id:?} is not a valid id: use 1-64 characters of A-Z a-z 0-9 - _ . :"),
        ))
    }
}

/// Checks a name for people (a property, a resource, a rate plan, a fee, a
/// customer): 1 to 200 characters, not blank. Errors name `field` and the
/// value.
pub fn validate_name(field: &str, name: &str) -> Result<()> {
    let len = name.trim().chars().count();
    if len == 0 || len > 200 {
        return Err(Error::invalid(
            field,
            format!("{name:?} must have 1-200 characters, has {len}"),
        ));
    }
    Ok(())
}

/// Declares an id newtype over a validated `String`: `new`, `generate`,
/// `as_str`, `Display`, `Debug`, `FromStr`, `AsRef<str>` and validating serde.
macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        // Shared, immutable text: ids are cloned into every record, hit
        // and look-up that names them, and a clone must not allocate.
        pub struct $name(::std::sync::Arc<str>);

        impl $name {
            /// Validates and wraps an id.
            pub fn new(id: impl AsRef<str>) -> $crate::error::Result<Self> {
                let id = id.as_ref();
                $crate::ids::validate_id($field, id)?;
                Ok($name(::std::sync::Arc::from(id)))
            }

            /// A new random id (UUID v7, time-ordered).
            pub fn generate() -> Self {
                let mut text = [0u8; 32];
                let text = ::uuid::Uuid::now_v7().simple().encode_lower(&mut text);
                $name(::std::sync::Arc::from(&*text))
            }

            /// The id as a string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                $name::new(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::std::result::Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::std::result::Result<Self, D::Error> {
                let raw = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(d)?;
                $name::new(&*raw).map_err(::serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use define_id;

define_id!(
    /// A property or venue: a hotel, a rental home, a studio, a tour operator's base.
    PropertyId, "property_id"
);
define_id!(
    /// A bookable resource of a property: a room type, a rental unit, a class or tour.
    ResourceId, "resource_id"
);
define_id!(
    /// A rate plan of a resource.
    RatePlanId, "rate_plan_id"
);
define_id!(
    /// An owner who receives payouts.
    OwnerId, "owner_id"
);
define_id!(
    /// A block of capacity (maintenance, owner use).
    BlockId, "block_id"
);
define_id!(
    /// A hold on inventory.
    HoldId, "hold_id"
);
define_id!(
    /// A booking.
    BookingId, "booking_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_refuse_separators_and_empties() {
        assert!(PropertyId::new("villa-7").is_ok());
        assert!(PropertyId::new("hotel:berlin.mitte_2").is_ok());
        for bad in ["", "a/b", "with space", "é", &"x".repeat(65)] {
            let err = PropertyId::new(bad).unwrap_err();
            assert_eq!(err.code(), "INVALID_INPUT", "{bad:?}");
            assert!(err.to_string().contains("property_id"));
        }
    }

    #[test]
    fn a_name_has_1_to_200_characters_around_its_spaces() {
        let longest = "é".repeat(200);
        assert!(validate_name("name", &format!("  {longest}  ")).is_ok());
        let err = validate_name("name", &format!("{longest}e")).unwrap_err();
        assert!(err.to_string().contains("has 201"), "{err}");
        assert!(validate_name("name", " \t ").is_err());
        assert!(validate_name("name", "x").is_ok());
    }

    #[test]
    fn generated_ids_are_valid_and_distinct() {
        let a = BookingId::generate();
        let b = BookingId::generate();
        assert_ne!(a, b);
        assert!(BookingId::new(a.as_str()).is_ok());
    }

    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<ResourceId>("\"ok-1\"").is_ok());
        assert!(serde_json::from_str::<ResourceId>("\"no/slash\"").is_err());
    }
}
