"""Crypto recipes: sign, verify, seal and open. The primitives stay inside this module.

- Signatures are Ed25519 over canonical JSON; a signed document travels as
  ``{"body": {...}, "signature": "<base64url>"}``.
- A sealed package is encrypted with AES-256-GCM under a key that needs both the recipient
  device's X25519 private key and the sitting's unlock code (scrypt), joined by HKDF-SHA256.
  The header is authenticated as associated data and the whole package is signed.

- A proctor's unlock response is an HMAC the server (and the proctor's tool) computes from a
  secret the client never holds. The client holds only *commitments* to the responses of a few
  server-chosen challenges: scrypt of each response, so checking one guess costs a slow KDF
  and an offline search of a 50-bit response space is out of reach (see ``UNLOCK_SCRYPT_N``).

Every failure to verify raises ``InvalidSignature``; every failure to decrypt raises
``CannotOpen``; neither says which check failed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from shared import canonical
from shared.errors import CannotOpen, InvalidSignature, MalformedData, Tampered

__all__ = [
    "Ed25519PrivateKey",
    "X25519PrivateKey",
    "b64decode",
    "b64encode",
    "code_key",
    "decrypt_at_rest",
    "decrypt_sent",
    "encrypt_at_rest",
    "encrypt_to",
    "fingerprint",
    "generate_kex_key",
    "generate_signing_key",
    "new_unlock_code",
    "normalise_unlock_code",
    "open_sealed",
    "private_bytes",
    "proctor_challenges",
    "proctor_response",
    "public_bytes",
    "response_matches_commitment",
    "seal",
    "shared_key",
    "sign_document",
    "signature_matches",
    "unlock_commitments",
    "verify_document",
    "x25519_public_from_bytes",
]

PACKAGE_KEY_INFO = b"examgate package key v1"
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
# Accepted scrypt costs when opening: low enough that a hostile header cannot exhaust memory,
# high enough that nobody seals with a cost that makes guessing unlock codes cheap.
_SCRYPT_N_RANGE = (2**14, 2**17)
# Unlock commitments: scrypt at N = 2^14, r = 8 (16 MiB, ~46 ms a guess on one core here). A
# response has 50 bits, so an offline search of one commitment needs ~2^49 such guesses: about
# 800,000 core-years, or 18 years at a million guesses a second.
UNLOCK_SCRYPT_N = 2**14
UNLOCK_CHALLENGES = 8
# Crockford base32: no I, L, O or U, so a code read aloud or off paper is unambiguous.
_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

Random = Callable[[int], bytes]


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: object, what: str = "value") -> bytes:
    """Decode unpadded base64url; anything else is ``MalformedData``."""
    if not isinstance(text, str):
        raise MalformedData(f"The {what} is not a base64 string.")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise MalformedData(f"The {what} is not valid base64.") from error


def generate_signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def generate_kex_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def private_bytes(key: Ed25519PrivateKey | X25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def signing_key_from_bytes(raw: bytes) -> Ed25519PrivateKey:
    try:
        return Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError as error:
        raise MalformedData("The stored signing key is damaged.") from error


def kex_key_from_bytes(raw: bytes) -> X25519PrivateKey:
    try:
        return X25519PrivateKey.from_private_bytes(raw)
    except ValueError as error:
        raise MalformedData("The stored key-exchange key is damaged.") from error


def fingerprint(public_key: bytes) -> str:
    """A human-comparable fingerprint of a public key: SHA-256, hex, in groups of four."""
    digest = hashlib.sha256(public_key).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def sign_document(body: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """Sign ``body`` (canonical JSON) and return the signed document."""
    return {"body": body, "signature": b64encode(key.sign(canonical.dumps(body)))}


def signed_document_bytes(document: dict[str, Any]) -> tuple[bytes, bytes]:
    """The canonical bytes of a signed document's body (what was signed) and of the whole
    document, made with one encoding of the body."""
    if set(document) != {"body", "signature"} or not isinstance(document["signature"], str):
        raise MalformedData("The data is not a signed document.")
    body = canonical.dumps(document["body"])
    # Canonical JSON of {"body": B, "signature": S}: the keys in order, no white space.
    return body, b'{"body":' + body + b',"signature":' + canonical.dumps(
        document["signature"]
    ) + b"}"


def verify_document(
    document: object,
    public_key: bytes | Ed25519PublicKey,
    what: str = "data",
    signed: bytes | None = None,
) -> dict[str, Any]:
    """Return the body of a signed document if ``public_key`` signed it, else raise.
    ``signed``: the body's canonical bytes, when the caller has made them already."""
    if not isinstance(document, dict) or set(document) != {"body", "signature"}:
        raise MalformedData(f"The {what} is not a signed document.")
    body = document["body"]
    if not isinstance(body, dict):
        raise MalformedData(f"The {what} is not a signed document.")
    signature = b64decode(document["signature"], "signature")
    try:
        if not isinstance(public_key, Ed25519PublicKey):
            public_key = Ed25519PublicKey.from_public_bytes(public_key)
        public_key.verify(signature, canonical.dumps(body) if signed is None else signed)
    except (_CryptoInvalidSignature, ValueError) as error:
        raise InvalidSignature(what) from error
    return body


def signature_matches(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Whether ``signature`` is ``public_key``'s Ed25519 signature of ``message``."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except (_CryptoInvalidSignature, ValueError):
        return False
    return True


def new_unlock_code(randbelow: Callable[[int], int] = secrets.randbelow, groups: int = 3) -> str:
    """A fresh code like ``7KQ2-M9XD-4TNB``: ``groups`` groups of four, 20 bits each."""
    chars = "".join(_CODE_ALPHABET[randbelow(32)] for _ in range(4 * groups))
    return "-".join(chars[i : i + 4] for i in range(0, len(chars), 4))


def normalise_unlock_code(code: str) -> str:
    """Upper-case, drop separators, and read look-alike letters as the digits they resemble."""
    text = code.upper().translate(str.maketrans("OIL", "011"))
    return "".join(ch for ch in text if ch not in " -\t")


def _crockford(number: int, length: int) -> str:
    return "".join(_CODE_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(length)))


def proctor_challenges(secret: bytes, sitting_id: str, count: int = UNLOCK_CHALLENGES) -> list[str]:
    """The lock challenges of a sitting, in the order the client uses them (``XXXX-XXXX``).

    Derived from the sitting's proctor secret, so the server re-derives them to judge an
    unlock without storing them."""
    challenges = []
    for index in range(count):
        message = f"examgate-challenge/1\n{sitting_id}\n{index}".encode()
        number = int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:5], "big")
        chars = _crockford(number, 8)
        challenges.append(f"{chars[:4]}-{chars[4:]}")
    return challenges


def proctor_response(secret: bytes, sitting_id: str, challenge: str) -> str:
    """The code a proctor reads out to unlock a locked sitting: HMAC-SHA256 of the sitting and
    the challenge under the sitting's proctor secret, as 10 Crockford characters (50 bits),
    ``XXXXX-XXXXX``. Only the server and the proctor's tool can compute it."""
    message = f"examgate-proctor/2\n{sitting_id}\n{normalise_unlock_code(challenge)}".encode()
    number = int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:7], "big") >> 6
    chars = _crockford(number, 10)
    return f"{chars[:5]}-{chars[5:]}"


def _commit(response: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(
        normalise_unlock_code(response).encode("utf-8")
    )


def unlock_commitments(
    secret: bytes,
    sitting_id: str,
    *,
    count: int = UNLOCK_CHALLENGES,
    random: Random = os.urandom,
    scrypt_n: int = UNLOCK_SCRYPT_N,
) -> dict[str, Any]:
    """What the client needs to *check* proctor responses offline, and nothing that computes
    one: for each challenge, a salt and scrypt(response, salt)."""
    entries = []
    for challenge in proctor_challenges(secret, sitting_id, count):
        salt = random(16)
        commitment = _commit(proctor_response(secret, sitting_id, challenge), salt, scrypt_n)
        entries.append(
            {"challenge": challenge, "salt": b64encode(salt), "commitment": b64encode(commitment)}
        )
    return {"kdf": "scrypt", "scrypt_n": scrypt_n, "challenges": entries}


def response_matches_commitment(entry: dict[str, Any], scrypt_n: int, given: str) -> bool:
    """Whether ``given`` is the response committed to in ``entry`` (one slow KDF)."""
    if not isinstance(scrypt_n, int) or not _SCRYPT_N_RANGE[0] <= scrypt_n <= _SCRYPT_N_RANGE[1]:
        raise MalformedData("The unlock check asks for an unsupported key derivation.")
    salt = b64decode(entry.get("salt"), "unlock salt")
    expected = b64decode(entry.get("commitment"), "unlock commitment")
    if len(normalise_unlock_code(given)) != 10:
        return False
    return hmac.compare_digest(_commit(given, salt, scrypt_n), expected)


def x25519_public_from_bytes(raw: bytes) -> X25519PublicKey:
    try:
        return X25519PublicKey.from_public_bytes(raw)
    except ValueError as error:
        raise MalformedData("A key-exchange public key is damaged.") from error


def shared_key(private: X25519PrivateKey, peer_public: bytes, info: bytes) -> bytes:
    """A 32-byte key both ends of an X25519 exchange derive (HKDF-SHA256 over the secret)."""
    try:
        secret = private.exchange(x25519_public_from_bytes(peer_public))
    except ValueError as error:  # a low-order point: no shared secret to derive
        raise MalformedData("A key-exchange public key is not usable.") from error
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)


def code_key(unlock_code: str, salt: bytes, n: int = SCRYPT_N) -> bytes:
    """The slow half of a package key: scrypt of the unlock code. Depends on nothing but the
    code and the salt, so a server derives it ahead of download (``seal(prepared=...)``)."""
    return Scrypt(salt=salt, length=32, n=n, r=SCRYPT_R, p=SCRYPT_P).derive(
        normalise_unlock_code(unlock_code).encode("utf-8")
    )


def _package_key(
    shared_secret: bytes,
    unlock_code: str,
    salt: bytes,
    n: int,
    context: bytes,
    derived: bytes | None = None,
) -> bytes:
    derived = derived if derived is not None else code_key(unlock_code, salt, n)
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=PACKAGE_KEY_INFO + context
    ).derive(shared_secret + derived)


def seal(
    plaintext: bytes,
    *,
    header: dict[str, Any],
    recipient_public: bytes,
    unlock_code: str,
    random: Random = os.urandom,
    scrypt_n: int = SCRYPT_N,
    prepared: tuple[bytes, bytes] | None = None,
) -> dict[str, Any]:
    """Encrypt ``plaintext`` for one device and one unlock code.

    ``prepared`` is ``(salt, code_key(unlock_code, salt, scrypt_n))`` derived ahead of time;
    without it the slow derivation happens here.

    Returns ``{"header": ..., "ciphertext": ...}``; the header gains a ``seal`` entry with what the
    recipient needs (ephemeral public key, scrypt salt and cost, nonce). Sign the result with
    ``sign_document`` to make a package.
    """
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = public_bytes(ephemeral)
    shared_secret = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    salt, nonce = random(16), random(12)
    derived = None
    if prepared is not None:
        salt, derived = prepared
    full_header = dict(header)
    full_header["seal"] = {
        "alg": "X25519+scrypt/HKDF-SHA256/AES-256-GCM",
        "ephemeral_public": b64encode(ephemeral_public),
        "recipient_public": b64encode(recipient_public),
        "salt": b64encode(salt),
        "scrypt_n": scrypt_n,
        "nonce": b64encode(nonce),
    }
    key = _package_key(
        shared_secret, unlock_code, salt, scrypt_n, ephemeral_public + recipient_public, derived
    )
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, canonical.dumps(full_header))
    return {"header": full_header, "ciphertext": b64encode(ciphertext)}


def open_sealed(sealed: dict[str, Any], *, recipient: X25519PrivateKey, unlock_code: str) -> bytes:
    """Decrypt what ``seal`` made. A wrong code or a changed byte raises ``CannotOpen``."""
    header = sealed.get("header")
    if not isinstance(header, dict) or not isinstance(header.get("seal"), dict):
        raise MalformedData("The exam package has no seal.")
    info = header["seal"]
    n = info.get("scrypt_n")
    if not isinstance(n, int) or not _SCRYPT_N_RANGE[0] <= n <= _SCRYPT_N_RANGE[1] or n & (n - 1):
        raise MalformedData("The exam package asks for an unsupported key derivation.")
    ephemeral_public = b64decode(info.get("ephemeral_public"), "package key")
    recipient_public = public_bytes(recipient)
    salt = b64decode(info.get("salt"), "package salt")
    nonce = b64decode(info.get("nonce"), "package nonce")
    ciphertext = b64decode(sealed.get("ciphertext"), "package content")
    if len(ephemeral_public) != 32 or len(nonce) != 12 or len(salt) != 16:
        raise MalformedData("The exam package's seal is damaged.")
    try:
        shared_secret = recipient.exchange(X25519PublicKey.from_public_bytes(ephemeral_public))
        key = _package_key(shared_secret, unlock_code, salt, n, ephemeral_public + recipient_public)
        return AESGCM(key).decrypt(nonce, ciphertext, canonical.dumps(header))
    except (InvalidTag, ValueError) as error:
        raise CannotOpen() from error


def encrypt_at_rest(key: bytes, plaintext: bytes, context: str, random: Random = os.urandom) -> str:
    """AES-256-GCM for data kept on disk; ``context`` (say, a row's identity) is authenticated,
    so a ciphertext moved to another row does not decrypt."""
    nonce = random(12)
    return b64encode(nonce + AESGCM(key).encrypt(nonce, plaintext, context.encode()))


def decrypt_at_rest(key: bytes, token: str, context: str, what: str = "data") -> bytes:
    """Undo ``encrypt_at_rest``; any change to the token or the context raises ``Tampered``."""
    try:
        raw = b64decode(token, what)
        return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode())
    except (InvalidTag, ValueError, MalformedData) as error:
        raise Tampered(what) from error


def encrypt_to(recipient_public: bytes, plaintext: bytes, context: str) -> dict[str, str]:
    """Encrypt for the holder of an X25519 key (an ephemeral exchange, HKDF, AES-256-GCM):
    whoever carries the result learns nothing but its size."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = public_bytes(ephemeral)
    key = shared_key(ephemeral, recipient_public, context.encode() + ephemeral_public)
    nonce = os.urandom(12)
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, context.encode())
    return {
        "ephemeral_public": b64encode(ephemeral_public),
        "nonce": b64encode(nonce),
        "ciphertext": b64encode(ciphertext),
    }


def decrypt_sent(recipient: X25519PrivateKey, sealed: dict[str, Any], context: str) -> bytes:
    """Undo ``encrypt_to``; anything changed, or meant for another key, is ``MalformedData``."""
    ephemeral_public = b64decode(sealed.get("ephemeral_public"), "sender's key")
    nonce = b64decode(sealed.get("nonce"), "nonce")
    ciphertext = b64decode(sealed.get("ciphertext"), "content")
    if len(ephemeral_public) != 32 or len(nonce) != 12:
        raise MalformedData("The sealed file is damaged.")
    try:
        key = shared_key(recipient, ephemeral_public, context.encode() + ephemeral_public)
        return AESGCM(key).decrypt(nonce, ciphertext, context.encode())
    except (InvalidTag, ValueError) as error:
        raise MalformedData(
            "The file was not sealed for this server, or it has been changed since."
        ) from error
