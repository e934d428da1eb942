//! Tickets follow the booking through the money flows: a deposit booking
//! gets its tickets once fully paid, a modification re-issues them, and a
//! cancellation revokes them for every scanner that syncs the list.

#[path = "support/catalog.rs"]
mod catalog;
#[path = "support/gateway.rs"]
mod gateway;
#[path = "support/money.rs"]
mod money;

use catalog::world_with;
use gateway::TestGateway;
use money::{Shop, cancel, deposit, hold_villa, pay, villa, villa_paid_in_full};
use reservo::engine::{ModifyRequest, PayBalanceRequest, TicketSettings};
use reservo::token::{IssuerKey, IssuerKeySet, Verifier};

/// A shop whose engine also issues tickets.
async fn ticketing_shop() -> Shop {
    let gateway = TestGateway::new();
    let for_engine = gateway.clone();
    let keys = IssuerKeySet::new(IssuerKey::from_seed("k1".parse().unwrap(), [7; 32]));
    let w = world_with(move |b| {
        b.payment_gateway(for_engine)
            .tickets(keys, TicketSettings::default())
    })
    .await;
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
