"""The deviation table: which fields of which steps may differ, and nothing else.

The table lives in sandbox/README.md between two markers. Each row names steps (globs over
`<line>/<kind>/<scenario>#<step>`; a pattern without `#<step>` is refused: a row never covers a whole
case) and the fields of those steps' recordings that may differ:

* a path into the recording (`status.message`, `status.details.causes[*].message`,
  `stored.body.metadata.managedFields`, `warnings`, `stderr`): that value may differ in any way;
* a path with both values (`code: 422 -> 500`, `status.reason: Invalid -> BadRequest`), the real
  server's first: the values must be exactly these. Codes, reasons and kubectl's exit code can only be
  listed this way, so a row never hides a change of outcome. `code` covers the HTTP code and the
  Status body's `code` (one fact, said twice).

Everything a row does not name is compared strictly, on listed steps too.
"""
from __future__ import annotations

import copy
import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

START, END = "<!-- conformance-deviations:start -->", "<!-- conformance-deviations:end -->"
LISTED = "<may differ: listed>"
# Fields whose difference is a different outcome: a row must give both values.
VALUED_ONLY = ("code", "status.code", "status.reason", "rc")
_PATH = re.compile(r"^[A-Za-z_][\w-]*(\[(\*|\d+)\])?(\.[A-Za-z_][\w-]*(\[(\*|\d+)\])?)*$")


class TableError(ValueError):
    """The table itself is malformed: a row that would list too much or cannot be read."""


@dataclass(frozen=True)
class Field:
    path: str
    real: Any = None      # with `valued`: the real server's value, then the sandbox's
    sandbox: Any = None
    valued: bool = False

    def __str__(self) -> str:
        return f"{self.path}: {self.real} -> {self.sandbox}" if self.valued else self.path


@dataclass
class Row:
    patterns: tuple[str, ...]
    fields: tuple[Field, ...]
    reason: str
    depends: str = ""
    used: set[str] = field(default_factory=set)   # steps it matched in this run

    def covers(self, step_id: str) -> bool:
        return any(fnmatch.fnmatchcase(step_id, p) for p in self.patterns)


def _value(text: str) -> Any:
    text = text.strip()
    return int(text) if re.fullmatch(r"-?\d+", text) else text


def parse_field(text: str) -> Field:
    text = text.strip()
    if ":" in text and "->" in text:
        path, _, values = text.partition(":")
        real, _, sandbox = values.partition("->")
        path = path.strip()
        if not _PATH.match(path):
            raise TableError(f"not a field path: {path!r} in {text!r}")
        return Field(path, _value(real), _value(sandbox), valued=True)
    if not _PATH.match(text):
        raise TableError(f"not a field path: {text!r} (write `path` or `path: REAL -> SANDBOX`)")
    if text in VALUED_ONLY:
        raise TableError(f"`{text}` may only be listed with both values (`{text}: REAL -> SANDBOX`)")
    return Field(text)


def parse_table(text: str) -> list[Row]:
    """The rows between the markers; a malformed row raises TableError naming it."""
    if START not in text or END not in text:
        raise TableError(f"no deviation table: the markers {START} and {END} are missing")
    block = text.split(START, 1)[1].split(END, 1)[0]
    rows: list[Row] = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`"):
            continue
        if len(cells) < 3:
            raise TableError(f"a row needs steps, fields and a reason: {line.strip()}")
        patterns = tuple(re.findall(r"`([^`]+)`", cells[0]))
        for p in patterns:
            if "#" not in p or not p.split("#", 1)[1]:
                raise TableError(f"`{p}`: a row names steps (`<case>#<step>`), never a whole case")
        fields = tuple(parse_field(f) for f in re.findall(r"`([^`]+)`", cells[1]))
        if not fields:
            raise TableError(f"a row must name the fields that may differ: {line.strip()}")
        rows.append(Row(patterns, fields, cells[2], cells[3] if len(cells) > 3 else ""))
    return rows


def load(readme: Path) -> list[Row]:
    return parse_table(readme.read_text())


def _split(path: str) -> list[tuple[str, str | None]]:
    out = []
    for part in path.split("."):
        m = re.fullmatch(r"([\w-]+)(?:\[(\*|\d+)\])?", part)
        assert m, part
        out.append((m.group(1), m.group(2)))
    return out


def _apply(node: Any, parts: list[tuple[str, str | None]], fn: Any) -> None:
    """Call fn(parent, key) for every place the path reaches in node (lists by index or `*`)."""
    if not parts or not isinstance(node, dict):
        return
    (key, index), rest = parts[0], parts[1:]
    if index is None:
        if not rest:
            fn(node, key)
        elif key in node:
            _apply(node[key], rest, fn)
        return
    seq = node.get(key)
    if not isinstance(seq, list):
        if not rest and key in node:
            fn(node, key)
        return
    targets = range(len(seq)) if index == "*" else [int(index)] if int(index) < len(seq) else []
    for i in targets:
        if rest:
            _apply(seq[i], rest, fn)
        else:
            fn(seq, i)


def _values(node: Any, path: str) -> list[Any]:
    found: list[Any] = []
    _apply(node, _split(path), lambda parent, key: found.append(parent[key] if (
        isinstance(parent, list) or key in parent) else "<absent>"))
    return found


def _mask(node: Any, path: str) -> None:
    def put(parent: Any, key: Any) -> None:
        parent[key] = LISTED
    _apply(node, _split(path), put)


def apply_rows(real: Any, sandbox: Any, rows: list[Row]) -> tuple[Any, Any, list[str]]:
    """Copies of both recordings with every field the rows name masked, and the problems found.

    A valued field whose values are not the ones the row gives is a problem (the row is about
    another difference than the one seen), and stays unmasked so the comparison shows it."""
    real, sandbox = copy.deepcopy(real), copy.deepcopy(sandbox)
    problems: list[str] = []
    for row in rows:
        for f in row.fields:
            paths = [f.path] + (["status.code"] if f.path == "code" else [])
            if f.valued:
                got_real, got_sandbox = _values(real, f.path), _values(sandbox, f.path)
                if got_real != [f.real] or got_sandbox != [f.sandbox]:
                    problems.append(f"{f.path}: the row says {f.real} -> {f.sandbox}, seen "
                                    f"{_one(got_real)} -> {_one(got_sandbox)}")
                    continue
            for p in paths:
                if isinstance(real, dict):
                    _mask(real, p)
                if isinstance(sandbox, dict):
                    _mask(sandbox, p)
    return real, sandbox, problems


def _one(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values or "<absent>"
