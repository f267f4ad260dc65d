"""``examgate-server bank``: validate, stats, import and export the item bank.

bank validate [PATH ...] [--partial] [--profile house|general]
                                 the bundled bank and practice set (house rules) by default
bank stats [--data DIR] [--json] [--plot FILE]
bank import PATH ... --data DIR [--category ID] [--skill NAME] [--category-map 'SOURCE=ID' ...]
            [--status S] [--write FILE.toml] [--dry-run] [--strict]
            exit 0: every item imported; 3: some skipped (the others imported); 1: none
bank export --format qti3 --out FILE.zip [--data DIR]
bank times --data DIR [--json] [--dry-run]     fit the items' response times from the sittings
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from server import db, timing
from server.bank import importing
from server.bank.formats import ImportError_, Mapping, Outcome, read_items
from server.bank.formats.export import qti3_package, to_toml
from server.bank.loader import bundled_files, load_files, practice_files
from server.bank.model import STATUSES, BankError, BankItem
from server.bank.responses import stored_responses, stored_times
from server.bank.stats import bank_stats, plot_difficulty
from server.bank.store import all_items, bump_version, import_items
from server.bank.validate import PROFILES, Targets, validate
from server.calibration import ResponseMatrix, analyse, calibrate
from server.settings import Settings


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bank = commands.add_parser("bank", help="validate, inspect, import and export items")
    verbs = bank.add_subparsers(dest="bank_command", required=True)

    check = verbs.add_parser("validate", help="check item files (default: the bundled bank)")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders of items")
    check.add_argument(
        "--partial", action="store_true", help="a part of a bank: skip bank-wide coverage targets"
    )
    check.add_argument(
        "--profile",
        choices=sorted(PROFILES),
        help="house: the bundled bank's rules (the default with no paths); general: any bank's",
    )
    _mapping_options(check)

    stats = verbs.add_parser("stats", help="items per category, skill and difficulty band")
    stats.add_argument("--data", type=Path, help="a server's data folder (default: bundled)")
    stats.add_argument("--json", action="store_true")
    stats.add_argument("--plot", type=Path, help="write the difficulty spread as PNG")

    load = verbs.add_parser("import", help="import QTI 2.1/3.0, Moodle XML, GIFT or TOML")
    load.add_argument("paths", nargs="+", type=Path)
    load.add_argument("--data", type=Path, help="the server to import into")
    load.add_argument("--write", type=Path, help="also write the items as a reviewable TOML file")
    load.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    load.add_argument(
        "--strict", action="store_true", help="all or nothing: import nothing if any is skipped"
    )
    _mapping_options(load)

    look = verbs.add_parser("analyse", help="item statistics from the stored responses")
    look.add_argument("--data", type=Path, required=True)
    look.add_argument("--json", action="store_true")
    look.add_argument("--flagged", action="store_true", help="only items with a flag")

    fit = verbs.add_parser("calibrate", help="re-estimate a and b from the stored responses")
    fit.add_argument("--data", type=Path, required=True)
    fit.add_argument(
        "--all",
        action="store_true",
        help="re-estimate live items too (default: live items anchor the scale)",
    )
    fit.add_argument(
        "--min-responses",
        type=int,
        default=200,
        help="skip items answered fewer times (default 200)",
    )
    fit.add_argument("--dry-run", action="store_true", help="report only; change nothing")

    times = verbs.add_parser(
        "times", help="fit each item's response time from the stored sittings (lognormal)"
    )
    times.add_argument("--data", type=Path, required=True)
    times.add_argument("--json", action="store_true")
    times.add_argument("--dry-run", action="store_true", help="report only; store nothing")

    out = verbs.add_parser("export", help="export items as a QTI 3.0 content package")
    out.add_argument("--format", choices=("qti3",), required=True)
    out.add_argument("--out", type=Path, required=True)
    out.add_argument("--data", type=Path, help="a server's data folder (default: bundled)")


def _mapping_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--category", help="category id for items whose source names none")
    parser.add_argument("--skill", help="skill for items whose source names none")
    parser.add_argument(
        "--category-map",
        action="append",
        default=[],
        metavar="SOURCE=ID",
        help="map a source category name to a category id (repeatable)",
    )
    parser.add_argument(
        "--status",
        choices=STATUSES,
        default="draft",
        help="status of imported items (default: draft, never drawn)",
    )


def _mapping(args: argparse.Namespace) -> Mapping:
    pairs = {}
    for entry in args.category_map:
        source, _, target = entry.partition("=")
        if not target:
            raise ImportError_(f"--category-map needs SOURCE=ID, not '{entry}'.")
        pairs[source.strip()] = target.strip()
    return Mapping(category=args.category, skill=args.skill, categories=pairs, status=args.status)


def _expand(paths: list[Path]) -> list[Path]:
    """Files to read: a folder is a content package if it holds a manifest, else its files."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir() and not (path / "imsmanifest.xml").is_file():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file()))
        else:
            files.append(path)
    return files


def _read(paths: list[Path], mapping: Mapping) -> list[Outcome]:
    return [outcome for path in _expand(paths) for outcome in read_items(path, mapping).outcomes]


def _validate(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    skipped: list[Outcome] = []
    if args.paths:
        outcomes = _read(args.paths, _mapping(args))
        skipped = [o for o in outcomes if o.item is None]
        read = [o.item for o in outcomes if o.item is not None]
        practice = [item for item in read if item.status == "practice"]
        items = [item for item in read if item.status != "practice"]
    else:
        items, practice = load_files(bundled_files()), load_files(practice_files())
    profile = PROFILES[args.profile or ("general" if args.paths else "house")]
    report = validate(items, practice, None if args.partial else Targets(), profile)
    elapsed = (time.perf_counter() - started) * 1000
    for outcome in skipped:
        print(f"{outcome.where}: error: {'; '.join(outcome.notes)}.")
    for finding in report.findings:
        print(finding)
    errors = len(report.errors) + len(skipped)
    warnings = len(report.findings) - len(report.errors)
    figures = report.figures
    print(
        f"{len(items)} items, {len(practice)} practice items ({profile.name} profile): {errors} "
        f"errors, {warnings} warnings; key positions {figures.get('key_positions')}, key longest "
        f"in {figures.get('key_longest_share', 0):.0%}; checked in {elapsed:.0f} ms."
    )
    return 0 if report.ok and not skipped else 1


def _load(data: Path | None) -> tuple[list[BankItem], list[BankItem]]:
    if data is None:
        return load_files(bundled_files()), load_files(practice_files())
    engine = db.make_engine(Settings.load(data).database_url)
    try:
        with engine.connect() as connection:
            stored = all_items(connection)
    finally:
        engine.dispose()
    return (
        [i for i in stored if i.status != "practice"],
        [i for i in stored if i.status == "practice"],
    )


def _stats(args: argparse.Namespace) -> int:
    items, practice = _load(args.data)
    figures = bank_stats(items, practice)
    if args.plot:
        plot_difficulty(items, args.plot)
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{figures['items']} exam items, {figures['practice_items']} practice items")
    for category, count in figures["categories"].items():
        bands = ", ".join(
            f"{n} {name}" for name, n in figures["difficulty_bands"][category].items()
        )
        print(f"\n{category}: {count} items ({bands})")
        for skill, n in figures["skills_by_category"][category].items():
            print(f"  {n:3}  {skill}")
    if args.plot:
        print(f"\ndifficulty spread written to {args.plot}")
    return 0


def _import(args: argparse.Namespace) -> int:
    outcomes = _read(args.paths, _mapping(args))
    engine = db.make_engine(Settings.load(args.data).database_url) if args.data else None
    try:
        bank: dict[str, BankItem] = {}
        if engine is not None:
            with engine.connect() as connection:
                bank = {item.id: item for item in all_items(connection)}
        outcomes = importing.check(outcomes, bank)
        for line in importing.summary(outcomes):
            print(line)
        items = [o.item for o in outcomes if o.item is not None]
        skipped = len(outcomes) - len(items)
        if args.strict and skipped:
            print(f"Nothing imported: {skipped} skipped with --strict (all or nothing).")
            return 1
        if not items:
            print("Nothing imported: no item could be read.")
            return 1
        if args.write and not args.dry_run:
            title = f"imported from {', '.join(map(str, args.paths))}"
            args.write.write_text(to_toml(items, title), encoding="utf-8")
            print(f"Wrote {len(items)} items to {args.write} for review.")
        if engine is None or args.dry_run:
            print(
                f"{len(items)} items can be imported"
                + ("; nothing written (dry run)." if args.dry_run else "; pass --data DIR.")
            )
            return 3 if skipped else 0
        with engine.begin() as connection:  # one transaction: every kept item or none
            inserted, updated = import_items(connection, items)
    finally:
        if engine is not None:
            engine.dispose()
    print(
        f"Imported {inserted} new and {updated} changed items ({len(items) - inserted - updated} "
        f"unchanged){f'; {skipped} skipped' if skipped else ''}."
    )
    return 3 if skipped else 0


def _export(args: argparse.Namespace) -> int:
    items, _practice = _load(args.data)
    args.out.write_bytes(qti3_package(items))
    print(f"Exported {len(items)} items as a QTI 3.0 package: {args.out}")
    return 0


def _responses(data: Path) -> tuple[list[BankItem], ResponseMatrix]:
    engine = db.make_engine(Settings.load(data).database_url)
    try:
        with engine.connect() as connection:
            items, sittings = all_items(connection), stored_responses(connection)
    finally:
        engine.dispose()
    return items, ResponseMatrix.build(sittings)


def _analyse(args: argparse.Namespace) -> int:
    items, matrix = _responses(args.data)
    key = {item.id: item.key for item in items}
    rows = [r for r in analyse(matrix, key) if r.flags or not args.flagged]
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=2))
        return 0
    print(f"{len(matrix.scores)} scored sittings, {len(matrix.item_ids)} items answered")
    print(f"{'item':12} {'n':>5} {'p':>6} {'r_pb':>6}  options chosen / flags")
    for r in rows:
        rates = " ".join(f"{k}:{v:.0%}" for k, v in r.option_rates.items())
        print(f"{r.item_id:12} {r.n:>5} {r.p_value:>6.2f} {r.point_biserial:>6.2f}  {rates}")
        for flag in r.flags:
            print(f"{'':33}! {flag}")
    return 0


def _calibrate(args: argparse.Namespace) -> int:
    items, matrix = _responses(args.data)
    by_id = {item.id: item for item in items}
    ids = [i for i in matrix.item_ids if i in by_id]
    if not ids:
        print("No stored responses yet: nothing to calibrate.")
        return 0
    columns = [matrix.item_ids.index(i) for i in ids]
    matrix = ResponseMatrix(ids, matrix.scores[:, columns], matrix.scored[columns])
    counts = (~np.isnan(matrix.scores)).sum(axis=0)
    status = np.array([by_id[i].status for i in ids])
    free = (counts >= args.min_responses) & (args.all | (status != "live"))
    a = np.array([by_id[i].a for i in ids])
    b = np.array([by_id[i].b for i in ids])
    c = np.array([by_id[i].c for i in ids])
    fitted = calibrate(matrix, a, b, c, free)
    print(
        f"{len(matrix.scores)} sittings; {int(free.sum())} items estimated, "
        f"{int((~free).sum())} held fixed; {fitted.iterations} EM cycles, "
        f"{'converged' if fitted.converged else 'NOT converged'}."
    )
    changes = []
    for n in np.flatnonzero(free):
        item_id = ids[n]
        print(
            f"  {item_id:12} a {a[n]:.2f} -> {fitted.a[n]:.2f}   "
            f"b {b[n]:+.2f} -> {fitted.b[n]:+.2f}   ({counts[n]} responses)"
        )
        changes.append((item_id, round(float(fitted.a[n]), 3), round(float(fitted.b[n]), 3)))
    if args.dry_run or not changes:
        return 0
    engine = db.make_engine(Settings.load(args.data).database_url)
    try:
        with engine.begin() as connection:
            for item_id, new_a, new_b in changes:
                connection.execute(
                    db.items.update().where(db.items.c.id == item_id).values(a=new_a, b=new_b)
                )
            bump_version(connection)
    finally:
        engine.dispose()
    print(f"Updated {len(changes)} items.")
    return 0


def _times(args: argparse.Namespace) -> int:
    engine = db.make_engine(Settings.load(args.data).database_url)
    try:
        with engine.connect() as connection:
            observed = stored_times(connection)
        fitted = timing.fit(observed)
        sittings = len({sitting for sitting, _item, _seconds in observed})
        seconds = {item: t.expected_seconds() for item, t in fitted.items()}
        if args.json:
            print(json.dumps({"sittings": sittings, "items": {
                item: {"beta": round(t.beta, 4), "alpha": round(t.alpha, 4),
                       "answers": t.answers, "seconds": round(seconds[item], 1)}
                for item, t in sorted(fitted.items())
            }}, indent=2))  # fmt: skip
        else:
            print(f"{sittings} sittings, {len(observed)} item times, {len(fitted)} items fitted.")
            if fitted:
                ordered = sorted(seconds.values())
                typical = ordered[len(ordered) // 2]
                print(
                    f"Typical item: {typical:.1f} s at average speed; 8 minutes hold about "
                    f"{timing.items_filling(480, ordered, 4)} items."
                )
                for item in sorted(seconds, key=seconds.__getitem__, reverse=True)[:5]:
                    print(
                        f"  slow: {item:14} {seconds[item]:6.1f} s ({fitted[item].answers} times)"
                    )
        if args.dry_run or not fitted:
            return 0
        with engine.begin() as connection:
            stored = timing.save(connection, fitted, time.time_ns() // 1_000_000)
            bump_version(connection)  # serving processes read the bank and its times again
    finally:
        engine.dispose()
    if not args.json:
        print(f"Stored the times of {stored} items.")
    return 0


def run(args: argparse.Namespace) -> int:
    commands = {
        "validate": _validate,
        "stats": _stats,
        "import": _import,
        "export": _export,
        "analyse": _analyse,
        "calibrate": _calibrate,
        "times": _times,
    }
    try:
        return commands[args.bank_command](args)
    except (ImportError_, BankError) as error:
        print(f"examgate-server bank: {error}", file=sys.stderr)
        return 1
