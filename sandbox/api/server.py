"""The aiohttp application: authentication, fault injection and audit around the REST handlers.

Run as `python -m sandbox --state-dir DIR serve-api` (the supervisor does that).
"""
from __future__ import annotations

import json
import logging
import ssl
from typing import Any

import yaml
from aiohttp import web

from .. import logsafe, platform
from ..config import State
from ..pki import ensure_leaf
from . import discovery, errors, gojson, ops, reads, request_info, strict
from .admission_bridge import warm_up
from .audit import Audit
from .auth import PUBLIC_PATHS, Authenticator, User, authorize
from .faults import Faults
from .gc import Collector
from .resources import by_kind, lookup
from .store import Store

log = logging.getLogger("sandbox.api")
HEALTH_PATHS = frozenset({"/healthz", "/readyz", "/livez"})


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(body=json.dumps(body, separators=(",", ":")).encode(), status=status,
                        content_type="application/json", headers=headers)


def warning_header(text: str) -> str:
    """`299 - "<text>"` with `"` and `\\` escaped (k8s.io/apiserver warning.NewWarningHeader)."""
    return '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _with_warnings(resp: web.Response, warnings: list[str]) -> web.Response:
    seen: set[str] = set()
    for w in warnings:        # the apiserver's warning recorder drops empty and repeated texts
        if w and w not in seen:
            seen.add(w)
            resp.headers.add("Warning", warning_header(w))
    return resp


class Server:
    def __init__(self, state: State) -> None:
        self.state = state
        self.platform = platform.line(state.load_info().get("platform")).name
        self.store = Store(state.store_dir)
        self.collector: Collector | None = None
        self.api = ops.Api(self.store, self._kick)
        self.collector = Collector(self.api)
        self.auth = Authenticator(state.tokens())
        self.faults = Faults(state)
        self.audit = Audit(state.root / "audit.jsonl")
        if self.store.rv == 0:
            self._first_start()
        self.collector.sweep()
        warm_up()

    def _kick(self) -> None:
        if self.collector is not None:
            self.collector.kick()

    def _first_start(self) -> None:
        """What a fresh cluster has: system namespaces and a default StorageClass."""
        ctx = ops.WriteContext(user="system:apiserver", field_manager="kube-apiserver")
        ns_type, sc_type = by_kind("", "Namespace"), by_kind("storage.k8s.io", "StorageClass")
        assert ns_type and sc_type
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.api.create(ns_type, "", {"apiVersion": "v1", "kind": "Namespace",
                                          "metadata": {"name": name}}, ctx)
        # the default binds at once; the second binds late (a disk on it waits for a VM to use it)
        for name, binding, default in (("local-path", "Immediate", True),
                                       ("local-path-wffc", "WaitForFirstConsumer", False)):
            md: dict[str, Any] = {"name": name}
            if default:
                md["annotations"] = {"storageclass.kubernetes.io/is-default-class": "true"}
            self.api.create(sc_type, "", {
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": md,
                "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
                "volumeBindingMode": binding, "allowVolumeExpansion": True}, ctx)

    # -- entry point -------------------------------------------------------------------------------
    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if path in HEALTH_PATHS:
            return web.Response(text="ok")
        query = {k: request.query.get(k, "") for k in request.query}
        info = request_info.parse(request.method, path, query)
        entry: dict[str, Any] = {"method": request.method, "path": path, "verb": info.verb,
                                 "apiGroup": info.group, "apiVersion": info.version,
                                 "resource": info.resource, "subresource": info.subresource,
                                 "namespace": info.namespace, "name": info.name,
                                 "dryRun": query.get("dryRun") == "All", "user": None,
                                 "userAgent": request.headers.get("User-Agent", "")}
        try:
            user: User | None = None
            if path not in PUBLIC_PATHS:
                user = self.auth.authenticate(request.headers.get("Authorization"))
                user = self.auth.impersonate(user, request.headers.get("Impersonate-User"),
                                             request.headers.getall("Impersonate-Group", []))
                entry["user"] = user.name
            if path == "/sandbox" or path.startswith("/sandbox/"):
                return await self._sandbox(request, path, user)
            await self.faults.before(info.verb, user.name if user else None)
            resp = await self._handle(request, info, query, user)
        except errors.ApiError as exc:
            resp = _with_warnings(_json(exc.status, exc.code, exc.headers), exc.warnings)
        except Exception as exc:  # a bug must still answer like a server, and be in the log
            log.exception("unhandled error for %s %s", request.method, path)
            err = errors.internal(f"{type(exc).__name__}: {exc}")
            resp = _json(err.status, err.code)
        entry["code"] = resp.status
        entry["dryRun"] = request.get("dry_run", entry["dryRun"])
        self.audit.record(entry)
        return resp

    async def _sandbox(self, request: web.Request, path: str, user: User | None) -> web.Response:
        if user is None or user.name != "admin":
            raise errors.ApiError(errors.status_body(403, "Forbidden", "sandbox endpoints are admin-only"))
        m = request.method
        if path == "/sandbox/faults":
            if m == "GET":
                return _json(self.faults.settings)
            if m == "PUT":
                return _json(self.faults.update(await self._body(request, "application/json")))
            if m == "DELETE":
                return _json(self.faults.reset())
        elif path == "/sandbox/audit":
            if m == "GET":
                return _json({"items": self.audit.items()})
            if m == "DELETE":
                self.audit.clear()
                return _json({"items": []})
        elif path == "/sandbox/compact" and m == "POST":
            return _json({"compacted": str(self.store.compact())})
        elif path == "/sandbox/info" and m == "GET":
            return _json({**platform.line(self.platform).info(), "kubernetes": discovery.VERSION["gitVersion"]})
        elif path == "/sandbox/state" and m == "GET":
            return _json({"resourceVersion": str(self.store.rv), "compacted": str(self.store.compacted),
                          "objects": len(self.store.objects), "watchers": len(self.store.watchers)})
        raise errors.not_found_path()

    async def _body(self, request: web.Request, content_type: str) -> Any:
        """A JSON body of the sandbox's own endpoints."""
        raw = await request.read()
        try:
            return strict.loads(raw)[0]
        except ValueError as exc:
            raise errors.bad_request(f"the request body is not JSON: {exc}") from None

    async def _decoded(self, request: web.Request, content_type: str, kind: str,
                       ctx: ops.WriteContext) -> Any:
        """The body of a write, decoded as kube-apiserver decodes it (and refused with its words); what
        strict decoding found in it (duplicate fields; see strict.py) goes to `ctx.decode_errors`."""
        raw = await request.read()
        ctx.raw_body = raw
        validating = ctx.field_validation in ("Strict", "Warn")
        if content_type in (ops.APPLY,):
            try:
                value = yaml.safe_load(raw)
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f"line {mark.line + 1}: " if mark is not None else ""
                problem = getattr(exc, "problem", None) or str(exc)
                raise errors.bad_request(f"error decoding YAML: error converting YAML to JSON: yaml: "
                                         f"{where}{problem}") from None
            if value is None:
                return {}
            if not isinstance(value, dict):
                raise errors.bad_request("error decoding YAML: error unmarshaling JSON: while decoding JSON: "
                                         + gojson.cannot_unmarshal(value, "map[string]interface {}"))
            return value
        if content_type == ops.JSON_PATCH:
            try:
                value, ctx.decode_errors = strict.loads_json_patch(raw)
            except ValueError as exc:
                raise errors.bad_request(f"error decoding patch: {exc}" if validating else str(exc)) from None
            _check_json_patch(value, validating)
            return value
        if content_type == ops.MERGE:
            try:
                value, ctx.decode_errors = strict.loads(raw)
            except ValueError as exc:
                raise errors.bad_request(f"error decoding patch: {exc}" if validating
                                         else "Invalid JSON Patch") from None
            if value is None or (not isinstance(value, (dict, list)) and not validating):
                raise errors.bad_request("Invalid JSON Patch")
            if validating and not isinstance(value, dict):
                raise errors.bad_request("error decoding patch: "
                                         + gojson.cannot_unmarshal(value, "map[string]interface {}"))
            if isinstance(value, list):
                # without strict decoding the array is merged as the new object, which has no kind
                text = gojson.marshal(value)
                detail = (f"Invalid value: {json.dumps(text, ensure_ascii=False)}: couldn't get version/kind; "
                          f"json parse error: {gojson.cannot_unmarshal(value, gojson.FIND_KIND)}")
                raise errors.ApiError(errors.status_body(422, "Invalid", f' "" is invalid: patch: {detail}', {
                    "causes": [{"reason": "FieldValueInvalid", "message": detail, "field": "patch"}]}))
            return value
        if request.method == "PATCH":     # strategic merge patch (core kinds) and the rest
            try:
                value, ctx.decode_errors = strict.loads(raw)
            except ValueError as exc:
                raise errors.bad_request(f"error decoding patch: {exc}") from None
            return value
        value, ctx.decode_errors = self._json_body(raw, kind)
        return value

    @staticmethod
    def _json_body(raw: bytes, kind: str) -> tuple[Any, list[str]]:
        """A create/update body: refused as the handlers' decoder does (`transformDecodeError`)."""
        unrecognized = f"the object provided is unrecognized (must be of type {kind}): "
        summary = gojson.summarize(raw)
        try:
            value, found = strict.loads(raw)
        except ValueError as exc:
            raise errors.bad_request(f"{unrecognized}couldn't get version/kind; json parse error: {exc} "
                                     f"({summary})") from None
        if value is None:
            raise errors.bad_request(f"{unrecognized}Object 'Kind' is missing in 'null' ({summary})")
        if not isinstance(value, dict):
            raise errors.bad_request(f"{unrecognized}couldn't get version/kind; json parse error: "
                                     f"{gojson.cannot_unmarshal(value, gojson.FIND_KIND)} ({summary})")
        for key in value:
            if key in ("apiVersion", "kind") and value[key] is not None and not isinstance(value[key], str):
                raise errors.bad_request(f"{unrecognized}couldn't get version/kind; json parse error: "
                                         f"{gojson.cannot_unmarshal_field(value[key], '.' + key, 'string')} "
                                         f"({summary})")
        return value, found

    # -- non-resource paths ------------------------------------------------------------------------
    def _non_resource(self, request: web.Request, path: str) -> web.StreamResponse:
        if request.method not in ("GET", "HEAD"):
            raise errors.method_not_allowed()
        parts = [p for p in path.strip("/").split("/") if p]
        if path == "/version":
            return _json(discovery.VERSION)
        if path == "/api":
            return _json(discovery.api_versions(f"127.0.0.1:{self.state.port('api')}"))
        if path == "/apis":
            return _json(discovery.api_group_list())
        if len(parts) == 2 and parts[0] == "apis":
            group = discovery.api_group(parts[1])
            if group:
                return _json(group)
        if (len(parts) == 2 and parts[0] == "api") or (len(parts) == 3 and parts[0] == "apis"):
            group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
            lst = discovery.resource_list(group, version)
            if lst:
                return _json(lst)
        if path == "/openapi/v2":
            if "protobuf" in request.headers.get("Accept", ""):
                return web.Response(body=discovery.openapi_v2_protobuf(),
                                    content_type="application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            return _json(discovery.openapi_v2_json())
        if path == "/openapi/v3":
            return _json(discovery.openapi_v3_root(self.platform))
        if path.startswith("/openapi/v3/"):
            rest = path[len("/openapi/v3/"):].split("/")
            doc = None
            if rest[0] == "api" and len(rest) == 2:
                doc = discovery.openapi_v3_gv("", rest[1], self.platform)
            elif rest[0] == "apis" and len(rest) == 3:
                doc = discovery.openapi_v3_gv(rest[1], rest[2], self.platform)
            if doc:
                return _json(doc)
        if parts and parts[0] in ("api", "apis"):
            raise errors.not_found_path()
        return web.Response(status=404, text="404 page not found\n")

    # -- resources ----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request, info: request_info.RequestInfo,
                      query: dict[str, str], user: User | None) -> web.StreamResponse:
        if not info.is_resource:
            return self._non_resource(request, info.path)
        assert user is not None
        r = lookup(info.group, info.version, info.resource)
        if r is None or (info.subresource and info.subresource not in r.subresources):
            raise errors.not_found_path()
        if (r.namespaced and not info.namespace and (info.name or info.verb == "create")) or \
                (not r.namespaced and info.namespace):
            raise errors.not_found_path()
        resource = f"{r.plural}/{info.subresource}" if info.subresource else r.plural
        authorize(user, info.verb, resource, r.group, info.namespace, info.name)
        sub = info.subresource or None
        ns = info.namespace
        out = reads.Output.from_request(request.headers.get("Accept", ""), query)
        if info.verb == "get":
            return _json(out.one(r, self.api.get(r, ns, info.name)))
        if info.verb == "list":
            return _json(await reads.list_objects(self.store, r, ns, query, out))
        if info.verb == "watch":
            if info.name:    # GET .../<name>?watch=1 watches that one object, as kube does
                sel = query.get("fieldSelector", "")
                query["fieldSelector"] = ",".join(filter(None, [sel, f"metadata.name={info.name}"]))
            return await reads.watch(request, self.store, self.faults, r, ns, query, out)
        ctx = self._write_context(request, query, user)
        if info.verb == "create":
            if info.name:
                raise errors.method_not_allowed()
            body = await self._decoded(request, "application/json", r.kind, ctx)
            obj = self.api.create(r, ns, body, ctx)
            return _with_warnings(_json(obj, 201), ctx.warnings)
        if info.verb == "update":
            body = await self._decoded(request, "application/json", r.kind, ctx)
            obj = self.api.update(r, ns, info.name, body, ctx, sub)
            return _with_warnings(_json(obj), ctx.warnings)
        if info.verb == "patch":
            ctype = request.content_type
            patch_body = await self._decoded(request, ctype, r.kind, ctx)
            existed = self.store.get(self.api.key(r, ns, info.name)) is not None
            obj = self.api.patch(r, ns, info.name, ctype, patch_body, ctx, sub)
            return _with_warnings(_json(obj, 200 if existed else 201), ctx.warnings)
        if info.verb == "delete":
            opts = await self._delete_options(request, ctx)
            obj, gone = self.api.delete(r, ns, info.name, opts, ctx)
            if gone:
                md = obj["metadata"]
                details = {"name": md["name"], "kind": r.plural, "uid": md["uid"]}
                if r.group:
                    details["group"] = r.group
                return _with_warnings(_json({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                             "status": "Success", "details": details}), ctx.warnings)
            return _with_warnings(_json(obj), ctx.warnings)
        if info.verb == "deletecollection":
            opts = await self._delete_options(request, ctx)
            listing = await reads.list_objects(self.store, r, ns, {
                k: v for k, v in query.items() if k in ("labelSelector", "fieldSelector")}, reads.Output())
            deleted = []
            for item in listing["items"]:
                md = item["metadata"]
                obj, _ = self.api.delete(r, md.get("namespace", ""), md["name"], opts, ctx)
                deleted.append(obj)
            return _json({"kind": r.list_kind, "apiVersion": r.api_version,
                          "metadata": {"resourceVersion": str(self.store.rv)}, "items": deleted})
        raise errors.method_not_allowed()

    async def _delete_options(self, request: web.Request, ctx: ops.WriteContext) -> dict[str, Any]:
        """DeleteOptions as kube-apiserver reads them: from the body when there is one (the query's dryRun and
        propagationPolicy are then ignored, so a client that sends a body must say dryRun in it), else from
        the query."""
        raw = await request.read()
        if not raw:
            policy = request.query.get("propagationPolicy")
            return {"propagationPolicy": policy} if policy else {}
        try:
            opts = json.loads(raw) or {}
        except ValueError:
            raise errors.bad_request("DeleteOptions could not be decoded") from None
        dry = opts.get("dryRun") or []
        if any(d != "All" for d in dry):
            shown = "[]string{" + ", ".join(json.dumps(d) for d in dry) + "}"
            raise errors.invalid("DeleteOptions", "meta.k8s.io", "", [errors.cause(
                "dryRun", "FieldValueNotSupported", f'Unsupported value: {shown}: supported values: "All"')])
        ctx.dry_run = bool(dry)
        request["dry_run"] = ctx.dry_run  # the audit records the options the server acted on
        return opts

    def _write_context(self, request: web.Request, query: dict[str, str], user: User) -> ops.WriteContext:
        dry = request.query.getall("dryRun", [])
        if any(d != "All" for d in dry):
            # kube-apiserver validates the options object: 422 Invalid on CreateOptions, UpdateOptions, ...
            options = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions",
                       "DELETE": "DeleteOptions"}.get(request.method, "CreateOptions")
            shown = "[]string{" + ", ".join(json.dumps(d) for d in dry) + "}"
            raise errors.invalid(options, "meta.k8s.io", "", [errors.cause(
                "dryRun", "FieldValueNotSupported", f'Unsupported value: {shown}: supported values: "All"')])
        fv = query.get("fieldValidation") or "Warn"
        if fv not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(f"invalid fieldValidation directive: {fv}")
        manager = query.get("fieldManager", "")
        if not manager and request.method != "PATCH" or (request.method == "PATCH" and not manager
                                                         and request.content_type != ops.APPLY):
            manager = request.headers.get("User-Agent", "unknown").split("/")[0][:128]
        if len(manager) > 128:
            raise errors.bad_request("fieldManager: Too long: must have at most 128 bytes")
        return ops.WriteContext(user=user.name, dry_run=bool(dry), field_manager=manager,
                                field_validation=fv, force=query.get("force") in ("true", "1"),
                                platform=self.platform)


def _check_json_patch(value: Any, validating: bool) -> None:
    """What decoding a JSON patch into its operations refuses (handlers.jsonPatchOp with strict or warn
    field validation, else the patch library's own types)."""
    if value is None:
        return
    if not isinstance(value, list):
        raise errors.bad_request(f"error decoding patch: {gojson.cannot_unmarshal(value, '[]handlers.jsonPatchOp')}"
                                 if validating else gojson.cannot_unmarshal(value, "jsonpatch.Patch"))
    for op in value:
        if op is not None and not isinstance(op, dict):
            raise errors.bad_request(f"error decoding patch: {gojson.cannot_unmarshal(op, 'handlers.jsonPatchOp')}"
                                     if validating else gojson.cannot_unmarshal(op, "jsonpatch.Operation"))
        if validating and isinstance(op, dict):
            for key in ("op", "path", "from"):
                if op.get(key) is not None and not isinstance(op[key], str):
                    raise errors.bad_request("error decoding patch: " + gojson.cannot_unmarshal_field(
                        op[key], f"jsonPatchOp.{key}", "string"))


def build_app(state: State) -> web.Application:
    server = Server(state)
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app["server"] = server
    app.router.add_route("*", "/{tail:.*}", server.dispatch)
    return app


def serve(state: State) -> None:
    logsafe.configure(state.secret_values)
    crt, key = ensure_leaf(state, "api")
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(crt), str(key))
    port = state.port("api")
    log.info("serving on https://127.0.0.1:%d (state %s)", port, state.root)
    web.run_app(build_app(state), host="127.0.0.1", port=port, ssl_context=ctx,
                shutdown_timeout=1.0, access_log=None, print=None)
