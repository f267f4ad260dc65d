"""A model test of the journal and the outbox (Hypothesis stateful): answer, change, advance,
crash, reopen, seal, upload, upload again, keep a copy of the disk and restore it, against a
plain model of what the candidate was told and what the server holds.

``make test`` runs 8 sittings of up to 40 steps; ``make faults`` 300 of up to 40
(EXAMGATE_MODEL_RUNS), more than 10,000 steps in all.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import func, select

from client.engine import Engine
from client.errors import ServerRefused
from client.keystore import KeyringStore
from client.session import ExamSession
from client.settings import ClientSettings
from server import db
from shared import events
from tests.conftest import ManualClock, ThreadServer

RUNS = int(os.environ.get("EXAMGATE_MODEL_RUNS", "8"))
STEPS = 40
TAKEN = [0]  # steps taken over all runs, printed at the end


class Model:
    """What the candidate has been told: the saved answers, the question on screen, the end."""

    def __init__(self) -> None:
        self.answers: dict[str, list[str]] = {}
        self.index = 0
        self.ended = False
        self.sealed: str | None = None
        self.receipt = False  # the outbox holds the server's receipt

    def copy(self) -> Model:
        other = Model()
        other.answers, other.index = dict(self.answers), self.index
        other.ended, other.sealed, other.receipt = self.ended, self.sealed, self.receipt
        return other


def run_model(server: ThreadServer) -> None:
    class Sitting(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.work = Path(tempfile.mkdtemp(prefix="examgate-model-"))
            self.clock = ManualClock()
            invitation = server.invite(offline=True)
            self.code = invitation["unlock_code"]
            self.engine = self._engine()
            sitting = self.engine.enrol(server.url, invitation["invitation"])
            self.sitting_id = sitting["id"]
            self.engine.download(self.sitting_id)
            self.session: ExamSession | None = self.engine.unlock(self.sitting_id, self.code)
            self.session.start()
            self.model = Model()
            self.copy: tuple[Path, Model] | None = None
            self.received: set[str] = set()  # submission ids the server has

        def _engine(self) -> Engine:
            settings_ = ClientSettings.load(self.work / "client")
            return Engine(settings_, KeyringStore(settings_.home), self.clock)

        def _reopen(self) -> None:
            self.engine = self._engine()
            self.session = None
            if self.engine.outbox.for_sitting(self.sitting_id) is None:
                self.session = self.engine.unlock(self.sitting_id, self.code)

        def teardown(self) -> None:
            self.engine.close()
            shutil.rmtree(self.work, ignore_errors=True)

        # -- what a candidate and a machine do ---------------------------------------------
        @precondition(lambda self: self.session is not None and self.session.state == "running")
        @rule(choice=st.integers(0, 3))
        def answer(self, choice: int) -> None:
            assert self.session is not None and self.session.current is not None
            item = self.session.current
            option = item.options[choice].id
            self.session.answer([option])
            self.model.answers[item.id] = [option]

        @precondition(lambda self: self.session is not None and self.session.state == "running")
        @rule()
        def advance(self) -> None:
            assert self.session is not None
            self.session.advance()
            if self.model.index + 1 >= self.session.total:
                self.model.ended = True
            else:
                self.model.index += 1

        @precondition(lambda self: self.session is not None and self.session.state == "running")
        @rule()
        def finish_early(self) -> None:
            assert self.session is not None
            self.session.finish("finished")
            self.model.ended = True

        @rule(seconds=st.integers(0, 40))
        def crash(self, seconds: int) -> None:
            """The process dies (nothing is closed) and starts again a while later."""
            self.engine.close()
            self.clock.advance(seconds * 1000)
            self._reopen()

        @precondition(lambda self: self.session is not None and self.session.state == "ended")
        @rule()
        def seal(self) -> None:
            assert self.session is not None
            self.model.sealed = self.engine.seal(self.session)
            self.session = None

        @precondition(lambda self: self.model.sealed is not None)
        @rule()
        def upload(self) -> None:
            assert self.model.sealed is not None
            try:
                delivered = self.engine.sync(attempts=1)
            except ServerRefused as refused:
                # Only a second, different submission for a sitting already received is refused.
                assert refused.code == "already_submitted" and self.received
                assert self.model.sealed not in self.received
                return
            if self.model.sealed in {d.submission_id for d in delivered}:
                self.received.add(self.model.sealed)
                self.model.receipt = True
            elif not self.model.receipt:  # refused for good earlier: kept, never sent again
                [status] = self.engine.outbox.statuses()
                assert status.state == "failed" and self.model.sealed not in self.received

        @precondition(lambda self: self.model.sealed in self.received and self.model.receipt)
        @rule()
        def upload_again(self) -> None:
            """The same submission once more (a lost acknowledgement): answered alike."""
            assert self.model.sealed is not None
            first = self.engine.outbox.entry(self.model.sealed)
            document = self.engine.outbox.document(self.model.sealed).encode()
            answer = self.engine.api().submit(document)
            assert (
                first is not None and answer["result"]["result_id"] == first["result"]["result_id"]
            )

        @rule()
        def keep_a_copy(self) -> None:
            """The candidate copies the client's files (as root can)."""
            self.engine.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            saved = self.work / "copy"
            shutil.rmtree(saved, ignore_errors=True)
            shutil.copytree(self.engine.settings.home, saved)
            self.copy = (saved, self.model.copy())

        @precondition(lambda self: self.copy is not None)
        @rule()
        def restore_the_copy(self) -> None:
            assert self.copy is not None
            saved, model = self.copy
            self.engine.close()
            shutil.rmtree(self.engine.settings.home)
            shutil.copytree(saved, self.engine.settings.home)
            self.model = model.copy()
            self._reopen()

        # -- what must always hold ----------------------------------------------------------
        @invariant()
        def count_the_step(self) -> None:  # invariants run once at the start and after a step
            TAKEN[0] += 1

        @invariant()
        def the_candidate_sees_what_was_saved(self) -> None:
            if self.session is None:
                return
            assert self.session.answers == self.model.answers
            assert (self.session.state == "ended") == self.model.ended
            if not self.model.ended:
                assert self.session.index == self.model.index
            events.verify_chain(self.session.journal.events, self.sitting_id)

        @invariant()
        def the_server_holds_at_most_one_submission_per_sitting(self) -> None:
            with server.ctx.reader.connect() as connection:
                stored = connection.execute(
                    select(func.count())
                    .select_from(db.submissions)
                    .where(db.submissions.c.sitting_id == self.sitting_id)
                ).scalar_one()
            assert stored == (1 if self.received else 0)

        @invariant()
        def an_acknowledged_submission_holds_its_receipt(self) -> None:
            """Until an older copy is restored: then the receipt comes back with the next
            upload, identical (checked by ``upload_again``)."""
            sealed = self.model.sealed
            if sealed is not None and self.model.receipt:
                entry = self.engine.outbox.entry(sealed)
                assert entry is not None and entry["receipt"] is not None

    Sitting.TestCase.settings = settings(
        max_examples=RUNS,
        stateful_step_count=STEPS,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=RUNS < 100,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure prints its steps
    )
    Sitting.TestCase().runTest()


def test_the_journal_and_outbox_keep_to_the_model(sqlite_live: ThreadServer) -> None:
    run_model(sqlite_live)
    print(f"\n{RUNS} runs, {TAKEN[0] - RUNS} steps")
