"""CRUD semantics through the unchanged kubernetes DynamicClient, and the exact error Statuses."""
from __future__ import annotations

from typing import Any

import pytest
from kubernetes.dynamic.exceptions import ApiException

VI_API = "virtualization.deckhouse.io/v1alpha2"


def _vis(api: Any) -> Any:
    return api.resources.get(api_version=VI_API, kind="VirtualImage")


def _cms(api: Any) -> Any:
    return api.resources.get(api_version="v1", kind="ConfigMap")


def _status(exc: ApiException) -> dict[str, Any]:
    import json
    return json.loads(exc.body)


def test_create_get_list_delete_roundtrip(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    created = res.create(body=vi("one", ns), namespace=ns)
    md = created.metadata
    assert md.uid and md.creationTimestamp and md.generation == 1 and int(md.resourceVersion) > 0
    got = res.get(name="one", namespace=ns)
    assert got.metadata.uid == md.uid
    listed = res.get(namespace=ns)
    assert [i.metadata.name for i in listed.items] == ["one"]
    assert int(listed.metadata.resourceVersion) >= int(md.resourceVersion)
    deleted = res.delete(name="one", namespace=ns)
    assert deleted.status == "Success" and deleted.details.uid == md.uid
    with pytest.raises(ApiException) as err:
        res.get(name="one", namespace=ns)
    body = _status(err.value)
    assert err.value.status == 404 and body["reason"] == "NotFound"
    assert body["message"] == 'virtualimages.virtualization.deckhouse.io "one" not found'


def test_already_exists_and_generate_name(api: Any, ns: str, cm: Any) -> None:
    res = _cms(api)
    res.create(body=cm("dup", ns), namespace=ns)
    with pytest.raises(ApiException) as err:
        res.create(body=cm("dup", ns), namespace=ns)
    assert err.value.status == 409
    assert _status(err.value)["message"] == 'configmaps "dup" already exists'
    body = cm("", ns)
    del body["metadata"]["name"]
    body["metadata"]["generateName"] = "gen-"
    made = res.create(body=body, namespace=ns)
    assert made.metadata.name.startswith("gen-") and len(made.metadata.name) == 9


def test_update_conflict_on_stale_resource_version(api: Any, ns: str, cm: Any) -> None:
    res = _cms(api)
    first = res.create(body=cm("c", ns), namespace=ns).to_dict()
    newer = dict(first, data={"k": "v2"})
    updated = res.replace(body=newer, namespace=ns)
    assert int(updated.metadata.resourceVersion) > int(first["metadata"]["resourceVersion"])
    stale = dict(first, data={"k": "v3"})            # still carries the old resourceVersion
    with pytest.raises(ApiException) as err:
        res.replace(body=stale, namespace=ns)
    body = _status(err.value)
    assert err.value.status == 409 and body["reason"] == "Conflict"
    assert body["message"] == ('Operation cannot be fulfilled on configmaps "c": the object has '
                               'been modified; please apply your changes to the latest version and '
                               'try again')
    # a merge patch carrying a stale resourceVersion conflicts as well
    with pytest.raises(ApiException) as err:
        res.patch(name="c", namespace=ns, content_type="application/merge-patch+json",
                  body={"metadata": {"resourceVersion": first["metadata"]["resourceVersion"]},
                        "data": {"k": "v4"}})
    assert err.value.status == 409


def test_custom_resource_update_needs_resource_version(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    res.create(body=vi("rv", ns), namespace=ns)
    with pytest.raises(ApiException) as err:
        res.replace(body=vi("rv", ns), namespace=ns)
    body = _status(err.value)
    assert err.value.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "metadata.resourceVersion"


def test_generation_moves_only_on_spec_changes(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    res.create(body=vi("g", ns), namespace=ns)
    merge = "application/merge-patch+json"
    labelled = res.patch(name="g", namespace=ns, content_type=merge,
                         body={"metadata": {"labels": {"a": "b"}}})
    assert labelled.metadata.generation == 1
    changed = res.patch(name="g", namespace=ns, content_type=merge,
                        body={"spec": {"dataSource": {"http": {"url": "https://example.com/x.img"}}}})
    assert changed.metadata.generation == 2
    again = res.patch(name="g", namespace=ns, content_type=merge,
                      body={"spec": {"dataSource": {"http": {"url": "https://example.com/x.img"}}}})
    assert again.metadata.generation == 2
    assert again.metadata.resourceVersion == changed.metadata.resourceVersion   # a no-op write


def test_generation_ignores_defaulted_and_pruned_fields(api: Any, ns: str, vi: Any) -> None:
    """A PUT that omits a defaulted field or carries a pruned one does not change the spec."""
    res = _vis(api)
    created = res.create(body=vi("gd", ns), namespace=ns).to_dict()
    body = {k: created[k] for k in ("apiVersion", "kind", "metadata")}
    body["spec"] = {"dataSource": created["spec"]["dataSource"], "unknownField": "x"}   # storage omitted
    put = api.request("PUT", f"/apis/virtualization.deckhouse.io/v1alpha2/namespaces/{ns}/virtualimages/gd",
                      body=body, query_params=[("fieldValidation", "Ignore")])
    assert put.spec.storage == "ContainerRegistry"
    assert put.metadata.generation == 1


def test_status_subresource_split(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    body = vi("s", ns)
    body["status"] = {"phase": "Ready"}
    created = res.create(body=body, namespace=ns)
    assert "status" not in created.to_dict() or not created.to_dict().get("status")
    st = res.status.patch(name="s", namespace=ns, content_type="application/merge-patch+json",
                          body={"status": {"phase": "Pending"},
                                "spec": {"storage": "PersistentVolumeClaim"}})
    assert st.status.phase == "Pending" and st.spec.storage == "ContainerRegistry"
    assert st.metadata.generation == 1
    main = res.patch(name="s", namespace=ns, content_type="application/merge-patch+json",
                     body={"status": {"phase": "Ready"}})
    assert main.status.phase == "Pending"


def test_patch_kinds(api: Any, ns: str, vi: Any, cm: Any) -> None:
    res = _vis(api)
    res.create(body=vi("p", ns), namespace=ns)
    out = res.patch(name="p", namespace=ns, content_type="application/json-patch+json",
                    body=[{"op": "add", "path": "/metadata/labels", "value": {"x": "1"}},
                          {"op": "replace", "path": "/spec/storage", "value": "PersistentVolumeClaim"}])
    assert out.metadata.labels.x == "1" and out.spec.storage == "PersistentVolumeClaim"
    with pytest.raises(ApiException) as err:
        res.patch(name="p", namespace=ns, content_type="application/strategic-merge-patch+json",
                  body={"metadata": {"labels": {"y": "2"}}})
    body = _status(err.value)
    assert err.value.status == 415 and body["reason"] == "UnsupportedMediaType"
    assert body["message"] == ("the body of the request was in an unknown format - accepted media "
                               "types include: application/json-patch+json, "
                               "application/merge-patch+json, application/apply-patch+yaml")
    cms = _cms(api)
    cms.create(body=cm("smp", ns), namespace=ns)
    patched = cms.patch(name="smp", namespace=ns, body={"data": {"extra": "1"}})   # strategic
    assert patched.data.extra == "1" and patched.data.k == "v"


def test_dry_run_stores_nothing(api: Any, api_sandbox: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    before = res.get(namespace=ns).metadata.resourceVersion
    out = res.create(body=vi("dry", ns), namespace=ns, query_params=[("dryRun", "All")])
    assert out.metadata.name == "dry" and out.metadata.uid
    with pytest.raises(ApiException):
        res.get(name="dry", namespace=ns)
    res.create(body=vi("wet", ns), namespace=ns)
    rv = res.get(name="wet", namespace=ns).metadata.resourceVersion
    res.patch(name="wet", namespace=ns, content_type="application/merge-patch+json",
              body={"metadata": {"labels": {"z": "1"}}}, query_params=[("dryRun", "All")])
    res.delete(name="wet", namespace=ns, query_params=[("dryRun", "All")])
    still = res.get(name="wet", namespace=ns)
    assert still.metadata.resourceVersion == rv and not (still.metadata.labels or {})
    assert int(before) < int(rv)
    code, _, body = api_sandbox.request("POST", f"/api/v1/namespaces/{ns}/configmaps?dryRun=Sure",
                                        {"apiVersion": "v1", "kind": "ConfigMap",
                                         "metadata": {"name": "x"}})
    # as kube-apiserver: the options object is invalid (422 on CreateOptions.meta.k8s.io)
    assert code == 422 and body["reason"] == "Invalid"
    assert body["details"] == {"group": "meta.k8s.io", "kind": "CreateOptions", "causes": [
        {"reason": "FieldValueNotSupported", "field": "dryRun",
         "message": 'Unsupported value: []string{"Sure"}: supported values: "All"'}]}


def test_invalid_names_and_bodies(api_sandbox: Any, ns: str) -> None:
    code, _, body = api_sandbox.request("POST", "/api/v1/namespaces",
                                        {"apiVersion": "v1", "kind": "Namespace",
                                         "metadata": {"name": "Bad_Name"}})
    assert code == 422 and body["reason"] == "Invalid"
    assert body["message"].startswith('Namespace "Bad_Name" is invalid: metadata.name: Invalid value: '
                                      '"Bad_Name": a lowercase RFC 1123 label must consist of')
    assert body["details"]["causes"][0]["field"] == "metadata.name"
    code, _, body = api_sandbox.request(
        "POST", f"/api/v1/namespaces/{ns}/configmaps",
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "other"}})
    assert code == 400 and body["reason"] == "BadRequest"
    code, _, body = api_sandbox.request("POST", f"/api/v1/namespaces/{ns}/configmaps/a",
                                        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}})
    assert code == 405 and body["reason"] == "MethodNotAllowed"
    code, _, body = api_sandbox.request("GET", "/apis/virtualization.deckhouse.io/v1alpha2/nothings")
    assert code == 404 and body["reason"] == "NotFound"


def test_namespace_missing_or_terminating(api: Any, api_sandbox: Any, vi: Any) -> None:
    res = _vis(api)
    with pytest.raises(ApiException) as err:
        res.create(body=vi("x", "no-such-ns"), namespace="no-such-ns")
    assert err.value.status == 404
    assert _status(err.value)["message"] == 'namespaces "no-such-ns" not found'
    # a namespace held by content with a finalizer stays Terminating
    api_sandbox.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": "term-ns"}})
    held = vi("held", "term-ns", finalizers=["test/hold"])
    res.create(body=held, namespace="term-ns")
    api_sandbox.request("DELETE", "/api/v1/namespaces/term-ns")
    with pytest.raises(ApiException) as err:
        res.create(body=vi("late", "term-ns"), namespace="term-ns")
    body = _status(err.value)
    assert err.value.status == 403 and body["reason"] == "Forbidden"
    assert body["message"] == ('virtualimages.virtualization.deckhouse.io "late" is forbidden: unable '
                               'to create new content in namespace term-ns because it is being '
                               'terminated')
    res.patch(name="held", namespace="term-ns", content_type="application/merge-patch+json",
              body={"metadata": {"finalizers": None}})


def test_admission_warnings_become_warning_headers(api_sandbox: Any, ns: str, vi: Any) -> None:
    body = vi("warned", ns)
    body["spec"]["bogus"] = 1
    path = f"/apis/{VI_API}/namespaces/{ns}/virtualimages"
    code, headers, out = api_sandbox.request("POST", path + "?fieldValidation=Warn", body)
    assert code == 201 and "bogus" not in out["spec"]
    assert headers["Warning"].startswith('299 - "') and "spec.bogus" in headers["Warning"]
    body["metadata"]["name"] = "strict"
    code, _, out = api_sandbox.request("POST", path + "?fieldValidation=Strict", body)
    assert code == 400 and "spec.bogus" in out["message"]


def test_deletecollection_with_selector(api: Any, ns: str, cm: Any) -> None:
    res = _cms(api)
    for name, labels in (("x1", {"g": "a"}), ("x2", {"g": "a"}), ("x3", {"g": "b"})):
        res.create(body=cm(name, ns, labels=labels), namespace=ns)
    out = res.delete(namespace=ns, label_selector="g=a")
    assert sorted(i.metadata.name for i in out.items) == ["x1", "x2"]
    assert [i.metadata.name for i in res.get(namespace=ns).items] == ["x3"]


def test_system_namespaces_cannot_be_deleted(api_sandbox: Any) -> None:
    code, _, body = api_sandbox.request("DELETE", "/api/v1/namespaces/default")
    assert code == 403 and body["message"] == ('namespaces "default" is forbidden: this namespace '
                                               'may not be deleted')


def test_delete_options_come_from_the_body_when_there_is_one(api: Any, api_sandbox: Any, ns: str, vi: Any) -> None:
    """As kube-apiserver: a DELETE with a body takes dryRun (and propagationPolicy) from the body alone, so a
    dryRun in the query of such a request is ignored and the object deleted (found against the real server)."""
    res = _vis(api)
    path = f"/apis/{VI_API}/namespaces/{ns}/virtualimages"
    for name in ("kept", "gone", "queried"):
        res.create(body=vi(name, ns), namespace=ns)
    options = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
    code, _, _ = api_sandbox.request("DELETE", f"{path}/kept", dict(options, dryRun=["All"]))
    assert code == 200 and res.get(name="kept", namespace=ns).metadata.name == "kept"
    code, _, _ = api_sandbox.request("DELETE", f"{path}/gone?dryRun=All", options)
    assert code == 200
    with pytest.raises(ApiException):
        res.get(name="gone", namespace=ns)
    code, _, _ = api_sandbox.request("DELETE", f"{path}/queried?dryRun=All")  # no body: the query counts
    assert code == 200 and res.get(name="queried", namespace=ns).metadata.name == "queried"
    deletes = {e["name"]: e["dryRun"] for e in api_sandbox.audit() if e.get("method") == "DELETE"
               and e.get("namespace") == ns}
    assert deletes == {"kept": True, "gone": False, "queried": True}  # the audit says what the server did
