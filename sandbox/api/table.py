"""`as=Table` and `as=PartialObjectMetadata` answers, which kubectl asks for on get/watch."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from .resources import Column, ResourceType

NAME_COLUMN = {"name": "Name", "type": "string", "format": "name", "priority": 0,
               "description": "Name must be unique within a namespace. Is required when creating "
                              "resources, although some resources may allow a client to request "
                              "the generation of an appropriate name automatically. Name is "
                              "primarily intended for creation idempotence and configuration "
                              "definition. Cannot be updated. More info: "
                              "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"}


def _parse_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    except (TypeError, ValueError):
        return None


def human_duration(seconds: float) -> str:
    """kube's duration.HumanDuration."""
    s = int(seconds)
    if s < 0:
        return "<invalid>"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    d = h // 24
    if h < 24 * 8:
        return f"{d}d{h % 24}h" if h % 24 else f"{d}d"
    if d < 365 * 2:
        return f"{d}d"
    return f"{d // 365}y{d % 365}d" if d < 365 * 8 and d % 365 else f"{d // 365}y"


def age(value: Any) -> str:
    t = _parse_time(value) if isinstance(value, str) else None
    if t is None:
        return "<unknown>"
    return human_duration((dt.datetime.now(dt.timezone.utc) - t).total_seconds())


_FILTER = re.compile(r"^\[\?\(@\.([\w.]+)\s*==\s*(?:'([^']*)'|(true|false|\d+))\)\]$")


def json_path(obj: Any, path: str) -> list[Any]:
    """The CRD printer-column subset: `.a.b`, `.a[?(@.k=='v')].b`, `.a[0]`."""
    results = [obj]
    for token in re.findall(r"\.[^.\[]+|\[[^\]]*\]", path):
        nxt: list[Any] = []
        for cur in results:
            if token.startswith("."):
                if isinstance(cur, dict) and token[1:] in cur:
                    nxt.append(cur[token[1:]])
            elif (m := _FILTER.match(token)) and isinstance(cur, list):
                want: Any = m.group(2) if m.group(2) is not None else \
                    {"true": True, "false": False}.get(m.group(3), m.group(3))
                for item in cur:
                    got = json_path(item, "." + m.group(1))
                    if got and (got[0] == want or str(got[0]) == str(want)):
                        nxt.append(item)
            elif token[1:-1].isdigit() and isinstance(cur, list) and int(token[1:-1]) < len(cur):
                nxt.append(cur[int(token[1:-1])])
            elif token == "[*]" and isinstance(cur, list):
                nxt.extend(cur)
        results = nxt
    return results


def _computed(name: str, obj: dict[str, Any]) -> Any:
    if name == "data_count":
        return len(obj.get("data") or {}) + len(obj.get("binaryData") or {})
    if name == "access_modes":
        short = {"ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX",
                 "ReadWriteOncePod": "RWOP"}
        return ",".join(short.get(m, m) for m in (obj.get("status", {}).get("accessModes") or []))
    if name == "event_last_seen":
        return age(obj.get("lastTimestamp") or obj.get("eventTime")
                   or obj.get("metadata", {}).get("creationTimestamp"))
    if name == "event_object":
        io = obj.get("involvedObject") or {}
        return f"{str(io.get('kind', '')).lower()}/{io.get('name', '')}"
    return None


def cell(col: Column, obj: dict[str, Any]) -> Any:
    if col.compute:
        return _computed(col.compute, obj)
    values = json_path(obj, col.json_path)
    if not values:
        return None
    if col.type == "date":
        return age(values[0])
    if len(values) > 1:
        return ",".join(str(v) for v in values)
    v = values[0]
    if col.type == "string" and not isinstance(v, str):
        return v if isinstance(v, (dict, list)) else str(v).lower() if isinstance(v, bool) else str(v)
    return v


def partial(obj: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": obj.get("metadata", {})}


def column_definitions(r: ResourceType) -> list[dict[str, Any]]:
    defs = [dict(NAME_COLUMN)] if r.name_first else []
    for c in r.columns:
        description = c.description
        if not description and r.custom and c.json_path:
            # what kube-apiserver says of a CRD printer column that has no description
            description = f"Custom resource definition column (in JSONPath format): {c.json_path}"
        defs.append({"name": c.name, "type": c.type, "format": "", "description": description,
                     "priority": c.priority})
    return defs


def row(r: ResourceType, obj: dict[str, Any], include: str) -> dict[str, Any]:
    first = [obj["metadata"]["name"]] if r.name_first else []
    out: dict[str, Any] = {"cells": first + [cell(c, obj) for c in r.columns]}
    if include == "Object":
        out["object"] = obj
    elif include != "None":
        out["object"] = partial(obj)
    return out


def table(r: ResourceType, objs: list[dict[str, Any]], list_meta: dict[str, Any], include: str,
          headers: bool = True) -> dict[str, Any]:
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": column_definitions(r) if headers else [],
            "rows": [row(r, o, include) for o in objs]}
