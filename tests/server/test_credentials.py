"""Certificates anyone can check: the signed PDF (pdfsig and pyHanko against the server's
authority), the Open Badges credential (its eddsa-rdfc-2022 proof against the published DID
document), revocation through the status list and the verify page, and the offline verifier."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from certificates import credential, signing, verifier
from server import credentials, db
from server.context import Context
from tests.conftest import ThreadServer, need, venv_bin
from tests.helpers import one_page_pdf, sit


def _issued(
    make_engine: Any, live: ThreadServer, candidate: str = "Ada Lovelace"
) -> dict[str, Any]:
    engine = make_engine()
    submission_id = engine.seal(sit(engine, live.url, live.invite(candidate=candidate)))
    engine.sync()
    pdf = engine.certificate_pdf(submission_id, wait_s=20)
    with live.ctx.reader.connect() as connection:
        row = (
            connection.execute(
                select(db.results).where(db.results.c.submission_id == submission_id)
            )
            .mappings()
            .one()
        )
    return {"engine": engine, "submission_id": submission_id, "pdf": pdf, "row": row}


def _nss_trusting(folder: Path, authority: bytes) -> str:
    """An NSS certificate database (what pdfsig reads) that trusts ``authority``."""
    need(
        shutil.which("certutil") is not None,
        "EXAMGATE_REQUIRE_PDF_TOOLS",
        "certutil (libnss3-tools)",
    )
    folder.mkdir()
    (folder / "authority.pem").write_bytes(authority)
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True)
    subprocess.run(
        [
            "certutil",
            "-A",
            "-n",
            "examgate",
            "-t",
            "CT,CT,CT",
            "-i",
            str(folder / "authority.pem"),
            "-d",
            f"sql:{folder}",
        ],
        check=True,
    )
    return f"sql:{folder}"


def _pdfsig(pdf: Path, nss: str) -> str:
    need(shutil.which("pdfsig") is not None, "EXAMGATE_REQUIRE_PDF_TOOLS", "pdfsig (poppler-utils)")
    done = subprocess.run(["pdfsig", "-nssdir", nss, str(pdf)], capture_output=True, text=True)
    return done.stdout + done.stderr


def test_the_certificate_is_signed_and_trusted_by_pdfsig_and_pyhanko(
    live: ThreadServer, make_engine: Any, tmp_path: Path
) -> None:
    issued = _issued(make_engine, live)
    pdf, row = issued["pdf"], issued["row"]
    authority = requests.get(f"{live.url}/trust/authority.pem", timeout=5)
    assert authority.status_code == 200 and authority.content.startswith(b"-----BEGIN CERTIFICATE")
    assert authority.content == live.ctx.settings.signing_files.authority.read_bytes()
    nss = _nss_trusting(tmp_path / "nss", authority.content)
    (tmp_path / "certificate.pdf").write_bytes(pdf)
    report = _pdfsig(tmp_path / "certificate.pdf", nss)
    assert "Signature Validation: Signature is Valid." in report, report
    assert "Certificate Validation: Certificate is Trusted." in report, report
    assert "Signature Type: ETSI.CAdES.detached" in report and "Total document signed" in report

    checked = signing.check(pdf, authority.content)
    assert checked.genuine and checked.intact and checked.trusted and checked.whole_file
    # The signed result ties to the submission it scored, and the record to this very file.
    with live.ctx.reader.connect() as connection:
        document = connection.execute(
            select(db.submissions.c.document).where(db.submissions.c.id == issued["submission_id"])
        ).scalar_one()
    assert (
        signing.keywords(pdf)["submission-sha256"] == hashlib.sha256(document.encode()).hexdigest()
    )
    found = requests.get(f"{live.url}/api/v1/verify/{row['verification_code']}", timeout=5).json()
    assert found["certificate_sha256"] == hashlib.sha256(pdf).hexdigest()

    # Another authority (a forger's own) is not trusted.
    other = tmp_path / "other"
    from certificates.authority import SigningFiles, create

    create(SigningFiles.under(other), "Forger")
    assert not signing.check(pdf, (other / "authority.pem").read_bytes()).trusted


@pytest.mark.parametrize("where", [0.02, 0.5, 0.97])
def test_one_changed_byte_anywhere_is_caught(
    sqlite_live: ThreadServer, make_engine: Any, tmp_path: Path, where: float
) -> None:
    pdf = _issued(make_engine, sqlite_live)["pdf"]
    authority = sqlite_live.ctx.settings.signing_files.authority.read_bytes()
    changed = bytearray(pdf)
    offset = int(len(pdf) * where)
    changed[offset] = (changed[offset] + 1) % 256
    checked = signing.check(bytes(changed), authority)
    assert not checked.genuine and checked.problem
    nss = _nss_trusting(tmp_path / "nss", authority)
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    assert "Signature is Valid." not in _pdfsig(tmp_path / "changed.pdf", nss)


def test_a_revision_added_after_signing_is_caught(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    pdf = _issued(make_engine, sqlite_live)["pdf"]
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    # A new revision that changes what the document says of itself.
    writer.root["/Lang"] = generic.pdf_string("fr")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    checked = signing.check(out.getvalue(), sqlite_live.ctx.settings.signing_files.authority)
    assert checked.intact and not checked.whole_file and not checked.genuine


def test_the_credential_verifies_against_the_published_did_and_tampering_fails(
    live: ThreadServer, make_engine: Any
) -> None:
    row = _issued(make_engine, live)["row"]
    code = row["verification_code"]
    response = requests.get(f"{live.url}/verify/{code}/credential", timeout=10)
    assert response.status_code == 200, response.text
    document = response.json()
    assert document["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    did_doc = requests.get(f"{live.url}/.well-known/did.json", timeout=5).json()
    assert document["issuer"]["id"] == did_doc["id"] == credential.did_web(live.url)
    [method] = did_doc["verificationMethod"]
    assert method["controller"] == did_doc["id"] and method["id"] in did_doc["assertionMethod"]
    verified = credential.verify(document, credential.document_resolver(did_doc))
    assert verified.verification_method == document["proof"]["verificationMethod"] == method["id"]

    subject = document["credentialSubject"]
    results = {r["resultDescription"].split("#")[1]: r["value"] for r in subject["result"]}
    report = json.loads(row["report"])
    assert results["overall"] == report["overall"].capitalize()
    assert set(results) == {"overall", "foundations", "improving", "cnn", "sequence"}
    for description in subject["achievement"]["resultDescription"]:
        assert description["resultType"] == "RubricCriterionLevel"
    assert document["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert document["evidence"][0]["id"].startswith("ni:///sha-256;")

    def tampered(change: Any) -> None:
        copy = json.loads(json.dumps(document))
        change(copy)
        with pytest.raises(credential.CredentialError):
            credential.verify(copy, credential.document_resolver(did_doc))

    tampered(
        lambda d: d["credentialSubject"]["result"][0].update(
            value="Accomplished"
            if d["credentialSubject"]["result"][0]["value"] != "Accomplished"
            else "Beginning"
        )
    )
    tampered(lambda d: d.update(validFrom="2020-01-01T00:00:00Z"))
    tampered(lambda d: d["credentialSubject"]["identifier"][0].update(identityHash="Mallory"))
    tampered(lambda d: d["proof"].update(created="2020-01-01T00:00:00Z"))
    tampered(lambda d: d.pop("proof"))
    tampered(lambda d: d["issuer"].update(id="did:web:forger.example"))
    tampered(lambda d: d.update({"@context": [credential.VC_V2, "https://forger.example/ctx"]}))
    # A key that is not the issuer's: a credential signed by another key under the issuer's name.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    forged = credential.sign(
        {k: v for k, v in document.items() if k != "proof"},
        Ed25519PrivateKey.generate(),
        method["id"],
        "2026-12-01T00:00:00Z",
    )
    with pytest.raises(credential.CredentialError):
        credential.verify(forged, credential.document_resolver(did_doc))


def test_voiding_revokes_certificate_and_credential_at_once(
    live: ThreadServer, make_engine: Any, tmp_path: Path
) -> None:
    issued = _issued(make_engine, live)
    row = issued["row"]
    code = row["verification_code"]
    document = requests.get(f"{live.url}/verify/{code}/credential", timeout=10).json()
    did_doc = credentials.did_document(live.ctx)
    before = verifier.check_credential(document, did_doc)
    assert before.genuine and before.revoked is False, before.to_json()
    pdf_before = verifier.check_pdf(issued["pdf"], live.ctx.settings.signing_files.authority)
    assert pdf_before.ok and pdf_before.revoked is False, pdf_before.to_json()

    with live.ctx.engine.begin() as connection:
        connection.execute(
            db.results.update()
            .where(db.results.c.id == row["id"])
            .values(review="voided", review_note="Another person sat it", reviewed_ms=1)
        )
    status = requests.get(document["credentialStatus"]["statusListCredential"], timeout=5).json()
    credential.verify(status, credential.document_resolver(did_doc))
    index = int(document["credentialStatus"]["statusListIndex"])
    assert credential.status_bit(status["credentialSubject"]["encodedList"], index)
    others = [i for i in range(0, credential.STATUS_BITS, 997) if i != index]
    assert not any(
        credential.status_bit(status["credentialSubject"]["encodedList"], i) for i in others
    )

    after = verifier.check_credential(document, did_doc)
    assert after.genuine and after.revoked is True and not after.ok
    pdf_after = verifier.check_pdf(issued["pdf"], live.ctx.settings.signing_files.authority)
    assert pdf_after.genuine and pdf_after.revoked is True and not pdf_after.ok
    page = requests.get(f"{live.url}/verify/{code}", timeout=5)
    assert "Revoked certificate" in page.text
    assert requests.get(f"{live.url}/api/v1/verify/{code}", timeout=5).json()["revoked"] is True


def test_the_verify_command_checks_files_offline_and_online(
    sqlite_live: ThreadServer, make_engine: Any, tmp_path: Path
) -> None:
    issued = _issued(make_engine, sqlite_live, candidate="Zoë Ångström")
    settings = sqlite_live.ctx.settings
    pdf, code = tmp_path / "certificate.pdf", issued["row"]["verification_code"]
    pdf.write_bytes(issued["pdf"])
    cred = tmp_path / "credential.json"
    cred.write_bytes(requests.get(f"{sqlite_live.url}/verify/{code}/credential", timeout=5).content)
    did_file = tmp_path / "did.json"
    did_file.write_bytes(requests.get(f"{sqlite_live.url}/.well-known/did.json", timeout=5).content)
    command = venv_bin("examgate-server")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [command, "verify", *args], capture_output=True, text=True, timeout=60
        )

    online = run(str(pdf), "--authority", str(settings.signing_files.authority), "--json")
    assert online.returncode == 0, online.stdout + online.stderr
    found = json.loads(online.stdout)
    assert found["genuine"] and found["revoked"] is False and found["facts"]["verification"] == code
    offline = run(str(cred), "--did-document", str(did_file), "--offline")
    assert offline.returncode == 0 and offline.stdout.startswith("GENUINE"), offline.stdout
    resolved = run(str(cred))  # did:web resolved from the credential's issuer (a loopback host)
    assert resolved.returncode == 0 and "revocation not checked" not in resolved.stdout, (
        resolved.stdout
    )

    changed = bytearray(issued["pdf"])
    changed[len(changed) // 2] ^= 0x20
    (tmp_path / "changed.pdf").write_bytes(bytes(changed))
    bad = run(str(tmp_path / "changed.pdf"), "--authority", str(settings.signing_files.authority))
    assert bad.returncode == 1 and bad.stdout.startswith("NOT GENUINE"), bad.stdout
    altered = json.loads(cred.read_text())
    altered["validFrom"] = "2021-01-01T00:00:00Z"
    (tmp_path / "altered.json").write_text(json.dumps(altered))
    refused = run(str(tmp_path / "altered.json"), "--did-document", str(did_file), "--offline")
    assert refused.returncode == 1 and "changed after it was signed" in refused.stdout
    no_trust = run(str(pdf))
    assert no_trust.returncode == 2 and "--authority" in no_trust.stderr


def test_the_verify_page_offers_the_credential_linkedin_and_the_file_hash(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    issued = _issued(make_engine, sqlite_live)
    code = issued["row"]["verification_code"]
    found = requests.get(f"{sqlite_live.url}/api/v1/verify/{code}", timeout=5).json()
    link = urlsplit(found["linkedin_url"])
    assert (link.scheme, link.netloc, link.path) == ("https", "www.linkedin.com", "/profile/add")
    query = {k: v[0] for k, v in parse_qs(link.query).items()}
    assert query["startTask"] == "CERTIFICATION_NAME"
    assert query["name"] == "Deep learning skills test" and query["certId"] == code
    assert query["organizationName"] == found["issuer"] == "Demo Employer"
    assert query["certUrl"] == f"{sqlite_live.url}/verify/{code}"
    assert query["issueYear"].isdigit() and 1 <= int(query["issueMonth"]) <= 12
    page = requests.get(f"{sqlite_live.url}/verify/{code}", timeout=5).text
    assert found["certificate_sha256"] in page
    assert f"/verify/{code}/credential" in page and "linkedin.com/profile/add" in page
    assert "/trust/authority.pem" in page
    # The device fetches its own credential; nobody else's.
    engine = issued["engine"]
    mine = engine.api().request("GET", f"/results/{issued['submission_id']}/credential")
    assert mine.status_code == 200 and mine.json()["id"].endswith(f"/verify/{code}/credential")
    assert (
        requests.get(
            f"{sqlite_live.url}/api/v1/results/{issued['submission_id']}/credential", timeout=5
        ).status_code
        == 401
    )


def test_unknown_status_lists_and_codes_are_plain_404s(sqlite_live: ThreadServer) -> None:
    for path in (
        "/credentials/status/999",
        "/credentials/status/abc",
        "/credentials/status/-1",
        "/verify/AAAA-BBBB-CCCC-DDDD/credential",
    ):
        response = requests.get(f"{sqlite_live.url}{path}", timeout=5)
        assert response.status_code == 404, (path, response.text)
        assert "message" in response.json()


def test_an_operators_own_pkcs12_signs_the_certificates(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    from certificates.authority import SigningFiles, create, import_pkcs12, load_chain

    theirs = SigningFiles.under(tmp_path / "theirs")
    create(theirs, "Acme Trust Services")
    key = serialization.load_pem_private_key(theirs.key.read_bytes(), None)
    leaf, root = load_chain(theirs.chain)
    bundle = pkcs12.serialize_key_and_certificates(
        b"acme",
        key,
        leaf,
        [root],
        BestAvailableEncryption(b"secret"),  # type: ignore[arg-type]
    )
    ours = SigningFiles.under(tmp_path / "ours")
    from certificates.authority import AuthorityError

    with pytest.raises(AuthorityError, match="password"):
        import_pkcs12(ours, bundle, b"wrong")
    import_pkcs12(ours, bundle, b"secret")
    assert ours.authority.read_bytes() == theirs.authority.read_bytes()
    assert ours.key.stat().st_mode & 0o077 == 0 and not ours.authority_key.exists()
    signed = signing.Signer(ours).sign(one_page_pdf(), "test", "here")
    assert signing.check(signed, theirs.authority).genuine


def test_the_issuer_key_is_the_servers_own_and_stable(sqlite_live: ThreadServer) -> None:
    again = Context.open(sqlite_live.ctx.settings)
    try:
        assert credentials.did_document(again) == credentials.did_document(sqlite_live.ctx)
    finally:
        again.dispose()


def test_a_sitting_the_integrity_rules_voided_is_revoked_and_has_no_pdf(
    sqlite_live: ThreadServer, make_engine: Any
) -> None:
    issued = _issued(make_engine, sqlite_live)
    row = issued["row"]
    with sqlite_live.ctx.engine.begin() as connection:
        connection.execute(
            db.results.update().where(db.results.c.id == row["id"]).values(integrity="voided")
        )
    code = row["verification_code"]
    found = requests.get(f"{sqlite_live.url}/api/v1/verify/{code}", timeout=5).json()
    assert found["revoked"] is True and "integrity rules" in found["revoked_reason"]
    assert "linkedin_url" not in found
    number = row["status_list"]
    status = credentials.status_list(sqlite_live.ctx, number)
    assert status is not None
    assert credential.status_bit(status["credentialSubject"]["encodedList"], row["status_index"])
    from client.errors import ServerRefused

    with pytest.raises(ServerRefused, match="integrity rules"):  # 410, said to the candidate
        issued["engine"].api().certificate(issued["submission_id"])
