"""Certificates per second: rendering the PDF, signing it (PAdES, pyHanko), issuing the Open
Badges credential (RDF canonicalisation and Ed25519), and checking each as a verifier does; one
thread, then as many threads as cores (the certify job runs in a worker per process).

    python -m bench.certificates [--n 40]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.__main__ import OUT, summary, timed
from certificates import credential, signing
from certificates.authority import SigningFiles, create
from certificates.render import CertificateData, render_certificate
from shared.models import CATEGORIES, LEVELS

NAMES = ["Ada Lovelace", "فاطمة الزهراء", "प्रिया शर्मा", "王小明", "Zoë Ångström"]


def _data(n: int) -> CertificateData:
    return CertificateData(
        candidate=NAMES[n % len(NAMES)],
        assessment="Deep learning skills test",
        date=date(2026, 12, 1),
        overall="developing",
        categories=dict.fromkeys(CATEGORIES.values(), "developing"),
        verification_code="ABCD-EFGH-JKLM-NPQR",
        verification_url="https://exams.example.com/verify/ABCD-EFGH-JKLM-NPQR",
        issuer="Demo Employer",
        submission_sha256="ab" * 32,
    )


def _badge(n: int) -> credential.Badge:
    levels = tuple(
        (key, name, "developing", "Demonstrates ability to do it.")
        for key, name in CATEGORIES.items()
    )
    return credential.Badge(
        credential_id=f"https://exams.example.com/verify/{n}/credential",
        issuer_did="did:web:exams.example.com",
        issuer_name="Demo Employer",
        issuer_url="https://exams.example.com",
        achievement_id="https://exams.example.com/achievements/deep-learning",
        achievement_name="Deep learning skills test",
        achievement_description="Levels in four categories and overall.",
        criteria="Sat the timed assessment.",
        creator_id="https://exams.example.com/organisations/demo",
        creator_name="Demo Employer",
        valid_from="2026-12-01T00:00:00Z",
        candidate_name=NAMES[n % len(NAMES)],
        email_hash=credential.email_hash("ada@example.com", "00" * 16),
        salt="00" * 16,
        levels=(("overall", "Overall level", "developing", ""), *levels),
        allowed_levels=LEVELS,
        status_list="https://exams.example.com/credentials/status/1",
        status_index=n,
        submission_sha256="ab" * 32,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.certificates")
    parser.add_argument("--n", type=int, default=40)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as work:
        files = SigningFiles.under(Path(work))
        create(files, "examgate bench")
        signer = signing.Signer(files)
        key = Ed25519PrivateKey.generate()
        did = {"id": "did:web:exams.example.com"}
        document = credential.did_document(did["id"], key.public_key().public_bytes_raw())
        resolver = credential.document_resolver(document)
        render_certificate(_data(0))  # fonts registered and shaped once, not in the figures
        unsigned = render_certificate(_data(0))
        pdf = signer.sign(unsigned, "bench", "bench")
        issued = credential.sign(
            credential.open_badge(_badge(0)),
            key,
            "did:web:exams.example.com#key-1",
            "2026-12-01T00:00:00Z",
        )
        counter = iter(range(10**9))

        def certificate() -> bytes:
            return signer.sign(render_certificate(_data(next(counter))), "bench", "bench")

        def badge() -> dict[str, Any]:
            n = next(counter)
            return credential.sign(
                credential.open_badge(_badge(n)),
                key,
                "did:web:exams.example.com#key-1",
                "2026-12-01T00:00:00Z",
            )

        steps = {
            "render_pdf": timed(lambda: render_certificate(_data(next(counter))), args.n),
            "sign_pdf": timed(lambda: signer.sign(unsigned, "bench", "bench"), args.n),
            "render_and_sign": timed(certificate, args.n),
            "check_pdf": timed(lambda: signing.check(pdf, files.authority), args.n),
            "issue_credential": timed(badge, args.n),
            "verify_credential": timed(lambda: credential.verify(issued, resolver), args.n),
            "status_list_131072": timed(
                lambda: credential.encode_status(range(0, credential.STATUS_BITS, 50)), args.n
            ),
        }
        start = time.perf_counter()
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(lambda _: (certificate(), badge()), range(args.n)))
        parallel_s = time.perf_counter() - start
    figures: dict[str, Any] = {
        "machine": f"{platform.machine()} {cores} cores python {platform.python_version()}",
        "steps": {name: summary(times) for name, times in steps.items()},
    }
    one = (
        figures["steps"]["render_and_sign"]["mean_ms"]
        + figures["steps"]["issue_credential"]["mean_ms"]
    )
    figures["per_second"] = {
        "certificates_render_and_sign_1_thread": round(
            1000 / figures["steps"]["render_and_sign"]["mean_ms"], 1
        ),
        "certify_job_1_thread": round(1000 / one, 1),
        f"certify_job_{cores}_threads": round(args.n / parallel_s, 1),
    }
    figures["ratios"] = {
        "sign_over_render": round(
            figures["steps"]["sign_pdf"]["mean_ms"] / figures["steps"]["render_pdf"]["mean_ms"], 2
        ),
        "credential_over_pdf": round(
            figures["steps"]["issue_credential"]["mean_ms"]
            / figures["steps"]["render_and_sign"]["mean_ms"],
            2,
        ),
        f"speedup_{cores}_threads": round((args.n / parallel_s) / (1000 / one), 2),
    }
    figures["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"machine: {figures['machine']}, peak RSS {figures['peak_rss_mib']} MiB")
    print(f"{'step':24} {'n':>4} {'mean ms':>9} {'p50 ms':>9} {'p95 ms':>9}")
    for name, row in figures["steps"].items():
        print(f"{name:24} {row['n']:>4} {row['mean_ms']:>9} {row['p50_ms']:>9} {row['p95_ms']:>9}")
    for name, value in figures["per_second"].items():
        print(f"per second {name}: {value}")
    for name, value in figures["ratios"].items():
        print(f"ratio {name}: {value}")
    OUT.mkdir(exist_ok=True)
    (OUT / "certificates.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"written: {OUT / 'certificates.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
