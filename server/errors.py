"""Errors the API returns: each becomes a JSON body ``{"error": code, "message": sentence}``.

ApiError(status, code, message)    an expected failure with its HTTP status
shared.errors.MalformedData        400 malformed
shared.errors.InvalidSignature     400 bad_signature
"""

from __future__ import annotations


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.")
