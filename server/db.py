"""Storage: the SQLAlchemy Core tables, the engine, and migrations to the newest schema.

Times are integer milliseconds since the epoch; JSON columns hold canonical JSON text.
SQLite (WAL) is the embedded default; the same code runs on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import functools
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    exc,
    false,
)
from sqlalchemy.dialects import postgresql, sqlite

metadata = MetaData()

# Organisations (the table kept its first name): the employers and test publishers whose
# assessments these are. ``slug`` is the public handle a candidate names to share a result.
employers = Table(
    "employers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("slug", String(100), nullable=True, unique=True),
    # Personal data of this organisation's candidates is erased this many days after the
    # sitting (None: kept until erased on request).
    Column("retention_days", Integer, nullable=True),
)
organisations = employers

users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(200), nullable=False),  # Argon2id, PHC string
    Column("totp_secret", String(64), nullable=True),  # base32, once confirmed
    Column("totp_pending", String(64), nullable=True),  # offered, not yet confirmed
    Column("totp_last_step", BigInteger, nullable=True),  # a code is accepted once
    Column("created_ms", BigInteger, nullable=False),
    Column("disabled_ms", BigInteger, nullable=True),
)

memberships = Table(
    "memberships",
    metadata,
    Column("organisation_id", String(32), ForeignKey("employers.id"), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),  # owner, recruiter, proctor, viewer
    Column("created_ms", BigInteger, nullable=False),
)

# Signed-in users: a bearer secret whose SHA-256 only is kept.
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False, index=True),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),
    Column("address", String(64), nullable=False),
)

# A code, sent by e-mail, that lets a user choose a password (reset, or a new member's first).
password_codes = Table(
    "password_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_id", String(32), ForeignKey("users.id"), nullable=False),
    Column("code_sha256", String(64), nullable=False, unique=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("used_ms", BigInteger, nullable=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organisation_id", String(32), ForeignKey("employers.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("scopes", Text, nullable=False),  # canonical JSON list
    Column("secret_sha256", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("last_used_ms", BigInteger, nullable=True),
    Column("revoked_ms", BigInteger, nullable=True),
)

# Every employer and operator action: appended, never changed.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("organisation_id", String(32), nullable=True),
    Column("actor", String(80), nullable=False),  # user:ID, token:ID, operator
    Column("action", String(64), nullable=False),
    Column("object", String(120), nullable=False),
    Column("details", Text, nullable=False),
    Column("address", String(64), nullable=False),
    Index("ix_audit_log_organisation", "organisation_id", "id"),
)

# Outgoing e-mail, sent by the "email" job. The body is dropped once sent (it may hold an
# invitation code, which is otherwise stored only as a hash).
emails = Table(
    "emails",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organisation_id", String(32), nullable=True),
    Column("kind", String(32), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=True),
    Column("state", String(16), nullable=False),  # queued, sent, failed
    Column("created_ms", BigInteger, nullable=False),
    Column("sent_ms", BigInteger, nullable=True),
    Column("error", Text, nullable=True),
)

# A self-registering candidate's e-mail, proved by a code sent to it.
email_verifications = Table(
    "email_verifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("assessment_id", String(32), ForeignKey("assessments.id"), nullable=False),
    Column("email", String(254), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("code_sha256", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("tries", Integer, nullable=False, server_default="0"),
    Column("used_ms", BigInteger, nullable=True),
)

# Consent: an organisation sees a result's content only while a share is granted and not
# revoked ("sitting": chosen before the clock started; "candidate": given later).
result_shares = Table(
    "result_shares",
    metadata,
    Column("result_id", String(32), ForeignKey("results.id"), primary_key=True),
    Column("organisation_id", String(32), ForeignKey("employers.id"), primary_key=True),
    Column("source", String(16), nullable=False),
    Column("granted_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
)

assessments = Table(
    "assessments",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("employer_id", String(32), ForeignKey("employers.id"), nullable=False),
    Column("slug", String(100), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("duration_s", Integer, nullable=False),
    Column("blueprint", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("forms_issued", Integer, nullable=False, server_default="0"),
    Column("policy", Text, nullable=False, server_default="{}"),
    # How long after its window closes a sitting sealed offline may still be handed in.
    Column("sync_deadline_days", Integer, nullable=False, server_default="7"),
    Column("status", String(16), nullable=False, server_default="published"),  # draft, retired
    # Supervised: sittings default to offline, unlocked by a proctor's code read out.
    Column("supervised", Boolean, nullable=False, server_default=false()),
    # Self-registration: anyone may take it after proving an e-mail (3 attempts in 90 days).
    Column("self_registration", Boolean, nullable=False, server_default=false()),
)

items = Table(
    "items",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("category", String(32), nullable=False, index=True),
    Column("skill", String(200), nullable=False),
    Column("stem", Text, nullable=False),
    Column("options", Text, nullable=False),
    Column("answer_key", Text, nullable=False),
    Column("a", Float, nullable=False),
    Column("b", Float, nullable=False),
    Column("c", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(200), nullable=False),
    Column("enemies", Text, nullable=False, server_default="[]"),
    Column("multiple_response", Boolean, nullable=False, server_default=false()),
    Column("feedback", Text, nullable=False, server_default="{}"),
    Column("images", Text, nullable=False, server_default="[]"),
)

# Each item's response-time parameters, fitted from stored sittings (server.timing): log
# seconds at average speed (beta) and its precision (alpha).
item_times = Table(
    "item_times",
    metadata,
    Column("item_id", String(32), ForeignKey("items.id"), primary_key=True),
    Column("beta", Float, nullable=False),
    Column("alpha", Float, nullable=False),
    Column("answers", Integer, nullable=False),
    Column("fitted_ms", BigInteger, nullable=False),
)

devices = Table(
    "devices",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("sign_public", String(64), nullable=False, unique=True),
    Column("kex_public", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

# A sitting starts life as an invitation (a hashed code) and is claimed by one device.
sittings = Table(
    "sittings",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("invitation_hash", String(64), nullable=False, unique=True),
    Column("assessment_id", String(32), ForeignKey("assessments.id"), nullable=False),
    Column("candidate_name", String(200), nullable=False),
    Column("candidate_email", String(200), nullable=True, index=True),
    Column("offline", Boolean, nullable=False),
    Column("unlock_code", String(32), nullable=False),
    Column("proctor_secret", String(64), nullable=True),
    Column("device_id", String(32), ForeignKey("devices.id"), nullable=True, index=True),
    Column("state", String(16), nullable=False),
    Column("form", Text, nullable=True),
    Column("package", Text, nullable=True),
    Column("package_id", String(32), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("expires_ms", BigInteger, nullable=False),
    Column("enrolled_ms", BigInteger, nullable=True),
    Column("prepared_ms", BigInteger, nullable=True),
    Column("started_ms", BigInteger, nullable=True),
    # The window the sitting may be taken in, and extra time granted to this candidate.
    Column("opens_ms", BigInteger, nullable=True),
    Column("closes_ms", BigInteger, nullable=True),
    Column("extra_time_s", Integer, nullable=False, server_default="0"),
    # The public half of the event chain's first key, committed when an online sitting starts.
    Column("chain_public", String(64), nullable=True),
    # The furthest point of the log the client showed the server during the sitting, and
    # whether it ever showed an earlier one afterwards (an older copy restored).
    Column("checkpoint_seq", Integer, nullable=True),
    Column("checkpoint_hash", String(64), nullable=True),
    Column("rolled_back", Boolean, nullable=False, server_default=false()),
    # When the server first saw the log's end (a final checkpoint): lateness is judged by it.
    Column("sealed_seen_ms", BigInteger, nullable=True),
    # What the slow key derivations of the package make, done by the "prepare" job ahead of
    # download (canonical JSON: the unlock commitments, the code key's salt and the code key;
    # as secret as unlock_code beside it).
    Column("prepared_secrets", Text, nullable=True),
    # "employer" (invited) or "self" (self-registered: counts toward the attempt limit).
    Column("kind", String(16), nullable=False, server_default="employer"),
    Column("revoked_ms", BigInteger, nullable=True),
    Column("invited_by", String(80), nullable=True),  # the audit actor that invited
    # When the candidate's personal data was erased (on request or by retention).
    Column("erased_ms", BigInteger, nullable=True),
    # Where an applicant-tracking system asked to be told of the result (send_test's url).
    Column("ats_callback", String(2000), nullable=True),
    # Since when the client says the sitting is locked (None: not locked), as it reports with
    # its checkpoints: shown to the proctor, never used to judge (the log is the evidence).
    Column("locked_ms", BigInteger, nullable=True),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("sitting_id", String(32), ForeignKey("sittings.id"), nullable=False, unique=True),
    Column("device_id", String(32), ForeignKey("devices.id"), nullable=False),
    Column("document", Text, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    # Received under load and scored by the ``score`` job: the id its result will have (the
    # receipt names it), and, if scoring refused the submission, the refusal as JSON
    # ({"status", "error", "message"}).
    Column("result_id", String(32), nullable=True),
    Column("refusal", Text, nullable=True),
)

results = Table(
    "results",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("submission_id", String(64), ForeignKey("submissions.id"), nullable=False, unique=True),
    Column("sitting_id", String(32), ForeignKey("sittings.id"), nullable=False, unique=True),
    Column("overall", String(16), nullable=False),
    Column("overall_theta", Float, nullable=True),
    Column("report", Text, nullable=False),
    Column("verification_code", String(32), nullable=False, unique=True),
    # Rendered and signed by the "certify" job after the result is stored (None until then).
    Column("certificate", LargeBinary, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("assessment_id", String(32), nullable=True),
    Column("certified_ms", BigInteger, nullable=True),
    # An employer's review of an integrity-flagged result: "cleared" or "voided".
    Column("review", String(16), nullable=True),
    Column("review_note", Text, nullable=True),
    Column("reviewed_by", String(80), nullable=True),
    Column("reviewed_ms", BigInteger, nullable=True),
    # The integrity outcome (clean, flagged, voided), as in the report: results are filtered on it.
    Column("integrity", String(16), nullable=True),
    # The signed certificate's SHA-256, and its Open Badges credential (signed JSON), both made
    # by the certify job; the credential's entry in a revocation status list (random within it).
    Column("certificate_sha256", String(64), nullable=True),
    Column("credential", Text, nullable=True),
    Column("status_list", Integer, nullable=True),
    Column("status_index", Integer, nullable=True),
    UniqueConstraint("status_list", "status_index", name="uq_results_status"),
    # Employers read results newest first: a page walks this index and stops.
    Index("ix_results_created_ms", "created_ms"),
)

# An organisation's endpoints for events, each with its own HMAC secret (sealed with a key
# derived from the server's own key file, so a copy of the database alone cannot sign).
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("organisation_id", String(32), ForeignKey("employers.id"), nullable=False, index=True),
    Column("url", String(2000), nullable=False),
    Column("events", Text, nullable=False),  # canonical JSON list
    Column("secret_sealed", Text, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(80), nullable=False),
    Column("disabled_ms", BigInteger, nullable=True),
)

# One event for one endpoint: its body as sent, and every attempt (time, HTTP status, error).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("webhook_id", String(32), ForeignKey("webhooks.id"), nullable=False),
    Column("organisation_id", String(32), nullable=False),
    Column("event", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("state", String(16), nullable=False),  # pending, delivered, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("history", Text, nullable=False, server_default="[]"),
    Column("created_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger, nullable=True),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "created_ms"),
)

# How many results of an assessment have each overall ability, in buckets of 0.01 (theta times
# 100, rounded half away from zero, within +-600): percentiles are read from it, not a scan.
result_distribution = Table(
    "result_distribution",
    metadata,
    Column("assessment_id", String(32), primary_key=True),
    Column("bucket", Integer, primary_key=True),
    Column("count", Integer, nullable=False),
)

# One row: goes up whenever items change, so every process may cache the bank per version.
bank_version = Table(
    "bank_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

# The embedded job queue (SQLite; PostgreSQL uses Procrastinate's tables): one row per job,
# unique per task and key, so deferring the same work twice is one job.
jobs = Table(
    "jobs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("task", String(64), nullable=False),
    Column("key", String(128), nullable=False),
    Column("args", Text, nullable=False),
    Column("state", String(16), nullable=False),  # todo, doing, done, failed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("run_after_ms", BigInteger, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("finished_ms", BigInteger, nullable=True),
    UniqueConstraint("task", "key", name="uq_jobs_task_key"),
    Index("ix_jobs_state_run_after", "state", "run_after_ms"),
)

# How many forms of an assessment have held each item: the basis of exposure control.
item_exposure = Table(
    "item_exposure",
    metadata,
    Column("assessment_id", String(32), ForeignKey("assessments.id"), primary_key=True),
    Column("item_id", String(32), ForeignKey("items.id"), primary_key=True),
    Column("forms", Integer, nullable=False),
)

# An adaptive sitting's items, one row per position as the server chose them: the form entry
# (presented ids to bank ids), when it was served and when its answer arrived (by the server's
# clock), the answer (canonical JSON list of presented option ids). A row with an end reason
# and no item closes the adaptive part ("decided", "time_up", "exhausted").
adaptive_steps = Table(
    "adaptive_steps",
    metadata,
    Column("sitting_id", String(32), ForeignKey("sittings.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("item_id", String(32), ForeignKey("items.id"), nullable=True),
    Column("entry", Text, nullable=True),
    Column("served_ms", BigInteger, nullable=False),
    Column("answer", Text, nullable=True),
    Column("answered_ms", BigInteger, nullable=True),
    Column("end_reason", String(16), nullable=True),
)

# One row per submission id (the idempotency key) from the moment a request claims it: the
# body's hash, and whether it is still being processed or done. The key is the primary key, so
# the database, not a worker, decides which request processes a key.
idempotency = Table(
    "idempotency",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("device_id", String(32), nullable=False),
    Column("body_sha256", String(64), nullable=False),
    Column("state", String(16), nullable=False),  # "processing" or "done"
    Column("started_ms", BigInteger, nullable=False),
    Column("finished_ms", BigInteger, nullable=True),
)

# Nonces of signed requests seen within the clock-skew window: a repeat is a replay. In the
# database, so every worker and host agrees.
request_nonces = Table(
    "request_nonces",
    metadata,
    Column("device_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("seen_ms", BigInteger, nullable=False, index=True),
)

# Fixed-window request counters for abuse limits, shared by every worker.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("bucket", String(200), primary_key=True),
    Column("window_ms", BigInteger, primary_key=True),
    Column("count", Integer, nullable=False),
)

MIGRATIONS = Path(__file__).with_name("migrations")

# Connection pools, per engine (each process has two: writes and reads). Requests run in a
# thread pool of REQUEST_THREADS (server.serving), so no request waits for a connection when
# the pools can grow to that. On PostgreSQL a process holds at most 2 x (PG_POOL + PG_OVERFLOW)
# connections plus its job worker's few: with the default max_connections of 100, up to two
# app processes per host and a worker fit (docs: packaging/server/README.md).
REQUEST_THREADS = 32
SQLITE_POOL, SQLITE_OVERFLOW = 8, REQUEST_THREADS - 8
PG_POOL, PG_OVERFLOW = 8, 8


def make_engine(url: str, *, reading: bool = False) -> Engine:
    """An engine for ``url``; SQLite files get WAL, full sync and enforced foreign keys.

    Every transaction of the main engine begins when SQLAlchemy begins it and, on SQLite, takes
    the write lock at once (``BEGIN IMMEDIATE``), so a transaction's reads and writes are one
    unit on either database. ``reading=True`` gives an engine for reads that need no
    transaction: each statement sees what is committed and holds no lock afterwards, so
    readers never wait behind a writer.
    """
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(
            url, connect_args={"timeout": 30}, pool_size=SQLITE_POOL, max_overflow=SQLITE_OVERFLOW
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own transaction handling would begin only before the first write and
            # let an outermost SAVEPOINT commit on its own, so a transaction's reads and its
            # writes would not be one unit. examgate begins every transaction itself (below).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        if not reading:
            write_lock = threading.RLock()

            def _release(connection: Any) -> None:
                if connection.info.pop("examgate_writing", False):
                    write_lock.release()

            @event.listens_for(engine, "begin")
            def _begin(connection: Any) -> None:
                # Writers of this process queue on a lock (in order, asleep) rather than on
                # SQLite's busy handler (polling with growing sleeps); IMMEDIATE then takes the
                # file's write lock at the start, so two transactions never both read and then
                # fail to upgrade (SQLITE_BUSY), and other processes still queue on the timeout.
                write_lock.acquire()
                connection.info["examgate_writing"] = True
                try:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
                except BaseException:
                    _release(connection)
                    raise

            event.listen(engine, "commit", _release)
            event.listen(engine, "rollback", _release)

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # Last in, first out: after a burst grows the pool, light traffic keeps reusing the same
    # few connections (not pinged) and the rest age out, instead of cycling through all of them.
    sizes = {"pool_size": PG_POOL, "max_overflow": PG_OVERFLOW, "pool_use_lifo": True}
    if reading:
        engine = create_engine(url, isolation_level="AUTOCOMMIT", **sizes)
    else:
        engine = create_engine(url, **sizes)
    _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection idle this long is pinged before use (one round trip).
PING_IDLE_S = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use only if it sat idle for ``PING_IDLE_S``: one that
    the database or a proxy closed while the pool held it is replaced before a request meets
    it. A connection in steady use is not pinged (SQLAlchemy's ``pool_pre_ping`` pings on
    every checkout: a round trip more for every transaction of a burst); if the database
    goes away while it is in use, the request fails with a 503 and the pool is renewed."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["examgate_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop("examgate_idle_since", None)
        if since is None or time.monotonic() - since < PING_IDLE_S:
            return  # just made, or in steady use
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # the pool replaces it and checks out again
            raise exc.DisconnectionError("the pooled connection is gone") from error


@functools.cache
def _insert_if_absent(dialect_name: str, table: str, returning: str) -> Any:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    target = metadata.tables[table]
    return dialect.insert(target).on_conflict_do_nothing().returning(target.c[returning])


def insert_if_absent(
    connection: Connection, table: str, values: dict[str, Any], returning: str
) -> Any:
    """Insert ``values`` into ``table`` unless a row with the same unique key is there: the new
    row's ``returning`` column, or None (it was there). One statement, built once, no SAVEPOINT."""
    statement = _insert_if_absent(connection.dialect.name, table, returning)
    return connection.execute(statement, values).scalar()


@contextlib.contextmanager
def begin_light(engine: Engine) -> Iterator[Connection]:
    """A write transaction whose commit need not outlive a power cut: for rows that are only an
    optimisation (an idempotency claim: lost, the repeat is simply processed again, and the
    unique keys still stop a double). The commit is consistent and atomic but not flushed to
    disk by itself (SQLite: synchronous=NORMAL for it; PostgreSQL: synchronous_commit off);
    the next ordinary commit flushes it. One flush fewer on every upload."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("SET LOCAL synchronous_commit TO off")
            yield connection
        return
    with engine.connect() as connection:
        raw: Any = connection.connection.driver_connection
        raw.execute("PRAGMA synchronous=NORMAL")
        try:
            with connection.begin():
                yield connection
        finally:
            raw.execute("PRAGMA synchronous=FULL")


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file readable by the server's user only (or tighten it). SQLite gives
    its WAL and shared-memory files the database file's permissions."""
    path = url.split("///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:" or url.count("/") < 3:
        return
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(file, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(file, 0o600)


def migrate(engine: Engine) -> None:
    """Bring the database to the newest schema (Alembic ``upgrade head``)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        if connection.dialect.name == "postgresql":
            from server.jobs import install_procrastinate

            install_procrastinate(connection)


def result_context() -> Any:
    """A result joined to its sitting, assessment and organisation: what its certificate,
    credential and verification record state."""
    return (
        results.join(sittings, sittings.c.id == results.c.sitting_id)
        .join(assessments, assessments.c.id == sittings.c.assessment_id)
        .join(employers, employers.c.id == assessments.c.employer_id)
    )
