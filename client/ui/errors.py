"""Every error reaches the candidate as a sentence, never a traceback."""

from __future__ import annotations

import logging

from shared.errors import ExamgateError

log = logging.getLogger("examgate.client")


def describe(error: BaseException) -> str:
    if isinstance(error, ExamgateError):
        return str(error)
    log.error("unexpected error", exc_info=error)
    return (
        "Something went wrong that examgate did not expect. Your answers so far are saved; "
        "restart examgate, and if it happens again, tell the organisation that invited you."
    )
