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


def stub_kinds(fn: ast.FunctionDef) -> list[tuple[str, bool, bool]]:
    """(name, keyword-only, has a default) of each parameter."""
    args = fn.args
    positional = args.posonlyargs + args.args
    first_default = len(positional) - len(args.defaults)
    found = [
        (a.arg, False, i >= first_default)
        for i, a in enumerate(positional)
        if a.arg not in ("self", "cls")
    ]
    found += [
        (a.arg, True, d is not None) for a, d in zip(args.kwonlyargs, args.kw_defaults)
    ]
    return found


def runtime_kinds(obj: Any) -> list[tuple[str, bool, bool]] | None:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [
        (name, p.kind is p.KEYWORD_ONLY, p.default is not p.empty)
        for name, p in sig.parameters.items()
        if name not in ("self", "$self", "cls", "$cls")
    ]


def is_property(fn: ast.FunctionDef) -> bool:
    return any(
        isinstance(d, (ast.Name, ast.Attribute)) and ast.unparse(d).endswith("property")
        for d in fn.decorator_list
    )


def stub_functions() -> list[tuple[str, str, ast.FunctionDef]]:
    """(class or "", name, definition) of every callable the stub declares."""
    found: list[tuple[str, str, ast.FunctionDef]] = []
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            found.append(("", node.name, node))
        elif isinstance(node, ast.ClassDef):
            found += [
                (node.name, item.name, item)
                for item in node.body
                if isinstance(item, ast.FunctionDef) and not is_property(item)
            ]
    return found


@pytest.mark.parametrize(
    ("owner", "member", "fn"),
    stub_functions(),
    ids=[f"{o}.{m}" if o else m for o, m, _ in stub_functions()],
)
def test_stub_marks_keyword_only_and_defaulted_parameters_as_the_runtime_does(
    owner: str, member: str, fn: ast.FunctionDef
) -> None:
    target = getattr(_reservo, member) if not owner else getattr(_reservo, owner)
    if owner and member != "__init__":
        target = getattr(target, member)
    actual = runtime_kinds(target)
    if actual is not None:
        assert actual == stub_kinds(fn)


def test_native_engine_stub_returns_what_the_facades_return() -> None:
    tree = ast.parse(STUB.read_text())
    native = next(
        n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "NativeEngine"
    )
    for fn in native.body:
        if not isinstance(fn, ast.FunctionDef) or fn.name.startswith("_"):
            continue
        returns = ast.unparse(fn.returns) if fn.returns else "None"
        if returns.startswith("Pending["):
            returns = returns[len("Pending[") : -1]
        for facade in (reservo.Engine, reservo.AsyncEngine):
            declared = inspect.signature(getattr(facade, fn.name)).return_annotation
            assert declared == returns, f"{facade.__name__}.{fn.name}"
