"""``examgate-client``: the desktop app, the health check, and ``simulate``, a headless candidate.

examgate-client [--home DIR] [--server URL] [--invite CODE]
examgate-client check [--json]
examgate-client export-submission [--home DIR] [--out DIR] [--sitting ID]
examgate-client simulate --server URL --invite CODE [--unlock CODE]
                         [--strategy random|first] [--seed N] [--home DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from client.keystore import FileKeyStore, KeyringStore, KeyStore, keyring_available
from client.settings import ClientSettings
from shared.errors import ExamgateError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="examgate-client", description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="the client's data folder")
    parser.add_argument("--server", help="prefill the enrolment page with this server address")
    parser.add_argument("--invite", help="prefill the enrolment page with this invitation code")
    commands = parser.add_subparsers(dest="command")
    simulate = commands.add_parser("simulate", help="sit an exam headlessly, end to end")
    simulate.add_argument(
        "--server", required=True, help="server address, e.g. http://127.0.0.1:8080"
    )
    simulate.add_argument("--invite", required=True, help="invitation code")
    simulate.add_argument("--unlock", help="unlock code (offline sittings); else the server's")
    simulate.add_argument("--strategy", choices=("random", "first"), default="random")
    simulate.add_argument("--seed", type=int, help="seed for the random strategy")
    simulate.add_argument("--home", type=Path, dest="sim_home", help="the client's data folder")
    simulate.add_argument("--json", action="store_true", help="print one JSON object")
    simulate.add_argument(
        "--share",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="answer the consent question: share the result with the inviting organisation, "
        "or not (default: not asked, nothing shared)",
    )
    check = commands.add_parser("check", help="run the pre-sitting health check")
    check.add_argument("--json", action="store_true", help="print one JSON object")
    export = commands.add_parser(
        "export-submission",
        help="save finished exams not yet received by the server to files, for hand-in",
    )
    export.add_argument("--home", type=Path, dest="export_home", help="the client's data folder")
    export.add_argument("--out", type=Path, default=Path("."), help="folder for the files")
    export.add_argument("--sitting", help="only this sitting")
    return parser


def headless_keystore(home: Path) -> KeyStore:
    """The keyring when there is one; otherwise a 0600 key file, said on stderr."""
    if keyring_available():
        return KeyringStore(home)
    store = FileKeyStore(home)
    print(
        f"examgate-client: no system keyring; device keys are kept in {store.path} (mode 0600).",
        file=sys.stderr,
    )
    return store


def _simulate(args: argparse.Namespace) -> int:
    from client.engine import Engine
    from client.simulate import run

    settings = ClientSettings.load(args.sim_home or args.home)
    engine = Engine(settings, headless_keystore(settings.home))
    try:
        summary = run(
            engine, args.server, args.invite, args.unlock, args.strategy, args.seed,
            share=args.share,
        )  # fmt: skip
    finally:
        engine.close()
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"Overall level: {summary['result']['overall']}")
        for name, level in summary["result"]["categories"].items():
            print(f"  {name}: {level}")
        print(f"Certificate: {summary['certificate']}")
    return 0


def _check(args: argparse.Namespace) -> int:
    """The health check from a terminal; exit 1 if anything would stop a sitting."""
    import os

    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from client.proctor.health import check_from_terminal

    return check_from_terminal(args.json)


def _export(args: argparse.Namespace) -> int:
    """Write each finished exam the server has not received to a hand-in file."""
    from client.engine import Engine

    settings = ClientSettings.load(args.export_home or args.home)
    engine = Engine(settings, headless_keystore(settings.home))
    try:
        chosen = [
            status
            for status in engine.outbox.statuses()
            if status.state != "received" and args.sitting in (None, status.sitting_id)
        ]
        if not chosen:
            print("There is no finished exam waiting to be handed in on this computer.")
            return 1
        for status in chosen:
            path = engine.export_submission(status.submission_id, args.out)
            print(f"{path}  (sitting {status.sitting_id}: give this file to your proctor)")
    finally:
        engine.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "simulate":
            return _simulate(args)
        if args.command == "export-submission":
            return _export(args)
        if args.command == "check":
            return _check(args)
        from client.ui.app import run_app

        return run_app(ClientSettings.load(args.home), server=args.server, invitation=args.invite)
    except ExamgateError as error:
        print(f"examgate-client: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
