"""Error mapping: one exception class per core code, ValueError for bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from reservo import Customer, Money, Party, Property, ReservoError, errors

CORE_ERRORS = Path(__file__).resolve().parents[2] / "core" / "src" / "error.rs"


def core_codes() -> set[str]:
    text = CORE_ERRORS.read_text()
    return set(re.findall(r'=> "([A-Z_]+)"', text))


def test_every_core_code_has_its_own_exception_class() -> None:
    codes = core_codes()
    assert len(codes) > 30
    assert codes == set(errors.BY_CODE)
    for code, cls in errors.BY_CODE.items():
        assert issubclass(cls, ReservoError)
        assert cls.code == code


def test_invalid_input_codes_are_value_errors() -> None:
    value_errors = {
        c for c, cls in errors.BY_CODE.items() if issubclass(cls, ValueError)
    }
    assert value_errors == {
        "INVALID_INPUT",
        "UNKNOWN_CURRENCY",
        "CURRENCY_MISMATCH",
        "TOKEN_MALFORMED",
    }


@pytest.mark.parametrize(
    ("make", "cls"),
    [
        (lambda: Party(0), errors.InvalidInput),
        (lambda: Money("1", "XYZ"), errors.UnknownCurrency),
        (lambda: Customer("Ana", "912345678"), errors.InvalidInput),
        (
            lambda: Property("a/b", "A", "o", "Europe/Lisbon", "EUR"),
            errors.InvalidInput,
        ),
        (lambda: Property("a", "A", "o", "Nowhere/City", "EUR"), errors.InvalidInput),
    ],
)
def test_bad_values_raise_the_class_of_their_code(make: object, cls: type) -> None:
    with pytest.raises(cls) as caught:
        make()  # type: ignore[operator]
    assert isinstance(caught.value, ValueError)
    assert caught.value.code == cls.code  # type: ignore[attr-defined]
    assert str(caught.value)
