"""The health check page: every check before the unlock code is asked for, each with a plain
explanation and what to do; the candidate fixes what failed and runs it again."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from client.checks import Check
from client.proctor.health import can_start, run_health_checks
from client.proctor.platform import platform_guard
from client.ui.widgets import button, label
from shared.policy import Policy

MARKS = {"ok": ("#2e7d32", "OK"), "warn": ("#b36b00", "Note"), "fail": ("#a12626", "Fix this")}


class HealthPage(QWidget):
    passed = Signal(list)  # the checks, for the journal
    back = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.policy = Policy()
        self.checks: list[Check] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(40, 32, 40, 32)
        layout.addWidget(label("Check this computer", name="title"))
        layout.addWidget(
            label(
                "Before the exam starts, examgate checks that nothing on this computer would stop "
                "it or be flagged. Fix anything marked 'Fix this' and run the check again.",
                name="subtitle",
                wrap=True,
            )
        )
        layout.addSpacing(12)
        self.results = label(wrap=True)
        self.results.setTextFormat(Qt.TextFormat.RichText)
        self.results.setAlignment(Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.results, 1)
        self.summary = label(name="verdict", wrap=True)
        layout.addWidget(self.summary)
        row = QHBoxLayout()
        back = button("Back")
        back.clicked.connect(self.back.emit)
        self.rerun_button = button("Run the check again")
        self.rerun_button.clicked.connect(self.run)
        self.continue_button = button("Continue", primary=True)
        self.continue_button.clicked.connect(lambda: self.passed.emit(self.checks))
        row.addWidget(back)
        row.addStretch()
        row.addWidget(self.rerun_button)
        row.addWidget(self.continue_button)
        layout.addLayout(row)

    def run(self, policy: Policy | None = None) -> list[Check]:
        if isinstance(policy, Policy):
            self.policy = policy
        self.checks = run_health_checks(self.policy, platform_guard())
        rows = []
        for check in self.checks:
            colour, mark = MARKS[check.status]
            todo = f"<br><i>What to do:</i> {escape(check.action)}" if check.action else ""
            rows.append(
                f"<p><span style='color:{colour}; font-weight:600'>{mark}</span> "
                f"<b>{escape(check.name.capitalize())}</b>: {escape(check.detail)}{todo}</p>"
            )
        self.results.setText("".join(rows))
        ready = can_start(self.checks)
        self.continue_button.setEnabled(ready)
        self.summary.setText(
            "Everything needed is in place."
            if ready
            else "The exam cannot start until the items marked 'Fix this' are fixed."
        )
        return self.checks
