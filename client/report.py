"""A result in words, for the candidate: the level with what it means, how sure it is, where it
stands, what the integrity record shows, the study plan and each skill's feedback; the
measurement's numbers last, under Details. No Qt here: the result page shows what this writes.
"""

from __future__ import annotations

from html import escape
from typing import Any

from shared.models import MIN_COHORT, confidence_words, level_name, rubric

# The integrity report's reasons, as the candidate reads them.
CANDIDATE_REASONS = {
    "voided": "the sitting was voided by the assessment's rules",
    "integrity_events": "events the rules watch for happened during the sitting",
    "locked": "the sitting was locked during the exam",
    "self_released": "you returned from a lock without a proctor",
    "virtual_machine": "the exam ran in what looks like a virtual machine",
    "lockdown_missing": "the exam ran without the full-screen lockdown",
    "unlock_guessing": "many wrong unlock codes were tried",
    "unlock_invalid": "the sitting was unlocked without a valid code",
    "answered_while_locked": "questions were answered while the sitting was locked",
    "sequence_violation": "answers do not follow the order of the questions",
    "lock_missing": "a lock the rules called for is missing from the record",
    "void_missing": "the rules called for the sitting to be voided",
    "log_incomplete": "the record of the sitting is incomplete",
    "chain_not_committed": "the record is not the one this exam was downloaded with",
    "over_time": "more time was used than the sitting allows",
    "late_submission": "the answers arrived after the sitting's time was up",
    "outside_window": "the sitting was taken outside its scheduled window",
    "clock_slowed": "this computer's clock ran slow during the exam",
    "clock_changed": "this computer's clock was changed during the exam",
    "clock_mismatch": "this computer's clock disagreed with the server's",
    "downtime_exceeded": "the exam stood still (restarts, sleep) for longer than allowed",
    "rollback": "an older copy of the exam's record was restored on this computer",
    "journal_rewritten": "the exam's record was changed after it was written",
}


def headline(result: dict[str, Any]) -> tuple[str, str]:
    """The overall level, and a sentence on how sure it is."""
    overall = result.get("overall_detail", {})
    level = level_name(result["overall"])
    if "confidence" not in overall:
        return level, ""
    sure = confidence_words(float(overall["confidence"]))
    return level, f"How sure this is: {sure} (measured on {_answered(result)})."


def _answered(result: dict[str, Any]) -> str:
    total = sum(int(d.get("total", 0)) for d in result.get("category_details", []))
    return f"{total} questions" if total else "your answers"


def standing(result: dict[str, Any]) -> str:
    percentile = result.get("percentile")
    cohort = int(result.get("cohort") or 0)
    if percentile is not None:
        return (
            f"You scored higher than {percentile}% of the {cohort} people who have taken this "
            "assessment so far."
        )
    return (
        f"Comparisons with other candidates appear once {MIN_COHORT} people have taken this "
        f"assessment ({cohort} so far)."
    )


def integrity_sentences(integrity: dict[str, Any]) -> list[str]:
    """What the integrity record shows, in plain words."""
    said = []
    outcome = integrity.get("outcome", "clean")
    losses = int(integrity.get("focus_losses", 0))
    away_s = round(int(integrity.get("time_away_ms", 0)) / 1000)
    if losses:
        times = "once" if losses == 1 else f"{losses} times"
        said.append(f"You left the exam window {times} ({away_s} s in all).")
    locks = int(integrity.get("locks", 0))
    if locks:
        said.append(f"The sitting was locked {'once' if locks == 1 else f'{locks} times'}.")
    refused = int(integrity.get("refused_unlock_codes", 0))
    if refused:
        said.append(f"{refused} unlock code{'s were' if refused != 1 else ' was'} refused.")
    programs = integrity.get("programs_seen") or []
    if programs:
        said.append(f"Programs not allowed were seen running: {', '.join(programs)}.")
    reasons = [
        CANDIDATE_REASONS.get(f["reason"]) or _lower_first(str(f.get("summary", f["reason"])))
        for f in integrity.get("flags", [])
    ]
    if outcome == "voided":
        said.insert(0, "This sitting was voided: the organisation does not count this result.")
    elif outcome == "flagged":
        said.insert(
            0,
            "This result is marked for review by the organisation, because "
            + "; ".join(reasons)
            + ". A person looks at the record before deciding; your levels stand as measured.",
        )
    else:
        said.insert(0, "Nothing in the record of this sitting needs a reviewer's attention.")
    return said


def _lower_first(sentence: str) -> str:
    sentence = sentence.rstrip(".")
    return sentence[:1].lower() + sentence[1:]


def report_html(result: dict[str, Any], colours: dict[str, str]) -> str:
    """The body of the result page: categories, integrity, study plan, skills, details."""
    parts = ["<h3>Your level in each category</h3>"]
    for detail in result.get("category_details", []):
        level = str(detail["level"])
        sure = (
            f" ({confidence_words(float(detail['confidence']))})" if "confidence" in detail else ""
        )
        meaning = rubric(str(detail.get("id", "")), level)
        parts.append(
            f"<p><b>{escape(str(detail['name']))}: {escape(level_name(level))}</b>"
            f"{escape(sure)}<br>{escape(meaning)}</p>"
        )
    parts.append("<h3>The record of this sitting</h3>")
    parts += [f"<p>{escape(s)}</p>" for s in integrity_sentences(result.get("integrity", {}))]
    plan = result.get("study_plan", [])
    if plan:
        parts.append(
            "<h3>Your study plan</h3><p>Start with the first: these skills raise your level "
            "most.</p><ol>"
        )
        parts += [
            f"<li><b>{escape(p['skill'])}</b> ({escape(p['category'])}). "
            f"{escape(p.get('why', ''))}</li>"
            for p in plan
        ]
        parts.append("</ol>")
    parts.append("<h3>Feedback on each skill</h3><ul>")
    for skill in result.get("skills", []):
        review = "".join(f"<li>{escape(why)}</li>" for why in skill.get("review", []))
        parts.append(
            f"<li><b>{escape(skill['skill'])}</b> ({escape(skill['category'])}): "
            f"{escape(skill['feedback'])}" + (f"<ul>{review}</ul>" if review else "") + "</li>"
        )
    parts.append("</ul>")
    overall = result.get("overall_detail", {})
    parts.append(f"<h3>Details</h3><p style='color:{colours['muted']}'>")
    if "theta" in overall:
        parts.append(
            f"Measured ability {float(overall['theta']):+.2f}, give or take "
            f"{float(overall['se']):.2f}, on a scale where candidates average 0. "
        )
    if "confidence" in overall:
        parts.append(
            f"Chance that the overall level is right: about "
            f"{min(float(overall['confidence']), 0.99):.0%}. "
        )
    parts.append(
        f"Verification code {escape(str(result.get('verification_code', '')))}; "
        f"submission {escape(str(result.get('submission_id', ''))[:12])}.</p>"
    )
    return "".join(parts)
