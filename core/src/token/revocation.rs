//! The signed revocation list that scanners sync and apply offline.
//!
//! Owns the list (revoked token ids and booking ids, with a sequence number
//! and an issue time), its signed CBOR encoding, and the check of a ticket
//! against it. Must never let a scanner go back to an older list: a list is
//! accepted only if its sequence is greater than the one held.

use std::collections::BTreeSet;
use std::io::Cursor;

use chrono::{DateTime, Utc};
use ciborium::Value;

use crate::error::{Error, Result};
use crate::ids::BookingId;
use crate::token::claims::{TicketClaims, TokenId, malformed, seconds, whole_seconds};
use crate::token::cose;
use crate::token::keys::{IssuerKeySet, PublicKeySet};

/// The content type in a revocation list's protected header. Tickets carry
/// none, so neither can be passed off as the other.
pub const REVOCATION_CONTENT_TYPE: &str = "application/vnd.reservo.revocation+cbor";

/// A full snapshot of what is revoked, numbered so that newer lists replace
/// older ones.
///
/// ```
/// use chrono::Utc;
/// use reservo::ids::BookingId;
/// use reservo::token::{IssuerKey, IssuerKeySet, RevocationList};
/// let keys = IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [1; 32]));
/// let mut list = RevocationList::new(1, Utc::now()).unwrap();
/// list.revoke_booking(BookingId::new("BK-1").unwrap());
/// let signed = list.sign(&keys);
/// let opened = RevocationList::open(&signed, &keys.public_keys()).unwrap();
/// assert_eq!(opened, list);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevocationList {
    sequence: u64,
    issued_at: DateTime<Utc>,
    tokens: BTreeSet<TokenId>,
    bookings: BTreeSet<BookingId>,
}

/// `at` in whole seconds, if the signed form can carry it (not before
/// 1970: `issued_at` is an unsigned integer there).
fn issue_time(at: DateTime<Utc>) -> Result<DateTime<Utc>> {
    if at.timestamp() < 0 {
        return Err(Error::invalid(
            "issued_at",
            format!("a revocation list is issued in 1970 or later, got {at}"),
        ));
    }
    Ok(whole_seconds(at))
}

impl RevocationList {
    /// An empty list with this sequence number, issued at `issued_at`
    /// (kept in whole seconds). Errors: `INVALID_INPUT` for an issue time
    /// before 1970, which the signed form cannot carry.
    pub fn new(sequence: u64, issued_at: DateTime<Utc>) -> Result<RevocationList> {
        Ok(RevocationList {
            sequence,
            issued_at: issue_time(issued_at)?,
            tokens: BTreeSet::new(),
            bookings: BTreeSet::new(),
        })
    }

    /// The same entries under the next sequence number, to add to and
    /// publish. Errors: `INVALID_INPUT` for an issue time before 1970.
    pub fn next(&self, issued_at: DateTime<Utc>) -> Result<RevocationList> {
        Ok(RevocationList {
            sequence: self.sequence.saturating_add(1),
            issued_at: issue_time(issued_at)?,
            ..self.clone()
        })
    }

    /// Revokes one token (for example a ticket reissued to a new phone).
    pub fn revoke_token(&mut self, token: TokenId) {
        self.tokens.insert(token);
    }

    /// Revokes every token of a booking (for example a cancelled booking).
    pub fn revoke_booking(&mut self, booking: BookingId) {
        self.bookings.insert(booking);
    }

    /// The sequence number; a scanner accepts only greater ones.
    pub fn sequence(&self) -> u64 {
        self.sequence
    }

    /// When the list was issued.
    pub fn issued_at(&self) -> DateTime<Utc> {
        self.issued_at
    }

    /// Revoked token ids.
    pub fn tokens(&self) -> &BTreeSet<TokenId> {
        &self.tokens
    }

    /// Revoked bookings.
    pub fn bookings(&self) -> &BTreeSet<BookingId> {
        &self.bookings
    }

    /// [`Error::TokenRevoked`] if the ticket or its booking is revoked.
    pub fn check(&self, claims: &TicketClaims) -> Result<()> {
        if self.tokens.contains(&claims.token_id) || self.bookings.contains(&claims.booking) {
            return Err(Error::TokenRevoked {
                token: claims.token_id.to_string(),
            });
        }
        Ok(())
    }

    /// The list signed with the current key of `keys`, as COSE_Sign1 bytes
    /// (see `docs/token-format.md`).
    pub fn sign(&self, keys: &IssuerKeySet) -> Vec<u8> {
        let map = Value::Map(vec![
            (1.into(), self.sequence.into()),
            (2.into(), self.issued_at.timestamp().into()),
            (
                3.into(),
                Value::Array(
                    self.tokens
                        .iter()
                        .map(|t| Value::Bytes(t.as_bytes().to_vec()))
                        .collect(),
                ),
            ),
            (
                4.into(),
                Value::Array(self.bookings.iter().map(|b| b.as_str().into()).collect()),
            ),
        ]);
        let mut payload = Vec::new();
        ciborium::into_writer(&map, &mut payload).expect("CBOR values always write to a Vec");
        cose::sign(keys.current(), Some(REVOCATION_CONTENT_TYPE), payload)
    }

    /// Verifies signed list bytes with `keys` and decodes them. Fails with
    /// the token errors: malformed, unknown key, bad signature.
    pub fn open(bytes: &[u8], keys: &PublicKeySet) -> Result<RevocationList> {
        let payload = cose::open(bytes, Some(REVOCATION_CONTENT_TYPE), keys)?;
        let bad = |what: &str| malformed(format!("revocation list: {what}"));
        let value: Value =
            ciborium::from_reader(Cursor::new(&payload)).map_err(|_| bad("payload is not CBOR"))?;
        let Value::Map(entries) = value else {
            return Err(bad("payload is not a map"));
        };
        let [(k1, seq), (k2, iat), (k3, tokens), (k4, bookings)] =
            <[(Value, Value); 4]>::try_from(entries).map_err(|_| bad("need keys 1, 2, 3, 4"))?;
        if [k1, k2, k3, k4] != [1.into(), 2.into(), 3.into(), 4.into()] {
            return Err(bad("need keys 1, 2, 3, 4 in order"));
        }
        let sequence = seq
            .as_integer()
            .and_then(|i| u64::try_from(i).ok())
            .ok_or_else(|| bad("sequence is not an unsigned integer"))?;
        let issued_at = iat
            .as_integer()
            .and_then(|i| u64::try_from(i).ok())
            .and_then(|secs| i64::try_from(secs).ok())
            .and_then(seconds)
            .ok_or_else(|| bad("issued_at is not a NumericDate (an unsigned integer)"))?;
        let mut list = RevocationList::new(sequence, issued_at)?;
        let items = |v: Value| match v {
            Value::Array(items) => Ok(items),
            _ => Err(bad("entries are not an array")),
        };
        for item in items(tokens)? {
            let bytes = item
                .into_bytes()
                .map_err(|_| bad("a token id is not bytes"))?;
            let id = TokenId::from_bytes(bytes).map_err(|e| bad(&e.to_string()))?;
            if list.tokens.last().is_some_and(|last| *last >= id) {
                return Err(bad("token ids are not in ascending order, each once"));
            }
            list.tokens.insert(id);
        }
        for item in items(bookings)? {
            let text = item
                .into_text()
                .map_err(|_| bad("a booking id is not text"))?;
            let id = BookingId::new(text).map_err(|e| bad(&e.to_string()))?;
            if list.bookings.last().is_some_and(|last| *last >= id) {
                return Err(bad("booking ids are not in ascending order, each once"));
            }
            list.bookings.insert(id);
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::keys::IssuerKey;

    fn keys() -> IssuerKeySet {
        IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [1; 32]))
    }

    /// A list signed as the issuer would, with a payload written by hand.
    fn signed(issued_at: i64, tokens: &[&[u8]], bookings: &[&str]) -> Vec<u8> {
        let map = Value::Map(vec![
            (1.into(), 3.into()),
            (2.into(), issued_at.into()),
            (
                3.into(),
                Value::Array(tokens.iter().map(|t| Value::Bytes(t.to_vec())).collect()),
            ),
            (
                4.into(),
                Value::Array(bookings.iter().map(|b| (*b).into()).collect()),
            ),
        ]);
        let mut payload = Vec::new();
        ciborium::into_writer(&map, &mut payload).unwrap();
        cose::sign(keys().current(), Some(REVOCATION_CONTENT_TYPE), payload)
    }

    fn refusal(bytes: &[u8]) -> String {
        let err = RevocationList::open(bytes, &keys().public_keys()).unwrap_err();
        assert_eq!(err.code(), "TOKEN_MALFORMED", "{err}");
        err.to_string()
    }

    /// The spec's form, and nothing looser: ids in ascending bytewise
    /// order, each once, and an issue time of at least 0.
    #[test]
    fn only_a_list_in_the_spec_s_form_opens() {
        let opened = RevocationList::open(
            &signed(1_790_000_000, &[b"a", b"ab", b"b"], &["BK-1", "BK-2"]),
            &keys().public_keys(),
        )
        .unwrap();
        assert_eq!(opened.tokens().len(), 3);
        assert_eq!(opened.bookings().len(), 2);

        let unsorted = refusal(&signed(0, &[b"b", b"a"], &[]));
        assert!(
            unsorted.contains("token ids are not in ascending order"),
            "{unsorted}"
        );
        let twice = refusal(&signed(0, &[b"a", b"a"], &[]));
        assert!(twice.contains("each once"), "{twice}");
        let unsorted = refusal(&signed(0, &[], &["BK-2", "BK-1"]));
        assert!(
            unsorted.contains("booking ids are not in ascending order"),
            "{unsorted}"
        );
        let twice = refusal(&signed(0, &[], &["BK-1", "BK-1"]));
        assert!(twice.contains("booking ids"), "{twice}");
        let before_1970 = refusal(&signed(-1, &[], &[]));
        assert!(before_1970.contains("issued_at"), "{before_1970}");
    }

    /// What `sign` writes always opens again: sets iterate in the order
    /// the spec asks for.
    #[test]
    fn a_signed_list_opens_as_itself() {
        let mut list = RevocationList::new(7, DateTime::<Utc>::UNIX_EPOCH).unwrap();
        for id in [&b"zz"[..], b"a", b"\xff", b"\x00\x01", b"ab"] {
            list.revoke_token(TokenId::from_bytes(id).unwrap());
        }
        for id in ["BK-9", "BK-10", "bk-1", "BK-1"] {
            list.revoke_booking(BookingId::new(id).unwrap());
        }
        let opened = RevocationList::open(&list.sign(&keys()), &keys().public_keys()).unwrap();
        assert_eq!(opened, list);
    }

    /// A list that could not be signed in the spec's form is never made.
    #[test]
    fn a_list_is_not_issued_before_1970() {
        let before = DateTime::<Utc>::UNIX_EPOCH - chrono::Duration::seconds(1);
        let err = RevocationList::new(1, before).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT", "{err}");
        let list = RevocationList::new(1, DateTime::<Utc>::UNIX_EPOCH).unwrap();
        assert_eq!(list.next(before).unwrap_err().code(), "INVALID_INPUT");
        assert_eq!(
            list.next(DateTime::<Utc>::UNIX_EPOCH).unwrap().sequence(),
            2
        );
    }
}
