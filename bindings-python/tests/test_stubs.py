"""The stubs in ``_reservo.pyi`` describe the native module exactly: the
same names, the same members of every class, the same parameter names."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest
import reservo
from reservo import _reservo

STUB = Path(reservo.__file__).with_name("_reservo.pyi")


def stub_tree() -> dict[str, Any]:
    """Top-level names of the stub: classes map to {member: params}."""
    found: dict[str, Any] = {}
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.ClassDef):
            members: dict[str, list[str] | None] = {}
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    is_property = any(
                        isinstance(d, ast.Name) and d.id == "property"
                        for d in item.decorator_list
                    )
                    members[item.name] = None if is_property else params(item)
            found[node.name] = members
        elif isinstance(node, ast.FunctionDef):
            found[node.name] = params(node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = "value"
    return found


def params(fn: ast.FunctionDef) -> list[str]:
    args = fn.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    return [n for n in names if n not in ("self",)]


def runtime_params(obj: Any) -> list[str] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [p for p in sig.parameters if p not in ("self", "$self", "cls")]


STUBS = stub_tree()
PUBLIC = sorted(
    n for n in dir(_reservo) if not n.startswith("__") or n == "__version__"
)


def test_stub_and_module_name_the_same_things() -> None:
    private_stub = {n for n in STUBS if n.startswith("_") and n != "__version__"}
    assert set(PUBLIC) == (set(STUBS) - {"_T", "_Data"}) | (private_stub & set(PUBLIC))
    assert set(STUBS) - {"_T", "_Data"} == set(PUBLIC)


@pytest.mark.parametrize(
    "name", [n for n in PUBLIC if isinstance(getattr(_reservo, n), type)]
)
def test_class_members_and_parameters_match_the_stub(name: str) -> None:
    cls = getattr(_reservo, name)
    stub = STUBS[name]
    runtime = {
        m for m in vars(cls) if not m.startswith("_") or m in ("__len__", "__await__")
    }
    declared = {m for m in stub if m != "__init__"}
    assert runtime == declared, name
    for member, declared_params in stub.items():
        if declared_params is None:
            assert isinstance(vars(cls)[member], type(_reservo.Money.amount)), member
            continue
        target = cls if member == "__init__" else getattr(cls, member)
        actual = runtime_params(target)
        if actual is not None:
            assert actual == declared_params, f"{name}.{member}"


@pytest.mark.parametrize(
    "name",
    [
        n
        for n in PUBLIC
        if callable(getattr(_reservo, n)) and not isinstance(getattr(_reservo, n), type)
    ],
)
def test_function_parameters_match_the_stub(name: str) -> None:
    assert runtime_params(getattr(_reservo, name)) == STUBS[name]


def operations(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(getattr(cls, name))
        for name in dir(cls)
        if not name.startswith("_")
    }


def test_engine_and_async_engine_offer_every_native_operation_alike() -> None:
    blocking, awaitable = operations(reservo.Engine), operations(reservo.AsyncEngine)
    native = {n for n in dir(_reservo.NativeEngine) if not n.startswith("_")}
    assert set(blocking) == set(awaitable) == native
    for name, signature in blocking.items():
        assert awaitable[name] == signature, name
        is_coroutine = inspect.iscoroutinefunction(getattr(reservo.AsyncEngine, name))
        assert is_coroutine == (name != "ticket_public_keys"), name
