"""Demo sources, made at start-up with the real tools (never committed as binaries).

`www/`: disk.qcow2, disk.raw, disk.vmdk, disk.vdi, cd.iso, disk.qcow2.gz, disk.raw.xz and their
SHA-256 sums in the two forms vendors publish (`write_sums`): GNU `SHA256SUMS` and BSD `CHECKSUM`;
the user registry: `demo/disk:latest` (a gzip layer with disk/disk.qcow2)
and `demo/nodisk:latest` (no disk/ directory). All tiny. The `make_*` helpers are shared
with the tests.

Run: python -m sandbox.seed --state-dir DIR   (or `sandbox up --seed`)
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import lzma
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import dvcr, tools
from .config import State
from .registryauth import registry_credentials

DISK_FORMATS = ("qcow2", "raw", "vmdk", "vdi")
VIRTUAL_SIZE = 4 * 1024 * 1024  # 4Mi: virtual sizes differ from file sizes for the sparse formats


def make_disk(path: Path, fmt: str, size: int = VIRTUAL_SIZE) -> Path:
    """A real disk image of the given qemu format (raw gets a recognisable first sector)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([tools.command("qemu-img"), "create", "-q", "-f", fmt, str(path), str(size)], check=True)
    if fmt == "raw":
        with open(path, "r+b") as f:
            f.write(b"DVP sandbox raw disk\n".ljust(512, b"\0"))
    return path


def make_iso(path: Path, label: str = "DVPSANDBOX") -> Path:
    """An ISO 9660 image made by xorriso holding one small text file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "README.TXT").write_text("DVP sandbox demo ISO\n")
        subprocess.run([tools.command("xorriso"), "-as", "mkisofs", "-quiet", "-V", label, "-o", str(path), tmp],
                       check=True, capture_output=True)
    return path


def gzip_file(src: Path, dst: Path) -> Path:
    with open(src, "rb") as fin, open(dst, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as fout:
        shutil.copyfileobj(fin, fout)
    return dst


def xz_file(src: Path, dst: Path) -> Path:
    with open(src, "rb") as fin, lzma.open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    return dst


def make_sources(www: Path) -> list[Path]:
    """Every demo file under www/ (idempotent: existing files are kept)."""
    www.mkdir(parents=True, exist_ok=True)
    made = []
    for fmt in DISK_FORMATS:
        p = www / f"disk.{fmt}"
        if not p.exists():
            make_disk(p, fmt)
        made.append(p)
    iso = www / "cd.iso"
    if not iso.exists():
        make_iso(iso)
    made.append(iso)
    gz, xz = www / "disk.qcow2.gz", www / "disk.raw.xz"
    if not gz.exists():
        gzip_file(www / "disk.qcow2", gz)
    if not xz.exists():
        xz_file(www / "disk.raw", xz)
    made += [gz, xz]
    write_sums(www, made)
    return made


def write_sums(directory: Path, files: list[Path], binary: tuple[str, ...] = ("cd.iso",)) -> tuple[Path, Path]:
    """SHA-256 sums of `files` next to them in `directory`, in the two forms vendors publish:

    - `SHA256SUMS`, GNU coreutils (`sha256sum`, Ubuntu, Debian): `<hex>  <name>`, and `<hex> *<name>` for the
      names in `binary` (what `sha256sum -b` writes);
    - `CHECKSUM`, BSD tag form (`sha256sum --tag`, Fedora, Alt): `SHA256 (<name>) = <hex>`, each after a
      `# <name>: <size> bytes` comment line as Fedora writes them.

    Rewritten whole on every call: change a file, call this again, and the sums publish the new build."""
    gnu, bsd = [], []
    for path in files:
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        gnu.append(f"{digest} {'*' if path.name in binary else ' '}{path.name}\n")
        bsd.append(f"# {path.name}: {len(data)} bytes\nSHA256 ({path.name}) = {digest}\n")
    sums, checksum = directory / "SHA256SUMS", directory / "CHECKSUM"
    for path, text in ((sums, "".join(gnu)), (checksum, "".join(bsd))):
        part = path.with_name(f".{path.name}.part")
        part.write_text(text)
        part.replace(path)           # atomic: a client never reads half a sums file
    return sums, checksum


def push_demo_images(state: State, www: Path) -> list[str]:
    """demo/disk:latest (with disk/) and demo/nodisk:latest (without) in the user registry."""
    host = f"127.0.0.1:{state.load_info()['ports']['registry']}"
    reg = dvcr.Registry(host, str(state.ca_crt), registry_credentials(state))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if not reg.exists("demo/disk", "latest"):
            reg.push_files("demo/disk", "latest", {"disk/disk.qcow2": www / "disk.qcow2"}, work, compress=True)
        if not reg.exists("demo/nodisk", "latest"):
            note = work / "note.txt"
            note.write_text("no disk here\n")
            reg.push_files("demo/nodisk", "latest", {"data/note.txt": note}, work, compress=True)
    return [f"{host}/demo/disk:latest", f"{host}/demo/nodisk:latest"]


def seed(state: State) -> None:
    www = state.root / "www"
    make_sources(www)
    push_demo_images(state, www)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sandbox.seed")
    p.add_argument("--state-dir")
    args = p.parse_args(argv)
    state = State(args.state_dir)
    seed(state)
    print(f"seeded {state.root / 'www'} and the user registry")


if __name__ == "__main__":
    main()
