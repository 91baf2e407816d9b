"""managedFields-lite and server-side apply.

Who owns which field is tracked per manager, operation (Apply/Update) and subresource, as leaf
paths (lists are atomic, like CRD lists without a list-type, except `metadata.finalizers`, a set:
each item is owned on its own, as `v:"<item>"`).  Server-side apply then behaves as
the real one does for the cases clients meet: a field set by another manager to a different value
is a 409 conflict unless `force`; fields a manager stops applying are removed when nobody else
owns them; equal values share ownership.

As in kube-apiserver, an Update also owns each map it brings into being (the `".": {}` member of that
map in fieldsV1; kept in the path sets as the path plus a trailing "."); Apply owns leaves only.
"""
from __future__ import annotations

import copy
import json
from typing import Any, Callable

from . import errors

Path = tuple[str, ...]
_SYSTEM_META = ("labels", "annotations", "finalizers", "ownerReferences")
# What of metadata a manager can own: all but what the field manager strips (name, namespace, uid,
# resourceVersion, generation, creationTimestamp, selfLink, managedFields) and what only deletion sets.
_OWNED_META = ("generateName",) + _SYSTEM_META
_MISSING = object()
SET_LISTS = frozenset({("metadata", "finalizers")})    # lists whose items are owned one by one


class Item(str):
    """A path element naming one item of a set list: `v:<the item as JSON>` in fieldsV1."""

    @classmethod
    def of(cls, value: Any) -> "Item":
        return cls("v:" + json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    def value(self) -> Any:
        return json.loads(self[2:])


def _set_list(prefix: Path, value: Any) -> bool:
    return prefix in SET_LISTS and isinstance(value, list) and bool(value)


def _owned_roots(obj: dict[str, Any], subresource: str | None, status_separate: bool,
                 walk: Callable[[Path, Any], None]) -> None:
    """Call `walk` on each top-level field a write may own: the spec-like fields (or status for /status, when
    status is its own subresource) and metadata's labels, annotations, finalizers and owner references
    (metadata itself is never owned) and its generateName."""
    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if key == "metadata":
            if subresource is None or not status_separate:
                for mk in _OWNED_META:
                    if mk in (value or {}):
                        walk(("metadata", mk), value[mk])
            continue
        if status_separate and (key == "status") != (subresource == "status"):
            continue
        walk((key,), value)


def leaf_paths(obj: dict[str, Any], subresource: str | None, status_separate: bool) -> dict[Path, Any]:
    """Owned-field candidates of `obj`: leaves of spec-like fields, or of status for /status."""
    out: dict[Path, Any] = {}

    def walk(prefix: Path, value: Any) -> None:
        if isinstance(value, dict) and value:
            for k, v in value.items():
                walk(prefix + (k,), v)
        elif _set_list(prefix, value):
            for item in value:
                out[prefix + (Item.of(item),)] = item
        else:
            out[prefix] = value

    _owned_roots(obj, subresource, status_separate, walk)
    return out


NODE = "."


def node_paths(obj: dict[str, Any], subresource: str | None, status_separate: bool) -> set[Path]:
    """The maps (and set lists) of `obj` an Update would own when it creates them (each as its path
    plus ".")."""
    out: set[Path] = set()

    def walk(prefix: Path, value: Any) -> None:
        if isinstance(value, dict) and value:
            out.add(prefix + (NODE,))
            for k, v in value.items():
                walk(prefix + (k,), v)
        elif _set_list(prefix, value):
            out.add(prefix + (NODE,))

    _owned_roots(obj, subresource, status_separate, walk)
    return out


def _key(part: str) -> str:
    if part == NODE or isinstance(part, Item):
        return part
    return f"f:{part}"


def _encode(paths: set[Path]) -> dict[str, Any]:
    """fieldsV1: a member with children marks itself with "."; a member without any is just `{}`."""
    root: dict[str, Any] = {}
    for p in sorted(paths):
        cur = root
        for part in p:
            cur = cur.setdefault(_key(part), {})

    def collapse(node: dict[str, Any]) -> dict[str, Any]:
        out = {k: collapse(v) for k, v in node.items()}
        return {} if list(out) == [NODE] else out

    return collapse(root)


def _decode(fields: dict[str, Any], prefix: Path = ()) -> set[Path]:
    out: set[Path] = set()
    fields = fields or {}
    children = {k: v for k, v in fields.items() if k.startswith(("f:", "v:"))}
    if NODE in fields and prefix:
        out.add(prefix + (NODE,))
    if not children and prefix:
        return out or {prefix}
    for k, v in children.items():
        out |= _decode(v, prefix + ((k[2:],) if k.startswith("f:") else (Item(k),)))
    return out


def _entries(obj: dict[str, Any]) -> list[dict[str, Any]]:
    return list(obj.get("metadata", {}).get("managedFields") or [])


def _owned(entry: dict[str, Any], obj: dict[str, Any] | None = None) -> set[Path]:
    """The paths `entry` owns; with the object it describes, a member written as `{}` that is a map or
    a set list there is its node (the "." of a member whose children went to other managers)."""
    paths = _decode(entry.get("fieldsV1") or {})
    if obj is None:
        return paths
    out = set()
    for p in paths:
        value = _get(obj, p) if p[-1] != NODE else _MISSING
        node = (isinstance(value, dict) and value) or _set_list(p, value)
        out.add(p + (NODE,) if node else p)
    return out


def _related(a: Path, b: Path) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


def _get(obj: Any, path: Path) -> Any:
    cur = obj
    for part in path:
        if isinstance(part, Item):
            if not isinstance(cur, list) or part.value() not in cur:
                return _MISSING
            cur = part.value()
            continue
        if not isinstance(cur, dict) or part not in cur:
            return _MISSING
        cur = cur[part]
    return cur


def _order(e: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """kube-apiserver's order: Apply before Update, then by time (none first), manager, apiVersion,
    subresource (RFC 3339 times in UTC sort as text)."""
    return (e.get("operation", ""), e.get("time") or "", e.get("manager", ""), e.get("apiVersion", ""),
            e.get("subresource") or "")


def _set_entries(obj: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    kept = sorted((e for e in entries if e.get("fieldsV1")), key=_order)
    if kept:
        obj["metadata"]["managedFields"] = kept
    else:
        obj["metadata"].pop("managedFields", None)


def _entry(manager: str, operation: str, api_version: str, subresource: str | None,
           paths: set[Path], now: str | None) -> dict[str, Any]:
    e: dict[str, Any] = {"manager": manager, "operation": operation, "apiVersion": api_version}
    if now:
        e["time"] = now
    e.update(fieldsType="FieldsV1", fieldsV1=_encode(paths))
    if subresource:
        e["subresource"] = subresource
    return e


def _same(e: dict[str, Any], manager: str, operation: str, subresource: str | None) -> bool:
    return (e.get("manager") == manager and e.get("operation") == operation
            and e.get("subresource") == subresource)


def record_update(old: dict[str, Any] | None, new: dict[str, Any], manager: str, api_version: str,
                  subresource: str | None, status_separate: bool, now: str) -> None:
    """After a create/update/patch: `manager` owns what it changed; others lose those fields."""
    new_paths = leaf_paths(new, subresource, status_separate)
    old_paths = leaf_paths(old, subresource, status_separate) if old else {}
    changed = {p for p, v in new_paths.items() if old_paths.get(p, _MISSING) != v}
    removed = set(old_paths) - set(new_paths)
    new_nodes = node_paths(new, subresource, status_separate)
    old_nodes = node_paths(old, subresource, status_separate) if old else set()
    gone_nodes = old_nodes - new_nodes
    entries = []
    took = changed | (new_nodes - old_nodes)
    mine = set(took)     # an update that took nothing leaves its manager's entry (and time) as it was
    # Like kube-apiserver: managedFields sent by the client (non-empty) replace the recorded ones;
    # that is how clients reset or migrate ownership (kubectl's client-side to server-side apply).
    base = _entries(new) or _entries(old or {})
    for e in base:
        owned = _owned(e, old or new)
        if e.get("subresource") == subresource:
            owned = {p for p in owned if p not in gone_nodes
                     and (p[-1] == NODE or not any(_related(p, c) for c in changed | removed))}
        if took and _same(e, manager, "Update", subresource):
            mine |= owned
            continue
        entries.append({**e, "fieldsV1": _encode(owned)})
    if took:
        entries.append(_entry(manager, "Update", api_version, subresource, mine, now))
    _set_entries(new, entries)


def _prune_empty(obj: dict[str, Any], path: Path) -> None:
    for i in range(len(path) - 1, 0, -1):
        parent = _get(obj, path[:i])
        if isinstance(parent, dict) and not parent:
            grand = _get(obj, path[:i - 1]) if i > 1 else obj
            if isinstance(grand, dict):
                grand.pop(path[i - 1], None)
        else:
            break


def _deep_merge(dst: dict[str, Any], src: dict[str, Any]) -> None:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dst.get(k), dict) and v:
            _deep_merge(dst[k], v)
        elif v is not None:
            dst[k] = copy.deepcopy(v)


def apply(live: dict[str, Any] | None, config: dict[str, Any], manager: str, force: bool,
          api_version: str, subresource: str | None, status_separate: bool, now: str
          ) -> dict[str, Any]:
    """The object after `manager` applies `config` to `live` (None: create). Raises 409 on conflict."""
    cfg = copy.deepcopy(config)
    if status_separate:
        if subresource == "status":
            cfg = {"apiVersion": cfg.get("apiVersion"), "kind": cfg.get("kind"),
                   "metadata": cfg.get("metadata", {}), "status": cfg.get("status", {})}
        else:
            cfg.pop("status", None)
    cfg_paths = leaf_paths(cfg, subresource, status_separate)
    if live is None:
        obj = cfg
        obj["metadata"].pop("managedFields", None)
        _set_entries(obj, [_entry(manager, "Apply", api_version, subresource, set(cfg_paths), now)])
        return obj

    obj = copy.deepcopy(live)
    entries = _entries(live)
    conflicts: list[tuple[str, Path]] = []
    new_entries: list[dict[str, Any]] = []
    previous: set[Path] = set()
    previous_time: str | None = None
    others_owned: set[Path] = set()
    for e in entries:
        owned = _owned(e, live)
        if _same(e, manager, "Apply", subresource):
            previous, previous_time = owned, e.get("time")
            continue
        if e.get("subresource") == subresource:
            clash = {p for p in cfg_paths
                     if _get(live, p) != cfg_paths[p] and any(_related(p, q) for q in owned)}
            if clash and not force:
                conflicts += [(_manager_text(e), p) for p in sorted(clash)]
            if force:
                owned = {q for q in owned if not any(_related(p, q) for p in clash)}
        others_owned |= owned
        new_entries.append({**e, "fieldsV1": _encode(owned)})
    if conflicts:
        raise _conflict_error(conflicts)

    for p in sorted(previous - set(cfg_paths), key=len, reverse=True):
        if p in others_owned or any(_related(p, q) and len(q) > len(p) for q in cfg_paths):
            continue
        parent = _get(obj, p[:-1]) if len(p) > 1 else obj
        if isinstance(parent, list) and isinstance(p[-1], Item):
            if p[-1].value() in parent:
                parent.remove(p[-1].value())
            if not parent:
                holder = _get(obj, p[:-2]) if len(p) > 2 else obj
                if isinstance(holder, dict):
                    holder.pop(p[-2], None)
        elif isinstance(parent, dict):
            parent.pop(p[-1], None)
            _prune_empty(obj, p)
    _deep_merge(obj, {k: v for k, v in cfg.items() if k != "metadata"})
    md_cfg = cfg.get("metadata", {})
    for mk in _SYSTEM_META:
        if mk in md_cfg:
            if isinstance(md_cfg[mk], dict):
                obj["metadata"].setdefault(mk, {})
                _deep_merge(obj["metadata"][mk], md_cfg[mk])
            elif _set_list(("metadata", mk), md_cfg[mk]):
                # a set: the live items keep their places, the applied ones missing are appended
                have = obj["metadata"].get(mk) if isinstance(obj["metadata"].get(mk), list) else []
                obj["metadata"][mk] = have + [i for i in md_cfg[mk] if i not in have]
            else:
                obj["metadata"][mk] = copy.deepcopy(md_cfg[mk])
    # An apply that changes nothing leaves its manager's time as it was (none for a new manager).
    changed = _without_managed(obj) != _without_managed(live)
    new_entries.append(_entry(manager, "Apply", api_version, subresource, set(cfg_paths),
                              now if changed else previous_time))
    _set_entries(obj, new_entries)
    return obj


def _without_managed(obj: dict[str, Any]) -> dict[str, Any]:
    return {**obj, "metadata": {k: v for k, v in obj.get("metadata", {}).items() if k != "managedFields"}}


def _manager_text(e: dict[str, Any]) -> str:
    """How a conflict names a manager: its name, the subresource, and for Update managers the
    apiVersion they wrote with (Apply managers are named alone), as kube-apiserver prints them."""
    text = f'"{e.get("manager", "")}"'
    if e.get("subresource"):
        text += f' with subresource "{e["subresource"]}"'
    if e.get("operation") == "Update":
        text += f' using {e.get("apiVersion", "")}'
    return text


def _conflict_error(conflicts: list[tuple[str, Path]]) -> errors.ApiError:
    def fmt(p: Path) -> str:
        return "." + ".".join(p)

    causes = [{"reason": "FieldManagerConflict",
               "message": f"conflict with {m}", "field": fmt(p)} for m, p in conflicts]
    if len(conflicts) == 1:
        m, p = conflicts[0]
        msg = f"Apply failed with 1 conflict: conflict with {m}: {fmt(p)}"
    else:
        by: dict[str, list[Path]] = {}
        for m, p in conflicts:
            by.setdefault(m, []).append(p)
        parts = []
        for m, ps in by.items():
            if len(ps) == 1:
                parts.append(f"conflict with {m}: {fmt(ps[0])}")
            else:
                parts.append(f"conflicts with {m}:\n" + "\n".join(f"- {fmt(p)}" for p in ps))
        msg = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(parts)
    return errors.ApiError(errors.status_body(409, "Conflict", msg, {"causes": causes}))
