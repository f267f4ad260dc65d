"""The candidate engine: everything the desktop app and ``simulate`` do, with no window.

engine = Engine(settings, keystore)
engine.enrol(server_url, invitation)       # keys, registration, pinned server key
engine.download(sitting_id)                # sealed package, verified, stored for offline use
code = engine.release_code(sitting_id)     # online sittings: the server releases the code
session = engine.unlock(sitting_id, code)  # decrypts; the session runs the sitting
engine.seal(session)                       # signed submission into the outbox
engine.sync()                              # upload; result and certificate come back
"""

from __future__ import annotations

import json
import platform
import random
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from client import package, submission
from client.api import ApiClient
from client.errors import (
    CertificateNotReady,
    ClientError,
    NotEnrolled,
    PackageNotReady,
    SaveFailed,
    ServerFailed,
    ServerKeyChanged,
    ServerRefused,
    ServerUnreachable,
    SittingClosed,
)
from client.journal import Journal
from client.keystore import DeviceKeys, KeyStore, load_or_create
from client.outbox import Delivered, Outbox, Status
from client.practice import PracticeItem
from client.session import Clock, ExamSession, Item, SystemClock
from client.settings import ClientSettings
from client.status import SittingView, view
from client.store import Enrolment, LocalState, connect
from shared import crypto
from shared.errors import InvalidSignature
from shared.policy import Policy
from shared.protocol import HAND_IN_FORMAT, SERVER_KEX_CONTEXT
from shared.wire import PackageHeader, PackageItem, SittingSummary

# How long fetching a certificate waits for the server to finish rendering it (a burst of
# results at the end of an exam queues them: on one SQLite process, about 90 s for the last of
# 2,000 uploaded within 10 s, measured with python -m bench.burst).
CERTIFICATE_WAIT_S = 180.0
# A server under load receipts an upload and scores it moments later: how long ``sync`` waits
# for such a result before leaving it to ``sync_due`` (which keeps asking while the app runs).
RESULT_WAIT_S = 120.0

# An adaptive sitting's next question: how long one try waits (two tries, then the sitting goes
# on with the sealed form), so a candidate never waits long on a dead connection.
STEP_TIMEOUT_S = 8.0


def server_kex_public(server: dict[str, Any], signing_public: bytes) -> bytes:
    """The server's key-exchange key, accepted only with its signature by the signing key."""
    kex = crypto.b64decode(server.get("kex_public"), "server key-exchange key")
    body = {"context": SERVER_KEX_CONTEXT, "kex_public": crypto.b64encode(kex)}
    document = {"body": body, "signature": server.get("kex_signature")}
    try:
        crypto.verify_document(document, signing_public, "server key-exchange key")
    except Exception as error:
        raise InvalidSignature("server key-exchange key") from error
    return kex


@dataclass(frozen=True)
class Step:
    """What the server said to an adaptive sitting's request for its next item: an item at a
    position, that the adaptive part is ``done`` (and why), or a ``fallback`` (why not)."""

    item: PackageItem | None = None
    position: int | None = None
    done: str | None = None
    fallback: str | None = None
    ends_ms: int | None = None


class Stepper:
    """Fetches an adaptive sitting's questions for a window: ``fetcher`` (on the window's
    thread) captures the request and returns work for a background thread; ``apply`` (on the
    window's thread again) acts on what came back."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def fetcher(self, session: ExamSession, api: ApiClient | None = None) -> Callable[[], Step]:
        api = api or self.engine.api(timeout_s=STEP_TIMEOUT_S)
        position, options = session.step_request()
        return lambda: Engine.ask_step(api, session.sitting_id, position, options)

    def apply(self, session: ExamSession, step: Step) -> None:
        self.engine.apply_step(session, step)


class Engine:
    def __init__(
        self,
        settings: ClientSettings,
        keystore: KeyStore,
        clock: Clock | None = None,
        request_clock: Callable[[], int] | None = None,
    ) -> None:
        self.settings = settings
        self.keystore = keystore
        self.clock = clock or SystemClock()
        # Requests are stamped with the computer's real clock (the server allows 5 minutes of
        # skew); the sitting's clock is a parameter of its own, so tests can move either.
        self.request_clock = request_clock or SystemClock().wall_ms
        self.db = connect(settings.database)
        self.state = LocalState(self.db)
        self.outbox = Outbox(self.db)
        self._keys: DeviceKeys | None = None
        # Work in a background thread (a certificate being fetched) touches the database only
        # under this lock, and stops once the engine is closed.
        self._lock = threading.RLock()
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self.db.close()

    def _open_or_stop(self) -> None:
        if self._closed:
            raise ClientError("The app was closed before the certificate arrived.")

    @property
    def keys(self) -> DeviceKeys:
        if self._keys is None:
            self._keys = load_or_create(self.keystore)
        return self._keys

    def enrolment(self) -> Enrolment:
        enrolment = self.state.enrolment()
        if enrolment is None:
            raise NotEnrolled()
        return enrolment

    def api(self, server_url: str | None = None, timeout_s: float | None = None) -> ApiClient:
        enrolment = self.state.enrolment()
        timeout = min(self.settings.timeout_s, timeout_s or self.settings.timeout_s)
        if server_url is not None and (enrolment is None or enrolment.server_url != server_url):
            return ApiClient(server_url, timeout_s=timeout, now_ms=self.request_clock)
        if enrolment is None:
            raise NotEnrolled()
        return ApiClient(
            enrolment.server_url,
            device_id=enrolment.device_id,
            signing_key=self.keys.signing,
            timeout_s=timeout,
            now_ms=self.request_clock,
        )

    # -- enrolment and preparation -------------------------------------------------------------
    def enrol(self, server_url: str, invitation: str) -> dict[str, Any]:
        """Register this device with an invitation and pin the server's key; return the sitting."""
        server_url = server_url.rstrip("/")
        keys = self.keys
        api = self.api(server_url)
        server = api.server_key()
        signing_public = crypto.b64decode(server.get("public_key"), "server key")
        seen = crypto.fingerprint(signing_public)
        pinned = self.state.enrolment()
        if pinned is not None and pinned.server_url == server_url and pinned.fingerprint != seen:
            raise ServerKeyChanged(pinned.fingerprint, seen)
        kex_public = server_kex_public(server, signing_public)
        answer = api.enrol(
            invitation.strip(), keys.signing, keys.kex, platform.node() or "device", kex_public
        )
        if answer["server"]["public_key"] != server["public_key"]:
            raise ServerKeyChanged(
                seen,
                crypto.fingerprint(crypto.b64decode(answer["server"]["public_key"], "server key")),
            )
        self.state.save_enrolment(
            Enrolment(
                server_url,
                server["public_key"],
                seen,
                answer["device_id"],
                crypto.b64encode(kex_public),
            )
        )
        sitting = SittingSummary.from_json(answer["sitting"]).to_json()
        self.state.save_sitting(sitting)
        return sitting

    def refresh(self) -> list[dict[str, Any]]:
        """Fetch this device's sittings from the server, keep them locally, and return them."""
        for summary in self.api().sittings():
            self.state.save_sitting(SittingSummary.from_json(summary).to_json())
        return self.state.sittings()

    def sittings(self) -> list[dict[str, Any]]:
        """The sittings known on this computer, with whether each is downloaded (no network)."""
        return self.state.sittings()

    def sitting_views(self) -> list[SittingView]:
        """Each sitting with its status in words and the actions that apply (no network)."""
        now = self.clock.wall_ms()
        return [view(s, self.outbox.for_sitting(s["id"]), now) for s in self.state.sittings()]

    def result(self, submission_id: str) -> dict[str, Any] | None:
        """A result received earlier, kept on this computer."""
        entry = self.outbox.entry(submission_id)
        return dict(entry["result"]) if entry and entry["result"] else None

    def download(self, sitting_id: str) -> PackageHeader:
        """Fetch, verify and keep the sealed package, so the sitting can run offline.

        The sitting's event chain begins here, and its public half goes with the request: the
        server holds the log to that chain, online or offline."""
        enrolment = self.enrolment()
        journal = Journal(self.db, sitting_id, self.keys.storage)
        chain_public = journal.open_chain(crypto.b64decode(enrolment.server_kex, "server key"))
        sealed = self.api().package(sitting_id, chain_public)
        header = package.verify(
            sealed, crypto.b64decode(enrolment.server_public), enrolment.device_id
        )
        if header.server_kex_public != enrolment.server_kex:
            raise InvalidSignature("exam package")
        self.state.save_package(sitting_id, sealed, header)
        return header

    def header(self, sitting_id: str) -> PackageHeader:
        """The downloaded package's verified header (no network)."""
        header = self.state.header(sitting_id)
        if header is None:
            raise PackageNotReady(
                "This exam is not downloaded on this computer yet: connect and download it first."
            )
        return header

    def sitting_policy(self, sitting_id: str) -> Policy:
        """The integrity policy in the sitting's (verified) package header; the default if the
        package is not downloaded."""
        header = self.state.header(sitting_id)
        return Policy.from_json(header.policy) if header else Policy()

    def journal(self, sitting_id: str) -> Journal:
        """The sitting's journal, its event chain begun with the server's key-exchange key."""
        journal = Journal(self.db, sitting_id, self.keys.storage)
        journal.open_chain(crypto.b64decode(self.header(sitting_id).server_kex_public))
        return journal

    def release_code(self, sitting_id: str) -> str:
        """For an online sitting: ask the server to release the unlock code (Start). The event
        chain's public half goes with it, so the server holds the log to that chain."""
        started = self.api().start(sitting_id, self.journal(sitting_id).chain_public or "")
        self.state.save_deadline(sitting_id, started["ends_ms"])
        return str(started["unlock_code"])

    # -- practice ----------------------------------------------------------------------------------
    def fetch_practice(self, server_url: str | None = None) -> list[PracticeItem]:
        """Fetch the public practice questions and keep them for offline use."""
        enrolment = self.state.enrolment()
        url = (server_url or (enrolment.server_url if enrolment else "")).rstrip("/")
        if not url:
            raise NotEnrolled()
        items = ApiClient(url, timeout_s=self.settings.timeout_s).practice()
        self.state.save_practice(url, items)
        return self.practice_items()

    def practice_items(self) -> list[PracticeItem]:
        """The practice questions kept on this computer (no network)."""
        return [PracticeItem.from_json(entry) for entry in self.state.practice()]

    # -- the sitting -------------------------------------------------------------------------------
    def unlock(self, sitting_id: str, unlock_code: str, share: bool | None = None) -> ExamSession:
        """Open the stored package with the code and return the session (resumed if begun).

        ``share``: the candidate's answer, asked before the clock starts, to whether the
        inviting organisation may see the result; None where it was not asked (nothing is
        shared then)."""
        enrolment = self.enrolment()
        sealed = self.state.package(sitting_id)
        if sealed is None:
            if self.outbox.for_sitting(sitting_id) is not None:
                raise SittingClosed()
            raise PackageNotReady(
                "This exam is not downloaded on this computer yet: connect and download it first."
            )
        opened = package.open_items(
            sealed,
            server_public=crypto.b64decode(enrolment.server_public),
            device_id=enrolment.device_id,
            kex_key=self.keys.kex,
            unlock_code=unlock_code,
            now_ms=self.clock.wall_ms(),
        )
        header = opened.header
        deadline = header.closes_ms if header.offline else self.state.deadline(sitting_id)
        served: dict[str, Item] | None = None
        if header.adaptive:
            served = {
                item.id: item
                for item in (
                    PackageItem.from_json(value)
                    for value in self.state.served(sitting_id, self.keys.storage).values()
                )
            }
        return ExamSession(
            sitting_id,
            [] if header.adaptive else opened.items,
            header.duration_s + header.extra_time_s,
            self.journal(sitting_id),
            self.clock,
            policy=Policy.from_json(header.policy),
            unlock=opened.unlock,
            deadline_ms=deadline,
            release=Policy.from_json(header.policy).release_for(header.offline),
            consent=(
                {"organisation": header.organisation_id, "share": share}
                if header.ask_consent and share is not None
                else None
            ),
            served=served,
            fallback=opened.items if header.adaptive else None,
        )

    # -- adaptive sittings ---------------------------------------------------------------------
    def fetch_step(self, session: ExamSession, api: ApiClient | None = None) -> Step:
        """Send the answer on screen and fetch the server's next item, in this thread."""
        return self.stepper().fetcher(session, api)()

    def stepper(self) -> Stepper:
        """What an exam window uses to fetch an adaptive sitting's questions."""
        return Stepper(self)

    @staticmethod
    def ask_step(
        api: ApiClient, sitting_id: str, position: int | None, options: list[str] | None
    ) -> Step:
        """Send an answer and fetch the server's next item (network only: callable from a
        worker thread). A server that cannot be reached, fails or refuses gives a fallback
        step: the sitting goes on, on the package's form."""
        answer: dict[str, Any] | None = None
        for attempt in range(2):  # the request is idempotent: one more try before giving up
            try:
                answer = api.next_step(sitting_id, position, options)
                break
            except ServerRefused as error:
                if error.code != "already_answered" or attempt:
                    return Step(fallback=str(error))
                position = options = None  # it went before: ask for the item on screen
            except (ServerUnreachable, ServerFailed) as error:
                # Whatever stops the server's items, the candidate goes on: the log says why,
                # and the server judges the whole sitting.
                if attempt:
                    return Step(fallback=str(error))
        assert answer is not None
        if answer.get("done"):
            return Step(done=str(answer.get("reason", "time_up")), ends_ms=answer.get("ends_ms"))
        return Step(
            item=PackageItem.from_json(answer.get("item")),
            position=int(answer["position"]),
            ends_ms=answer.get("ends_ms"),
        )

    def apply_step(self, session: ExamSession, step: Step) -> None:
        """Act on a fetched step (on the thread that owns the session): keep and show the new
        item, continue on the fallback form, or end the sitting as the server says."""
        if step.ends_ms is not None and not session.fell_back:
            session.deadline_ms = int(step.ends_ms)
        if step.fallback is not None:
            session.fall_back(step.fallback)
        elif step.item is not None and step.position is not None:
            if step.item.id not in session.positions:
                if step.position != len(session.positions):  # not the next: never expected
                    session.fall_back("The server's next question was out of step.")
                    return
                try:
                    self.state.save_served(
                        session.sitting_id, step.position, step.item.to_json(), self.keys.storage
                    )
                except (sqlite3.Error, OSError) as error:
                    raise SaveFailed(str(error)) from error
            session.serve(step.item, step.position)
        elif step.done is not None:
            if not session.positions and step.done != "time_up":
                # No question from the server at all: the sealed form is the sitting.
                session.fall_back(f"The server had no questions for this sitting ({step.done}).")
            else:
                session.finish("time_up" if step.done == "time_up" else "finished")

    def next_question(self, session: ExamSession) -> None:
        """``fetch_step`` then ``apply_step``, in one thread (``simulate`` and tests)."""
        if session.awaiting():
            self.apply_step(session, self.fetch_step(session))

    def seal(self, session: ExamSession) -> str:
        """Sign the ended sitting's submission into the outbox and delete the package and the
        journal in the same transaction; return the submission id."""
        existing = self.outbox.for_sitting(session.sitting_id)
        if existing is not None:
            return str(existing["submission_id"])
        enrolment = self.enrolment()
        header = self.header(session.sitting_id)
        document = submission.build(session, header, enrolment.device_id, self.keys.signing)
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            submission_id = self.outbox.put(session.sitting_id, document)
            self.state.purge_sitting(session.sitting_id)
        self.state.truncate_wal()
        return submission_id

    def sync(
        self,
        *,
        attempts: int | None = 6,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        result_wait_s: float = RESULT_WAIT_S,
    ) -> list[Delivered]:
        """Upload every pending submission (each up to ``attempts`` times this call; None: until
        it is received or refused for good) and return what the server acknowledged. Every
        failure is recorded in the outbox; if nothing could be delivered, the first is raised.

        A server under load receipts an upload before scoring it: its result (and that of any
        earlier such upload) is waited for, politely, up to ``result_wait_s``; one that has
        not come by then is delivered with ``result`` None, and ``sync_due`` asks again later."""
        enrolment = self.enrolment()
        public = crypto.b64decode(enrolment.server_public)
        api = self.api()
        rng = rng or random.Random()  # noqa: S311 (jitter)
        delivered, errors = [], []
        for sid in self.outbox.pending():
            try:
                delivered.append(
                    self.outbox.deliver(
                        sid,
                        api,
                        public,
                        attempts=attempts,
                        sleep=sleep,
                        rng=rng,
                        now_ms=self.request_clock,
                    )
                )
            except ClientError as error:
                errors.append(error)
        if errors and not delivered:
            raise errors[0]
        received = {d.submission_id for d in delivered}
        earlier = [Delivered(sid, None) for sid in self.outbox.unscored() if sid not in received]
        return [
            self._await_result(d, api, result_wait_s, sleep, rng) if d.result is None else d
            for d in delivered + earlier
        ]

    def _await_result(
        self,
        delivered: Delivered,
        api: ApiClient,
        wait_s: float,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> Delivered:
        """The result of a receipted upload, asked for when the server says (after the scoring
        jobs ahead of it; a little later, so a room's devices do not ask together) for up to
        ``wait_s``; ``delivered`` as it was if it has not come by then or cannot be
        asked for now (recorded in the outbox either way)."""
        deadline = time.monotonic() + wait_s
        due = self.outbox.next_attempt_ms(delivered.submission_id)
        first = max(0.0, ((due or 0) - self.request_clock()) / 1000)
        if first:  # not before the server said: the jobs ahead of it take that long
            if time.monotonic() + first > deadline:
                return delivered
            sleep(first)
        while True:
            try:
                answer = self.outbox.fetch_result(
                    delivered.submission_id, api, self.request_clock(), rng
                )
            except ClientError:
                return delivered  # refused (kept as failed, with why) or unreachable for now
            if isinstance(answer, dict):
                return Delivered(delivered.submission_id, answer)
            pause = max(1.0, answer) * rng.uniform(1.0, 1.2)  # as the server says, spread
            if time.monotonic() + pause > deadline:
                return delivered
            sleep(pause)

    def sync_due(self, rng: random.Random | None = None) -> list[Delivered]:
        """One attempt for each submission whose next attempt is due, and one question for each
        result the server was still scoring (the app calls this on a timer, so the outbox keeps
        trying for as long as it runs)."""
        enrolment = self.enrolment()
        public = crypto.b64decode(enrolment.server_public)
        api = self.api()
        rng = rng or random.Random()  # noqa: S311 (jitter)
        delivered = []
        for sid in self.outbox.due(self.request_clock()):
            try:
                delivered.append(self.outbox.attempt(sid, api, public, self.request_clock(), rng))
            except ClientError:
                continue  # recorded in the outbox; the sync view shows it
        for sid in self.outbox.results_due(self.request_clock()):
            try:
                answer = self.outbox.fetch_result(sid, api, self.request_clock(), rng)
            except ClientError:
                continue
            if isinstance(answer, dict):
                delivered.append(Delivered(sid, answer))
        return delivered

    def sync_status(self) -> list[tuple[Status, str]]:
        """Each finished sitting's way to the server, with the assessment's name."""
        names = {s["id"]: str(s.get("assessment", "")) for s in self.state.sittings()}
        return [(status, names.get(status.sitting_id, "")) for status in self.outbox.statuses()]

    def export_submission(self, submission_id: str, folder: Path) -> Path:
        """Write a sealed submission to a file for hand-in: encrypted to the server's key, so
        whoever carries it learns nothing; the server verifies it as if it had been uploaded."""
        entry = self.outbox.entry(submission_id)
        if entry is None:
            raise PackageNotReady("There is no finished exam with that id on this computer.")
        header = self.header(str(entry["sitting_id"]))
        enrolment = self.enrolment()
        sealed = crypto.encrypt_to(
            crypto.b64decode(header.server_kex_public),
            self.outbox.document(submission_id).encode(),
            HAND_IN_FORMAT,
        )
        envelope = {
            "format": HAND_IN_FORMAT,
            "server": enrolment.fingerprint,
            **sealed,
        }
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"examgate-hand-in-{submission_id[:12]}.json"
        partial = path.with_suffix(".part")
        partial.write_text(json.dumps(envelope) + "\n", encoding="utf-8")
        partial.replace(path)
        self.outbox.set_exported(submission_id, str(path))
        return path

    def checkpoint(self, session: ExamSession) -> None:
        """Show the server how far the log has come (while it can be reached), so a restored
        older copy of the journal is seen for what it is."""
        events = session.journal.events
        if events:
            self.api().checkpoint(
                session.sitting_id,
                len(events) - 1,
                str(events[-1]["hash"]),
                final=session.state == "ended",
            )

    def shares(self, submission_id: str) -> list[dict[str, Any]]:
        """The organisations this result is shared with now (by the server's record)."""
        return [s for s in self.api().shares(submission_id) if s["active"]]

    def share(self, submission_id: str, organisation: str) -> list[dict[str, Any]]:
        """Share the result with an organisation by its handle; the shares afterwards."""
        handle = organisation.strip().lower()
        if not handle:
            raise ClientError("Type the organisation's handle, as it gave it to you.")
        self.api().share(submission_id, handle)
        return self.shares(submission_id)

    def unshare(self, submission_id: str, organisation: str) -> list[dict[str, Any]]:
        """Stop sharing the result with an organisation; the shares afterwards."""
        self.api().unshare(submission_id, organisation.strip().lower())
        return self.shares(submission_id)

    def certificate_name(self, submission_id: str) -> str:
        """A file name a person recognises: the assessment and the date, then a short id."""
        entry = self.outbox.entry(submission_id) or {}
        names = {s["id"]: str(s.get("assessment", "")) for s in self.state.sittings()}
        assessment = names.get(str(entry.get("sitting_id", "")), "") or "exam"
        received = (entry.get("result") or {}).get("received_ms")
        day = datetime.fromtimestamp(received / 1000).strftime("%Y-%m-%d") if received else ""
        plain = re.sub(r"[^\w\- ]+", "", assessment, flags=re.UNICODE).strip()[:60] or "exam"
        parts = ["examgate certificate", plain, day, submission_id[:6]]
        return " - ".join(part for part in parts if part) + ".pdf"

    def certificate_pdf(self, submission_id: str, wait_s: float = CERTIFICATE_WAIT_S) -> bytes:
        """The certificate PDF. The server renders it just after the result is stored; until
        then it answers "ask again in N seconds", which is honoured (within 1 to 10 s) for up
        to ``wait_s`` before ``CertificateNotReady``."""
        deadline = time.monotonic() + wait_s
        while True:
            with self._lock:
                self._open_or_stop()
                api = self.api()
            answer = api.certificate(submission_id)
            if isinstance(answer, bytes):
                return answer
            pause = min(10.0, max(1.0, answer))
            if time.monotonic() + pause > deadline:
                raise CertificateNotReady()
            time.sleep(pause)

    def save_credential(
        self, submission_id: str, target: Path, wait_s: float = CERTIFICATE_WAIT_S
    ) -> Path:
        """Download the Open Badges credential to ``target`` (written whole, or not at all)."""
        deadline = time.monotonic() + wait_s
        while True:
            with self._lock:
                self._open_or_stop()
                api = self.api()
            answer = api.credential(submission_id)
            if isinstance(answer, dict):
                break
            pause = min(10.0, max(1.0, answer))
            if time.monotonic() + pause > deadline:
                raise CertificateNotReady()
            time.sleep(pause)
        partial = target.with_name(target.name + ".part")
        partial.write_text(json.dumps(answer, indent=2, ensure_ascii=False), encoding="utf-8")
        partial.replace(target)
        return target

    def credential_name(self, submission_id: str) -> str:
        return (
            self.certificate_name(submission_id).replace(
                "examgate certificate", "examgate open badge"
            )[: -len(".pdf")]
            + ".json"
        )

    def save_certificate(
        self, submission_id: str, folder: Path | None = None, wait_s: float = CERTIFICATE_WAIT_S
    ) -> Path:
        """Download the certificate PDF into ``folder`` (default: the client's certificates)."""
        pdf = self.certificate_pdf(submission_id, wait_s)
        with self._lock:
            self._open_or_stop()
            folder = folder or self.settings.certificates
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / self.certificate_name(submission_id)
            partial = path.with_suffix(".pdf.part")
            partial.write_bytes(pdf)
            partial.replace(path)
            self.outbox.set_certificate(submission_id, str(path))
        return path
