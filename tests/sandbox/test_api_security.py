"""Bearer tokens (401), the viewer's read-only rights (403 wording), impersonation by admin."""
from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.dynamic.exceptions import ApiException

VI_API = "virtualization.deckhouse.io/v1alpha2"


def test_missing_or_wrong_token_is_401(api_sandbox: Any) -> None:
    import ssl
    import urllib.error
    import urllib.request
    ctx = ssl.create_default_context(cafile=api_sandbox.ca_path)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        req = urllib.request.Request(api_sandbox.api_url + "/api/v1/namespaces", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, context=ctx, timeout=5)
        body = json.loads(err.value.read())
        assert err.value.code == 401 and body["reason"] == "Unauthorized" and body["message"] == "Unauthorized"
    with urllib.request.urlopen(api_sandbox.api_url + "/version", context=ctx, timeout=5) as resp:
        assert json.loads(resp.read())["major"] == "1"        # public, as on a real cluster


def test_viewer_reads_but_cannot_write(api_sandbox: Any, api: Any, ns: str, vi: Any) -> None:
    _ = api.resources.get(api_version=VI_API, kind="VirtualImage").create(body=vi("r", ns), namespace=ns)
    viewer = api_sandbox.dynamic_client("viewer")
    res = viewer.resources.get(api_version=VI_API, kind="VirtualImage")
    assert res.get(name="r", namespace=ns).metadata.name == "r"
    with pytest.raises(ApiException) as err:
        res.delete(name="r", namespace=ns)
    body = json.loads(err.value.body)
    assert err.value.status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('virtualimages.virtualization.deckhouse.io "r" is forbidden: User '
                               '"viewer" cannot delete resource "virtualimages" in API group '
                               f'"virtualization.deckhouse.io" in the namespace "{ns}"')
    with pytest.raises(ApiException) as err:
        res.create(body=vi("new", ns), namespace=ns)
    assert json.loads(err.value.body)["message"] == (
        'virtualimages.virtualization.deckhouse.io is forbidden: User "viewer" cannot create '
        'resource "virtualimages" in API group "virtualization.deckhouse.io" in the namespace '
        f'"{ns}"')
    cvi = viewer.resources.get(api_version=VI_API, kind="ClusterVirtualImage")
    with pytest.raises(ApiException) as err:
        cvi.delete(name="x")
    assert json.loads(err.value.body)["message"].endswith(
        'cannot delete resource "clustervirtualimages" in API group '
        '"virtualization.deckhouse.io" at the cluster scope')
    code, _, _ = api_sandbox.request("GET", "/sandbox/audit", user="viewer")
    assert code == 403


def test_admin_impersonates_viewer_and_viewer_cannot_impersonate(api_sandbox: Any, ns: str) -> None:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "imp"}}
    code, _, out = api_sandbox.request("POST", path, body, headers={"Impersonate-User": "viewer"})
    assert code == 403 and 'User "viewer" cannot create resource "configmaps" in API group ""' in out["message"]
    code, _, _ = api_sandbox.request("GET", path, headers={"Impersonate-User": "viewer"})
    assert code == 200
    code, _, out = api_sandbox.request("GET", path, user="viewer", headers={"Impersonate-User": "admin"})
    assert code == 403
    assert out["message"] == ('users "admin" is forbidden: User "viewer" cannot impersonate resource '
                              '"users" in API group "" at the cluster scope')
    api_sandbox.clear_audit()
    api_sandbox.request("GET", path, headers={"Impersonate-User": "controller"})
    assert [e["user"] for e in api_sandbox.audit()] == ["controller"]
