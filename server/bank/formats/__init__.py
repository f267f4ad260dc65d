"""Reading items from other tools' formats (QTI 1.2, 2.1, 2.2 and 3.0, Moodle XML, GIFT) and
writing QTI 3.0 content packages and the bank's own TOML.

    read_items(path, mapping) -> ImportResult(outcomes)

Each item of a file is an ``Outcome``: imported, imported with warnings, or skipped with the
reason, naming the file and the item. A file that cannot be read at all is one skipped outcome.
XML is parsed with defusedxml, DTDs are refused and nesting is limited; zips are read within
limits counted on the bytes actually unpacked (``archive``).
"""

from __future__ import annotations

from pathlib import Path

from server.bank.formats.common import ImportError_, ImportResult, Mapping, Outcome
from server.bank.formats.gift import read_gift
from server.bank.formats.moodle import read_moodle
from server.bank.formats.qti import read_qti
from server.bank.loader import load_file
from server.bank.model import BankError

__all__ = ["ImportError_", "ImportResult", "Mapping", "Outcome", "read_items"]

MAX_FILE_BYTES = 20 * 1024 * 1024


def read_items(path: Path, mapping: Mapping) -> ImportResult:
    """The items in ``path``, whatever its format (by extension, then by content); a file that
    cannot be read at all is one skipped outcome saying why."""
    try:
        return _read(path, mapping)
    except ImportError_ as error:
        reason = str(error)
        reason = reason[len(str(path)) + 2 :] if reason.startswith(f"{path}: ") else reason
        return ImportResult([Outcome(str(path), None, [reason.rstrip(".")])])


def _read(path: Path, mapping: Mapping) -> ImportResult:
    if path.is_dir():
        if (path / "imsmanifest.xml").is_file():
            return read_qti(path, mapping)
        raise ImportError_(f"{path}: a folder without imsmanifest.xml; name its files instead.")
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ImportError_(f"{path}: cannot be read ({error.strerror}).") from error
    suffix = path.suffix.lower()
    if size > MAX_FILE_BYTES and suffix != ".zip":  # a package is limited by what it unpacks
        raise ImportError_(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB.")
    if suffix == ".toml":
        try:
            items = load_file(path)
        except BankError as error:
            raise ImportError_(str(error)) from error
        return ImportResult([Outcome(item.origin or str(path), item, exact=True) for item in items])
    if suffix == ".zip":
        return read_qti(path, mapping)
    if suffix in (".gift", ".txt"):
        return read_gift(path, mapping)
    if suffix in (".xml", ".qti", ".dat"):
        head = path.read_bytes()[:4096].decode("utf-8", "replace")
        if "<quiz" in head:
            return read_moodle(path, mapping)
        return read_qti(path, mapping)
    raise ImportError_(
        f"{path}: unknown format; expected .toml, .xml (QTI or Moodle), .zip or a folder (QTI "
        "package), .dat (Blackboard) or .gift."
    )
