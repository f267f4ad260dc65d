"""An organisation's assessments: built from the bank's blueprint (items per category,
duration, integrity policy, supervised or online, sync deadline, item feedback), and moved
through draft -> published -> retired. Only a published assessment takes new invitations;
retiring one leaves its sittings and results as they are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, func, select

from server import audit, db
from server.accounts import Principal, check_name, check_slug
from server.assembly import Blueprint
from server.context import Context
from server.errors import ApiError, not_found
from server.invitations import new_id
from shared import canonical
from shared.errors import MalformedData
from shared.models import CATEGORIES
from shared.policy import Policy, Rule

STATUSES = ("draft", "published", "retired")
MIN_DURATION_S, MAX_DURATION_S = 60, 4 * 3600
MAX_PER_CATEGORY = 40

# What each preset does, in words a recruiter reads before choosing (the dashboard shows these).
PRESETS: dict[str, tuple[str, Policy]] = {
    "strict": (
        "Locks the sitting at the second focus loss or after 15 seconds away, and whenever a "
        "second display, a prohibited program or the clipboard is used; a virtual machine "
        "cannot start the test.",
        Policy(
            rules={
                **Policy().rules,
                "focus_lost": Rule("warn", lock_after=2, lock_after_away_s=15),
                "clipboard_used": Rule("lock"),
            },
            vm="block",
        ),
    ),
    "moderate": (
        "Warns at each focus loss and locks at the third or after 30 seconds away; locks when "
        "a second display or a prohibited program appears; a virtual machine is reported.",
        Policy(),
    ),
    "open": (
        "Records focus losses, displays and programs for the report without warning or "
        "locking; for practice and low-stakes screening.",
        Policy(
            rules={kind: Rule("record") for kind in Policy().rules},
            vm="allow",
            require_lockdown=False,
            lock_release="candidate",
        ),
    ),
}


def _blueprint(body: dict[str, Any], connection: Connection) -> Blueprint:
    per_category = body.get("per_category")
    if not isinstance(per_category, dict) or not per_category:
        raise ApiError(
            400,
            "bad_blueprint",
            f"Say how many items to ask per category ({', '.join(CATEGORIES)}).",
        )
    live: dict[str, int] = dict(
        connection.execute(
            select(db.items.c.category, func.count())
            .where(db.items.c.status == "live")
            .group_by(db.items.c.category)
        ).all()
    )
    for category, count in per_category.items():
        if category not in CATEGORIES:
            raise ApiError(
                400,
                "bad_blueprint",
                f"{category!r} is not a category: use {', '.join(CATEGORIES)}.",
            )
        if type(count) is not int or not 1 <= count <= MAX_PER_CATEGORY:
            raise ApiError(
                400, "bad_blueprint", f"Ask 1 to {MAX_PER_CATEGORY} items of {category!r}."
            )
        # A form takes at most a fifth of the bank's live items of a category, so candidates
        # see different questions (the exposure ceiling).
        if count * 5 > int(live.get(category, 0)):
            raise ApiError(
                400,
                "bank_too_small",
                f"The bank has {live.get(category, 0)} live items of {category!r}: at most "
                f"{int(live.get(category, 0)) // 5} per form keep forms different.",
            )
    feedback = body.get("item_feedback", False)
    if not isinstance(feedback, bool):
        raise ApiError(400, "bad_blueprint", "'item_feedback' is true or false.")
    adaptive = body.get("adaptive", False)
    if not isinstance(adaptive, bool):
        raise ApiError(400, "bad_blueprint", "'adaptive' is true or false.")
    return Blueprint(per_category=dict(per_category), item_feedback=feedback, adaptive=adaptive)


def _policy(value: object) -> Policy:
    if value is None:
        return PRESETS["moderate"][1]
    if isinstance(value, str):
        if value not in PRESETS:
            raise ApiError(400, "bad_policy", f"A policy preset is one of: {', '.join(PRESETS)}.")
        return PRESETS[value][1]
    if isinstance(value, dict):
        try:
            return Policy.from_json(value)
        except (MalformedData, TypeError, ValueError) as error:
            raise ApiError(400, "bad_policy", str(error)) from None
    raise ApiError(400, "bad_policy", "Give a policy preset's name or a policy object.")


def _number(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if type(value) is not int or not low <= value <= high:
        raise ApiError(400, f"bad_{name}", f"'{name}' must be a whole number from {low} to {high}.")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise ApiError(400, f"bad_{name}", f"'{name}' is true or false.")
    return value


_FIELDS = {
    "title",
    "slug",
    "per_category",
    "duration_s",
    "policy",
    "supervised",
    "sync_deadline_days",
    "item_feedback",
    "adaptive",
    "self_registration",
}


def view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    blueprint = canonical.loads(row["blueprint"])
    return {
        "id": row["id"],
        "organisation_id": row["employer_id"],
        "slug": row["slug"],
        "title": row["title"],
        "status": row["status"],
        "duration_s": row["duration_s"],
        "per_category": blueprint["per_category"],
        "item_feedback": bool(blueprint.get("item_feedback", False)),
        "adaptive": bool(blueprint.get("adaptive", False)),
        "policy": canonical.loads(row["policy"]),
        "supervised": bool(row["supervised"]),
        "self_registration": bool(row["self_registration"]),
        "sync_deadline_days": row["sync_deadline_days"],
        "created_ms": row["created_ms"],
    }


def create(
    ctx: Context, principal: Principal, organisation_id: str, body: object
) -> dict[str, Any]:
    """A new draft assessment of the organisation."""
    principal.require(organisation_id, "assessments:manage")
    if not isinstance(body, dict) or not set(body) <= _FIELDS:
        raise ApiError(
            400, "malformed", f"An assessment has these fields only: {', '.join(sorted(_FIELDS))}."
        )
    title = check_name(body.get("title"), "title")
    slug = check_slug(body.get("slug"), title)
    now = ctx.now_ms()
    assessment_id = new_id(ctx)
    with ctx.engine.begin() as connection:
        blueprint = _blueprint(body, connection)
        values = {
            "id": assessment_id,
            "employer_id": organisation_id,
            "slug": slug,
            "title": title,
            "duration_s": _number(body, "duration_s", 480, MIN_DURATION_S, MAX_DURATION_S),
            "blueprint": canonical.to_text(blueprint.__dict__),
            "policy": canonical.to_text(_policy(body.get("policy")).to_json()),
            "supervised": _flag(body, "supervised"),
            "self_registration": _flag(body, "self_registration"),
            "sync_deadline_days": _number(body, "sync_deadline_days", 7, 0, 90),
            "status": "draft",
            "created_ms": now,
        }
        taken = connection.execute(
            select(db.assessments.c.id).where(db.assessments.c.slug == slug)
        ).first()
        if taken is not None:
            raise ApiError(409, "slug_taken", f"The handle {slug!r} is taken: choose another.")
        connection.execute(db.assessments.insert().values(**values))
        audit.record(
            connection, now, principal.actor, organisation_id, "assessment.create",
            f"assessment:{assessment_id}", principal.address, title=title, slug=slug,
        )  # fmt: skip
    return view(values)


def _own(connection: Connection, organisation_id: str, assessment_id: str) -> RowMapping:
    row = (
        connection.execute(
            select(db.assessments).where(
                db.assessments.c.id == assessment_id,
                db.assessments.c.employer_id == organisation_id,
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise not_found("assessment")
    return row


def get(
    ctx: Context, principal: Principal, organisation_id: str, assessment_id: str
) -> dict[str, Any]:
    principal.require(organisation_id, "assessments:read")
    with ctx.reader.connect() as connection:
        return view(_own(connection, organisation_id, assessment_id))


def listing(ctx: Context, principal: Principal, organisation_id: str) -> list[dict[str, Any]]:
    principal.require(organisation_id, "assessments:read")
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(db.assessments)
            .where(db.assessments.c.employer_id == organisation_id)
            .order_by(db.assessments.c.created_ms)
        ).mappings()
        return [view(row) for row in rows]


_MOVES = {"publish": ("draft", "published"), "retire": ("published", "retired")}


def move(
    ctx: Context, principal: Principal, organisation_id: str, assessment_id: str, action: str
) -> dict[str, Any]:
    """Publish a draft, or retire a published assessment."""
    principal.require(organisation_id, "assessments:manage")
    before, after = _MOVES[action]
    now = ctx.now_ms()
    with ctx.engine.begin() as connection:
        row = _own(connection, organisation_id, assessment_id)
        if row["status"] != before:
            raise ApiError(
                409,
                "wrong_status",
                f"Only a {before} assessment can be {after}; this one is {row['status']}.",
            )
        connection.execute(
            db.assessments.update().where(db.assessments.c.id == assessment_id).values(status=after)
        )
        audit.record(
            connection, now, principal.actor, organisation_id, f"assessment.{action}",
            f"assessment:{assessment_id}", principal.address,
        )  # fmt: skip
        return view(dict(row, status=after))


def presets() -> list[dict[str, Any]]:
    return [
        {"name": name, "description": words, "policy": policy.to_json()}
        for name, (words, policy) in PRESETS.items()
    ]
