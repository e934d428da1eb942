//! Issue and verify throughput of entry tokens on one core.
//!
//! Targets: issue >= 30,000/s (<= 33 µs each), verify >= 15,000/s
//! (<= 66 µs each). Run: `cargo bench -p reservo-benches --bench token`.

use chrono::{TimeZone, Utc};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reservo::ids::{BookingId, ResourceId};
use reservo::token::{
    EntryPolicy, IssuerKey, IssuerKeySet, RevocationList, Scope, TicketClaims, TokenId,
    ValidityWindow, Verifier,
};

fn claims() -> TicketClaims {
    TicketClaims {
        token_id: TokenId::from_bytes(*b"bench-01").unwrap(),
        booking: BookingId::new("BK7Q3M9X").unwrap(),
        resource: ResourceId::new("museum").unwrap(),
        validity: ValidityWindow::new(
            Utc.with_ymd_and_hms(2026, 7, 1, 7, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 7, 1, 20, 0, 0).unwrap(),
        )
        .unwrap(),
        entry: EntryPolicy::default(),
        scope: Scope::default(),
    }
}

fn token(c: &mut Criterion) {
    let keys = IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [3; 32]));
    let claims = claims();
    let token = keys.issue(&claims);
    let mut verifier = Verifier::new(keys.public_keys());
    // A realistic list in force: 1,000 revoked tokens.
    let mut list =
        RevocationList::new(1, Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap()).unwrap();
    for n in 0u32..1000 {
        list.revoke_token(TokenId::from_bytes(n.to_be_bytes()).unwrap());
    }
    verifier.apply_revocations(&list.sign(&keys)).unwrap();
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
    assert!(verifier.verify_at(&token, at).is_ok());

    let mut group = c.benchmark_group("token");
    group.throughput(Throughput::Elements(1));
    group.bench_function("issue", |b| {
        b.iter(|| keys.issue(std::hint::black_box(&claims)))
    });
    group.bench_function("verify", |b| {
        b.iter(|| verifier.verify_at(std::hint::black_box(&token), at))
    });
    group.finish();
}

criterion_group!(benches, token);
criterion_main!(benches);
