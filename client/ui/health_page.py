"""The health check page: every check before the exam starts, each with a plain explanation and
what to do (the evidence in a smaller details line); the candidate fixes what failed and runs it
again."""

from __future__ import annotations

from html import escape

from client.checks import Check
from client.proctor.health import can_start, run_health_checks
from client.proctor.platform import platform_guard
from client.ui.qt import QHBoxLayout, QVBoxLayout, QWidget, Signal, announce
from client.ui.style import STANDARD
from client.ui.widgets import button, label, report
from shared.policy import Policy

MARKS = {"ok": ("success", "OK"), "warn": ("note", "Note"), "fail": ("error", "Fix this")}


class HealthPage(QWidget):
    passed = Signal(list)  # the checks, for the journal
    back = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("page")
        self.policy = Policy()
        self.checks: list[Check] = []
        self.palette_colours = STANDARD
        layout = QVBoxLayout(self)
        layout.setContentsMargins(32, 24, 32, 24)
        layout.addWidget(label("Check this computer", name="title"))
        layout.addWidget(
            label(
                "Before the exam starts, examgate checks that nothing on this computer would stop "
                "it or be flagged. Fix anything marked 'Fix this' and run the check again.",
                name="subtitle",
                wrap=True,
            )
        )
        self.results = report("Results of the check")
        layout.addWidget(self.results, 1)
        self.summary = label(name="verdict", wrap=True)
        layout.addWidget(self.summary)
        row = QHBoxLayout()
        self.back_button = button("Back")
        self.back_button.clicked.connect(self.back.emit)
        self.rerun_button = button("Run the check again")
        self.rerun_button.clicked.connect(lambda: self.run())
        self.continue_button = button("Continue", primary=True)
        self.continue_button.clicked.connect(lambda: self.passed.emit(self.checks))
        row.addWidget(self.back_button)
        row.addStretch()
        row.addWidget(self.rerun_button)
        row.addWidget(self.continue_button)
        layout.addLayout(row)

    def run(self, policy: Policy | None = None) -> list[Check]:
        if isinstance(policy, Policy):
            self.policy = policy
        self.checks = run_health_checks(self.policy, platform_guard())
        colours = self.palette_colours
        rows = []
        for check in self.checks:
            colour, mark = MARKS[check.status]
            todo = f"<br><i>What to do:</i> {escape(check.action)}" if check.action else ""
            details = (
                f"<br><small>Details: {escape(check.technical)}</small>" if check.technical else ""
            )
            rows.append(
                f"<p><span style='color:{colours[colour]}; font-weight:600'>{mark}</span> "
                f"<b>{escape(check.name.capitalize())}</b>: {escape(check.detail)}{todo}"
                f"{details}</p>"
            )
        self.results.setHtml("".join(rows))
        ready = can_start(self.checks)
        self.continue_button.setEnabled(ready)
        self.summary.setText(
            "Everything needed is in place."
            if ready
            else "The exam cannot start until the items marked 'Fix this' are fixed."
        )
        announce(self, self.summary.text())
        (self.continue_button if ready else self.rerun_button).setFocus()
        return self.checks
