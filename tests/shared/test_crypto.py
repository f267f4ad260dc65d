from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import canonical, crypto
from shared.errors import CannotOpen, InvalidSignature, MalformedData

VECTORS = Path(__file__).with_name("vectors")


def test_signed_document_verifies_and_any_change_fails() -> None:
    key = crypto.generate_signing_key()
    document = crypto.sign_document({"a": 1, "b": ["x"]}, key)
    assert crypto.verify_document(document, crypto.public_bytes(key)) == {"a": 1, "b": ["x"]}
    altered = {"body": {"a": 2, "b": ["x"]}, "signature": document["signature"]}
    with pytest.raises(InvalidSignature):
        crypto.verify_document(altered, crypto.public_bytes(key))
    other = crypto.generate_signing_key()
    with pytest.raises(InvalidSignature):
        crypto.verify_document(document, crypto.public_bytes(other))


@pytest.mark.parametrize("document", [None, [], {"body": 1, "signature": "x"}, {"body": {}}])
def test_a_document_that_is_not_signed_is_malformed(document: object) -> None:
    with pytest.raises(MalformedData):
        crypto.verify_document(document, crypto.public_bytes(crypto.generate_signing_key()))


def test_seal_needs_both_the_device_key_and_the_unlock_code() -> None:
    device, other_device = crypto.generate_kex_key(), crypto.generate_kex_key()
    sealed = crypto.seal(
        b"secret items",
        header={"package_id": "p1"},
        recipient_public=crypto.public_bytes(device),
        unlock_code="7KQ2-M9XD-4TNB",
    )
    assert b"secret" not in json.dumps(sealed).encode()
    # Codes are read aloud: case, spaces and look-alike letters do not matter.
    assert (
        crypto.open_sealed(sealed, recipient=device, unlock_code="7kq2 m9xd 4tnb")
        == b"secret items"
    )
    with pytest.raises(CannotOpen):
        crypto.open_sealed(sealed, recipient=device, unlock_code="7KQ2-M9XD-4TNC")
    with pytest.raises(CannotOpen):
        crypto.open_sealed(sealed, recipient=other_device, unlock_code="7KQ2-M9XD-4TNB")


def test_the_header_is_authenticated() -> None:
    device = crypto.generate_kex_key()
    sealed = crypto.seal(
        b"x",
        header={"duration_s": 480},
        recipient_public=crypto.public_bytes(device),
        unlock_code="AAAA-BBBB-CCCC",
    )
    sealed["header"]["duration_s"] = 4800
    with pytest.raises(CannotOpen):
        crypto.open_sealed(sealed, recipient=device, unlock_code="AAAA-BBBB-CCCC")


def test_a_hostile_key_derivation_cost_is_refused_before_any_work() -> None:
    device = crypto.generate_kex_key()
    sealed = crypto.seal(
        b"x", header={}, recipient_public=crypto.public_bytes(device), unlock_code="AAAA-BBBB-CCCC"
    )
    sealed["header"]["seal"]["scrypt_n"] = 2**30
    with pytest.raises(MalformedData):
        crypto.open_sealed(sealed, recipient=device, unlock_code="AAAA-BBBB-CCCC")


def test_published_vector_still_opens() -> None:
    """A package sealed by version 1 must open forever: the format is frozen by this file."""
    vector = json.loads((VECTORS / "sealed-v1.json").read_text())
    device = crypto.kex_key_from_bytes(crypto.b64decode(vector["recipient_private"]))
    plaintext = crypto.open_sealed(
        vector["sealed"], recipient=device, unlock_code=vector["unlock_code"]
    )
    assert plaintext.decode() == vector["plaintext"]
    signer = crypto.b64decode(vector["signer_public"])
    assert crypto.verify_document(vector["signed"], signer) == vector["signed"]["body"]


def test_unlock_codes_are_unambiguous_and_random() -> None:
    codes = {crypto.new_unlock_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert len(code) == 14 and code.count("-") == 2
        assert not set(code) & set("ILOU")


def test_fingerprint_is_stable_and_grouped() -> None:
    assert crypto.fingerprint(b"\x00" * 32) == crypto.fingerprint(b"\x00" * 32)
    assert len(crypto.fingerprint(b"\x01" * 32).split(" ")) == 8


@settings(max_examples=200)
@given(
    st.dictionaries(
        st.text(), st.none() | st.booleans() | st.integers() | st.text() | st.lists(st.text())
    ),
    st.text(),
)
def test_a_signed_documents_bytes_are_its_canonical_json(
    body: dict[str, object], signature: str
) -> None:
    document = {"body": body, "signature": signature}
    assert crypto.signed_document_bytes(document) == (
        canonical.dumps(body),
        canonical.dumps(document),
    )
