//! Text of dates and instants for keys and records, written without
//! `format!` or serde's `collect_str` on the hot path.
//!
//! Owns one promise: every function here writes exactly the bytes chrono's
//! own formatting writes for the same value (`%Y-%m-%d` and `Debug` for a
//! date, its serde form for an instant), so keys and stored records keep
//! their bytes. The common case (years 0 to 9999, whole seconds) is written
//! digit by digit; everything else is handed to chrono. A hold and its
//! confirmation write about twenty dates and instants; through
//! `collect_str` each one cost ~2,000 instructions, because serde_json
//! escapes every character chrono writes as a string of its own.
//!
//! Must never define a format of its own: chrono's is the reference, and
//! the property tests below compare against it.

use std::fmt;
use std::ops::Deref;

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};
use serde::Serializer;

/// A short text on the stack: a date or an instant.
#[derive(Clone, Copy)]
pub(crate) struct Short {
    len: u8,
    bytes: [u8; Short::CAPACITY],
}

impl Short {
    /// Longer than any date or RFC 3339 instant chrono writes (at most 35
    /// bytes: a signed six-digit year and nine fraction digits).
    const CAPACITY: usize = 40;

    fn new() -> Short {
        Short {
            len: 0,
            bytes: [0; Short::CAPACITY],
        }
    }

    fn push(&mut self, byte: u8) {
        self.bytes[usize::from(self.len)] = byte;
        self.len += 1;
    }

    /// `value` in decimal, zero-padded to at least `width` digits (at most
    /// 20), as `format!("{value:0width$}")` writes it.
    fn push_digits(&mut self, value: impl Into<u64>, width: usize) {
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(value.into());
        for _ in digits.len()..width {
            self.push(b'0');
        }
        for byte in digits.bytes() {
            self.push(byte);
        }
    }

    fn push_date(&mut self, date: NaiveDate) {
        self.push_digits(u32::try_from(date.year()).expect("a year in 0..=9999"), 4);
        self.push(b'-');
        self.push_digits(date.month(), 2);
        self.push(b'-');
        self.push_digits(date.day(), 2);
    }

    /// What chrono writes, through its `Display`-like formatting.
    fn written_by(write: impl FnOnce(&mut Short) -> fmt::Result) -> Short {
        let mut out = Short::new();
        write(&mut out).expect("chrono's date and instant text fits in 40 bytes");
        out
    }
}

impl fmt::Write for Short {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = usize::from(self.len) + s.len();
        let dest = self
            .bytes
            .get_mut(usize::from(self.len)..end)
            .ok_or(fmt::Error)?;
        dest.copy_from_slice(s.as_bytes());
        self.len = u8::try_from(end).map_err(|_| fmt::Error)?;
        Ok(())
    }
}

impl Deref for Short {
    type Target = str;

    fn deref(&self) -> &str {
        // Only ASCII digits and punctuation are pushed, and `write_str`
        // copies whole `str`s.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).expect("ASCII text")
    }
}

impl fmt::Debug for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

/// `date` as `2026-07-02`: chrono's `%Y-%m-%d`, `Display`, `Debug` and
/// serde form, which agree for every date.
pub(crate) fn date(date: NaiveDate) -> Short {
    if (0..=9999).contains(&date.year()) {
        let mut out = Short::new();
        out.push_date(date);
        out
    } else {
        Short::written_by(|out| fmt::Write::write_fmt(out, format_args!("{date:?}")))
    }
}

/// `instant` as chrono's serde writes it: RFC 3339 with `Z`, and a
/// fraction of 3, 6 or 9 digits only when there is one.
pub(crate) fn instant(instant: DateTime<Utc>) -> Short {
    let naive = instant.naive_utc();
    if (0..=9999).contains(&naive.year()) && naive.nanosecond() == 0 {
        let mut out = Short::new();
        out.push_date(naive.date());
        out.push(b'T');
        out.push_digits(naive.hour(), 2);
        out.push(b':');
        out.push_digits(naive.minute(), 2);
        out.push(b':');
        out.push_digits(naive.second(), 2);
        out.push(b'Z');
        out
    } else {
        let text = instant.to_rfc3339_opts(SecondsFormat::AutoSi, true);
        Short::written_by(|out| fmt::Write::write_str(out, &text))
    }
}

/// `value` in decimal, zero-padded to at least `width` digits (at most
/// 20), as `format!("{value:0width$}")` writes it: for keys that sort
/// numbers as text.
pub(crate) fn zero_padded(value: u64, width: usize) -> Short {
    assert!(width <= 20, "a u64 has at most 20 digits");
    let mut out = Short::new();
    out.push_digits(value, width);
    out
}

/// Serializes a date as [`date`] writes it (for `serialize_with`).
pub(crate) fn serialize_date<S: Serializer>(value: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&date(*value))
}

/// Serializes an instant as [`instant`] writes it (for `serialize_with`).
pub(crate) fn serialize_instant<S: Serializer>(
    value: &DateTime<Utc>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&instant(*value))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    fn any_date() -> impl Strategy<Value = NaiveDate> {
        let (min, max) = (NaiveDate::MIN, NaiveDate::MAX);
        let span = (max - min).num_days();
        prop_oneof![
            // Mostly the years bookings live in, and every edge of the range.
            (0..366 * 200u64)
                .prop_map(|d| NaiveDate::from_ymd_opt(1950, 1, 1).unwrap() + chrono::Days::new(d)),
            (0..=span.unsigned_abs()).prop_map(move |d| min + chrono::Days::new(d)),
        ]
    }

    fn any_instant() -> impl Strategy<Value = DateTime<Utc>> {
        let seconds = prop_oneof![
            0..4_102_444_800i64,
            -62_167_219_200i64..253_402_300_800, // years 0 to 9999
            -8_000_000_000_000i64..8_000_000_000_000,
        ];
        let nanos = prop_oneof![
            Just(0u32),
            (0..1_000u32).prop_map(|ms| ms * 1_000_000),
            (0..1_000_000u32).prop_map(|us| us * 1_000),
            0..1_000_000_000u32,
            // Leap seconds, which chrono writes as second 60.
            1_000_000_000..2_000_000_000u32,
        ];
        (seconds, nanos).prop_filter_map("a representable instant", |(s, n)| {
            DateTime::from_timestamp(s, n)
        })
    }

    proptest! {
        #[test]
        fn dates_are_written_as_chrono_writes_them(d in any_date()) {
            let ours = date(d);
            prop_assert_eq!(&*ours, d.format("%Y-%m-%d").to_string());
            prop_assert_eq!(&*ours, format!("{d:?}"));
            prop_assert_eq!(&*ours, d.to_string());
        }

        #[test]
        fn instants_are_serialized_as_chrono_serializes_them(t in any_instant()) {
            #[derive(serde::Serialize)]
            struct Ours(#[serde(serialize_with = "serialize_instant")] DateTime<Utc>);
            prop_assert_eq!(
                serde_json::to_string(&Ours(t)).unwrap(),
                serde_json::to_string(&t).unwrap()
            );
        }

        #[test]
        fn dates_are_serialized_as_chrono_serializes_them(d in any_date()) {
            #[derive(serde::Serialize)]
            struct Ours(#[serde(serialize_with = "serialize_date")] NaiveDate);
            prop_assert_eq!(
                serde_json::to_string(&Ours(d)).unwrap(),
                serde_json::to_string(&d).unwrap()
            );
        }
    }

    proptest! {
        #[test]
        fn zero_padded_numbers_are_what_format_writes(value in any::<u64>(), width in 0..=20usize) {
            prop_assert_eq!(&*zero_padded(value, width), format!("{value:0width$}"));
        }
    }

    #[test]
    fn the_edges_of_chronos_range_fit() {
        for d in [NaiveDate::MIN, NaiveDate::MAX] {
            assert_eq!(&*date(d), format!("{d:?}"));
        }
        let last = Utc.from_utc_datetime(
            &NaiveDate::MAX
                .and_hms_nano_opt(23, 59, 59, 1_999_999_999)
                .unwrap(),
        );
        let first = Utc.from_utc_datetime(&NaiveDate::MIN.and_hms_nano_opt(0, 0, 0, 1).unwrap());
        for t in [first, last] {
            assert_eq!(&*instant(t), t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
    }

    /// Debug output shows the text, quoted, as a `&str` would.
    #[test]
    fn a_short_text_debugs_as_its_text() {
        let d = NaiveDate::from_ymd_opt(2026, 7, 2).unwrap();
        assert_eq!(format!("{:?}", date(d)), "\"2026-07-02\"");
    }
}
