"""Parse a request path into (group, version, namespace, resource, name, subresource, verb),
following kube-apiserver's RequestInfoFactory."""
from __future__ import annotations

from dataclasses import dataclass

NAMESPACE_SUBRESOURCES = {"status", "finalize"}


@dataclass
class RequestInfo:
    is_resource: bool
    path: str
    verb: str = ""
    group: str = ""
    version: str = ""
    namespace: str = ""
    resource: str = ""
    name: str = ""
    subresource: str = ""


def _truthy(v: str | None) -> bool:
    return v is not None and v.lower() in ("1", "true", "t", "yes", "y")


def parse(method: str, path: str, query: dict[str, str]) -> RequestInfo:
    parts = [p for p in path.strip("/").split("/") if p]
    info = RequestInfo(False, path)
    if not parts or parts[0] not in ("api", "apis"):
        info.verb = method.lower()
        return info
    if parts[0] == "api":
        if len(parts) < 3:
            info.verb = method.lower()
            return info
        info.version, rest = parts[1], parts[2:]
    else:
        if len(parts) < 4:
            info.verb = method.lower()
            return info
        info.group, info.version, rest = parts[1], parts[2], parts[3:]
    info.is_resource = True
    if rest[0] == "namespaces":
        if len(rest) > 1:
            info.namespace = rest[1]
            if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
                rest = rest[2:]
    info.resource = rest[0]
    if len(rest) > 1:
        info.name = rest[1]
    if len(rest) > 2:
        info.subresource = rest[2]
    if info.resource == "namespaces" and info.namespace and not info.name:
        info.name = info.namespace
    if info.resource == "namespaces":
        info.namespace = ""
    m = method.upper()
    if m == "GET" or m == "HEAD":
        if _truthy(query.get("watch")):
            info.verb = "watch"
        else:
            info.verb = "get" if info.name else "list"
    elif m == "POST":
        info.verb = "create"
    elif m == "PUT":
        info.verb = "update"
    elif m == "PATCH":
        info.verb = "patch"
    elif m == "DELETE":
        info.verb = "delete" if info.name else "deletecollection"
    else:
        info.verb = m.lower()
    return info
