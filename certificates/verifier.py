"""Check a certificate PDF or an Open Badges credential, offline first, then its status online.

Offline, a PDF's signature is checked against the authority's certificate the verifier holds
(``--authority``, downloaded once from the issuing server's ``/trust/authority.pem``), and a
credential's proof against the issuer's DID document (``--did-document``, or resolved from its
``did:web``). Nothing the file itself names is trusted for the check. Online, when the issuing
server is reachable: whether it has been revoked since (the verification record for a PDF, the
signed status list for a credential).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from certificates import credential, signing

TIMEOUT_S = 10
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024


@dataclass
class Report:
    kind: str  # "pdf" or "credential"
    genuine: bool = False
    revoked: bool | None = None  # None: not known (status not reachable)
    facts: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.genuine and self.revoked is not True

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "genuine": self.genuine,
            "revoked": self.revoked,
            "ok": self.ok,
            "facts": self.facts,
            "problems": self.problems,
            "notes": self.notes,
        }

    def text(self) -> str:
        if not self.genuine:
            head = "NOT GENUINE: " + " ".join(self.problems)
        elif self.revoked:
            head = "REVOKED: genuine, but withdrawn by its issuer. " + " ".join(self.problems)
        else:
            head = "GENUINE" + ("" if self.revoked is False else " (revocation not checked)")
        lines = [head, *[f"  {k}: {v}" for k, v in self.facts.items()]]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _get_json(url: str) -> Any:
    response = requests.get(url, timeout=TIMEOUT_S, allow_redirects=False, stream=True)
    body = response.raw.read(MAX_DOCUMENT_BYTES + 1, decode_content=True)
    if len(body) > MAX_DOCUMENT_BYTES:
        raise ValueError(f"{url} answered with more than {MAX_DOCUMENT_BYTES} bytes")
    response.raise_for_status()
    return json.loads(body)


def _why(error: Exception) -> str:
    """A failed request as a few words for a person (not the library's trace)."""
    if isinstance(error, requests.Timeout):
        return "it took too long to answer"
    if isinstance(error, requests.ConnectionError):
        return "it could not be reached"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"it answered with HTTP {error.response.status_code}"
    return "its answer could not be read"


def check_pdf(data: bytes, authority: Path, online: bool = True) -> Report:
    report = Report("pdf")
    checked = signing.check(data, authority)
    report.genuine = checked.genuine
    if checked.problem:
        report.problems.append(checked.problem)
    report.facts["signer"] = checked.signer
    report.facts["sha256"] = hashlib.sha256(data).hexdigest()
    report.facts["timestamped"] = checked.timestamped
    keywords = signing.keywords(data)
    report.facts.update({k: v for k, v in keywords.items() if k in ("verification", "url")})
    if "submission-sha256" in keywords:
        report.facts["submission_sha256"] = keywords["submission-sha256"]
    if not report.genuine or not online:
        return report
    code, url = keywords.get("verification"), keywords.get("url")
    if not code or not url:
        report.notes.append("The file names no verification record, so revocation is unknown.")
        return report
    try:
        found = _get_json(f"{url}/api/v1/verify/{code}")
    except (requests.RequestException, ValueError) as error:
        report.notes.append(f"Revocation not checked: {url}: {_why(error)}. Try again online.")
        return report
    if not found.get("genuine"):
        report.revoked = True
        report.problems.append("The issuing server has no record of this certificate.")
    elif found.get("revoked"):
        report.revoked = True
        report.problems.append(str(found.get("revoked_reason") or ""))
    elif found.get("certificate_sha256") not in (None, report.facts["sha256"]):
        report.revoked = True
        report.problems.append("The issuing server's record is of another file than this one.")
    else:
        report.revoked = False
    return report


def check_credential(
    document: Any, did_document: dict[str, Any] | None = None, online: bool = True
) -> Report:
    report = Report("credential")
    try:
        issuer = credential.issuer_id(document) if isinstance(document, dict) else ""
        if did_document is None:
            if not online:
                raise credential.CredentialError(
                    "Offline, the issuer's DID document must be given (--did-document)."
                )
            did_document = _get_json(credential.did_web_url(issuer))
        verified = credential.verify(document, credential.document_resolver(did_document))
    except credential.CredentialError as error:
        report.problems.append(str(error))
        return report
    except (requests.RequestException, ValueError) as error:
        report.problems.append(
            f"The issuer's DID document could not be fetched: {_why(error)}. Try again online, "
            "or give it with --did-document."
        )
        return report
    report.genuine = True
    report.facts.update(
        issuer=verified.issuer,
        verification_method=verified.verification_method,
        signed=verified.created,
        name=document.get("name"),
    )
    status = document.get("credentialStatus")
    if not online or not isinstance(status, dict):
        if not isinstance(status, dict):
            report.notes.append("The credential has no status entry: it cannot be revoked.")
        return report
    try:
        listed = _get_json(str(status["statusListCredential"]))
        credential.verify(listed, credential.document_resolver(did_document))
        if credential.issuer_id(listed) != verified.issuer:
            raise credential.CredentialError("The status list is not its issuer's.")
        subject = listed["credentialSubject"]
        revoked = credential.status_bit(subject["encodedList"], int(status["statusListIndex"]))
    except (requests.RequestException, ValueError, KeyError, TypeError) as error:
        reason = _why(error) if isinstance(error, requests.RequestException) else "it is malformed"
        report.notes.append(f"Revocation not checked: the status list was not read ({reason}).")
        return report
    except credential.CredentialError as error:
        report.notes.append(f"Revocation not checked: {error}")
        return report
    report.revoked = revoked
    if revoked:
        report.problems.append("Its issuer has revoked it (the status list says so).")
    return report
