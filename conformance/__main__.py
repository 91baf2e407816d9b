"""`python -m conformance`: the sandbox's API server side by side with the real one (see the development guide,
docs/docsite/rst/guide_development.rst).

    python -m conformance --binary PATH [--platform dev|v1.10|all] [--only GLOB] [--verbose] [--keep] [--strict]

Every step of every case is compared: its code, Status, warnings, the answer it picked and the stored
object read back after each write. A step may differ only in the fields a row of the deviation table
(sandbox/README.md) names, with the values the row gives; the reference server's text is first put into
the sandbox's release's words (conformance/rewrites.py). Prints one row per case and ends with exactly
one line `conformance: N cases, D differences` (D counts differing steps). Exit status 1 when a
difference is not listed, a case raised on either side, a row is malformed or (in a full run) matched
nothing, a server does not start, or nothing was compared. Under --strict (the default when CI is set)
a missing reference folder, a missing kubectl, a line that did not run or fewer cases than the suite
defines fail the run too, instead of being skipped.
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cases import build_cases
from .compare import EXCEPTION, Outcome, compare_case
from .deviations import Row, TableError, load
from .gate import ci_strict
from .harness import Case, Ctx
from .rewrites import FIRED, REWRITES
from .servers import REPO, RealApi, SandboxApi, StartError, sandbox_platforms

README = REPO / "sandbox" / "README.md"
LINES = {"dev": "crds", "v1.10": "crds-v1.10"}


def reference_dir() -> Path:
    return Path(os.environ.get("DVP_REFERENCE_DIR") or REPO.parent / "shared" / "reference")


def run_side(case: Case, server: Any, ns: str, kubectl: str | None, work: str) -> list[tuple[str, Any]]:
    ctx = Ctx(server, ns, kubectl, work)
    try:
        case.func(ctx)
    except Exception as exc:  # compared as an error, never as "the same"
        ctx.steps.append((EXCEPTION, f"{type(exc).__name__}: {exc}"))
    return ctx.steps


@dataclass
class Tally:
    cases: int = 0
    steps: int = 0
    differences: int = 0     # differing steps, listed or not
    listed: int = 0
    unlisted: int = 0
    errors: int = 0
    failures: list[str] = field(default_factory=list)   # why the run fails, beyond the per-step lines

    def fail(self, message: str) -> None:
        print(f"conformance: FAIL: {message}")
        self.failures.append(message)


def report(case_id: str, outcomes: list[Outcome], tally: Tally, verbose: bool) -> None:
    tally.cases += 1
    tally.steps += sum(1 for o in outcomes if o.step != EXCEPTION)
    bad = [o for o in outcomes if o.result in ("unlisted", "error")]
    listed = [o for o in outcomes if o.result == "listed"]
    tally.differences += sum(1 for o in outcomes if o.result in ("listed", "unlisted"))
    tally.listed += len(listed)
    tally.unlisted += sum(1 for o in outcomes if o.result == "unlisted")
    tally.errors += sum(1 for o in outcomes if o.result == "error")
    if not bad and not listed:
        print(f"{case_id:58} same ({len(outcomes)} steps)")
        return
    if not bad:
        print(f"{case_id:58} listed: {', '.join(o.step for o in listed)}")
        return
    print(f"{case_id:58} DIFFERENT: {', '.join(f'{o.step} ({o.result})' for o in bad)}")
    for o in bad[: (None if verbose else 3)]:
        print(f"    {case_id}#{o.step}: {o.detail}")


def run_line(line: str, binary: Path, run_dir: Path, kubectl: str | None, only: list[str], rows: list[Row],
             tally: Tally, verbose: bool, dump: str | None = None) -> bool:
    """Run one platform line; False when it could not run at all."""
    crd_dir = reference_dir() / LINES[line]
    cases = [c for c in build_cases(line) if not only or any(fnmatch.fnmatchcase(c.id, g) for g in only)]
    line_dir = run_dir / line.replace(".", "_")
    try:
        real = RealApi(binary, line_dir, crd_dir)
    except StartError as exc:
        tally.fail(f"{line}: the real API server did not start: {exc}")
        return False
    try:
        sandbox = SandboxApi(line_dir, None if line == "dev" else line)
    except StartError as exc:
        real.stop()
        tally.fail(f"{line}: the sandbox did not start: {exc}")
        return False
    print(f"conformance: {line}: real server up in {real.startup_seconds:.1f}s, "
          f"sandbox in {sandbox.startup_seconds:.1f}s; {len(cases)} cases")
    print(f"{'case':58} result")
    before = (tally.cases, tally.differences)
    try:
        for i, case in enumerate(cases):
            if case.needs_kubectl and not kubectl:
                print(f"{case.id:58} skip (no kubectl)")
                continue
            ns = f"c{i:03d}"
            work = str(line_dir / "work")
            a = run_side(case, real, ns, kubectl, work + "-real")
            b = run_side(case, sandbox, ns, kubectl, work + "-sandbox")
            if dump:
                target = Path(dump) / (case.id.replace("/", "_") + ".json")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(json.dumps({"real": a, "sandbox": b}, indent=1, sort_keys=True))
            report(case.id, compare_case(case.id, a, b, rows, REWRITES), tally, verbose)
    finally:
        sandbox.stop()
        real.stop()
    print(f"conformance: {line}: {tally.cases - before[0]} cases, {tally.differences - before[1]} differences")
    return True


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m conformance", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True, help="the real API server (scripts/realapi/build.py prints it)")
    p.add_argument("--platform", default="all", choices=["all", *LINES], help="platform line(s) to compare")
    p.add_argument("--only", action="append", default=[], metavar="GLOB", help="case ids to run (repeatable)")
    p.add_argument("--verbose", "-v", action="store_true", help="print every differing step")
    p.add_argument("--keep", action="store_true", help="keep the run directory (logs, state) for inspection")
    p.add_argument("--dump", metavar="DIR", help="write both recordings of every case there, as JSON")
    p.add_argument("--strict", action="store_true", default=ci_strict(),
                   help="fail instead of skipping what cannot be compared (default when CI is set)")
    args = p.parse_args(argv)
    tally = Tally()
    started = time.monotonic()
    lines = list(LINES) if args.platform == "all" else [args.platform]
    try:
        rows = load(README)
    except (TableError, OSError) as exc:
        tally.fail(f"the deviation table in {README.relative_to(REPO)}: {exc}")
        rows = []
    if not shutil.which("etcd"):
        tally.fail("etcd not found on PATH: install Debian's etcd-server (make venv does when run as root; "
                   "see bindep.txt)")
    if not Path(args.binary).is_file():
        tally.fail(f"no real API server at {args.binary} (scripts/realapi/build.py builds it)")
    kubectl = shutil.which("kubectl")
    if not kubectl:
        message = "kubectl not found on PATH: the kubectl cases cannot run (.ci/run installs it)"
        tally.fail(message) if args.strict else print(f"conformance: {message}: skipped")
    has_platform_flag, _ = sandbox_platforms()
    runnable = []
    for line in lines:
        crd_dir = reference_dir() / LINES[line]
        if not crd_dir.is_dir():
            message = (f"{line}: no reference CRDs at {crd_dir} (set DVP_REFERENCE_DIR or put shared/reference "
                       f"beside the checkout)")
            tally.fail(message) if args.strict else print(f"conformance: {message}: line skipped")
        elif line != "dev" and not has_platform_flag:
            tally.fail(f"{line}: the sandbox cannot serve this line (`python -m sandbox up --help` has no --platform)")
        else:
            runnable.append(line)
    run_dir = Path(tempfile.mkdtemp(prefix="conformance-"))
    ran: list[str] = []
    try:
        if not tally.failures:
            for line in runnable:
                if run_line(line, Path(args.binary), run_dir, kubectl, args.only, rows, tally, args.verbose,
                            args.dump):
                    ran.append(line)
    except KeyboardInterrupt:
        tally.fail("interrupted")
    except Exception:
        traceback.print_exc()
        tally.fail("the harness raised (traceback above)")
    finally:
        if args.keep:
            print(f"conformance: run directory kept: {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
    defined = sum(len([c for c in build_cases(line) if not args.only
                       or any(fnmatch.fnmatchcase(c.id, g) for g in args.only)]) for line in lines)
    if tally.cases == 0 and not tally.failures:
        tally.fail("no case was compared" + (f" (--only {' '.join(args.only)} matches none)" if args.only else ""))
    if args.strict and not tally.failures and tally.cases < defined:
        tally.fail(f"{tally.cases} cases compared, fewer than the {defined} the suite defines for "
                   f"{', '.join(lines)}")
    if not args.only and ran == list(LINES) and not tally.failures:
        stale = [f"`{p}`" for row in rows for p in row.patterns
                 if not any(fnmatch.fnmatchcase(step, p) for step in row.used)]
        if stale:
            tally.fail(f"{len(stale)} rows of the deviation table matched no difference (remove them, the "
                       f"sandbox now answers as the real server does): {', '.join(stale)}")
        unused = [rule.name for rule in REWRITES if not FIRED.get(rule.name)]
        if unused:
            tally.fail(f"wording rewrites that changed no text of the reference server (remove them from "
                       f"conformance/rewrites.py): {', '.join(unused)}")
    print(f"conformance: took {time.monotonic() - started:.0f}s; {tally.steps} steps compared, "
          f"{tally.listed} listed, {tally.unlisted} unlisted differences, {tally.errors} errors; "
          f"{len(rows)} deviation rows; {len(REWRITES)} wording rewrites")
    print(f"conformance: {tally.cases} cases, {tally.differences} differences")
    return 1 if (tally.unlisted or tally.errors or tally.failures) else 0


if __name__ == "__main__":
    sys.exit(main())
