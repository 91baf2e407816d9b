"""What strict decoding finds in a request body before any schema is consulted.

kube-apiserver decodes JSON bodies with sigs.k8s.io/json, which reports every key given twice as
`duplicate field "<path>"` (path dotted, list items `[i]`); the last value wins. A JSON patch is
also read into its operation type, so an operation with an unknown member or one given twice is
reported as `json patch unknown field "[i].<key>"` / `json patch duplicate field "[i].<key>"`
(duplicates inside the patch values are not seen: the patch library drops them). These findings
come first in a strict decoding error, before the unknown fields the schema pruning finds.
"""
from __future__ import annotations

from typing import Any

from . import gojson

_JSON_PATCH_MEMBERS = frozenset({"op", "path", "from", "value"})


class _Obj(dict):
    """A decoded JSON object that remembers which of its keys came more than once."""

    dups: list[str]


def _hook(pairs: list[tuple[str, Any]]) -> _Obj:
    out = _Obj()
    out.dups = []
    for key, value in pairs:
        if key in out and key not in out.dups:
            out.dups.append(key)
        out[key] = value
    return out


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _plain(value: Any, path: str, found: list[str]) -> Any:
    """Plain dicts again, collecting the duplicate paths (an object's own before its children's)."""
    if isinstance(value, dict):
        found.extend(_join(path, k) for k in getattr(value, "dups", []))
        return {k: _plain(v, _join(path, k), found) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def loads(raw: bytes) -> tuple[Any, list[str]]:
    """The decoded body and its findings (`duplicate field "<path>"`); ValueError (Go's decoder text)
    if not JSON."""
    found: list[str] = []
    value = _plain(gojson.loads(raw, object_pairs_hook=_hook), "", found)
    return value, [f'duplicate field "{p}"' for p in found]


def loads_json_patch(raw: bytes) -> tuple[Any, list[str]]:
    """A JSON patch and the findings about its operations only."""
    parsed = gojson.loads(raw, object_pairs_hook=_hook)
    found: list[str] = []
    if isinstance(parsed, list):
        for i, op in enumerate(parsed):
            if not isinstance(op, dict):
                continue
            found += [f'json patch unknown field "[{i}].{k}"' for k in op if k not in _JSON_PATCH_MEMBERS]
            found += [f'json patch duplicate field "[{i}].{k}"' for k in getattr(op, "dups", [])]
    return _plain(parsed, "", []), found
