"""Server-side apply: create, ownership, conflicts (409 unless force), removal of dropped fields."""
from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes.dynamic.exceptions import ApiException

VI_API = "virtualization.deckhouse.io/v1alpha2"
APPLY = "application/apply-patch+yaml"


def _vis(api: Any) -> Any:
    return api.resources.get(api_version=VI_API, kind="VirtualImage")


def test_apply_creates_then_updates_and_owns_fields(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    body = vi("a", ns, labels={"team": "x"})
    first = res.server_side_apply(body=body, name="a", namespace=ns, field_manager="ansible")
    assert first.metadata.uid and first.metadata.generation == 1
    managers = {(m.manager, m.operation) for m in first.metadata.managedFields}
    assert managers == {("ansible", "Apply")}
    fields = first.metadata.managedFields[0].fieldsV1.to_dict()
    assert "f:url" in fields["f:spec"]["f:dataSource"]["f:http"]
    again = res.server_side_apply(body=body, name="a", namespace=ns, field_manager="ansible")
    assert again.metadata.resourceVersion == first.metadata.resourceVersion      # no-op apply


def test_apply_conflict_then_force(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    res.server_side_apply(body=vi("c", ns), name="c", namespace=ns, field_manager="ansible")
    other = vi("c", ns, url="https://example.com/other.qcow2")
    with pytest.raises(ApiException) as err:
        res.patch(body=other, name="c", namespace=ns, content_type=APPLY, field_manager="someone")
    body = json.loads(err.value.body)
    assert err.value.status == 409 and body["reason"] == "Conflict"
    # an Apply manager is named alone; only Update managers get "using <apiVersion>" (as the real server)
    assert body["message"] == ('Apply failed with 1 conflict: conflict with "ansible": '
                               '.spec.dataSource.http.url')
    assert body["details"]["causes"][0]["field"] == ".spec.dataSource.http.url"
    forced = res.server_side_apply(body=other, name="c", namespace=ns, field_manager="someone",
                                   force_conflicts=True)
    assert forced.spec.dataSource.http.url == "https://example.com/other.qcow2"
    owners = {m.manager: m.fieldsV1.to_dict() for m in forced.metadata.managedFields}
    assert "f:url" not in owners.get("ansible", {}).get("f:spec", {}).get("f:dataSource", {}).get("f:http", {})


def test_same_value_is_shared_not_a_conflict(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    res.server_side_apply(body=vi("s", ns), name="s", namespace=ns, field_manager="one")
    out = res.server_side_apply(body=vi("s", ns), name="s", namespace=ns, field_manager="two")
    assert {m.manager for m in out.metadata.managedFields} == {"one", "two"}


def test_fields_dropped_from_the_apply_are_removed(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    res.server_side_apply(body=vi("d", ns, labels={"a": "1", "b": "2"}), name="d", namespace=ns,
                          field_manager="ansible")
    out = res.server_side_apply(body=vi("d", ns, labels={"a": "1"}), name="d", namespace=ns,
                                field_manager="ansible")
    assert out.metadata.labels.to_dict() == {"a": "1"}
    # a label another manager set by update survives an apply that never mentioned it
    res.patch(name="d", namespace=ns, content_type="application/merge-patch+json",
              body={"metadata": {"labels": {"keep": "yes"}}})
    out = res.server_side_apply(body=vi("d", ns), name="d", namespace=ns, field_manager="ansible")
    assert out.metadata.labels.to_dict() == {"keep": "yes"}


def test_apply_requires_field_manager(api_sandbox: Any, ns: str, vi: Any) -> None:
    path = f"/apis/{VI_API}/namespaces/{ns}/virtualimages/m"
    code, _, body = api_sandbox.request("PATCH", path, vi("m", ns),
                                        headers={"Content-Type": APPLY})
    assert code == 422
    assert body["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                               'value: is required for apply patch')
    yaml_body = (f"apiVersion: {VI_API}\nkind: VirtualImage\nmetadata:\n  name: m\nspec:\n"
                 f"  storage: ContainerRegistry\n  dataSource:\n    type: HTTP\n    http:\n"
                 f"      url: https://example.com/y.iso\n").encode()
    code, _, body = api_sandbox.request("PATCH", path + "?fieldManager=yaml", yaml_body,
                                        headers={"Content-Type": APPLY})
    assert code == 201 and body["spec"]["dataSource"]["http"]["url"].endswith("y.iso")
