"""Reservo: an embeddable booking engine, from Python.

A thin, typed layer over the Rust core. Set up a catalog, search, quote,
hold and confirm with the blocking :class:`Engine` or the awaitable
:class:`AsyncEngine`; keep data in :class:`MemoryStore`,
:class:`SqliteStore`, :class:`PostgresStore` or your own
:class:`Storage`. Amounts are :class:`decimal.Decimal` (in :class:`Money`),
dates are :class:`datetime.date`, instants are timezone-aware
:class:`datetime.datetime`, ids are ``str``. Every value object is frozen,
comparable and hashable. Every error is a :class:`ReservoError` with a
stable ``code`` (see :mod:`reservo.errors`).

>>> from datetime import date
>>> from reservo import Engine, MemoryStore, Party
>>> engine = Engine(MemoryStore())
>>> Party(2, [7]).size
3
"""

from __future__ import annotations

import atexit

from . import _reservo, conformance, errors, notify, ports
from ._reservo import (
    Block,
    Booking,
    BookingFacts,
    BookingLedger,
    BookingMoney,
    BookingTerms,
    CancellationPolicy,
    CheckInOutcome,
    CommissionPlan,
    CommitBatch,
    Customer,
    DispatchReport,
    EntryPolicy,
    Event,
    GatewayPort,
    HeldItem,
    Hold,
    IssuedTicket,
    IssuerKey,
    IssuerKeySet,
    Item,
    ManualClock,
    MemoryStore,
    ModificationQuote,
    Money,
    NightAvailability,
    OwnerStatement,
    Party,
    Payment,
    PaymentAttempt,
    PostgresStore,
    Property,
    PublicKey,
    PublicKeySet,
    Quote,
    Quoted,
    QuoteLine,
    QuoteRequest,
    RatePlan,
    ReconcileReport,
    Record,
    Refund,
    RefundQuote,
    Resource,
    RevocationList,
    ScanLog,
    ScanMergeReport,
    SearchHit,
    SessionAvailability,
    Split,
    SqliteStore,
    StatementAmounts,
    StatementLine,
    StatusChange,
    StoredEvent,
    TicketClaims,
    TicketSettings,
    TokenQr,
    VenueRules,
    Verifier,
    __version__,
    owner_statement,
)
from .async_engine import AsyncEngine
from .engine import Engine, Store
from .errors import ReservoError
from .notify import Notifier, SmsTemplates
from .ports import CommitConflict, PaymentGateway, SmsSender, Storage
from .stores import CopyReport, copy_store

# Awaited engine calls still running when the program ends are cancelled
# and waited for here, so no engine task touches Python while the
# interpreter shuts down (that crashed the process).
atexit.register(_reservo.finish_calls)

__all__ = [
    "AsyncEngine",
    "Block",
    "Booking",
    "BookingFacts",
    "BookingLedger",
    "BookingMoney",
    "BookingTerms",
    "CancellationPolicy",
    "CheckInOutcome",
    "CommissionPlan",
    "CommitBatch",
    "CommitConflict",
    "CopyReport",
    "Customer",
    "DispatchReport",
    "Engine",
    "EntryPolicy",
    "Event",
    "GatewayPort",
    "HeldItem",
    "Hold",
    "IssuedTicket",
    "IssuerKey",
    "IssuerKeySet",
    "Item",
    "ManualClock",
    "MemoryStore",
    "ModificationQuote",
    "Money",
    "NightAvailability",
    "Notifier",
    "OwnerStatement",
    "Party",
    "Payment",
    "PaymentAttempt",
    "PaymentGateway",
    "PostgresStore",
    "Property",
    "PublicKey",
    "PublicKeySet",
    "Quote",
    "QuoteLine",
    "QuoteRequest",
    "Quoted",
    "RatePlan",
    "ReconcileReport",
    "Record",
    "Refund",
    "RefundQuote",
    "ReservoError",
    "Resource",
    "RevocationList",
    "ScanLog",
    "ScanMergeReport",
    "SearchHit",
    "SessionAvailability",
    "SmsSender",
    "SmsTemplates",
    "Split",
    "SqliteStore",
    "StatementAmounts",
    "StatementLine",
    "StatusChange",
    "Storage",
    "Store",
    "StoredEvent",
    "TicketClaims",
    "TicketSettings",
    "TokenQr",
    "VenueRules",
    "Verifier",
    "__version__",
    "conformance",
    "copy_store",
    "errors",
    "notify",
    "owner_statement",
    "ports",
]
