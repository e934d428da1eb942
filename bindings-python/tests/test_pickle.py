"""Values go through ``pickle`` (Celery, multiprocessing, caches) and come
back equal, as the same type, under every protocol from 2 to 5; handles to
live resources and private keys refuse with a ``TypeError``; exceptions keep
their class, code and message. Every class ``reservo`` exports is in exactly
one of the lists below, so a new class must say how it pickles."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
import reservo
from reservo import (
    AsyncEngine,
    BookingFacts,
    BookingLedger,
    CancellationPolicy,
    CommissionPlan,
    CommitBatch,
    CommitConflict,
    CopyReport,
    Engine,
    EntryPolicy,
    GatewayPort,
    IssuerKey,
    IssuerKeySet,
    Item,
    ManualClock,
    MemoryStore,
    Notifier,
    Party,
    PublicKeySet,
    QuoteRequest,
    Record,
    RevocationList,
    ScanLog,
    SmsTemplates,
    SqliteStore,
    StoredEvent,
    TicketClaims,
    TicketSettings,
    VenueRules,
    Verifier,
    errors,
    owner_statement,
)
from reservo.ports import SmsMessage

from .conftest import (
    ANA,
    START,
    TIERED_POLICY,
    VILLA_PLAN,
    Shop,
    book_villa,
    eur,
    set_up_catalog,
    villa_july,
)
from .gateway import TestGateway
from .test_ports import DictStore

PROTOCOLS = range(2, pickle.HIGHEST_PROTOCOL + 1)
AT = datetime(2026, 6, 10, 12, tzinfo=timezone.utc)

LIVE_HANDLES = {
    "AsyncEngine",
    "Engine",
    "GatewayPort",
    "ManualClock",
    "MemoryStore",
    "Notifier",
    "PostgresStore",
    "SqliteStore",
    "Verifier",
}
"""Handles to live resources (stores, engines, clocks, ports, a scanner's
verifier): they refuse to pickle."""

SECRETS = {"IssuerKey", "IssuerKeySet"}
"""Private keys: they leave only through the explicit ``to_seed()``."""

NOT_VALUES = {"PaymentGateway", "SmsSender", "Storage"}
"""Protocols: nothing is an instance of them."""

EXCEPTIONS = {"CommitConflict", "ReservoError"}


class Recording(DictStore):
    """A store that keeps the batches it committed."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[CommitBatch] = []

    def commit(self, batch: CommitBatch) -> int:
        self.batches.append(batch)
        return super().commit(batch)


class Phone:
    def send(self, message: SmsMessage) -> str:
        return "sms-1"


def claims() -> TicketClaims:
    return TicketClaims(
        booking="BK-1042",
        resource="museum",
        not_before=AT - timedelta(hours=2),
        expires=AT + timedelta(days=1),
        entries=None,
        per_day=2,
        reentry=True,
        gates=["north"],
        zones=["hall"],
    )


def rotated_issuer_keys() -> IssuerKeySet:
    """An issuer that signs with ``k2`` and still verifies ``k1``."""
    keys = IssuerKeySet(IssuerKey.from_seed("k1", bytes([1] * 32)))
    keys.rotate_to(IssuerKey.from_seed("k2", bytes([2] * 32)))
    return keys


def build_samples() -> dict[str, list[Any]]:
    """At least one value of each picklable class, most made by an engine."""
    clock = ManualClock(START)
    shop = Shop(
        clock,
        TestGateway(),
        tickets=IssuerKeySet(IssuerKey.from_seed("k1", bytes([1] * 32))),
        ticket_settings=TicketSettings(stay_entry=EntryPolicy(entries=None, per_day=1)),
    )
    engine = shop.engine
    engine.set_cancellation_policy("villa-flex", TIERED_POLICY)
    quoted = engine.quote(villa_july())
    lesson = Item.session(
        "surf-lesson",
        start=datetime(2026, 6, 10, 8, tzinfo=timezone.utc),
        party=Party(1, [9]),
    )
    hold = engine.hold([lesson], idempotency_key="h-lesson", ttl_seconds=600)
    paid = shop.paid_in_full()
    cancelled = engine.cancel(paid.id, idempotency_key="x1", reason="changed plans")
    stay = book_villa(engine, date(2026, 6, 10), date(2026, 6, 12))
    stay = engine.set_booking_metadata(
        stay.id, {"order_id": "A-1"}, idempotency_key="m1"
    )
    by_engine = engine.refund_quote(stay.id, START)
    tickets = engine.tickets(stay.id)
    modification = engine.quote_modification(stay.id, [villa_july()])
    clock.set(AT)
    checked = engine.check_in(tickets[0].text, gate="front", scan_id="scan-1")
    rules = VenueRules(
        time_zone="Europe/Lisbon",
        resources=["museum"],
        entry_hours=(time(9), time(17)),
        anti_passback=True,
    )
    log = ScanLog()
    log.check_in(rules, claims(), gate="north", zone="hall", at=AT)
    gate_log = ScanLog()
    venue = engine.venue_rules("casa-azul")
    scanned = Verifier(engine.ticket_public_keys()).verify(tickets[1].text, AT)
    gate_log.check_in(venue, scanned, gate="front", zone="main", at=AT)
    merged = engine.merge_offline_scans(gate_log)
    revoked = RevocationList(7, AT)
    revoked.revoke_token(tickets[0].token_id)
    revoked.revoke_booking("BK-1042")
    plan = CommissionPlan.from_dict(
        {
            "platform_fee": {"percent": "3"},
            "intermediaries": [
                {
                    "intermediary": {"role": "broker", "id": "agency-7"},
                    "rate": {"percent": "10"},
                }
            ],
            "tax_remitter": "platform",
        }
    )
    split = plan.split(eur("221.00"), eur("21.00"))
    ledger = BookingLedger(
        booking="b-1", owner="o-1", recognized_on=date(2026, 5, 1), split=split
    )
    ledger.refund(eur("100.00"), date(2026, 6, 2))
    statement = owner_statement(
        "o-1",
        start=date(2026, 6, 1),
        end=date(2026, 7, 1),
        currency="EUR",
        ledgers=[ledger],
    )
    store = Recording()
    set_up_catalog(Engine(store, clock=ManualClock(START)))
    shop.gateway.lose_next = 1
    unknown = shop.hold(villa_july(), "h-lost")
    with pytest.raises(errors.PaymentOutcomeUnknown):
        engine.pay_and_confirm(
            unknown.id, customer=ANA, payment_method="tok_visa", idempotency_key="p9"
        )
    facts = BookingFacts(
        booked_at=START,
        start=AT,
        time_zone="Europe/Lisbon",
        price=eur("345.00"),
        paid=eur("345.00"),
        non_refundable=eur("45.00"),
        night_amounts=[eur("100.00")] * 3,
    )
    return {
        "Block": [
            reservo.Block.nights(
                "b1",
                resource="villa-azul",
                start=date(2026, 8, 1),
                end=date(2026, 8, 3),
            )
        ],
        "Booking": [paid, cancelled, stay],
        "BookingFacts": [facts],
        "BookingLedger": [ledger],
        "BookingMoney": [paid.money, cancelled.money],
        "BookingTerms": [paid.terms, cancelled.terms],
        "CancellationPolicy": [
            TIERED_POLICY,
            CancellationPolicy.preset("airbnb.moderate"),
        ],
        "CheckInOutcome": [checked],
        "CommissionPlan": [plan],
        "CommitBatch": store.batches[:3],
        "Customer": [ANA, reservo.Customer("Rui", "+351930000001", email="r@x.pt")],
        "DispatchReport": [Notifier(shop.store, Phone(), clock=clock).run_once()],
        "EntryPolicy": [EntryPolicy(), EntryPolicy(entries=None, per_day=1)],
        "Event": engine.events(limit=3),
        "HeldItem": hold.items,
        "Hold": [hold],
        "IssuedTicket": tickets,
        "Item": [villa_july(), lesson],
        "ModificationQuote": [modification],
        "Money": [eur("10.50"), reservo.Money(-3, "JPY")],
        "NightAvailability": engine.night_availability(
            "villa-azul", date(2026, 6, 9), date(2026, 6, 12)
        ),
        "OwnerStatement": [statement],
        "Party": [Party(2), Party(1, [7, 0])],
        "Payment": list(paid.money.payments),
        "PaymentAttempt": [engine.payment_attempt("p1"), engine.payment_attempt("p9")],
        "Property": [engine.property("casa-azul")],
        "PublicKey": [IssuerKey.from_seed("k2", bytes([2] * 32)).public_key()],
        "PublicKeySet": [
            engine.ticket_public_keys(),
            rotated_issuer_keys().public_keys(),
            PublicKeySet([]),
        ],
        "CopyReport": [CopyReport(records=12, events=7)],
        "Quote": [quoted.quote],
        "SmsTemplates": [SmsTemplates(), SmsTemplates.defaults(), own_templates()],
        "QuoteLine": quoted.quote.lines,
        "QuoteRequest": [QuoteRequest(villa_july(), rate_plan="villa-flex")],
        "Quoted": [quoted],
        "RatePlan": [reservo.RatePlan.from_dict(VILLA_PLAN)],
        "RefundQuote": [
            TIERED_POLICY.quote(facts, cancelled_at=START),
            by_engine,
        ],
        "ReconcileReport": [engine.reconcile_payments()],
        "Record": [Record("k", b"\x00value", 3)],
        "Refund": list(cancelled.money.refunds),
        "Resource": engine.resources("casa-azul"),
        "RevocationList": [revoked],
        "ScanLog": [log],
        "ScanMergeReport": [merged],
        "SearchHit": engine.search_stays(
            date(2026, 9, 1), date(2026, 9, 3), party=Party(2)
        ),
        "SessionAvailability": engine.session_availability(
            "surf-lesson", date(2026, 6, 10), date(2026, 6, 11)
        ),
        "Split": [split, ledger.remaining()],
        "StatementAmounts": [statement.totals],
        "StatementLine": statement.lines,
        "StatusChange": cancelled.history,
        "StoredEvent": [StoredEvent(4, "booking.confirmed", b"{}")],
        "TicketClaims": [claims(), tickets[0].claims],
        "TicketSettings": [
            TicketSettings(),
            TicketSettings(session_closes_minutes_after=5),
        ],
        "TokenQr": [tickets[0].qr()],
        "VenueRules": [rules, venue],
    }


def own_templates() -> SmsTemplates:
    """The defaults with a host's own abandoned-cart reminder."""
    templates = SmsTemplates.defaults()
    templates.add("hold.expired", "guest", "Cart {metadata.cart_id} is waiting")
    templates.set_recipient("broker", "agency.phone")
    return templates


@pytest.fixture(scope="module")
def samples() -> dict[str, list[Any]]:
    return build_samples()


def exported_classes() -> list[str]:
    return sorted(
        name for name in reservo.__all__ if isinstance(getattr(reservo, name), type)
    )


def test_every_exported_class_says_how_it_pickles(
    samples: dict[str, list[Any]],
) -> None:
    lists = [
        set(samples),
        LIVE_HANDLES,
        SECRETS,
        NOT_VALUES,
        EXCEPTIONS,
    ]
    everything = set().union(*lists)
    assert sum(len(group) for group in lists) == len(everything), "listed twice"
    assert set(exported_classes()) - everything == set(), "says nothing"
    assert everything - set(exported_classes()) == set(), "not exported"
    assert all(samples.values()), "a class without a sample"


VALUES = sorted(
    set(exported_classes()) - LIVE_HANDLES - SECRETS - NOT_VALUES - EXCEPTIONS
)
"""Every other exported class is a plain value: it must have samples."""


@pytest.mark.parametrize("name", VALUES)
def test_values_come_back_equal_under_every_protocol(
    samples: dict[str, list[Any]], name: str
) -> None:
    cls = getattr(reservo, name)
    for value in samples[name]:
        assert type(value) is cls
        for protocol in PROTOCOLS:
            back = pickle.loads(pickle.dumps(value, protocol=protocol))
            assert type(back) is cls, (name, protocol)
            assert back == value, (name, protocol)
            assert repr(back) == repr(value), (name, protocol)


def test_values_inside_containers_pickle_once_each(
    samples: dict[str, list[Any]],
) -> None:
    booking = samples["Booking"][0]
    payload = {"booking": booking, "again": booking, "money": booking.total}
    back = pickle.loads(pickle.dumps(payload))
    assert back == payload
    assert back["booking"] is back["again"]
    assert hash(back["money"]) == hash(booking.total)


def test_a_tampered_pickle_is_invalid_input() -> None:
    data = pickle.dumps(eur("1.00"))
    with pytest.raises(errors.InvalidInput):
        pickle.loads(data.replace(b'"EUR"', b'"XYZ"'))


def test_a_restored_mutable_value_is_a_copy(samples: dict[str, list[Any]]) -> None:
    revoked: RevocationList = samples["RevocationList"][0]
    back = pickle.loads(pickle.dumps(revoked))
    back.revoke_booking("BK-2000")
    assert back != revoked and "BK-2000" not in revoked.booking_ids


def handles(tmp_path: Any) -> list[Any]:
    clock = ManualClock(START)
    store = MemoryStore()
    return [
        Engine(store, clock=clock),
        AsyncEngine(store, clock=clock),
        store,
        SqliteStore(str(tmp_path / "pickle.sqlite")),
        clock,
        Notifier(store, Phone(), clock=clock),
        GatewayPort(TestGateway()),
        Verifier(IssuerKeySet(IssuerKey.generate("k1")).public_keys()),
    ]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_live_handles_refuse_to_pickle(tmp_path: Any, protocol: int) -> None:
    made = handles(tmp_path)
    assert {type(h).__name__ for h in made} == LIVE_HANDLES - {"PostgresStore"}
    for handle in made:
        with pytest.raises(TypeError, match="pickle"):
            pickle.dumps(handle, protocol=protocol)


@pytest.mark.parametrize(
    "make",
    [
        lambda: IssuerKey.generate("k1"),
        lambda: IssuerKeySet(IssuerKey.generate("k1")),
    ],
    ids=sorted(SECRETS),
)
def test_private_keys_refuse_to_pickle(make: Callable[[], Any]) -> None:
    secret = make()
    for protocol in PROTOCOLS:
        with pytest.raises(TypeError, match="private key"):
            pickle.dumps(secret, protocol=protocol)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_pickled_public_key_set_still_verifies_its_issuers_tokens(
    protocol: int,
) -> None:
    ticket = claims()
    issuer = IssuerKeySet(IssuerKey.from_seed("k1", bytes([1] * 32)))
    by_k1 = issuer.issue(ticket)
    issuer.rotate_to(IssuerKey.from_seed("k2", bytes([2] * 32)))
    by_k2 = issuer.issue(ticket)
    keys = pickle.loads(pickle.dumps(issuer.public_keys(), protocol=protocol))
    assert keys == issuer.public_keys() and len(keys) == 2
    verifier = Verifier(keys)
    assert verifier.verify(by_k1, AT) == ticket == verifier.verify(by_k2, AT)
    stranger = IssuerKeySet(IssuerKey.from_seed("k2", bytes([3] * 32)))
    assert keys != stranger.public_keys()
    with pytest.raises(errors.TokenBadSignature):
        verifier.verify(stranger.issue(ticket), AT)
    with pytest.raises(errors.TokenUnknownKey):
        Verifier(PublicKeySet([])).verify(by_k1, AT)


def all_exceptions() -> list[type[errors.ReservoError]]:
    return [errors.ReservoError, *errors.BY_CODE.values()]


@pytest.mark.parametrize("cls", all_exceptions(), ids=lambda c: c.__name__)
def test_reservo_errors_keep_class_code_and_message(
    cls: type[errors.ReservoError],
) -> None:
    error = cls("something about hold h-1")
    for protocol in PROTOCOLS:
        back = pickle.loads(pickle.dumps(error, protocol=protocol))
        assert type(back) is cls
        assert (back.code, back.message, back.args) == (
            error.code,
            error.message,
            error.args,
        )


def test_an_error_raised_by_the_engine_pickles() -> None:
    engine = Engine(MemoryStore(), clock=ManualClock(START))
    with pytest.raises(errors.NotFound) as caught:
        engine.booking("nope")
    back = pickle.loads(pickle.dumps(caught.value))
    assert (type(back), back.code, str(back)) == (
        errors.NotFound,
        "NOT_FOUND",
        str(caught.value),
    )


def test_commit_conflict_keeps_its_key_and_message() -> None:
    conflict = CommitConflict("hold/h-1")
    for protocol in PROTOCOLS:
        back = pickle.loads(pickle.dumps(conflict, protocol=protocol))
        assert type(back) is CommitConflict
        assert (back.key, str(back)) == ("hold/h-1", str(conflict))


def test_money_amounts_keep_their_scale() -> None:
    back = pickle.loads(pickle.dumps(reservo.Money(Decimal("10.50"), "EUR")))
    assert str(back.amount) == "10.50"
