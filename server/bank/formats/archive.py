"""Reading a content package (a zip, or a folder holding ``imsmanifest.xml``) within limits
counted on the bytes actually read, never on what the zip's index claims.

A zip whose index lies about sizes, a member that inflates without end, a path that climbs out
of the package: each stops with ``PackageError`` before memory or the disk is at risk.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path, PurePosixPath

MAX_MEMBER_BYTES = 20 * 1024 * 1024  # one file inside a package, as unpacked
MAX_PACKAGE_BYTES = 50 * 1024 * 1024  # everything read from one package
MAX_MEMBERS = 20_000
_CHUNK = 64 * 1024


class PackageError(Exception):
    """A package that cannot be read safely; the message says why."""


class Package:
    """The files of a package by their path inside it (``a/b.xml``), read on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._read_bytes = 0
        self._zip: zipfile.ZipFile | None = None
        self._folder: Path | None = None
        if path.is_dir():
            self._folder = path.resolve()
            return
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as error:
            raise PackageError("not a zip content package") from error
        if len(self._zip.infolist()) > MAX_MEMBERS:
            raise PackageError(f"the package holds more than {MAX_MEMBERS} files")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def normal(name: str) -> str | None:
        """``name`` as a path inside the package, or None if it would leave the package."""
        cleaned = name.replace("\\", "/").split("#", 1)[0].split("?", 1)[0]
        parts: list[str] = []
        for part in PurePosixPath(cleaned).parts:
            if part in ("", ".", "/"):
                continue
            if part == ".." and parts:
                parts.pop()
            elif part == ".." or ":" in part:
                return None
            else:
                parts.append(part)
        return "/".join(parts) or None

    def exists(self, name: str) -> bool:
        inside = self.normal(name)
        if inside is None:
            return False
        if self._zip is not None:
            try:
                self._zip.getinfo(inside)
            except KeyError:
                return False
            return True
        assert self._folder is not None
        return (self._folder / inside).is_file()

    def read(self, name: str) -> bytes:
        """The bytes of ``name``; ``KeyError`` if the package has no such file."""
        inside = self.normal(name)
        if inside is None:
            raise KeyError(name)
        if self._zip is not None:
            return self._read_member(inside)
        assert self._folder is not None
        target = (self._folder / inside).resolve()
        if self._folder not in target.parents or not target.is_file():
            raise KeyError(name)
        with target.open("rb") as handle:
            return self._bounded(handle.read, inside)

    def _read_member(self, inside: str) -> bytes:
        assert self._zip is not None
        try:
            info = self._zip.getinfo(inside)
        except KeyError:
            raise KeyError(inside) from None
        try:
            with self._zip.open(info) as handle:
                return self._bounded(handle.read, inside)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as error:
            raise PackageError(f"{inside} in the package is damaged ({error})") from error

    def _bounded(self, read: Callable[[int], bytes], inside: str) -> bytes:
        """Read in chunks, counting what arrives against the member's and package's limits."""
        chunks: list[bytes] = []
        size = 0
        while True:
            chunk = read(_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            self._read_bytes += len(chunk)
            if size > MAX_MEMBER_BYTES:
                raise PackageError(
                    f"{inside} unpacks to more than {MAX_MEMBER_BYTES // 2**20} MiB; refused"
                )
            if self._read_bytes > MAX_PACKAGE_BYTES:
                raise PackageError(
                    f"the package unpacks to more than {MAX_PACKAGE_BYTES // 2**20} MiB; refused"
                )
            chunks.append(chunk)
