"""The service driven over HTTP: availability, quote, hold, confirm, and
errors as JSON with the HTTP status of their code."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from reservo import ManualClock, SqliteStore

from .app import create_app, seed_demo_catalog

STAY = {
    "resource": "villa-azul",
    "check_in": "2026-07-01",
    "check_out": "2026-07-04",
    "party": {"adults": 2, "children_ages": [6]},
}


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    store = SqliteStore(tmp_path / "service.sqlite")
    seed_demo_catalog(store)
    clock = ManualClock(datetime(2026, 6, 1, 10, tzinfo=timezone.utc))
    return TestClient(create_app(store, clock=clock))


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
    assert {"HoldIn", "HoldOut", "QuoteOut", "BookingOut"} <= set(
        schema["components"]["schemas"]
    )
