"""Adaptive online sittings over real HTTP: the server chooses each next item, its clock governs,
a repeated request gets the same answer, answers are final, the client falls back on the
package's form when the server cannot be reached, and scoring treats the whole sitting alike."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from client.api import ApiClient
from client.engine import Engine, Step
from client.errors import ClientError, ServerRefused
from client.session import ExamSession
from client.simulate import answer_all
from server import db, timing
from server.context import Context
from server.delivery import FALLBACK_GRACE_S, QUICKEST_S
from shared import canonical
from shared.wire import PackageItem
from tests.conftest import ManualClock, ThreadServer

STEP_MS = 15_000  # each answer takes this long, on the server's clock and the client's


class Shift:
    """The server's clock and the candidate's, moved on together."""

    def __init__(self, clock: ManualClock) -> None:
        self.offset = 0
        self.clock = clock

    def __call__(self) -> int:
        return time.time_ns() // 1_000_000 + self.offset

    def advance(self, ms: int) -> None:
        self.offset += ms
        self.clock.advance(ms)


def make_adaptive(ctx: Context) -> None:
    with ctx.engine.begin() as connection:
        blueprint = canonical.loads(
            connection.execute(
                select(db.assessments.c.blueprint).where(db.assessments.c.slug == "deep-learning")
            ).scalar_one()
        )
        connection.execute(
            db.assessments.update()
            .where(db.assessments.c.slug == "deep-learning")
            .values(blueprint=canonical.to_text({**blueprint, "adaptive": True}))
        )


@pytest.fixture
def adaptive(live: ThreadServer, clock: ManualClock) -> Shift:
    make_adaptive(live.ctx)
    shift = Shift(clock)
    live.ctx.now_ms = shift
    return shift


def begin(live: ThreadServer, engine: Engine, shift: Shift) -> ExamSession:
    engine.request_clock = shift
    sitting = engine.enrol(live.url, live.invite()["invitation"])
    header = engine.download(sitting["id"])
    assert header.adaptive
    session = engine.unlock(sitting["id"], engine.release_code(sitting["id"]))
    session.start()
    return session


def stepping(engine: Engine, shift: Shift) -> Any:
    def next_question(session: ExamSession) -> None:
        shift.advance(STEP_MS)
        engine.next_question(session)

    return next_question


def next_shown(engine: Engine, session: ExamSession, shift: Shift) -> Any:
    """The next question, fetched after one answer's time, on screen."""
    shift.advance(STEP_MS)
    engine.next_question(session)
    assert session.current is not None
    return session.current


def flag_reasons(result: dict[str, Any]) -> set[str]:
    return {flag["reason"] for flag in result["integrity"]["flags"]}


def steps(ctx: Context, sitting_id: str) -> list[Any]:
    with ctx.engine.connect() as connection:
        return list(
            connection.execute(
                select(db.adaptive_steps)
                .where(db.adaptive_steps.c.sitting_id == sitting_id)
                .order_by(db.adaptive_steps.c.position)
            ).mappings()
        )


def fallback_ids(engine: Engine, session: ExamSession) -> set[str]:
    return {item.id for item in session.fallback}


def test_an_adaptive_sitting_is_served_item_by_item_and_scored(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    assert session.items == [] and session.awaiting()
    answer_all(session, "random", random.Random(5), stepping(engine, adaptive))
    served = [e["data"] for e in session.journal.events if e["type"] == "served"]
    ids = [entry["item"] for entry in served]
    assert [entry["position"] for entry in served] == list(range(len(served)))
    assert len(ids) == len(set(ids)) >= 12  # three per category before any level is decided
    assert not set(ids) & fallback_ids(engine, session)  # the fallback form is never served
    assert {item.category for item in session.items} == {
        "foundations", "cnn", "sequence", "improving"
    }  # fmt: skip
    rows = steps(live.ctx, session.sitting_id)
    given = [r for r in rows if r["entry"] is not None]
    assert [canonical.loads(r["entry"])["id"] for r in given] == ids
    assert len({r["item_id"] for r in given}) == len(given)
    # The server's clock: each answer arrived STEP_MS after its item was served.
    answered = [r for r in given if r["answered_ms"] is not None]
    assert all(canonical.loads(r["answer"]) for r in answered)  # each the candidate's choice
    assert [canonical.loads(r["answer"]) for r in answered] == [
        session.answers[canonical.loads(r["entry"])["id"]] for r in answered
    ]
    assert all(abs(r["answered_ms"] - r["served_ms"] - STEP_MS) < 2_000 for r in answered)
    ended = rows[-1]
    assert ended["end_reason"] in ("decided", "exhausted", "time_up")
    assert session.state == "ended"

    submission_id = engine.seal(session)
    [delivered] = engine.sync()
    result = delivered.result
    assert delivered.submission_id == submission_id
    scored = sum(c["total"] for c in result["category_details"])
    assert scored == len(answered)  # every answered item, and nothing else, counted
    reasons = flag_reasons(result)
    assert not reasons & {"sequence_violation", "answer_mismatch", "over_time"}


def test_the_same_request_gets_the_same_item_and_answers_are_final(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    api = engine.api()
    seen: list[dict[str, Any]] = []

    def ask() -> None:
        seen.append(api.next_step(session.sitting_id))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({(s["position"], s["item"]["id"]) for s in seen}) == 1  # one item, one position
    first = seen[0]["item"]
    option = first["options"][0]["id"]
    second = api.next_step(session.sitting_id, 0, [option])
    again = api.next_step(session.sitting_id, 0, [option])
    assert second["position"] == again["position"] == 1
    assert second["item"]["id"] == again["item"]["id"] != first["id"]
    with pytest.raises(ServerRefused) as changed:
        api.next_step(session.sitting_id, 0, [first["options"][1]["id"]])
    assert changed.value.code == "already_answered"
    with pytest.raises(ServerRefused) as ahead:
        api.next_step(session.sitting_id, 5, [])
    assert ahead.value.code == "not_served"
    with pytest.raises(ServerRefused) as stranger:
        api.next_step(session.sitting_id, 1, ["not-an-option"])
    assert stranger.value.status == 400
    if not second["item"]["multiple"]:
        two = [o["id"] for o in second["item"]["options"][:2]]
        with pytest.raises(ServerRefused) as both:
            api.next_step(session.sitting_id, 1, two)
        assert both.value.status == 400
    rows = steps(live.ctx, session.sitting_id)
    assert len(rows) == 2 and canonical.loads(rows[0]["answer"]) == [option]
    assert rows[1]["answer"] is None  # nothing refused was recorded


def test_the_servers_clock_ends_the_sitting(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    engine.next_question(session)
    assert session.current is not None
    session.answer([session.current.options[0].id])
    session.advance()
    adaptive.offset += 8 * 60_000 + 10_000  # the server's time is up; the client's clock lags
    engine.next_question(session)
    assert session.state == "ended" and session.end_reason == "time_up"
    rows = steps(live.ctx, session.sitting_id)
    assert rows[0]["answer"] is None  # too late: not recorded
    assert rows[-1]["end_reason"] == "time_up"
    api = engine.api()
    later = api.next_step(session.sitting_id)
    assert later["done"] and later["reason"] == "time_up"
    engine.seal(session)
    [delivered] = engine.sync()
    [category] = [c for c in delivered.result["category_details"] if c["total"]]
    assert category["total"] == 1 and category["correct"] == 0  # the late answer is not scored


def test_step_requests_outside_a_running_adaptive_sitting_are_refused(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    engine.request_clock = adaptive
    sitting = engine.enrol(live.url, live.invite()["invitation"])
    engine.download(sitting["id"])
    with pytest.raises(ServerRefused) as early:
        engine.api().next_step(sitting["id"])
    assert early.value.code == "not_started"
    other = make_engine("other")
    other.request_clock = adaptive
    mine = other.enrol(live.url, live.invite()["invitation"])
    with pytest.raises(ServerRefused) as foreign:
        other.api().next_step(sitting["id"])
    assert foreign.value.status == 404
    supervised = make_engine("supervised")
    supervised.request_clock = adaptive
    offline = supervised.enrol(live.url, live.invite(offline=True)["invitation"])
    header = supervised.download(offline["id"])
    assert not header.adaptive  # a supervised sitting keeps its fixed form
    with pytest.raises(ServerRefused) as fixed:
        supervised.api().next_step(offline["id"])
    assert fixed.value.code == "not_adaptive"
    assert mine["id"] != sitting["id"]


def test_a_lost_connection_continues_on_the_sealed_form_and_scores_alike(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    for _ in range(5):
        shown = next_shown(engine, session, adaptive)
        session.answer([shown.options[0].id])
        session.advance()  # on to the next: the server's
    served = [item.id for item in session.items]
    assert session.awaiting()
    dead = ApiClient("http://127.0.0.1:9", timeout_s=1.0)
    adaptive.advance(STEP_MS)
    engine.apply_step(session, engine.fetch_step(session, dead))  # the network is gone
    assert session.fell_back and not session.awaiting()
    assert session.current is session.fallback[0]
    assert not set(served) & fallback_ids(engine, session)  # no item shown twice
    answered_fallback = 0
    while session.state == "running":
        assert session.current is not None
        if answered_fallback < 4:
            session.answer([session.current.options[-1].id])
            answered_fallback += 1
            session.advance()
        else:  # the time runs out on the fifth fallback item, unanswered
            adaptive.advance(8 * 60_000)
            session.tick()
    assert session.end_reason == "time_up"
    engine.seal(session)
    [delivered] = engine.sync()
    result = delivered.result
    # The sealed form counts like a linear form, as far as was expected to fit in the time
    # left after the server last heard from the client (the time model's default with no data).
    rows = steps(live.ctx, session.sitting_id)
    started = rows[0]["served_ms"] - STEP_MS
    left = (started + 8 * 60_000 - rows[-1]["served_ms"]) / 1000 - FALLBACK_GRACE_S
    fits = min(len(session.fallback), int(left // timing.DEFAULT.expected_seconds()))
    assert fits > 4
    assert sum(c["total"] for c in result["category_details"]) == 5 + fits
    reasons = flag_reasons(result)
    assert not reasons & {"sequence_violation", "answer_mismatch", "served_not_logged"}


def test_an_answer_the_log_changed_is_flagged_and_the_servers_is_scored(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    item = next_shown(engine, session, adaptive)
    session.answer([item.options[0].id])  # what the log will say...
    session.advance()
    api = engine.api()
    sent = api.next_step(session.sitting_id, 0, [item.options[1].id])  # ...and what was sent
    adaptive.advance(STEP_MS)
    shown = PackageItem.from_json(sent["item"])
    engine.apply_step(session, Step(item=shown, position=sent["position"]))
    assert session.current is not None and session.current.id == sent["item"]["id"]
    session.finish("finished")
    engine.seal(session)
    [delivered] = engine.sync()
    flags = {flag["reason"]: flag for flag in delivered.result["integrity"]["flags"]}
    assert "answer_mismatch" in flags
    # Both count: the one answered as the server received it, the one left on screen as
    # unanswered (a sitting ended early does not drop the question shown).
    details = delivered.result["category_details"]
    assert sum(c["total"] for c in details) == 2


def test_a_restarted_client_shows_the_items_it_was_given(
    live: ThreadServer, adaptive: Shift, make_engine: Any, tmp_path: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    for _ in range(3):
        shown = next_shown(engine, session, adaptive)
        session.answer([shown.options[0].id])
        session.advance()
    before = [item.id for item in session.items]
    code = engine.release_code(session.sitting_id)
    engine.close()  # the app stops; a new one opens the same sitting

    again = make_engine()
    again.request_clock = adaptive
    resumed = again.unlock(session.sitting_id, code)
    assert [item.id for item in resumed.items] == before
    assert resumed.current is not None and resumed.current.id == before[-1]
    assert resumed.answers == session.answers
    # Whether the answer on screen already went is asked first; till then it cannot change.
    assert resumed.awaiting() and resumed.step_request() == (None, None)
    resumed.answer([before and resumed.items[-1].options[1].id])
    assert resumed.answers == session.answers
    again.next_question(resumed)  # it had not gone: the same question stays, open again
    assert [item.id for item in resumed.items] == before and not resumed.awaiting()
    resumed.advance()
    adaptive.advance(STEP_MS)
    again.next_question(resumed)  # the answer on screen goes now, the next item comes
    assert len(resumed.items) == 4 and resumed.current is resumed.items[-1]
    assert canonical.loads(steps(live.ctx, session.sitting_id)[2]["answer"]) == [
        resumed.items[2].options[0].id
    ]

    # Killed again just after that answer went: the restart finds the next question given.
    again.close()
    third = make_engine()
    third.request_clock = adaptive
    back = third.unlock(session.sitting_id, code)
    assert len(back.items) == 4 and back.confirming
    third.next_question(back)
    assert len(back.items) == 4 and not back.awaiting() and back.current is not None


def test_an_employer_sets_an_assessment_adaptive_and_its_categories_bound_the_choice(
    live: ThreadServer, clock: ManualClock, make_engine: Any
) -> None:
    from tests.server.test_employers import _member, _org, _published, api, sign_in

    org = _org(live)
    recruiter = sign_in(live, _member(live, org, "recruiter"))
    wrong = api(
        live, "POST", f"/orgs/{org['id']}/assessments", recruiter,
        json={"title": "Odd", "per_category": {"cnn": 3}, "adaptive": "yes"},
    )  # fmt: skip
    assert wrong.status_code == 400 and "'adaptive' is true or false" in wrong.json()["message"]
    assessment = _published(live, org, recruiter, adaptive=True)
    assert assessment["adaptive"] is True
    invited = api(
        live, "POST", f"/orgs/{org['id']}/invitations", recruiter,
        json={"assessment_id": assessment["id"], "name": "Alan Turing"},
    ).json()  # fmt: skip
    shift = Shift(clock)
    live.ctx.now_ms = shift
    engine = make_engine()
    engine.request_clock = shift
    sitting = engine.enrol(live.url, invited["invitation"])
    assert engine.download(sitting["id"]).adaptive
    session = engine.unlock(sitting["id"], engine.release_code(sitting["id"]), share=False)
    answer_all(session, "first", random.Random(1), stepping(engine, shift))
    categories = {item.category for item in session.items}
    assert categories == {"foundations", "cnn"}  # the assessment's, and only those
    engine.seal(session)
    [delivered] = engine.sync()
    assert {c["id"] for c in delivered.result["category_details"]} == categories


def test_a_client_answering_at_once_gets_no_more_than_twice_the_usual_questions(
    live: ThreadServer, adaptive: Shift, make_engine: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from server import delivery
    from server.adaptive import Rules

    # Levels never decided: only the time or the cap can end this sitting, and the script
    # leaves the time almost whole.
    monkeypatch.setattr(
        delivery, "Rules", lambda **kw: Rules(**kw, confidence=1.1, overall_confidence=1.1)
    )
    engine = make_engine()
    session = begin(live, engine, adaptive)
    api = engine.api()
    step = api.next_step(session.sitting_id)
    served = 0
    while not step["done"]:  # a script: every answer empty, sent the moment it arrives
        served += 1
        step = api.next_step(session.sitting_id, step["position"], [])
    assert step["reason"] == "exhausted"
    assert served == delivery.most_items(8 * 60_000) == 40


def test_a_log_that_repeats_or_invents_served_questions_is_refused(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    item = next_shown(engine, session, adaptive)
    session.answer([item.options[0].id])
    for _ in range(4):  # a patched client: the one question shown five times
        session._write("served", {"item": item.id, "position": 0})
        session._write("advance", {"from": item.id, "to": item.id})
    session.finish("finished")
    engine.seal(session)
    with pytest.raises(ClientError) as refused:
        engine.sync(attempts=1)
    assert "not the ones the server gave" in str(refused.value)


def test_questions_left_out_of_the_log_are_scored_as_the_server_received_them(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    api = engine.api()
    step = api.next_step(session.sitting_id)
    for _ in range(6):  # a script takes six questions without showing them in the log
        adaptive.advance(STEP_MS)
        step = api.next_step(session.sitting_id, step["position"], [])
    session.fall_back("claimed")
    answer_all(session, "first", random.Random(0))  # the sealed form to its end
    engine.seal(session)
    [delivered] = engine.sync()
    result = delivered.result
    scored = sum(c["total"] for c in result["category_details"])
    assert scored == 6 + len(session.fallback)  # the six skipped ones count, as wrong
    flags = {flag["reason"]: flag for flag in result["integrity"]["flags"]}
    assert flags["served_not_logged"]["detail"].startswith("6 ")


def test_a_server_with_no_question_to_give_leaves_the_sealed_form(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    engine.apply_step(session, Step(done="exhausted"))  # nothing for this candidate at all
    assert session.state == "running" and session.fell_back
    assert session.current is session.fallback[0]
    kinds = [e["data"] for e in session.journal.events if e["type"] == "fallback"]
    assert kinds == [{"reason": "The server had no questions for this sitting (exhausted)."}]


def test_answers_on_the_sealed_form_count_no_faster_than_a_person_answers_and_are_flagged(
    live: ThreadServer, adaptive: Shift, make_engine: Any
) -> None:
    engine = make_engine()
    session = begin(live, engine, adaptive)
    for _ in range(2):
        shown = next_shown(engine, session, adaptive)
        session.answer([shown.options[0].id])
        session.advance()
    # A patched client: with 40 s left it sends the answer on screen (the server serves one
    # more, never shown), claims a lost connection and answers the whole sealed form at once.
    rows = steps(live.ctx, session.sitting_id)
    started = rows[0]["served_ms"] - STEP_MS
    adaptive.offset = started + 8 * 60_000 - 40_000 - (time.time_ns() // 1_000_000)
    position, options = session.step_request()
    engine.api().next_step(session.sitting_id, position, options)
    session.fall_back("claimed")
    answer_all(session, "first", random.Random(0))
    engine.seal(session)
    [delivered] = engine.sync()
    result = delivered.result
    quickest = int((40 + delivery_grace_s()) // QUICKEST_S)
    assert sum(c["total"] for c in result["category_details"]) == 2 + quickest
    flags = {flag["reason"]: flag for flag in result["integrity"]["flags"]}
    assert flags["answered_offline"]["detail"] == f"{quickest} answer(s) given offline."


def delivery_grace_s() -> float:
    from server.delivery import STEP_GRACE_MS

    return STEP_GRACE_MS / 1000
