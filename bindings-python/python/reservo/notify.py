"""SMS notifications: outbox events to messages through a host ``SmsSender``."""

from __future__ import annotations

from typing import Any

from . import _reservo
from ._reservo import DispatchReport, ManualClock, SmsTemplates
from .engine import Store
from .ports import SmsSender

__all__ = ["DispatchReport", "Notifier", "SmsTemplates"]


class Notifier:
    """Sends an SMS for every outbox event that has a template, at least once.

    Its cursor and deliveries live in ``store`` (the engine's store), so
    several notifiers may run; each delivery is claimed by one of them.

    Stores that share one SMS provider account pass ``dedupe_namespace`` (a
    stable tenant or store id: 1-64 ASCII letters, digits, ``.``, ``_``,
    ``-``), so their dedupe keys (``reservo-sms-<namespace>-<seq>-<audience>``)
    never collide; each store numbers its events from 1.

    ``templates`` replaces Reservo's default English messages (see
    :class:`SmsTemplates`); the notifier keeps a copy. A template for an
    audience without a recipient path raises ``InvalidInput`` here.
    """

    def __init__(
        self,
        store: Store,
        sender: SmsSender,
        *,
        clock: ManualClock | None = None,
        dedupe_namespace: str | None = None,
        templates: SmsTemplates | None = None,
    ) -> None:
        self._native = _reservo.NativeNotifier(
            store,
            sender,
            clock=clock,
            dedupe_namespace=dedupe_namespace,
            templates=templates,
        )

    def run_once(self, max: int = 100) -> DispatchReport:
        """Reads new events, queues deliveries and sends up to ``max`` due ones."""
        return self._native.run_once(max).wait()

    async def run_once_async(self, max: int = 100) -> DispatchReport:
        """:meth:`run_once`, awaitable; ``async def`` senders run on this loop."""
        return await self._native.run_once(max)

    def failed_deliveries(self, limit: int = 100) -> list[dict[str, Any]]:
        """Deliveries given up, as data (message, attempts, last error)."""
        return self._native.failed_deliveries(limit).wait()
