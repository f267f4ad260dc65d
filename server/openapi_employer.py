"""The employer part of the OpenAPI document: sign-in, organisations, members, tokens,
assessments, invitations and rosters, proctor routes, results under consent, reviews,
webhooks, retention and data rights, self-registration, and the Greenhouse-shaped ATS routes.

Every route but sign-in, password codes and self-registration takes ``Authorization: Bearer``
(a session from ``POST /sessions`` or an API token); the ATS routes take HTTP Basic with an
API token as the user name. Response schemas name the fields a caller may rely on; an answer
may carry more."""

from __future__ import annotations

from typing import Any

JSON = "application/json"
_STR = {"type": "string"}
_MS = {"type": "integer", "minimum": 0}
_ID = {"type": "string", "minLength": 1, "maxLength": 64}
_NULL_MS = {"type": ["integer", "null"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _shape(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or []}


def _items(schema: dict[str, Any]) -> dict[str, Any]:
    return _shape({"items": {"type": "array", "items": schema}}, ["items"])


SCHEMAS: dict[str, Any] = {
    "SignIn": _shape(
        {"email": {"type": "string", "maxLength": 254}, "password": _STR, "totp": _STR},
        ["email", "password"],
    ),
    "Session": _shape(
        {"token": _STR, "expires_ms": _MS, "user": {"type": "object"}}, ["token", "expires_ms"]
    ),
    "Message": _shape({"message": _STR}, ["message"]),
    "Me": _shape(
        {
            "id": _STR,
            "email": _STR,
            "name": _STR,
            "two_factor": {"type": "boolean"},
            "organisations": {"type": "array"},
        },
        ["id", "email", "organisations"],
    ),
    "TotpOffer": _shape({"secret": _STR, "otpauth_uri": _STR}, ["secret", "otpauth_uri"]),
    "Organisation": _shape(
        {"id": _STR, "name": _STR, "slug": _STR, "retention_days": {"type": ["integer", "null"]}},
        ["id", "name"],
    ),
    "Member": _shape(
        {"user_id": _STR, "email": _STR, "name": _STR, "role": _STR}, ["user_id", "role"]
    ),
    "NewMember": _shape(
        {
            "email": _STR,
            "role": {"enum": ["owner", "recruiter", "proctor", "viewer"]},
            "name": _STR,
        },
        ["email", "role"],
    ),
    "Token": _shape(
        {
            "id": _STR,
            "name": _STR,
            "scopes": {"type": "array", "items": _STR},
            "created_ms": _MS,
            "last_used_ms": _NULL_MS,
            "revoked_ms": _NULL_MS,
            "token": {"type": "string", "description": "Shown once, when created"},
        },
        ["id", "name", "scopes"],
    ),
    "NewToken": _shape(
        {
            "name": _STR,
            "scopes": {
                "type": "array",
                "items": {"enum": ["results:read", "invite", "assessments:manage"]},
            },
        },
        ["name", "scopes"],
    ),
    "AuditEntry": _shape(
        {
            "id": {"type": "integer"},
            "at_ms": _MS,
            "actor": _STR,
            "action": _STR,
            "object": _STR,
            "details": {"type": "object"},
            "address": _STR,
        },
        ["id", "at_ms", "actor", "action", "object"],
    ),
    "Email": _shape(
        {"id": _STR, "kind": _STR, "recipient": _STR, "state": _STR, "created_ms": _MS}, ["id"]
    ),
    "Preset": _shape({"name": _STR, "description": _STR}, ["name"]),
    "Assessment": _shape(
        {
            "id": _STR,
            "slug": _STR,
            "title": _STR,
            "status": {"enum": ["draft", "published", "retired"]},
            "duration_s": _MS,
            "supervised": {"type": "boolean"},
            "self_registration": {"type": "boolean"},
            "policy": {"type": "object"},
        },
        ["id", "title", "status"],
    ),
    "NewAssessment": _shape(
        {
            "title": {"type": "string", "maxLength": 200},
            "per_category": {"type": "object", "additionalProperties": {"type": "integer"}},
            "duration_s": {"type": "integer", "minimum": 60, "maximum": 14400},
            "policy": {"oneOf": [{"enum": ["strict", "moderate", "open"]}, {"type": "object"}]},
            "supervised": {"type": "boolean"},
            "sync_deadline_days": {"type": "integer"},
            "item_feedback": {"type": "boolean"},
            "adaptive": {"type": "boolean"},
            "self_registration": {"type": "boolean"},
            "slug": _STR,
        },
        ["title"],
    ),
    "NewInvitation": _shape(
        {
            "assessment_id": _STR,
            "name": _STR,
            "email": _STR,
            "extra_time": {"type": "integer"},
            "mode": {"enum": ["online", "supervised"]},
            "opens": _STR,
            "closes": _STR,
            "send_email": {"type": "boolean"},
        },
        ["assessment_id", "name"],
    ),
    "Invitation": _shape(
        {
            "sitting_id": _STR,
            "invitation": _STR,
            "candidate": _STR,
            "email": {},
            "emailed": {"type": "boolean"},
            "status": _STR,
        },
        ["sitting_id"],
    ),
    "RosterImport": _shape(
        {"created": {"type": "array"}, "valid": {"type": "array"}, "errors": {"type": "array"}}
    ),
    "UnlockCode": _shape({"unlock_code": _STR}, ["unlock_code"]),
    "ProctorCode": _shape({"challenge": _STR, "response": _STR}, ["response"]),
    "ExtraTime": _shape(
        {"minutes": {"type": "integer", "minimum": 0, "maximum": 240}}, ["minutes"]
    ),
    "ResultRow": _shape(
        {
            "result_id": _STR,
            "sitting_id": _STR,
            "assessment_id": _STR,
            "assessment": _STR,
            "candidate_name": _STR,
            "candidate_email": {"type": ["string", "null"]},
            "completed_ms": _MS,
            "shared": {"type": "boolean"},
            "overall": {"type": "string", "description": "Only while shared"},
            "confidence": {"type": ["number", "null"]},
            "categories": {"type": "object", "additionalProperties": _STR},
            "integrity": {"enum": ["clean", "flagged", "voided"]},
            "review": {"enum": ["unreviewed", "cleared", "voided"]},
        },
        ["result_id", "sitting_id", "completed_ms", "shared"],
    ),
    "ResultPage": _shape(
        {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/ResultRow"}},
            "next_offset": {"type": ["integer", "null"]},
        },
        ["items", "next_offset"],
    ),
    "ResultDetail": {
        "allOf": [
            {"$ref": "#/components/schemas/ResultRow"},
            _shape(
                {
                    "category_details": {"type": "array"},
                    "skills": {"type": "array"},
                    "study_plan": {"type": "array"},
                    "integrity_record": {"type": "object"},
                    "timeline": {
                        "type": "array",
                        "items": _shape(
                            {
                                "seq": {"type": "integer"},
                                "type": _STR,
                                "elapsed_ms": _MS,
                                "at_ms": _MS,
                                "data": {"type": "object"},
                            },
                            ["type", "elapsed_ms"],
                        ),
                    },
                    "verification_code": _STR,
                },
            ),
        ]
    },
    "Review": _shape(
        {
            "decision": {"enum": ["clear", "void"]},
            "note": {"type": "string", "minLength": 3, "maxLength": 2000},
        },
        ["decision", "note"],
    ),
    "Reviewed": _shape(
        {"result_id": _STR, "review": {"enum": ["cleared", "voided"]}, "reviewed_ms": _MS},
        ["result_id", "review"],
    ),
    "Webhook": _shape(
        {
            "id": _STR,
            "url": _STR,
            "events": {"type": "array", "items": _STR},
            "created_ms": _MS,
            "disabled_ms": _NULL_MS,
            "secret": {"type": "string", "description": "Shown once, when created"},
        },
        ["id", "url", "events"],
    ),
    "NewWebhook": _shape(
        {
            "url": {"type": "string", "format": "uri"},
            "events": {
                "type": "array",
                "items": {
                    "enum": [
                        "result.scored",
                        "result.flagged",
                        "sitting.started",
                        "consent.changed",
                    ]
                },
            },
        },
        ["url"],
    ),
    "Delivery": _shape(
        {
            "id": _STR,
            "event": _STR,
            "state": {"enum": ["pending", "delivered", "failed"]},
            "attempts": {"type": "integer"},
            "history": {
                "type": "array",
                "items": _shape(
                    {
                        "at_ms": _MS,
                        "status": {"type": ["integer", "null"]},
                        "error": {"type": ["string", "null"]},
                        "elapsed_ms": _MS,
                    }
                ),
            },
            "body": {"type": "object"},
        },
        ["id", "event", "state", "attempts", "history"],
    ),
    "Retention": _shape(
        {"days": {"type": ["integer", "null"], "minimum": 1, "maximum": 3650}}, ["days"]
    ),
    "RetentionSet": _shape({"retention_days": {"type": ["integer", "null"]}}, ["retention_days"]),
    "CandidateEmail": _shape({"email": _STR}, ["email"]),
    "CandidateData": _shape(
        {
            "email": _STR,
            "exported_ms": _MS,
            "sittings": {"type": "array"},
            "emails": {"type": "array"},
        },
        ["email", "sittings", "emails"],
    ),
    "Erased": _shape(
        {"erased": {"type": "integer"}, "sittings": {"type": "array", "items": _STR}},
        ["erased"],
    ),
    "Registration": _shape({"name": _STR, "email": _STR}, ["name", "email"]),
    "RegistrationConfirm": _shape({"email": _STR, "code": _STR}, ["email", "code"]),
    "PasswordCode": _shape({"email": _STR}, ["email"]),
    "PasswordChoice": _shape({"code": _STR, "password": _STR}, ["code", "password"]),
    "Share": _shape(
        {"organisation": _STR, "name": _STR, "active": {"type": "boolean"}},
        ["organisation", "active"],
    ),
    "NewShare": _shape({"organisation": _STR}, ["organisation"]),
    "PartnerTests": {
        "type": "array",
        "items": _shape(
            {"partner_test_id": _STR, "partner_test_name": _STR},
            ["partner_test_id", "partner_test_name"],
        ),
    },
    "SendTest": _shape(
        {
            "partner_test_id": _STR,
            "url": _STR,
            "candidate": _shape({"first_name": _STR, "last_name": _STR, "email": _STR}, ["email"]),
        },
        ["partner_test_id", "candidate"],
    ),
    "SentTest": _shape({"partner_interview_id": _STR}, ["partner_interview_id"]),
    "TestStatus": _shape(
        {
            "partner_status": {
                "enum": ["pending", "in_progress", "complete", "expired", "cancelled"]
            },
            "partner_score": {"type": "number"},
            "partner_profile_url": _STR,
            "metadata": {"type": "object"},
        },
        ["partner_status"],
    ),
}

_CODES = {
    "BadRequest": "400",
    "Unauthenticated": "401",
    "Forbidden": "403",
    "NotFound": "404",
    "Conflict": "409",
    "Gone": "410",
    "TooLarge": "413",
    "Unprocessable": "422",
    "TooMany": "429",
}
RESPONSES = {
    "Gone": {
        "description": "Voided, erased or otherwise no longer available",
        "content": {JSON: {"schema": _ref("Error")}},
    }
}
_ALWAYS = ("BadRequest", "Unauthenticated", "Forbidden", "NotFound", "TooLarge", "TooMany")
_PUBLIC = ("BadRequest", "TooLarge", "TooMany")
_BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
_BASIC: list[dict[str, list[str]]] = [{"basic": []}]


def _op(
    operation_id: str,
    summary: str,
    ok: dict[str, Any],
    *,
    body: str | None = None,
    errors: tuple[str, ...] = (),
    security: list[dict[str, list[str]]] | None = _BEARER,
    query: list[dict[str, Any]] | None = None,
    always: tuple[str, ...] = _ALWAYS,
    media: str = JSON,
) -> dict[str, Any]:
    responses = dict(ok)
    for name in (*always, *errors):
        responses[_CODES[name]] = {"$ref": f"#/components/responses/{name}"}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": ["employers"],
        "responses": responses,
        "security": security or [],
    }
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {media: {"schema": _ref(body)}}}
    if query:
        operation["parameters"] = query
    return operation


def _json(status: str, schema: str | dict[str, Any], description: str) -> dict[str, Any]:
    body = _ref(schema) if isinstance(schema, str) else schema
    return {status: {"description": description, "content": {JSON: {"schema": body}}}}


_NONE = {"204": {"description": "Done"}}


def _q(name: str, schema: dict[str, Any], description: str, required: bool = False) -> Any:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _p(*names: str) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": _ID, "description": name}
        for name in names
    ]


_FILTERS = [
    _q("assessment_id", _STR, "Only this assessment"),
    _q("level", {"enum": ["beginning", "developing", "accomplished"]}, "Overall level (shared)"),
    _q("integrity", {"enum": ["clean", "flagged", "voided"]}, "Integrity outcome (shared)"),
    _q("review", {"enum": ["unreviewed", "cleared", "voided"]}, "Review state (shared)"),
    _q("shared", {"enum": ["true", "false"]}, "Shared with the organisation or not"),
    _q("from", _STR, "Completed at or after (ISO 8601)"),
    _q("to", _STR, "Completed before (ISO 8601)"),
]


def paths() -> dict[str, Any]:
    org = "/orgs/{org_id}"
    return {
        "/sessions": {"post": _op(
            "signIn", "Sign in with a password (and a TOTP code where enabled)",
            _json("201", "Session", "A session credential (12 hours, 2 hours idle)"),
            body="SignIn", errors=("Unauthenticated",), security=None, always=_PUBLIC)},
        "/sessions/current": {"delete": _op("signOut", "End this session", _NONE)},
        "/password/code": {"post": _op(
            "passwordCode", "E-mail a code to choose a password (same answer for any address)",
            _json("202", "Message", "Sent if the address has an account"),
            body="PasswordCode", security=None, always=_PUBLIC)},
        "/password/choose": {"post": _op(
            "passwordChoose", "Choose a password with an e-mailed code", _NONE,
            body="PasswordChoice", errors=("Unauthenticated",), security=None, always=_PUBLIC)},
        "/self-registration/{slug}/code": {"post": {
            **_op("registrationCode", "E-mail a code proving the candidate's address",
                  _json("202", "Message", "Sent"), body="Registration",
                  errors=("NotFound",), security=None, always=_PUBLIC),
            "parameters": _p("slug")}},
        "/self-registration/{slug}/confirm": {"post": {
            **_op("registrationConfirm",
                  "Confirm the code: an invitation (3 attempts in 90 days)",
                  _json("201", "Invitation", "The invitation to enrol with"),
                  body="RegistrationConfirm", errors=("NotFound", "Conflict"), security=None,
                  always=_PUBLIC),
            "parameters": _p("slug")}},
        "/me": {"get": _op("me", "Who is signed in, and their organisations",
                           _json("200", "Me", "The user"))},
        "/me/totp": {"post": _op("offerTotp", "Offer a TOTP second factor to confirm",
                                 _json("201", "TotpOffer", "The secret"), errors=("Conflict",))},
        "/me/totp/confirm": {"post": _op("confirmTotp", "Confirm TOTP with a first code",
                                         _NONE, body="SignIn", errors=("Conflict",))},
        "/policy-presets": {"get": _op("policyPresets", "The integrity policy presets in words",
                                       _json("200", _items(_ref("Preset")), "The presets"))},
        org: {"get": _op("organisation", "The organisation",
                         _json("200", "Organisation", "It")), "parameters": _p("org_id")},
        f"{org}/members": {
            "get": _op("members", "Members and roles", _json("200", _items(_ref("Member")), "")),
            "post": _op("addMember", "Add a member (a new user gets an e-mail to choose a "
                        "password)", _json("201", "Member", "Added"), body="NewMember",
                        errors=("Conflict",)),
            "parameters": _p("org_id")},
        f"{org}/members/{{user_id}}": {
            "delete": _op("removeMember", "Remove a member (never the last owner)", _NONE,
                          errors=("Conflict",)),
            "parameters": _p("org_id", "user_id")},
        f"{org}/tokens": {
            "get": _op("tokens", "API tokens (never their secrets)",
                       _json("200", _items(_ref("Token")), "")),
            "post": _op("createToken", "A scoped API token, shown once",
                        _json("201", "Token", "Created"), body="NewToken"),
            "parameters": _p("org_id")},
        f"{org}/tokens/{{token_id}}": {
            "delete": _op("revokeToken", "Revoke a token", _NONE),
            "parameters": _p("org_id", "token_id")},
        f"{org}/audit": {
            "get": _op("audit", "The audit log, oldest first, 200 at a time",
                       _json("200", _items(_ref("AuditEntry")), ""),
                       query=[_q("after", {"type": "string", "pattern": "^[0-9]{1,18}$"},
                                 "The last id already read")]),
            "parameters": _p("org_id")},
        f"{org}/audit.csv": {
            "get": _op("auditCsv", "The whole audit log as CSV",
                       {"200": {"description": "CSV", "content": {"text/csv": {"schema": _STR}}}}),
            "parameters": _p("org_id")},
        f"{org}/emails": {
            "get": _op("emails", "E-mail sent for the organisation",
                       _json("200", _items(_ref("Email")), "")),
            "parameters": _p("org_id")},
        f"{org}/assessments": {
            "get": _op("assessments", "Assessments",
                       _json("200", _items(_ref("Assessment")), "")),
            "post": _op("createAssessment", "A draft assessment from the bank's blueprint",
                        _json("201", "Assessment", "Created"), body="NewAssessment",
                        errors=("Conflict",)),
            "parameters": _p("org_id")},
        f"{org}/assessments/{{assessment_id}}": {
            "get": _op("assessment", "One assessment", _json("200", "Assessment", "")),
            "parameters": _p("org_id", "assessment_id")},
        f"{org}/assessments/{{assessment_id}}/publish": {
            "post": _op("publish", "Publish a draft", _json("200", "Assessment", ""),
                        errors=("Conflict",)),
            "parameters": _p("org_id", "assessment_id")},
        f"{org}/assessments/{{assessment_id}}/retire": {
            "post": _op("retire", "Retire a published assessment",
                        _json("200", "Assessment", ""), errors=("Conflict",)),
            "parameters": _p("org_id", "assessment_id")},
        f"{org}/assessments/{{assessment_id}}/roster": {
            "post": _op("importRoster", "Invitations from a CSV roster: every line checked, "
                        "nothing written if any is wrong",
                        {**_json("201", "RosterImport", "Imported"),
                         **_json("200", "RosterImport", "Checked (dry run)")},
                        body="CsvText", media="text/csv", errors=("Conflict", "Unprocessable"),
                        query=[_q("dry_run", {"enum": ["true", "false"]}, "Check only"),
                               _q("send_email", {"enum": ["true", "false"]}, "E-mail codes")]),
            "parameters": _p("org_id", "assessment_id")},
        f"{org}/invitations": {
            "get": _op("invitations", "Invitations and where each stands",
                       _json("200", _items(_ref("Invitation")), ""),
                       query=[_q("assessment_id", _STR, "Only this assessment")]),
            "post": _op("invite", "Invite one candidate", _json("201", "Invitation", ""),
                        body="NewInvitation", errors=("Conflict",)),
            "parameters": _p("org_id")},
        f"{org}/invitations/{{sitting_id}}/resend": {
            "post": _op("resend", "Send again with a new code", _json("200", "Invitation", ""),
                        errors=("Conflict",)),
            "parameters": _p("org_id", "sitting_id")},
        f"{org}/invitations/{{sitting_id}}": {
            "delete": _op("revokeInvitation", "Revoke an invitation not yet sat", _NONE,
                          errors=("Conflict",)),
            "parameters": _p("org_id", "sitting_id")},
        f"{org}/sittings/{{sitting_id}}/unlock-code": {
            "get": _op("unlockCode", "The unlock code a proctor reads out",
                       _json("200", "UnlockCode", ""), errors=("Conflict",)),
            "parameters": _p("org_id", "sitting_id")},
        f"{org}/sittings/{{sitting_id}}/proctor-code": {
            "post": _op("proctorCode", "The response to a locked screen's challenge",
                        _json("200", "ProctorCode", ""), body="ProctorCode"),
            "parameters": _p("org_id", "sitting_id")},
        f"{org}/sittings/{{sitting_id}}/extra-time": {
            "put": _op("extraTime", "Extra time, before the package is downloaded",
                       _json("200", {"type": "object"}, ""), body="ExtraTime",
                       errors=("Conflict",)),
            "parameters": _p("org_id", "sitting_id")},
        f"{org}/results": {
            "get": _op("results", "Results, newest first; content only where shared",
                       _json("200", "ResultPage", ""),
                       query=[*_FILTERS, _q("limit", {"type": "string", "pattern": "^[0-9]{1,6}$"},
                                            "At most 1000"),
                              _q("offset", {"type": "string", "pattern": "^[0-9]{1,9}$"},
                                 "Skip this many")]),
            "parameters": _p("org_id")},
        f"{org}/results.csv": {
            "get": _op("resultsCsv", "The filtered results as CSV (formulas neutralised)",
                       {"200": {"description": "CSV", "content": {"text/csv": {"schema": _STR}}}},
                       query=_FILTERS),
            "parameters": _p("org_id")},
        f"{org}/results/{{result_id}}": {
            "get": _op("result", "One result, with its integrity timeline where shared",
                       _json("200", "ResultDetail", "")),
            "parameters": _p("org_id", "result_id")},
        f"{org}/results/{{result_id}}/certificate": {
            "get": _op("resultCertificate", "The certificate's PDF (while shared, not voided)",
                       {"200": {"description": "PDF",
                                "content": {"application/pdf": {"schema": _STR}}}},
                       errors=("Conflict", "Gone")),
            "parameters": _p("org_id", "result_id")},
        f"{org}/results/{{result_id}}/review": {
            "post": _op("review", "Clear (with a note) or void (with a reason) a flagged "
                        "result; a void revokes the certificate",
                        _json("200", "Reviewed", ""), body="Review", errors=("Conflict",)),
            "parameters": _p("org_id", "result_id")},
        f"{org}/webhooks": {
            "get": _op("webhooks", "Webhook endpoints", _json("200", _items(_ref("Webhook")), "")),
            "post": _op("createWebhook", "An endpoint, with its signing secret shown once",
                        _json("201", "Webhook", ""), body="NewWebhook", errors=("Conflict",)),
            "parameters": _p("org_id")},
        f"{org}/webhooks/{{webhook_id}}": {
            "delete": _op("disableWebhook", "Stop sending to an endpoint", _NONE),
            "parameters": _p("org_id", "webhook_id")},
        f"{org}/webhooks/{{webhook_id}}/deliveries": {
            "get": _op("deliveries", "The endpoint's delivery log, each attempt with its status",
                       _json("200", _items(_ref("Delivery")), "")),
            "parameters": _p("org_id", "webhook_id")},
        f"{org}/retention": {
            "put": _op("retention", "Days personal data is kept after a sitting (null: until "
                       "erased on request)", _json("200", "RetentionSet", ""), body="Retention"),
            "parameters": _p("org_id")},
        f"{org}/candidates/export": {
            "get": _op("candidateExport", "Everything held about a candidate, as JSON",
                       _json("200", "CandidateData", ""),
                       query=[_q("email", _STR, "The candidate's e-mail", required=True)]),
            "parameters": _p("org_id")},
        f"{org}/candidates/erase": {
            "post": _op("candidateErase", "Erase a candidate's personal data (responses kept "
                        "anonymous for item statistics)", _json("200", "Erased", ""),
                        body="CandidateEmail"),
            "parameters": _p("org_id")},
        "/ats/greenhouse/list_tests": {"get": _op(
            "atsListTests", "Greenhouse: the published assessments",
            _json("200", "PartnerTests", ""), security=_BASIC)},
        "/ats/greenhouse/send_test": {"post": _op(
            "atsSendTest", "Greenhouse: invite a candidate (e-mailed); optional callback url",
            _json("200", "SentTest", ""), body="SendTest", security=_BASIC,
            errors=("Conflict",))},
        "/ats/greenhouse/test_status": {"get": _op(
            "atsTestStatus", "Greenhouse: where the sitting stands, and the result if shared",
            _json("200", "TestStatus", ""), security=_BASIC,
            query=[_q("partner_interview_id", _STR, "From send_test", required=True)])},
    }  # fmt: skip


SCHEMAS["CsvText"] = {"type": "string", "maxLength": 2_000_000}

SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A session (egs_...) from POST /sessions, or an API token (egt_...)",
    },
    "basic": {
        "type": "http",
        "scheme": "basic",
        "description": "An API token as the user name, no password (the ATS routes)",
    },
}
