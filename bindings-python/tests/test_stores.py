"""The stores' constructor options from Python: checked before anything is
opened, and doing what they say."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from reservo import Engine, ManualClock, PostgresStore, SqliteStore, errors

from .conftest import START, book_villa, make_engine, villa

HOLD_THE_LOCK = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
db.execute("ROLLBACK")
"""

BAD_SQLITE_OPTIONS: list[dict[str, Any]] = [
    {"synchronous": "off"},
    {"synchronous": "FULL"},
    {"readers": 0},
    {"lock_wait": timedelta(seconds=-1)},
]


@pytest.mark.parametrize("options", BAD_SQLITE_OPTIONS)
def test_bad_sqlite_options_are_refused_before_the_file_is_created(
    tmp_path: Path, options: dict[str, Any]
) -> None:
    path = tmp_path / "never.sqlite"
    with pytest.raises(errors.InvalidInput) as raised:
        SqliteStore(path, **options)
    assert isinstance(raised.value, ValueError)
    assert next(iter(options)) in str(raised.value)
    assert not path.exists()


def test_a_file_from_a_newer_reservo_is_refused_with_its_own_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "newer.db"
    SqliteStore(path)  # creates the file at the current schema
    with sqlite3.connect(path) as raw:
        raw.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')"
        )
    with pytest.raises(errors.SchemaTooNew, match="schema version 999") as refused:
        SqliteStore(path)
    assert isinstance(refused.value, errors.StorageError)


def test_a_store_synced_at_checkpoints_keeps_its_bookings(tmp_path: Path) -> None:
    path = tmp_path / "normal.sqlite"
    store = SqliteStore(
        path,
        synchronous="normal",
        lock_wait=timedelta(seconds=5),
        readers=1,
        commit_on_caller=False,
    )
    engine = make_engine(store, ManualClock(START))
    booking = book_villa(engine, date(2026, 7, 1), date(2026, 7, 3))
    del engine, store
    again = Engine(SqliteStore(path), clock=ManualClock(START))
    assert again.booking(booking.id) == booking


def test_lock_wait_bounds_how_long_a_commit_waits_for_another_writer(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.sqlite"
    engine = make_engine(
        SqliteStore(path, lock_wait=timedelta(milliseconds=200)), ManualClock(START)
    )
    # Another process's writer holding the file's write lock (in this
    # process, two SQLite libraries would not see each other's POSIX locks).
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD_THE_LOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout is not None and other.stdin is not None
    assert other.stdout.readline() == "locked\n"
    outcome: list[BaseException | None] = []

    def hold() -> None:
        try:
            engine.hold(
                [villa(date(2026, 7, 1), date(2026, 7, 3))],
                idempotency_key="h1",
                ttl_seconds=600,
            )
            outcome.append(None)
        except BaseException as error:  # reported below
            outcome.append(error)

    thread = threading.Thread(target=hold)
    thread.start()
    # The default lock wait is 30 s; 200 ms must end the call long before 20 s.
    thread.join(timeout=20)
    other.stdin.close()
    assert other.wait(timeout=20) == 0
    other.stdout.close()
    thread.join()
    assert len(outcome) == 1
    assert isinstance(outcome[0], errors.StorageError), outcome[0]


def test_a_postgres_count_of_zero_is_refused_before_connecting() -> None:
    # Nothing listens on port 9: the option is refused first.
    url = "postgres://app@127.0.0.1:9/x"
    with pytest.raises(errors.InvalidInput, match="pool_size"):
        PostgresStore(url, pool_size=0)
    with pytest.raises(errors.InvalidInput, match="commits_in_flight"):
        PostgresStore(url, commits_in_flight=0)


@pytest.mark.parametrize("option", ["pool_timeout", "query_timeout"])
@pytest.mark.parametrize("timeout", [0, -1.0, float("nan"), float("inf")])
def test_a_postgres_timeout_that_is_not_a_positive_time_is_refused(
    option: str, timeout: float
) -> None:
    url = "postgres://app@127.0.0.1:9/x"
    with pytest.raises(errors.InvalidInput, match=option):
        if option == "pool_timeout":
            PostgresStore(url, pool_timeout=timeout)
        else:
            PostgresStore(url, query_timeout=timeout)


def test_a_postgres_server_that_never_answers_fails_within_the_pool_timeout() -> None:
    # Accepts connections and never says a word: a stalled server.
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(errors.StorageError, match="pool timeout"):
            PostgresStore(
                f"postgres://app@127.0.0.1:{port}/x?sslmode=disable", pool_timeout=0.3
            )
        assert time.monotonic() - started < 10
