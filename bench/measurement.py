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

from server.adaptive import AdaptiveTest
from server.assembly import BankIndex, Blueprint, assemble
from server.bank.loader import bundled_files, load_files
from server.bank.model import BankItem, Option
from server.irt import p3
from server.measurement import CUTS, RHO, level_of
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.measurement")
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--cat-candidates", type=int, default=200)
    parser.add_argument("--length", type=int, default=20)
    args = parser.parse_args(argv)
    real = load_files(bundled_files())
    large = generated_bank(10_000, seed=7)
    real_run = simulate_forms(real, args.candidates, seed=11)
    large_run = simulate_forms(large, args.candidates, seed=12)
    cat = compare_with_catsim(large, args.cat_candidates, args.length, seed=13)
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
    OUT.mkdir(exist_ok=True)
    (OUT / "measurement.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"\nwritten: {OUT / 'measurement.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
