"""Open Badges 3.0 credentials with a Data Integrity proof (``eddsa-rdfc-2022``).

A credential is a W3C Verifiable Credential (data model 2.0) of type ``OpenBadgeCredential``.
Its proof follows the Data Integrity EdDSA Cryptosuites: the document (without its proof) and
the proof's options are each canonicalised as RDF (RDFC-1.0, pyld's URDNA2015), hashed with
SHA-256, and the proof options' hash followed by the document's is signed with Ed25519; the
signature is the proof value, multibase base58btc.

JSON-LD contexts come only from the pinned files in ``contexts/`` (verification needs no
network, and a document naming any other context is refused). A property that JSON-LD would
silently drop (so that it would not be signed at all) is refused too.

Status: a ``BitstringStatusListEntry`` points into a ``BitstringStatusListCredential``: a
gzip-compressed bitstring of at least 131,072 entries, multibase base64url, one bit per
credential, set when the credential is revoked.
"""

from __future__ import annotations

import base64
import copy
import gzip
import hashlib
import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

CONTEXTS = Path(__file__).with_name("contexts")
VC_V2 = "https://www.w3.org/ns/credentials/v2"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CRYPTOSUITE = "eddsa-rdfc-2022"
STATUS_BITS = 131_072  # the smallest list the Bitstring Status List spec allows (16 KiB)
_ED25519_MULTICODEC = b"\xed\x01"
_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class CredentialError(Exception):
    """A credential that cannot be trusted, said as a sentence."""


# --- multibase -------------------------------------------------------------------------------


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rest = divmod(number, 58)
        out = _B58[rest] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        index = _B58.find(char)
        if index < 0:
            raise CredentialError("A base58 value holds a character base58 does not use.")
        number = number * 58 + index
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * (len(text) - len(text.lstrip("1"))) + body


def multikey(public: bytes) -> str:
    """An Ed25519 public key as a Multikey ``publicKeyMultibase`` (z6Mk...)."""
    return "z" + b58encode(_ED25519_MULTICODEC + public)


def from_multikey(value: str) -> Ed25519PublicKey:
    if not value.startswith("z"):
        raise CredentialError("The key is not multibase base58btc.")
    raw = b58decode(value[1:])
    if not raw.startswith(_ED25519_MULTICODEC) or len(raw) != 34:
        raise CredentialError("The key is not an Ed25519 Multikey.")
    return Ed25519PublicKey.from_public_bytes(raw[2:])


# --- JSON-LD ---------------------------------------------------------------------------------


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = json.loads((CONTEXTS / "index.json").read_text(encoding="utf-8"))
    return index


@cache
def _context(url: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((CONTEXTS / _index()[url]).read_text(encoding="utf-8"))
    return document


def _loader(url: str, options: Any = None) -> dict[str, Any]:
    from pyld import jsonld

    if url not in _index():
        raise jsonld.JsonLdError(
            f"The context {url} is not one this verifier knows.",
            "jsonld.LoadDocumentError",
            code="loading document failed",
        )
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        "document": copy.deepcopy(_context(url)),
    }


def _refuse_dropped(name: str | None) -> None:
    raise CredentialError(
        f"The credential has a property JSON-LD does not define ({name}), so it could not be "
        "covered by the signature."
    )


def canonical(document: dict[str, Any]) -> str:
    """RDFC-1.0 canonical N-Quads of ``document``."""
    from pyld import jsonld  # imported on first use: a server process that signs nothing skips it

    processor = jsonld.JsonLdProcessor(on_property_dropped=_refuse_dropped)
    try:
        text: str = processor.normalize(
            document,
            {"algorithm": "URDNA2015", "format": "application/n-quads", "documentLoader": _loader},
        )
    except CredentialError:
        raise
    except jsonld.JsonLdError as error:
        reason = _cause(error)
        if reason.startswith("The credential has a property"):
            raise CredentialError(reason) from error
        raise CredentialError(f"The credential is not valid JSON-LD: {reason}") from error
    return text


def _cause(error: BaseException) -> str:
    """The innermost reason pyld gives (it wraps each failure in another)."""
    found: BaseException = error
    seen = 0
    while seen < 20:
        seen += 1
        details = getattr(found, "details", None)
        inner = (details or {}).get("cause") if isinstance(details, dict) else None
        inner = inner or found.__cause__ or found.__context__
        if not isinstance(inner, BaseException):
            break
        found = inner
    if isinstance(found, CredentialError):
        return str(found)
    return str(found.args[0] if found.args else found).split("\n")[0]


# --- proofs ----------------------------------------------------------------------------------


def _hash_data(document: dict[str, Any], options: dict[str, Any]) -> bytes:
    unsigned = {k: v for k, v in document.items() if k != "proof"}
    config = dict(options, **{"@context": document.get("@context")})
    config.pop("proofValue", None)
    return (
        hashlib.sha256(canonical(config).encode()).digest()
        + hashlib.sha256(canonical(unsigned).encode()).digest()
    )


def sign(
    document: dict[str, Any], key: Ed25519PrivateKey, verification_method: str, created: str
) -> dict[str, Any]:
    """``document`` with a DataIntegrityProof (eddsa-rdfc-2022, assertionMethod) added."""
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": "assertionMethod",
    }
    signature = key.sign(_hash_data(document, options))
    return dict(document, proof=dict(options, proofValue="z" + b58encode(signature)))


@dataclass(frozen=True)
class Verified:
    issuer: str
    verification_method: str
    created: str


Resolver = Callable[[str], Ed25519PublicKey]


def issuer_id(document: dict[str, Any]) -> str:
    issuer = document.get("issuer")
    found = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(found, str):
        raise CredentialError("The credential names no issuer.")
    return found


def verify(document: Any, resolve: Resolver, issuer_controls: bool = True) -> Verified:
    """Check ``document``'s proof; ``resolve`` turns a verification method into its key (and
    raises CredentialError for one it does not trust). ``issuer_controls``: the key must be
    the issuer's own (its DID then a fragment), as Open Badges 3.0 requires; the cryptosuite
    alone does not (the W3C test vectors are signed by a key other than their issuer)."""
    if not isinstance(document, dict):
        raise CredentialError("A credential is a JSON object.")
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise CredentialError("The credential has no proof (or more than one).")
    if proof.get("type") != "DataIntegrityProof" or proof.get("cryptosuite") != CRYPTOSUITE:
        raise CredentialError(f"The proof is not a DataIntegrityProof with {CRYPTOSUITE}.")
    if proof.get("proofPurpose") != "assertionMethod":
        raise CredentialError("The proof was not made for asserting a credential.")
    method, value = proof.get("verificationMethod"), proof.get("proofValue")
    if not isinstance(method, str) or not isinstance(value, str) or not value.startswith("z"):
        raise CredentialError("The proof lacks its verification method or its value.")
    if proof.get("@context") is not None and proof["@context"] != document.get("@context"):
        raise CredentialError("The proof's context differs from the credential's.")
    issuer = issuer_id(document)
    if issuer_controls and method.split("#")[0] != issuer:
        raise CredentialError("The proof's key is not one its issuer controls.")
    key = resolve(method)
    signature = b58decode(value[1:])
    options = {k: v for k, v in proof.items() if k not in ("proofValue", "@context")}
    try:
        key.verify(signature, _hash_data(document, options))
    except InvalidSignature as error:
        raise CredentialError(
            "The credential was changed after it was signed, or not signed by its issuer."
        ) from error
    return Verified(issuer=issuer, verification_method=method, created=str(proof.get("created")))


def did_key_resolver(method: str) -> Ed25519PublicKey:
    """did:key for Ed25519: the key is the identifier itself."""
    if not method.startswith("did:key:z6Mk"):
        raise CredentialError("Only Ed25519 did:key identifiers resolve without a document.")
    did, _, fragment = method.partition("#")
    value = did[len("did:key:") :]
    if fragment and fragment != value:
        raise CredentialError("The did:key's fragment is not its key.")
    return from_multikey(value)


def document_resolver(did_document: dict[str, Any]) -> Resolver:
    """Resolve against a DID document: the method must be listed for assertion and controlled
    by the document's subject."""

    def resolve(method: str) -> Ed25519PublicKey:
        subject = did_document.get("id")
        if method.split("#")[0] != subject:
            raise CredentialError("The DID document is not the issuer's.")
        listed = did_document.get("assertionMethod") or []
        if method not in [m if isinstance(m, str) else m.get("id") for m in listed]:
            raise CredentialError("The issuer's DID document does not list the proof's key.")
        for entry in did_document.get("verificationMethod") or []:
            if isinstance(entry, dict) and entry.get("id") == method:
                if entry.get("controller") != subject:
                    raise CredentialError("The proof's key is controlled by someone else.")
                return from_multikey(str(entry.get("publicKeyMultibase", "")))
        raise CredentialError("The issuer's DID document does not hold the proof's key.")

    return resolve


# --- did:web ---------------------------------------------------------------------------------


def did_web(public_url: str) -> str:
    """The did:web of a server at ``public_url`` (the port percent-encoded, a path as colons)."""
    parts = urlsplit(public_url)
    host = quote(parts.netloc, safe="")
    path = [p for p in parts.path.split("/") if p]
    return ":".join(["did:web", host, *path])


def did_web_url(did: str) -> str:
    """Where a did:web's document is: https, or http for a loopback host (a local server)."""
    if not did.startswith("did:web:"):
        raise CredentialError("The issuer is not a did:web.")
    host, *path = did[len("did:web:") :].split(":")
    netloc = host.replace("%3A", ":").replace("%3a", ":")
    loopback = netloc.split(":")[0] in ("localhost", "127.0.0.1", "[::1]")
    scheme = "http" if loopback else "https"
    return f"{scheme}://{netloc}/" + (
        "/".join(path) + "/did.json" if path else ".well-known/did.json"
    )


def did_document(did: str, public: bytes) -> dict[str, Any]:
    method = f"{did}#key-1"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": multikey(public),
            }
        ],
        "assertionMethod": [method],
    }


# --- status lists ----------------------------------------------------------------------------


def encode_status(revoked: Iterable[int], size: int = STATUS_BITS) -> str:
    bits = bytearray(size // 8)
    for index in revoked:
        if 0 <= index < size:
            bits[index // 8] |= 0x80 >> (index % 8)  # index 0 is the first byte's leftmost bit
    packed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def status_bit(encoded: str, index: int) -> bool:
    if not encoded.startswith("u"):
        raise CredentialError("The status list is not multibase base64url.")
    raw = encoded[1:]
    limit = 16 * STATUS_BITS  # 2 Mi entries: larger is not a list this verifier reads
    try:
        inflater = zlib.decompressobj(wbits=31)
        bits = inflater.decompress(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), limit)
    except (ValueError, zlib.error) as error:
        raise CredentialError("The status list could not be decoded.") from error
    if inflater.unconsumed_tail:
        raise CredentialError("The status list is larger than any this verifier reads.")
    if not 0 <= index < len(bits) * 8:
        raise CredentialError("The credential's status index is outside its list.")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


# --- Open Badges -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Badge:
    """What an OpenBadgeCredential states (built by the server from a stored result)."""

    credential_id: str  # a URL: where the credential is served
    issuer_did: str
    issuer_name: str
    issuer_url: str
    achievement_id: str
    achievement_name: str
    achievement_description: str
    criteria: str
    creator_id: str  # the organisation that made the assessment
    creator_name: str
    valid_from: str  # XML Schema dateTime, UTC
    candidate_name: str
    email_hash: str  # "sha256$..." of the e-mail address and the salt, or "" if none is known
    salt: str
    levels: tuple[tuple[str, str, str, str], ...]  # (key, name, achieved level, its sentence)
    allowed_levels: tuple[str, ...]
    status_list: str  # the status list credential's URL
    status_index: int
    submission_sha256: str


def open_badge(badge: Badge) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential of ``badge``."""
    descriptions: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for key, name, level, sentence in badge.levels:
        rid = f"{badge.achievement_id}#{key}"
        criteria: list[dict[str, Any]] = []
        for allowed in badge.allowed_levels:
            entry: dict[str, Any] = {
                "id": f"{rid}-{allowed}",
                "type": ["RubricCriterionLevel"],
                "name": allowed.capitalize(),
            }
            if sentence and allowed == level:
                entry["description"] = sentence
            criteria.append(entry)
        descriptions.append(
            {
                "id": rid,
                "type": ["ResultDescription"],
                "name": name,
                "resultType": "RubricCriterionLevel",
                "allowedValue": [allowed.capitalize() for allowed in badge.allowed_levels],
                "rubricCriterionLevel": criteria,
            }
        )
        results.append(
            {
                "type": ["Result"],
                "resultDescription": rid,
                "achievedLevel": f"{rid}-{level}",
                "value": level.capitalize(),
            }
        )
    identifiers = [
        {
            "type": "IdentityObject",
            "identityType": "name",
            "hashed": False,
            "identityHash": badge.candidate_name,
        }
    ]
    if badge.email_hash:
        identifiers.append(
            {
                "type": "IdentityObject",
                "identityType": "emailAddress",
                "hashed": True,
                "identityHash": badge.email_hash,
                "salt": badge.salt,
            }
        )
    digest = base64.urlsafe_b64encode(bytes.fromhex(badge.submission_sha256)).decode().rstrip("=")
    return {
        "@context": [VC_V2, OB_V3],
        "id": badge.credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{badge.achievement_name}: {badge.candidate_name}",
        "issuer": {
            "id": badge.issuer_did,
            "type": ["Profile"],
            "name": badge.issuer_name,
            "url": badge.issuer_url,
        },
        "validFrom": badge.valid_from,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": identifiers,
            "achievement": {
                "id": badge.achievement_id,
                "type": ["Achievement"],
                "achievementType": "Assessment",
                "name": badge.achievement_name,
                "description": badge.achievement_description,
                "criteria": {"narrative": badge.criteria},
                "creator": {
                    "id": badge.creator_id,
                    "type": ["Profile"],
                    "name": badge.creator_name,
                },
                "resultDescription": descriptions,
            },
            "result": results,
        },
        "evidence": [
            {
                "id": f"ni:///sha-256;{digest}",
                "type": ["Evidence"],
                "name": "The signed submission this result scored",
                "description": f"SHA-256 {badge.submission_sha256}",
            }
        ],
        "credentialStatus": {
            "id": f"{badge.status_list}#{badge.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(badge.status_index),
            "statusListCredential": badge.status_list,
        },
    }


def email_hash(email: str, salt: str) -> str:
    """OB 3.0's hashed identity: ``sha256$`` and the hex SHA-256 of the address then the salt."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def status_list_credential(
    url: str, issuer_did: str, valid_from: str, encoded: str
) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer_did,
        "validFrom": valid_from,
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encoded,
        },
    }
