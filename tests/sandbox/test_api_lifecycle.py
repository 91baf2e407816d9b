"""Finalizers and deletionTimestamp, namespace cascade, ownerReferences garbage collection."""
from __future__ import annotations

import time
from typing import Any, Callable

import pytest
from kubernetes.dynamic.exceptions import NotFoundError

VI_API = "virtualization.deckhouse.io/v1alpha2"
MERGE = "application/merge-patch+json"


def _vis(api: Any) -> Any:
    return api.resources.get(api_version=VI_API, kind="VirtualImage")


def _cms(api: Any) -> Any:
    return api.resources.get(api_version="v1", kind="ConfigMap")


def _gone(res: Any, name: str, ns: str | None = None) -> bool:
    try:
        res.get(name=name, namespace=ns) if ns else res.get(name=name)
    except NotFoundError:
        return True
    return False


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll the server's state until `check` holds (the collector runs asynchronously)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached within %.1fs" % timeout)
        time.sleep(0.05)


def test_finalizer_holds_object_until_removed(api: Any, ns: str, vi: Any) -> None:
    res = _vis(api)
    res.create(body=vi("f", ns, finalizers=["example.com/hold"]), namespace=ns)
    held = res.delete(name="f", namespace=ns)
    assert held.metadata.deletionTimestamp and held.metadata.generation == 2
    still = res.get(name="f", namespace=ns)
    assert still.metadata.deletionTimestamp and still.metadata.finalizers == ["example.com/hold"]
    with pytest.raises(Exception) as err:      # no new finalizers while deleting
        res.patch(name="f", namespace=ns, content_type=MERGE,
                  body={"metadata": {"finalizers": ["example.com/hold", "example.com/more"]}})
    assert getattr(err.value, "status", None) == 422
    res.patch(name="f", namespace=ns, content_type=MERGE, body={"metadata": {"finalizers": None}})
    assert _gone(res, "f", ns)


def test_namespace_delete_cascades(api: Any, api_sandbox: Any, vi: Any, cm: Any) -> None:
    nss = api.resources.get(api_version="v1", kind="Namespace")
    nss.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cascade"}})
    _vis(api).create(body=vi("img", "cascade", finalizers=["example.com/hold"]), namespace="cascade")
    _cms(api).create(body=cm("conf", "cascade"), namespace="cascade")
    out = nss.delete(name="cascade")
    assert out.status.phase == "Terminating"
    eventually(lambda: _gone(_cms(api), "conf", "cascade"))
    assert nss.get(name="cascade").status.phase == "Terminating"     # held by the image's finalizer
    assert _vis(api).get(name="img", namespace="cascade").metadata.deletionTimestamp
    _vis(api).patch(name="img", namespace="cascade", content_type=MERGE,
                    body={"metadata": {"finalizers": None}})
    eventually(lambda: _gone(nss, "cascade"))


def _owned_cm(cm: Any, name: str, ns: str, owner: Any) -> dict[str, Any]:
    body = cm(name, ns)
    body["metadata"]["ownerReferences"] = [{"apiVersion": VI_API, "kind": "VirtualImage",
                                            "name": owner.metadata.name, "uid": owner.metadata.uid,
                                            "blockOwnerDeletion": True}]
    return body


def test_owner_references_background_gc(api: Any, ns: str, vi: Any, cm: Any) -> None:
    owner = _vis(api).create(body=vi("owner", ns), namespace=ns)
    _cms(api).create(body=_owned_cm(cm, "dep", ns, owner), namespace=ns)
    _vis(api).delete(name="owner", namespace=ns)
    eventually(lambda: _gone(_cms(api), "dep", ns))


def test_owner_references_foreground_and_orphan(api: Any, ns: str, vi: Any, cm: Any) -> None:
    owner = _vis(api).create(body=vi("fg", ns), namespace=ns)
    dep = _owned_cm(cm, "fg-dep", ns, owner)
    dep["metadata"]["finalizers"] = ["example.com/hold"]
    _cms(api).create(body=dep, namespace=ns)
    out = _vis(api).delete(name="fg", namespace=ns, body={"propagationPolicy": "Foreground"})
    assert "foregroundDeletion" in out.metadata.finalizers
    eventually(lambda: bool(_cms(api).get(name="fg-dep", namespace=ns).metadata.deletionTimestamp))
    assert not _gone(_vis(api), "fg", ns)          # waits for its dependent
    _cms(api).patch(name="fg-dep", namespace=ns, content_type=MERGE, body={"metadata": {"finalizers": None}})
    eventually(lambda: _gone(_vis(api), "fg", ns))

    owner = _vis(api).create(body=vi("orph", ns), namespace=ns)
    _cms(api).create(body=_owned_cm(cm, "orph-dep", ns, owner), namespace=ns)
    _vis(api).delete(name="orph", namespace=ns, body={"propagationPolicy": "Orphan"})
    eventually(lambda: _gone(_vis(api), "orph", ns))
    kept = _cms(api).get(name="orph-dep", namespace=ns)
    assert not kept.metadata.ownerReferences
