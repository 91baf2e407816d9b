#!/usr/bin/env python3
"""Build the upstream API server for custom resources (k8s.io/apiextensions-apiserver) from Debian sid.

    scripts/realapi/build.py            # build (or reuse) the server; prints the binary's path last
    scripts/realapi/build.py --lock     # refresh scripts/realapi/packages.lock from today's sid

Nothing is installed system-wide: apt runs on a private sources list, state and cache
(`-o Dir::...`), each .deb is unpacked with `dpkg -x` into a private root, and Go builds in GOPATH
mode from Debian's `golang-*-dev` sources with Debian's own Go (`golang-1.NN-go`).

Cache (survives `make clean` and fresh clones on one machine; override with DVP_REALAPI_CACHE):
`${XDG_CACHE_HOME:-~/.cache}/deckhouse-virtualization/realapi/`
    apt/                 private apt lists and the downloaded .debs
    roots/<set>/         the unpacked packages of one package set (only the newest set is kept)
    gocache/             Go's build cache (a change to main.go rebuilds in seconds)
    builds/<key>/        realapi-server + inputs.txt; <key> hashes the exact package versions,
                         main.go and this script, so a build is never reused for other inputs
    by-lock/<lock key>   which build a given lock file + main.go + script produced (plus the warnings
                         printed then): a second run with the same inputs touches no network

`sid` drops superseded versions: when a locked version is gone, the newest one sid has is used with a
warning that tells how to refresh the lock (`make realapi-lock`); the run fails only if the build does.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE / "packages.lock"
MAIN = HERE / "main.go"
TOP = "golang-k8s-apiextensions-apiserver-dev"
# Source-only Go packages that are not needed in GOPATH mode (the compiler comes from golang-1.NN-go).
NOT_SOURCES = re.compile(r"^golang-(go|src|any|doc|1\.\d+-.*)$")
GO_TOOLCHAIN = re.compile(r"^golang-(1\.\d+)-(go|src)$")
BINARY = "realapi-server"
IMPORT_PATH = "deckhouse.io/realapi"
# The Go the lock starts from when there is none yet (the version the toolchain notes checked); later
# refreshes keep the lock's Go while sid has it, else take the one sid's golang-go points at.
DEFAULT_GO = "1.26"
REFRESH_HINT = "refresh the lock with `make realapi-lock` (= scripts/realapi/build.py --lock) and commit it"


def log(msg: str) -> None:
    print(f"realapi: {msg}", file=sys.stderr, flush=True)


def warn(msg: str) -> None:
    print(f"realapi: WARNING: {msg}", file=sys.stderr, flush=True)


def cache_root() -> Path:
    explicit = os.environ.get("DVP_REALAPI_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deckhouse-virtualization" / "realapi"


def sha256(*parts: bytes) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(hashlib.sha256(p).digest())
    return h.hexdigest()


def script_inputs() -> bytes:
    return MAIN.read_bytes() + b"\0" + Path(__file__).read_bytes()


# -- lock file ------------------------------------------------------------------------------------

def read_lock() -> dict[str, str]:
    pins: dict[str, str] = {}
    if not LOCK.exists():
        return pins
    for line in LOCK.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, ver = line.split()
            pins[name] = ver
    return pins


def write_lock(pins: dict[str, str], go: str) -> None:
    lines = [
        "# Debian sid packages scripts/realapi/build.py builds the real API server from: NAME VERSION.",
        f"# Written by `make realapi-lock` on {time.strftime('%Y-%m-%d')}; Go {go}; {len(pins)} packages.",
        "# Only the packages whose Go files the build compiles are listed (go list -deps of main.go).",
    ]
    lines += [f"{n} {pins[n]}" for n in sorted(pins)]
    LOCK.write_text("\n".join(lines) + "\n")


# -- private apt ----------------------------------------------------------------------------------

class Apt:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.debs = root / "debs"
        for d in (root / "lists" / "partial", root / "cache" / "archives" / "partial", self.debs):
            d.mkdir(parents=True, exist_ok=True)
        (root / "status").touch()
        mirror, keyring = system_mirror()
        (root / "sources.list").write_text(f"deb [signed-by={keyring}] {mirror} sid main\n")
        arch = subprocess.run(["dpkg", "--print-architecture"], check=True, capture_output=True,
                              text=True).stdout.strip()
        user = "root" if os.geteuid() == 0 else os.environ.get("USER", "")
        self.opts = [
            "-o", f"Dir::Etc::sourcelist={root / 'sources.list'}", "-o", "Dir::Etc::sourceparts=-",
            "-o", f"Dir::State::Lists={root / 'lists'}", "-o", f"Dir::Cache={root / 'cache'}",
            "-o", f"Dir::State::status={root / 'status'}", "-o", "Dir::Etc::preferences=/dev/null",
            "-o", "Dir::Etc::preferencesparts=-", "-o", f"APT::Architecture={arch}",
            "-o", "APT::Architectures::=", "-o", f"APT::Architectures::={arch}",
        ]
        if user == "root":
            self.opts += ["-o", "APT::Sandbox::User=root"]

    def run(self, tool: str, *args: str, cwd: Path | None = None) -> str:
        out = subprocess.run([tool, *self.opts, *args], cwd=cwd, capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(f"realapi: {tool} {' '.join(args[:3])}... failed:\n{out.stderr.strip()}")
        return out.stdout

    def update(self) -> None:
        t = time.monotonic()
        self.run("apt-get", "-qq", "update")
        log(f"sid index fetched in {time.monotonic() - t:.1f}s")

    def versions(self, names: list[str]) -> dict[str, list[str]]:
        """Every version sid offers for each name (newest first); unknown names are absent."""
        found: dict[str, list[str]] = {}
        for chunk in range(0, len(names), 200):
            out = subprocess.run(["apt-cache", *self.opts, "madison", *names[chunk:chunk + 200]],
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                parts = [p.strip() for p in line.split("|")]
                if len(parts) >= 3 and "Packages" in parts[2]:
                    found.setdefault(parts[0], [])
                    if parts[1] not in found[parts[0]]:
                        found[parts[0]].append(parts[1])
        for name, vers in found.items():
            vers.sort(key=_DebVersion, reverse=True)
        return found

    def closure(self, top: list[str]) -> list[str]:
        """The golang source packages `top` depends on, recursively (Depends only)."""
        out = self.run("apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests",
                       "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                       "--no-pre-depends", *top)
        names = {line.strip() for line in out.splitlines() if line and not line.startswith(" ")}
        return sorted(n for n in names if n.startswith("golang-") and not NOT_SOURCES.match(n))

    def download(self, pins: dict[str, str]) -> dict[str, Path]:
        """The .deb of each NAME=VERSION, downloaded once into apt/debs/."""
        def path_of(name: str, ver: str) -> Path | None:
            hits = sorted(self.debs.glob(f"{name}_{ver.replace(':', '%3a')}_*.deb"))
            return hits[0] if hits else None

        missing = [f"{n}={v}" for n, v in sorted(pins.items()) if path_of(n, v) is None]
        if missing:
            t = time.monotonic()
            for chunk in range(0, len(missing), 100):
                self.run("apt-get", "-qq", "download", *missing[chunk:chunk + 100], cwd=self.debs)
            log(f"downloaded {len(missing)} packages in {time.monotonic() - t:.1f}s")
        debs = {}
        for n, v in pins.items():
            p = path_of(n, v)
            if p is None:
                raise SystemExit(f"realapi: {n}={v} was not downloaded")
            debs[n] = p
        return debs


class _DebVersion:
    """Orders Debian versions with dpkg's own comparison."""

    def __init__(self, v: str) -> None:
        self.v = v

    def __lt__(self, other: "_DebVersion") -> bool:
        return subprocess.run(["dpkg", "--compare-versions", self.v, "lt", other.v]).returncode == 0


def system_mirror() -> tuple[str, str]:
    """The system's Debian mirror and keyring (DVP_REALAPI_MIRROR overrides the mirror)."""
    mirror = os.environ.get("DVP_REALAPI_MIRROR", "")
    keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
    if not mirror:
        texts = []
        for p in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
            if p.is_file() and p.suffix in (".list", ".sources", ""):
                texts.append(p.read_text(errors="replace"))
        for text in texts:
            m = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M) or \
                re.search(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)/?\s", text, re.M)
            if m:
                mirror = m.group(1)
                break
    return mirror or "http://deb.debian.org/debian", keyring


# -- unpack and build -----------------------------------------------------------------------------

def go_version(pins: dict[str, str]) -> str:
    for n in pins:
        m = GO_TOOLCHAIN.match(n)
        if m:
            return m.group(1)
    raise SystemExit("realapi: no golang-1.NN-go in the package set; " + REFRESH_HINT)


def unpack(cache: Path, debs: dict[str, Path], set_key: str) -> Path:
    roots = cache / "roots"
    root = roots / set_key[:16]
    if (root / ".complete").exists():
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    t = time.monotonic()
    for name in sorted(debs):
        subprocess.run(["dpkg", "-x", str(debs[name]), str(root)], check=True)
    (root / ".complete").write_text("\n".join(sorted(p.name for p in debs.values())) + "\n")
    log(f"unpacked {len(debs)} packages in {time.monotonic() - t:.1f}s into {root}")
    for other in roots.iterdir():        # one set is enough; old ones cost ~600 MB each
        if other != root and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)
    return root


def go_env(cache: Path, root: Path, gopath: Path, go: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GO")}
    env.update(GOROOT=str(root / f"usr/lib/go-{go}"), GOPATH=f"{gopath}:{root / 'usr/share/gocode'}",
               GO111MODULE="off", GOTOOLCHAIN="local", CGO_ENABLED="0", GOFLAGS="",
               GOCACHE=str(cache / "gocache"), GOTELEMETRY="off")
    return env


def build_binary(cache: Path, root: Path, go: str, out: Path) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="gopath-", dir=cache) as gp:
        src = Path(gp) / "src" / IMPORT_PATH
        src.mkdir(parents=True)
        shutil.copy(MAIN, src / "main.go")
        t = time.monotonic()
        log(f"go build with Go {go} (cold: about 5 minutes on two cores; warm: seconds)")
        res = subprocess.run([str(root / f"usr/lib/go-{go}/bin/go"), "build", "-trimpath",
                              "-ldflags=-s -w", "-o", str(out), "."],
                             cwd=src, env=go_env(cache, root, Path(gp), go), capture_output=True, text=True)
        if res.returncode != 0:
            return False, res.stderr
        log(f"built in {time.monotonic() - t:.0f}s")
        return True, ""


def used_packages(cache: Path, root: Path, go: str, debs: dict[str, Path]) -> set[str]:
    """The packages owning a file the build compiles or embeds (plus the Go toolchain)."""
    owner: dict[str, str] = {}
    for name, deb in debs.items():
        listing = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=True).stdout
        import io
        import tarfile
        with tarfile.open(fileobj=io.BytesIO(listing)) as tf:
            for member in tf.getmembers():
                owner[os.path.normpath(member.name.lstrip("."))] = name
    with tempfile.TemporaryDirectory(prefix="gopath-", dir=cache) as gp:
        src = Path(gp) / "src" / IMPORT_PATH
        src.mkdir(parents=True)
        shutil.copy(MAIN, src / "main.go")
        fmt = '{{if not .Standard}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}' \
              '{{range .SFiles}} {{.}}{{end}}{{end}}'
        res = subprocess.run([str(root / f"usr/lib/go-{go}/bin/go"), "list", "-deps", "-f", fmt, "."],
                             cwd=src, env=go_env(cache, root, Path(gp), go), capture_output=True, text=True,
                             check=True)
    used = {n for n in debs if GO_TOOLCHAIN.match(n)}
    for line in res.stdout.splitlines():
        if not line.strip() or line.startswith(gp):
            continue
        d, *files = line.split()
        for f in files:
            path = Path(d) / f
            rel = "/" + os.path.relpath(path, root)
            candidates = {rel, "/" + os.path.relpath(os.path.realpath(path), os.path.realpath(root))}
            parts = Path(rel).parts               # every symlinked directory on the way owns a share
            for i in range(2, len(parts)):
                sub = "/" + "/".join(parts[1:i])
                if (root / sub.lstrip("/")).is_symlink():
                    candidates.add(sub)
            for c in candidates:
                if c in owner:
                    used.add(owner[c])
    return used


# -- main flows -----------------------------------------------------------------------------------

def resolve(apt: Apt, pins: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """Locked versions where sid still has them, else sid's newest (with a warning each)."""
    have = apt.versions(sorted(pins))
    chosen: dict[str, str] = {}
    warnings: list[str] = []
    for name, ver in sorted(pins.items()):
        offered = have.get(name, [])
        if ver in offered:
            chosen[name] = ver
        elif offered:
            chosen[name] = offered[0]
            warnings.append(f"{name} {ver} is gone from sid; building with {offered[0]}")
        else:
            warnings.append(f"{name} is gone from sid entirely; building without it")
    return chosen, warnings


def newest_closure(apt: Apt, go_hint: str | None) -> dict[str, str]:
    names = apt.closure([TOP])
    have = apt.versions(names)
    pins = {n: have[n][0] for n in names if n in have}
    go = go_hint if go_hint and f"golang-{go_hint}-go" in apt.versions([f"golang-{go_hint}-go"]) else None
    if go_hint and go is None:
        warn(f"Go {go_hint} is gone from sid; using the Go sid's golang-go points at")
    if go is None:   # the Go the distribution's golang-go points at
        deps = apt.run("apt-cache", "depends", "golang-go")
        m = re.search(r"golang-(1\.\d+)-go", deps)
        if not m:
            raise SystemExit("realapi: cannot find a golang-1.NN-go in sid")
        go = m.group(1)
    for part in ("go", "src"):
        name = f"golang-{go}-{part}"
        pins[name] = apt.versions([name])[name][0]
    return pins


def do_lock(cache: Path) -> int:
    apt = Apt(cache / "apt")
    apt.update()
    old = read_lock()
    pins = newest_closure(apt, go_version(old) if old else DEFAULT_GO)
    log(f"{len(pins)} packages in the dependency closure of {TOP}; downloading to find the ones the build uses")
    debs = apt.download(pins)
    go = go_version(pins)
    with tempfile.TemporaryDirectory(prefix="lockroot-", dir=cache) as tmp:
        root = Path(tmp)
        for name in sorted(debs):
            subprocess.run(["dpkg", "-x", str(debs[name]), str(root)], check=True)
        used = used_packages(cache, root, go, debs)
    minimal = {n: pins[n] for n in used}
    write_lock(minimal, go)
    log(f"wrote {LOCK} with {len(minimal)} packages (of {len(pins)}); now building from it")
    return do_build(cache)


def do_build(cache: Path) -> int:
    pins = read_lock()
    if not pins:
        raise SystemExit(f"realapi: {LOCK} is missing or empty; " + REFRESH_HINT)
    lock_key = sha256(LOCK.read_bytes(), script_inputs())
    alias = cache / "by-lock" / lock_key[:32]
    if (alias / BINARY).exists():                    # same inputs as a previous run: no network, no work
        notes = alias / "warnings.txt"
        if notes.exists() and notes.read_text().strip():
            for line in notes.read_text().splitlines():
                warn(line)
            warn(REFRESH_HINT)
        log(f"up to date ({alias.resolve()})")
        print((alias / BINARY).resolve())
        return 0

    apt = Apt(cache / "apt")
    apt.update()
    chosen, warnings = resolve(apt, pins)
    for w in warnings:
        warn(w)
    if warnings:
        warn(REFRESH_HINT)
    go = go_version(chosen)
    for attempt in ("lock", "closure"):
        inputs = "\n".join(f"{n} {v}" for n, v in sorted(chosen.items())).encode()
        key = sha256(inputs, script_inputs())
        out_dir = cache / "builds" / key[:32]
        if not (out_dir / BINARY).exists():
            debs = apt.download(chosen)
            root = unpack(cache, debs, sha256(inputs))
            tmp = out_dir.with_name(out_dir.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            ok, err = build_binary(cache, root, go, tmp / BINARY)
            if not ok:
                shutil.rmtree(tmp, ignore_errors=True)
                if attempt == "lock" and warnings:
                    warn("the build from the substituted versions failed (a dependency may have changed); "
                         "retrying with sid's whole dependency closure, newest versions")
                    sys.stderr.write(err[-3000:])
                    chosen = newest_closure(apt, go)
                    go = go_version(chosen)
                    warnings.append("built from sid's whole dependency closure (the locked set no longer builds)")
                    continue
                sys.stderr.write(err)
                raise SystemExit("realapi: go build failed")
            (tmp / "inputs.txt").write_text(inputs.decode() + "\n")
            shutil.rmtree(out_dir, ignore_errors=True)
            tmp.rename(out_dir)
        break
    alias.parent.mkdir(parents=True, exist_ok=True)
    alias_tmp = alias.with_name(alias.name + ".tmp")
    shutil.rmtree(alias_tmp, ignore_errors=True)
    alias_tmp.mkdir()
    (alias_tmp / "warnings.txt").write_text("\n".join(warnings) + ("\n" if warnings else ""))
    os.symlink(out_dir / BINARY, alias_tmp / BINARY)
    shutil.rmtree(alias, ignore_errors=True)
    alias_tmp.rename(alias)
    print(out_dir / BINARY)
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lock", action="store_true", help="rewrite packages.lock from sid's newest versions, then build")
    args = p.parse_args()
    cache = cache_root()
    cache.mkdir(parents=True, exist_ok=True)
    return do_lock(cache) if args.lock else do_build(cache)


if __name__ == "__main__":
    sys.exit(main())
