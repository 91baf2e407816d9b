"""Comparing one case's two recordings step by step.

Each step ends as one `Outcome`: `same`, `listed` (it differs only in fields a deviation row names, with
the values the row gives), `unlisted` (anything else differs) or `error` (a side raised, or a step ran on
one side only). An exception is never "the same on both sides": a case that raises stops recording, so
its remaining steps would compare nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .deviations import Row, apply_rows
from .rewrites import Rewrite, rewrite_reference

EXCEPTION = "exception"
Steps = list[tuple[str, Any]]


@dataclass
class Outcome:
    step: str
    result: str           # same | listed | unlisted | error
    detail: str = ""
    rows: tuple[Row, ...] = ()


def first_path(a: Any, b: Any, path: str = "") -> str:
    """Where two values first differ, with both values (the real server's first)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in list(a) + [k for k in b if k not in a]:
            if a.get(k, "<absent>") != b.get(k, "<absent>"):
                return first_path(a.get(k, "<absent>"), b.get(k, "<absent>"), f"{path}.{k}" if path else k)
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return first_path(x, y, f"{path}[{i}]")
    return (f"{path or '.'}: real={json.dumps(a, sort_keys=True)[:300]} "
            f"sandbox={json.dumps(b, sort_keys=True)[:300]}")


def compare_case(case_id: str, real: Steps, sandbox: Steps, rows: list[Row],
                 rewrites: tuple[Rewrite, ...]) -> list[Outcome]:
    """One Outcome per step label seen on either side, in the order the real server's recording has them."""
    da, db = dict(real), dict(sandbox)
    labels = [lbl for lbl, _ in real] + [lbl for lbl, _ in sandbox if lbl not in da]
    out: list[Outcome] = []
    for label in labels:
        if label == EXCEPTION:
            continue
        if label not in da or label not in db:
            out.append(Outcome(label, "error", f"recorded on the {'sandbox' if label in db else 'real server'} "
                                               "only"))
            continue
        a, b = rewrite_reference(da[label], rewrites), db[label]
        if a == b:
            out.append(Outcome(label, "same"))
            continue
        step_id = f"{case_id}#{label}"
        matching = [row for row in rows if row.covers(step_id)]
        if not matching:
            out.append(Outcome(label, "unlisted", first_path(a, b)))
            continue
        ma, mb, problems = apply_rows(a, b, matching)
        if ma == mb and not problems:
            for row in matching:
                row.used.add(step_id)
            out.append(Outcome(label, "listed", rows=tuple(matching)))
        else:
            detail = "; ".join(problems) if problems else first_path(ma, mb)
            out.append(Outcome(label, "unlisted", f"beyond the listed fields: {detail}", tuple(matching)))
    for side, steps in (("real server", da), ("sandbox", db)):
        if EXCEPTION in steps:
            out.append(Outcome(EXCEPTION, "error", f"the case raised on the {side}: {steps[EXCEPTION]}"))
    return out
