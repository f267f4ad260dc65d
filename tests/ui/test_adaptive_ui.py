"""An adaptive sitting through the real window, keyboard only: each question fetched from the
server without freezing the window, no count of questions promised, and when the server goes
away the exam carries on with the questions kept on this computer; the result comes later."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from pytestqt.qtbot import QtBot

from client.engine import Step
from client.session import ExamSession
from client.ui.exam_window import ExamWindow
from client.ui.main_window import MainWindow
from client.ui.qt import Qt
from tests.conftest import ManualClock, ProcessServer
from tests.server.test_delivery import make_adaptive
from tests.ui.keys import confirm_finish, press
from tests.ui.test_exam_ui import shot, styled


def test_an_adaptive_sitting_with_the_keyboard_and_a_lost_connection(
    qtbot: QtBot, sqlite_live: ProcessServer, make_engine: Any, clock: ManualClock
) -> None:
    styled()
    make_adaptive(sqlite_live.ctx)
    engine = make_engine()
    window = MainWindow(engine, lockdown=False)
    qtbot.addWidget(window)
    window.show()
    window.prefill(sqlite_live.url, sqlite_live.invite()["invitation"])
    window.enrol_button.click()
    qtbot.waitUntil(lambda: window.stack.currentWidget() is window.home_page, timeout=10_000)
    window.download_button.click()
    qtbot.waitUntil(lambda: window.open_button.isEnabled(), timeout=10_000)
    window.open_button.click()
    window.health_page.continue_button.click()
    window.ready_page.share_no.click()
    with qtbot.waitSignal(window.exam_opened, timeout=15_000) as opened:
        window.ready_page.start_button.click()
    exam: ExamWindow = opened.args[0]
    exam.resize(1100, 720)
    qtbot.waitUntil(lambda: exam.session.current is not None, timeout=10_000)
    assert exam.position.text() == "Question 1"  # no number of questions is promised
    assert exam.progress.accessibleName() == "Time used"
    for number in (2, 3, 4):
        press(qtbot, Qt.Key.Key_1)
        assert exam.saved.text() == "Answer saved"
        press(qtbot, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda n=number: exam.position.text() == f"Question {n}", timeout=10_000)
        assert exam.next_button.text() == "Next" and exam.question.isEnabled()
        clock.advance(15_000)
    shot(exam, "adaptive-question")
    served = len(exam.session.items)
    assert served == 4

    assert sqlite_live.process is not None
    sqlite_live.process.terminate()  # the server goes away mid-sitting
    sqlite_live.process.wait(timeout=15)
    press(qtbot, Qt.Key.Key_2)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: exam.session.fell_back, timeout=30_000)
    total = exam.session.total
    assert total == served + len(exam.session.fallback)
    assert exam.position.text() == f"Question 5 of {total}"
    assert "connection to the exam server was lost" in exam.warning_text
    shot(exam, "adaptive-fallback")
    with qtbot.waitSignal(exam.finished, timeout=20_000):
        while exam.pages.currentWidget() is exam.exam_page:
            press(qtbot, Qt.Key.Key_1)
            press(qtbot, Qt.Key.Key_Return)
        confirm_finish(qtbot, exam)
    assert exam.session.end_reason == "finished"
    # The app tries to send it (three times) and says it keeps it safe meanwhile.
    qtbot.waitUntil(
        lambda: "kept safely on this computer" in window.result_page.status.text(), timeout=60_000
    )

    with ProcessServer(sqlite_live.settings, port=sqlite_live.port) as back:
        [delivered] = engine.sync()
        assert back.url == sqlite_live.url
    result = delivered.result
    assert sum(c["total"] for c in result["category_details"]) == total
    reasons = {flag["reason"] for flag in result["integrity"]["flags"]}
    assert not reasons & {"sequence_violation", "answer_mismatch"}


class HeldStepper:
    """A stepper whose answer from the server waits until the test lets it through."""

    def __init__(self, item: Any) -> None:
        self.release = threading.Event()
        self.item = item
        self.applied: list[Any] = []

    def fetcher(self, session: ExamSession) -> Any:
        def fetch() -> Step:
            self.release.wait(10)
            return Step(item=self.item, position=len(session.positions))

        return fetch

    def apply(self, session: ExamSession, step: Step) -> None:
        self.applied.append(step)
        if step.fallback is not None:
            session.fall_back(step.fallback)
        else:
            session.serve(step.item, step.position)  # type: ignore[arg-type]


def test_keys_pressed_while_the_next_question_comes_change_nothing(
    qtbot: QtBot, tmp_path: Any, clock: ManualClock
) -> None:
    from tests.client.test_session import ITEMS, SERVED, adaptive_at

    session = adaptive_at(tmp_path / "j.db", clock)
    stepper = HeldStepper(SERVED[0])
    exam = ExamWindow(session, "Adaptive", lockdown=False, keyboard=False, stepper=stepper)  # type: ignore[arg-type]
    qtbot.addWidget(exam)
    stepper.release.set()  # the first question comes at once
    exam.begin()
    qtbot.waitUntil(exam.isActiveWindow, timeout=5_000)
    qtbot.waitUntil(lambda: session.current == SERVED[0], timeout=5_000)
    stepper.release.clear()
    stepper.item = SERVED[1]
    press(qtbot, Qt.Key.Key_1)
    press(qtbot, Qt.Key.Key_Return)  # on: the answer goes, the next question is awaited
    assert exam.saved.text() == "Getting the next question…" and not exam.question.isEnabled()
    qtbot.keyClick(exam, Qt.Key.Key_2)  # another key meanwhile (under the grab: the window's)
    assert session.answers["s0"] == ["s0o0"]
    stepper.release.set()
    qtbot.waitUntil(lambda: session.current == SERVED[1], timeout=5_000)
    assert exam.question.isEnabled() and exam.position.text() == "Question 2"
    assert session.answers == {"s0": ["s0o0"]} and ITEMS[0] not in session.items
    session.finish("finished")
    exam.tick()


class BrokenStepper(HeldStepper):
    """A stepper that cannot even make its request (the local database failed)."""

    def fetcher(self, session: ExamSession) -> Any:
        raise sqlite3.OperationalError("disk I/O error")


def test_a_request_that_cannot_be_made_goes_on_with_the_sealed_form(
    qtbot: QtBot, tmp_path: Any, clock: ManualClock
) -> None:
    from tests.client.test_session import ITEMS, SERVED, adaptive_at

    session = adaptive_at(tmp_path / "j.db", clock)
    exam = ExamWindow(
        session, "Adaptive", lockdown=False, keyboard=False, stepper=BrokenStepper(SERVED[0])
    )  # type: ignore[arg-type]
    qtbot.addWidget(exam)
    exam.begin()
    qtbot.waitUntil(lambda: session.fell_back, timeout=5_000)
    assert session.current == ITEMS[0] and exam.question.isEnabled()
    assert exam.next_button.text() == "Next" and "connection" in exam.warning_text
    session.finish("finished")
    exam.tick()
