"""/version, legacy discovery (/api, /apis, ...), and the OpenAPI documents kubectl reads.

Aggregated discovery (apidiscovery.k8s.io/v2) is not served: like an older server, we answer the
plain APIGroupList with `Content-Type: application/json`, which makes clients fall back to legacy
discovery.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from ..platform import DEFAULT
from . import resources as res
from .admission import schema_for

VERSION = {"major": "1", "minor": "30", "gitVersion": "v1.30.14",
           "gitCommit": "9e18483918821121abdf9aa82bc14d66df5d68cd", "gitTreeState": "clean",
           "buildDate": "2025-06-17T18:29:42Z", "goVersion": "go1.23.10", "compiler": "gc",
           "platform": "linux/amd64"}


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0",
                                            "serverAddress": server_address}]}


def _group(name: str, versions: list[str]) -> dict[str, Any]:
    vs = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"name": name, "versions": vs, "preferredVersion": vs[0]}


def api_group_list() -> dict[str, Any]:
    groups = [_group(g, vs) for g, vs in res.group_versions().items() if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(group: str) -> dict[str, Any] | None:
    vs = res.group_versions().get(group)
    if not vs or not group:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group(group, vs)}


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    types = res.in_group_version(group, version)
    if not types:
        return None
    entries: list[dict[str, Any]] = []
    for r in types:
        entries.append(res.describe(r))
        entries += [res.describe_sub(r, s) for s in r.subresources]
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": entries}


# -- OpenAPI -------------------------------------------------------------------------------------
def _pb_field(num: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field (wire type 2)."""
    key = (num << 3) | 2
    out, n = bytearray([key]), len(payload)
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + payload


def openapi_v2_protobuf() -> bytes:
    """A minimal gnostic openapi_v2.Document (swagger "2.0", info) with no definitions: kubectl's
    client-side schema validation then has no schema to check and leaves validation to the server
    (fieldValidation), which is what it does for CRDs without a published schema."""
    info = _pb_field(1, b"Kubernetes") + _pb_field(2, VERSION["gitVersion"].encode())
    return _pb_field(1, b"2.0") + _pb_field(2, info)


def openapi_v2_json() -> dict[str, Any]:
    return {"swagger": "2.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": {}, "definitions": {}}


def _schema(r: res.ResourceType, platform: str) -> dict[str, Any]:
    """A custom kind's schema is admission's for the platform line served (a failure there raises:
    kubectl must never be shown a permissive schema in place of a broken one); built-in kinds are
    published without one."""
    if r.custom:
        return dict(schema_for(r.kind, platform))
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_gv(group: str, version: str, platform: str = DEFAULT) -> dict[str, Any] | None:
    """Per group-version OpenAPI 3 document: paths with the query parameters kubectl probes
    (fieldValidation, dryRun, fieldManager) and each kind's schema."""
    types = res.in_group_version(group, version)
    if not types:
        return None
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    params = [{"name": n, "in": "query", "schema": {"type": "string"}, "uniqueItems": True}
              for n in ("dryRun", "fieldManager", "fieldValidation", "force")]
    for r in types:
        gvk = {"group": group, "version": version, "kind": r.kind}
        schema_name = f"{'.'.join(reversed(group.split('.'))) if group else 'io.k8s.api.core'}.{version}.{r.kind}"
        schemas[schema_name] = {**_schema(r, platform), "x-kubernetes-group-version-kind": [gvk]}
        ref = {"$ref": f"#/components/schemas/{schema_name}"}
        body = {"content": {"application/json": {"schema": ref}}}
        ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ref}}}}
        op = {"x-kubernetes-group-version-kind": gvk, "parameters": params, "responses": ok}
        base = "/" + _gv_path(group, version) + ("/namespaces/{namespace}" if r.namespaced else "")
        paths[f"{base}/{r.plural}"] = {"post": {**op, "x-kubernetes-action": "post", "requestBody": body},
                                       "get": {**op, "x-kubernetes-action": "list"}}
        paths[f"{base}/{r.plural}/{{name}}"] = {
            "get": {**op, "x-kubernetes-action": "get"},
            "put": {**op, "x-kubernetes-action": "put", "requestBody": body},
            "patch": {**op, "x-kubernetes-action": "patch", "requestBody": {"content": {
                t: {"schema": {"type": "object"}} for t in (
                    "application/json-patch+json", "application/merge-patch+json",
                    "application/apply-patch+yaml")}}},
            "delete": {**op, "x-kubernetes-action": "delete"},
        }
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": VERSION["gitVersion"]},
            "paths": paths, "components": {"schemas": schemas}}


def openapi_v3_root(platform: str = DEFAULT) -> dict[str, Any]:
    paths = {}
    for group, versions in res.group_versions().items():
        for v in versions:
            doc = openapi_v3_gv(group, v, platform)
            digest = hashlib.sha512(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:128].upper()
            paths[_gv_path(group, v)] = {"serverRelativeURL": f"/openapi/v3/{_gv_path(group, v)}?hash={digest}"}
    return {"paths": paths}
