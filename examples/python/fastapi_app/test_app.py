"""The service driven over HTTP: availability, quote, hold, confirm, pay
(in full, or a deposit then the balance), refund quote, cancel with refund,
tickets and check-in, and errors as JSON with the HTTP status of their
code."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from reservo import IssuerKey, IssuerKeySet, ManualClock, SqliteStore, Verifier

from .app import create_app, seed_demo_catalog
from .gateway import DemoGateway

STAY = {
    "resource": "villa-azul",
    "check_in": "2026-07-01",
    "check_out": "2026-07-04",
    "party": {"adults": 2, "children_ages": [6]},
}


ANA = {"name": "Ana Lima", "phone": "+351912345678"}

KEYS = IssuerKeySet(IssuerKey.from_seed("demo-1", bytes(range(32))))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 6, 1, 10, tzinfo=timezone.utc))


@pytest.fixture
def gateway() -> DemoGateway:
    return DemoGateway()


@pytest.fixture
def client(tmp_path: Path, clock: ManualClock, gateway: DemoGateway) -> TestClient:
    store = SqliteStore(tmp_path / "service.sqlite")
    seed_demo_catalog(store)
    return TestClient(create_app(store, gateway=gateway, ticket_keys=KEYS, clock=clock))


def held(client: TestClient, key: str = "h1") -> str:
    hold = client.post(
        "/holds", json={"items": [STAY], "ttl_seconds": 600, "idempotency_key": key}
    )
    assert hold.status_code == 201
    hold_id: str = hold.json()["id"]
    return hold_id


def paid(client: TestClient, **extra: Any) -> dict[str, Any]:
    response = client.post(
        f"/holds/{held(client)}/pay",
        json={
            "customer": ANA,
            "payment_method": "tok_visa",
            "idempotency_key": "p1",
            **extra,
        },
    )
    assert response.status_code == 201, response.json()
    body: dict[str, Any] = response.json()
    return body


def test_quote_hold_confirm_over_http(client: TestClient) -> None:
    quote = client.post("/quotes", json=STAY)
    assert quote.status_code == 200
    body = quote.json()
    assert body["total"] == {"amount": "655.00", "currency": "EUR"}
    assert [line["rule"] for line in body["lines"]] == [
        "base:villa-flex",
        "weekday:weekend",
        "fee:cleaning",
    ]

    hold = client.post(
        "/holds", json={"items": [STAY], "ttl_seconds": 600, "idempotency_key": "h1"}
    )
    assert hold.status_code == 201
    hold_id = hold.json()["id"]
    nights = client.get(
        "/resources/villa-azul/availability",
        params={"start": "2026-07-01", "end": "2026-07-02"},
    ).json()
    assert nights == [
        {"date": "2026-07-01", "available": 0, "held": 1, "booked": 0, "blocked": 0}
    ]

    booking = client.post(
        f"/holds/{hold_id}/confirm",
        json={
            "customer": {"name": "Ana Lima", "phone": "+351912345678"},
            "idempotency_key": "c1",
        },
    )
    assert booking.status_code == 201
    assert booking.json()["status"] == "confirmed"
    fetched = client.get(f"/bookings/{booking.json()['id']}")
    assert fetched.json() == booking.json()


def test_a_hold_made_for_a_customer_is_paid_for_without_naming_them_again(
    client: TestClient,
) -> None:
    anonymous = held(client)
    refused = client.post(f"/holds/{anonymous}/confirm", json={"idempotency_key": "c1"})
    assert (refused.status_code, refused.json()["code"]) == (422, "INVALID_INPUT")
    client.post(f"/holds/{anonymous}/release", json={"idempotency_key": "r1"})

    hold = client.post(
        "/holds",
        json={
            "items": [STAY],
            "ttl_seconds": 600,
            "idempotency_key": "h2",
            "customer": ANA,
        },
    )
    assert hold.status_code == 201
    pay = {"payment_method": "tok_visa", "idempotency_key": "p1"}
    booking = client.post(f"/holds/{hold.json()['id']}/pay", json=pay)
    assert booking.status_code == 201, booking.json()
    assert booking.json()["customer_name"] == ANA["name"]


def test_release_over_http_is_safe_to_retry(client: TestClient) -> None:
    hold = held(client)
    assert client.post("/quotes", json=STAY).status_code == 409
    for _ in range(2):
        released = client.post(f"/holds/{hold}/release", json={"idempotency_key": "r1"})
        assert released.status_code == 200, released.json()
        assert released.json()["state"] == "released"
    assert client.post("/quotes", json=STAY).json()["available"] == 1
    again = client.post(f"/holds/{hold}/release", json={"idempotency_key": "r2"})
    assert (again.status_code, again.json()["code"]) == (
        409,
        "HOLD_ALREADY_RESOLVED",
    )


def test_errors_are_json_with_their_code(client: TestClient) -> None:
    client.post(
        "/holds", json={"items": [STAY], "ttl_seconds": 600, "idempotency_key": "h1"}
    )
    taken = client.post("/quotes", json=STAY)
    assert taken.status_code == 409
    assert taken.json()["code"] == "UNAVAILABLE"
    missing = client.get("/bookings/nope")
    assert (missing.status_code, missing.json()["code"]) == (404, "NOT_FOUND")
    bad = client.post("/quotes", json={**STAY, "party": {"adults": 0}})
    assert (bad.status_code, bad.json()["code"]) == (422, "INVALID_INPUT")


def test_openapi_describes_the_models(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {
        "HoldIn",
        "HoldOut",
        "QuoteOut",
        "BookingOut",
        "PayIn",
        "CancelIn",
        "RefundQuoteOut",
        "CheckInIn",
        "CheckInOut",
        "TicketOut",
    } <= set(schema["components"]["schemas"])


def test_pay_then_cancel_with_a_refund_over_http(
    client: TestClient, gateway: DemoGateway
) -> None:
    booking = paid(client)
    assert booking["status"] == "confirmed"
    assert booking["paid"] == {"amount": "655.00", "currency": "EUR"}
    assert gateway.captured == Decimal("655.00")

    late = client.get(
        f"/bookings/{booking['id']}/refund-quote",
        params={"at": "2026-06-25T10:00:00Z"},
    )
    assert late.status_code == 200
    assert late.json()["refund"] == {"amount": "327.50", "currency": "EUR"}
    now = client.get(f"/bookings/{booking['id']}/refund-quote").json()
    assert now["refund"]["amount"] == "655.00"
    assert now["at"] == "2026-06-01T10:00:00Z"

    cancelled = client.post(
        f"/bookings/{booking['id']}/cancel",
        json={"idempotency_key": "c1", "reason": "plans changed"},
    )
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert body["status"] == "cancelled"
    assert body["refunds"] == [
        {"amount": {"amount": "655.00", "currency": "EUR"}, "state": "issued"}
    ]
    assert body["paid"]["amount"] == "0.00"
    assert gateway.refunded == Decimal("655.00")
    again = client.post(
        f"/bookings/{booking['id']}/cancel", json={"idempotency_key": "c2"}
    )
    assert (again.status_code, again.json()["code"]) == (409, "ILLEGAL_TRANSITION")
    quote = client.get(f"/bookings/{booking['id']}/refund-quote")
    assert (quote.status_code, quote.json()["code"]) == (409, "ILLEGAL_TRANSITION")
    assert client.get("/bookings/nope/refund-quote").status_code == 404


def test_deposit_then_balance_over_http(client: TestClient) -> None:
    hold = held(client)
    pay = {"customer": ANA, "payment_method": "tok_visa", "idempotency_key": "p1"}
    for deposit in ["0.001", "655.01", "-1"]:
        bad = client.post(f"/holds/{hold}/pay", json={**pay, "deposit": deposit})
        assert bad.status_code == 422, deposit
    booking = client.post(f"/holds/{hold}/pay", json={**pay, "deposit": "200.00"})
    assert booking.status_code == 201
    body = booking.json()
    assert body["status"] == "pending_payment"
    assert body["paid"]["amount"] == "200.00"
    balance = client.post(
        f"/bookings/{body['id']}/balance",
        json={"payment_method": "tok_visa", "idempotency_key": "p2"},
    )
    assert balance.status_code == 200
    assert (balance.json()["status"], balance.json()["paid"]["amount"]) == (
        "confirmed",
        "655.00",
    )


def test_payment_errors_map_to_402_and_502(
    client: TestClient, gateway: DemoGateway
) -> None:
    hold = held(client)
    pay = {"customer": ANA, "payment_method": "tok_declined", "idempotency_key": "p1"}
    declined = client.post(f"/holds/{hold}/pay", json=pay)
    assert (declined.status_code, declined.json()["code"]) == (402, "PAYMENT_DECLINED")
    gateway.down = True
    retry = {**pay, "payment_method": "tok_visa", "idempotency_key": "p2"}
    lost = client.post(f"/holds/{hold}/pay", json=retry)
    assert (lost.status_code, lost.json()["code"]) == (502, "PAYMENT_OUTCOME_UNKNOWN")
    gateway.down = False
    booked = client.post(f"/holds/{hold}/pay", json=retry)
    assert booked.status_code == 201
    assert gateway.captured == Decimal("655.00")


def test_check_in_with_a_ticket_over_http(
    client: TestClient, clock: ManualClock
) -> None:
    booking = paid(client)
    tickets = client.get(f"/bookings/{booking['id']}/tickets").json()
    assert len(tickets) == 3  # one per guest
    ticket = tickets[0]
    assert ticket["resource"] == "villa-azul"
    assert (
        Verifier(KEYS.public_keys())
        .verify(ticket["text"], datetime(2026, 7, 1, 12, tzinfo=timezone.utc))
        .token_id
        == ticket["token_id"]
    )

    early = client.post("/check-ins", json={"token": ticket["text"], "gate": "front"})
    assert (early.status_code, early.json()["code"]) == (403, "TOKEN_NOT_YET_VALID")
    clock.set(datetime(2026, 7, 1, 15, tzinfo=timezone.utc))
    scan = {"token": ticket["text"], "gate": "front", "scan_id": "front-0001"}
    entry = client.post("/check-ins", json=scan)
    assert entry.status_code == 200
    assert entry.json()["passage"] == "entry"
    assert entry.json()["status"] == "checked_in"
    assert client.post("/check-ins", json=scan).json() == entry.json()
    used = client.post("/check-ins", json={"token": ticket["text"], "gate": "back"})
    assert (used.status_code, used.json()["code"]) == (409, "TOKEN_ALREADY_USED")
    bad = client.post("/check-ins", json={"token": "RV1:nope", "gate": "front"})
    assert (bad.status_code, bad.json()["code"]) == (422, "TOKEN_MALFORMED")
    assert client.get(f"/bookings/{booking['id']}").json()["status"] == "checked_in"


def test_cancelled_tickets_are_refused_at_the_gate(
    client: TestClient, clock: ManualClock
) -> None:
    booking = paid(client)
    [ticket, *_] = client.get(f"/bookings/{booking['id']}/tickets").json()
    client.post(f"/bookings/{booking['id']}/cancel", json={"idempotency_key": "c1"})
    clock.set(datetime(2026, 7, 1, 15, tzinfo=timezone.utc))
    refused = client.post("/check-ins", json={"token": ticket["text"], "gate": "front"})
    assert (refused.status_code, refused.json()["code"]) == (403, "TOKEN_REVOKED")
