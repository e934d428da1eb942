//! Tickets follow the booking through the money flows: a deposit booking
//! gets its tickets once fully paid, a modification re-issues them, a
//! cancellation revokes them for every scanner that syncs the list, and
//! revoked tickets leave the list once every verifier refuses them as
//! expired.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use catalog::world_with;
use gateway::TestGateway;
use std::collections::BTreeSet;

use chrono::Duration;
use money::{Shop, cancel, deposit, hold_villa, pay, villa, villa_paid_in_full};
use reservo::engine::{
    Booking, CompleteRequest, DeskCheckInRequest, ModifyRequest, PayAmount, PayBalanceRequest,
    TicketSettings,
};
use reservo::token::{IssuerKey, IssuerKeySet, RevocationList, TokenId, Verifier};

/// A shop whose engine also issues tickets.
async fn ticketing_shop() -> Shop {
    ticketing_shop_with(TicketSettings::default()).await
}

/// A shop whose engine issues tickets with `settings`.
async fn ticketing_shop_with(settings: TicketSettings) -> Shop {
    let gateway = TestGateway::new();
    let for_engine = gateway.clone();
    let keys = IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [7; 32]));
    let w = world_with(move |b| b.payment_gateway(for_engine).tickets(keys, settings)).await;
    Shop { w, gateway }
}

/// A scanner synced with the engine's keys and revocation list.
async fn synced_scanner(s: &Shop) -> Verifier {
    let mut verifier = Verifier::new(s.w.engine.ticket_public_keys().unwrap());
    let list = s.w.engine.revocation_list().await.unwrap();
    verifier.apply_revocations(&list).unwrap();
    verifier
}

#[tokio::test]
async fn cancelling_a_booking_revokes_its_tickets_for_synced_scanners() {
    let s = ticketing_shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let tickets = s.w.engine.tickets(&booking.id).await.unwrap();
    assert_eq!(tickets.len(), 2, "one ticket per guest");
    let before = synced_scanner(&s).await;
    let at_arrival = booking_day(&s);
    assert!(before.verify_at(&tickets[0].text, at_arrival).is_ok());
    s.w.engine.cancel(&cancel("c1", &booking.id)).await.unwrap();
    let after = synced_scanner(&s).await;
    for ticket in &tickets {
        let err = after.verify_at(&ticket.text, at_arrival).unwrap_err();
        assert_eq!(err.code(), "TOKEN_REVOKED");
    }
}

#[tokio::test]
async fn completing_a_booking_revokes_its_tickets() {
    let s = ticketing_shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let tickets = s.w.engine.tickets(&booking.id).await.unwrap();
    let at_arrival = booking_day(&s);
    s.w.clock.set(at_arrival).unwrap();
    s.w.engine
        .check_in_at_desk(&DeskCheckInRequest {
            idempotency_key: "in".into(),
            booking: booking.id.clone(),
        })
        .await
        .unwrap();
    assert!(
        synced_scanner(&s)
            .await
            .verify_at(&tickets[0].text, at_arrival)
            .is_ok()
    );
    s.w.engine
        .complete_booking(&CompleteRequest {
            idempotency_key: "out".into(),
            booking: booking.id.clone(),
        })
        .await
        .unwrap();
    let after = synced_scanner(&s).await;
    for ticket in &tickets {
        let err = after.verify_at(&ticket.text, at_arrival).unwrap_err();
        assert_eq!(err.code(), "TOKEN_REVOKED");
    }
}

#[tokio::test]
async fn modifying_a_booking_replaces_its_tickets() {
    let s = ticketing_shop().await;
    let booking = villa_paid_in_full(&s.w).await;
    let old = s.w.engine.tickets(&booking.id).await.unwrap();
    s.w.engine
        .modify(&ModifyRequest {
            idempotency_key: "m1".into(),
            booking: booking.id.clone(),
            items: vec![villa((7, 14), (7, 17))],
            payment_method: Some("tok_visa".into()),
            expected_total: None,
        })
        .await
        .unwrap();
    let new = s.w.engine.tickets(&booking.id).await.unwrap();
    assert_eq!(new.len(), old.len());
    assert!(
        new.iter()
            .all(|t| old.iter().all(|o| o.token_id != t.token_id))
    );
    let scanner = synced_scanner(&s).await;
    let at_arrival = booking_day(&s);
    assert_eq!(
        scanner
            .verify_at(&old[0].text, at_arrival)
            .unwrap_err()
            .code(),
        "TOKEN_REVOKED"
    );
    let claims = scanner
        .verify_at(&new[0].text, at_arrival + chrono::Duration::days(1))
        .unwrap();
    assert_eq!(claims.resource.as_str(), "villa");
}

#[tokio::test]
async fn a_deposit_booking_gets_tickets_only_once_fully_paid() {
    let s = ticketing_shop().await;
    let hold = hold_villa(&s.w, "h1", (7, 13), (7, 16)).await;
    let booking =
        s.w.engine
            .pay_and_confirm(&pay("p1", &hold, deposit("100.00")))
            .await
            .unwrap();
    assert!(s.w.engine.tickets(&booking.id).await.unwrap().is_empty());
    s.w.engine
        .pay_balance(&PayBalanceRequest {
            idempotency_key: "p2".into(),
            booking: booking.id.clone(),
            payment_method: "tok_visa".into(),
        })
        .await
        .unwrap();
    assert_eq!(s.w.engine.tickets(&booking.id).await.unwrap().len(), 2);
}

/// Noon on 13 July 2026, the villa's arrival day, in UTC.
fn booking_day(_: &Shop) -> chrono::DateTime<chrono::Utc> {
    use chrono::TimeZone;
    chrono::Utc.with_ymd_and_hms(2026, 7, 13, 12, 0, 0).unwrap()
}

/// The villa for `[from, to)`, held and paid in full under `key`.
async fn villa_booked(s: &Shop, key: &str, from: (u32, u32), to: (u32, u32)) -> Booking {
    let hold = hold_villa(&s.w, &format!("h-{key}"), from, to).await;
    s.w.engine
        .pay_and_confirm(&pay(&format!("p-{key}"), &hold, PayAmount::Full))
        .await
        .unwrap()
}

/// The token ids on the engine's signed list, and its sequence.
async fn listed(s: &Shop) -> (BTreeSet<TokenId>, u64) {
    let signed = s.w.engine.revocation_list().await.unwrap();
    let keys = s.w.engine.ticket_public_keys().unwrap();
    let list = RevocationList::open(&signed, &keys).unwrap();
    (list.tokens().clone(), list.sequence())
}

async fn token_ids(s: &Shop, booking: &Booking) -> BTreeSet<TokenId> {
    let tickets = s.w.engine.tickets(&booking.id).await.unwrap();
    tickets.into_iter().map(|t| t.token_id).collect()
}

#[tokio::test]
async fn revoked_tickets_leave_the_list_once_expired_for_the_kept_days_and_an_hour() {
    let settings = TicketSettings {
        revoked_kept_days_after_expiry: 2,
        ..TicketSettings::default()
    };
    let s = ticketing_shop_with(settings).await;
    let july = villa_booked(&s, "july", (7, 13), (7, 16)).await;
    let august = villa_booked(&s, "august", (8, 1), (8, 4)).await;
    let later = villa_booked(&s, "later", (8, 10), (8, 13)).await;
    let expires = s.w.engine.tickets(&july.id).await.unwrap()[0]
        .claims
        .validity
        .expires();
    let (july_tokens, august_tokens) = (token_ids(&s, &july).await, token_ids(&s, &august).await);
    let later_tokens = token_ids(&s, &later).await;
    s.w.engine.cancel(&cancel("c1", &july.id)).await.unwrap();
    assert_eq!(listed(&s).await, (july_tokens.clone(), 1));

    let off_the_list = expires + Duration::days(2) + Duration::hours(1);
    s.w.clock.set(off_the_list - Duration::seconds(1)).unwrap();
    s.w.engine.revoke_booking_tickets(&august.id).await.unwrap();
    let both = july_tokens.union(&august_tokens).cloned().collect();
    assert_eq!(
        listed(&s).await,
        (both, 2),
        "not yet: a verifier with an hour of leeway could still admit them"
    );

    s.w.clock.set(off_the_list).unwrap();
    s.w.engine.revoke_booking_tickets(&later.id).await.unwrap();
    let current = august_tokens.union(&later_tokens).cloned().collect();
    assert_eq!(
        listed(&s).await,
        (current, 3),
        "July's tokens are gone, the rest stay"
    );
}
