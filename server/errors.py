"""The server's error tree. Each becomes a JSON body ``{"error": code, "message": sentence}``.

    Exception
    ├── ApiError(status, code, message)   an expected failure of an operation, with its status
    │   └── RateLimited                   429, with Retry-After
    ├── shared.errors.ExamgateError
    │   ├── MalformedData                 400 malformed (a request, a submission, an event)
    │   ├── InvalidSignature              400 bad_signature
    │   └── (the others)                  400 refused
    └── anything else                     500 internal: logged, and the request changed nothing

Only operations (``invitations``, ``packages``, ``results``, ``auth``, ``limits``) raise ApiError;
the pure parts (scoring, measurement, integrity, assembly) raise shared errors or return values.
"""

from __future__ import annotations

from typing import Any

from shared.errors import ExamgateError, InvalidSignature, MalformedData


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.details = details or {}  # more fields of the body (say, every bad line of a file)


class RateLimited(ApiError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            429,
            "rate_limited",
            f"Too many requests: wait {retry_after_s} seconds, then try again.",
            {"Retry-After": str(retry_after_s)},
        )
        self.retry_after_s = retry_after_s


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.")


def refusal(error: Exception) -> ApiError:
    """``error`` as the API answers it: an ApiError as it is; a shared error as its 400."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, InvalidSignature):
        return ApiError(400, "bad_signature", str(error))
    if isinstance(error, MalformedData):
        return ApiError(400, "malformed", str(error))
    if isinstance(error, ExamgateError):
        return ApiError(400, "refused", str(error))
    raise TypeError(f"not a refusal: {type(error).__name__}")
