"""The public HTML pages (the certificate check), styled by one stylesheet served from
``/assets/examgate.css`` (the Content-Security-Policy allows styles from this server only).

The verification page reads in the certificate's order: who, what and when, the overall level,
each category's level with the rubric's sentence, then the code. An unknown code, or one that
is not a code at all, gets a sentence that says what to do.
"""

from __future__ import annotations

import html
from typing import Any

from shared.models import CATEGORIES, level_name, rubric

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: #1d2b3a; background: #f5f7f9; }
main { max-width: 42rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
.card { background: #ffffff; border: 2px solid #1f6f8b; border-radius: 10px;
        padding: 1.5rem 1.25rem; }
.kicker { margin: 0; font-size: .85rem; letter-spacing: .08em; text-transform: uppercase;
          color: #1f6f8b; font-weight: 700; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: .5rem 0 1rem; }
.lead { color: #4f5f6e; margin: 0; }
.name { font-size: 1.5rem; font-weight: 700; margin: .25rem 0; overflow-wrap: anywhere; }
.overall { margin: 1.25rem 0; }
.overall strong { display: block; font-size: 1.8rem; color: #1f6f8b; }
ul.levels { list-style: none; padding: 0; margin: 0; }
ul.levels li { border-top: 1px solid #6b7c8c; padding: .75rem 0; }
ul.levels .level { font-weight: 700; }
.meaning { color: #4f5f6e; margin: .25rem 0 0; }
.code { font-family: ui-monospace, monospace; font-weight: 700; }
.genuine { color: #1e6b22; }
.unknown { color: #a12626; }
a { color: #0b57d0; }
a:focus, a:hover { outline: 3px solid #0b57d0; outline-offset: 2px; }
footer { color: #4f5f6e; font-size: .9rem; margin-top: 1.5rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .25rem; }
.hash { overflow-wrap: anywhere; font-size: .9rem; margin: .25rem 0 .75rem; }
ul.files { padding-left: 1.25rem; }
ul.files li { margin: .35rem 0; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden;
                   clip: rect(0 0 0 0); white-space: nowrap; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel=icon href="data:,">'  # no favicon request to fail
        '<link rel=stylesheet href="/assets/examgate.css"></head>'
        f"<body><main>{body}<footer>Checked by examgate against the issuing server's own "
        "records.</footer></main></body></html>"
    )


def verify_page(found: dict[str, Any]) -> str:
    code = html.escape(str(found.get("verification_code", "")))
    if not found.get("genuine"):
        return _page(
            "No certificate has this code",
            "<div class=card><p class=kicker>examgate certificate check</p>"
            "<h1 class=unknown>No certificate has this code</h1>"
            f"<p>Nothing was issued with the code <span class=code>{code}</span>. Check it "
            "against the certificate (letters and digits in groups of four) and try again.</p>"
            "</div>",
        )
    if found.get("revoked"):
        when = ""
        if found.get("revoked_ms"):
            from datetime import UTC, datetime

            day = datetime.fromtimestamp(found["revoked_ms"] / 1000, tz=UTC).date().isoformat()
            when = f" on {day}"
        return _page(
            "Revoked certificate",
            "<div class=card><p class=kicker>examgate certificate check</p>"
            "<h1 class=unknown>Revoked certificate</h1>"
            f"<p>The certificate with the code <span class=code>{code}</span> was issued by "
            f"this server but revoked{html.escape(when)}. "
            f"{html.escape(str(found.get('revoked_reason') or ''))} It does not certify a "
            "result any more.</p></div>",
        )
    names = {name: key for key, name in CATEGORIES.items()}
    order = list(CATEGORIES.values())  # the certificate's order (stored reports sort keys)
    categories = sorted(
        found["categories"].items(),
        key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order),
    )
    levels = "".join(
        f"<li><span>{html.escape(name)}</span>: <span class=level>"
        f"{html.escape(level_name(level))}</span>"
        f"<p class=meaning>{html.escape(rubric(names.get(name, ''), level))}</p></li>"
        for name, level in categories
    )
    body = (
        "<div class=card><p class=kicker>examgate certificate check</p>"
        "<h1 class=genuine>Genuine certificate</h1>"
        "<p class=lead>This certifies that</p>"
        f"<p class=name>{html.escape(found['candidate'])}</p>"
        f"<p class=lead>sat the {html.escape(found['assessment'])} on "
        f"{html.escape(found['date'])}.</p>"
        f"<p class=overall>Overall level<strong>{html.escape(level_name(found['overall']))}"
        "</strong></p>"
        f"<ul class=levels>{levels}</ul>"
        f"<p>Verification code <span class=code>{code}</span></p>"
        f"{_files(found)}</div>"
    )
    return _page(f"Genuine certificate: {found['candidate']}", body)


def _files(found: dict[str, Any]) -> str:
    """What a verifier or the holder can take away: the file's hash, the credential, the
    authority's certificate, and LinkedIn's add-to-profile link."""
    if not found.get("ready"):
        return (
            "<p class=meaning>The signed certificate and its credential are being prepared; "
            "reload this page in a moment.</p>"
        )
    digest = html.escape(str(found.get("certificate_sha256") or ""))
    links = [
        f'<li><a href="{html.escape(found["credential_url"])}" download>Download the Open '
        "Badges credential (JSON)</a></li>",
        f'<li><a href="{html.escape(found["authority_url"])}" download>Download the issuing '
        "server's authority certificate</a>, to check the PDF's signature yourself</li>",
    ]
    if found.get("linkedin_url"):
        links.append(
            f'<li><a href="{html.escape(found["linkedin_url"])}" rel="noopener noreferrer" '
            'target="_blank">Add to LinkedIn profile<span class=visually-hidden> (opens in a '
            "new tab)</span></a></li>"
        )
    return (
        "<h2>Check the file you were given</h2>"
        "<p class=meaning>The genuine PDF's SHA-256 is</p>"
        f"<p class='code hash'>{digest}</p>"
        f"<ul class=files>{''.join(links)}</ul>"
    )


def bad_code_page(code: str) -> str:
    return verify_page({"genuine": False, "verification_code": code[:64]})
