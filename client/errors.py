"""What the candidate engine raises; every message is a sentence a candidate can act on.

shared.errors.ExamgateError
├── ClientError
│   ├── ServerUnreachable     no answer from the server (offline, wrong address, dropped)
│   ├── ServerRefused         the server answered with a 4xx error and its reason
│   ├── ServerFailed          the server answered with a 5xx error
│   ├── NotEnrolled           no device identity or enrolment yet
│   ├── KeyringUnavailable    no OS keyring to keep the device keys in
│   ├── WrongPassphrase       the passphrase does not open the device-keys file
│   ├── ServerKeyChanged      the server's key is not the one pinned at enrolment
│   ├── PackageNotReady       the sitting's package is not downloaded, or expired
│   ├── CertificateNotReady   the result is stored, its certificate still being rendered
│   ├── SittingLocked         the integrity policy locked the sitting; a proctor unlocks it
│   ├── SittingClosed         the sitting is over; nothing more can be answered
│   └── SaveFailed            the journal could not write (disk full, I/O error): nothing was
│                             confirmed, nothing saved before is lost
├── CannotOpen, InvalidSignature, WrongDevice, MalformedData   (from shared.errors)
"""

from __future__ import annotations

from shared.errors import ExamgateError


class ClientError(ExamgateError):
    pass


class ServerUnreachable(ClientError):
    def __init__(self, url: str) -> None:
        super().__init__(
            f"The exam server at {url} cannot be reached. Check the network connection and the "
            "server address; anything you have finished is kept and sent later."
        )


class ServerRefused(ClientError):
    def __init__(
        self, status: int, code: str, message: str, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.retry_after_s = retry_after_s


class ServerFailed(ClientError):
    def __init__(self, status: int) -> None:
        super().__init__(
            f"The exam server had a problem (error {status}). Nothing was lost: try again shortly."
        )
        self.status = status


class NotEnrolled(ClientError):
    def __init__(self) -> None:
        super().__init__("This computer is not enrolled yet: enter your invitation code first.")


class KeyringUnavailable(ClientError):
    def __init__(self) -> None:
        super().__init__(
            "examgate keeps this device's keys in the system keyring, and none is available. "
            "Install or unlock a keyring (for example GNOME Keyring or KWallet) and try again."
        )


class WrongPassphrase(ClientError):
    def __init__(self, message: str = "") -> None:
        super().__init__(
            message
            or "That passphrase does not open this computer's examgate keys. Check it (capital "
            "letters count) and type it again."
        )


class ServerKeyChanged(ClientError):
    def __init__(self, pinned: str, seen: str) -> None:
        super().__init__(
            f"The server's identity has changed (expected {pinned}, got {seen}). Do not continue: "
            "contact the organisation that invited you."
        )


class PackageNotReady(ClientError):
    pass


class CertificateNotReady(ClientError):
    def __init__(self) -> None:
        super().__init__(
            "Your result is saved, and the server is still preparing your certificate. "
            "Try again in a minute; the result page keeps its button."
        )


class ResultNotReady(ClientError):
    def __init__(self) -> None:
        super().__init__(
            "The server has received your answers (its receipt is kept on this computer) and "
            "is still scoring them. Your result appears under Finished exams when it is ready."
        )


class SittingLocked(ClientError):
    def __init__(self) -> None:
        super().__init__("The sitting is locked: your proctor must unlock it before you go on.")


class SittingClosed(ClientError):
    def __init__(self) -> None:
        super().__init__("This sitting has ended; no more answers can be given.")


class SaveFailed(ClientError):
    def __init__(self, reason: str) -> None:
        super().__init__(
            "Your last answer could not be saved: this computer's disk is full or failing "
            f"({reason}). Free some space or call your proctor. Everything saved before is safe, "
            "and the exam goes on as soon as saving works again."
        )
        self.reason = reason
