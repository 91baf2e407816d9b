"""What an importer learns about a disk file: checksums, compression, qemu format, sizes.

Kept free of I/O beyond the file itself so importers, the uploader and tests share
one implementation of every rule (checksum messages, ISO detection, human sizes).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ... import tools
from .streebog import new as new_streebog

ALGORITHMS = ("md5", "sha1", "sha256", "sha512", "streebog256", "streebog512")
_CHUNK = 1 << 20


def _new_hasher(algo: str):
    if algo.startswith("streebog"):
        return new_streebog(algo)
    return hashlib.new(algo)


class Checksums:
    """Hash a stream once for every algorithm the spec names (streebog is slow: only when asked)."""

    def __init__(self, expected: dict[str, str] | None, verbatim: bool = False) -> None:
        """verbatim: v1.10.2's importer, which compares the sums as given (an upper-case sum never matches) and
        checks sha256 before md5, and whose error passes its arguments in the wrong order
        (dvcr-artifact pkg/registry/registry.go at v1.10.2 calls NewBadImageChecksumError("sha256", expected,
        actual) whose parameters are (expected, actual, algorithm): `<actual> sum mismatch: sha256 != <expected>`);
        main lower-cases them, checks in the order of the algorithms' names and says `<algo> sum mismatch:
        <expected> != <actual>`."""
        self.verbatim = verbatim
        self.expected = {k: v if verbatim else v.lower() for k, v in (expected or {}).items() if v}
        self._order = ("sha256", "md5") if verbatim else ALGORITHMS
        self._h = {algo: _new_hasher(algo) for algo in ALGORITHMS if algo in self.expected}

    def update(self, data: bytes) -> None:
        for h in self._h.values():
            h.update(data)

    def mismatch(self) -> str | None:
        """The platform's error text for the first mismatching sum, or None when all match."""
        for algo in self._order:
            if algo in self._h:
                actual = self._h[algo].hexdigest()
                if actual != self.expected[algo]:
                    if self.verbatim:
                        return f"{actual} sum mismatch: {algo} != {self.expected[algo]}"
                    return f"{algo} sum mismatch: {self.expected[algo]} != {actual}"
        return None


def compression_of(head: bytes) -> str | None:
    """'gz' or 'xz' by magic number; None for anything else (stored and inspected as is)."""
    if head.startswith(b"\x1f\x8b"):
        return "gz"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    return None


def open_decompressed(path: Path) -> BinaryIO:
    """The file's content with any gz/xz layer removed."""
    with open(path, "rb") as f:
        kind = compression_of(f.read(6))
    if kind == "gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "xz":
        return lzma.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def decompress_to(src: Path, dst: Path) -> int:
    """Write the decompressed content of src to dst; returns its byte count."""
    with open_decompressed(src) as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout, _CHUNK)
        return fout.tell()


def is_iso(path: Path) -> bool:
    """ISO 9660: 'CD001' at byte 32769 (qemu-img alone would call it raw)."""
    with open(path, "rb") as f:
        f.seek(32769)
        return f.read(5) == b"CD001"


@dataclass
class DiskInfo:
    format: str
    virtual_size: int
    stored_bytes: int

    @property
    def cdrom(self) -> bool:
        return self.format == "iso"

    def size_status(self) -> dict[str, str]:
        return {
            "stored": human_size(self.stored_bytes),
            "storedBytes": str(self.stored_bytes),
            "unpacked": human_size(self.virtual_size),
            "unpackedBytes": str(self.virtual_size),
        }


def qemu_info(path: Path) -> tuple[str, int]:
    """(format, virtual size) from the real qemu-img."""
    out = subprocess.run(
        [tools.command("qemu-img"), "info", "--output=json", str(path)],
        check=True, capture_output=True, text=True,
    ).stdout
    data = json.loads(out)
    return data["format"], int(data["virtual-size"])


def inspect_file(stored: Path, workdir: Path) -> DiskInfo:
    """Format and sizes of a stored source file (compressed or not), as status reports them."""
    stored_bytes = stored.stat().st_size
    with open(stored, "rb") as f:
        compressed = compression_of(f.read(6)) is not None
    plain = stored
    if compressed:
        plain = workdir / "inspect.plain"
        decompress_to(stored, plain)
    try:
        if is_iso(plain):
            return DiskInfo("iso", plain.stat().st_size, stored_bytes)
        fmt, vsize = qemu_info(plain)
        if fmt == "raw":
            vsize = plain.stat().st_size
        return DiskInfo(fmt, vsize, stored_bytes)
    finally:
        if plain != stored:
            plain.unlink(missing_ok=True)


def human_size(n: int) -> str:
    """Binary units, one decimal unless whole: '285.3Mi', '2Gi', '512B'."""
    units = ["", "Ki", "Mi", "Gi", "Ti", "Pi"]
    value = float(n)
    i = 0
    while value >= 1024 and i < len(units) - 1:
        value /= 1024
        i += 1
    if i == 0:
        return f"{n}B"
    text = f"{value:.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    return f"{text}{units[i]}"


def human_speed(bytes_per_second: float) -> str:
    return human_size(int(bytes_per_second)) + "/s"


def download_speed(avg: float, current: float) -> dict[str, str]:
    """status.downloadSpeed of an image or a disk."""
    return {"avg": human_speed(avg), "avgBytes": str(int(avg)),
            "current": human_speed(current), "currentBytes": str(int(current))}
