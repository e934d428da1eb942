"""``SmsTemplates`` from Python: the host's own SMS text per event kind and
audience, checked when added, previewed with ``render``, and given to a
``Notifier`` (which keeps a copy and refuses templates nobody can be
addressed by)."""

from __future__ import annotations

import pytest
from reservo import ManualClock, MemoryStore, Notifier, SmsTemplates, errors

from .conftest import Phone

PAYLOAD = {
    "booking": {"id": "b-1"},
    "customer": {"name": "Ana Lima", "phone": "+351912345678"},
    "property": {"name": "Casa Azul"},
    "period": {"start": "2026-07-13", "end": "2026-07-16"},
}


def test_defaults_have_the_booking_messages_and_an_empty_set_has_none() -> None:
    defaults = SmsTemplates.defaults()
    assert defaults.get("booking.confirmed", "guest") is not None
    assert defaults.get("hold.expired", "guest") is None
    assert SmsTemplates().get("booking.confirmed", "guest") is None


def test_added_templates_render_from_a_payload() -> None:
    templates = SmsTemplates()
    templates.set_recipient("guest", "customer.phone")
    templates.add("booking.confirmed", "guest", "Olá {customer.name}: {property.name}")
    assert templates.get("booking.confirmed", "guest") == (
        "Olá {customer.name}: {property.name}"
    )
    assert templates.render("booking.confirmed", "guest", PAYLOAD) == (
        "+351912345678",
        "Olá Ana Lima: Casa Azul",
    )
    # No template for the owner, and no phone at the path: nothing to send.
    assert templates.render("booking.confirmed", "owner", PAYLOAD) is None
    assert templates.render("booking.confirmed", "guest", {"customer": {}}) is None
    # A placeholder with no value is what a notifier records as failed.
    templates.add("booking.cancelled", "guest", "Ref {booking.ref}")
    with pytest.raises(errors.InvalidInput):
        templates.render("booking.cancelled", "guest", PAYLOAD)


def test_bad_templates_and_audiences_are_refused_and_change_nothing() -> None:
    templates = SmsTemplates.defaults()
    before = templates.get("booking.confirmed", "guest")
    with pytest.raises(errors.InvalidInput):
        templates.add("booking.confirmed", "guest", "Hi {customer.name")
    with pytest.raises(errors.InvalidInput):
        templates.add("booking confirmed", "guest", "Hi")
    with pytest.raises(errors.InvalidInput):
        templates.set_recipient("guest", "")
    with pytest.raises(errors.InvalidInput, match="audience"):
        templates.add("booking.confirmed", "customer", "Hi")
    assert templates.get("booking.confirmed", "guest") == before
    assert templates.render("booking.confirmed", "guest", PAYLOAD) is not None


def test_a_notifier_refuses_a_template_for_an_audience_without_a_recipient(
    clock: ManualClock,
) -> None:
    templates = SmsTemplates()
    templates.add("booking.confirmed", "owner", "New booking {booking.id}")
    with pytest.raises(errors.InvalidInput, match="recipient"):
        Notifier(MemoryStore(), Phone(), clock=clock, templates=templates)
    templates.set_recipient("owner", "owner.phone")
    Notifier(MemoryStore(), Phone(), clock=clock, templates=templates)
