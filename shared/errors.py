"""The error tree shared by client and server.

    ExamgateError              anything examgate raises on purpose; ``str()`` is a sentence
    ├── InvalidSignature       a signature does not verify (never says which part was wrong)
    ├── CannotOpen             a sealed package does not open: wrong unlock code or wrong device
    ├── MalformedData          bytes or JSON that are not what the protocol says
    ├── Tampered               data kept at rest no longer decrypts or authenticates
    └── WrongDevice            a package or submission belongs to another device

Every verification failure inside a family is one opaque error, so a message never tells an
attacker which check failed.
"""

from __future__ import annotations


class ExamgateError(Exception):
    """Base of every error examgate raises on purpose; the message is a sentence for a person."""


class InvalidSignature(ExamgateError):
    def __init__(self, what: str = "data") -> None:
        super().__init__(f"The {what} is not signed by the expected key.")


class CannotOpen(ExamgateError):
    def __init__(self) -> None:
        super().__init__("The exam package could not be opened: the unlock code is not right.")


class MalformedData(ExamgateError):
    pass


class Tampered(ExamgateError):
    def __init__(self, what: str = "data") -> None:
        super().__init__(
            f"The {what} kept on this computer has been changed or damaged, so it cannot be "
            "used. Contact the organisation that invited you."
        )


class WrongDevice(ExamgateError):
    def __init__(self) -> None:
        super().__init__("This exam package was prepared for another device.")
