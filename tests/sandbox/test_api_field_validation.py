"""fieldValidation on both platform lines, as kube-apiserver answers for custom resources.

Sources (kubernetes/kubernetes): handlers/create.go and update.go (transformDecodeError: 400
BadRequest `<Kind> in version "<v>" cannot be handled as a <Kind>: strict decoding error: ...`),
handlers/patch.go (merge/JSON patch: 422 Invalid `patch: Invalid value: "<patched object>": strict
decoding error: ...`; server-side apply: the field manager's typed conversion fails first, a 500
`failed to create typed patch object (...): .spec.x: field not declared in schema` whatever the
directive), apiextensions-apiserver customresource_handler.go (body duplicates first, then the
pruned paths sorted, comma-separated) and test/integration/apiserver/field_validation_test.go.
"""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

import pytest

from sandbox import supervisor
from sandbox.handle import Sandbox

GROUP = "virtualization.deckhouse.io/v1alpha2"
SHA512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
SHA256 = "78be890d71dde316c412da2ce8332ba47b9ce7a29d573801d2777e01aa20b9b5"
CANNOT = 'VirtualImage in version "v1alpha2" cannot be handled as a VirtualImage: strict decoding error: '


def call(sb: Sandbox, method: str, path: str, body: Any = None, ctype: str = "application/json",
         raw: bytes | None = None) -> tuple[int, list[str], Any]:
    """(status, every Warning header as sent, decoded body)."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(sb.api_url + path, data=data, method=method, headers={
        "Authorization": f"Bearer {sb.tokens['admin']}", "Content-Type": ctype, "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=sb.ca_path), timeout=30) as r:
            code, headers, out = r.status, r.headers, r.read()
    except urllib.error.HTTPError as err:
        code, headers, out = err.code, err.headers, err.read()
    return code, headers.get_all("Warning") or [], json.loads(out) if out else None


def vi(name: str, checksum: dict | None = None, **extra: Any) -> dict:
    http: dict[str, Any] = {"url": "https://example.com/disk.qcow2"}
    if checksum:
        http["checksum"] = checksum
    return {"apiVersion": GROUP, "kind": "VirtualImage", "metadata": {"name": name},
            "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": http}, **extra}}


def coll(ns: str, fv: str | None = None, dry: bool = False) -> str:
    q = [f"fieldValidation={fv}"] if fv else []
    q += ["dryRun=All"] if dry else []
    return f"/apis/{GROUP}/namespaces/{ns}/virtualimages" + ("?" + "&".join(q) if q else "")


def one(ns: str, name: str, fv: str | None = None, extra: str = "") -> str:
    q = "&".join(filter(None, [f"fieldValidation={fv}" if fv else "", extra]))
    return f"/apis/{GROUP}/namespaces/{ns}/virtualimages/{name}" + (f"?{q}" if q else "")


def warning(text: str) -> str:
    return '299 - "' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# -- create ---------------------------------------------------------------------------------------------
def test_the_three_modes_on_create(line_sandbox: Sandbox, line_ns: str) -> None:
    unknown = {"sha256": SHA256, "sha3": "ab"}          # sha3 is unknown on both lines
    code, warns, out = call(line_sandbox, "POST", coll(line_ns, "Strict"), vi("s", unknown))
    assert (code, warns) == (400, [])
    assert out["reason"] == "BadRequest" and out["code"] == 400
    assert out["message"] == CANNOT + 'unknown field "spec.dataSource.http.checksum.sha3"'
    assert call(line_sandbox, "GET", one(line_ns, "s"))[0] == 404          # nothing stored

    code, warns, out = call(line_sandbox, "POST", coll(line_ns), vi("w", unknown))   # no directive: Warn
    assert code == 201
    assert warns == [warning('unknown field "spec.dataSource.http.checksum.sha3"')]
    assert warns == ['299 - "unknown field \\"spec.dataSource.http.checksum.sha3\\""']
    assert out["spec"]["dataSource"]["http"]["checksum"] == {"sha256": SHA256}   # dropped

    code, warns, out = call(line_sandbox, "POST", coll(line_ns, "Warn"), vi("w2", unknown))
    assert code == 201 and len(warns) == 1

    code, warns, out = call(line_sandbox, "POST", coll(line_ns, "Ignore"), vi("i", unknown))
    assert (code, warns) == (201, [])
    assert out["spec"]["dataSource"]["http"]["checksum"] == {"sha256": SHA256}


def test_several_unknown_and_duplicate_fields(line_sandbox: Sandbox, line_ns: str) -> None:
    body = vi("many", {"sha3": "ab", "md4": "cd"}, zeta=1, alpha=2)
    raw = json.dumps(body).replace('"storage": "ContainerRegistry"',
                                   '"storage": "ContainerRegistry", "storage": "ContainerRegistry"').encode()
    code, warns, out = call(line_sandbox, "POST", coll(line_ns, "Strict"), raw=raw)
    found = ['duplicate field "spec.storage"', 'unknown field "spec.alpha"',
             'unknown field "spec.dataSource.http.checksum.md4"', 'unknown field "spec.dataSource.http.checksum.sha3"',
             'unknown field "spec.zeta"']
    assert code == 400 and out["message"] == CANNOT + ", ".join(found)
    code, warns, _ = call(line_sandbox, "POST", coll(line_ns, "Warn"), raw=raw)
    assert code == 201 and warns == [warning(f) for f in found]            # one header per finding


@pytest.mark.parametrize("dry", [False, True])
def test_sha512_and_upload_checksum_exist_only_on_dev(line_sandbox: Sandbox, line_ns: str, dry: bool) -> None:
    upload = {"apiVersion": GROUP, "kind": "VirtualImage", "metadata": {"name": "up"},
              "spec": {"storage": "ContainerRegistry",
                       "dataSource": {"type": "Upload", "upload": {"checksum": {"sha256": SHA256}}}}}
    http = call(line_sandbox, "POST", coll(line_ns, "Strict", dry), vi("h", {"sha512": SHA512}))
    up = call(line_sandbox, "POST", coll(line_ns, "Strict", dry), upload)
    if line_sandbox.platform == "dev":
        assert (http[0], up[0]) == (201, 201)
        assert http[2]["spec"]["dataSource"]["http"]["checksum"] == {"sha512": SHA512}
    else:
        assert (http[0], up[0]) == (400, 400)
        assert http[2]["message"] == CANNOT + 'unknown field "spec.dataSource.http.checksum.sha512"'
        assert up[2]["message"] == CANNOT + 'unknown field "spec.dataSource.upload"'
        code, warns, out = call(line_sandbox, "POST", coll(line_ns, None, dry), vi("h", {"sha512": SHA512}))
        assert code == 201 and warns == [warning('unknown field "spec.dataSource.http.checksum.sha512"')]
        assert out["spec"]["dataSource"]["http"]["checksum"] == {}


# -- update, patch, apply --------------------------------------------------------------------------------
def test_update_and_patches(line_sandbox: Sandbox, line_ns: str) -> None:
    code, _, live = call(line_sandbox, "POST", coll(line_ns), vi("u"))
    assert code == 201
    put = json.loads(json.dumps(live))
    put["spec"]["dataSource"]["http"]["checksum"] = {"sha3": "ab"}
    code, _, out = call(line_sandbox, "PUT", one(line_ns, "u", "Strict"), put)
    assert code == 400 and out["message"] == CANNOT + 'unknown field "spec.dataSource.http.checksum.sha3"'
    code, warns, _ = call(line_sandbox, "PUT", one(line_ns, "u"), put)
    assert code == 200 and warns == [warning('unknown field "spec.dataSource.http.checksum.sha3"')]

    merge = {"spec": {"dataSource": {"http": {"checksum": {"sha3": "ab"}}}}}
    code, _, out = call(line_sandbox, "PATCH", one(line_ns, "u", "Strict"), merge, "application/merge-patch+json")
    assert code == 422 and out["reason"] == "Invalid"
    assert out["message"].startswith(' "" is invalid: patch: Invalid value: "{')
    assert out["message"].endswith('": strict decoding error: unknown field "spec.dataSource.http.checksum.sha3"')
    assert out["details"]["causes"][0]["field"] == "patch"
    code, warns, _ = call(line_sandbox, "PATCH", one(line_ns, "u", "Warn"), merge, "application/merge-patch+json")
    assert code == 200 and warns == [warning('unknown field "spec.dataSource.http.checksum.sha3"')]
    code, warns, _ = call(line_sandbox, "PATCH", one(line_ns, "u", "Ignore"), merge, "application/merge-patch+json")
    assert (code, warns) == (200, [])

    ops = [{"op": "add", "path": "/spec/zeta", "value": 1, "foo": "bar"}]
    code, _, out = call(line_sandbox, "PATCH", one(line_ns, "u", "Strict"), ops, "application/json-patch+json")
    assert code == 422 and out["message"].endswith(
        '": strict decoding error: json patch unknown field "[0].foo", unknown field "spec.zeta"')


def test_server_side_apply_refuses_unknown_fields_whatever_the_directive(line_sandbox: Sandbox,
                                                                          line_ns: str) -> None:
    body = vi("a", {"sha3": "ab"})
    body["metadata"]["namespace"] = line_ns
    for fv in ("Strict", "Warn", "Ignore"):
        code, _, out = call(line_sandbox, "PATCH", one(line_ns, "a", fv, "fieldManager=t&dryRun=All"), body,
                            "application/apply-patch+yaml")
        assert code == 500 and "reason" not in out
        assert out["message"] == (f"failed to create typed patch object ({line_ns}/a; {GROUP}, Kind=VirtualImage): "
                                  ".spec.dataSource.http.checksum.sha3: field not declared in schema")
    assert call(line_sandbox, "GET", one(line_ns, "a"))[0] == 404
    body["spec"]["zeta"] = 1
    _, _, out = call(line_sandbox, "PATCH", one(line_ns, "a", None, "fieldManager=t"), body,
                     "application/apply-patch+yaml")
    assert out["message"].endswith("): errors:\n  .spec.dataSource.http.checksum.sha3: field not declared in "
                                   "schema\n  .spec.zeta: field not declared in schema")


# -- warnings -------------------------------------------------------------------------------------------
def test_deprecated_storage_warns_on_both_lines(line_sandbox: Sandbox, line_ns: str) -> None:
    """vi webhook (identical in v1.10.2 and main): a warning on CREATE with storage Kubernetes."""
    code, warns, _ = call(line_sandbox, "POST", coll(line_ns, "Strict"), vi("k", storage="Kubernetes"))
    assert code == 201
    assert warns == [warning("Using the `Kubernetes` storage type is deprecated. It is recommended to use "
                             "`PersistentVolumeClaim` instead.")]


# -- which line runs --------------------------------------------------------------------------------------
def test_the_line_is_visible(line_sandbox: Sandbox) -> None:
    code, _, info = call(line_sandbox, "GET", "/sandbox/info")
    assert code == 200 and info["platform"] == line_sandbox.platform
    assert info["release"] == ("main" if line_sandbox.platform == "dev" else "v1.10.2")
    assert f"platform     {line_sandbox.platform} (DVP {info['release']})" in supervisor.status(line_sandbox.state)
    env = open(line_sandbox.env_path).read()
    assert f"export DVP_SANDBOX_PLATFORM='{line_sandbox.platform}'" in env
    # the OpenAPI document kubectl reads is the line's
    doc = call(line_sandbox, "GET", f"/openapi/v3/apis/{GROUP}")[2]
    checksum = doc["components"]["schemas"]["io.deckhouse.virtualization.v1alpha2.VirtualImage"]["properties"][
        "spec"]["properties"]["dataSource"]["properties"]["http"]["properties"]["checksum"]["properties"]
    assert ("sha512" in checksum) == (line_sandbox.platform == "dev")


def test_a_running_sandbox_keeps_its_line(api_sandbox_v110: Sandbox) -> None:
    assert "platform v1.10" in supervisor.up(api_sandbox_v110.state, supervisor.UpOptions(no_controller=True))
    with pytest.raises(supervisor.SandboxError, match="runs platform line v1.10; run `down`"):
        api_sandbox_v110.up(no_controller=True, platform="dev")
