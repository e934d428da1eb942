//! Offline verification: every failure has its own error, keys rotate
//! safely, PEM keys from other tools load, revocation lists only move forward.

use chrono::{DateTime, Duration, TimeZone, Utc};
use reservo::ids::{BookingId, ResourceId};
use reservo::time::ManualClock;
use reservo::token::{
    EntryPolicy, IssuerKey, IssuerKeySet, PublicKey, PublicKeySet, RevocationList, Scope,
    TicketClaims, TokenId, ValidityWindow, Verifier,
};

fn at(hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 8, 15, hour, 0, 0).unwrap()
}

fn key(kid: &str, seed: u8) -> IssuerKey {
    IssuerKey::from_seed(kid.parse().unwrap(), [seed; 32])
}

fn ticket(token: &[u8], booking: &str) -> TicketClaims {
    TicketClaims {
        token_id: TokenId::from_bytes(token).unwrap(),
        booking: BookingId::new(booking).unwrap(),
        resource: ResourceId::new("festival").unwrap(),
        validity: ValidityWindow::new(at(10), at(22)).unwrap(),
        entry: EntryPolicy::default(),
        scope: Scope::default(),
    }
}

fn code(result: reservo::Result<TicketClaims>) -> &'static str {
    result.unwrap_err().code()
}

#[test]
fn a_valid_token_verifies_by_the_clock_and_returns_its_claims() {
    let keys = IssuerKeySet::new(key("k1", 1));
    let claims = ticket(b"t1", "BK-1");
    let token = keys.issue(&claims);
    let clock = ManualClock::new(at(12));
    assert_eq!(
        Verifier::new(keys.public_keys())
            .verify(&token, &clock)
            .unwrap(),
        claims
    );
}

#[test]
fn bad_encodings_are_malformed() {
    let verifier = Verifier::new(IssuerKeySet::new(key("k1", 1)).public_keys());
    for text in [
        "", "RV1:", "RV2:BB8", "rv1:BB8", "RV1:bb8", "RV1:GGW", "RV1:BB8A", "RV1:BB8",
    ] {
        assert_eq!(
            code(verifier.verify_at(text, at(12))),
            "TOKEN_MALFORMED",
            "{text:?}"
        );
    }
}

#[test]
fn a_token_from_a_key_not_in_the_set_is_an_unknown_key() {
    let token = IssuerKeySet::new(key("other", 9)).issue(&ticket(b"t1", "BK-1"));
    let verifier = Verifier::new(IssuerKeySet::new(key("k1", 1)).public_keys());
    assert_eq!(
        code(verifier.verify_at(&token, at(12))),
        "TOKEN_UNKNOWN_KEY"
    );
}

#[test]
fn a_token_signed_by_a_different_key_under_a_known_kid_has_a_bad_signature() {
    let token = IssuerKeySet::new(key("k1", 9)).issue(&ticket(b"t1", "BK-1"));
    let verifier = Verifier::new(IssuerKeySet::new(key("k1", 1)).public_keys());
    assert_eq!(
        code(verifier.verify_at(&token, at(12))),
        "TOKEN_BAD_SIGNATURE"
    );
}

#[test]
fn validity_is_checked_at_both_ends_with_leeway() {
    let keys = IssuerKeySet::new(key("k1", 1));
    let token = keys.issue(&ticket(b"t1", "BK-1"));
    let strict = Verifier::new(keys.public_keys());
    let second = Duration::seconds(1);
    assert_eq!(
        code(strict.verify_at(&token, at(10) - second)),
        "TOKEN_NOT_YET_VALID"
    );
    assert!(strict.verify_at(&token, at(10)).is_ok());
    assert!(strict.verify_at(&token, at(22) - second).is_ok());
    assert_eq!(code(strict.verify_at(&token, at(22))), "TOKEN_EXPIRED");

    let lenient = strict.with_leeway(Duration::minutes(2)).unwrap();
    assert!(
        lenient
            .verify_at(&token, at(10) - Duration::minutes(2))
            .is_ok()
    );
    assert!(
        lenient
            .verify_at(&token, at(22) + Duration::seconds(119))
            .is_ok()
    );
    assert_eq!(
        code(lenient.verify_at(&token, at(22) + Duration::minutes(2))),
        "TOKEN_EXPIRED"
    );
    // Leeway runs from none to one hour, both ends included.
    let leeway =
        |seconds| Verifier::new(keys.public_keys()).with_leeway(Duration::seconds(seconds));
    for seconds in [0, 3_600] {
        assert!(leeway(seconds).is_ok(), "{seconds} s");
    }
    for seconds in [-1, 3_601] {
        assert_eq!(
            leeway(seconds).unwrap_err().code(),
            "INVALID_INPUT",
            "{seconds} s"
        );
    }
}

#[test]
fn revoked_tokens_and_bookings_are_refused_once_the_list_is_applied() {
    let keys = IssuerKeySet::new(key("k1", 1));
    let lost_phone = keys.issue(&ticket(b"t1", "BK-1"));
    let reissued = keys.issue(&ticket(b"t2", "BK-1"));
    let cancelled = keys.issue(&ticket(b"t3", "BK-2"));
    let mut scanner = Verifier::new(keys.public_keys());
    assert!(scanner.verify_at(&cancelled, at(12)).is_ok());

    let mut list = RevocationList::new(1, at(9)).unwrap();
    list.revoke_token(TokenId::from_bytes(*b"t1").unwrap());
    list.revoke_booking(BookingId::new("BK-2").unwrap());
    assert_eq!(
        list.tokens().iter().collect::<Vec<_>>(),
        [&TokenId::from_bytes(*b"t1").unwrap()]
    );
    scanner.apply_revocations(&list.sign(&keys)).unwrap();

    assert_eq!(
        code(scanner.verify_at(&lost_phone, at(12))),
        "TOKEN_REVOKED"
    );
    assert_eq!(code(scanner.verify_at(&cancelled, at(12))), "TOKEN_REVOKED");
    assert!(scanner.verify_at(&reissued, at(12)).is_ok());
}

#[test]
fn a_scanner_only_accepts_newer_revocation_lists() {
    let keys = IssuerKeySet::new(key("k1", 1));
    let mut scanner = Verifier::new(keys.public_keys());
    let mut list = RevocationList::new(5, at(9)).unwrap();
    list.revoke_booking(BookingId::new("BK-2").unwrap());
    scanner.apply_revocations(&list.sign(&keys)).unwrap();

    let older = RevocationList::new(4, at(10)).unwrap();
    let same = RevocationList::new(5, at(10)).unwrap();
    for stale in [older, same] {
        let err = scanner.apply_revocations(&stale.sign(&keys)).unwrap_err();
        assert_eq!(err.code(), "INVALID_INPUT");
    }
    assert_eq!(scanner.revocations(), Some(&list));
    let newer = list.next(at(11)).unwrap();
    // The next list keeps the entries under its own issue time.
    assert_eq!((newer.sequence(), newer.issued_at()), (6, at(11)));
    assert_eq!(newer.bookings(), list.bookings());
    assert!(newer.tokens().is_empty());
    let applied = scanner.apply_revocations(&newer.sign(&keys)).unwrap();
    assert_eq!(applied.sequence(), 6);
    assert_eq!(
        applied
            .bookings()
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>(),
        ["BK-2"]
    );
}

#[test]
fn a_revocation_list_signed_by_a_stranger_is_refused() {
    let keys = IssuerKeySet::new(key("k1", 1));
    let stranger = IssuerKeySet::new(key("k1", 7));
    let mut scanner = Verifier::new(keys.public_keys());
    let forged = RevocationList::new(9, at(9)).unwrap().sign(&stranger);
    assert_eq!(
        scanner.apply_revocations(&forged).unwrap_err().code(),
        "TOKEN_BAD_SIGNATURE"
    );
    assert!(scanner.revocations().is_none());
}

#[test]
fn a_token_from_a_rotated_out_key_verifies_until_the_key_is_removed() {
    let mut keys = IssuerKeySet::new(key("2026a", 1));
    let old_token = keys.issue(&ticket(b"old", "BK-1"));
    keys.rotate_to(key("2026b", 2)).unwrap();
    let new_token = keys.issue(&ticket(b"new", "BK-1"));

    let mut scanner = Verifier::new(keys.public_keys());
    assert!(scanner.verify_at(&old_token, at(12)).is_ok());
    assert!(scanner.verify_at(&new_token, at(12)).is_ok());

    keys.remove(&"2026a".parse().unwrap()).unwrap();
    scanner.keys_mut().remove(&"2026a".parse().unwrap());
    assert_eq!(
        code(scanner.verify_at(&old_token, at(12))),
        "TOKEN_UNKNOWN_KEY"
    );
    assert!(scanner.verify_at(&new_token, at(12)).is_ok());
    assert_eq!(keys.public_keys(), *scanner.keys_mut());
}

/// RFC 8410 section 10.3's private key and the public key of section 10.1.
const RFC_8410_PRIVATE: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
";
const RFC_8410_PUBLIC: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PUBLIC KEY-----
";

#[test]
fn pem_keys_written_by_other_tools_load_and_match() {
    let private = IssuerKey::from_pkcs8_pem("k1".parse().unwrap(), RFC_8410_PRIVATE).unwrap();
    let public = PublicKey::from_public_key_pem("k1".parse().unwrap(), RFC_8410_PUBLIC).unwrap();
    assert_eq!(private.public_key(), public);

    let keys = IssuerKeySet::new(private);
    let mut scanner_keys = PublicKeySet::new();
    scanner_keys.insert(public).unwrap();
    let token = keys.issue(&ticket(b"t1", "BK-1"));
    assert!(
        Verifier::new(scanner_keys)
            .verify_at(&token, at(12))
            .is_ok()
    );
}

#[test]
fn keys_survive_raw_and_pem_round_trips() {
    let key = IssuerKey::generate("k1".parse().unwrap()).unwrap();
    let from_seed = IssuerKey::from_seed("k1".parse().unwrap(), key.to_seed());
    let from_pem = IssuerKey::from_pkcs8_pem("k1".parse().unwrap(), &key.to_pkcs8_pem().unwrap());
    assert_eq!(from_seed.public_key(), key.public_key());
    assert_eq!(from_pem.unwrap().public_key(), key.public_key());
    assert_eq!(
        IssuerKey::from_pkcs8_pem("k1".parse().unwrap(), RFC_8410_PUBLIC)
            .unwrap_err()
            .code(),
        "INVALID_INPUT"
    );
}
