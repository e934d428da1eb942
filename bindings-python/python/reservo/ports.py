"""The ports a host can implement in Python, as ``typing.Protocol``s.

Pass an object with these methods where Reservo takes a store, a payment
gateway or an SMS sender. Each method may be a plain function or an
``async def``: with :class:`reservo.AsyncEngine` coroutines run on the
caller's event loop (use your async drivers); with the blocking
:class:`reservo.Engine` they run on a background loop of the package.

An exception a port raises reaches the caller as a :class:`ReservoError`
(``StorageError``, ``PortError``, ...) whose ``__cause__`` is the original.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import Literal, Protocol, TypedDict, Union

from ._reservo import CommitBatch, Record, StoredEvent

__all__ = [
    "CaptureRequest",
    "CommitConflict",
    "GatewayCapabilities",
    "PaymentGateway",
    "PaymentOutcome",
    "PaymentRequest",
    "RefundRequest",
    "SmsMessage",
    "SmsSender",
    "Storage",
    "VoidRequest",
]


class CommitConflict(Exception):
    """Raised by a host ``Storage.commit`` when an expectation does not hold.

    Nothing may have been applied. The engine re-reads and retries.
    """

    def __init__(self, key: str) -> None:
        super().__init__(f"commit conflict on key {key}")
        self.key = key

    def __reduce__(self) -> tuple[type[CommitConflict], tuple[str]]:
        """Pickles as a call with its key (``args`` holds the message)."""
        return (type(self), (self.key,))


class Storage(Protocol):
    """An ordered, versioned record store with atomic conditional commit.

    The contract (checked by :mod:`reservo.conformance`):

    * ``get(keys)`` returns, per key and in order, the :class:`Record` or
      ``None``.
    * ``scan(start, end, limit)`` returns up to ``limit`` records with
      ``start <= key < end`` (``end`` ``None``: no upper bound), ascending by
      the keys' bytes.
    * ``commit(batch)`` checks every ``(key, version)`` of
      ``batch.expectations`` (``None``: the key must be absent), then applies
      ``batch.mutations`` (``None`` value: delete) and appends
      ``batch.events``, all or nothing, and returns the new version that
      every key it put now has (a store-wide counter works). If an
      expectation fails it changes nothing and raises
      :class:`CommitConflict`. A version once replaced is never given to
      that key again.
    * ``read_events(after, limit)`` returns up to ``limit`` events with
      ``seq > after``, ascending; sequences start at 1 in commit order.
    """

    def get(
        self, keys: list[str]
    ) -> Union[Sequence[Record | None], Awaitable[Sequence[Record | None]]]:
        """The records at ``keys`` (``None`` for absent keys), in order."""
        ...

    def scan(
        self, start: str, end: str | None, limit: int
    ) -> Union[Sequence[Record], Awaitable[Sequence[Record]]]:
        """Up to ``limit`` records in ``[start, end)``, in key order."""
        ...

    def commit(self, batch: CommitBatch) -> Union[int, Awaitable[int]]:
        """Applies ``batch`` atomically; returns the new version."""
        ...

    def read_events(
        self, after: int, limit: int
    ) -> Union[Sequence[StoredEvent], Awaitable[Sequence[StoredEvent]]]:
        """Up to ``limit`` outbox events after sequence ``after``."""
        ...


class GatewayCapabilities(TypedDict):
    """What a payment gateway supports."""

    partial_refunds: bool
    separate_capture: bool


class PaymentRequest(TypedDict):
    """A request to authorize or charge; ``amount`` is a decimal string."""

    idempotency_key: str
    reference: str
    amount: str
    currency: str
    payment_method: str


class CaptureRequest(TypedDict):
    """A request to capture a previous authorization."""

    idempotency_key: str
    authorization_id: str
    amount: str
    currency: str


class VoidRequest(TypedDict):
    """A request to release an authorization whose capture was declined."""

    idempotency_key: str
    authorization_id: str


class RefundRequest(TypedDict):
    """A request to refund (part of) a captured payment."""

    idempotency_key: str
    payment_id: str
    amount: str
    currency: str


class Approved(TypedDict):
    """Money moved (or was authorized)."""

    outcome: Literal["approved"]
    gateway_id: str


class Declined(TypedDict):
    """The gateway refused; no money moved."""

    outcome: Literal["declined"]
    reason: str


PaymentOutcome = Union[Approved, Declined]
"""The gateway's definite answer. Raise for an unknown outcome."""


class PaymentGateway(Protocol):
    """The host's payment service provider.

    Every method must be idempotent on the request's ``idempotency_key``.
    Return a declined outcome for a definite "no"; raise when the outcome is
    unknown (timeout, reset), and the engine retries with the same key.

    A gateway that captures separately may also define
    ``void(request: VoidRequest) -> PaymentOutcome`` (plain or ``async``):
    the engine calls it once when a capture is declined, to release the
    authorization, and records the answer in the ``payment.failed`` event
    (``authorization: {id, voided, message}``). Without it the
    authorization lapses at the issuer.
    """

    def capabilities(self) -> GatewayCapabilities:
        """What this gateway supports (a plain method, never ``async``).
        Asked when the engine is built: raising there, or answering in
        another shape, fails the engine's construction."""
        ...

    def authorize(
        self, request: PaymentRequest
    ) -> Union[PaymentOutcome, Awaitable[PaymentOutcome]]:
        """Authorizes without capturing."""
        ...

    def capture(
        self, request: CaptureRequest
    ) -> Union[PaymentOutcome, Awaitable[PaymentOutcome]]:
        """Captures a previous authorization."""
        ...

    def charge(
        self, request: PaymentRequest
    ) -> Union[PaymentOutcome, Awaitable[PaymentOutcome]]:
        """Authorizes and captures in one step."""
        ...

    def refund(
        self, request: RefundRequest
    ) -> Union[PaymentOutcome, Awaitable[PaymentOutcome]]:
        """Refunds all or part of a captured payment."""
        ...


class SmsMessage(TypedDict):
    """One text message: recipient (E.164), body and a stable dedupe key."""

    to: str
    body: str
    dedupe_key: str


class SmsSender(Protocol):
    """The host's SMS provider."""

    def send(self, message: SmsMessage) -> Union[str, Awaitable[str]]:
        """Sends the message at most once per ``dedupe_key``; returns the
        provider's message id. Raise if it was not sent."""
        ...
