//! The check-in rules: one engine deciding entries from claims, the
//! venue's rules and the token's scan history.

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use reservo::checkin::{
    Direction, EntryHours, Passage, Refusal, Scan, ScanId, ScanLog, ScanRecord, VenueRules,
};
use reservo::ids::{BookingId, ResourceId};
use reservo::token::{EntryPolicy, GateId, Scope, TicketClaims, TokenId, ValidityWindow, ZoneId};

fn utc(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, day, hour, minute, 0)
        .unwrap()
}

fn venue() -> VenueRules {
    VenueRules {
        time_zone: "America/New_York".parse().unwrap(),
        resources: [ResourceId::new("zoo").unwrap()].into(),
        entry_hours: None,
        anti_passback: false,
    }
}

fn claims(entry: EntryPolicy) -> TicketClaims {
    TicketClaims {
        token_id: TokenId::from_bytes(*b"tok").unwrap(),
        booking: BookingId::new("BK-9").unwrap(),
        resource: ResourceId::new("zoo").unwrap(),
        validity: ValidityWindow::new(utc(1, 0, 0), utc(30, 0, 0)).unwrap(),
        entry,
        scope: Scope::default(),
    }
}

fn scan(gate: &str, zone: &str, direction: Direction, at: DateTime<Utc>) -> Scan {
    Scan {
        id: ScanId::generate(),
        gate: GateId::new(gate).unwrap(),
        zone: ZoneId::new(zone).unwrap(),
        direction,
        at,
    }
}

fn enter(at: DateTime<Utc>) -> Scan {
    scan("main-gate", "park", Direction::In, at)
}

fn leave(at: DateTime<Utc>) -> Scan {
    scan("main-gate", "park", Direction::Out, at)
}

#[test]
fn a_single_entry_token_reports_when_and_where_it_was_used() {
    let mut log = ScanLog::new();
    let (rules, ticket) = (venue(), claims(EntryPolicy::default()));
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(5, 14, 0))).unwrap(),
        Passage::Entry
    );
    let again = scan("east-gate", "park", Direction::In, utc(5, 15, 0));
    match log.check_in(&rules, &ticket, again).unwrap_err() {
        reservo::Error::TokenAlreadyUsed { used_at, gate } => {
            assert_eq!((used_at, gate.as_str()), (utc(5, 14, 0), "main-gate"));
        }
        other => panic!("expected TOKEN_ALREADY_USED, got {other}"),
    }
    assert_eq!(log.len(), 2, "refused scans are logged too");
}

#[test]
fn a_multi_entry_token_admits_exactly_its_allowance() {
    let mut log = ScanLog::new();
    let (rules, ticket) = (venue(), claims(EntryPolicy::entries(3.try_into().unwrap())));
    for hour in [10, 11, 12] {
        assert_eq!(
            log.check_in(&rules, &ticket, enter(utc(5, hour, 0)))
                .unwrap(),
            Passage::Entry
        );
    }
    let err = log
        .check_in(&rules, &ticket, enter(utc(5, 13, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
}

#[test]
fn once_per_day_counts_days_in_the_venue_time_zone() {
    let mut log = ScanLog::new();
    let ticket = claims(EntryPolicy {
        reentry: false,
        ..EntryPolicy::once_per_day()
    });
    let rules = venue();
    // 23:00 on the 5th in New York is 03:00Z on the 6th.
    assert!(log.check_in(&rules, &ticket, enter(utc(6, 3, 0))).is_ok());
    // 03:30 on the 6th in New York (07:30Z) is the next venue day.
    let next_day = log.check_in(&rules, &ticket, enter(utc(6, 7, 30)));
    assert_eq!(next_day.unwrap(), Passage::Entry);
    // Later that same New York day: used up today.
    let err = log
        .check_in(&rules, &ticket, enter(utc(6, 20, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
}

#[test]
fn re_entry_after_an_exit_uses_no_allowance_on_the_same_day() {
    let mut log = ScanLog::new();
    let rules = venue();
    let ticket = claims(EntryPolicy {
        reentry: true,
        ..EntryPolicy::default()
    });
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(5, 14, 0))).unwrap(),
        Passage::Entry
    );
    assert_eq!(
        log.check_in(&rules, &ticket, leave(utc(5, 15, 0))).unwrap(),
        Passage::Exit
    );
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(5, 16, 0))).unwrap(),
        Passage::ReEntry
    );
    // Without an exit in between it is a new entry, which is used up.
    let err = log
        .check_in(&rules, &ticket, enter(utc(5, 17, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
    // The next venue day is not a re-entry either.
    assert!(log.check_in(&rules, &ticket, leave(utc(5, 18, 0))).is_ok());
    let err = log
        .check_in(&rules, &ticket, enter(utc(6, 15, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
}

#[test]
fn a_token_without_re_entry_spends_an_entry_after_an_exit() {
    let mut log = ScanLog::new();
    let rules = venue();
    let ticket = claims(EntryPolicy::default());
    assert!(log.check_in(&rules, &ticket, enter(utc(5, 14, 0))).is_ok());
    assert!(log.check_in(&rules, &ticket, leave(utc(5, 15, 0))).is_ok());
    let err = log
        .check_in(&rules, &ticket, enter(utc(5, 16, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
}

#[test]
fn gate_and_zone_scopes_refuse_with_wrong_gate() {
    let rules = venue();
    let mut ticket = claims(EntryPolicy::entries(10.try_into().unwrap()));
    ticket.scope = Scope {
        gates: [GateId::new("vip-gate").unwrap()].into(),
        zones: [ZoneId::new("vip").unwrap()].into(),
    };
    let mut log = ScanLog::new();
    let wrong_gate = scan("main-gate", "vip", Direction::In, utc(5, 14, 0));
    let wrong_zone = scan("vip-gate", "park", Direction::In, utc(5, 14, 0));
    let right = scan("vip-gate", "vip", Direction::In, utc(5, 14, 0));
    assert_eq!(
        log.check_in(&rules, &ticket, wrong_gate)
            .unwrap_err()
            .code(),
        "TOKEN_WRONG_GATE"
    );
    assert_eq!(
        log.check_in(&rules, &ticket, wrong_zone)
            .unwrap_err()
            .code(),
        "TOKEN_WRONG_GATE"
    );
    assert_eq!(
        log.check_in(&rules, &ticket, right).unwrap(),
        Passage::Entry
    );
}

#[test]
fn a_token_for_another_resource_is_refused_at_this_venue() {
    let mut ticket = claims(EntryPolicy::default());
    ticket.resource = ResourceId::new("aquarium").unwrap();
    let decision = reservo::checkin::evaluate(&venue(), &ticket, [], &enter(utc(5, 14, 0)));
    assert!(matches!(decision, Err(Refusal::WrongResource { .. })));
}

#[test]
fn entries_outside_the_venue_entry_hours_are_refused_but_exits_are_not() {
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let rules = VenueRules {
        entry_hours: Some(EntryHours::new(t(9), t(17)).unwrap()),
        ..venue()
    };
    let ticket = claims(EntryPolicy::entries(5.try_into().unwrap()));
    let mut log = ScanLog::new();
    // 12:00Z is 08:00 in New York (EDT): too early. The refusal names the
    // hours, so a gate can say when the venue opens.
    let decision = reservo::checkin::evaluate(&rules, &ticket, [], &enter(utc(5, 12, 0)));
    assert_eq!(
        decision,
        Err(Refusal::OutsideEntryHours {
            local_time: t(8),
            hours: rules.entry_hours,
        })
    );
    let err = log
        .check_in(&rules, &ticket, enter(utc(5, 12, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "ENTRY_REFUSED");
    assert!(
        err.to_string()
            .contains("scanned at 08:00:00 venue time, entry from 09:00 to 17:00"),
        "{err}"
    );
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(5, 13, 0))).unwrap(),
        Passage::Entry
    );
    // 22:00Z is 18:00 in New York: leaving is always allowed.
    assert_eq!(
        log.check_in(&rules, &ticket, leave(utc(5, 22, 0))).unwrap(),
        Passage::Exit
    );
}

#[test]
fn anti_passback_needs_an_exit_between_entries_into_a_zone() {
    let rules = VenueRules {
        anti_passback: true,
        ..venue()
    };
    let ticket = claims(EntryPolicy::entries(10.try_into().unwrap()));
    let mut log = ScanLog::new();
    assert!(log.check_in(&rules, &ticket, enter(utc(5, 14, 0))).is_ok());
    let passed_back = scan("east-gate", "park", Direction::In, utc(5, 14, 5));
    let err = log.check_in(&rules, &ticket, passed_back).unwrap_err();
    assert_eq!(err.code(), "ENTRY_REFUSED");
    // Another zone is tracked on its own.
    let other_zone = scan("hall-gate", "hall", Direction::In, utc(5, 14, 10));
    assert!(log.check_in(&rules, &ticket, other_zone).is_ok());
    assert!(log.check_in(&rules, &ticket, leave(utc(5, 15, 0))).is_ok());
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(5, 16, 0))).unwrap(),
        Passage::Entry
    );
}

#[test]
fn history_of_other_tokens_does_not_count() {
    let rules = venue();
    let ticket = claims(EntryPolicy::default());
    let mut stranger = ticket.clone();
    stranger.token_id = TokenId::from_bytes(*b"other").unwrap();
    let mut log = ScanLog::new();
    assert!(
        log.check_in(&rules, &stranger, enter(utc(5, 14, 0)))
            .is_ok()
    );
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(5, 14, 1))).unwrap(),
        Passage::Entry
    );
    // `evaluate` given a history with the other token's entry in it.
    let strangers_entry = ScanRecord {
        token: stranger.token_id.clone(),
        scan: enter(utc(5, 14, 0)),
        outcome: Ok(Passage::Entry),
    };
    let decision =
        reservo::checkin::evaluate(&rules, &ticket, [&strangers_entry], &enter(utc(5, 14, 1)));
    assert_eq!(decision, Ok(Passage::Entry));
}

#[test]
fn entry_hours_admit_from_opening_up_to_but_not_at_closing() {
    let t = |h, m, s| NaiveTime::from_hms_opt(h, m, s).unwrap();
    let day = EntryHours::new(t(9, 0, 0), t(17, 0, 0)).unwrap();
    let night = EntryHours::new(t(20, 0, 0), t(3, 0, 0)).unwrap();
    assert!(!day.crosses_midnight() && night.crosses_midnight());
    for (hours, at, admitted) in [
        (day, t(8, 59, 59), false),
        (day, t(9, 0, 0), true),
        (day, t(16, 59, 59), true),
        (day, t(17, 0, 0), false),
        (night, t(19, 59, 59), false),
        (night, t(20, 0, 0), true),
        (night, t(2, 59, 59), true),
        (night, t(3, 0, 0), false),
    ] {
        assert_eq!(hours.contains(at), admitted, "{hours:?} at {at}");
    }
}

fn overnight() -> VenueRules {
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    VenueRules {
        entry_hours: Some(EntryHours::new(t(20), t(3)).unwrap()),
        ..venue()
    }
}

#[test]
fn overnight_entry_hours_admit_past_midnight_until_closing() {
    let rules = overnight();
    let ticket = claims(EntryPolicy::entries(10.try_into().unwrap()));
    let mut log = ScanLog::new();
    // New York is UTC-4 in October: 20:00 local is 00:00Z the next day.
    for (at, admitted) in [
        (utc(6, 23, 59), false), // 19:59 on the 6th
        (utc(7, 0, 0), true),    // 20:00
        (utc(7, 4, 0), true),    // midnight
        (utc(7, 6, 59), true),   // 02:59 on the 7th
        (utc(7, 7, 0), false),   // 03:00: closed
        (utc(7, 16, 0), false),  // noon
    ] {
        let decision = log.check_in(&rules, &ticket, enter(at));
        assert_eq!(decision.is_ok(), admitted, "{at}: {decision:?}");
        if admitted {
            log.check_in(&rules, &ticket, leave(at)).unwrap();
        } else {
            let refused = decision.unwrap_err().to_string();
            assert!(
                refused.contains("entry from 20:00 to 03:00 the next day"),
                "{refused}"
            );
        }
    }
}

#[test]
fn a_refusal_recorded_before_it_named_the_hours_still_reads() {
    let old = r#"{"reason":"outside_entry_hours","local_time":"08:00:00"}"#;
    let refusal: Refusal = serde_json::from_str(old).unwrap();
    assert_eq!(
        refusal,
        Refusal::OutsideEntryHours {
            local_time: NaiveTime::from_hms_opt(8, 0, 0).unwrap(),
            hours: None,
        }
    );
    let reason = reservo::Error::from(refusal).to_string();
    assert!(
        reason.contains("scanned at 08:00:00 venue time"),
        "{reason}"
    );
}

#[test]
fn with_overnight_hours_a_venue_day_runs_from_closing_to_closing() {
    let rules = overnight();
    let ticket = claims(EntryPolicy {
        reentry: true,
        ..EntryPolicy::once_per_day()
    });
    let mut log = ScanLog::new();
    // In at 23:00 on Friday the 9th (03:00Z on the 10th), out at 23:30.
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(10, 3, 0))).unwrap(),
        Passage::Entry
    );
    log.check_in(&rules, &ticket, leave(utc(10, 3, 30)))
        .unwrap();
    // Back at 01:00 on Saturday: still Friday's night, so a re-entry.
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(10, 5, 0))).unwrap(),
        Passage::ReEntry
    );
    log.check_in(&rules, &ticket, leave(utc(10, 5, 30)))
        .unwrap();
    // Saturday 21:00 (01:00Z on the 11th) is the next night: a new entry.
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(11, 1, 0))).unwrap(),
        Passage::Entry
    );
}

#[test]
fn with_overnight_hours_once_per_day_is_once_per_night() {
    let rules = overnight();
    let ticket = claims(EntryPolicy {
        reentry: false,
        ..EntryPolicy::once_per_day()
    });
    let mut log = ScanLog::new();
    // 23:00 Friday, then 01:00 Saturday: the same night, used up.
    assert!(log.check_in(&rules, &ticket, enter(utc(10, 3, 0))).is_ok());
    log.check_in(&rules, &ticket, leave(utc(10, 4, 0))).unwrap();
    let err = log
        .check_in(&rules, &ticket, enter(utc(10, 5, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
    // 20:00 Saturday (00:00Z on the 11th) opens the next night.
    assert!(log.check_in(&rules, &ticket, enter(utc(11, 0, 0))).is_ok());
}

#[test]
fn hours_closing_at_midnight_keep_civil_days() {
    let t = |h| NaiveTime::from_hms_opt(h, 0, 0).unwrap();
    let hours = EntryHours::new(t(18), NaiveTime::MIN).unwrap();
    assert!(hours.contains(t(23)) && hours.contains(t(18)));
    assert!(!hours.contains(NaiveTime::MIN) && !hours.contains(t(17)));
    let friday = chrono::NaiveDate::from_ymd_opt(2026, 10, 9).unwrap();
    assert_eq!(hours.venue_day(friday.and_time(NaiveTime::MIN)), friday);
    assert_eq!(hours.venue_day(friday.and_time(t(23))), friday);
}

#[test]
fn an_exit_on_a_later_day_does_not_make_the_next_entry_a_reentry() {
    // In on Monday evening, out on Tuesday morning (New York time), back
    // on Tuesday: Tuesday has an exit but no entry, so the return is a
    // new entry, and a two-entry ticket has used both.
    let mut log = ScanLog::new();
    let (rules, ticket) = (
        venue(),
        claims(EntryPolicy {
            reentry: true,
            ..EntryPolicy::entries(2.try_into().unwrap())
        }),
    );
    log.check_in(&rules, &ticket, enter(utc(5, 23, 0))).unwrap();
    log.check_in(&rules, &ticket, leave(utc(6, 14, 0))).unwrap();
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(6, 16, 0))).unwrap(),
        Passage::Entry
    );
    log.check_in(&rules, &ticket, leave(utc(6, 17, 0))).unwrap();
    assert_eq!(
        log.check_in(&rules, &ticket, enter(utc(6, 18, 0))).unwrap(),
        Passage::ReEntry,
        "Tuesday now has an entry"
    );
    log.check_in(&rules, &ticket, leave(utc(6, 19, 0))).unwrap();
    let wednesday = log.check_in(&rules, &ticket, enter(utc(7, 16, 0)));
    assert_eq!(wednesday.unwrap_err().code(), "TOKEN_ALREADY_USED");
}

/// A scan is decided now, so every admission already recorded happened
/// before it, even one stamped later by a gate whose clock runs ahead:
/// all of them count.
#[test]
fn an_admission_stamped_after_the_scan_still_counts() {
    let mut log = ScanLog::new();
    let (rules, ticket) = (venue(), claims(EntryPolicy::default()));
    let ahead = scan("east-gate", "park", Direction::In, utc(5, 14, 10));
    assert_eq!(
        log.check_in(&rules, &ticket, ahead).unwrap(),
        Passage::Entry
    );
    match log
        .check_in(&rules, &ticket, enter(utc(5, 14, 0)))
        .unwrap_err()
    {
        reservo::Error::TokenAlreadyUsed { used_at, gate } => {
            assert_eq!((used_at, gate.as_str()), (utc(5, 14, 10), "east-gate"));
        }
        other => panic!("expected TOKEN_ALREADY_USED, got {other}"),
    }
    let anti_passback = VenueRules {
        anti_passback: true,
        ..venue()
    };
    let mut log = ScanLog::new();
    let two = claims(EntryPolicy::entries(2.try_into().unwrap()));
    let ahead = scan("east-gate", "park", Direction::In, utc(5, 14, 10));
    log.check_in(&anti_passback, &two, ahead).unwrap();
    let err = log
        .check_in(&anti_passback, &two, enter(utc(5, 14, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "ENTRY_REFUSED");
    assert!(err.to_string().contains("anti-passback"), "{err}");
}
