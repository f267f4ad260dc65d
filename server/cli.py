"""``examgate-server``: run and administer an examgate server.

examgate-server init   --data DIR [--database URL] [--public-url URL] [--signing-p12 FILE]
examgate-server serve  --data DIR [--host H] [--port P] [--workers N] [--no-jobs]
examgate-server worker --data DIR [--concurrency N]      (PostgreSQL: jobs on any host)
examgate-server jobs   --data DIR [--retry-failed] [--json]
examgate-server invite --data DIR [--offline] [--candidate NAME] [--email ADDRESS]
                       [--opens WHEN] [--closes WHEN] [--extra-time MINUTES] [--json]
examgate-server proctor-code --data DIR --sitting ID --challenge CODE
examgate-server import-submissions --data DIR FILE...
examgate-server verify FILE.pdf|FILE.json [--authority PEM] [--did-document JSON] [--offline]
examgate-server org create --data DIR --name NAME [--slug HANDLE]
examgate-server org list --data DIR
examgate-server user add --data DIR --org HANDLE --email ADDRESS --role ROLE [--name NAME]
                         [--password-stdin]
examgate-server token create --data DIR --org HANDLE --name NAME --scope SCOPE...
examgate-server token revoke --data DIR --org HANDLE --id TOKEN_ID
examgate-server bank validate|stats|import|export|analyse|calibrate ...
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import logging
import os
import socket
import sys
from pathlib import Path

from certificates.authority import AuthorityError
from server import logs, serving
from server.bank.cli import add_parser as add_bank_parser
from server.bank.cli import run as run_bank
from server.errors import ApiError
from server.keys import KeyFileError
from server.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="examgate-server", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="create the key, database, bank and demo assessment")
    init.add_argument("--data", type=Path, required=True, help="the server's data folder")
    init.add_argument("--database", help="database URL (default: SQLite in the data folder)")
    init.add_argument("--public-url", help="address candidates and verifiers reach, for QR codes")
    init.add_argument(
        "--signing-p12",
        type=Path,
        metavar="FILE",
        help="sign certificates with this PKCS#12 key and certificate (default: a new authority); "
        "its password is read from EXAMGATE_P12_PASSWORD",
    )

    serve = commands.add_parser("serve", help="run the HTTP API under uvicorn")
    serve.add_argument("--data", type=Path, required=True)
    serve.add_argument("--database")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--workers", type=int, default=1, help="app processes sharing the port (PostgreSQL)"
    )
    serve.add_argument("--public-url")
    serve.add_argument(
        "--no-jobs",
        action="store_true",
        help="leave background jobs to separate 'examgate-server worker' processes",
    )
    serve.add_argument("--log-format", choices=["json", "text"], default="json")
    worker = commands.add_parser("worker", help="run background jobs (PostgreSQL), any number")
    worker.add_argument("--data", type=Path, required=True)
    worker.add_argument("--database")
    worker.add_argument("--public-url")
    worker.add_argument("--concurrency", type=int, default=2, help="jobs at once")
    worker.add_argument("--log-format", choices=["json", "text"], default="json")
    queue = commands.add_parser("jobs", help="background jobs pending and failed, with reasons")
    queue.add_argument("--data", type=Path, required=True)
    queue.add_argument("--database")
    queue.add_argument("--json", action="store_true", help="print JSON")
    queue.add_argument("--retry-failed", action="store_true", help="queue failed jobs again")

    add_bank_parser(commands)

    proctor = commands.add_parser(
        "proctor-code", help="the response code that unlocks a locked sitting (works offline)"
    )
    proctor.add_argument("--data", type=Path, required=True)
    proctor.add_argument("--database")
    proctor.add_argument("--sitting", required=True, help="the sitting id shown on the lock screen")
    proctor.add_argument(
        "--challenge", required=True, help="the challenge shown on the lock screen"
    )

    handed = commands.add_parser(
        "import-submissions", help="score hand-in files exported by clients that were offline"
    )
    handed.add_argument("--data", type=Path, required=True)
    handed.add_argument("--database")
    handed.add_argument("files", type=Path, nargs="+", help="examgate-hand-in-*.json files")

    org = commands.add_parser("org", help="organisations (employers)").add_subparsers(
        dest="org_command", required=True
    )
    org_create = org.add_parser("create", help="a new organisation")
    org_create.add_argument("--name", required=True)
    org_create.add_argument("--slug", help="its public handle (default: from the name)")
    org_list = org.add_parser("list", help="every organisation")
    user = commands.add_parser("user", help="members of organisations").add_subparsers(
        dest="user_command", required=True
    )
    user_add = user.add_parser(
        "add",
        help="give a person a role in an organisation; a new person without --password-stdin "
        "is e-mailed a code to choose a password",
    )
    user_add.add_argument("--org", required=True, help="the organisation's handle")
    user_add.add_argument("--email", required=True)
    user_add.add_argument(
        "--role", required=True, choices=["owner", "recruiter", "proctor", "viewer"]
    )
    user_add.add_argument("--name")
    user_add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    token = commands.add_parser("token", help="an organisation's API tokens").add_subparsers(
        dest="token_command",
        required=True,
    )
    token_create = token.add_parser("create", help="a new API token, printed once")
    token_create.add_argument("--org", required=True)
    token_create.add_argument("--name", required=True)
    token_create.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=["results:read", "invite", "assessments:manage"],
        help="repeat for several",
    )
    token_revoke = token.add_parser("revoke", help="revoke an API token")
    token_revoke.add_argument("--org", required=True)
    token_revoke.add_argument("--id", required=True)
    candidate = commands.add_parser(
        "candidate", help="a candidate's personal data: export it as JSON, or erase it"
    ).add_subparsers(dest="candidate_command", required=True)
    candidate_export = candidate.add_parser("export", help="everything held about an address")
    candidate_erase = candidate.add_parser(
        "erase", help="erase an address's personal data (responses kept anonymous)"
    )
    for sub in (candidate_export, candidate_erase):
        sub.add_argument("--email", required=True)
        sub.add_argument("--org", help="only this organisation's sittings (its handle)")
    for sub in (
        org_create, org_list, user_add, token_create, token_revoke, candidate_export,
        candidate_erase,
    ):  # fmt: skip
        sub.add_argument("--data", type=Path, required=True)
        sub.add_argument("--database")
        sub.add_argument("--json", action="store_true", help="print JSON")

    verify = commands.add_parser(
        "verify", help="check a certificate PDF or an Open Badges credential (JSON)"
    )
    verify.add_argument("file", type=Path, help="the certificate (.pdf) or credential (.json)")
    verify.add_argument(
        "--authority", type=Path, help="the issuing server's authority certificate (PEM)"
    )
    verify.add_argument(
        "--did-document", type=Path, help="the issuer's DID document (JSON), for offline checks"
    )
    verify.add_argument("--data", type=Path, help="check against this server's own keys")
    verify.add_argument("--offline", action="store_true", help="do not ask about revocation")
    verify.add_argument("--json", action="store_true", help="print JSON")

    invite = commands.add_parser("invite", help="create an invitation for one sitting")
    invite.add_argument("--data", type=Path, required=True)
    invite.add_argument("--database")
    invite.add_argument("--assessment", default="deep-learning")
    invite.add_argument("--candidate", default="Demo Candidate")
    invite.add_argument("--email", help="the candidate's email: earlier forms are never repeated")
    invite.add_argument("--offline", action="store_true", help="a supervised offline sitting")
    invite.add_argument(
        "--opens", type=_moment, help="when the sitting may start (ISO 8601; default: now)"
    )
    invite.add_argument(
        "--closes", type=_moment, help="when the window closes (ISO 8601; default: in 30 days)"
    )
    invite.add_argument(
        "--extra-time", type=int, default=0, metavar="MINUTES", help="extra time for this candidate"
    )
    invite.add_argument("--json", action="store_true", help="print JSON")
    return parser


def _moment(text: str) -> int:
    """An ISO 8601 date or time (UTC unless it says otherwise) as ms since the epoch."""
    from server.roster import parse_moment

    try:
        return parse_moment(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _serve(args: argparse.Namespace) -> int:
    settings = Settings.load(args.data, args.database, args.public_url)
    if not settings.key_file.exists():
        raise KeyFileError(f"No server in {settings.data_dir}: run 'examgate-server init' first.")
    if not settings.public_url_set:  # links and QR codes follow the address actually served
        everywhere = args.host in ("0.0.0.0", "::")  # noqa: S104 (a comparison, not a bind)
        host = socket.gethostname() if everywhere else args.host
        host = f"[{host}]" if ":" in host else host
        settings = dataclasses.replace(settings, public_url=f"http://{host}:{args.port}")
        print(f"Public address {settings.public_url} (set --public-url to change it)", flush=True)
    # Workers are separate processes: they read the settings from the environment.
    os.environ["EXAMGATE_DATA"] = str(settings.data_dir)
    os.environ["EXAMGATE_DATABASE_URL"] = settings.database_url
    os.environ["EXAMGATE_PUBLIC_URL"] = settings.public_url
    os.environ["EXAMGATE_JOBS"] = "0" if args.no_jobs else "1"
    logs.configure(json_lines=args.log_format == "json")
    return serving.serve(args.host, args.port, args.workers, args.log_format == "json")


def _worker(args: argparse.Namespace) -> int:
    from server.context import Context
    from server.jobs import ProcrastinateWorker

    settings = Settings.load(args.data, args.database, args.public_url)
    logs.configure(json_lines=args.log_format == "json")
    ctx = Context.open(settings)
    try:
        if ctx.engine.dialect.name != "postgresql":
            print(
                "examgate-server: on SQLite the jobs run inside 'serve'; separate workers need "
                "PostgreSQL (--database postgresql://...).",
                file=sys.stderr,
            )
            return 2
        print("Working the job queue; Ctrl+C stops.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            ProcrastinateWorker(ctx, concurrency=args.concurrency).run_forever()
    finally:
        ctx.dispose()
    return 0


def _jobs(args: argparse.Namespace) -> int:
    from server import jobs
    from server.context import Context

    ctx = Context.open(Settings.load(args.data, args.database))
    try:
        if args.retry_failed:
            print(f"Queued {jobs.retry_failed(ctx)} failed jobs again.")
        found = jobs.status(ctx)
    finally:
        ctx.dispose()
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    names = sorted(set(jobs.load_tasks()))
    for name in names:
        print(
            f"{name:10} pending {found['pending'].get(name, 0):6}   "
            f"failed {found['failed'].get(name, 0):6}"
        )
    for failure in found["failures"]:
        print(
            f"failed: {failure['task']} {failure['key']} after {failure['attempts']} attempts: "
            f"{failure['last_error']}"
        )
    return 0


def _import_submissions(args: argparse.Namespace) -> int:
    """Each file verified and scored as an upload would be; a file already received answers as
    before (exactly once). One line per file; exit 1 if any file was refused."""
    from server.context import Context
    from server.results import hand_in
    from shared.errors import ExamgateError

    ctx = Context.open(Settings.load(args.data, args.database))
    refused = 0
    try:
        for path in args.files:
            try:
                answer = hand_in(ctx, path.read_bytes())
            except (ApiError, ExamgateError, OSError) as error:
                refused += 1
                print(f"{path}: refused: {error}")
                continue
            if answer.get("result_pending"):  # uploaded under load before: the job scores it
                print(f"{path}: received: submission {answer['submission_id']}, being scored")
                continue
            outcome = answer["integrity"]["outcome"]
            print(
                f"{path}: received: submission {answer['submission_id']}, overall "
                f"{answer['overall']}, integrity {outcome}"
            )
    finally:
        ctx.dispose()
    return 1 if refused else 0


def _employers(args: argparse.Namespace) -> int:
    """org, user and token: the operator's own path to what the employer API does."""
    from server import accounts
    from server.context import Context

    ctx = Context.open(Settings.load(args.data, args.database))
    operator = accounts.operator()
    found: object
    try:
        if args.command == "org" and args.org_command == "create":
            found = accounts.create_organisation(ctx, args.name, args.slug)
            text = f"Organisation {found['name']!r}: id {found['id']}, handle {found['slug']}"
        elif args.command == "org":
            found = accounts.organisations(ctx)
            text = "\n".join(f"{o['slug']:24} {o['id']}  {o['name']}" for o in found) or "None."
        elif args.command == "candidate":
            from server import retention

            organisation_id = None
            if args.org:
                with ctx.reader.connect() as connection:
                    organisation_id = accounts.organisation_by_slug(connection, args.org)["id"]
            if args.candidate_command == "export":
                found = retention.export(ctx, organisation_id, args.email)
                text = json.dumps(found, indent=2)
            else:
                found = retention.erase(ctx, organisation_id, args.email)
                text = f"Erased the personal data of {found['erased']} sitting(s)."
        else:
            with ctx.reader.connect() as connection:
                organisation_id = accounts.organisation_by_slug(connection, args.org)["id"]
            if args.command == "user":
                password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
                found = accounts.add_member(
                    ctx, operator, organisation_id, args.email, args.role, args.name, password
                )
                text = f"{found['email']} is {found['role']} of {args.org}."
                if found["created"] and password is None:
                    text += " A code to choose a password was e-mailed."
            elif args.token_command == "create":  # noqa: S105 (a sub-command, no secret)
                found = accounts.create_token(ctx, operator, organisation_id, args.name, args.scope)
                text = (
                    f"Token {found['id']} ({', '.join(found['scopes'])}); shown this once:\n"
                    f"{found['token']}"
                )
            else:
                accounts.revoke_token(ctx, operator, organisation_id, args.id)
                found, text = {"revoked": args.id}, f"Token {args.id} revoked."
    finally:
        ctx.dispose()
    print(json.dumps(found, indent=2) if args.json else text)
    return 0


def _verify(args: argparse.Namespace) -> int:
    """0: genuine and not revoked; 1: not genuine or revoked; 2: nothing to check with."""
    from certificates import verifier

    data = args.file.read_bytes()
    settings = Settings.load(args.data) if args.data else None
    if data.startswith(b"%PDF"):
        authority = args.authority or (settings.signing_files.authority if settings else None)
        if authority is None:
            print(
                "examgate-server: give the issuing server's authority certificate with "
                "--authority FILE (download it once from its /trust/authority.pem).",
                file=sys.stderr,
            )
            return 2
        report = verifier.check_pdf(data, authority, online=not args.offline)
    else:
        try:
            document = json.loads(data)
        except ValueError:
            print("examgate-server: the file is neither a PDF nor JSON.", file=sys.stderr)
            return 2
        did_document = None
        if args.did_document:
            did_document = json.loads(args.did_document.read_text(encoding="utf-8"))
        elif settings is not None:
            from server.context import Context
            from server.credentials import did_document as own_document

            ctx = Context.open(settings)
            did_document = own_document(ctx)
            ctx.dispose()
        report = verifier.check_credential(document, did_document, online=not args.offline)
    print(json.dumps(report.to_json(), indent=2) if args.json else report.text())
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        if args.command == "init":
            from server.provision import initialise

            p12 = args.signing_p12.read_bytes() if args.signing_p12 else None
            password = os.environ.get("EXAMGATE_P12_PASSWORD")
            summary = initialise(
                Settings.load(args.data, args.database, args.public_url),
                p12,
                password.encode() if password else None,
            )
            print(json.dumps(summary, indent=2))
            return 0
        if args.command == "serve":
            return _serve(args)
        if args.command == "worker":
            return _worker(args)
        if args.command == "jobs":
            return _jobs(args)
        if args.command == "bank":
            return run_bank(args)
        if args.command == "proctor-code":
            from server.context import Context
            from server.invitations import proctor_code

            ctx = Context.open(Settings.load(args.data, args.database))
            print(proctor_code(ctx, args.sitting, args.challenge))
            ctx.dispose()
            return 0
        if args.command == "verify":
            return _verify(args)
        if args.command == "import-submissions":
            return _import_submissions(args)
        if args.command in ("org", "user", "token", "candidate"):
            return _employers(args)
        if args.command == "invite":
            from server.context import Context
            from server.invitations import create_invitation

            ctx = Context.open(Settings.load(args.data, args.database))
            invitation = create_invitation(
                ctx,
                args.assessment,
                args.candidate,
                args.offline,
                args.email,
                opens_ms=args.opens,
                closes_ms=args.closes,
                extra_time_s=args.extra_time * 60,
            )
            ctx.dispose()
            if args.json:
                print(json.dumps(invitation))
            else:
                print(f"Invitation code: {invitation['invitation']}")
                if args.offline:
                    print(f"Unlock code (give it to the proctor): {invitation['unlock_code']}")
            return 0
    except (KeyFileError, ApiError, AuthorityError, OSError) as error:
        print(f"examgate-server: {error}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())
