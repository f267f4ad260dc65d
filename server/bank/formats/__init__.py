"""Reading items from other tools' formats (QTI 2.1 and 3.0, Moodle XML, GIFT) and writing
QTI 3.0 content packages and the bank's own TOML.

    read_items(path, mapping) -> ImportResult(items, warnings)

XML is parsed with defusedxml and DTDs are refused, so an entity bomb or an external entity is an
``ImportError_`` naming the file, never a hang or a file read.
"""

from __future__ import annotations

from pathlib import Path

from server.bank.formats.common import ImportError_, ImportResult, Mapping
from server.bank.formats.gift import read_gift
from server.bank.formats.moodle import read_moodle
from server.bank.formats.qti import read_qti
from server.bank.loader import load_file
from server.bank.model import BankError

__all__ = ["ImportError_", "ImportResult", "Mapping", "read_items"]

MAX_FILE_BYTES = 20 * 1024 * 1024


def read_items(path: Path, mapping: Mapping) -> ImportResult:
    """The items in ``path``, whatever its format (by extension, then by content)."""
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ImportError_(f"{path}: cannot be read ({error.strerror}).") from error
    if size > MAX_FILE_BYTES:
        raise ImportError_(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB.")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            return ImportResult(load_file(path), [])
        except BankError as error:
            raise ImportError_(str(error)) from error
    if suffix == ".zip":
        return read_qti(path, mapping)
    if suffix in (".gift", ".txt"):
        return read_gift(path, mapping)
    if suffix == ".xml":
        head = path.read_bytes()[:4096].decode("utf-8", "replace")
        if "<quiz" in head:
            return read_moodle(path, mapping)
        return read_qti(path, mapping)
    raise ImportError_(
        f"{path}: unknown format; expected .toml, .xml (QTI or Moodle), .zip (QTI package) "
        "or .gift."
    )
