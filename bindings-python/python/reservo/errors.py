"""The exceptions Reservo raises: one class per error code of the core.

Every exception is a :class:`ReservoError` with a stable ``code`` (the core's
``SCREAMING_SNAKE`` code). Codes that report bad input from the caller also
subclass :class:`ValueError`, so ``except ValueError`` catches them as it
would any invalid argument. Match on classes or ``code``, never on messages.

When a port the host implemented in Python (a ``Storage``, a payment
gateway, an SMS sender) raised, the exception raised here carries the host's
original exception as ``__cause__``; an interrupt the port raised
(``KeyboardInterrupt``, ``SystemExit``, ``GeneratorExit``) is raised as itself
instead. Exceptions pickle with their class, code and message.
"""

from __future__ import annotations

from typing import ClassVar


class ReservoError(Exception):
    """The root of every error Reservo raises."""

    code: ClassVar[str] = "RESERVO_ERROR"

    @property
    def message(self) -> str:
        """What was wrong, for people (names the offending value)."""
        return str(self)


class InvalidInput(ReservoError, ValueError):
    """A value given by the caller is malformed or out of range."""

    code = "INVALID_INPUT"


class UnknownCurrency(ReservoError, ValueError):
    """A currency code that is not an ISO 4217 currency Reservo knows."""

    code = "UNKNOWN_CURRENCY"


class CurrencyMismatch(ReservoError, ValueError):
    """Two amounts in different currencies were combined."""

    code = "CURRENCY_MISMATCH"


class NotFound(ReservoError):
    """An id that names nothing in the store."""

    code = "NOT_FOUND"


class AlreadyExists(ReservoError):
    """Something with this id exists already."""

    code = "ALREADY_EXISTS"


class Unavailable(ReservoError):
    """Not enough capacity is left for the request."""

    code = "UNAVAILABLE"


class PartyTooLarge(ReservoError):
    """The party is larger than one unit or session can ever take."""

    code = "PARTY_TOO_LARGE"


class NoSuchSlot(ReservoError):
    """No session of the resource starts at the requested instant."""

    code = "NO_SUCH_SLOT"


class InThePast(ReservoError):
    """The requested stay or slot starts in the past."""

    code = "IN_THE_PAST"


class RestrictionViolated(ReservoError):
    """A booking restriction forbids the request (see the subclasses)."""

    code = "RESTRICTION_VIOLATED"


class MinStayOnArrival(RestrictionViolated):
    """Fewer nights than the minimum stay on the arrival date."""

    code = "MIN_STAY_ON_ARRIVAL"


class MaxStayOnArrival(RestrictionViolated):
    """More nights than the maximum stay on the arrival date."""

    code = "MAX_STAY_ON_ARRIVAL"


class MinStayThrough(RestrictionViolated):
    """A night of the stay carries a minimum stay the stay does not reach."""

    code = "MIN_STAY_THROUGH"


class MaxStayThrough(RestrictionViolated):
    """A night of the stay carries a maximum stay the stay exceeds."""

    code = "MAX_STAY_THROUGH"


class ClosedToArrival(RestrictionViolated):
    """Arrival is not allowed on this date."""

    code = "CLOSED_TO_ARRIVAL"


class ClosedToDeparture(RestrictionViolated):
    """Departure is not allowed on this date."""

    code = "CLOSED_TO_DEPARTURE"


class MinAdvanceNotMet(RestrictionViolated):
    """The booking is made too close to its start."""

    code = "MIN_ADVANCE_NOT_MET"


class MaxAdvanceExceeded(RestrictionViolated):
    """The booking is made too far ahead of its start."""

    code = "MAX_ADVANCE_EXCEEDED"


class StopSell(RestrictionViolated):
    """Sales are stopped for this date."""

    code = "STOP_SELL"


class NoRate(ReservoError):
    """No rate plan gives a price for the requested date."""

    code = "NO_RATE"


class PromoNotApplicable(ReservoError):
    """A promo code that does not exist, has expired or is used up."""

    code = "PROMO_NOT_APPLICABLE"


class HoldExpired(ReservoError):
    """The hold's time to live has run out."""

    code = "HOLD_EXPIRED"


class HoldAlreadyResolved(ReservoError):
    """The hold has already been confirmed, released or expired."""

    code = "HOLD_ALREADY_RESOLVED"


class HoldExtensionLimit(ReservoError):
    """Extending the hold would pass its maximum lifetime."""

    code = "HOLD_EXTENSION_LIMIT"


class IdempotencyConflict(ReservoError):
    """An idempotency key was reused with a different request."""

    code = "IDEMPOTENCY_CONFLICT"


class IllegalTransition(ReservoError):
    """A booking cannot move from its status to the requested one."""

    code = "ILLEGAL_TRANSITION"


class PaymentDeclined(ReservoError):
    """The payment gateway declined the payment."""

    code = "PAYMENT_DECLINED"


class PaymentOutcomeUnknown(ReservoError):
    """The gateway failed in a way that leaves the outcome unknown."""

    code = "PAYMENT_OUTCOME_UNKNOWN"


class PaymentUnsupported(ReservoError):
    """The gateway cannot do what was asked (for example a partial refund)."""

    code = "PAYMENT_UNSUPPORTED"


class PriceChanged(ReservoError):
    """The price of a change is not the one the caller agreed to: quote it
    again (for example ``modify(expected_total=...)`` after rates changed)."""

    code = "PRICE_CHANGED"


class RefundExceedsPaid(ReservoError):
    """A refund larger than what is left to refund."""

    code = "REFUND_EXCEEDS_PAID"


class TokenMalformed(ReservoError, ValueError):
    """The token is not a well-formed Reservo token."""

    code = "TOKEN_MALFORMED"


class TokenUnknownKey(ReservoError):
    """The token names a key id the verifier does not know."""

    code = "TOKEN_UNKNOWN_KEY"


class TokenBadSignature(ReservoError):
    """The token's signature does not verify."""

    code = "TOKEN_BAD_SIGNATURE"


class TokenExpired(ReservoError):
    """The token's validity window has ended."""

    code = "TOKEN_EXPIRED"


class TokenNotYetValid(ReservoError):
    """The token's validity window has not begun."""

    code = "TOKEN_NOT_YET_VALID"


class TokenRevoked(ReservoError):
    """The token or its booking is on the revocation list."""

    code = "TOKEN_REVOKED"


class TokenWrongGate(ReservoError):
    """The token does not admit at this gate or zone."""

    code = "TOKEN_WRONG_GATE"


class TokenAlreadyUsed(ReservoError):
    """The token's entries are used up."""

    code = "TOKEN_ALREADY_USED"


class EntryRefused(ReservoError):
    """A check-in rule refused the entry (entry hours, anti-passback, ...)."""

    code = "ENTRY_REFUSED"


class StorageError(ReservoError):
    """The storage port failed; a host store's exception is the ``__cause__``."""

    code = "STORAGE_ERROR"


class SchemaTooNew(StorageError):
    """The store was written by a newer Reservo (its schema is at a version
    this one does not know); nothing was changed. Retrying cannot help: open
    it with the newer Reservo."""

    code = "SCHEMA_TOO_NEW"


class Contention(ReservoError):
    """Too many concurrent changes to the same records; nothing changed."""

    code = "CONTENTION"


class CorruptRecord(ReservoError):
    """A stored record could not be decoded."""

    code = "CORRUPT_RECORD"


class PortError(ReservoError):
    """A host-implemented port failed; its exception is the ``__cause__``."""

    code = "PORT_ERROR"


def _concrete(cls: type[ReservoError]) -> list[type[ReservoError]]:
    found: list[type[ReservoError]] = []
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_concrete(sub))
    return found


BY_CODE: dict[str, type[ReservoError]] = {
    cls.code: cls for cls in _concrete(ReservoError) if cls is not RestrictionViolated
}
"""Every exception class by its code (the native module raises through it)."""
