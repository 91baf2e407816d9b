"""Merge patch (RFC 7386), JSON patch (RFC 6902) and a strategic-merge-patch subset for core kinds."""
from __future__ import annotations

import copy
from typing import Any

from . import errors


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _parts(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise _fail(f"JSON pointer must start with '/': {path}")
    return [_unescape(p) for p in path[1:].split("/")]


REJECTED = "the server rejected our request due to an error in our request"


def _fail(msg: str) -> errors.ApiError:
    """A JSON patch that does not apply. kube-apiserver answers a generic 422 (NewGenericServerResponse):
    reason Invalid, a fixed message and empty details; the library's own text (`msg`, kept for the
    server log) is not shown."""
    err = errors.ApiError(errors.status_body(422, "Invalid", REJECTED, {}))
    err.detail = msg     # type: ignore[attr-defined]
    return err


def _walk(doc: Any, parts: list[str], op: str, path: str) -> Any:
    """The value at ``parts`` below ``doc``; the JSON patch "missing path" refusal when there is none."""
    cur = doc
    for p in parts:
        if isinstance(cur, dict) and p in cur:
            cur = cur[p]
        elif isinstance(cur, list) and p.isdigit() and int(p) < len(cur):
            cur = cur[int(p)]
        else:
            raise _fail(f"{op} operation does not apply: doc is missing path: \"{path}\": "
                        f"missing value")
    return cur


def _parent(doc: Any, parts: list[str], op: str, path: str) -> tuple[Any, str]:
    return _walk(doc, parts[:-1], op, path), parts[-1]


def _get(doc: Any, path: str, op: str) -> Any:
    return _walk(doc, _parts(path), op, path)


def _add(doc: Any, path: str, value: Any, op: str = "add") -> Any:
    parts = _parts(path)
    if not parts:
        return copy.deepcopy(value)
    parent, last = _parent(doc, parts, op, path)
    if isinstance(parent, dict):
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        idx = len(parent) if last == "-" else int(last) if last.isdigit() else -1
        if idx < 0 or idx > len(parent):
            raise _fail(f"add operation does not apply: doc is missing path: \"{path}\": "
                        f"missing value")
        parent.insert(idx, copy.deepcopy(value))
    else:
        raise _fail(f"{op} operation does not apply: doc is missing path: \"{path}\": missing value")
    return doc


def _remove(doc: Any, path: str, op: str = "remove") -> Any:
    parts = _parts(path)
    parent, last = _parent(doc, parts, op, path)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise _fail(f"{op} operation does not apply: doc is missing path: \"{path}\": "
                    f"missing value")
    return doc


def json_patch(doc: Any, ops: Any) -> Any:
    """Apply a decoded JSON patch (the server has checked its shape: a list of objects, or null)."""
    doc = copy.deepcopy(doc)
    for op in ops or []:
        if not isinstance(op, dict):
            raise _fail("Unexpected kind: unknown")
        kind, path = op.get("op"), op.get("path")
        if not isinstance(path, str):
            raise _fail("operation missing path field")
        if kind == "add":
            doc = _add(doc, path, op.get("value"))
        elif kind == "remove":
            doc = _remove(doc, path)
        elif kind == "replace":
            _get(doc, path, "replace")
            doc = _remove(doc, path, "replace") if _parts(path) else doc
            doc = _add(doc, path, op.get("value"), "replace")
        elif kind in ("move", "copy"):
            val = copy.deepcopy(_get(doc, op.get("from", ""), kind))
            if kind == "move":
                doc = _remove(doc, op.get("from", ""), kind)
            doc = _add(doc, path, val, kind)
        elif kind == "test":
            if _get(doc, path, "test") != op.get("value"):
                raise _fail(f"testing value {path} failed: test failed")
        else:
            raise _fail(f"Unexpected kind: {kind}")
    return doc


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """The subset core kinds need: maps merge, `$patch: delete|replace`, directives dropped."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: v for k, v in copy.deepcopy(patch).items() if k != "$patch"}
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$") or k.startswith("$setElementOrder/") or k.startswith("$deleteFromPrimitiveList/"):
            continue
        if isinstance(v, dict) and v.get("$patch") == "delete":
            out.pop(k, None)
        elif v is None:
            out.pop(k, None)
        else:
            out[k] = strategic_merge_patch(out.get(k), v)
    return out
