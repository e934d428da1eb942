//! Scan logs from offline gates merge without double counting, and double
//! admissions show up once they are merged.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use reservo::checkin::{
    Direction, Passage, Refusal, Scan, ScanId, ScanLog, ScanRecord, VenueRules,
};
use reservo::ids::{BookingId, ResourceId};
use reservo::token::{EntryPolicy, GateId, Scope, TicketClaims, TokenId, ValidityWindow, ZoneId};

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 3, 12, 0, 0).unwrap()
}

fn venue(anti_passback: bool) -> VenueRules {
    VenueRules {
        time_zone: "Europe/Paris".parse().unwrap(),
        resources: [ResourceId::new("expo").unwrap()].into(),
        entry_hours: None,
        anti_passback,
    }
}

fn ticket(entries: u32) -> TicketClaims {
    TicketClaims {
        token_id: TokenId::from_bytes(*b"expo-1").unwrap(),
        booking: BookingId::new("BK-3").unwrap(),
        resource: ResourceId::new("expo").unwrap(),
        validity: ValidityWindow::new(noon() - Duration::days(1), noon() + Duration::days(1))
            .unwrap(),
        entry: EntryPolicy::entries(entries.try_into().unwrap()),
        scope: Scope::default(),
    }
}

fn entry_at(gate: &str, minutes: i64) -> Scan {
    Scan {
        id: ScanId::generate(),
        gate: GateId::new(gate).unwrap(),
        zone: ZoneId::new("hall").unwrap(),
        direction: Direction::In,
        at: noon() + Duration::minutes(minutes),
    }
}

#[test]
fn two_offline_gates_admitting_the_last_entry_are_reported_after_merge() {
    let (rules, claims) = (venue(false), ticket(1));
    let mut north = ScanLog::new();
    let mut south = ScanLog::new();
    assert!(
        north
            .check_in(&rules, &claims, entry_at("north", 0))
            .is_ok()
    );
    assert!(
        south
            .check_in(&rules, &claims, entry_at("south", 5))
            .is_ok()
    );

    let mut server = ScanLog::new();
    assert_eq!(server.merge(&north).added, 1);
    assert_eq!(server.merge(&south).added, 1);
    let doubles = server.double_admissions(&rules, &claims);
    assert_eq!(doubles.len(), 1);
    assert_eq!(doubles[0].record.scan.gate.as_str(), "south");
    assert!(matches!(
        &doubles[0].refusal,
        Refusal::AlreadyUsed { gate, .. } if gate.as_str() == "north"
    ));
    // Once merged, the gate refuses further entries.
    let err = server
        .check_in(&rules, &claims, entry_at("north", 30))
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
}

#[test]
fn admissions_within_the_allowance_are_not_doubles() {
    let (rules, claims) = (venue(false), ticket(2));
    let mut north = ScanLog::new();
    let mut south = ScanLog::new();
    north
        .check_in(&rules, &claims, entry_at("north", 0))
        .unwrap();
    south
        .check_in(&rules, &claims, entry_at("south", 5))
        .unwrap();
    north.merge(&south);
    assert!(north.double_admissions(&rules, &claims).is_empty());
}

#[test]
fn passback_through_two_offline_gates_is_reported() {
    let (rules, claims) = (venue(true), ticket(10));
    let mut north = ScanLog::new();
    let mut south = ScanLog::new();
    north
        .check_in(&rules, &claims, entry_at("north", 0))
        .unwrap();
    south
        .check_in(&rules, &claims, entry_at("south", 1))
        .unwrap();
    north.merge(&south);
    let doubles = north.double_admissions(&rules, &claims);
    assert_eq!(doubles.len(), 1);
    assert!(matches!(doubles[0].refusal, Refusal::AlreadyInside { .. }));
}

#[test]
fn two_records_under_one_scan_id_resolve_the_same_in_either_order() {
    let scan = entry_at("north", 0);
    let token = TokenId::from_bytes(*b"expo-1").unwrap();
    let admitted = ScanRecord {
        token: token.clone(),
        scan: scan.clone(),
        outcome: Ok(Passage::Entry),
    };
    let mut moved = scan;
    moved.gate = GateId::new("south").unwrap();
    let other = ScanRecord {
        token,
        scan: moved,
        outcome: Ok(Passage::Entry),
    };
    let (mut a, mut b) = (ScanLog::new(), ScanLog::new());
    a.insert(admitted.clone());
    b.insert(other.clone());
    let mut ab = a.clone();
    let report = ab.merge(&b);
    assert_eq!(report.conflicts.len(), 1);
    let mut ba = b.clone();
    ba.merge(&a);
    assert_eq!(ab, ba);
}

fn arb_log() -> impl Strategy<Value = ScanLog> {
    // Records drawn from a small pool of ids so that logs overlap.
    proptest::collection::vec((0u8..12, 0i64..600, any::<bool>(), 0u8..3), 0..12).prop_map(|rows| {
        let mut log = ScanLog::new();
        for (id, minutes, inward, gate) in rows {
            let scan = Scan {
                id: ScanId::new(format!("scan-{id}")).unwrap(),
                gate: GateId::new(format!("gate-{gate}")).unwrap(),
                zone: ZoneId::new("hall").unwrap(),
                direction: if inward {
                    Direction::In
                } else {
                    Direction::Out
                },
                at: noon() + Duration::minutes(i64::from(id) * 1000 + minutes % 7),
            };
            let outcome = if inward {
                Ok(Passage::Entry)
            } else {
                Ok(Passage::Exit)
            };
            log.insert(ScanRecord {
                token: TokenId::from_bytes(*b"expo-1").unwrap(),
                scan,
                outcome,
            });
        }
        log
    })
}

proptest! {
    #[test]
    fn merging_is_idempotent_and_commutative(a in arb_log(), b in arb_log(), c in arb_log()) {
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        prop_assert_eq!(&ab, &ba);

        let mut again = ab.clone();
        let report = again.merge(&b);
        prop_assert_eq!(report.added, 0);
        prop_assert_eq!(&again, &ab);

        let mut ab_c = ab.clone();
        ab_c.merge(&c);
        let mut bc = b.clone();
        bc.merge(&c);
        let mut a_bc = a.clone();
        a_bc.merge(&bc);
        prop_assert_eq!(ab_c, a_bc);
    }

    #[test]
    fn merged_entries_are_counted_once_however_often_logs_are_synced(a in arb_log(), b in arb_log()) {
        let mut server = ScanLog::new();
        for _ in 0..3 {
            server.merge(&a);
            server.merge(&b);
        }
        let mut once = a.clone();
        once.merge(&b);
        prop_assert_eq!(server.len(), once.len());
        let claims = ticket(1);
        let rules = venue(false);
        let entries = server
            .for_token(&claims.token_id)
            .iter()
            .filter(|r| r.passage() == Some(Passage::Entry))
            .count();
        let doubles = server.double_admissions(&rules, &claims).len();
        prop_assert_eq!(doubles, entries.saturating_sub(1));
    }
}

#[test]
fn a_gate_sending_an_admitted_scan_again_gets_its_first_decision() {
    let (rules, claims) = (venue(false), ticket(1));
    let mut log = ScanLog::new();
    let scan = entry_at("north", 0);
    let first = log.check_in(&rules, &claims, scan.clone()).unwrap();
    assert_eq!(first, Passage::Entry);
    // The gate's retry is stamped anew; it is still the same scan.
    let mut again = scan.clone();
    again.at += Duration::seconds(3);
    assert_eq!(
        log.check_in(&rules, &claims, again).unwrap(),
        Passage::Entry
    );
    assert_eq!(log.len(), 1);
    // A new scan of the used ticket is refused.
    let err = log
        .check_in(&rules, &claims, entry_at("north", 1))
        .unwrap_err();
    assert_eq!(err.code(), "TOKEN_ALREADY_USED");
    // The id sent again from another gate is a conflict, recorded nowhere.
    let mut elsewhere = scan;
    elsewhere.gate = GateId::new("south").unwrap();
    let err = log.check_in(&rules, &claims, elsewhere).unwrap_err();
    assert_eq!(err.code(), "IDEMPOTENCY_CONFLICT");
    assert_eq!(log.len(), 2);
}

#[test]
fn a_scan_id_claimed_by_an_admission_and_a_refusal_keeps_the_admission_in_either_order() {
    let scan = entry_at("north", 0);
    let admitted = ScanRecord {
        token: TokenId::from_bytes(*b"zzzz-9").unwrap(),
        scan: scan.clone(),
        outcome: Ok(Passage::Entry),
    };
    let refused = ScanRecord {
        token: ticket(1).token_id,
        scan,
        outcome: Err(Refusal::WrongGate {
            gate: GateId::new("north").unwrap(),
        }),
    };
    // By its ordering alone the refusal would be kept.
    assert!(refused < admitted);
    for (first, second) in [(&admitted, &refused), (&refused, &admitted)] {
        let (mut log, mut other) = (ScanLog::new(), ScanLog::new());
        log.insert(first.clone());
        other.insert(second.clone());
        assert_eq!(log.merge(&other).conflicts.len(), 1);
        assert_eq!(log.records().collect::<Vec<_>>(), [&admitted]);
        assert_eq!(log.for_token(&admitted.token).len(), 1);
        assert!(log.for_token(&refused.token).is_empty());
    }
}

/// A ticket of `entries` entries with re-entry, and the merged log of
/// three gates: north admits at noon and lets the person out at 13:00;
/// south, offline, records their return at 13:30 as an entry (it saw no
/// history); east, offline too, admits them again at 14:00.
fn return_through_an_offline_gate(entries: u32) -> (VenueRules, TicketClaims, ScanLog) {
    let rules = venue(false);
    let claims = TicketClaims {
        entry: EntryPolicy {
            reentry: true,
            ..EntryPolicy::entries(entries.try_into().unwrap())
        },
        ..ticket(entries)
    };
    let mut north = ScanLog::new();
    north
        .check_in(&rules, &claims, entry_at("north", 0))
        .unwrap();
    let out = exit_at("north", 60);
    assert_eq!(north.check_in(&rules, &claims, out).unwrap(), Passage::Exit);
    let mut south = ScanLog::new();
    let back = south.check_in(&rules, &claims, entry_at("south", 90));
    assert_eq!(back.unwrap(), Passage::Entry, "south saw no history");
    let mut east = ScanLog::new();
    assert!(east.is_empty());
    east.check_in(&rules, &claims, entry_at("east", 120))
        .unwrap();
    assert!(!east.is_empty());
    let mut server = ScanLog::new();
    for log in [&north, &south, &east] {
        server.merge(log);
    }
    assert_eq!(server.len(), 4);
    (rules, claims, server)
}

fn exit_at(gate: &str, minutes: i64) -> Scan {
    Scan {
        direction: Direction::Out,
        ..entry_at(gate, minutes)
    }
}

#[test]
fn a_return_an_offline_gate_recorded_as_an_entry_uses_no_allowance() {
    // Replayed in scan order, south's scan is a re-entry, so east's is
    // only the second entry of a two-entry ticket: no double admission.
    let (rules, claims, mut server) = return_through_an_offline_gate(2);
    assert_eq!(server.double_admissions(&rules, &claims), []);
    server
        .check_in(&rules, &claims, exit_at("east", 150))
        .unwrap();
    let next_day = server.check_in(&rules, &claims, entry_at("east", 24 * 60));
    assert_eq!(next_day.unwrap_err().code(), "TOKEN_ALREADY_USED");

    // With three entries, the gate that decides on the merged log counts
    // two used, not three, and admits the next day.
    let (rules, claims, mut server) = return_through_an_offline_gate(3);
    server
        .check_in(&rules, &claims, exit_at("east", 150))
        .unwrap();
    let next_day = server.check_in(&rules, &claims, entry_at("east", 24 * 60));
    assert_eq!(next_day.unwrap(), Passage::Entry);
    let after = server.check_in(&rules, &claims, entry_at("east", 24 * 60 + 5));
    assert_eq!(after.unwrap_err().code(), "TOKEN_ALREADY_USED");
}

#[test]
fn a_scan_record_prints_its_scan_token_gate_and_instant() {
    let scan = entry_at("north", 0);
    let record = ScanRecord {
        token: TokenId::from_bytes(*b"expo-1").unwrap(),
        scan: Scan {
            id: ScanId::new("s-1").unwrap(),
            ..scan
        },
        outcome: Ok(Passage::Entry),
    };
    assert_eq!(
        record.to_string(),
        "scan s-1 of token 6578706f2d31 at gate north at 2026-11-03 12:00:00 UTC"
    );
}
