"""The OpenAPI 3.1 document of the API: every route's parameters, request and response schemas,
the device-signature security scheme, and every status each route returns.

Written out rather than inferred, so that what a client or a fuzzer reads is exactly the
contract; ``tests/server/test_openapi.py`` runs Schemathesis against it with every check.
"""

from __future__ import annotations

from typing import Any

from server import openapi_employer as employer
from shared.protocol import (
    API_PREFIX,
    HEADER_DEVICE,
    HEADER_NONCE,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    MAX_BODY_BYTES,
)

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> Any:
    return {
        "type": "object",
        "properties": properties,
        "required": sorted(properties) if required is None else required,
        "additionalProperties": False,
        **extra,
    }


_STR = {"type": "string"}
_MS = {"type": "integer", "minimum": 0}
_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}
_B64KEY = {"type": "string", "pattern": "^[A-Za-z0-9_-]{43}$"}

SCHEMAS: dict[str, Any] = {
    "Error": _object({"error": _STR, "message": _STR}),
    "Health": _object({"status": {"const": "ok"}}),
    "ServerKey": _object(
        {
            "public_key": _B64KEY,
            "fingerprint": _STR,
            "kex_public": _B64KEY,
            "kex_signature": _STR,
        }
    ),
    "EnrolRequest": _object(
        {
            "invitation": {"type": "string", "maxLength": 64},
            "sign_public": _B64KEY,
            "kex_public": _B64KEY,
            "device_name": {"type": "string", "maxLength": 200},
            "timestamp": _MS,
            "nonce": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,64}$"},
            "signature": {"type": "string", "pattern": "^[A-Za-z0-9_-]{86}$"},
            "kex_proof": _B64KEY,
        }
    ),
    "Sitting": _object(
        {
            "id": _ID,
            "assessment": _STR,
            "employer": _STR,
            "duration_s": _MS,
            "extra_time_s": _MS,
            "candidate": _STR,
            "offline": {"type": "boolean"},
            "state": {"enum": ["invited", "enrolled", "prepared", "started", "scored"]},
            "opens_ms": _MS,
            "closes_ms": _MS,
            "expires_ms": _MS,
        }
    ),
    "EnrolResponse": _object(
        {"device_id": _ID, "sitting": _ref("Sitting"), "server": _ref("ServerKey")}
    ),
    "Sittings": _object({"sittings": {"type": "array", "items": _ref("Sitting")}}),
    "SignedDocument": {
        "type": "object",
        "properties": {"body": {"type": "object"}, "signature": _STR},
        "required": ["body", "signature"],
        "additionalProperties": False,
    },
    "StartRequest": _object({"chain_public": _B64KEY}),
    "Event": _object(
        {
            "seq": _MS,
            "prev": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "mac": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "type": {"type": "string", "description": "one of the kinds in shared/events.py"},
            "data": {"type": "object", "description": "the kind's fields (shared/events.py)"},
            "at_ms": _MS,
            "elapsed_ms": _MS,
            "mono_ms": _MS,
            "uptime_ms": {"anyOf": [_MS, {"type": "null"}]},
        },
        description="One event of the sitting's log, hash-chained and MAC-chained.",
    ),
    "Submission": _object(
        {
            "body": _ref("SubmissionBody"),
            "signature": {"type": "string", "pattern": "^[A-Za-z0-9_-]{86}$"},
        }
    ),
    "SubmissionBody": _object(
        {
            "format": {"const": "examgate-submission/1"},
            "submission_id": _ID,
            "sitting_id": _ID,
            "package_id": _ID,
            "device_id": _ID,
            "chain_public": {"anyOf": [_B64KEY, {"type": "null"}]},
            "responses": {
                "type": "array",
                "items": _object({"item": _STR, "options": {"type": "array", "items": _STR}}),
            },
            "events": {"type": "array", "items": _ref("Event")},
            "timing": {
                "type": "object",
                "additionalProperties": {
                    "anyOf": [
                        {"type": "integer", "minimum": 0, "maximum": 10**13},
                        {"type": "null"},
                    ]
                },
            },
            "end_reason": {"enum": ["finished", "time_up", "voided"]},
        }
    ),
    "StartResponse": _object({"unlock_code": _STR, "started_ms": _MS, "ends_ms": _MS}),
    "Checkpoint": _object(
        {
            "seq": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
            "hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "final": {"type": "boolean", "description": "this event is the log's end"},
            "locked": {
                "type": "boolean",
                "description": "the sitting is locked now (shown to the proctor's room)",
            },
        },
        required=["seq", "hash"],
    ),
    "CheckpointSeen": _object({"seq": {"type": "integer"}}),
    "StepRequest": {
        "description": "The answer to the question at position (chosen option ids; none: "
        "skipped), or an empty object to ask for the question on screen.",
        "oneOf": [
            _object({}),
            _object(
                {
                    "position": {"type": "integer", "minimum": 0, "maximum": 499},
                    "options": {"type": "array", "items": _ID, "maxItems": 16},
                }
            ),
        ],
    },
    "Step": {
        "type": "object",
        "description": "The question now on screen (stem and options, never a key), or that "
        "the adaptive part ended: decided (every level settled), time_up or exhausted.",
        "properties": {
            "done": {"type": "boolean"},
            "position": {"type": "integer"},
            "item": {"type": "object"},
            "reason": {"enum": ["decided", "time_up", "exhausted"]},
            "ends_ms": _MS,
        },
        "required": ["done", "position", "ends_ms"],
    },
    "HandIn": _object(
        {
            "format": {"const": "examgate-hand-in/1"},
            "server": {"type": "string", "description": "the server key's fingerprint"},
            "ephemeral_public": _B64KEY,
            "nonce": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16}$"},
            "ciphertext": {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        },
        description="A sealed submission, encrypted to the server's key-exchange key.",
    ),
    "Result": {
        "type": "object",
        "description": "Levels per category and overall, per-skill feedback, the study plan, "
        "the percentile and the integrity report.",
        "properties": {
            "submission_id": _STR,
            "result_id": _STR,
            "verification_code": _STR,
            "overall": {"enum": ["beginning", "developing", "accomplished"]},
            "categories": {"type": "object", "additionalProperties": _STR},
            "integrity": {
                "type": "object",
                "properties": {
                    "outcome": {"enum": ["clean", "flagged", "voided"]},
                    "flags": {"type": "array", "items": {"type": "object"}},
                },
                "required": ["outcome", "flags"],
            },
            "percentile": {
                "type": ["integer", "null"],
                "description": "Null until the assessment has enough results to compare with.",
            },
            "cohort": {"type": "integer", "minimum": 0},
            "received_ms": _MS,
            "submission_sha256": _STR,
            "verification_url": {"type": "string", "description": "the public check"},
            "linkedin_url": {
                "type": "string",
                "description": "LinkedIn's add-certification link for this certificate",
            },
        },
        "required": [
            "submission_id",
            "result_id",
            "verification_code",
            "overall",
            "categories",
            "integrity",
            "received_ms",
            "submission_sha256",
        ],
    },
    "SubmitResponse": _object({"result": _ref("Result"), "receipt": _ref("SignedDocument")}),
    "SubmitReceived": _object(
        {
            "result": {"type": "null"},
            "receipt": _ref("SignedDocument"),
            "status": {"const": "pending"},
            "message": _STR,
        }
    ),
    "HandInReceipt": _object({"submission_id": _STR, "receipt": _ref("SignedDocument")}),
    "Verification": {
        "type": "object",
        "properties": {
            "genuine": {"type": "boolean"},
            "verification_code": _STR,
            "candidate": _STR,
            "assessment": _STR,
            "date": {"type": "string", "format": "date"},
            "overall": _STR,
            "categories": {"type": "object", "additionalProperties": _STR},
            "issuer": _STR,
            "revoked": {"type": "boolean"},
            "revoked_reason": {"type": ["string", "null"]},
            "revoked_ms": {"type": ["integer", "null"]},
            "ready": {"type": "boolean", "description": "the signed files have been issued"},
            "certificate_sha256": {
                "type": ["string", "null"],
                "description": "SHA-256 of the genuine signed PDF: compare the file you hold",
            },
            "credential_url": {"type": ["string", "null"], "description": "the credential"},
            "status_list": {"type": ["string", "null"], "description": "its status list"},
            "status_index": {"type": ["integer", "null"]},
            "authority_url": {
                "type": "string",
                "description": "the authority certificate that the PDF's signature chains to",
            },
            "linkedin_url": {
                "type": "string",
                "description": "LinkedIn's add-certification link (not for a revoked one)",
            },
        },
        "required": ["genuine", "verification_code"],
        "additionalProperties": False,
    },
    "Credential": {
        "type": "object",
        "description": "An OpenBadgeCredential (W3C VC 2.0) with a DataIntegrityProof "
        "(eddsa-rdfc-2022) by the issuer's did:web key",
        "properties": {
            "@context": {"type": "array", "items": _STR},
            "type": {"type": "array", "items": _STR},
            "issuer": {"type": "object"},
            "credentialSubject": {"type": "object"},
            "credentialStatus": {"type": "object"},
            "proof": {"type": "object"},
        },
        "required": ["@context", "type", "issuer", "credentialSubject", "proof"],
    },
    "Pending": _object({"status": {"const": "pending"}, "message": _STR}),
    "PracticeItems": _object({"items": {"type": "array", "items": {"type": "object"}}}),
}


def _error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {JSON: {"schema": _ref("Error")}},
    }
    if headers:
        response["headers"] = headers
    return response


RESPONSES: dict[str, Any] = {
    "BadRequest": _error("Malformed request, bad signature, or data that fails its schema"),
    "Unauthenticated": _error("Not signed by an enrolled device, replayed, or clock skew"),
    "Forbidden": _error("Not allowed for this sitting"),
    "NotFound": _error("No such object for this device"),
    "Conflict": _error("The object is not in a state that allows this"),
    "Unprocessable": _error("An idempotency key (submission id) reused with another body"),
    "TooLarge": _error(f"The body is larger than {MAX_BODY_BYTES} bytes"),
    "TooMany": _error(
        "Too many requests",
        {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}},
    ),
    "Unavailable": _error(
        "The database cannot be reached for a moment (a restart or failover): retry",
        {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}},
    ),
}

_SIGNED: list[dict[str, list[str]]] = [
    {"device": [], "timestamp": [], "nonce": [], "signature": []}
]


def _ok(schema: str | None, description: str, media: str = JSON) -> dict[str, Any]:
    if schema is None:
        return {"description": description, "content": {media: {"schema": {}}}}
    return {"description": description, "content": {media: {"schema": _ref(schema)}}}


def _errors(*names: str) -> dict[str, Any]:
    codes = {
        "BadRequest": "400",
        "Unauthenticated": "401",
        "Forbidden": "403",
        "NotFound": "404",
        "Conflict": "409",
        "TooLarge": "413",
        "Unprocessable": "422",
        "TooMany": "429",
        "Unavailable": "503",
    }
    return {codes[name]: {"$ref": f"#/components/responses/{name}"} for name in names}


def _path_param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def _body(schema: str) -> dict[str, Any]:
    return {"required": True, "content": {JSON: {"schema": _ref(schema)}}}


_DEVICE_ERRORS = ("BadRequest", "Unauthenticated", "TooLarge", "TooMany", "Unavailable")

PATHS: dict[str, Any] = {
    "/health": {
        "get": {
            "summary": "Liveness and database check",
            "operationId": "health",
            "responses": {"200": _ok("Health", "The server and its database answer.")},
        }
    },
    "/server-key": {
        "get": {
            "summary": "The server's public keys and fingerprint, for pinning",
            "operationId": "serverKey",
            "responses": {
                "200": _ok("ServerKey", "The signing key, and the key-exchange key it signed"),
                **_errors("TooMany"),
            },
        }
    },
    "/enrol": {
        "post": {
            "summary": "Claim an invitation with a device's public keys, proving it holds both "
            "private keys",
            "operationId": "enrol",
            "requestBody": _body("EnrolRequest"),
            "responses": {
                "200": _ok("EnrolResponse", "The device id, the sitting, the server's keys"),
                **_errors(
                    "BadRequest", "Unauthenticated", "NotFound", "Conflict", "TooLarge", "TooMany"
                ),
            },
        }
    },
    "/sittings": {
        "get": {
            "summary": "The signing device's sittings",
            "operationId": "listSittings",
            "security": _SIGNED,
            "responses": {
                "200": _ok("Sittings", "This device's sittings"),
                **_errors(*_DEVICE_ERRORS),
            },
        }
    },
    "/sittings/{sitting_id}/package": {
        "post": {
            "summary": "The sealed, signed exam package for a sitting (the same on every call)",
            "operationId": "package",
            "security": _SIGNED,
            "parameters": [_path_param("sitting_id", _ID, "The sitting")],
            "requestBody": _body("StartRequest"),
            "responses": {
                "200": _ok("SignedDocument", "A signed document: header and ciphertext"),
                **_errors(*_DEVICE_ERRORS, "NotFound", "Conflict"),
            },
        }
    },
    "/sittings/{sitting_id}/start": {
        "post": {
            "summary": "Start an online sitting inside its window: releases its unlock code and "
            "starts the server's clock",
            "operationId": "start",
            "security": _SIGNED,
            "parameters": [_path_param("sitting_id", _ID, "The sitting")],
            "requestBody": _body("StartRequest"),
            "responses": {
                "200": _ok("StartResponse", "The unlock code and the server's start and end"),
                **_errors(*_DEVICE_ERRORS, "Forbidden", "NotFound", "Conflict"),
            },
        }
    },
    "/submissions": {
        "post": {
            "summary": "Upload a signed submission; repeats with the same submission id return "
            "the same result",
            "operationId": "submit",
            "security": _SIGNED,
            "requestBody": _body("Submission"),
            "responses": {
                "200": _ok("SubmitResponse", "The result and the server's signed receipt"),
                "202": {
                    "description": "Received under load: the signed receipt now, the result "
                    "from GET /results/{submission_id} after Retry-After seconds (the scoring "
                    "jobs ahead of it: 2 s to 2 minutes)",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {JSON: {"schema": _ref("SubmitReceived")}},
                },
                **_errors(*_DEVICE_ERRORS, "Forbidden", "NotFound", "Conflict", "Unprocessable"),
            },
        }
    },
    "/hand-ins": {
        "post": {
            "summary": "Upload a sealed submission handed in as a file (no device signature: the "
            "submission inside is signed, the file encrypted to the server)",
            "operationId": "handIn",
            "requestBody": _body("HandIn"),
            "responses": {
                "200": _ok("HandInReceipt", "The server's signed receipt (not the result)"),
                **_errors(
                    "BadRequest", "NotFound", "Conflict", "TooLarge", "Unprocessable", "TooMany"
                ),
            },
        }
    },
    "/sittings/{sitting_id}/checkpoint": {
        "post": {
            "summary": "Report how far the sitting's log has come (online, while it runs)",
            "operationId": "checkpoint",
            "security": _SIGNED,
            "parameters": [_path_param("sitting_id", _ID, "The sitting")],
            "requestBody": _body("Checkpoint"),
            "responses": {
                "200": _ok("CheckpointSeen", "The furthest point the server has seen"),
                **_errors(*_DEVICE_ERRORS, "NotFound", "Conflict"),
            },
        }
    },
    "/sittings/{sitting_id}/next": {
        "post": {
            "summary": "Adaptive sittings: send the answer just given and receive the next "
            "question, chosen by the server (the server's clock governs)",
            "operationId": "nextStep",
            "security": _SIGNED,
            "parameters": [_path_param("sitting_id", _ID, "The sitting")],
            "requestBody": _body("StepRequest"),
            "responses": {
                "200": _ok("Step", "The question on screen, or the end of the adaptive part"),
                **_errors(*_DEVICE_ERRORS, "NotFound", "Conflict"),
            },
        }
    },
    "/results/{submission_id}": {
        "get": {
            "summary": "The result of one of this device's submissions",
            "operationId": "result",
            "security": _SIGNED,
            "parameters": [_path_param("submission_id", _ID, "The submission")],
            "responses": {
                "200": _ok("Result", "The result"),
                "202": {
                    "description": "Received; the result is still being scored: ask again "
                    "after Retry-After seconds",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {JSON: {"schema": _ref("Pending")}},
                },
                # 400 and 409 too: what scoring refused after the submission was received
                **_errors(*_DEVICE_ERRORS, "NotFound", "Conflict"),
            },
        }
    },
    "/results/{submission_id}/certificate": {
        "get": {
            "summary": "The PDF certificate of one of this device's submissions",
            "operationId": "certificate",
            "security": _SIGNED,
            "parameters": [_path_param("submission_id", _ID, "The submission")],
            "responses": {
                "200": {
                    "description": "The certificate",
                    "content": {"application/pdf": {"schema": {"type": "string"}}},
                },
                "202": {
                    "description": "Stored; the certificate is still being rendered: ask again "
                    "after Retry-After seconds",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {JSON: {"schema": _ref("Pending")}},
                },
                **_errors(*_DEVICE_ERRORS, "NotFound"),
            },
        }
    },
    "/results/{submission_id}/credential": {
        "get": {
            "summary": "The Open Badges credential of one of this device's submissions",
            "operationId": "credential",
            "security": _SIGNED,
            "parameters": [_path_param("submission_id", _ID, "The submission")],
            "responses": {
                "200": {
                    "description": "The credential",
                    "content": {"application/vc+ld+json": {"schema": _ref("Credential")}},
                },
                "202": {
                    "description": "Stored; the credential is still being issued: ask again "
                    "after Retry-After seconds",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {JSON: {"schema": _ref("Pending")}},
                },
                **_errors(*_DEVICE_ERRORS, "NotFound"),
            },
        }
    },
    "/verify/{code}": {
        "get": {
            "summary": "Public check of a certificate's verification code",
            "operationId": "verify",
            "parameters": [
                _path_param(
                    "code",
                    {"type": "string", "pattern": "^[A-Za-z0-9-]{1,64}$"},
                    "The code printed on the certificate",
                )
            ],
            "responses": {
                "200": _ok("Verification", "Whether the code is genuine, and what it states"),
                **_errors("BadRequest", "TooMany"),
            },
        }
    },
    "/practice": {
        "get": {
            "summary": "The public practice questions, with their answers and explanations",
            "operationId": "practice",
            "responses": {"200": _ok("PracticeItems", "The practice set"), **_errors("TooMany")},
        }
    },
}


def document(server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI document; ``server_url`` is where the API is served."""
    header = {"type": "apiKey", "in": "header"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "examgate API",
            "version": "1",
            "description": (
                "Private routes are authenticated by a device signature: headers "
                f"{HEADER_DEVICE}, {HEADER_TIMESTAMP} (ms since the epoch), {HEADER_NONCE} "
                f"(16 to 64 characters, never repeated) and {HEADER_SIGNATURE} (Ed25519, "
                "base64url, over 'examgate-request/2', the method, the raw path with its query "
                "string, the timestamp, the nonce and the body's SHA-256 in hex, joined by "
                "newlines). Errors are {error, message} JSON objects. Text may hold no NUL "
                "character and no unpaired surrogate: such a request is a 400."
            ),
        },
        "servers": [{"url": (server_url or "") + API_PREFIX}],
        "paths": {**PATHS, **employer.paths()},
        "components": {
            "schemas": {**SCHEMAS, **employer.SCHEMAS},
            "responses": {**RESPONSES, **employer.RESPONSES},
            "securitySchemes": {
                **employer.SECURITY_SCHEMES,
                "device": {**header, "name": HEADER_DEVICE, "description": "The device id"},
                "timestamp": {**header, "name": HEADER_TIMESTAMP},
                "nonce": {**header, "name": HEADER_NONCE},
                "signature": {**header, "name": HEADER_SIGNATURE},
            },
        },
    }
