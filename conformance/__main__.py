"""`python -m conformance`: the sandbox's API server side by side with the real one (see README.md).

    python -m conformance --binary PATH [--platform dev|v1.10|all] [--only GLOB] [--verbose] [--keep]

Prints one row per case and ends with exactly one line `conformance: N cases, D differences`. Exit
status 1 when a difference is not listed in sandbox/README.md ("Known deviations"), when a case
errors, or when a server does not start.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from .cases import build_cases
from .harness import Case, Ctx
from .servers import REPO, RealApi, SandboxApi, StartError, sandbox_platforms

README = REPO / "sandbox" / "README.md"
START, END = "<!-- conformance-deviations:start -->", "<!-- conformance-deviations:end -->"
LINES = {"dev": "crds", "v1.10": "crds-v1.10"}


def reference_dir() -> Path:
    return Path(os.environ.get("DVP_REFERENCE_DIR") or REPO.parent / "shared" / "reference")


def deviations() -> list[tuple[str, str]]:
    """(pattern, reason) rows of the table between the markers in sandbox/README.md.

    A pattern is a glob over `<line>/<kind>/<scenario>` or `<line>/<kind>/<scenario>#<step>`."""
    text = README.read_text()
    if START not in text:
        return []
    block = text.split(START, 1)[1].split(END, 1)[0]
    rows = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].startswith("`"):
            rows += [(pattern, cells[1]) for pattern in re.findall(r"`([^`]+)`", cells[0])]
    return rows


def listed(case_id: str, step: str, devs: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The (pattern, reason) row covering this step of this case, if any."""
    for pattern, reason in devs:
        if fnmatch.fnmatchcase(f"{case_id}#{step}", pattern) or fnmatch.fnmatchcase(case_id, pattern):
            return pattern, reason
    return None


def run_side(case: Case, server: Any, ns: str, kubectl: str | None, work: str) -> list[tuple[str, Any]]:
    ctx = Ctx(server, ns, kubectl, work)
    try:
        case.func(ctx)
    except Exception as exc:  # the same failure on both sides compares equal
        ctx.steps.append(("exception", f"{type(exc).__name__}: {exc}"))
    return ctx.steps


def differing(a: list[tuple[str, Any]], b: list[tuple[str, Any]]) -> list[tuple[str, Any, Any]]:
    da, db = dict(a), dict(b)
    labels = [lbl for lbl, _ in a] + [lbl for lbl, _ in b if lbl not in da]
    return [(lbl, da.get(lbl, "<absent>"), db.get(lbl, "<absent>")) for lbl in labels if da.get(lbl) != db.get(lbl)]


def first_path(a: Any, b: Any, path: str = "") -> str:
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k, "<absent>") != b.get(k, "<absent>"):
                return first_path(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}")
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_path(x, y, f"{path}[{i}]")
    return f"{path or '.'}: real={json.dumps(a, sort_keys=True)[:300]} sandbox={json.dumps(b, sort_keys=True)[:300]}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m conformance", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True, help="the real API server (scripts/realapi/build.py prints it)")
    p.add_argument("--platform", default="all", choices=["all", *LINES], help="platform line(s) to compare")
    p.add_argument("--only", action="append", default=[], metavar="GLOB", help="case ids to run (repeatable)")
    p.add_argument("--verbose", "-v", action="store_true", help="print every differing step in full")
    p.add_argument("--keep", action="store_true", help="keep the run directory (logs, state) for inspection")
    args = p.parse_args(argv)

    if not shutil.which("etcd"):
        print("conformance: etcd not found on PATH: install Debian's etcd-server "
              "(make venv does when run as root; see bindep.txt)")
        print("conformance: 0 cases, 0 differences")
        return 1
    if not Path(args.binary).is_file():
        print(f"conformance: no real API server at {args.binary} (scripts/realapi/build.py builds it)")
        print("conformance: 0 cases, 0 differences")
        return 1
    kubectl = shutil.which("kubectl")
    devs = deviations()
    run_dir = Path(tempfile.mkdtemp(prefix="conformance-"))
    lines = list(LINES) if args.platform == "all" else [args.platform]
    total = diffs = unlisted = errors = 0
    used_patterns: set[str] = set()
    started = time.monotonic()
    has_platform_flag, _ = sandbox_platforms()
    if not kubectl:
        print("conformance: kubectl not found on PATH: kubectl cases are skipped")
    try:
        for line in lines:
            crd_dir = reference_dir() / LINES[line]
            if not crd_dir.is_dir():
                print(f"conformance: {line}: no reference CRDs at {crd_dir}: line skipped")
                continue
            platform = None if line == "dev" else line
            if platform and not has_platform_flag:
                print(f"conformance: {line}: skipped: the sandbox cannot serve this line yet "
                      f"(`python -m sandbox up --help` has no --platform)")
                continue
            cases = [c for c in build_cases(line, bool(kubectl))
                     if not args.only or any(fnmatch.fnmatchcase(c.id, g) for g in args.only)]
            line_dir = run_dir / line.replace(".", "_")
            try:
                real = RealApi(Path(args.binary), line_dir, crd_dir)
            except StartError as exc:
                print(f"conformance: {line}: the real API server did not start: {exc}")
                errors += 1
                continue
            try:
                sandbox = SandboxApi(line_dir, platform)
            except StartError as exc:
                real.stop()
                print(f"conformance: {line}: the sandbox did not start: {exc}")
                errors += 1
                continue
            print(f"conformance: {line}: real server up in {real.startup_seconds:.1f}s, "
                  f"sandbox in {sandbox.startup_seconds:.1f}s; {len(cases)} cases")
            print(f"{'case':58} result")
            n_line = d_line = 0
            try:
                for i, case in enumerate(cases):
                    if case.needs_kubectl and not kubectl:
                        print(f"{case.id:58} skip (no kubectl)")
                        continue
                    ns = f"c{i:03d}"
                    work = str(line_dir / "work")
                    a = run_side(case, real, ns, kubectl, work + "-real")
                    b = run_side(case, sandbox, ns, kubectl, work + "-sandbox")
                    total += 1
                    n_line += 1
                    diff = differing(a, b)
                    if not diff:
                        print(f"{case.id:58} same ({len(a)} steps)")
                        continue
                    diffs += 1
                    d_line += 1
                    reasons = []
                    open_steps = []
                    for label, x, y in diff:
                        row = listed(case.id, label, devs)
                        if row is None:
                            open_steps.append((label, x, y))
                        else:
                            reasons.append(row[1])
                            used_patterns.add(row[0])
                    if open_steps:
                        unlisted += 1
                        print(f"{case.id:58} DIFFERENT (unlisted): steps {', '.join(s for s, _, _ in diff)}")
                        for label, x, y in open_steps[: (None if args.verbose else 2)]:
                            print(f"    {label}{first_path(x, y)}")
                            if args.verbose:
                                print(f"      real:    {json.dumps(x, sort_keys=True)}")
                                print(f"      sandbox: {json.dumps(y, sort_keys=True)}")
                    else:
                        print(f"{case.id:58} different, listed: {reasons[0][:60]}")
            finally:
                sandbox.stop()
                real.stop()
            print(f"conformance: {line}: {n_line} cases, {d_line} differences")
    except KeyboardInterrupt:
        errors += 1
    except Exception:
        traceback.print_exc()
        errors += 1
    finally:
        if args.keep:
            print(f"conformance: run directory kept: {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    if not args.only and total:
        stale = [p for p, _ in devs if p not in used_patterns]
        if stale:
            print(f"conformance: note: {len(stale)} listed deviations did not occur (remove them from "
                  f"sandbox/README.md if they are fixed): {', '.join(stale)}")
    print(f"conformance: took {time.monotonic() - started:.0f}s; {unlisted} unlisted differences, {errors} errors")
    print(f"conformance: {total} cases, {diffs} differences")
    return 1 if (unlisted or errors) else 0


if __name__ == "__main__":
    sys.exit(main())
