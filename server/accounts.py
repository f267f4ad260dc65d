"""Employer accounts: organisations, their members and roles, passwords (Argon2id), an optional
TOTP second factor, sign-in sessions and scoped API tokens, and the ``Principal`` every employer
request acts as.

A bearer credential is ``egs_<id>_<secret>`` (a signed-in session) or ``egt_<id>_<secret>`` (an
API token): 256 random bits of secret, of which only the SHA-256 is stored (a slow hash adds
nothing to a secret that cannot be guessed; a password gets Argon2id). Every failure to
authenticate is one opaque 401.

Authorisation: ``principal.require(org_id, permission)`` answers 404 for an organisation the
principal is not part of (never saying that it exists) and 403 for one it is part of without
the permission.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, RowMapping, select

from server import audit, db, limits
from server.context import Context
from server.errors import ApiError, not_found
from server.invitations import new_id
from shared import canonical

ROLES = ("owner", "recruiter", "proctor", "viewer")

# What each role may do in its organisation.
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "owner": frozenset(
        {
            "organisation",
            "webhooks",
            "privacy",
            "members",
            "tokens",
            "audit",
            "assessments:read",
            "assessments:manage",
            "invitations:read",
            "invite",
            "results:read",
            "review",
            "proctor",
        }
    ),
    "recruiter": frozenset(
        {
            "assessments:read",
            "assessments:manage",
            "invitations:read",
            "invite",
            "results:read",
            "review",
        }
    ),
    "proctor": frozenset({"assessments:read", "invitations:read", "proctor"}),
    "viewer": frozenset({"assessments:read", "invitations:read", "results:read"}),
}

# What an API token of each scope may do (a token holds one or more scopes).
SCOPES: dict[str, frozenset[str]] = {
    "results:read": frozenset({"results:read", "assessments:read", "invitations:read"}),
    "invite": frozenset({"invite", "invitations:read", "assessments:read"}),
    "assessments:manage": frozenset({"assessments:manage", "assessments:read"}),
}

SESSION_HOURS = 12  # a session ends this long after sign-in, used or not
SESSION_IDLE_MS = 2 * 3600 * 1000  # ... or after two hours unused
TOUCH_EVERY_MS = 60_000  # last-seen and last-used times are kept to the minute
MIN_PASSWORD = 12
MAX_PASSWORD = 200
_EMAIL = re.compile(r"[^@\s,;<>]{1,64}@[^@\s,;<>]+\.[^@\s,;<>]{2,}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")
_CREDENTIAL = re.compile(r"(egs|egt)_([0-9a-f]{16})_([0-9a-f]{64})")

# Argon2id with the library's defaults (RFC 9106's second recommendation: t=3, 64 MiB, p=4).
_hasher = PasswordHasher()
# Checked against when the e-mail is unknown, so a sign-in takes as long either way.
_ABSENT_HASH = _hasher.hash(secrets.token_hex(16))

_UNAUTHENTICATED = ApiError(
    401, "unauthenticated", "Sign in again: the credential is missing, expired or revoked."
)


@dataclass(frozen=True)
class Principal:
    """Who an employer request acts as, and what it may do in which organisation."""

    actor: str  # "user:ID", "token:ID" or audit.OPERATOR
    address: str
    grants: Mapping[str, frozenset[str]] = field(default_factory=dict)
    user_id: str | None = None
    everywhere: bool = False  # the operator

    def can(self, organisation_id: str, permission: str) -> bool:
        if self.everywhere:
            return True
        return permission in self.grants.get(organisation_id, frozenset())

    def require(self, organisation_id: str, permission: str) -> None:
        if self.everywhere:
            return
        if organisation_id not in self.grants:
            raise not_found("organisation")
        if permission not in self.grants[organisation_id]:
            raise ApiError(
                403,
                "forbidden",
                "Your role in this organisation does not allow this; an owner can change it.",
            )


def operator(address: str = "local") -> Principal:
    """The operator at the server's shell: every permission in every organisation."""
    return Principal(actor=audit.OPERATOR, address=address, everywhere=True)


def digest(secret: str) -> str:
    """What is stored of a high-entropy secret (a credential, an e-mailed code): its SHA-256."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_slug(value: object, name: str) -> str:
    """A public handle: ``value``, or one made from ``name``; 3-64 lower-case letters, digits
    and dashes."""
    slug = value or re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:64]
    if not isinstance(slug, str) or not _SLUG.fullmatch(slug):
        raise ApiError(
            400, "bad_slug", "Give a handle of 3 to 64 lower-case letters, digits and dashes."
        )
    return slug


def normalise_email(value: object) -> str:
    if not isinstance(value, str) or not _EMAIL.fullmatch(value.strip()) or len(value) > 254:
        raise ApiError(400, "bad_email", "Give an e-mail address like name@example.com.")
    return value.strip().lower()


def check_name(value: object, what: str = "name") -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise ApiError(400, "bad_name", f"Give a {what} of 1 to 200 characters.")
    return " ".join(value.split())


def check_password(value: object) -> str:
    if not isinstance(value, str) or not MIN_PASSWORD <= len(value) <= MAX_PASSWORD:
        raise ApiError(
            400,
            "weak_password",
            f"Choose a password of {MIN_PASSWORD} to {MAX_PASSWORD} characters; a few unrelated "
            "words are easy to remember and hard to guess.",
        )
    return value


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


# --- organisations and members ------------------------------------------------------------


def create_organisation(
    ctx: Context, name: str, slug: str | None = None, actor: Principal | None = None
) -> dict[str, Any]:
    """A new organisation; ``slug`` is its public handle (letters, digits, dashes)."""
    name = check_name(name, "organisation name")
    slug = check_slug(slug, name)
    actor = actor or operator()
    now = ctx.now_ms()
    organisation_id = new_id(ctx)
    with ctx.engine.begin() as connection:
        taken = connection.execute(
            select(db.organisations.c.id).where(db.organisations.c.slug == slug)
        ).first()
        if taken is not None:
            raise ApiError(409, "slug_taken", f"The handle {slug!r} is taken: choose another.")
        connection.execute(
            db.organisations.insert().values(
                id=organisation_id, name=name, slug=slug, created_ms=now
            )
        )
        audit.record(
            connection, now, actor.actor, organisation_id, "organisation.create", organisation_id,
            actor.address, name=name, slug=slug,
        )  # fmt: skip
    return {"id": organisation_id, "name": name, "slug": slug, "created_ms": now}


def organisations(ctx: Context) -> list[dict[str, Any]]:
    """Every organisation (the operator's view)."""
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(db.organisations).order_by(db.organisations.c.name)
        ).mappings()
        return [dict(row) for row in rows]


def organisation_by_slug(connection: Connection, slug: str) -> RowMapping:
    row = (
        connection.execute(select(db.organisations).where(db.organisations.c.slug == slug))
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("organisation")
    return row


def organisation(ctx: Context, principal: Principal, organisation_id: str) -> dict[str, Any]:
    principal.require(organisation_id, "assessments:read")
    with ctx.reader.connect() as connection:
        row = (
            connection.execute(
                select(db.organisations).where(db.organisations.c.id == organisation_id)
            )
            .mappings()
            .first()
        )
    if row is None:
        raise not_found("organisation")
    return dict(row)


def _user_by_email(connection: Connection, email: str) -> RowMapping | None:
    return connection.execute(select(db.users).where(db.users.c.email == email)).mappings().first()


def add_member(
    ctx: Context,
    principal: Principal,
    organisation_id: str,
    email: str,
    role: str,
    name: str | None = None,
    password: str | None = None,
) -> dict[str, Any]:
    """Give ``email`` a role in the organisation, creating the user if new.

    A new user without a password gets an e-mail with a code to choose one (the password-reset
    path), so no password is ever sent or shown."""
    from server import mail  # mail builds on accounts' checks

    principal.require(organisation_id, "members")
    email = normalise_email(email)
    if role not in ROLES:
        raise ApiError(400, "bad_role", f"A role is one of: {', '.join(ROLES)}.")
    password_hash = hash_password(password) if password is not None else None
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        user = _user_by_email(connection, email)
        created = user is None
        if user is None:
            user_id = new_id(ctx)
            connection.execute(
                db.users.insert().values(
                    id=user_id,
                    email=email,
                    name=check_name(name or email.split("@")[0]),
                    # Unusable until a password is chosen: no Argon2 hash starts with "!".
                    password_hash=password_hash or "!",
                    created_ms=now,
                )
            )
        else:
            user_id = user["id"]
        existing = connection.execute(
            select(db.memberships.c.role).where(
                db.memberships.c.organisation_id == organisation_id,
                db.memberships.c.user_id == user_id,
            )
        ).scalar()
        if existing is None:
            connection.execute(
                db.memberships.insert().values(
                    organisation_id=organisation_id, user_id=user_id, role=role, created_ms=now
                )
            )
        else:
            _keep_an_owner(connection, organisation_id, user_id, role)
            connection.execute(
                db.memberships.update()
                .where(
                    db.memberships.c.organisation_id == organisation_id,
                    db.memberships.c.user_id == user_id,
                )
                .values(role=role)
            )
        audit.record(
            connection, now, principal.actor, organisation_id, "member.set", f"user:{user_id}",
            principal.address, role=role, created=created,
        )  # fmt: skip
        if created and password is None:
            mail.queue_password_code(ctx, connection, user_id, email, welcome=True)
    return {"user_id": user_id, "email": email, "role": role, "created": created}


def _keep_an_owner(connection: Connection, organisation_id: str, user_id: str, role: str) -> None:
    """Refuse a change that would leave the organisation with no owner."""
    owners = [
        row.user_id
        for row in connection.execute(
            select(db.memberships.c.user_id).where(
                db.memberships.c.organisation_id == organisation_id,
                db.memberships.c.role == "owner",
            )
        )
    ]
    if owners == [user_id] and role != "owner":
        raise ApiError(
            409,
            "last_owner",
            "An organisation needs an owner: make someone else owner first.",
        )


def remove_member(ctx: Context, principal: Principal, organisation_id: str, user_id: str) -> None:
    principal.require(organisation_id, "members")
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        _keep_an_owner(connection, organisation_id, user_id, "none")
        removed = connection.execute(
            db.memberships.delete().where(
                db.memberships.c.organisation_id == organisation_id,
                db.memberships.c.user_id == user_id,
            )
        ).rowcount
        if not removed:
            raise not_found("member")
        audit.record(
            connection, now, principal.actor, organisation_id, "member.remove", f"user:{user_id}",
            principal.address,
        )  # fmt: skip


def members(ctx: Context, principal: Principal, organisation_id: str) -> list[dict[str, Any]]:
    principal.require(organisation_id, "members")
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(
                db.users.c.id.label("user_id"),
                db.users.c.email,
                db.users.c.name,
                db.memberships.c.role,
                db.users.c.totp_secret.is_not(None).label("two_factor"),
            )
            .join(db.users, db.users.c.id == db.memberships.c.user_id)
            .where(db.memberships.c.organisation_id == organisation_id)
            .order_by(db.users.c.email)
        ).mappings()
        return [dict(row, two_factor=bool(row["two_factor"])) for row in rows]


def set_password(connection: Connection, user_id: str, password: str) -> None:
    connection.execute(
        db.users.update()
        .where(db.users.c.id == user_id)
        .values(password_hash=hash_password(password))
    )
    # A new password ends every session: whoever knew the old one is signed out.
    connection.execute(db.user_sessions.delete().where(db.user_sessions.c.user_id == user_id))


# --- signing in ---------------------------------------------------------------------------


def _password_matches(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _totp_step(ctx: Context) -> int:
    return ctx.now_ms() // 1000 // 30


def _totp_accepts(secret: str, code: str, step: int, last_step: int | None) -> int | None:
    """The step ``code`` belongs to (now, or one step either side for a slow clock), if it
    has not been used already; else None. A code works once."""
    totp = pyotp.TOTP(secret)
    for candidate in (step, step - 1, step + 1):
        if last_step is not None and candidate <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(candidate), code.strip().replace(" ", "")):
            return candidate
    return None


def sign_in(
    ctx: Context, email: object, password: object, totp: object, address: str
) -> dict[str, Any]:
    """A session for the user, if the password (and the current TOTP code, when enabled) match."""
    limits.hit(ctx, "sign_in", address)
    if not isinstance(email, str) or not isinstance(password, str) or len(password) > 1000:
        raise ApiError(400, "malformed", "Give an e-mail address and a password.")
    email = email.strip().lower()[:254]
    limits.refuse_if_over(ctx, "sign_in_failed", email)
    refused = ApiError(401, "wrong_credentials", "The e-mail address or the password is wrong.")
    with ctx.reader.connect() as connection:
        user = _user_by_email(connection, email)
    if user is None or user["disabled_ms"] is not None:
        _password_matches(_ABSENT_HASH, password)
        limits.hit(ctx, "sign_in_failed", email)
        raise refused
    if not _password_matches(user["password_hash"], password):
        limits.hit(ctx, "sign_in_failed", email)
        raise refused
    return _second_factor_and_session(ctx, user, totp, address, password)


def sign_in_second_step(ctx: Context, email: str, totp: object, address: str) -> dict[str, Any]:
    """A session for a user whose password the caller checked moments ago (the dashboard's
    second page, after ``totp_required``): the TOTP code is checked as in ``sign_in``."""
    limits.hit(ctx, "sign_in", address)
    limits.refuse_if_over(ctx, "sign_in_failed", email)
    with ctx.reader.connect() as connection:
        user = _user_by_email(connection, email)
    if user is None or user["disabled_ms"] is not None:
        raise ApiError(401, "wrong_credentials", "Sign in again from the start.")
    return _second_factor_and_session(ctx, user, totp, address, None)


def _second_factor_and_session(
    ctx: Context, user: Any, totp: object, address: str, password: str | None
) -> dict[str, Any]:
    email = user["email"]
    step = None
    if user["totp_secret"]:
        if not isinstance(totp, str) or not totp.strip():
            raise ApiError(
                401,
                "totp_required",
                "Enter the six-digit code from your authenticator app as well.",
            )
        step = _totp_accepts(user["totp_secret"], totp, _totp_step(ctx), user["totp_last_step"])
        if step is None:
            limits.hit(ctx, "sign_in_failed", email)
            raise ApiError(
                401,
                "wrong_totp",
                "That code is wrong or already used: wait for the next one and enter it.",
            )
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        if step is not None:
            used = connection.execute(  # a code works once, even for two sign-ins at once
                db.users.update()
                .where(
                    db.users.c.id == user["id"],
                    (db.users.c.totp_last_step.is_(None)) | (db.users.c.totp_last_step < step),
                )
                .values(totp_last_step=step)
            ).rowcount
            if not used:
                raise ApiError(
                    401,
                    "wrong_totp",
                    "That code is wrong or already used: wait for the next one and enter it.",
                )
        if password is not None and _hasher.check_needs_rehash(user["password_hash"]):
            connection.execute(
                db.users.update()
                .where(db.users.c.id == user["id"])
                .values(password_hash=_hasher.hash(password))
            )
        session_id = new_id(ctx)
        secret = secrets.token_hex(32)
        expires = now + SESSION_HOURS * 3600 * 1000
        connection.execute(
            db.user_sessions.insert().values(
                id=session_id,
                user_id=user["id"],
                secret_sha256=digest(secret),
                created_ms=now,
                expires_ms=expires,
                last_seen_ms=now,
                address=address[:64],
            )
        )
        record_for_user(connection, now, user["id"], "user.sign_in", address)
    return {
        "token": f"egs_{session_id}_{secret}",
        "expires_ms": expires,
        "user": {"id": user["id"], "email": user["email"], "name": user["name"]},
    }


def record_for_user(
    connection: Connection, now_ms: int, user_id: str, action: str, address: str
) -> None:
    """Audit an action of a user on their own account in each of their organisations' logs."""
    for row in connection.execute(
        select(db.memberships.c.organisation_id).where(db.memberships.c.user_id == user_id)
    ):
        audit.record(
            connection, now_ms, f"user:{user_id}", row.organisation_id, action, f"user:{user_id}",
            address,
        )  # fmt: skip


def sign_out(ctx: Context, principal: Principal, session_id: str) -> None:
    with ctx.engine.begin() as connection:
        connection.execute(db.user_sessions.delete().where(db.user_sessions.c.id == session_id))


def authenticate(ctx: Context, authorization: str, address: str) -> tuple[Principal, str]:
    """The principal of a ``Bearer`` credential, and the session or token id; else 401."""
    scheme, _, credential = authorization.partition(" ")
    match = _CREDENTIAL.fullmatch(credential.strip()) if scheme.lower() == "bearer" else None
    if match is None:
        raise _UNAUTHENTICATED
    return credential_principal(ctx, match.group(1), match.group(2), match.group(3), address)


def credential_principal(
    ctx: Context, kind: str, credential_id: str, secret: str, address: str
) -> tuple[Principal, str]:
    now = ctx.now_ms()
    table = db.user_sessions if kind == "egs" else db.api_tokens
    with ctx.reader.connect() as connection:
        row = (
            connection.execute(select(table).where(table.c.id == credential_id)).mappings().first()
        )
        if row is None or not hmac.compare_digest(row["secret_sha256"], digest(secret)):
            raise _UNAUTHENTICATED
        if kind == "egs":
            if row["expires_ms"] < now or row["last_seen_ms"] + SESSION_IDLE_MS < now:
                raise _UNAUTHENTICATED
            disabled = connection.execute(
                select(db.users.c.disabled_ms).where(db.users.c.id == row["user_id"])
            ).scalar()
            if disabled is not None:
                raise _UNAUTHENTICATED
            grants = {
                m.organisation_id: ROLE_PERMISSIONS[m.role]
                for m in connection.execute(
                    select(db.memberships).where(db.memberships.c.user_id == row["user_id"])
                )
            }
            principal = Principal(f"user:{row['user_id']}", address, grants, row["user_id"])
            touched = row["last_seen_ms"]
        else:
            if row["revoked_ms"] is not None:
                raise _UNAUTHENTICATED
            allowed = frozenset().union(*(SCOPES[s] for s in canonical.loads(row["scopes"])))
            principal = Principal(f"token:{row['id']}", address, {row["organisation_id"]: allowed})
            touched = row["last_used_ms"] or 0
    if now - touched >= TOUCH_EVERY_MS:
        column = "last_seen_ms" if kind == "egs" else "last_used_ms"
        with db.begin_light(ctx.engine) as connection:
            connection.execute(
                table.update().where(table.c.id == credential_id).values({column: now})
            )
    return principal, credential_id


def me(ctx: Context, principal: Principal) -> dict[str, Any]:
    if principal.user_id is None:
        raise ApiError(403, "forbidden", "An API token has no user: sign in as a person for this.")
    with ctx.reader.connect() as connection:
        user = (
            connection.execute(select(db.users).where(db.users.c.id == principal.user_id))
            .mappings()
            .one()
        )
        rows = connection.execute(
            select(db.organisations.c.id, db.organisations.c.name, db.organisations.c.slug,
                   db.memberships.c.role)
            .join(db.memberships, db.memberships.c.organisation_id == db.organisations.c.id)
            .where(db.memberships.c.user_id == principal.user_id)
            .order_by(db.organisations.c.name)
        ).mappings()  # fmt: skip
        organisations = [dict(row) for row in rows]
    return {
        "id": user["id"],
        "email": user["email"],
        "name": user["name"],
        "two_factor": user["totp_secret"] is not None,
        "organisations": organisations,
    }


# --- second factor ------------------------------------------------------------------------


def offer_totp(ctx: Context, principal: Principal) -> dict[str, str]:
    """A new TOTP secret for the signed-in user, active once confirmed with a code from it."""
    if principal.user_id is None:
        raise ApiError(403, "forbidden", "An API token has no user: sign in as a person for this.")
    secret = pyotp.random_base32()
    with ctx.engine.begin() as connection:
        email = connection.execute(
            select(db.users.c.email).where(db.users.c.id == principal.user_id)
        ).scalar_one()
        connection.execute(
            db.users.update().where(db.users.c.id == principal.user_id).values(totp_pending=secret)
        )
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name="examgate")
    return {"secret": secret, "otpauth_uri": uri}


def confirm_totp(ctx: Context, principal: Principal, code: object) -> None:
    if principal.user_id is None or not isinstance(code, str):
        raise ApiError(400, "malformed", "Give the six-digit code your authenticator app shows.")
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        user = (
            connection.execute(select(db.users).where(db.users.c.id == principal.user_id))
            .mappings()
            .one()
        )
        if not user["totp_pending"]:
            raise ApiError(409, "no_totp_offer", "Ask for a new authenticator secret first.")
        step = _totp_accepts(user["totp_pending"], code, _totp_step(ctx), None)
        if step is None:
            raise ApiError(
                400, "wrong_totp", "That code does not match: check the app's clock and retry."
            )
        connection.execute(
            db.users.update()
            .where(db.users.c.id == principal.user_id)
            .values(totp_secret=user["totp_pending"], totp_pending=None, totp_last_step=step)
        )
        record_for_user(connection, now, principal.user_id, "user.totp_enabled", principal.address)


# --- API tokens ---------------------------------------------------------------------------


def create_token(
    ctx: Context, principal: Principal, organisation_id: str, name: object, scopes: object
) -> dict[str, Any]:
    """A new API token; its secret is in this answer only."""
    principal.require(organisation_id, "tokens")
    name = check_name(name, "token name")
    if (
        not isinstance(scopes, list)
        or not scopes
        or any(not isinstance(s, str) or s not in SCOPES for s in scopes)
    ):
        raise ApiError(400, "bad_scopes", f"Give one or more scopes of: {', '.join(SCOPES)}.")
    chosen = sorted(set(scopes))
    token_id = new_id(ctx)
    secret = secrets.token_hex(32)
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        connection.execute(
            db.api_tokens.insert().values(
                id=token_id,
                organisation_id=organisation_id,
                name=name,
                scopes=canonical.to_text(chosen),
                secret_sha256=digest(secret),
                created_ms=now,
                created_by=principal.actor,
            )
        )
        audit.record(
            connection, now, principal.actor, organisation_id, "token.create", f"token:{token_id}",
            principal.address, name=name, scopes=chosen,
        )  # fmt: skip
    return {
        "id": token_id,
        "name": name,
        "scopes": chosen,
        "created_ms": now,
        "token": f"egt_{token_id}_{secret}",
    }


def tokens(ctx: Context, principal: Principal, organisation_id: str) -> list[dict[str, Any]]:
    principal.require(organisation_id, "tokens")
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(
                db.api_tokens.c.id, db.api_tokens.c.name, db.api_tokens.c.scopes,
                db.api_tokens.c.created_ms, db.api_tokens.c.created_by,
                db.api_tokens.c.last_used_ms, db.api_tokens.c.revoked_ms,
            )
            .where(db.api_tokens.c.organisation_id == organisation_id)
            .order_by(db.api_tokens.c.created_ms)
        ).mappings()  # fmt: skip
        return [dict(row, scopes=canonical.loads(row["scopes"])) for row in rows]


def revoke_token(ctx: Context, principal: Principal, organisation_id: str, token_id: str) -> None:
    principal.require(organisation_id, "tokens")
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        changed = connection.execute(
            db.api_tokens.update()
            .where(
                db.api_tokens.c.id == token_id,
                db.api_tokens.c.organisation_id == organisation_id,
                db.api_tokens.c.revoked_ms.is_(None),
            )
            .values(revoked_ms=now)
        ).rowcount
        if not changed:
            raise not_found("token")
        audit.record(
            connection, now, principal.actor, organisation_id, "token.revoke", f"token:{token_id}",
            principal.address,
        )  # fmt: skip
