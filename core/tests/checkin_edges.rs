//! Edges of the check-in rules and the venue set-up they read.

use reservo::checkin::EntryHours;
use reservo::engine::VenueCheckIn;

#[test]
fn entry_hours_read_from_json_must_open_before_they_close() {
    for (opens, closes) in [("17:00:00", "09:00:00"), ("09:00:00", "09:00:00")] {
        let json = format!(r#"{{"opens":"{opens}","closes":"{closes}"}}"#);
        assert!(serde_json::from_str::<EntryHours>(&json).is_err(), "{json}");
        let venue = format!(r#"{{"entry_hours":{json}}}"#);
        assert!(
            serde_json::from_str::<VenueCheckIn>(&venue).is_err(),
            "{venue}"
        );
    }
    let hours: EntryHours =
        serde_json::from_str(r#"{"opens":"09:00:00","closes":"17:00:00"}"#).unwrap();
    let again: EntryHours = serde_json::from_str(&serde_json::to_string(&hours).unwrap()).unwrap();
    assert_eq!(again, hours);
}
