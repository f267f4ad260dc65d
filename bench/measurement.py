"""Psychometric simulation and speed: ``python -m bench.measurement`` (also run by ``make bench``).

- 2,000 simulated candidates with known abilities (the higher-order model the scorer assumes,
  rho = 0.7) sit linear-on-the-fly forms assembled with exposure control, from the real bank
  and from a generated 10,000-item bank; their answers follow the 3PL model. Reported: RMSE and
  bias of ability, share placed in the right level per category and overall, maximum item
  exposure and the mean overlap between two candidates' forms.
- Adaptive delivery against catsim on the 10,000-item bank, same candidates, same length:
  item selection plus ability update time per step (ours: maximum information + incremental
  EAP; catsim: MaxInfoSelector + NumericalSearchEstimator), and RMSE.
- Scoring one submission and assembling one form from 10,000 items.
- At equal time (8 minutes under a lognormal response-time model, the items' time parameters
  fitted from 500 simulated sittings first): linear forms as long as the time model says fit,
  answered until the time runs out, against adaptive sittings (``server.adaptive.LevelSitting``)
  on both banks: level accuracy overall and per category, RMSE, exposure, share of the bank
  used, calibration of the reported confidence (a table and its expected calibration error),
  minutes used and time per selection step.

Writes bench/out/measurement.json.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from server import timing
from server.adaptive import AdaptiveTest, LevelSitting, Rules
from server.assembly import BankIndex, Blueprint, assemble
from server.bank.loader import bundled_files, load_files
from server.bank.model import BankItem, Option
from server.irt import p3
from server.measurement import CUTS, RHO, from_tables, level_of, log_likelihoods
from server.scoring import score
from shared.models import CATEGORIES

OUT = Path(__file__).with_name("out")
BLUEPRINT = Blueprint({c: 5 for c in CATEGORIES}, max_exposure=0.2)


def generated_bank(size: int, seed: int) -> list[BankItem]:
    rng = np.random.default_rng(seed)
    categories = list(CATEGORIES)
    items = []
    for n in range(size):
        category = categories[n % 4]
        items.append(
            BankItem(
                id=f"GEN-{n:05d}",
                category=category,
                skill=f"{category} skill {n // 4 % 12}",
                stem=f"generated item {n}",
                options=tuple(Option(k, k, k) for k in "abcd"),
                key=("a",),
                a=float(rng.uniform(0.7, 2.0)),
                b=float(rng.normal(0, 1.2)),
                c=float(rng.uniform(0.1, 0.25)),
                status="live",
                source="generated",
            )
        )
    return items


def true_abilities(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    g = rng.normal(0, math.sqrt(RHO), count)
    thetas = g[:, None] + rng.normal(0, math.sqrt(1 - RHO), (count, 4))
    overall = thetas.mean(axis=1) / math.sqrt(RHO + (1 - RHO) / 4)
    return thetas, overall


def simulate_forms(bank: list[BankItem], candidates: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    answers = np.random.default_rng(seed + 1)
    index = BankIndex(bank)
    by_id = {item.id: item for item in bank}
    thetas, overall = true_abilities(candidates, seed + 2)
    exposure: Counter[str] = Counter()
    forms: list[set[str]] = []
    estimates, overall_estimates = [], []
    levels_right = np.zeros(5)
    assemble_ms, score_ms = [], []
    category_index = {c: n for n, c in enumerate(CATEGORIES)}
    for person in range(candidates):
        began = time.perf_counter()
        form = assemble(index, BLUEPRINT, rng, exposure, person)
        assemble_ms.append((time.perf_counter() - began) * 1000)
        exposure.update(entry["item"] for entry in form)
        forms.append({entry["item"] for entry in form})
        responses = {}
        for entry in form:
            item = by_id[entry["item"]]
            theta = thetas[person, category_index[item.category]]
            right = answers.random() < p3(theta, item.a, item.b, item.c)
            key_shown = next(shown for shown, source in entry["options"] if source in item.key)
            wrong_shown = next(s for s, source in entry["options"] if source not in item.key)
            responses[entry["id"]] = [key_shown if right else wrong_shown]
        began = time.perf_counter()
        report = score(form, by_id, responses)
        score_ms.append((time.perf_counter() - began) * 1000)
        details = {d["id"]: d for d in report["category_details"]}
        estimates.append([details[c]["theta"] for c in CATEGORIES])
        overall_estimates.append(report["overall_detail"]["theta"])
        for n, c in enumerate(CATEGORIES):
            levels_right[n] += details[c]["level"] == level_of(thetas[person, n])
        levels_right[4] += report["overall"] == level_of(overall[person])
    est = np.array(estimates)
    pairs = [rng.sample(range(candidates), 2) for _ in range(2000)]
    overlap = statistics.fmean(len(forms[i] & forms[j]) / len(forms[i]) for i, j in pairs)
    return {
        "candidates": candidates,
        "bank_items": len(bank),
        "rmse_overall": round(
            float(np.sqrt(np.mean((np.array(overall_estimates) - overall) ** 2))), 4
        ),
        "bias_overall": round(float(np.mean(np.array(overall_estimates) - overall)), 4),
        "rmse_category": {
            c: round(float(np.sqrt(np.mean((est[:, n] - thetas[:, n]) ** 2))), 4)
            for n, c in enumerate(CATEGORIES)
        },
        "bias_category": {
            c: round(float(np.mean(est[:, n] - thetas[:, n])), 4) for n, c in enumerate(CATEGORIES)
        },
        "level_accuracy": {
            c: round(levels_right[n] / candidates, 4) for n, c in enumerate(CATEGORIES)
        },
        "level_accuracy_overall": round(levels_right[4] / candidates, 4),
        "max_exposure": round(max(exposure.values()) / candidates, 4),
        "items_used": len(exposure),
        "mean_overlap": round(overlap, 4),
        "assemble_ms": round(statistics.fmean(assemble_ms), 3),
        "score_ms": round(statistics.fmean(score_ms), 3),
        "score_ms_p95": round(float(np.percentile(score_ms, 95)), 3),
    }


def compare_with_catsim(
    bank: list[BankItem], candidates: int, length: int, seed: int
) -> dict[str, Any]:
    from catsim.estimation import NumericalSearchEstimator
    from catsim.item_bank import ItemBank
    from catsim.selection import MaxInfoSelector

    a = np.array([i.a for i in bank])
    b = np.array([i.b for i in bank])
    c = np.array([i.c for i in bank])
    item_bank = ItemBank(np.column_stack([a, b, c]))
    selector, estimator = MaxInfoSelector(), NumericalSearchEstimator()
    rng = np.random.default_rng(seed)
    truths = rng.normal(0, 1, candidates)
    draws = rng.random((candidates, length))
    ours_steps, theirs_steps, ours_error, theirs_error = [], [], [], []
    for person, truth in enumerate(truths):
        test = AdaptiveTest(a, b, c)
        for step in range(length):
            began = time.perf_counter()
            item = test.select()
            correct = bool(draws[person, step] < p3(truth, a[item], b[item], c[item]))
            test.answer(item, correct)
            ours_steps.append((time.perf_counter() - began) * 1000)
        ours_error.append(test.estimate.theta - truth)
        administered: list[int] = []
        responses: list[bool] = []
        theta = 0.0
        for step in range(length):
            began = time.perf_counter()
            chosen = selector.select(
                item_bank=item_bank, administered_items=administered, est_theta=theta
            )
            assert chosen is not None
            item = chosen
            correct = bool(draws[person, step] < p3(truth, a[item], b[item], c[item]))
            administered.append(item)
            responses.append(correct)
            theta = estimator.estimate(
                item_bank=item_bank,
                administered_items=administered,
                response_vector=responses,
                est_theta=theta,
            )
            theirs_steps.append((time.perf_counter() - began) * 1000)
        theirs_error.append(theta - truth)
    ours_mean, theirs_mean = statistics.fmean(ours_steps), statistics.fmean(theirs_steps)
    return {
        "candidates": candidates,
        "length": length,
        "bank_items": len(bank),
        "step_ms": round(ours_mean, 4),
        "step_p95_ms": round(float(np.percentile(ours_steps, 95)), 4),
        "catsim_step_ms": round(theirs_mean, 4),
        "catsim_step_p95_ms": round(float(np.percentile(theirs_steps, 95)), 4),
        "catsim_speedup": round(theirs_mean / ours_mean, 1),
        "rmse": round(float(np.sqrt(np.mean(np.square(ours_error)))), 4),
        "rmse_catsim": round(float(np.sqrt(np.mean(np.square(theirs_error)))), 4),
        "bias": round(float(np.mean(ours_error)), 4),
        "bias_catsim": round(float(np.mean(theirs_error)), 4),
    }


# -- at equal time: linear against adaptive -----------------------------------------------------
SECONDS = 480.0


def true_times(size: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item's true time intensity (log seconds) and precision: about 24 s an item."""
    rng = np.random.default_rng(seed)
    return np.log(24.0) + rng.normal(0, 0.3, size), rng.uniform(1.5, 2.5, size)


def answer_seconds(
    rng: np.random.Generator, beta: np.ndarray, alpha: np.ndarray, item: int, tau: float
) -> float:
    return float(math.exp(beta[item] - tau + rng.normal(0, 1 / alpha[item])))


def fitted_times(
    bank: list[BankItem], beta: np.ndarray, alpha: np.ndarray, sittings: int, seed: int
) -> tuple[list[timing.ItemTime], float]:
    """The time model as the server would fit it from ``sittings`` collected sittings (20
    random items each), and how well its intensities follow the true ones (correlation)."""
    rng = np.random.default_rng(seed)
    observed = []
    for sitting in range(sittings):
        tau = rng.normal(0, 0.3)
        for item in rng.choice(len(bank), size=min(20, len(bank)), replace=False):
            seconds = answer_seconds(rng, beta, alpha, int(item), tau)
            observed.append((str(sitting), bank[int(item)].id, seconds))
    fitted = timing.fit(observed)
    times = [timing.lookup(fitted, item.id) for item in bank]
    answered = [n for n, t in enumerate(times) if t.answers >= 5]
    if len(answered) < 3:
        return times, float("nan")
    fit = float(np.corrcoef([times[n].beta for n in answered], beta[answered])[0, 1])
    return times, round(fit, 3)


def calibration(rows: list[tuple[float, bool]]) -> tuple[list[dict[str, Any]], float]:
    """Reported confidence against how often it was right, in tenths; and the expected
    calibration error (the share-weighted mean gap)."""
    table, error = [], 0.0
    for tenth in range(10):
        low, high = tenth / 10, (tenth + 1) / 10
        inside = [(p, ok) for p, ok in rows if low <= p < high or (tenth == 9 and p == 1.0)]
        if not inside:
            continue
        said = statistics.fmean(p for p, _ in inside)
        right = statistics.fmean(float(ok) for _, ok in inside)
        error += abs(said - right) * len(inside) / len(rows)
        table.append(
            {"confidence": f"{low:.1f}-{high:.1f}", "n": len(inside),
             "said": round(said, 3), "right": round(right, 3)}
        )  # fmt: skip
    return table, round(error, 4)


def _summary(
    kind: str,
    bank: list[BankItem],
    thetas: np.ndarray,
    overall: np.ndarray,
    results: list[tuple[dict[str, Any], Any, list[int], float]],
    exposure: np.ndarray,
    step_ms: list[float],
) -> dict[str, Any]:
    candidates = len(results)
    right = np.zeros(len(CATEGORIES))
    right_overall = 0
    rows: list[tuple[float, bool]] = []
    errors, overall_errors = [], []
    for person, (abilities, total, _given, _spent) in enumerate(results):
        for n, category in enumerate(CATEGORIES):
            ok = abilities[category].level == level_of(thetas[person, n])
            right[n] += ok
            rows.append((abilities[category].confidence, ok))
            errors.append(abilities[category].theta - thetas[person, n])
        ok = total.level == level_of(overall[person])
        right_overall += ok
        rows.append((total.confidence, ok))
        overall_errors.append(total.theta - overall[person])
    table, error = calibration(rows)
    items = [len(given) for _a, _t, given, _s in results]
    return {
        "kind": kind,
        "candidates": candidates,
        "bank_items": len(bank),
        "level_accuracy_overall": round(right_overall / candidates, 4),
        "level_accuracy_categories": {
            c: round(float(right[n]) / candidates, 4) for n, c in enumerate(CATEGORIES)
        },
        "rmse_overall": round(float(np.sqrt(np.mean(np.square(overall_errors)))), 4),
        "rmse_category": round(float(np.sqrt(np.mean(np.square(errors)))), 4),
        "calibration_error": error,
        "calibration": table,
        "max_exposure": round(float(exposure.max()) / candidates, 4),
        "mean_exposure": round(float(exposure[exposure > 0].mean()) / candidates, 4),
        "bank_share_used": round(float((exposure > 0).mean()), 4),
        "items_mean": round(statistics.fmean(items), 2),
        "minutes": round(statistics.fmean(s for _a, _t, _g, s in results) / 60, 2),
        "step_ms": round(statistics.fmean(step_ms), 3) if step_ms else None,
        "step_p95_ms": round(float(np.percentile(step_ms, 95)), 3) if step_ms else None,
    }


def _abilities(given: list[int], right: list[bool], index: BankIndex) -> tuple[Any, Any]:
    """What the scorer reports for these answers (unanswered items count as wrong, as the
    scorer counts them)."""
    names = sorted(index.categories, key=index.categories.__getitem__)
    terms = log_likelihoods(
        np.array([float(r) for r in right]), index.a[given], index.b[given], index.c[given]
    )
    owner = index.category[given]
    tables = terms @ (owner[:, None] == np.arange(len(names))[None, :]).astype(float)
    return from_tables(names, tables)


def equal_time(
    bank: list[BankItem], candidates: int, seed: int, times: list[timing.ItemTime],
    beta: np.ndarray, alpha: np.ndarray, seconds: float = SECONDS,
) -> dict[str, Any]:  # fmt: skip
    """Linear forms and adaptive sittings, the same candidates and ``seconds`` each (8
    minutes unless said)."""
    index = BankIndex(bank)
    order = [index.categories[c] for c in CATEGORIES]
    thetas, overall = true_abilities(candidates, seed)
    speeds = np.random.default_rng(seed + 1).normal(0, 0.3, candidates)
    typical = statistics.median(t.expected_seconds() for t in times)
    per_category = max(1, int(seconds / typical) // len(CATEGORIES))
    blueprint = Blueprint({c: per_category for c in CATEGORIES}, max_exposure=0.2)
    runs: dict[str, Any] = {"items_fitting": per_category * len(CATEGORIES)}
    for kind in ("linear", "adaptive"):
        rng = random.Random(seed + 2)
        draws = np.random.default_rng(seed + 3)
        exposure = np.zeros(len(bank))
        results: list[tuple[dict[str, Any], Any, list[int], float]] = []
        step_ms: list[float] = []
        for person in range(candidates):
            ability = {k: thetas[person, n] for n, k in enumerate(order)}
            if kind == "linear":
                counts = {bank[n].id: int(exposure[n]) for n in np.flatnonzero(exposure)}
                form = assemble(index, blueprint, rng, counts, person)
                planned = [index.position[entry["item"]] for entry in form]
                given, right, spent = [], [], 0.0
                for item in planned:
                    taken = answer_seconds(draws, beta, alpha, item, speeds[person])
                    reached = spent + taken <= seconds
                    spent = min(seconds, spent + taken)
                    theta = ability[int(index.category[item])]
                    chance = p3(theta, index.a[item], index.b[item], index.c[item])
                    given.append(item)
                    right.append(reached and bool(draws.random() < chance))
                abilities, total = _abilities(given, right, index)
            else:
                sitting = LevelSitting(index, Rules(seconds=seconds), rng, times, exposure, person)
                while True:
                    began = time.perf_counter()
                    chosen = sitting.select()
                    step_ms.append((time.perf_counter() - began) * 1000)
                    if chosen is None:
                        break
                    item = chosen
                    taken = answer_seconds(draws, beta, alpha, item, speeds[person])
                    if sitting.spent + taken > seconds:
                        break  # the time ran out on this item: not answered, not scored
                    theta = ability[int(index.category[item])]
                    chance = p3(theta, index.a[item], index.b[item], index.c[item])
                    sitting.answer(item, bool(draws.random() < chance), taken)
                given, spent = sitting.given, min(seconds, sitting.spent)
                abilities, total = sitting.abilities()
            exposure[given] += 1
            results.append((abilities, total, given, spent))
        runs[kind] = _summary(kind, bank, thetas, overall, results, exposure, step_ms)
    return runs


def _print_equal_time(name: str, runs: dict[str, Any]) -> None:
    print(f"\nAt equal time ({SECONDS / 60:.0f} minutes), {name}: {runs['items_fitting']} "
          "items fit a linear form")  # fmt: skip
    heads = f" {'RMSE':>6} {'calib.':>6} {'max exp':>7} {'used':>6} {'items':>5} {'min':>5}"
    print(f"  {'':9} {'overall':>8} " + " ".join(f"{c[:11]:>11}" for c in CATEGORIES) + heads)
    for kind in ("linear", "adaptive"):
        run = runs[kind]
        accuracy = " ".join(f"{run['level_accuracy_categories'][c]:>11.1%}" for c in CATEGORIES)
        print(
            f"  {kind:9} {run['level_accuracy_overall']:>8.1%} {accuracy} "
            f"{run['rmse_overall']:>6.3f} {run['calibration_error']:>6.3f} "
            f"{run['max_exposure']:>7.1%} {run['bank_share_used']:>6.1%} "
            f"{run['items_mean']:>5.1f} {run['minutes']:>5.2f}"
        )
    adaptive = runs["adaptive"]
    print(f"  selection step {adaptive['step_ms']} ms (p95 {adaptive['step_p95_ms']})")
    for minutes, longer in runs.get("longer", {}).items():
        for kind, run in longer.items():
            accuracy = " ".join(f"{v:>11.1%}" for v in run["level_accuracy_categories"].values())
            print(
                f"  {kind:9} {run['level_accuracy_overall']:>8.1%} {accuracy}"
                f"  in {minutes} minutes ({run['items_mean']:.1f} items)"
            )
    print("  calibration of the adaptive sittings' confidence (said / right / n):")
    for row in adaptive["calibration"]:
        print(f"    {row['confidence']}: {row['said']:.3f} / {row['right']:.3f} / {row['n']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.measurement")
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--cat-candidates", type=int, default=200)
    parser.add_argument("--length", type=int, default=20)
    parser.add_argument("--timed-candidates", type=int, default=1000)
    parser.add_argument("--time-sittings", type=int, default=500)
    args = parser.parse_args(argv)
    real = load_files(bundled_files())
    large = generated_bank(10_000, seed=7)
    real_run = simulate_forms(real, args.candidates, seed=11)
    large_run = simulate_forms(large, args.candidates, seed=12)
    cat = compare_with_catsim(large, args.cat_candidates, args.length, seed=13)
    timed = {}
    for name, bank, seed in (("real_bank", real, 21), ("generated_bank", large, 22)):
        beta, alpha = true_times(len(bank), seed)
        times, fit = fitted_times(bank, beta, alpha, args.time_sittings, seed + 1)
        timed[name] = {"time_fit": fit, **equal_time(bank, args.timed_candidates, seed + 2,
                                                     times, beta, alpha)}  # fmt: skip
    # How the levels' accuracy grows with the time: the real bank's sittings at 2 and 4 times
    # the 8 minutes (what the goal of 90% would take with these items).
    beta, alpha = true_times(len(real), 21)
    times, _fit = fitted_times(real, beta, alpha, args.time_sittings, 22)
    longer = {}
    for minutes in (16, 32):
        runs = equal_time(real, args.timed_candidates // 2, 23, times, beta, alpha, minutes * 60.0)
        longer[str(minutes)] = {
            kind: {
                k: runs[kind][k]
                for k in ("level_accuracy_overall", "level_accuracy_categories", "items_mean")
            }
            for kind in ("linear", "adaptive")
        }
    timed["real_bank"]["longer"] = longer
    adaptive = timed["real_bank"]["adaptive"]
    figures = {
        "machine": f"{platform.machine()} python {platform.python_version()}",
        "cuts": list(CUTS),
        "rho": RHO,
        "real_bank": real_run,
        "generated_bank": large_run,
        "adaptive_vs_catsim": cat,
        # the headline figures
        "catsim_speedup": cat["catsim_speedup"],
        "step_p95_ms": cat["step_p95_ms"],
        "rmse": cat["rmse"],
        "rmse_catsim": cat["rmse_catsim"],
        "level_accuracy_overall": real_run["level_accuracy_overall"],
        "max_exposure": real_run["max_exposure"],
        "mean_overlap": real_run["mean_overlap"],
        "score_ms": real_run["score_ms"],
        "assemble_ms": large_run["assemble_ms"],
        "equal_time": timed,
        "adaptive": {
            "level_accuracy_overall": adaptive["level_accuracy_overall"],
            "level_accuracy_categories": adaptive["level_accuracy_categories"],
            "calibration_error": adaptive["calibration_error"],
            "max_exposure": adaptive["max_exposure"],
            "minutes": adaptive["minutes"],
            "generated_bank": {
                k: timed["generated_bank"]["adaptive"][k]
                for k in (
                    "level_accuracy_overall",
                    "level_accuracy_categories",
                    "calibration_error",
                    "max_exposure",
                    "minutes",
                )
            },
        },
    }
    print(f"machine: {figures['machine']}")
    for name, run in (("real bank", real_run), ("10,000-item bank", large_run)):
        print(
            f"\nLinear-on-the-fly forms, {name} ({run['bank_items']} items, "
            f"{run['candidates']} candidates, 20 items each):"
        )
        print(
            f"  overall ability: RMSE {run['rmse_overall']}, bias {run['bias_overall']}; "
            f"level right for {run['level_accuracy_overall']:.1%}"
        )
        for c in CATEGORIES:
            print(
                f"  {c:12} RMSE {run['rmse_category'][c]:.3f}  bias {run['bias_category'][c]:+.3f}"
                f"  level right {run['level_accuracy'][c]:.1%}"
            )
        print(
            f"  max exposure {run['max_exposure']:.1%} (ceiling {BLUEPRINT.max_exposure:.0%}), "
            f"mean overlap {run['mean_overlap']:.1%}, {run['items_used']} items used"
        )
        print(
            f"  assemble {run['assemble_ms']} ms/form, score {run['score_ms']} ms/submission "
            f"(p95 {run['score_ms_p95']})"
        )
    print(
        f"\nAdaptive, {cat['length']} items, {cat['candidates']} candidates, "
        f"{cat['bank_items']} items:"
    )
    print(
        f"  per step: ours {cat['step_ms']} ms (p95 {cat['step_p95_ms']}), catsim "
        f"{cat['catsim_step_ms']} ms (p95 {cat['catsim_step_p95_ms']}): "
        f"{cat['catsim_speedup']}x faster"
    )
    print(
        f"  RMSE: ours {cat['rmse']} (bias {cat['bias']}), catsim {cat['rmse_catsim']} "
        f"(bias {cat['bias_catsim']})"
    )
    for name, label in (("real_bank", "the real bank"), ("generated_bank", "10,000 items")):
        print(f"\nTime model fitted from {args.time_sittings} sittings: intensities of items "
              f"answered 5 times or more correlate {timed[name]['time_fit']} with the true ones "
              f"({label})")  # fmt: skip
        _print_equal_time(label, timed[name])
    OUT.mkdir(exist_ok=True)
    (OUT / "measurement.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nwritten: {OUT / 'measurement.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
