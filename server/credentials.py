"""Certificates anyone can check: the signed PDF, the Open Badges credential, their revocation.

The ``certify`` job (deferred in the transaction that stores a result, never on the upload
path) renders the PDF, signs it (PAdES, the server's document-signing certificate), gives the
result a random entry in a revocation status list, and issues an OpenBadgeCredential signed
with the issuer's Ed25519 key (``eddsa-rdfc-2022``). Both tie to the submission: they carry the
SHA-256 of the signed submission the result scored.

The issuer is the server's ``did:web``; its DID document (``/.well-known/did.json``) lists the
key, derived from the server's key file (a copy of the database cannot sign). The status list
credential is computed from the results on each change: a result voided by review, or erased,
has its bit set at once, so certificate and credential are revoked together.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from certificates import credential
from certificates.render import CertificateData, render_certificate
from server import db
from server.context import Context
from shared import canonical, crypto
from shared.models import CATEGORIES, LEVELS, category_name, rubric

if TYPE_CHECKING:  # pyHanko is imported on the first signing, not by every server process
    from certificates.signing import Signer

# Entries a list is given before the next list is opened: half full, so a random free index
# is found in a try or two and the lists' fullness says little about when a credential came.
LIST_FILL = credential.STATUS_BITS // 2
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"

_lock = threading.Lock()
_signers: dict[tuple[str, str | None], Signer] = {}
_status_cache: dict[tuple[int, str, str], dict[str, Any]] = {}


def issuer_key(ctx: Context) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(ctx.derived_key(b"examgate credential issuer v1"))


def did(ctx: Context) -> str:
    return credential.did_web(ctx.settings.public_url)


def did_document(ctx: Context) -> dict[str, Any]:
    return credential.did_document(did(ctx), crypto.public_bytes(issuer_key(ctx)))


def signer(ctx: Context) -> Signer:
    from certificates.signing import Signer

    with _lock:
        key = (str(ctx.settings.data_dir), ctx.settings.timestamp_url)
        found = _signers.get(key)
        if found is None:
            found = _signers[key] = Signer(ctx.settings.signing_files, ctx.settings.timestamp_url)
        return found


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _row(ctx: Context, result_id: str) -> Any:
    with ctx.reader.connect() as connection:
        return (
            connection.execute(
                select(
                    db.results.c.id,
                    db.results.c.overall,
                    db.results.c.report,
                    db.results.c.verification_code,
                    db.results.c.created_ms,
                    db.results.c.certificate.is_not(None).label("done"),
                    db.results.c.status_list,
                    db.results.c.status_index,
                    db.sittings.c.candidate_name,
                    db.sittings.c.candidate_email,
                    db.sittings.c.kind,
                    db.sittings.c.erased_ms,
                    db.assessments.c.id.label("assessment_id"),
                    db.assessments.c.title,
                    db.employers.c.name.label("organisation"),
                    db.employers.c.slug,
                    db.submissions.c.document,
                )
                .select_from(
                    db.result_context().join(
                        db.submissions, db.submissions.c.id == db.results.c.submission_id
                    )
                )
                .where(db.results.c.id == result_id)
            )
            .mappings()
            .first()
        )


def issuer_name(ctx: Context, row: Any) -> str:
    """The employer for the sittings it administers; the operator for self-registered ones."""
    return str(row["organisation"]) if row["kind"] == "employer" else ctx.settings.issuer_name


def _place(ctx: Context) -> tuple[int, int]:
    """A status-list entry not taken yet: the newest list with room, a random index in it."""
    with ctx.reader.connect() as connection:
        newest = connection.execute(select(func.max(db.results.c.status_list))).scalar() or 1
        taken = connection.execute(
            select(func.count()).where(db.results.c.status_list == newest)
        ).scalar_one()
    number = newest + 1 if taken >= LIST_FILL else newest
    return number, secrets.randbelow(credential.STATUS_BITS)


def certify(ctx: Context, result_id: str) -> None:
    """Render, sign and issue one stored result's certificate and credential, once (a repeat
    finds it done); a clash on the random status entry is tried again with another."""
    row = _row(ctx, result_id)
    if row is None or row["done"] or row["erased_ms"] is not None:
        return  # erased since, or already issued
    report = canonical.loads(row["report"])
    code = row["verification_code"]
    public = ctx.settings.public_url
    issuer = issuer_name(ctx, row)
    submission_sha256 = hashlib.sha256(row["document"].encode()).hexdigest()
    created = datetime.fromtimestamp(row["created_ms"] / 1000, tz=UTC)
    pdf = render_certificate(
        CertificateData(
            candidate=row["candidate_name"],
            assessment=row["title"],
            date=created.date(),
            overall=report["overall"],
            categories=report["categories"],
            verification_code=code,
            verification_url=f"{public}/verify/{code}",
            issuer=issuer,
            submission_sha256=submission_sha256,
        )
    )
    signed = signer(ctx).sign(pdf, f"Certificate of skills {code}", public)
    for _ in range(20):
        number, index = _place(ctx)
        document = _credential(ctx, row, report, issuer, submission_sha256, number, index)
        try:
            with ctx.engine.begin() as connection:
                connection.execute(
                    db.results.update()
                    .where(db.results.c.id == result_id, db.results.c.certificate.is_(None))
                    .values(
                        certificate=signed,
                        certificate_sha256=hashlib.sha256(signed).hexdigest(),
                        credential=canonical.to_text(document),
                        status_list=number,
                        status_index=index,
                        certified_ms=ctx.now_ms(),
                    )
                )
            return
        except IntegrityError:
            continue  # another result took that entry in the meantime
    raise RuntimeError("no free status-list entry found in 20 tries")


def _credential(
    ctx: Context,
    row: Any,
    report: dict[str, Any],
    issuer: str,
    submission_sha256: str,
    number: int,
    index: int,
) -> dict[str, Any]:
    public = ctx.settings.public_url
    salt = secrets.token_hex(16)
    email = row["candidate_email"]
    keys = {name: key for key, name in CATEGORIES.items()}
    levels = [("overall", "Overall level", report["overall"], "")]
    order = list(CATEGORIES)
    for name, level in sorted(
        report["categories"].items(),
        key=lambda kv: order.index(keys[kv[0]]) if kv[0] in keys else len(order),
    ):
        key = keys.get(name, name)
        levels.append((key, category_name(key), level, rubric(key, level)))
    badge = credential.Badge(
        credential_id=f"{public}/verify/{row['verification_code']}/credential",
        issuer_did=did(ctx),
        issuer_name=issuer,
        issuer_url=public,
        achievement_id=f"{public}/achievements/{row['assessment_id']}",
        achievement_name=row["title"],
        achievement_description=(
            f"{row['title']}: levels in {', '.join(CATEGORIES.values())}, and overall."
        ),
        criteria=(
            "Sat the timed, supervised assessment; each category's level is read from the "
            "answers against the published rubric, and the overall level from all four."
        ),
        creator_id=f"{public}/organisations/{row['slug']}",
        creator_name=row["organisation"],
        valid_from=_iso(row["created_ms"]),
        candidate_name=row["candidate_name"],
        email_hash=credential.email_hash(email, salt) if email else "",
        salt=salt,
        levels=tuple(levels),
        allowed_levels=LEVELS,
        status_list=f"{public}/credentials/status/{number}",
        status_index=index,
        submission_sha256=submission_sha256,
    )
    return credential.sign(
        credential.open_badge(badge), issuer_key(ctx), f"{did(ctx)}#key-1", _iso(ctx.now_ms())
    )


def revoked_entries(ctx: Context, number: int) -> list[int]:
    with ctx.reader.connect() as connection:
        rows = connection.execute(
            select(db.results.c.status_index)
            .join(db.sittings, db.sittings.c.id == db.results.c.sitting_id)
            .where(
                db.results.c.status_list == number,
                or_(
                    db.results.c.review == "voided",
                    db.results.c.integrity == "voided",
                    db.sittings.c.erased_ms.is_not(None),
                ),
            )
        ).scalars()
        return sorted(int(i) for i in rows if i is not None)


def status_list(ctx: Context, number: int) -> dict[str, Any] | None:
    """The signed BitstringStatusListCredential of list ``number`` (None: no such list). Signed
    again only when its revoked entries change."""
    with ctx.reader.connect() as connection:
        exists = connection.execute(
            select(db.results.c.id).where(db.results.c.status_list == number).limit(1)
        ).first()
    if exists is None:
        return None
    revoked = revoked_entries(ctx, number)
    digest = hashlib.sha256(",".join(map(str, revoked)).encode()).hexdigest()
    key = (number, ctx.settings.public_url, digest)
    with _lock:
        cached = _status_cache.get(key)
    if cached is not None:
        return cached
    url = f"{ctx.settings.public_url}/credentials/status/{number}"
    unsigned = credential.status_list_credential(
        url, did(ctx), _iso(ctx.now_ms()), credential.encode_status(revoked)
    )
    signed = credential.sign(unsigned, issuer_key(ctx), f"{did(ctx)}#key-1", _iso(ctx.now_ms()))
    with _lock:
        if len(_status_cache) > 64:
            _status_cache.clear()
        _status_cache[key] = signed
    return signed


def stored_credential(ctx: Context, where: Any) -> dict[str, Any] | None:
    """The credential of the result ``where`` selects (None until the certify job has run)."""
    with ctx.reader.connect() as connection:
        value = connection.execute(select(db.results.c.credential).where(where)).scalar()
    return None if value is None else dict(canonical.loads(value))


def credential_by_code(ctx: Context, code: str) -> dict[str, Any] | None:
    """The credential of the certificate with this code (its holder shares the code)."""
    return stored_credential(ctx, db.results.c.verification_code == code)


def linkedin_url(name: str, organisation: str, issued_ms: int, code: str, url: str) -> str:
    """LinkedIn's documented add-to-profile link for a certification."""
    issued = datetime.fromtimestamp(issued_ms / 1000, tz=UTC)
    query = {
        "startTask": "CERTIFICATION_NAME",
        "name": name,
        "organizationName": organisation,
        "issueYear": str(issued.year),
        "issueMonth": str(issued.month),
        "certUrl": url,
        "certId": code,
    }
    return f"{LINKEDIN_ADD}?{urlencode(query)}"
