"""Background jobs: work that need not happen inside a request.

A job is deferred inside the caller's transaction (``defer``), so it exists exactly when the
row it works on does: a result is never stored without its certificate job. Each task is an
idempotent function of the context and its arguments (running it twice does the work once) and
is retried with a growing wait; one that keeps failing is kept as ``failed`` with its reason.

Two queues run the same task functions:

- **PostgreSQL**: Procrastinate (its tables beside examgate's, ``FOR UPDATE SKIP LOCKED`` and
  LISTEN/NOTIFY). Workers run in any number of processes on any number of hosts
  (``examgate-server worker``) or inside ``serve``.
- **SQLite** (the embedded default): the ``jobs`` table, worked by a thread of the server
  process, so ``make demo`` needs nothing more.

Failures are recorded in the ``jobs`` table on both, so ``examgate-server jobs`` and
``/metrics`` show them the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, case, func, select
from sqlalchemy.dialects import postgresql, sqlite

from server import db, metrics

if TYPE_CHECKING:
    import procrastinate

    from server.context import Context

log = logging.getLogger("examgate.jobs")

# A task works on one thing, named by its key (a result's id, a sitting's id); whatever else it
# needs it reads from the database, so a job is just (task, key).
Task = Callable[["Context", str], None]
TASKS: dict[str, Task] = {}

MAX_ATTEMPTS = 6  # then the job is kept as failed, with its reason
# Higher runs first: a candidate waiting for a result comes before certificates and e-mail.
PRIORITY = {"score": 10}
FIRST_WAIT_S = 2  # the wait before a retry doubles from this: 2, 4, 8, 16, 32 s
QUEUE = "examgate"
STALLED_CHECK_S = 30


def task(name: str) -> Callable[[Task], Task]:
    def register(function: Task) -> Task:
        TASKS[name] = function
        return function

    return register


def load_tasks() -> dict[str, Task]:
    """Every task, registered by the module that owns it."""
    import server.ats
    import server.mail
    import server.packages
    import server.results
    import server.retention
    import server.webhooks  # noqa: F401

    return TASKS


def retry_wait_s(attempts: int) -> int:
    return int(FIRST_WAIT_S * 2 ** max(0, attempts - 1))


# -- deferring ------------------------------------------------------------------------------

_wake = threading.Event()  # set when a job is deferred in this process: the worker looks at once


def defer(connection: Connection, name: str, key: str, first: bool = False) -> None:
    """Queue task ``name`` for ``key`` in the caller's open transaction: it commits with the
    caller's writes or not at all. Deferring the same task and key again adds nothing.
    ``first``: the caller's own writes already make this the only deferral (a unique row
    inserted in the same transaction), so PostgreSQL needs no lock or savepoint for it."""
    if name not in load_tasks():
        raise KeyError(f"no task {name!r}")
    if connection.dialect.name == "postgresql":
        from procrastinate.exceptions import AlreadyEnqueued

        raw = connection.connection.driver_connection
        task_ = _deferring_app().tasks[name]
        if first:
            task_.configure(connection=raw).defer(key=key)
        else:
            try:
                with connection.begin_nested():  # a refused insert must not end the caller's work
                    locked = task_.configure(connection=raw, queueing_lock=f"{name}:{key}"[:128])
                    locked.defer(key=key)
            except AlreadyEnqueued:
                pass  # the same job is already waiting
    else:
        now = _now_ms()
        connection.execute(_DEFER, {"job_task": name, "job_key": key, "job_now": now})
    _wake.set()


_DEFER = (
    sqlite.insert(db.jobs)
    .values(
        task=bindparam("job_task"),
        key=bindparam("job_key"),
        args="{}",
        state="todo",
        attempts=0,
        run_after_ms=bindparam("job_now"),
        created_ms=bindparam("job_now"),
    )
    .on_conflict_do_nothing(index_elements=["task", "key"])
)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


# -- yielding to requests -----------------------------------------------------------------
# A worker inside the app process shares its interpreter with the requests: it starts a job
# only once no request has been in flight for QUIET_S (or after YIELD_MAX_S, so a steady load
# still gets its results and certificates), and an upload burst is answered first: a job
# started in a gap between two uploads would hold the interpreter while the next ones wait.
# Separate worker processes never wait.

YIELD_MAX_S = 2.0
QUIET_S = 0.25
_in_flight = 0
_last_request = 0.0  # time.monotonic() when a request last finished
_idle = threading.Condition()


def request_started() -> None:
    global _in_flight
    with _idle:
        _in_flight += 1


def request_finished() -> None:
    global _in_flight, _last_request
    with _idle:
        _in_flight -= 1
        _last_request = time.monotonic()
        if _in_flight == 0:
            _idle.notify_all()


@contextlib.contextmanager
def idle_request() -> Iterator[None]:
    """A request waiting for a job (a certificate long-poll) does not hold the job back."""
    request_finished()
    try:
        yield
    finally:
        request_started()


def yield_to_requests(
    max_wait_s: float = YIELD_MAX_S, stopping: threading.Event | None = None
) -> None:
    """Wait until this process has had no request in flight for QUIET_S, at most ``max_wait_s``."""
    deadline = time.monotonic() + max_wait_s
    with _idle:
        while stopping is None or not stopping.is_set():
            now = time.monotonic()
            quiet_for = now - _last_request
            if (_in_flight <= 0 and quiet_for >= QUIET_S) or now >= deadline:
                return
            pause = deadline - now if _in_flight > 0 else min(deadline - now, QUIET_S - quiet_for)
            _idle.wait(pause)


def _wake_all() -> None:
    with _idle:
        _idle.notify_all()


# -- running one job (both queues) -----------------------------------------------------------


def run_job(ctx: Context, name: str, key: str, attempt: int) -> str | None:
    """Run one attempt of a job: None when it succeeded, else the reason it failed (recorded
    in the ``jobs`` table for a PostgreSQL job; the embedded queue records its own)."""
    started = time.perf_counter()
    try:
        TASKS[name](ctx, key)
    except Exception as error:
        reason = f"{type(error).__name__}: {error}"[:500]
        final = attempt >= MAX_ATTEMPTS
        log.warning(
            "job failed", extra={"task": name, "attempt": attempt, "final": final, "reason": reason}
        )
        log.debug("job traceback: %s", traceback.format_exc())
        metrics.JOB_FAILURES.labels(task=name).inc()
        _record(ctx, name, key, "failed" if final else "retrying", attempt, reason)
        return reason
    metrics.JOB_SECONDS.labels(task=name).observe(time.perf_counter() - started)
    return None


def _record(ctx: Context, name: str, key: str, state: str, attempt: int, reason: str) -> None:
    if ctx.engine.dialect.name != "postgresql":
        return
    now = _now_ms()
    with ctx.engine.begin() as connection:
        statement = postgresql.insert(db.jobs).values(
            task=name,
            key=key,
            args="{}",
            state=state,
            attempts=attempt,
            run_after_ms=now,
            last_error=reason,
            created_ms=now,
            finished_ms=now if state == "failed" else None,
        )
        connection.execute(
            statement.on_conflict_do_update(
                constraint="uq_jobs_task_key",
                set_={
                    "state": statement.excluded.state,
                    "attempts": statement.excluded.attempts,
                    "last_error": statement.excluded.last_error,
                    "finished_ms": statement.excluded.finished_ms,
                },
            )
        )


def _forget_failure(ctx: Context, name: str, key: str) -> None:
    if ctx.engine.dialect.name != "postgresql":
        return
    with ctx.engine.begin() as connection:
        connection.execute(db.jobs.delete().where(db.jobs.c.task == name, db.jobs.c.key == key))


# -- the embedded queue (SQLite) --------------------------------------------------------------


class TableWorker:
    """Works the ``jobs`` table in a thread of this process, one job at a time."""

    def __init__(self, ctx: Context, poll_s: float = 1.0) -> None:
        self.ctx = ctx
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="examgate-jobs", daemon=True)

    def start(self) -> TableWorker:
        with self.ctx.engine.begin() as connection:  # a job a killed process held is taken up
            connection.execute(
                db.jobs.update().where(db.jobs.c.state == "doing").values(state="todo")
            )
        self._thread.start()
        return self

    def stop(self, timeout: float = 60.0) -> None:
        """Stop after the job in hand (a certificate takes well under a second)."""
        self._stop.set()
        _wake.set()
        _wake_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("the job worker did not stop in time")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                schedule_periodic(self.ctx)
                worked = self.work_one()
            except Exception:  # the database went away for a moment: try again shortly
                log.exception("the job worker could not read the queue")
                worked = False
            if not worked:
                _wake.wait(self.poll_s)
                _wake.clear()

    def work_one(self) -> bool:
        """Claim and run the oldest due job; False when none is due (or when stopping)."""
        yield_to_requests(stopping=self._stop)
        if self._stop.is_set():
            return False
        now = _now_ms()
        with self.ctx.engine.begin() as connection:
            row = (
                connection.execute(
                    select(db.jobs)
                    .where(db.jobs.c.state == "todo", db.jobs.c.run_after_ms <= now)
                    .order_by(_FIRST, db.jobs.c.id)
                    .limit(1)
                )
                .mappings()
                .first()
            )
            if row is None:
                return False
            attempt = row["attempts"] + 1
            connection.execute(
                db.jobs.update()
                .where(db.jobs.c.id == row["id"])
                .values(state="doing", attempts=attempt)
            )
        reason = run_job(self.ctx, row["task"], row["key"], attempt)
        values: dict[str, Any] = {"last_error": reason}
        if reason is None:
            values.update(state="done", finished_ms=_now_ms())
        elif attempt >= MAX_ATTEMPTS:
            values.update(state="failed", finished_ms=_now_ms())
        else:
            values.update(state="todo", run_after_ms=_now_ms() + 1000 * retry_wait_s(attempt))
        with self.ctx.engine.begin() as connection:
            connection.execute(db.jobs.update().where(db.jobs.c.id == row["id"]).values(**values))
        return True


_FIRST = case(
    *((db.jobs.c.task == name, -priority) for name, priority in PRIORITY.items()), else_=0
)


# -- the PostgreSQL queue (Procrastinate) ---------------------------------------------------

_apps: dict[str, procrastinate.App] = {}
_bound: list[Context] = []  # the context the tasks of a Procrastinate worker run with


def _build_app(connector: Any) -> procrastinate.App:
    import procrastinate

    app = procrastinate.App(connector=connector)
    for name in load_tasks():
        _register(app, name)
    return app


def _register(app: procrastinate.App, name: str) -> None:
    import procrastinate

    def run(context: procrastinate.JobContext, key: str) -> None:
        ctx = _bound[-1]
        yield_to_requests()  # returns at once in a worker process of its own
        attempt = (context.job.attempts if context.job else 0) + 1
        if run_job(ctx, name, key, attempt) is not None:
            raise JobFailed(name)
        if attempt > 1:  # only an earlier attempt can have left a failure on record
            _forget_failure(ctx, name, key)

    app.task(
        name=name,
        queue=QUEUE,
        priority=PRIORITY.get(name, 0),
        retry=procrastinate.RetryStrategy(
            max_attempts=MAX_ATTEMPTS - 1,
            exponential_wait=FIRST_WAIT_S,
            retry_exceptions={JobFailed},
        ),
        pass_context=True,
    )(run)


# How long a PostgreSQL worker waits before starting again after losing its database: doubled
# at each failed start, up to the most.
RESTART_FIRST_S, RESTART_MAX_S = 1.0, 30.0


class JobFailed(Exception):
    """A task's attempt failed (already recorded): Procrastinate schedules the retry."""


def _deferring_app() -> procrastinate.App:
    """An app that only defers, always on the caller's connection (it opens none itself)."""
    if "defer" not in _apps:
        import procrastinate

        _apps["defer"] = _build_app(procrastinate.SyncPsycopgConnector())
    return _apps["defer"]


def _conninfo(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def install_procrastinate(connection: Connection) -> None:
    """Create Procrastinate's tables and functions once (part of ``db.migrate``)."""
    present = connection.exec_driver_sql("SELECT to_regclass('procrastinate_jobs')").scalar()
    if present is not None:
        return
    from procrastinate.schema import SchemaManager

    cursor = connection.connection.cursor()  # no parameters: the script's % signs are literal
    try:
        cursor.execute(SchemaManager.get_schema())
    finally:
        cursor.close()


@dataclass
class ProcrastinateWorker:
    """A Procrastinate worker in a thread of its own, with its own event loop."""

    ctx: Context
    concurrency: int = 2

    def __post_init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="examgate-jobs", daemon=True)

    def start(self) -> ProcrastinateWorker:
        self._thread.start()
        self._started.wait(10)
        return self

    def run_forever(self) -> None:
        """Work in the calling thread until interrupted (``examgate-server worker``)."""
        self._run()

    def _run(self) -> None:
        _bound.append(self.ctx)
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._supervise())
        except asyncio.CancelledError:
            pass
        finally:
            self._started.set()
            self._loop.close()

    async def _supervise(self) -> None:
        """Work until stopped; if the database goes away under the worker (a restart, a
        failover), log it and start again, waiting 1, 2, 4 ... up to 30 s between tries, so
        the process keeps working jobs once the database is back."""
        self._task = asyncio.current_task()
        pause = RESTART_FIRST_S
        while True:
            started = time.monotonic()
            try:
                await self._work()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the job worker stopped on a database error; starting it again")
            self._started.set()  # whoever waits for the start need not wait for the database
            if time.monotonic() - started > RESTART_MAX_S:
                pause = RESTART_FIRST_S  # it had been working: a new outage
            await asyncio.sleep(pause)
            pause = min(RESTART_MAX_S, pause * 2)

    async def _work(self) -> None:
        import procrastinate

        app = _build_app(
            procrastinate.PsycopgConnector(
                conninfo=_conninfo(self.ctx.settings.database_url),
                kwargs={"application_name": "examgate-worker"},
            )
        )

        async def rescue_stalled() -> None:
            # A job whose worker died (no heartbeat for 30 s) is queued again.
            while True:
                try:
                    for job in await app.job_manager.get_stalled_jobs(queue=QUEUE):
                        log.warning("job stalled; queued again", extra={"task": job.task_name})
                        await app.job_manager.retry_job(job)
                    await asyncio.to_thread(schedule_periodic, self.ctx)
                except Exception:
                    log.exception("stalled and periodic jobs could not be queued")
                await asyncio.sleep(STALLED_CHECK_S)

        async with app.open_async():
            self._started.set()
            rescuer = asyncio.create_task(rescue_stalled())
            try:
                await app.run_worker_async(
                    queues=[QUEUE],
                    concurrency=self.concurrency,
                    name=f"examgate-{threading.get_native_id()}",
                    install_signal_handlers=False,
                )
            finally:
                rescuer.cancel()

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._task is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._task.cancel)
        if self._thread.is_alive():
            self._thread.join(timeout)


def schedule_periodic(ctx: Context) -> None:
    """Queue the periodic jobs that are due (the hourly retention run)."""
    from server import retention

    retention.schedule(ctx)


def start_worker(ctx: Context) -> TableWorker | ProcrastinateWorker:
    """The in-process worker ``serve`` runs beside the API (and tests, and the demo)."""
    if ctx.engine.dialect.name == "postgresql":
        return ProcrastinateWorker(ctx).start()
    return TableWorker(ctx).start()


# -- what is queued ------------------------------------------------------------------------


_pending_seen: dict[tuple[str, str], tuple[float, int]] = {}


def pending(ctx: Context, task: str, max_age_s: float = 1.0) -> int:
    """How many ``task`` jobs wait to run, as read at most ``max_age_s`` ago in this process
    (asked on every upload of a burst, read once a second)."""
    key = (ctx.settings.database_url, task)
    now = time.monotonic()
    seen = _pending_seen.get(key)
    if seen is not None and now - seen[0] < max_age_s:
        return seen[1]
    with ctx.reader.connect() as connection:
        if connection.dialect.name == "postgresql":
            found = connection.exec_driver_sql(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE status = 'todo' AND task_name = %(task)s",
                {"task": task},
            ).scalar_one()
        else:
            found = connection.execute(
                select(func.count()).where(db.jobs.c.state == "todo", db.jobs.c.task == task)
            ).scalar_one()
    _pending_seen[key] = (now, int(found))
    return int(found)


def status(ctx: Context) -> dict[str, Any]:
    """Pending and failed jobs per task, and the failures with their reasons."""
    pending: dict[str, int] = {}
    with ctx.reader.connect() as connection:
        if ctx.engine.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(
                "SELECT task_name, count(*) FROM procrastinate_jobs "
                "WHERE status IN ('todo', 'doing') GROUP BY task_name"
            )
            pending = {str(name): int(count) for name, count in rows}
        else:
            rows = connection.execute(
                select(db.jobs.c.task, func.count())
                .where(db.jobs.c.state.in_(("todo", "doing")))
                .group_by(db.jobs.c.task)
            )
            pending = {str(name): int(count) for name, count in rows}
        failures = [
            dict(row)
            for row in connection.execute(
                select(
                    db.jobs.c.task,
                    db.jobs.c.key,
                    db.jobs.c.attempts,
                    db.jobs.c.last_error,
                    db.jobs.c.finished_ms,
                )
                .where(db.jobs.c.state == "failed")
                .order_by(db.jobs.c.finished_ms.desc())
                .limit(100)
            ).mappings()
        ]
        failed = connection.execute(
            select(db.jobs.c.task, func.count())
            .where(db.jobs.c.state == "failed")
            .group_by(db.jobs.c.task)
        )
        failed_by_task = {str(name): int(count) for name, count in failed}
    return {
        "pending": pending,
        "failed": failed_by_task,
        "failures": failures,
    }


def retry_failed(ctx: Context) -> int:
    """Queue every failed job again (after the cause is fixed); return how many."""
    with ctx.engine.begin() as connection:
        rows = connection.execute(
            select(db.jobs.c.task, db.jobs.c.key).where(db.jobs.c.state == "failed")
        ).all()
        if ctx.engine.dialect.name == "postgresql":
            connection.execute(db.jobs.delete().where(db.jobs.c.state == "failed"))
            for row in rows:
                defer(connection, row.task, row.key)
        else:
            connection.execute(
                db.jobs.update()
                .where(db.jobs.c.state == "failed")
                .values(state="todo", attempts=0, run_after_ms=_now_ms())
            )
    _wake.set()
    return len(rows)
