"""The Data Integrity proof against the W3C's published eddsa-rdfc-2022 test vectors
(tests/data/vc-di-eddsa, from the vc-di-eddsa specification; SOURCE.md names them): the
canonical forms and hashes match byte for byte, the signed vectors verify, and signing the
unsigned credential with the vectors' key gives the published proof value exactly (Ed25519 is
deterministic). Then the ways a proof must fail."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from certificates import credential

VECTORS = Path(__file__).resolve().parents[1] / "data" / "vc-di-eddsa"
SUITE = VECTORS / "eddsa-rdfc-2022"
CASES = [(VECTORS / "unsigned.json", SUITE), (VECTORS / "employmentAuth.json", SUITE / "employ")]


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _secret() -> Ed25519PrivateKey:
    raw = credential.b58decode(_json(VECTORS / "keyPair.json")["privateKeyMultibase"][1:])
    assert raw[:2] == b"\x80\x26"  # the multicodec of an Ed25519 private key
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


@pytest.mark.parametrize(("unsigned", "folder"), CASES)
def test_canonical_forms_and_hashes_match_the_published_ones(unsigned: Path, folder: Path) -> None:
    document = _json(unsigned)
    options = _json(folder / "proofConfigDataInt.json")
    assert credential.canonical(document) == (folder / "canonDocDataInt.txt").read_text()
    assert credential.canonical(options) == (folder / "proofCanonDataInt.txt").read_text()
    doc_hash = hashlib.sha256(credential.canonical(document).encode()).hexdigest()
    assert doc_hash == (folder / "docHashDataInt.txt").read_text().strip()
    combined = credential._hash_data(document, options).hex()
    assert combined == (folder / "combinedHashDataInt.txt").read_text().strip()


@pytest.mark.parametrize(("unsigned", "folder"), CASES)
def test_the_signed_vectors_verify_and_signing_reproduces_them(
    unsigned: Path, folder: Path
) -> None:
    signed = _json(folder / "signedDataInt.json")
    verified = credential.verify(signed, credential.did_key_resolver, issuer_controls=False)
    assert verified.verification_method == signed["proof"]["verificationMethod"]
    public = _json(VECTORS / "keyPair.json")["publicKeyMultibase"]
    assert credential.multikey(credential.from_multikey(public).public_bytes_raw()) == public
    options = _json(folder / "proofConfigDataInt.json")
    ours = credential.sign(
        _json(unsigned), _secret(), options["verificationMethod"], options["created"]
    )
    assert ours["proof"]["proofValue"] == signed["proof"]["proofValue"]
    assert ours["proof"]["proofValue"] == (folder / "sigBTC58DataInt.txt").read_text().strip()


def test_every_change_to_a_signed_vector_is_refused() -> None:
    signed = _json(SUITE / "signedDataInt.json")

    def refused(change: Any) -> None:
        document = copy.deepcopy(signed)
        change(document)
        with pytest.raises(credential.CredentialError):
            credential.verify(document, credential.did_key_resolver, issuer_controls=False)

    refused(lambda d: d["credentialSubject"].update(alumniOf="The School of Forgery"))
    refused(lambda d: d.update(validFrom="2024-01-01T00:00:00Z"))
    refused(lambda d: d["proof"].update(proofPurpose="authentication"))
    refused(lambda d: d["proof"].update(cryptosuite="ecdsa-rdfc-2019"))
    refused(lambda d: d["proof"].update(proofValue=d["proof"]["proofValue"][:-2] + "11"))
    refused(lambda d: d["proof"].update(proofValue="u" + d["proof"]["proofValue"][1:]))
    refused(
        lambda d: d["proof"].update(
            verificationMethod="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
            "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
        )
    )
    refused(lambda d: d.update({"@context": [*d["@context"], "https://example.org/unknown/v1"]}))
    refused(lambda d: d.pop("proof"))
    # The issuer-controls rule Open Badges needs: this vector's key is not its issuer's.
    with pytest.raises(credential.CredentialError, match="issuer"):
        credential.verify(signed, credential.did_key_resolver)


def test_a_property_json_ld_would_drop_is_refused_not_left_unsigned() -> None:
    document = _json(VECTORS / "unsigned.json")
    document["@context"] = [document["@context"][0], {"@version": 1.1, "alumniOf": None}]
    with pytest.raises(credential.CredentialError, match="does not define"):
        credential.canonical(document)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=80))
def test_base58_round_trips(data: bytes) -> None:
    assert credential.b58decode(credential.b58encode(data)) == data


@settings(max_examples=30, deadline=None)
@given(st.sets(st.integers(0, credential.STATUS_BITS - 1), max_size=40))
def test_status_lists_hold_exactly_the_revoked_entries(revoked: set[int]) -> None:
    encoded = credential.encode_status(revoked)
    probes = revoked | {0, 1, 7, 8, credential.STATUS_BITS - 1}
    for index in probes:
        assert credential.status_bit(encoded, index) is (index in revoked)


def test_a_status_list_bomb_is_refused() -> None:
    import base64
    import gzip

    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    encoded = "u" + base64.urlsafe_b64encode(bomb).decode().rstrip("=")
    with pytest.raises(credential.CredentialError, match="larger"):
        credential.status_bit(encoded, 0)


def test_did_web_names_and_locations() -> None:
    assert credential.did_web("https://exams.example.com") == "did:web:exams.example.com"
    assert credential.did_web("http://127.0.0.1:8080") == "did:web:127.0.0.1%3A8080"
    assert credential.did_web("https://example.com/exam/gate") == "did:web:example.com:exam:gate"
    assert credential.did_web_url("did:web:exams.example.com") == (
        "https://exams.example.com/.well-known/did.json"
    )
    assert credential.did_web_url("did:web:127.0.0.1%3A8080") == (
        "http://127.0.0.1:8080/.well-known/did.json"
    )
    assert credential.did_web_url("did:web:example.com:exam:gate") == (
        "https://example.com/exam/gate/did.json"
    )
