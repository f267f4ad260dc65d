"""The practice page: choose a category, answer, press Submit, read why each option is right or
wrong. The question looks and answers as in the exam (wrapped options, keys 1-4 or A-D, Enter
to go on); the verdict sits above the buttons, always in view. Questions are fetched once and
kept, so practice works offline afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from client.engine import Engine
from client.practice import PracticeItem, PracticeRound, Verdict
from client.ui.background import run_in_background
from client.ui.errors import describe
from client.ui.qt import (
    QAbstractButton,
    QComboBox,
    QHBoxLayout,
    QKeyEvent,
    QLabel,
    QVBoxLayout,
    QWidget,
    Signal,
    announce,
)
from client.ui.question_view import QuestionView
from client.ui.style import STANDARD
from client.ui.widgets import LETTERS, button, label
from shared.models import CATEGORIES, category_name


class PracticePage(QWidget):
    back = Signal()

    def __init__(self, engine: Engine, server_url: Callable[[], str | None]) -> None:
        super().__init__()
        self.setObjectName("page")
        self.engine = engine
        self.server_url = server_url
        self.colours = STANDARD
        self.round: PracticeRound | None = None
        self.answered = False
        self.chosen: set[int] = set()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 20, 32, 20)
        layout.addWidget(label("Practice questions", name="title"))
        layout.addWidget(
            label(
                "Questions like the ones in the test, answered as in the exam. Press Submit to "
                "see whether you were right and why each option is right or wrong. Nothing is "
                "recorded.",
                name="subtitle",
                wrap=True,
            )
        )
        row = QHBoxLayout()
        self.category = QComboBox()
        self.category.setAccessibleName("Category to practise")
        self.category.addItem("All categories", None)
        for category_id, name in CATEGORIES.items():
            self.category.addItem(name, category_id)
        self.start_button = button("Start practice", primary=True)
        self.start_button.clicked.connect(self.start)
        row.addWidget(self.category, 1)
        row.addWidget(self.start_button)
        layout.addLayout(row)
        self.position = label(name="subtitle", wrap=True)
        layout.addWidget(self.position)
        self.view = QuestionView()
        self.view.chosen.connect(self.choose)
        layout.addWidget(self.view, 1)
        self.verdict = label(name="verdict", wrap=True)
        self.verdict.setAccessibleName("Verdict")
        layout.addWidget(self.verdict)
        self.error = label(name="error", wrap=True)
        layout.addWidget(self.error)
        bottom = QHBoxLayout()
        self.back_button = button("Back")
        self.back_button.clicked.connect(self.back.emit)
        self.submit_button = button("Submit", primary=True)
        self.submit_button.clicked.connect(self.submit)
        self.next_button = button("Next question", primary=True)
        self.next_button.clicked.connect(self.advance)
        bottom.addWidget(self.back_button)
        bottom.addStretch()
        bottom.addWidget(self.submit_button)
        bottom.addWidget(self.next_button)
        layout.addLayout(bottom)
        self._show_idle()

    @property
    def choices(self) -> list[QAbstractButton]:
        return self.view.buttons

    @property
    def explanations(self) -> list[QLabel]:
        return self.view.explanations

    def enter(self) -> None:
        """Shown: the first control to use has the focus."""
        if self.round is None or self.round.current is None:
            self.category.setFocus()

    def _show_idle(self) -> None:
        self.position.setText("")
        self.verdict.setText("")
        self.view.clear()
        self.submit_button.hide()
        self.next_button.hide()

    def start(self) -> None:
        """Start a round, fetching the questions first if this computer has none yet."""
        self.error.setText("")
        if self.engine.practice_items():
            self._begin(self.engine.practice_items())
            return
        url = self.server_url()
        if not url:
            self.error.setText("Enter the server address on the enrolment page first.")
            return
        self.verdict.setText("Fetching the practice questions…")
        run_in_background(lambda: self.engine.fetch_practice(url), self._begin, self._fetch_failed)

    def _fetch_failed(self, error: Exception) -> None:
        self.verdict.setText("")
        self.error.setText(describe(error))
        announce(self, self.error.text(), assertive=True)

    def _begin(self, items: list[PracticeItem]) -> None:
        self.round = PracticeRound(items, self.category.currentData())
        self.verdict.setText("")
        if self.round.finished:
            self.error.setText("There are no practice questions in this category yet.")
            return
        self.show_item()

    def show_item(self) -> None:
        assert self.round is not None
        item = self.round.current
        if item is None:
            right, answered = self.round.score
            self._show_idle()
            self.verdict.setText(
                f"You answered {right} of {answered} practice questions correctly. Choose a "
                "category and start again, or go back."
            )
            announce(self, self.verdict.text())
            self.start_button.setFocus()
            return
        self.answered = False
        self.chosen = set()
        number = f"Question {self.round.index + 1} of {len(self.round.items)}"
        self.position.setText(f"{number} · {category_name(item.category)} · {item.skill}")
        self.view.show_question(
            category_name(item.category),
            item.stem,
            [option.text for option in item.options],
            multiple=len(item.key) > 1,
        )
        self.view.category.setText(
            "Choose all that apply." if len(item.key) > 1 else "Choose one answer."
        )
        self.verdict.setText("")
        self.submit_button.show()
        self.next_button.hide()
        self._update_buttons()
        self.view.focus_option(0)
        announce(self, f"{number}. {item.stem}")

    def choose(self, number: int) -> None:
        if self.round is None or self.round.current is None or self.answered:
            self.view.set_chosen(self.chosen)  # answered: the choice stays as it was
            return
        item = self.round.current
        if number >= len(item.options):
            return
        if len(item.key) > 1:
            self.chosen ^= {number}
        else:
            self.chosen = {number}
        self.view.set_chosen(self.chosen)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.submit_button.setEnabled(bool(self.chosen))

    def submit(self) -> None:
        if self.round is None or self.round.current is None or not self.chosen:
            return
        item = self.round.current
        chosen = [o.id for n, o in enumerate(item.options) if n in self.chosen]
        self.show_verdict(item, self.round.submit(chosen))

    def show_verdict(self, item: PracticeItem, verdict: Verdict) -> None:
        self.answered = True
        letters = ", ".join(LETTERS[i] for i, o in enumerate(item.options) if o.id in verdict.key)
        self.verdict.setText(
            "Right." if verdict.correct else f"Not quite: the answer is {letters}."
        )
        for option, explanation in zip(item.options, self.view.explanations, strict=True):
            right = option.id in verdict.key
            colour, mark = (
                (self.colours["success"], "Right") if right else (self.colours["error"], "Wrong")
            )
            why = re.sub(
                r"^(Correct|Incorrect|Wrong)\s*[:.]\s*", "", verdict.explanations[option.id]
            )
            explanation.setText(
                f"<span style='color:{colour}; font-weight:600'>{mark}.</span> {escape(why)}"
            )
            explanation.show()
        self.submit_button.hide()
        self.next_button.show()
        last = self.round is not None and self.round.index + 1 >= len(self.round.items)
        self.next_button.setText("See your score" if last else "Next question")
        self.next_button.setAccessibleName(self.next_button.text())
        first = min(self.chosen) if self.chosen else 0
        self.view.ensureWidgetVisible(self.view.explanations[first])
        self.next_button.setFocus()
        announce(self, f"{self.verdict.text()} {self.view.explanations[first].text()}")

    def advance(self) -> None:
        assert self.round is not None
        self.round.next()
        self.show_item()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        in_question = self.round is not None and self.round.current is not None
        go_on = self.advance if self.answered else self.submit
        if not (in_question and self.view.handle_key(event, self.choose, go_on)):
            super().keyPressEvent(event)
