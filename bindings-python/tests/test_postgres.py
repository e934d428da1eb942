"""The PostgreSQL store from Python, on the server the test command starts
(``RESERVO_PG_URL``). Without a server the tests skip, except under
``CI=true``, where a missing server is a failure."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from reservo import (
    Customer,
    Engine,
    ManualClock,
    PostgresStore,
    SqliteStore,
    conformance,
    copy_store,
)
from reservo.errors import StorageError

from .conftest import START, book_villa, set_up_catalog, villa
from .test_store_methods import Counted

URL = os.environ.get("RESERVO_PG_URL")
if URL is None and os.environ.get("CI") == "true":
    raise RuntimeError("CI=true but RESERVO_PG_URL is not set: start PostgreSQL")
pytestmark = pytest.mark.skipif(URL is None, reason="RESERVO_PG_URL is not set")


def fresh_store(commits_in_flight: int = 4) -> PostgresStore:
    """A store in tables of its own, so runs never see each other's data."""
    assert URL is not None
    return PostgresStore(
        URL,
        table_prefix=f"py_{uuid.uuid4().hex[:12]}_",
        commits_in_flight=commits_in_flight,
    )


class SilentNetwork:
    """A TCP proxy in front of the server of ``url`` that can stop carrying
    bytes (``frozen``) while keeping every connection open: a network that
    drops a connection without closing it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5432)
        self.frozen = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        port = self.listener.getsockname()[1]
        query = f"{parts.query}&sslmode=disable" if parts.query else "sslmode=disable"
        netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{port}"
        self.url = parts._replace(netloc=netloc, query=query).geturl()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # closed
                return
            server = socket.create_connection(self.target)
            self.sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(
                    target=self._pipe, args=(source, sink), daemon=True
                ).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(16384):
                while self.frozen.is_set():
                    time.sleep(0.01)
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            sock.close()


def test_a_server_that_goes_silent_fails_a_call_after_the_query_timeout() -> None:
    assert URL is not None
    network = SilentNetwork(URL)
    try:
        store = PostgresStore(
            network.url,
            table_prefix=f"py_{uuid.uuid4().hex[:12]}_",
            pool_size=1,
            query_timeout=0.3,
        )
        engine = Engine(store, clock=ManualClock(START))
        set_up_catalog(engine)
        network.frozen.set()
        started = time.monotonic()
        with pytest.raises(StorageError, match="did not answer"):
            engine.night_availability(
                "villa-azul", date(2026, 7, 10), date(2026, 7, 12)
            )
        assert time.monotonic() - started < 10
        # The silent connection was closed; the next call gets a new one.
        network.frozen.clear()
        nights = engine.night_availability(
            "villa-azul", date(2026, 7, 10), date(2026, 7, 12)
        )
        assert [n.available for n in nights] == [1, 1]
    finally:
        network.close()


def test_bookings_on_postgres_survive_a_new_connection() -> None:
    prefix = f"py_{uuid.uuid4().hex[:12]}_"
    assert URL is not None
    engine = Engine(PostgresStore(URL, table_prefix=prefix), clock=ManualClock(START))
    set_up_catalog(engine)
    booking = book_villa(engine, date(2026, 7, 10), date(2026, 7, 12))
    again = Engine(PostgresStore(URL, table_prefix=prefix), clock=ManualClock(START))
    assert again.booking(booking.id) == booking
    nights = again.night_availability(
        "villa-azul", date(2026, 7, 10), date(2026, 7, 12)
    )
    assert [n.available for n in nights] == [0, 0]


@pytest.mark.parametrize("commits_in_flight", [4, 1])
def test_threads_racing_on_postgres_sell_the_last_unit_once(
    commits_in_flight: int,
) -> None:
    engine = Engine(fresh_store(commits_in_flight), clock=ManualClock(START))
    set_up_catalog(engine)
    won: list[str] = []
    lost: list[str] = []

    def book(n: int) -> None:
        try:
            hold = engine.hold(
                [villa(date(2026, 8, 1), date(2026, 8, 3))],
                idempotency_key=f"h{n}",
                ttl_seconds=600,
            )
            engine.confirm(
                hold.id,
                customer=Customer("Guest", "+351912345678"),
                idempotency_key=f"c{n}",
            )
            won.append(hold.id)
        except Exception as error:  # the losers' errors are counted below
            lost.append(getattr(error, "code", repr(error)))

    threads = [threading.Thread(target=book, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert lost == ["UNAVAILABLE"] * 5


def test_threads_booking_other_weeks_with_one_commit_in_flight_all_land() -> None:
    # Commits made while one is in flight wait and go to the server
    # together; each booking still lands on its own nights.
    engine = Engine(fresh_store(commits_in_flight=1), clock=ManualClock(START))
    set_up_catalog(engine)
    weeks = [date(2026, 8, 3) + timedelta(weeks=n) for n in range(8)]
    booked: list[str] = []

    def book(n: int) -> None:
        hold = engine.hold(
            [villa(weeks[n], weeks[n] + timedelta(days=2))],
            idempotency_key=f"h{n}",
            ttl_seconds=600,
        )
        confirmed = engine.confirm(
            hold.id,
            customer=Customer("Guest", "+351912345678"),
            idempotency_key=f"c{n}",
        )
        booked.append(confirmed.id)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(booked) == 8
    for week in weeks:
        nights = engine.night_availability("villa-azul", week, week + timedelta(days=3))
        assert [n.available for n in nights] == [0, 0, 1]


def tls_url(host: str, ssl: str, user: str | None = None) -> str:
    """The test server reached as ``host`` (always at 127.0.0.1) over TLS,
    by ``user`` (the server's own user if ``None``)."""
    assert URL is not None
    user_host_port, _, database = URL.removeprefix("postgres://").partition("/")
    server_user, _, host_port = user_host_port.partition("@")
    port = host_port.rpartition(":")[2]
    return (
        f"postgres://{user or server_user}@{host}:{port}/{database}"
        f"?hostaddr=127.0.0.1&{ssl}"
    )


def tls_dir() -> str:
    """``RESERVO_PG_TLS``, or a skip (a failure under ``CI=true``)."""
    tls = os.environ.get("RESERVO_PG_TLS")
    if tls is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and RESERVO_PG_TLS unset: start scripts/postgres.sh")
        pytest.skip("RESERVO_PG_TLS is not set (scripts/postgres.sh sets it)")
    return tls


def test_verify_full_books_over_tls_and_refuses_an_unknown_ca() -> None:
    tls = tls_dir()
    prefix = f"py_{uuid.uuid4().hex[:12]}_"
    url = tls_url("localhost", f"sslmode=verify-full&sslrootcert={tls}/ca.crt")
    engine = Engine(PostgresStore(url, table_prefix=prefix), clock=ManualClock(START))
    set_up_catalog(engine)
    booking = book_villa(engine, date(2026, 9, 1), date(2026, 9, 3))
    assert engine.booking(booking.id) == booking

    other = tls_url("localhost", f"sslmode=verify-full&sslrootcert={tls}/other-ca.crt")
    with pytest.raises(StorageError, match="UnknownIssuer"):
        PostgresStore(other, table_prefix=prefix)
    with pytest.raises(StorageError, match="sslrootcert"):
        PostgresStore(tls_url("localhost", "sslmode=verify-full"), table_prefix=prefix)


def test_a_role_that_logs_in_by_certificate_books_with_sslcert_and_sslkey() -> None:
    tls = tls_dir()
    prefix = f"py_{uuid.uuid4().hex[:12]}_"
    verified = f"sslmode=verify-full&sslrootcert={tls}/ca.crt"
    client = f"{verified}&sslcert={tls}/client.crt&sslkey={tls}/client.key"
    url = tls_url("localhost", client, user="reservo_cert")
    engine = Engine(PostgresStore(url, table_prefix=prefix), clock=ManualClock(START))
    set_up_catalog(engine)
    booking = book_villa(engine, date(2026, 9, 1), date(2026, 9, 3))
    assert engine.booking(booking.id) == booking
    without = tls_url("localhost", verified, user="reservo_cert")
    with pytest.raises(StorageError, match="certificate"):
        PostgresStore(without, table_prefix=prefix)
    with pytest.raises(StorageError, match="go together"):
        PostgresStore(tls_url("localhost", f"{verified}&sslcert={tls}/client.crt"))


def test_a_sqlite_file_copied_into_postgres_goes_on_there(tmp_path: Path) -> None:
    file = SqliteStore(tmp_path / "outgrown.db")
    engine = Engine(file, clock=ManualClock(START))
    set_up_catalog(engine)
    booking = book_villa(engine, date(2026, 7, 10), date(2026, 7, 12))
    server = fresh_store()
    report = copy_store(file, server)
    moved = Engine(server, clock=ManualClock(START))
    assert moved.booking(booking.id) == booking
    assert moved.events(limit=1000) == engine.events(limit=1000)
    assert report.events == len(engine.events(limit=1000))


@pytest.mark.parametrize("name", conformance.case_names())
def test_a_wrapped_postgres_store_passes_the_storage_contract(name: str) -> None:
    assert conformance.run_case(name, lambda: Counted(fresh_store())) is None


def test_python_reads_what_the_engine_wrote_to_postgres() -> None:
    store = fresh_store()
    engine = Engine(Counted(store), clock=ManualClock(START))
    set_up_catalog(engine)
    booking = book_villa(engine, date(2026, 7, 10), date(2026, 7, 12))
    records = store.scan("", None, 10_000).wait()
    mine = [r for r in records if booking.id in r.key]
    assert mine
    assert store.get([r.key for r in mine]).wait() == mine
    kinds = [e.kind for e in store.read_events(0, 1_000).wait()]
    assert kinds.count("booking.confirmed") == 1
