"""Shared fixtures: a keyring for tests, servers on real databases over real HTTP, a clock."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYNPUT_BACKEND", "dummy")

import contextlib
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import pytest
import uvicorn

from client.engine import Engine
from client.keystore import KeyringStore
from client.settings import ClientSettings
from server import jobs
from server.app import create_app
from server.context import Context
from server.invitations import create_invitation
from server.provision import initialise
from server.settings import Settings

PG_ADMIN_URL = os.environ.get("EXAMGATE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def need(condition: bool, variable: str, reason: str) -> None:
    """Skip when a system part is missing, or fail when CI says it must be there."""
    if condition:
        return
    if os.environ.get(variable) == "1":
        pytest.fail(f"{reason} ({variable}=1 makes this a failure)")
    pytest.skip(reason)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """The tests' own keyring backend (no desktop keyring exists here)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


class ManualClock:
    """A clock the test moves by hand: wall, monotonic and kernel uptime time advance together
    (``slow`` makes the process's clocks lag the kernel's, as a time-faking library would)."""

    def __init__(self, wall_ms: int | None = None) -> None:
        self.wall = wall_ms if wall_ms is not None else time.time_ns() // 1_000_000
        self.mono = 1_000
        self.uptime: int | None = 50_000

    def wall_ms(self) -> int:
        return self.wall

    def mono_ms(self) -> int:
        return self.mono

    def uptime_ms(self) -> int | None:
        return self.uptime

    def advance(self, ms: int) -> None:
        self.wall += ms
        self.mono += ms
        if self.uptime is not None:
            self.uptime += ms

    def slow(self, real_ms: int, factor: float) -> None:
        """``real_ms`` pass, but the process's wall and monotonic clocks see ``factor`` of it."""
        seen = int(real_ms * factor)
        self.wall += seen
        self.mono += seen
        if self.uptime is not None:
            self.uptime += real_ms

    def sleep(self, ms: int) -> None:
        """The machine sleeps: wall and uptime move on, the monotonic clock stands still."""
        self.wall += ms
        if self.uptime is not None:
            self.uptime += ms


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    need(postgres_available(), "EXAMGATE_REQUIRE_POSTGRES", "PostgreSQL is not reachable")
    name = f"examgate_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Templates:
    """Initialised servers to copy. ``init`` (keys, authority, migrations, the bundled bank)
    runs once per kind of database in a test process; a test's server is then a copy of it
    (keys and database), exactly what ``init`` leaves, in a fraction of the time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: dict[str, Settings] = {}

    def _template(self, kind: str) -> Settings:
        if kind not in self._made:
            data = self.root / kind
            if kind == "sqlite":
                url = f"sqlite:///{data / 'examgate.db'}"
            else:
                name = f"examgate_template_{uuid.uuid4().hex[:12]}"
                _admin(f'CREATE DATABASE "{name}"')
                url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
            settings = Settings(data_dir=data, database_url=url)
            initialise(settings)
            self._made[kind] = settings
        return self._made[kind]

    def initialise(self, settings: Settings) -> None:
        """What ``initialise(settings)`` would make, for a data folder and database not yet
        initialised (a PostgreSQL database is made again from the template)."""
        if (
            settings.issuer_name != Settings.issuer_name
            or settings.data_dir.joinpath("keys").exists()
        ):
            initialise(settings)  # certificates of their own, or a second init: the real one
            return
        kind = "postgresql" if settings.database_url.startswith("postgresql") else "sqlite"
        template = self._template(kind)
        settings.save()
        shutil.copytree(template.data_dir / "keys", settings.data_dir / "keys")
        if kind == "sqlite":
            target = Path(settings.database_url.removeprefix("sqlite:///"))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(template.database_url.removeprefix("sqlite:///"), target)
        else:
            name = settings.database_url.rsplit("/", 1)[1]
            source = template.database_url.rsplit("/", 1)[1]
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            _admin(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')

    def close(self) -> None:
        for settings in self._made.values():
            if settings.database_url.startswith("postgresql"):
                name = settings.database_url.rsplit("/", 1)[1]
                _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(statement)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    made = Templates(tmp_path_factory.mktemp("templates"))
    yield made
    made.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'server' / 'examgate.db'}"
    else:
        with postgres_database() as url:
            yield url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThreadServer:
    """The real app under uvicorn on a loopback port, in a thread of the test process."""

    def __init__(self, ctx: Context, run_jobs: bool = True) -> None:
        self.ctx = ctx
        self.run_jobs = run_jobs
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if not ctx.settings.public_url_set:  # links, QR codes and the did:web reach this server
            ctx.settings = dataclasses.replace(ctx.settings, public_url=self.url)
        config = uvicorn.Config(
            create_app(ctx), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.worker: jobs.TableWorker | jobs.ProcrastinateWorker | None = None

    def __enter__(self) -> ThreadServer:
        if self.run_jobs:  # certificates and preparation, as `serve` runs them
            self.worker = jobs.start_worker(self.ctx)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        if self.worker is not None:
            self.worker.stop()
        self.ctx.dispose()

    def invite(
        self, offline: bool = False, candidate: str = "Ada Lovelace", **window: Any
    ) -> dict[str, Any]:
        return create_invitation(self.ctx, "deep-learning", candidate, offline, **window)


class ProcessServer:
    """``examgate-server serve`` as a real process on a loopback port, with a context of the
    test's own on the same database (for invitations and checks). The Qt tests use it: their
    process then runs no server threads beside the window (certificates rendered in a thread
    next to Qt's own work once brought a crash in garbage collection)."""

    def __init__(self, settings: Settings, port: int | None = None) -> None:
        self.settings = settings
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ctx = Context.open(settings)
        if not settings.public_url_set:  # as `serve` does: the address it listens on
            self.ctx.settings = dataclasses.replace(settings, public_url=self.url)
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ProcessServer:
        import requests

        log = (self.settings.data_dir / "serve.log").open("ab")
        self.process = subprocess.Popen(
            [
                venv_bin("examgate-server"), "serve", "--data", str(self.settings.data_dir),
                "--port", str(self.port), "--public-url", self.url,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + "/ready", timeout=1).ok:
                    return self
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.__exit__()
                raise RuntimeError((self.settings.data_dir / "serve.log").read_text()[-3000:])
            time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.ctx.dispose()

    def invite(
        self, offline: bool = False, candidate: str = "Ada Lovelace", **window: Any
    ) -> dict[str, Any]:
        return create_invitation(self.ctx, "deep-learning", candidate, offline, **window)


@pytest.fixture
def server_settings(tmp_path: Path, database_url: str, templates: Templates) -> Settings:
    settings = Settings(data_dir=tmp_path / "server", database_url=database_url)
    templates.initialise(settings)
    return settings


@pytest.fixture
def live(server_settings: Settings) -> Iterator[ThreadServer]:
    with ThreadServer(Context.open(server_settings)) as running:
        yield running


@pytest.fixture
def idle_live(server_settings: Settings) -> Iterator[ThreadServer]:
    """A live server whose job queue nobody works: a test runs the jobs when it chooses."""
    with ThreadServer(Context.open(server_settings), run_jobs=False) as running:
        yield running


@pytest.fixture
def sqlite_live(tmp_path: Path, templates: Templates) -> Iterator[ThreadServer]:
    """A live server on SQLite only, for client and UI tests."""
    settings = Settings(
        data_dir=tmp_path / "server", database_url=f"sqlite:///{tmp_path / 'server' / 'db.sqlite'}"
    )
    templates.initialise(settings)
    with ThreadServer(Context.open(settings)) as running:
        yield running


@pytest.fixture
def make_engine(tmp_path: Path, clock: ManualClock) -> Iterator[Any]:
    made: list[Engine] = []

    def make(name: str = "candidate", manual_clock: bool = True) -> Engine:
        settings = ClientSettings.load(tmp_path / name)
        engine = Engine(settings, KeyringStore(settings.home), clock if manual_clock else None)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


def venv_bin(name: str) -> str:
    found = Path(sys.executable).with_name(name)
    return str(found) if found.exists() else (shutil.which(name) or name)


@contextlib.contextmanager
def serve_process(
    work: Path, database: str | None = None, workers: int = 1, public_url: bool = True
) -> Iterator[tuple[str, Path]]:
    """``examgate-server init`` then ``serve`` as real processes; yields (url, data dir).
    ``public_url=False`` gives no public address, so the server uses the one it serves."""
    import requests

    data = work / "srv"
    init = [venv_bin("examgate-server"), "init", "--data", str(data)]
    subprocess.run(
        init + (["--database", database] if database else []), check=True, capture_output=True
    )
    port = free_port()
    log_path = work / "serve.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [
            venv_bin("examgate-server"),
            "serve",
            "--data",
            str(data),
            "--port",
            str(port),
            "--workers",
            str(workers),
            *(["--public-url", f"http://127.0.0.1:{port}"] if public_url else []),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                if requests.get(url + "/api/v1/health", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(log_path.read_text())
            time.sleep(0.05)
        yield url, data
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


@pytest.fixture
def served_process(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    with serve_process(tmp_path) as served:
        yield served


class Mailbox:
    """A real SMTP server (aiosmtpd) on a loopback port that keeps every message it receives."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        import email
        import email.policy

        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Any]:
        return [m for m in self.messages if m["To"] == address]

    def wait_for(self, address: str, count: int = 1, timeout_s: float = 20) -> list[Any]:
        """The messages to ``address`` once ``count`` have arrived (sent by the job worker)."""
        deadline = time.monotonic() + timeout_s
        while len(self.to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.to(address))} messages reached {address}")
            time.sleep(0.05)
        return self.to(address)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.controller.stop()


@pytest.fixture
def mailed_live(
    tmp_path: Path, database_url: str, mailbox: Mailbox, templates: Templates
) -> Iterator[ThreadServer]:
    """A live server on either database whose e-mail goes to ``mailbox`` over SMTP."""
    from server.settings import Smtp

    settings = Settings(
        data_dir=tmp_path / "server",
        database_url=database_url,
        smtp=Smtp(
            host="127.0.0.1",
            port=mailbox.port,
            security="none",
            sender="examgate <exams@example.org>",
        ),
    )
    templates.initialise(settings)
    with ThreadServer(Context.open(settings)) as running:
        yield running
