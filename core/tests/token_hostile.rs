//! Hostile input: the decoder and verifier never panic, and accept no
//! altered or forged token.

#[path = "support/base45.rs"]
mod base45;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use reservo::ids::{BookingId, ResourceId};
use reservo::token::{
    EntryPolicy, GateId, IssuerKey, IssuerKeySet, RevocationList, Scope, TicketClaims, TokenId,
    ValidityWindow, Verifier, ZoneId,
};

fn keys() -> IssuerKeySet {
    IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [5; 32]))
}

/// A ticket that uses every claim, so every claim's bytes get mutated.
fn rich_claims() -> TicketClaims {
    TicketClaims {
        token_id: TokenId::from_bytes(*b"rich-001").unwrap(),
        booking: BookingId::new("BK-77").unwrap(),
        resource: ResourceId::new("arena").unwrap(),
        validity: ValidityWindow::new(
            Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 9, 4, 0, 0, 0).unwrap(),
        )
        .unwrap(),
        entry: EntryPolicy {
            per_day: Some(2.try_into().unwrap()),
            reentry: true,
            ..EntryPolicy::entries(5.try_into().unwrap())
        },
        scope: Scope {
            gates: [GateId::new("north").unwrap()].into(),
            zones: [ZoneId::new("vip").unwrap()].into(),
        },
    }
}

fn scan_time() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 2, 12, 0, 0).unwrap()
}

fn envelope() -> Vec<u8> {
    base45::decode(&keys().issue(&rich_claims())[4..])
}

#[test]
fn the_unaltered_rich_token_verifies() {
    let verifier = Verifier::new(keys().public_keys());
    let token = format!("RV1:{}", base45::encode(&envelope()));
    assert_eq!(
        verifier.verify_at(&token, scan_time()).unwrap(),
        rich_claims()
    );
}

#[test]
fn every_single_byte_change_of_a_token_is_rejected() {
    let verifier = Verifier::new(keys().public_keys());
    let bytes = envelope();
    for at in 0..bytes.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut altered = bytes.clone();
            altered[at] ^= flip;
            let token = format!("RV1:{}", base45::encode(&altered));
            let result = verifier.verify_at(&token, scan_time());
            assert!(result.is_err(), "byte {at} ^ {flip:#04x} was accepted");
        }
    }
}

#[test]
fn truncated_or_extended_tokens_are_rejected() {
    let verifier = Verifier::new(keys().public_keys());
    let bytes = envelope();
    for len in 0..bytes.len() {
        let token = format!("RV1:{}", base45::encode(&bytes[..len]));
        assert!(
            verifier.verify_at(&token, scan_time()).is_err(),
            "prefix of {len} bytes"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let token = format!("RV1:{}", base45::encode(&longer));
    assert_eq!(
        verifier.verify_at(&token, scan_time()).unwrap_err().code(),
        "TOKEN_MALFORMED"
    );
}

#[test]
fn a_revocation_list_is_not_accepted_as_a_ticket() {
    let verifier = Verifier::new(keys().public_keys());
    let list = RevocationList::new(1, scan_time()).unwrap().sign(&keys());
    let token = format!("RV1:{}", base45::encode(&list));
    assert_eq!(
        verifier.verify_at(&token, scan_time()).unwrap_err().code(),
        "TOKEN_MALFORMED"
    );
    let mut scanner = Verifier::new(keys().public_keys());
    assert_eq!(
        scanner.apply_revocations(&envelope()).unwrap_err().code(),
        "TOKEN_MALFORMED"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_byte_replaced_anywhere_is_rejected(at in 0usize..1000, byte in any::<u8>()) {
        let mut bytes = envelope();
        let at = at % bytes.len();
        prop_assume!(bytes[at] != byte);
        bytes[at] = byte;
        let token = format!("RV1:{}", base45::encode(&bytes));
        prop_assert!(Verifier::new(keys().public_keys()).verify_at(&token, scan_time()).is_err());
    }

    #[test]
    fn random_text_is_rejected_without_panic(text in ".{0,300}") {
        let verifier = Verifier::new(keys().public_keys());
        prop_assert!(verifier.verify_at(&text, scan_time()).is_err());
        let prefixed = format!("RV1:{text}");
        prop_assert!(verifier.verify_at(&prefixed, scan_time()).is_err());
    }

    #[test]
    fn random_bytes_are_rejected_as_tokens_and_lists(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut verifier = Verifier::new(keys().public_keys());
        let token = format!("RV1:{}", base45::encode(&bytes));
        prop_assert!(verifier.verify_at(&token, scan_time()).is_err());
        prop_assert!(verifier.apply_revocations(&bytes).is_err());
    }

    #[test]
    fn random_base45_text_is_rejected(text in "[0-9A-Z $%*+./:-]{0,300}") {
        let verifier = Verifier::new(keys().public_keys());
        let token = format!("RV1:{text}");
        prop_assert!(verifier.verify_at(&token, scan_time()).is_err());
    }
}
