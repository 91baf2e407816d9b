"""Label and field selectors with kube-apiserver's grammar and error messages."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

from . import errors

Matcher = Callable[[dict[str, Any]], bool]
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
                        r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")


@dataclass
class Requirement:
    key: str
    op: str                 # = != in notin exists !
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        has = self.key in labels
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("=", "in"):
            return has and labels[self.key] in self.values
        return not has or labels[self.key] not in self.values   # != and notin


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses."""
    parts, depth, cur = [], 0, ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def _check_key(key: str, whole: str) -> None:
    if not _LABEL_KEY.match(key):
        raise errors.bad_request(f"unable to parse requirement: invalid label key \"{key}\": "
                                 f"name part must consist of alphanumeric characters, '-', '_' or "
                                 f"'.', and must start and end with an alphanumeric character")


def _check_value(val: str) -> None:
    if len(val) > 63 or not _LABEL_VALUE.match(val):
        raise errors.bad_request(f"unable to parse requirement: values[0][{val}]: Invalid value: "
                                 f"\"{val}\": a valid label must be an empty string or consist of "
                                 f"alphanumeric characters, '-', '_' or '.', and must start and end "
                                 f"with an alphanumeric character")


def parse_label_selector(text: str | None) -> list[Requirement]:
    reqs: list[Requirement] = []
    for part in _split_top(text or ""):
        m = re.match(r"^([^\s!=(),]+)\s+(in|notin)\s*\(([^)]*)\)$", part)
        if m:
            key, op, vals = m.group(1), m.group(2), tuple(v.strip() for v in m.group(3).split(","))
            _check_key(key, part)
            for v in vals:
                _check_value(v)
            reqs.append(Requirement(key, op, vals))
            continue
        m = re.match(r"^([^\s!=]+)\s*(==|!=|=)\s*(\S*)$", part)
        if m:
            key, op, val = m.group(1), m.group(2), m.group(3)
            _check_key(key, part)
            _check_value(val)
            reqs.append(Requirement(key, "!=" if op == "!=" else "=", (val,)))
            continue
        m = re.match(r"^(!?)\s*([^\s!=(),]+)$", part)
        if m:
            _check_key(m.group(2), part)
            reqs.append(Requirement(m.group(2), "!" if m.group(1) else "exists"))
            continue
        raise errors.bad_request(f"unable to parse requirement: found '{part}', expected: "
                                 f"'=', '!=', '==', 'in', notin'")
    return reqs


def label_matcher(text: str | None) -> Matcher:
    reqs = parse_label_selector(text)
    return lambda obj: all(r.matches(obj.get("metadata", {}).get("labels") or {}) for r in reqs)


def _field_value(obj: dict[str, Any], label: str) -> str:
    cur: Any = obj
    for part in label.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    if label == "source" and isinstance(obj.get("source"), dict):
        cur = obj["source"].get("component")
    if cur is None:
        return ""
    if isinstance(cur, bool):
        return "true" if cur else "false"
    return str(cur)


def field_matcher(text: str | None, allowed: tuple[str, ...], namespaced: bool) -> Matcher:
    """`metadata.name`, `metadata.namespace` (namespaced kinds) and the kind's extra labels."""
    labels = {"metadata.name", *allowed}
    if namespaced:
        labels.add("metadata.namespace")
    checks: list[tuple[str, bool, str]] = []
    for part in _split_top(text or ""):
        m = re.match(r"^([^!=]+?)\s*(==|!=|=)\s*(.*)$", part)
        if not m:
            raise errors.bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        label, op, val = m.group(1).strip(), m.group(2), m.group(3).strip()
        if label not in labels:
            raise errors.bad_request(f'field label not supported: {label}')
        checks.append((label, op != "!=", val))
    return lambda obj: all((_field_value(obj, lab) == val) == eq for lab, eq, val in checks)
