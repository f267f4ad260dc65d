"""The practice page: choose a category, answer, press Submit, read why each option is right or
wrong. Questions are fetched once and kept, so practice works offline afterwards."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from client.engine import Engine
from client.practice import PracticeItem, PracticeRound, Verdict
from client.ui.background import run_in_background
from client.ui.errors import describe
from client.ui.widgets import LETTERS, button, label, option_button
from shared.models import CATEGORIES, category_name


class PracticePage(QWidget):
    back = Signal()

    def __init__(self, engine: Engine, server_url: Callable[[], str | None]) -> None:
        super().__init__()
        self.setObjectName("page")
        self.engine = engine
        self.server_url = server_url
        self.round: PracticeRound | None = None
        self.choices: list[QAbstractButton] = []
        self.explanations: list[QLabel] = []
        self.group: QButtonGroup | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 32, 40, 32)
        layout.addWidget(label("Practice questions", name="title"))
        layout.addWidget(
            label(
                "Questions like the ones in the test. Choose an answer and press Submit to see "
                "whether you were right and why each option is right or wrong. Nothing is "
                "recorded.",
                name="subtitle",
                wrap=True,
            )
        )
        row = QHBoxLayout()
        self.category = QComboBox()
        self.category.addItem("All categories", None)
        for category_id, name in CATEGORIES.items():
            self.category.addItem(name, category_id)
        self.start_button = button("Start practice", primary=True)
        self.start_button.clicked.connect(self.start)
        row.addWidget(self.category, 1)
        row.addWidget(self.start_button)
        layout.addLayout(row)
        layout.addSpacing(12)
        # The question scrolls: a stem and four explanations can outgrow the window.
        content = QWidget()
        content.setObjectName("page")
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 8, 0)
        self.position = label(name="subtitle")
        self.stem = label(name="stem", wrap=True)
        column.addWidget(self.position)
        column.addWidget(self.stem)
        self.options_box = QVBoxLayout()
        self.options_box.setSpacing(6)
        column.addLayout(self.options_box)
        self.verdict = label(name="verdict", wrap=True)
        column.addWidget(self.verdict)
        self.error = label(name="error", wrap=True)
        column.addWidget(self.error)
        column.addStretch()
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(content)
        layout.addWidget(scroll, 1)
        bottom = QHBoxLayout()
        self.back_button = button("Back")
        self.back_button.clicked.connect(self.back.emit)
        self.submit_button = button("Submit", primary=True)
        self.submit_button.clicked.connect(self.submit)
        self.next_button = button("Next question")
        self.next_button.clicked.connect(self.advance)
        bottom.addWidget(self.back_button)
        bottom.addStretch()
        bottom.addWidget(self.submit_button)
        bottom.addWidget(self.next_button)
        layout.addLayout(bottom)
        self._show_idle()

    def _show_idle(self) -> None:
        self.position.setText("")
        self.stem.setText("")
        self.verdict.setText("")
        self._clear_options()
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

    def _begin(self, items: list[PracticeItem]) -> None:
        self.round = PracticeRound(items, self.category.currentData())
        self.verdict.setText("")
        if self.round.finished:
            self.error.setText("There are no practice questions in this category yet.")
            return
        self.show_item()

    def _clear_options(self) -> None:
        while self.options_box.count():
            found = self.options_box.takeAt(0)
            widget = found.widget() if found is not None else None
            if widget is not None:
                widget.deleteLater()
        self.choices, self.explanations = [], []

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
            return
        self._clear_options()
        self.position.setText(
            f"Question {self.round.index + 1} of {len(self.round.items)} · "
            f"{category_name(item.category)} · {item.skill}"
        )
        self.stem.setText(item.stem)
        self.group = QButtonGroup(self)
        self.group.setExclusive(len(item.key) == 1)
        for number, option in enumerate(item.options):
            text = f"{LETTERS[number]}   {option.text}"
            choice = option_button(text, len(item.key) > 1)
            choice.toggled.connect(self._update_buttons)
            self.group.addButton(choice, number)
            explanation = label(wrap=True)
            explanation.setTextFormat(Qt.TextFormat.RichText)
            explanation.setContentsMargins(36, 0, 0, 6)
            explanation.hide()
            self.options_box.addWidget(choice)
            self.options_box.addWidget(explanation)
            self.choices.append(choice)
            self.explanations.append(explanation)
        self.verdict.setText("")
        self.submit_button.show()
        self.next_button.hide()
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.submit_button.setEnabled(any(choice.isChecked() for choice in self.choices))

    def submit(self) -> None:
        assert self.round is not None and self.round.current is not None
        item = self.round.current
        chosen = [o.id for o, c in zip(item.options, self.choices, strict=True) if c.isChecked()]
        self.show_verdict(item, self.round.submit(chosen))

    def show_verdict(self, item: PracticeItem, verdict: Verdict) -> None:
        letters = ", ".join(LETTERS[i] for i, o in enumerate(item.options) if o.id in verdict.key)
        self.verdict.setText(
            "Right." if verdict.correct else f"Not quite: the answer is {letters}."
        )
        for option, choice, explanation in zip(
            item.options, self.choices, self.explanations, strict=True
        ):
            choice.setEnabled(False)
            right = option.id in verdict.key
            colour, mark = ("#2e7d32", "Right") if right else ("#a12626", "Wrong")
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

    def advance(self) -> None:
        assert self.round is not None
        self.round.next()
        self.show_item()
