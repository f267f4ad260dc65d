"""``examgate-server init``: key, schema, bundled bank, demo employer and assessment. Idempotent."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from certificates import authority
from server import db
from server.bank.loader import bundled_files, load_files, practice_files
from server.bank.store import import_items
from server.keys import create_kex_key_file, create_key_file
from server.settings import Settings
from shared import canonical, crypto
from shared.policy import Policy

DEMO_EMPLOYER = {"id": "demo-employer", "name": "Demo Employer", "slug": "demo-employer"}
DEMO_ASSESSMENT = {
    "id": "deep-learning",
    "slug": "deep-learning",
    "title": "Deep learning skills test",
    "duration_s": 480,
    "blueprint": {
        "per_category": {"foundations": 5, "improving": 5, "cnn": 5, "sequence": 5},
        "max_per_skill": 2,
        "target_theta": 0.0,
        "spread": 1.0,
        "randomesque": 5,
        "max_exposure": 0.2,
        "pretest": 0,
        # Off: explaining a missed live item discloses it (see the README).
        "item_feedback": False,
    },
    # Warn on each focus loss; lock at the third or after 30 s away in all; lock when a
    # prohibited program or an extra display appears; record (and report) a virtual machine.
    "policy": Policy().to_json(),
}


def initialise(
    settings: Settings, pkcs12: bytes | None = None, pkcs12_password: bytes | None = None
) -> dict[str, Any]:
    """Create what a server needs in ``settings.data_dir``; running it again changes nothing new.

    The certificates' signing certificate comes from the operator's PKCS#12 file when one is
    given (replacing any before it), otherwise from a small authority made here, once."""
    settings.save()
    key = create_key_file(settings.key_file)
    create_kex_key_file(settings.kex_key_file)
    files = settings.signing_files
    if pkcs12 is not None:
        authority.import_pkcs12(files, pkcs12, pkcs12_password)
    else:
        authority.create(files, settings.issuer_name)
    engine = db.make_engine(settings.database_url)
    try:
        db.migrate(engine)
        bank = load_files(bundled_files()) + load_files(practice_files())
        now = time.time_ns() // 1_000_000
        with engine.begin() as connection:
            inserted, updated = import_items(connection, bank)
            if (
                connection.execute(
                    select(db.employers.c.id).where(db.employers.c.id == DEMO_EMPLOYER["id"])
                ).first()
                is None
            ):
                connection.execute(db.employers.insert().values(**DEMO_EMPLOYER, created_ms=now))
            if (
                connection.execute(
                    select(db.assessments.c.id).where(db.assessments.c.id == DEMO_ASSESSMENT["id"])
                ).first()
                is None
            ):
                connection.execute(
                    db.assessments.insert().values(
                        **dict(
                            DEMO_ASSESSMENT,
                            policy=canonical.to_text(DEMO_ASSESSMENT["policy"]),
                            blueprint=canonical.to_text(DEMO_ASSESSMENT["blueprint"]),
                        ),
                        employer_id=DEMO_EMPLOYER["id"],
                        created_ms=now,
                    )
                )
    finally:
        engine.dispose()
    public = crypto.public_bytes(key)
    return {
        "data": str(settings.data_dir),
        "database": settings.database_url.split("@")[-1],
        "fingerprint": crypto.fingerprint(public),
        "items": sum(1 for item in bank if item.status != "practice"),
        "practice_items": sum(1 for item in bank if item.status == "practice"),
        "items_inserted": inserted,
        "items_updated": updated,
        "assessment": DEMO_ASSESSMENT["slug"],
        "document_signer": authority.load_chain(files.chain)[0].subject.rfc4514_string(),
        "authority": str(files.authority),
    }
