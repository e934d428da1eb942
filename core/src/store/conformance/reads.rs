//! Cases for reading: `get` and `scan`.

use std::sync::Arc;

use super::check::{EVERYTHING, Outcome, ensure, ensure_eq, get_one, put_all};
use crate::ports::{Key, KeyRange, Storage};

/// Keys of the records `scan` returns.
fn keys_of(records: &[crate::ports::Record]) -> Vec<&str> {
    records.iter().map(|record| record.key.as_str()).collect()
}

fn range(start: &str, end: Option<&str>) -> KeyRange {
    KeyRange {
        start: start.to_owned(),
        end: end.map(str::to_owned),
    }
}

pub(crate) async fn get_returns_records_and_absences_in_request_order(
    store: Arc<dyn Storage>,
) -> Outcome {
    let committed = put_all(&store, &[("a", b"1"), ("b", b"2"), ("c", b"3")]).await?;
    let asked: Vec<Key> = ["c", "missing", "a", "b/"].map(str::to_owned).to_vec();
    let found = store.get(&asked).await?;
    let summary: Vec<Option<(&str, &[u8])>> = found
        .iter()
        .map(|r| r.as_ref().map(|r| (r.key.as_str(), r.value.as_slice())))
        .collect();
    ensure_eq!(
        summary,
        vec![Some(("c", &b"3"[..])), None, Some(("a", &b"1"[..])), None],
        "get of [c, missing, a, b/]"
    );
    for record in found.iter().flatten() {
        ensure_eq!(
            record.version,
            committed.version,
            "version of {}",
            record.key
        );
    }
    ensure!(
        store.get(&[]).await?.is_empty(),
        "get of no keys returned records"
    );
    Ok(())
}

pub(crate) async fn values_round_trip_byte_for_byte(store: Arc<dyn Storage>) -> Outcome {
    let large: Vec<u8> = (0..65_536u32).map(|i| (i % 251) as u8).collect();
    let values: [(&str, &[u8]); 4] = [
        ("v/empty", b""),
        ("v/json", br#"{"guest":"Zo\u00eb","nights":3}"#),
        ("v/binary", &[0x00, 0xFF, 0xC3, 0x28, 0x0A, 0x00]),
        ("v/large", &large),
    ];
    put_all(&store, &values).await?;
    for (key, value) in values {
        let record = get_one(&store, key).await?;
        ensure!(
            record.as_ref().is_some_and(|r| r.value == value),
            "value at {key:?} did not come back unchanged ({} bytes written)",
            value.len()
        );
    }
    let scanned = store.scan(&KeyRange::prefix("v/"), EVERYTHING).await?;
    ensure_eq!(scanned.len(), values.len(), "records scanned under v/");
    for record in &scanned {
        let written = values.iter().find(|(key, _)| *key == record.key);
        ensure!(
            written.is_some_and(|(_, value)| *value == record.value),
            "scan returned a changed value at {:?}",
            record.key
        );
    }
    Ok(())
}

pub(crate) async fn scan_returns_records_in_ascending_byte_order(
    store: Arc<dyn Storage>,
) -> Outcome {
    // Written out of order, with traps for locale collation and numbers.
    let written = [
        "a/9", "B", "a/10", "a~", "a", "a/1", "_", "A", "a!", "Z/z", "~",
    ];
    for key in written {
        put_all(&store, &[(key, key.as_bytes())]).await?;
    }
    let mut expected = written.to_vec();
    expected.sort_unstable_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    let scanned = store.scan(&KeyRange::prefix(""), EVERYTHING).await?;
    ensure_eq!(keys_of(&scanned), expected, "keys of a full scan");
    let unlimited = store.scan(&KeyRange::prefix(""), usize::MAX).await?;
    ensure_eq!(
        keys_of(&unlimited),
        expected,
        "keys of a full scan with limit usize::MAX"
    );
    for record in &scanned {
        ensure_eq!(
            record.value,
            record.key.as_bytes(),
            "value at {}",
            record.key
        );
    }
    Ok(())
}

pub(crate) async fn scan_includes_start_and_excludes_end(store: Arc<dyn Storage>) -> Outcome {
    let keys = ["k/1", "k/2", "k/3", "k/4", "k/5"];
    put_all(&store, &keys.map(|key| (key, &b"{}"[..]))).await?;
    let scans = [
        (range("k/2", Some("k/4")), vec!["k/2", "k/3"]),
        (range("k/2!", Some("k/4!")), vec!["k/3", "k/4"]),
        (range("k/4", None), vec!["k/4", "k/5"]),
        (range("k/3", Some("k/3")), vec![]),
        (range("k/4", Some("k/2")), vec![]),
        (range("k/6", None), vec![]),
    ];
    for (range, expected) in scans {
        let scanned = store.scan(&range, EVERYTHING).await?;
        ensure_eq!(keys_of(&scanned), expected, "keys scanned in {range:?}");
    }
    Ok(())
}

pub(crate) async fn scan_of_a_prefix_returns_exactly_that_prefix(
    store: Arc<dyn Storage>,
) -> Outcome {
    let keys = ["bj~", "bk", "bk/", "bk/1", "bk/2/x", "bk/~~", "bk0", "bl"];
    put_all(&store, &keys.map(|key| (key, &b"{}"[..]))).await?;
    let scanned = store.scan(&KeyRange::prefix("bk/"), EVERYTHING).await?;
    ensure_eq!(
        keys_of(&scanned),
        vec!["bk/", "bk/1", "bk/2/x", "bk/~~"],
        "keys scanned under prefix bk/"
    );
    let scanned = store.scan(&KeyRange::prefix("bk/2/"), EVERYTHING).await?;
    ensure_eq!(keys_of(&scanned), vec!["bk/2/x"], "keys under prefix bk/2/");
    Ok(())
}

pub(crate) async fn scan_returns_at_most_limit_records(store: Arc<dyn Storage>) -> Outcome {
    let keys = ["s/1", "s/2", "s/3", "s/4", "s/5"];
    put_all(&store, &keys.map(|key| (key, &b"{}"[..]))).await?;
    let prefix = KeyRange::prefix("s/");
    for (limit, expected) in [
        (0, &keys[..0]),
        (3, &keys[..3]),
        (5, &keys[..]),
        (99, &keys[..]),
    ] {
        let scanned = store.scan(&prefix, limit).await?;
        ensure_eq!(
            keys_of(&scanned),
            expected,
            "keys scanned with limit {limit}"
        );
    }
    Ok(())
}
