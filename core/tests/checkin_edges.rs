//! Edges of the check-in rules and the venue set-up they read.

use reservo::checkin::EntryHours;
use reservo::engine::VenueCheckIn;

#[test]
fn entry_hours_read_from_json_cannot_open_and_close_at_once() {
    for (opens, closes) in [("09:00:00", "09:00:00"), ("00:00:00", "00:00:00")] {
        let json = format!(r#"{{"opens":"{opens}","closes":"{closes}"}}"#);
        assert!(serde_json::from_str::<EntryHours>(&json).is_err(), "{json}");
        let venue = format!(r#"{{"entry_hours":{json}}}"#);
        assert!(
            serde_json::from_str::<VenueCheckIn>(&venue).is_err(),
            "{venue}"
        );
    }
    for json in [
        r#"{"opens":"09:00:00","closes":"17:00:00"}"#,
        r#"{"opens":"20:00:00","closes":"03:00:00"}"#,
    ] {
        let hours: EntryHours = serde_json::from_str(json).unwrap();
        let again: EntryHours =
            serde_json::from_str(&serde_json::to_string(&hours).unwrap()).unwrap();
        assert_eq!(again, hours);
    }
}
