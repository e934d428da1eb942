//! The inventory ledger of one night or one session of one resource.
//!
//! Owns the count of units (or seats) booked and the holds on them, and
//! the rule that makes expiry free: a hold counts only while the clock is
//! before its expiry, so an expired hold never blocks availability even if
//! no clean-up ever ran. Must never know capacity or blocks: those come
//! from the catalog, and availability is computed from both.
//!
//! The encoding is a short text line, because a search decodes tens of
//! thousands of ledgers: `1;<booked>;<hold>:<units>:<expires unix ms>,...`.
//! Version `1` is the first field; a ledger with no holds is `1;3;`.

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};

/// Units of one hold on one ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LedgerHold {
    pub hold: String,
    pub units: u32,
    pub expires_at_ms: i64,
}

/// Booked units and live or expired holds of one night or session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Ledger {
    pub booked: u32,
    pub holds: Vec<LedgerHold>,
}

impl Ledger {
    /// Units held by holds that have not expired at `now`.
    pub fn held_at(&self, now: DateTime<Utc>) -> u32 {
        let now_ms = now.timestamp_millis();
        self.holds
            .iter()
            .filter(|h| h.expires_at_ms > now_ms)
            .map(|h| h.units)
            .sum()
    }

    /// Drops holds that have expired at `now` (done whenever the ledger is
    /// written anyway, so it never grows without bound).
    pub fn prune(&mut self, now: DateTime<Utc>) {
        let now_ms = now.timestamp_millis();
        self.holds.retain(|h| h.expires_at_ms > now_ms);
    }

    pub fn encode(&self) -> Vec<u8> {
        // Written on every hold and confirmation: numbers through `itoa`
        // into one buffer sized up front, not `format!` per hold.
        let mut number = itoa::Buffer::new();
        let holds: usize = self.holds.iter().map(|h| h.hold.len() + 24).sum();
        let mut out = Vec::with_capacity(14 + holds);
        out.extend_from_slice(b"1;");
        out.extend_from_slice(number.format(self.booked).as_bytes());
        out.push(b';');
        for (i, h) in self.holds.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(h.hold.as_bytes());
            out.push(b':');
            out.extend_from_slice(number.format(h.units).as_bytes());
            out.push(b':');
            out.extend_from_slice(number.format(h.expires_at_ms).as_bytes());
        }
        out
    }

    pub fn decode(key: &str, bytes: &[u8]) -> Result<Ledger> {
        let corrupt = |message: &str| Error::CorruptRecord {
            key: key.to_owned(),
            message: message.to_owned(),
        };
        let text = std::str::from_utf8(bytes).map_err(|_| corrupt("ledger is not UTF-8"))?;
        let mut fields = text.splitn(3, ';');
        if fields.next() != Some("1") {
            return Err(corrupt("unknown ledger version"));
        }
        let booked = fields
            .next()
            .and_then(|b| b.parse().ok())
            .ok_or_else(|| corrupt("bad booked count"))?;
        let holds_text = fields.next().ok_or_else(|| corrupt("missing holds"))?;
        let mut holds = Vec::new();
        if !holds_text.is_empty() {
            for item in holds_text.split(',') {
                let mut parts = item.split(':');
                let (Some(hold), Some(units), Some(expires), None) =
                    (parts.next(), parts.next(), parts.next(), parts.next())
                else {
                    return Err(corrupt("bad hold entry"));
                };
                holds.push(LedgerHold {
                    hold: hold.to_owned(),
                    units: units.parse().map_err(|_| corrupt("bad hold units"))?,
                    expires_at_ms: expires.parse().map_err(|_| corrupt("bad hold expiry"))?,
                });
            }
        }
        Ok(Ledger { booked, holds })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn ledger_round_trips_through_its_text_form() {
        let ledger = Ledger {
            booked: 3,
            holds: vec![
                LedgerHold {
                    hold: "h1".into(),
                    units: 2,
                    expires_at_ms: 1_000,
                },
                LedgerHold {
                    hold: "h2".into(),
                    units: 1,
                    expires_at_ms: 9_000,
                },
            ],
        };
        let bytes = ledger.encode();
        assert_eq!(bytes, b"1;3;h1:2:1000,h2:1:9000");
        assert_eq!(Ledger::decode("k", &bytes).unwrap(), ledger);
        assert_eq!(Ledger::decode("k", b"1;0;").unwrap(), Ledger::default());
    }

    #[test]
    fn expired_holds_take_nothing_even_before_pruning() {
        let ledger = Ledger {
            booked: 1,
            holds: vec![
                LedgerHold {
                    hold: "old".into(),
                    units: 5,
                    expires_at_ms: 1_000,
                },
                LedgerHold {
                    hold: "live".into(),
                    units: 2,
                    expires_at_ms: 3_000,
                },
            ],
        };
        let at = |ms| Utc.timestamp_millis_opt(ms).unwrap();
        assert_eq!(ledger.held_at(at(500)), 7);
        assert_eq!(ledger.held_at(at(1_000)), 2);
        assert_eq!(ledger.held_at(at(3_000)), 0);
        let mut pruned = ledger.clone();
        pruned.prune(at(2_000));
        assert_eq!(pruned.holds.len(), 1);
    }

    #[test]
    fn garbage_is_a_corrupt_record_naming_the_key() {
        for bad in [&b"2;0;"[..], b"1;x;", b"1;0;h:1", b"1;0", b"\xff"] {
            let err = Ledger::decode("nt/2026-01-01/r", bad).unwrap_err();
            assert_eq!(err.code(), "CORRUPT_RECORD");
            assert!(err.to_string().contains("nt/2026-01-01/r"));
        }
    }
}
