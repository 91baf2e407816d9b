"""Label and field selectors with kube-apiserver's grammar and error messages."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from . import errors, govalidation

Matcher = Callable[[dict[str, Any]], bool]


@dataclass
class Requirement:
    key: str
    op: str                 # = != in notin exists ! gt lt
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        has = self.key in labels
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in ("=", "in"):
            return has and labels[self.key] in self.values
        if self.op in ("gt", "lt"):
            if not has or not _INT.fullmatch(labels[self.key]):
                return False
            have, want = int(labels[self.key]), int(self.values[0])
            return have > want if self.op == "gt" else have < want
        return not has or labels[self.key] not in self.values   # != and notin


# The label selector grammar of k8s.io/apimachinery/pkg/labels (its lexer, parser and messages).
_INT = re.compile(r"[+-]?[0-9]+")
_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_KEYWORDS = {")": ")", ",": ",", "!": "!", "==": "==", "=": "=", ">": ">", "in": "in", "<": "<",
             "!=": "!=", "notin": "notin", "(": "("}
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"
ID, END, ERROR = "id", "end", "error"


def _lex(text: str) -> list[tuple[str, str]]:
    """(token, literal) pairs; a token is ID, END, ERROR or the keyword itself."""
    out: list[tuple[str, str]] = []
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= n:
            out.append((END, ""))
            return out
        if text[pos] in _SPECIAL:
            buf, last = "", None
            while pos < n and text[pos] in _SPECIAL:
                if buf + text[pos] in _KEYWORDS:
                    buf += text[pos]
                    last = buf
                    pos += 1
                elif last is None:
                    buf += text[pos]
                    pos += 1
                else:
                    break
            out.append((last, last) if last is not None else (ERROR, f"error expected: keyword found '{buf}'"))
            continue
        start = pos
        while pos < n and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        out.append((word, word) if word in _KEYWORDS else (ID, word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.pos = 0

    def peek(self, values: bool = True) -> tuple[str, str]:
        tok, lit = self.items[self.pos]
        return (ID, lit) if values and tok in ("in", "notin") else (tok, lit)

    def take(self, values: bool = True) -> tuple[str, str]:
        item = self.peek(values)
        self.pos += 1
        return item

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self.peek()
            if tok == END:
                return reqs
            if tok not in (ID, "!"):
                raise ValueError(f"found '{lit}', expected: !, identifier, or 'end of string'")
            try:
                reqs.append(self.requirement())
            except ValueError as exc:
                raise ValueError(f"unable to parse requirement: {exc}") from None
            tok, lit = self.take()
            if tok == END:
                return reqs
            if tok != ",":
                raise ValueError(f"found '{lit}', expected: ',' or 'end of string'")
            tok, lit = self.peek()
            if tok not in (ID, "!"):
                raise ValueError(f"found '{lit}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        op = ""
        tok, key = self.take()
        if tok == "!":
            op = "!"
            tok, key = self.take()
        if tok != ID:
            raise ValueError(f"found '{key}', expected: identifier")
        problems = govalidation.is_qualified_name(key)
        if problems:
            raise ValueError(f"<nil>: Invalid value: {json.dumps(key, ensure_ascii=False)}: " + "; ".join(problems))
        if self.peek()[0] in (END, ","):
            return _requirement(key, op or "exists", [])
        if op == "!":
            return _requirement(key, "!", [])
        tok, lit = self.take(values=False)
        ops = {"in": "in", "notin": "notin", "=": "=", "==": "=", "!=": "!=", ">": "gt", "<": "lt"}
        if tok not in ops:
            raise ValueError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        op = ops[tok]
        return _requirement(key, op, self.value_set() if op in ("in", "notin") else self.exact_value())

    def value_set(self) -> list[str]:
        tok, lit = self.take()
        if tok != "(":
            raise ValueError(f"found '{lit}' expected: '('")
        tok, lit = self.peek()
        if tok == ")":
            self.take()
            return [""]
        if tok not in (ID, ","):
            raise ValueError(f"found '{lit}', expected: ',', ')' or identifier")
        values: set[str] = set()
        while True:
            tok, lit = self.take()
            if tok == ID:
                values.add(lit)
                nxt, nlit = self.peek()
                if nxt == ")":
                    break
                if nxt != ",":
                    raise ValueError(f"found '{nlit}', expected: ',' or ')'")
            elif tok == ",":
                if not values:
                    values.add("")
                nxt, _ = self.peek()
                if nxt == ")":
                    values.add("")
                    break
                if nxt == ",":
                    values.add("")
            else:
                raise ValueError(f"found '{lit}', expected: ',', or identifier")
        if self.take()[0] != ")":
            raise ValueError(f"found '{lit}', expected: ')'")
        return sorted(values)

    def exact_value(self) -> list[str]:
        tok, _ = self.peek()
        if tok in (END, ","):
            return [""]
        tok, lit = self.take()
        if tok == ID:
            return [lit]
        raise ValueError(f"found '{lit}', expected: identifier")


def _requirement(key: str, op: str, values: list[str]) -> Requirement:
    """labels.NewRequirement's checks of the values (the key was checked while parsing)."""
    errs: list[str] = []
    if op in ("gt", "lt"):
        for i, v in enumerate(values):
            if not _INT.fullmatch(v) or not -2**63 <= int(v) < 2**63:
                errs.append(f"values[{i}]: Invalid value: {json.dumps(v, ensure_ascii=False)}: for 'Gt', 'Lt' "
                            "operators, the value must be an integer")
    for i, v in enumerate(values):
        problems = govalidation.is_valid_label_value(v)
        if problems:
            errs.append(f"values[{i}][{key}]: Invalid value: {json.dumps(v, ensure_ascii=False)}: "
                        + "; ".join(problems))
    if errs:
        unique = list(dict.fromkeys(errs))
        raise ValueError(unique[0] if len(unique) == 1 else "[" + ", ".join(unique) + "]")
    return Requirement(key, op, tuple(values))


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


def parse_label_selector(text: str | None) -> list[Requirement]:
    """The requirements of a label selector; 400 BadRequest with the apiserver's message if it is
    not one."""
    try:
        return _Parser(text or "").parse()
    except ValueError as exc:
        raise errors.bad_request(str(exc)) from None


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
