"""Discovery, OpenAPI and Table answers as clients (DynamicClient, kubectl) expect them."""
from __future__ import annotations

from typing import Any

VI_API = "virtualization.deckhouse.io/v1alpha2"


def test_version_and_group_discovery(api_sandbox: Any) -> None:
    code, _, version = api_sandbox.request("GET", "/version")
    assert code == 200 and version["gitVersion"].startswith("v1.")
    _, _, apis = api_sandbox.request("GET", "/apis")
    names = {g["name"]: g["preferredVersion"]["version"] for g in apis["groups"]}
    assert names["virtualization.deckhouse.io"] == "v1alpha2" and names["storage.k8s.io"] == "v1"
    # kubectl asks for aggregated discovery first; the plain answer makes it fall back
    _, headers, _ = api_sandbox.request("GET", "/apis", headers={
        "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"})
    assert headers["Content-Type"].startswith("application/json")


def test_resource_lists_carry_crd_facts(api_sandbox: Any) -> None:
    _, _, lst = api_sandbox.request("GET", f"/apis/{VI_API}")
    by_name = {r["name"]: r for r in lst["resources"]}
    assert by_name["virtualimages"]["shortNames"] == ["vi"] and by_name["virtualimages"]["namespaced"]
    assert by_name["clustervirtualimages"]["shortNames"] == ["cvi"]
    assert not by_name["clustervirtualimages"]["namespaced"]
    assert by_name["virtualdisksnapshots"]["shortNames"][0] == "vdsnapshot"
    assert by_name["virtualmachines"]["categories"] == ["all", "virtualization"]
    assert by_name["virtualmachineoperations"]["shortNames"] == ["vmop"]
    assert by_name["virtualimages/status"]["verbs"] == ["get", "patch", "update"]
    assert set(by_name["virtualimages"]["verbs"]) >= {"create", "watch", "deletecollection", "patch"}
    _, _, core = api_sandbox.request("GET", "/api/v1")
    assert {"namespaces", "secrets", "persistentvolumeclaims", "events"} <= {r["name"] for r in core["resources"]}


def test_dynamic_client_discovers_kinds(api: Any) -> None:
    vi = api.resources.get(api_version=VI_API, kind="VirtualImage")
    assert vi.namespaced and vi.short_names == ["vi"] and vi.subresources.get("status")
    cvi = api.resources.get(api_version=VI_API, kind="ClusterVirtualImage")
    assert not cvi.namespaced
    sc = api.resources.get(api_version="storage.k8s.io/v1", kind="StorageClass").get(name="local-path")
    assert sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"] == "true"


def test_openapi_documents(api_sandbox: Any) -> None:
    _, _, root = api_sandbox.request("GET", "/openapi/v3")
    url = root["paths"][f"apis/{VI_API}"]["serverRelativeURL"]
    _, _, doc = api_sandbox.request("GET", url)
    patch_op = doc["paths"][f"/apis/{VI_API}/namespaces/{{namespace}}/virtualimages/{{name}}"]["patch"]
    assert "fieldValidation" in {p["name"] for p in patch_op["parameters"]}
    code, headers, _ = api_sandbox.request("GET", "/openapi/v2", headers={
        "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"})
    assert code == 200 and "protobuf" in headers["Content-Type"]


def test_table_answers_use_printer_columns(api_sandbox: Any, api: Any, ns: str, vi: Any) -> None:
    res = api.resources.get(api_version=VI_API, kind="VirtualImage")
    res.create(body=vi("t", ns), namespace=ns)
    res.status.patch(name="t", namespace=ns, content_type="application/merge-patch+json",
                     body={"status": {"phase": "Ready", "progress": "100%", "cdrom": False}})
    accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
    _, _, table = api_sandbox.request("GET", f"/apis/{VI_API}/namespaces/{ns}/virtualimages",
                                      headers={"Accept": accept})
    assert table["kind"] == "Table"
    cols = [c["name"] for c in table["columnDefinitions"]]
    assert cols[:4] == ["Name", "Phase", "CDROM", "Progress"] and cols[-1] == "Age"
    cells = table["rows"][0]["cells"]
    assert cells[:4] == ["t", "Ready", False, "100%"]
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
