"""The house rules of the layout, checked: no Qt in the engine, no client/server crossing."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.conftest import venv_bin

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "shiboken6", "pynput")


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str, exclude: tuple[str, ...] = ()) -> list[Path]:
    return [
        path
        for path in sorted((ROOT / package).rglob("*.py"))
        if not any(path.is_relative_to(ROOT / part) for part in exclude)
    ]


def test_the_checks_see_the_code() -> None:
    assert len(modules("client", ("client/ui", "client/proctor"))) >= 10
    assert any("PySide6.QtWidgets" in imports(p) for p in modules("client/ui"))


@pytest.mark.parametrize(
    ("package", "exclude"),
    [
        ("client", ("client/ui", "client/proctor")),
        ("shared", ()),
        ("server", ()),
        ("certificates", ()),
    ],
)
def test_core_packages_never_import_qt(package: str, exclude: tuple[str, ...]) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(package, exclude)
        for name in imports(path)
        if name.split(".")[0] in QT
    ]
    assert offenders == []


@pytest.mark.parametrize(("package", "forbidden"), [("client", "server"), ("server", "client")])
def test_client_and_server_never_import_each_other(package: str, forbidden: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules(package)
        for name in imports(path)
        if name.split(".")[0] == forbidden
    ]
    assert offenders == []


def test_import_contracts_hold_transitively() -> None:
    """import-linter follows imports through other modules, which the checks above cannot."""
    done = subprocess.run([venv_bin("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
