"""The server's judgement of a sitting's evidence: the signed event log replayed against what the
server knows on its own (its clock, the policy, the form, the proctor secret, the chain's key).

Nothing the client summarised is taken on trust. Time away comes from paired events, locks and
voids the policy called for are expected in the log, unlock codes are re-checked, the order of
answers is replayed against the form, and the clocks in the log are compared with each other and
with the server's own times. Each finding is a flag with a named reason and a sentence for the
employer; any flag makes the outcome ``flagged`` (``voided`` if the sitting was voided).

Pure: no I/O, no HTTP errors; the same log and facts always give the same judgement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from shared import crypto, events
from shared.events import Event
from shared.policy import Policy, PolicyEngine
from shared.protocol import REQUEST_CLOCK_SKEW_S

# Allowance over the sitting's time for clock granularity and the final save.
TIME_GRACE_MS = 15_000
# Online: a submission may arrive this long after the server's deadline (the upload itself).
ONLINE_GRACE_MS = 60_000
# Clocks in one run of the client may disagree by this much, plus 2% of the run, before it counts.
CLOCK_TOLERANCE_MS = 2_000
SKEW_MS = REQUEST_CLOCK_SKEW_S * 1000
# More wrong proctor codes than this for one lock is a guessing attempt (a mistyped code or two
# is not).
GUESSES_FLAGGED = 5

REASONS = {
    "voided": "The sitting was voided by the assessment's integrity rules.",
    "integrity_events": "Events the policy warns about or acts on happened during the sitting.",
    "locked": "The sitting was locked during the exam.",
    "virtual_machine": "The exam ran in a virtual machine.",
    "lockdown_missing": "The client ran no lockdown or health check.",
    "log_incomplete": "The event log does not start and end as a sitting does.",
    "journal_rewritten": "Events were changed, dropped or re-chained after they were written.",
    "chain_not_committed": "The event log is not the chain this sitting was downloaded with.",
    "rollback": "An older copy of the sitting's log was restored on the candidate's computer.",
    "lock_missing": "The policy called for a lock that the log does not show.",
    "void_missing": "The policy called for the sitting to be voided and it was not.",
    "unlock_invalid": "The sitting was unlocked without a valid proctor code.",
    "unlock_guessing": "Many wrong proctor codes were tried on the lock screen.",
    "self_released": "The candidate lifted a lock themselves (an unsupervised sitting).",
    "answered_while_locked": "Questions were answered while the sitting was locked.",
    "sequence_violation": "Answers or moves do not follow the form's order.",
    "answer_mismatch": "Answers in the log differ from those the server received during the "
    "adaptive sitting (the server's are scored).",
    "served_not_logged": "Questions the server gave and received answers to are missing from "
    "the log (they are scored as the server received them).",
    "answered_offline": "Part of this adaptive sitting was answered on the sealed form after "
    "the connection to the server was lost, so the server could not time those answers.",
    "over_time": "More time was used than the sitting allows.",
    "late_submission": "The online sitting was submitted after its time was up.",
    "clock_mismatch": "The client's clock disagrees with the server's times for this sitting.",
    "outside_window": "The sitting was taken outside the window it was scheduled for.",
    "clock_slowed": "The client's clocks ran slower than the machine's own uptime clock.",
    "clock_changed": "The client's wall clock was changed during the sitting.",
    "downtime_exceeded": "The sitting stood still (restarts, sleep) for longer than allowed.",
}


@dataclass(frozen=True)
class Facts:
    """What the server knows about a sitting without asking the client."""

    sitting_id: str
    offline: bool
    policy: Policy
    form_ids: Sequence[str]
    sitting_ms: int  # duration plus extra time
    proctor_secret: bytes
    opens_ms: int
    closes_ms: int
    received_ms: int
    end_reason: str
    prepared_ms: int | None = None  # the package was downloaded
    started_ms: int | None = None  # online: the code was released
    chain_first_key: bytes | None = None  # the event chain's first MAC key, if it could be agreed
    chain_committed: bool | None = None  # the chain is the one committed at the download
    checkpoint: tuple[int, str] | None = None  # the furthest (seq, hash) the server saw live
    rolled_back: bool = False  # the client once reported an earlier point than it had
    sealed_seen_ms: int | None = None  # when that furthest point, the log's end, arrived
    # Adaptive sittings: served items whose answer in the log is not the one the server got.
    answers_differ: int = 0
    # Adaptive sittings: served items the server got an answer to that the log leaves out.
    unlogged: int = 0
    # Adaptive sittings: answers given on the sealed form after the connection was lost.
    offline_answers: int = 0


@dataclass
class Judgement:
    flags: list[dict[str, str]] = field(default_factory=list)

    def flag(self, reason: str, detail: str) -> None:
        if not any(f["reason"] == reason for f in self.flags):
            self.flags.append({"reason": reason, "summary": REASONS[reason], "detail": detail})


def _of(log: Sequence[Event], kind: str) -> list[Event]:
    return [e for e in log if e.type == kind]


def judge(log: Sequence[Event], facts: Facts) -> dict[str, Any]:
    """The integrity report of a sitting: counts, time away, and flags with named reasons."""
    verdict = Judgement()
    _check_chain(log, facts, verdict)
    _check_shape(log, facts, verdict)
    away, expectations = _replay_policy(log, facts, verdict)
    _check_order(log, facts, verdict)
    downtime = _check_clocks(log, facts, verdict)
    _check_server_times(log, facts, verdict)

    counts = {kind: len(_of(log, kind)) for kind in INTEGRITY_KINDS}
    checks = [c for e in _of(log, "health_check") for c in e.data["checks"]]
    vm = [c["detail"] for c in checks if c["name"] == "virtual machine" and c["status"] != "ok"]
    started = _of(log, "lockdown_started")
    if vm and facts.policy.vm != "allow":
        verdict.flag("virtual_machine", "; ".join(vm))
    serious = [
        f"{counts[kind]} {kind.replace('_', ' ')}"
        for kind in INTEGRITY_KINDS
        if counts[kind] and facts.policy.rule(kind).action in ("warn", "lock", "void")
    ]
    if serious:
        verdict.flag("integrity_events", ", ".join(serious))
    if _of(log, "locked"):
        verdict.flag("locked", f"{len(_of(log, 'locked'))} lock(s)")
    if facts.end_reason == "voided":
        verdict.flag("voided", "The client ended the sitting as voided.")
    if facts.answers_differ:
        verdict.flag("answer_mismatch", f"{facts.answers_differ} answer(s) differ.")
    if facts.unlogged:
        verdict.flag("served_not_logged", f"{facts.unlogged} question(s) missing from the log.")
    if facts.offline_answers:
        verdict.flag("answered_offline", f"{facts.offline_answers} answer(s) given offline.")
    outcome = "voided" if facts.end_reason == "voided" or expectations["void"] else "clean"
    if outcome == "clean" and verdict.flags:
        outcome = "flagged"
    return {
        "focus_losses": counts["focus_lost"],
        "time_away_ms": away,
        "events": counts,
        "programs_seen": sorted({str(e.data["name"]) for e in _of(log, "program_found")}),
        "shortcuts": sorted({str(e.data["combo"]) for e in _of(log, "key_blocked")}),
        "vm_signals": vm,
        "locks": len(_of(log, "locked")),
        "proctor_unlocks": len(_of(log, "unlocked")),
        "self_releases": len(_of(log, "released")),
        "refused_unlock_codes": len(_of(log, "unlock_refused")),
        "capture_protection": bool(started and started[-1].data["capture_protection"]),
        "health_check": checks,
        "downtime_ms": downtime,
        "over_time": any(f["reason"] == "over_time" for f in verdict.flags),
        "flags": verdict.flags,
        "outcome": outcome,
    }


INTEGRITY_KINDS = (
    "focus_lost",
    "key_blocked",
    "clipboard_used",
    "display_added",
    "program_found",
    "clock_gap",
    "clock_slowed",
)


def _check_chain(log: Sequence[Event], facts: Facts, verdict: Judgement) -> None:
    if facts.chain_committed is False:
        verdict.flag(
            "chain_not_committed",
            "The event chain's key differs from the one the client gave at the download.",
        )
    if facts.rolled_back:
        verdict.flag("rollback", "During the sitting the log went back to an earlier point.")
    if facts.checkpoint is not None:
        seq, digest = facts.checkpoint
        if seq >= len(log) or log[seq].hash != digest:
            verdict.flag(
                "rollback", f"The log does not hold event {seq} as the server saw it live."
            )
    if facts.chain_first_key is None:
        verdict.flag("journal_rewritten", "The event chain's key could not be agreed.")
        return
    bad = events.first_bad_mac(log, facts.chain_first_key)
    if bad is not None:
        verdict.flag("journal_rewritten", f"The chain's MAC fails from event {bad} on.")


def _check_shape(log: Sequence[Event], facts: Facts, verdict: Judgement) -> None:
    kinds = [e.type for e in log]
    if "started" not in kinds:
        verdict.flag("log_incomplete", "The log has no start.")
    if not kinds or kinds[-1] != "ended":
        verdict.flag("log_incomplete", "The log does not end with the sitting's end.")
    elif kinds.count("ended") != 1:
        verdict.flag("log_incomplete", "The log ends more than once.")
    elif log[-1].data["reason"] != facts.end_reason:
        verdict.flag("log_incomplete", "The end reason differs from the log's.")
    if facts.policy.require_lockdown:
        missing = [k for k in ("health_check", "lockdown_started") if k not in kinds]
        if missing:
            verdict.flag("lockdown_missing", f"No {' and no '.join(missing)} event.")


def _replay_policy(
    log: Sequence[Event], facts: Facts, verdict: Judgement
) -> tuple[int, dict[str, bool]]:
    """Replay the policy engine over the log: every lock and void it calls for must follow, and
    every unlock must carry the proctor's code for its challenge."""
    engine = PolicyEngine(facts.policy)
    challenges = crypto.proctor_challenges(facts.proctor_secret, facts.sitting_id)
    locked = False
    locked_at = 0
    locks = 0  # each lock must use the package's next challenge: none is ever used twice
    wrong = 0
    releases = 0
    candidate_releases = facts.policy.release_for(facts.offline) == "candidate"
    expected: str | None = None  # "lock" or "void": what the next event must be
    voided = False
    for position, event in enumerate(log):
        if expected == "lock" and event.type != "locked":
            verdict.flag("lock_missing", f"No lock after event {position - 1}.")
        if expected == "void" and not (event.type == "ended" and event.data["reason"] == "voided"):
            verdict.flag("void_missing", f"No void after event {position - 1}.")
        expected = None
        if event.type == "locked":
            locked, wrong, locked_at = True, 0, event.elapsed_ms
            index = event.data["index"]
            challenge = event.data["challenge"]
            issued = challenges[locks] if locks < len(challenges) else None
            if index != locks or challenge != issued:
                verdict.flag(
                    "unlock_invalid",
                    f"Event {position} locks with a challenge out of turn or not issued.",
                )
            locks += 1
        elif event.type == "unlocked":
            index, challenge = event.data["index"], event.data["challenge"]
            valid = (
                locked
                and index == locks - 1  # the lock that is open now, not an earlier one
                and index < len(challenges)
                and challenge == challenges[index]
                and crypto.normalise_unlock_code(event.data["response"])
                == crypto.normalise_unlock_code(
                    crypto.proctor_response(facts.proctor_secret, facts.sitting_id, challenge)
                )
            )
            if not valid:
                verdict.flag("unlock_invalid", f"Event {position} unlocks without a valid code.")
            locked = False
        elif event.type == "released":
            waited = event.elapsed_ms - locked_at >= facts.policy.release_wait_s * 1000
            if not (candidate_releases and locked and event.data["index"] == locks - 1 and waited):
                verdict.flag(
                    "unlock_invalid",
                    f"Event {position} lifts a lock the candidate may not lift, or too soon.",
                )
            else:
                releases += 1
                verdict.flag("self_released", f"Event {position}: the candidate lifted a lock.")
            locked = False
        elif event.type == "unlock_refused" and event.data["reason"] == "wrong":
            wrong += 1
            if wrong > GUESSES_FLAGGED:
                verdict.flag("unlock_guessing", f"{wrong} wrong codes for one lock.")
        elif event.type in ("answer", "advance") and locked:
            verdict.flag("answered_while_locked", f"Event {position} while locked.")
        elif event.type == "ended":
            locked = False
        if engine.judges(event.type):
            decision = engine.observe(event.to_json())
            if decision.action == "void":
                expected, voided = "void", True
            elif decision.action == "lock" and not locked:
                expected = "lock"
    if expected == "lock":
        verdict.flag("lock_missing", "The log stops where a lock was due.")
    if expected == "void":
        verdict.flag("void_missing", "The log stops where the sitting was to be voided.")
    return engine.away_ms, {"void": voided}


def _check_order(log: Sequence[Event], facts: Facts, verdict: Judgement) -> None:
    """Answers only for the item on screen, moves only one item forward, nothing after the end."""
    index = 0
    ended = False
    for position, event in enumerate(log):
        wrong = ""
        if ended and event.type != "ended":
            wrong = "after the end"
        elif event.type == "answer":
            if index >= len(facts.form_ids) or event.data["item"] != facts.form_ids[index]:
                wrong = "answers a question that was not on screen"
        elif event.type == "advance":
            following = index + 1
            if (
                following >= len(facts.form_ids)
                or event.data["from"] != facts.form_ids[index]
                or event.data["to"] != facts.form_ids[following]
            ):
                wrong = "moves other than to the next question"
            index = following
        elif event.type == "ended":
            ended = True
        if wrong:
            verdict.flag("sequence_violation", f"Event {position} {wrong}.")
            return


def _sitting(log: Sequence[Event]) -> list[Event]:
    """The log without ``chain_opened``, which is written when the package is downloaded,
    perhaps days before the sitting."""
    return [event for event in log if event.type != "chain_opened"]


def _stood_still(event: Event) -> int:
    """A sleep's length by the kernel's clock where there is one (a wall clock merely set
    forward is not time the sitting stood still)."""
    slept = event.data["slept_ms"]
    return int(event.data["gap_ms"] if slept is None else slept)


def _runs(log: Sequence[Event]) -> list[list[Event]]:
    """The log cut at each restart: within a run the client's clocks are comparable."""
    runs: list[list[Event]] = [[]]
    for event in _sitting(log):
        if event.type == "resumed" and runs[-1]:
            runs.append([])
        runs[-1].append(event)
    return [run for run in runs if run]


def _check_clocks(log: Sequence[Event], facts: Facts, verdict: Judgement) -> int:
    """Compare the log's clocks with each other; return the downtime the server counts."""
    downtime = 0
    real_ms = 0
    previous: Event | None = None
    for event in _sitting(log):
        if previous is not None and event.elapsed_ms < previous.elapsed_ms:
            verdict.flag("clock_changed", f"Charged time goes backwards at event {event.seq}.")
        if event.type == "resumed" and previous is not None:
            wall_gap = event.at_ms - previous.at_ms
            gap = max(0, wall_gap)
            if event.uptime_ms is not None and previous.uptime_ms is not None:
                uptime_gap = event.uptime_ms - previous.uptime_ms
                if uptime_gap >= 0:  # the same boot: the kernel's clock says how long it was
                    if wall_gap + CLOCK_TOLERANCE_MS < uptime_gap:
                        verdict.flag(
                            "clock_changed",
                            f"The wall clock was set back across the restart at event {event.seq}.",
                        )
                    gap = max(gap, uptime_gap)
            if wall_gap < -CLOCK_TOLERANCE_MS:
                verdict.flag("clock_changed", f"The wall clock went back at event {event.seq}.")
            downtime += gap
        previous = event
    for run in _runs(log):
        first, last = run[0], run[-1]
        wall = last.at_ms - first.at_ms
        mono = last.mono_ms - first.mono_ms
        slept = sum(_stood_still(e) for e in run if e.type == "clock_gap")
        tolerance = CLOCK_TOLERANCE_MS + abs(wall) // 50
        downtime += slept
        real = mono
        if first.uptime_ms is not None and last.uptime_ms is not None:
            uptime = last.uptime_ms - first.uptime_ms
            if uptime - (mono + slept) > tolerance:
                verdict.flag(
                    "clock_slowed",
                    f"In one run the monotonic clock counted {mono // 1000} s while the kernel "
                    f"counted {uptime // 1000} s.",
                )
            real = max(mono, uptime - slept)
        # The wall clock may be stepped (by NTP, by hand) within a run: that costs or gives
        # no time (time is charged by the monotonic and kernel clocks), so it is not a flag.
        real_ms += max(0, real)
    charged = log[-1].elapsed_ms if log else 0
    allowed = facts.sitting_ms + TIME_GRACE_MS
    if charged > allowed or real_ms > allowed:
        verdict.flag(
            "over_time",
            f"{max(charged, real_ms) // 1000} s used of {facts.sitting_ms // 1000} s.",
        )
    if downtime > facts.policy.max_downtime_s * 1000:
        verdict.flag(
            "downtime_exceeded",
            f"{downtime // 1000} s standing still; the policy allows "
            f"{facts.policy.max_downtime_s} s.",
        )
    return downtime


def _check_server_times(log: Sequence[Event], facts: Facts, verdict: Judgement) -> None:
    """The log's wall times against the server's own: the download, the online start, the
    receipt, and the sitting's window."""
    opened = [e for e in log if e.type == "chain_opened"]
    sitting = _sitting(log)
    if not sitting:
        return
    earliest = min(e.at_ms for e in sitting)
    latest = max(e.at_ms for e in log)
    lower = facts.started_ms if not facts.offline and facts.started_ms else facts.prepared_ms
    if lower is not None and earliest < lower - SKEW_MS:
        verdict.flag(
            "clock_mismatch",
            "The log has events from before the server released or sent this exam.",
        )
    if (
        opened
        and facts.prepared_ms is not None
        and (abs(opened[0].at_ms - facts.prepared_ms) > SKEW_MS)
    ):
        verdict.flag("clock_mismatch", "The log began at another time than the download.")
    if latest > facts.received_ms + SKEW_MS:
        verdict.flag("clock_mismatch", "The log has events from after the server received it.")
    if not facts.offline and facts.started_ms is not None:
        deadline = facts.started_ms + facts.sitting_ms + ONLINE_GRACE_MS
        arrived = facts.received_ms
        final = facts.checkpoint
        if (
            facts.sealed_seen_ms is not None
            and final is not None
            and final[0] == len(log) - 1
            and log[-1].hash == final[1]
            and log[-1].type == "ended"
        ):
            arrived = min(arrived, facts.sealed_seen_ms)  # the end reached the server then
        if arrived > deadline:
            late = (arrived - facts.started_ms - facts.sitting_ms) // 1000
            verdict.flag("late_submission", f"Received {late} s after the sitting's time was up.")
    ended = next((e for e in reversed(log) if e.type == "ended"), None)
    # An offline sitting must be sealed inside its window; an online one must start inside it
    # (the server saw to that) and ends by the server's clock.
    late_end = facts.offline and ended is not None and ended.at_ms > facts.closes_ms + SKEW_MS
    if earliest < facts.opens_ms - SKEW_MS or late_end:
        verdict.flag("outside_window", "Events lie outside the sitting's scheduled window.")
