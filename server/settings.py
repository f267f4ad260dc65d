"""The server's configuration: one typed object, read once at start and passed down."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from certificates.authority import SigningFiles
from shared.models import MIN_COHORT
from shared.protocol import MAX_BODY_BYTES


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests per ``per_s`` seconds for one subject (an address or device)."""

    count: int
    per_s: int


# Abuse limits, per client address or per device. Every guessable value sits behind one: an
# invitation code (enrol_failed), a verification code (verify_failed), an unlock release (start).
DEFAULT_LIMITS: dict[str, Limit] = {
    "enrol": Limit(120, 60),  # enrolment attempts per address
    "enrol_failed": Limit(20, 600),  # unknown invitation codes per address
    "start": Limit(10, 60),  # unlock code releases per device
    "submit": Limit(300, 60),  # submissions per device (an outbox of 100 drains at once)
    "device": Limit(600, 60),  # any signed request per device
    "verify": Limit(120, 60),  # certificate look-ups per address
    "verify_failed": Limit(30, 600),  # unknown verification codes per address
    "public": Limit(600, 60),  # server key, practice questions, API document per address
    "hand_in": Limit(600, 60),  # hand-in files uploaded per address (a proctor's whole room)
    "employer": Limit(1200, 60),  # employer API requests per session or token
    "sign_in": Limit(30, 60),  # employer sign-in attempts per address
    "sign_in_failed": Limit(10, 900),  # wrong passwords or codes per account
    "password_code": Limit(5, 3600),  # password-reset e-mails per account
    "register": Limit(20, 3600),  # self-registration e-mails per address
    "register_failed": Limit(10, 900),  # wrong e-mail verification codes per address
}

CONFIG_FILE = "server.json"


@dataclass(frozen=True)
class Smtp:
    """Where e-mail goes: ``security`` is "starttls" (port 587), "tls" (465) or "none" (a relay
    on the same machine). The password is read from ``EXAMGATE_SMTP_PASSWORD`` or from
    ``keys/smtp-password`` in the data folder (mode 0600), never from server.json."""

    host: str
    port: int = 587
    security: str = "starttls"
    username: str | None = None
    sender: str = "examgate <no-reply@localhost>"
    timeout_s: float = 30.0
    ca_file: str | None = None  # a private authority the relay's certificate is signed by

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Smtp:
        security = str(value.get("security", "starttls"))
        if security not in ("starttls", "tls", "none"):
            raise ValueError("smtp.security must be starttls, tls or none")
        return cls(
            host=str(value["host"]),
            port=int(value.get("port", 465 if security == "tls" else 587)),
            security=security,
            username=value.get("username"),
            sender=str(value.get("sender", cls.sender)),
            timeout_s=float(value.get("timeout_s", cls.timeout_s)),
            ca_file=value.get("ca_file"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "username": self.username,
            "sender": self.sender,
            "timeout_s": self.timeout_s,
            "ca_file": self.ca_file,
        }


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    public_url: str = "http://127.0.0.1:8080"
    # Whether the public address was given (argument, environment or init); if not, ``serve``
    # uses the address it actually listens on, so links and QR codes reach this server.
    public_url_set: bool = False
    max_body_bytes: int = MAX_BODY_BYTES
    # Results give a percentile once the assessment has this many (shared.models.MIN_COHORT).
    min_cohort: int = MIN_COHORT
    limits: dict[str, Limit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    # None: e-mail is written as .eml files to ``mail_dir`` (for a server with no mail relay,
    # and for the demo), never lost.
    smtp: Smtp | None = None
    # Whether webhooks may be delivered to loopback, private and link-local addresses (off: an
    # organisation cannot make the server call into the network it runs in).
    webhook_private_addresses: bool = False
    # Who issues certificates for sittings no organisation administers (the operator).
    issuer_name: str = "examgate"
    # An RFC 3161 timestamp authority: certificates' signatures then carry its timestamp (B-T).
    timestamp_url: str | None = None
    # Uploads are scored as they arrive while at most this many are in flight in a process;
    # past it (an end-of-exam burst) each is verified, stored and receipted at once and scored
    # by the ``score`` job moments later (0: always so). EXAMGATE_SCORE_INLINE_LIMIT or
    # "score_inline_limit" in server.json.
    score_inline_limit: int = 4

    @property
    def signing_files(self) -> SigningFiles:
        """The document-signing key, its certificate chain and the authority's certificate."""
        return SigningFiles.under(self.data_dir / "keys")

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    @property
    def smtp_password_file(self) -> Path:
        return self.data_dir / "keys" / "smtp-password"

    @property
    def key_file(self) -> Path:
        return self.data_dir / "keys" / "server-signing.key"

    @property
    def kex_key_file(self) -> Path:
        return self.data_dir / "keys" / "server-kex.key"

    @classmethod
    def load(
        cls, data_dir: Path, database_url: str | None = None, public_url: str | None = None
    ) -> Settings:
        """Settings for ``data_dir``: arguments, then the environment, then what ``init`` saved."""
        data_dir = data_dir.resolve()
        saved: dict[str, Any] = {}
        config = data_dir / CONFIG_FILE
        if config.exists():
            saved = json.loads(config.read_text(encoding="utf-8"))
        database_url = (
            database_url
            or os.environ.get("EXAMGATE_DATABASE_URL")
            or saved.get("database_url")
            or f"sqlite:///{data_dir / 'examgate.db'}"
        )
        given = public_url or os.environ.get("EXAMGATE_PUBLIC_URL") or saved.get("public_url")
        limits = dict(DEFAULT_LIMITS)
        # An operator may raise a limit, say "enrol" for a test centre whose candidates all
        # come from one address: {"limits": {"enrol": [600, 60]}} in server.json.
        for name, value in dict(saved.get("limits") or {}).items():
            if name in limits and isinstance(value, list) and len(value) == 2:
                limits[name] = Limit(int(value[0]), int(value[1]))
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            public_url=(given or cls.public_url).rstrip("/"),
            public_url_set=bool(given),
            limits=limits,
            smtp=Smtp.from_json(saved["smtp"]) if saved.get("smtp") else None,
            webhook_private_addresses=bool(saved.get("webhook_private_addresses"))
            or os.environ.get("EXAMGATE_WEBHOOK_PRIVATE_ADDRESSES") == "1",
            issuer_name=str(saved.get("issuer_name") or cls.issuer_name),
            timestamp_url=os.environ.get("EXAMGATE_TIMESTAMP_URL") or saved.get("timestamp_url"),
            score_inline_limit=max(
                0,
                int(
                    os.environ.get("EXAMGATE_SCORE_INLINE_LIMIT")
                    or saved.get("score_inline_limit", cls.score_inline_limit)
                ),
            ),
        )

    def save(self) -> None:
        """Remember the database and public address so ``serve`` finds them."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)  # the database holds personal data and unlock codes
        body: dict[str, Any] = {"database_url": self.database_url}
        if self.public_url_set:
            body["public_url"] = self.public_url
        changed = {
            k: [v.count, v.per_s] for k, v in self.limits.items() if DEFAULT_LIMITS.get(k) != v
        }
        if changed:
            body["limits"] = changed
        if self.smtp is not None:
            body["smtp"] = self.smtp.to_json()
        if self.webhook_private_addresses:
            body["webhook_private_addresses"] = True
        if self.issuer_name != Settings.issuer_name:
            body["issuer_name"] = self.issuer_name
        if self.timestamp_url:
            body["timestamp_url"] = self.timestamp_url
        if self.score_inline_limit != Settings.score_inline_limit:
            body["score_inline_limit"] = self.score_inline_limit
        path = self.data_dir / CONFIG_FILE
        # The database URL may hold a password: the file is the server user's alone.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(body, indent=2) + "\n")
        os.chmod(path, 0o600)
