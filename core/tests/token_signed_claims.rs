//! Tokens signed with a trusted key whose claims the RV1 format does not
//! allow: a buggy or newer issuer must not get a ticket past a scanner
//! that reads it differently. Each claims set here is signed exactly as
//! the issuer signs (`coset` + `ed25519-dalek`), so only the claims decide.

#[path = "support/base45.rs"]
mod base45;

use chrono::{TimeZone, Utc};
use ciborium::Value;
use coset::cwt::{ClaimName, ClaimsSet, Timestamp};
use coset::{CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, iana};
use ed25519_dalek::{Signer, SigningKey};
use reservo::ids::{BookingId, ResourceId};
use reservo::token::{
    CLAIM_ENTRIES, CLAIM_GATES, CLAIM_PER_DAY, CLAIM_REENTRY, CLAIM_ZONES, Entries, EntryPolicy,
    GateId, IssuerKey, IssuerKeySet, Scope, TicketClaims, TokenId, ValidityWindow, Verifier,
    ZoneId,
};

const SEED: [u8; 32] = [5; 32];

fn keys() -> IssuerKeySet {
    IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), SEED))
}

fn claims() -> TicketClaims {
    TicketClaims {
        token_id: TokenId::from_bytes(*b"sc-001").unwrap(),
        booking: BookingId::new("BK-9").unwrap(),
        resource: ResourceId::new("arena").unwrap(),
        validity: ValidityWindow::new(
            Utc.with_ymd_and_hms(2026, 9, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 9, 4, 0, 0, 0).unwrap(),
        )
        .unwrap(),
        entry: EntryPolicy::default(),
        scope: Scope::default(),
    }
}

/// The claims set the issuer writes for [`claims`], read back with coset.
fn issued_set() -> ClaimsSet {
    let token = keys().issue(&claims());
    let envelope = base45::decode(&token[4..]);
    let sign1 = CoseSign1::from_slice(&envelope).unwrap();
    ClaimsSet::from_slice(&sign1.payload.unwrap()).unwrap()
}

/// `set` signed as the issuer signs: alg EdDSA and kid `k1` protected,
/// nothing unprotected, no external AAD.
fn sign(set: ClaimsSet) -> String {
    let key = SigningKey::from_bytes(&SEED);
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(b"k1".to_vec())
        .build();
    let envelope = CoseSign1Builder::new()
        .protected(protected)
        .payload(set.to_vec().unwrap())
        .create_signature(&[], |tbs| key.sign(tbs).to_bytes().to_vec())
        .build()
        .to_vec()
        .unwrap();
    format!("RV1:{}", base45::encode(&envelope))
}

fn verify(token: &str) -> reservo::Result<TicketClaims> {
    let scan = Utc.with_ymd_and_hms(2026, 9, 2, 12, 0, 0).unwrap();
    Verifier::new(keys().public_keys()).verify_at(token, scan)
}

/// The issued claims set plus one private claim.
fn with_claim(key: i64, value: Value) -> ClaimsSet {
    let mut set = issued_set();
    set.rest.push((ClaimName::PrivateUse(key), value));
    set
}

fn texts(items: &[&str]) -> Value {
    Value::Array(items.iter().map(|&t| Value::from(t)).collect())
}

fn refused(set: ClaimsSet, what: &str) {
    let err = verify(&sign(set)).unwrap_err();
    assert_eq!(err.code(), "TOKEN_MALFORMED", "{what}: {err}");
}

#[test]
fn the_helper_signs_exactly_as_the_issuer_does() {
    assert_eq!(sign(issued_set()), keys().issue(&claims()));
    assert_eq!(verify(&sign(issued_set())).unwrap(), claims());
}

#[test]
fn an_issuer_or_issued_at_claim_is_refused_on_its_own() {
    let mut with_iss = issued_set();
    with_iss.issuer = Some("reservo".into());
    refused(with_iss, "iss without iat");
    let mut with_iat = issued_set();
    with_iat.issued_at = Some(Timestamp::WholeSeconds(1_788_000_000));
    refused(with_iat, "iat without iss");
}

#[test]
fn validity_times_must_be_whole_non_negative_seconds_in_order() {
    let mut negative = issued_set();
    negative.not_before = Some(Timestamp::WholeSeconds(-1));
    refused(negative, "nbf before 1970");
    let mut fractional = issued_set();
    fractional.expiration_time = Some(Timestamp::FractionalSeconds(1_788_000_000.5));
    refused(fractional, "fractional exp");
    let mut missing = issued_set();
    missing.not_before = None;
    refused(missing, "no nbf");
    let mut backwards = issued_set();
    backwards.expiration_time = backwards.not_before.clone();
    refused(backwards, "exp = nbf");
}

#[test]
fn subject_audience_and_token_id_are_required() {
    let mut no_sub = issued_set();
    no_sub.subject = None;
    refused(no_sub, "no sub");
    let mut no_aud = issued_set();
    no_aud.audience = None;
    refused(no_aud, "no aud");
    let mut no_cti = issued_set();
    no_cti.cwt_id = None;
    refused(no_cti, "no cti");
    let mut long_cti = issued_set();
    long_cti.cwt_id = Some(vec![7; 17]);
    refused(long_cti, "17-byte cti");
}

#[test]
fn entry_counts_are_whole_numbers_from_one_and_null_means_unlimited() {
    for (value, what) in [
        (Value::from(0), "0 entries"),
        (Value::from(-3), "negative entries"),
        (Value::from(1u64 << 32), "2^32 entries"),
        (Value::from("5"), "entries as text"),
    ] {
        refused(with_claim(CLAIM_ENTRIES, value.clone()), what);
        refused(with_claim(CLAIM_PER_DAY, value), what);
    }
    let unlimited = verify(&sign(with_claim(CLAIM_ENTRIES, Value::Null))).unwrap();
    assert_eq!(unlimited.entry.entries, Entries::Unlimited);
    let most = verify(&sign(with_claim(CLAIM_PER_DAY, Value::from(u32::MAX)))).unwrap();
    assert_eq!(most.entry.per_day.map(|n| n.get()), Some(u32::MAX));
}

#[test]
fn reentry_is_present_only_as_true() {
    refused(
        with_claim(CLAIM_REENTRY, Value::Bool(false)),
        "reentry false",
    );
    refused(with_claim(CLAIM_REENTRY, Value::from(1)), "reentry 1");
    let ok = verify(&sign(with_claim(CLAIM_REENTRY, Value::Bool(true)))).unwrap();
    assert!(ok.entry.reentry);
}

#[test]
fn gates_and_zones_are_non_empty_sorted_arrays_of_distinct_ids() {
    for key in [CLAIM_GATES, CLAIM_ZONES] {
        refused(with_claim(key, texts(&["north", "east"])), "unsorted");
        refused(with_claim(key, texts(&["east", "east"])), "repeated");
        refused(with_claim(key, texts(&[])), "empty");
        refused(with_claim(key, Value::from("east")), "not an array");
        refused(
            with_claim(key, Value::Array(vec![Value::from(1)])),
            "not text",
        );
        refused(with_claim(key, texts(&["not an id!"])), "not an id");
    }
    let gates = verify(&sign(with_claim(CLAIM_GATES, texts(&["east", "north"])))).unwrap();
    let expected: std::collections::BTreeSet<GateId> =
        [GateId::new("east").unwrap(), GateId::new("north").unwrap()].into();
    assert_eq!(gates.scope.gates, expected);
    let zones = verify(&sign(with_claim(CLAIM_ZONES, texts(&["pit", "vip"])))).unwrap();
    assert!(zones.scope.admits_zone(&ZoneId::new("pit").unwrap()));
    assert!(!zones.scope.admits_zone(&ZoneId::new("lawn").unwrap()));
}

#[test]
fn claims_this_version_does_not_define_are_refused() {
    refused(with_claim(-65542, Value::Bool(true)), "next private key");
    let mut registered = issued_set();
    registered
        .rest
        .push((ClaimName::Assigned(iana::CwtClaimName::Cnf), Value::Null));
    refused(registered, "cnf");
}
