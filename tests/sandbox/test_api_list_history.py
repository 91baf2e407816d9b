"""Lists read at a resourceVersion: the history (snapshots), resourceVersionMatch, continue at the first
page's snapshot, and the refusals, each as the reference API server (apiextensions-apiserver 0.36 on
etcd) answered the same request."""
from __future__ import annotations

import base64
import json
import uuid
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from sandbox.handle import Sandbox

GROUP_PATH = "/apis/virtualization.deckhouse.io/v1alpha2"
CONTINUE_TOO_OLD = ("The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter, or use the continue token in this response "
                    "to retrieve the remainder of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted between the time the first "
                    "chunk was returned and now may show up in the list.")


@pytest.fixture
def vins(api_sandbox: Sandbox, vi: Any) -> Iterator[str]:
    """A namespace holding VirtualImages i0..i3 (created in that order)."""
    ns = f"h-{uuid.uuid4().hex[:10]}"
    api_sandbox.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                       "metadata": {"name": ns}})
    for i in range(4):
        code, _, _ = api_sandbox.request("POST", f"{GROUP_PATH}/namespaces/{ns}/virtualimages", vi(f"i{i}", ns))
        assert code == 201
    yield ns
    api_sandbox.request("DELETE", f"/api/v1/namespaces/{ns}")


def _get(sb: Sandbox, ns: str, **params: str) -> tuple[int, Any]:
    query = "&".join(f"{k if k != 'cont' else 'continue'}={quote(v)}" for k, v in params.items())
    code, _, body = sb.request("GET", f"{GROUP_PATH}/namespaces/{ns}/virtualimages" + (f"?{query}" if query else ""))
    return code, body


def _names(body: Any) -> list[str]:
    return [i["metadata"]["name"] for i in body["items"]]


def _write_between(sb: Sandbox, ns: str, vi: Any) -> None:
    """Create i1a, delete i3, label i2: none of it may show in pages of an older snapshot."""
    base = f"{GROUP_PATH}/namespaces/{ns}/virtualimages"
    assert sb.request("POST", base, vi("i1a", ns))[0] == 201
    assert sb.request("DELETE", f"{base}/i3")[0] == 200
    code, _, _ = sb.request("PATCH", f"{base}/i2", {"metadata": {"labels": {"m": "1"}}},
                            headers={"Content-Type": "application/merge-patch+json"})
    assert code == 200


def test_continue_pages_read_the_first_pages_snapshot(api_sandbox: Sandbox, vins: str, vi: Any) -> None:
    code, page1 = _get(api_sandbox, vins, limit="2")
    assert code == 200 and _names(page1) == ["i0", "i1"] and page1["metadata"]["remainingItemCount"] == 2
    token = page1["metadata"]["continue"]
    # the token is kube-apiserver's: base64url JSON with the list's RV and the next key below the prefix
    decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    assert decoded == {"v": "meta.k8s.io/v1", "rv": int(page1["metadata"]["resourceVersion"]), "start": "i1\x00"}
    _write_between(api_sandbox, vins, vi)
    code, page2 = _get(api_sandbox, vins, limit="2", cont=token)
    assert code == 200 and _names(page2) == ["i2", "i3"]
    assert [i["metadata"].get("labels") for i in page2["items"]] == [None, None]
    assert page2["metadata"]["resourceVersion"] == page1["metadata"]["resourceVersion"]
    assert page2["metadata"]["continue"] == "" and "remainingItemCount" not in page2["metadata"]
    # a fresh list sees the writes
    assert _names(_get(api_sandbox, vins)[1]) == ["i0", "i1", "i1a", "i2"]


def test_list_at_exact_resource_version_is_the_snapshot(api_sandbox: Sandbox, vins: str, vi: Any) -> None:
    rv = _get(api_sandbox, vins)[1]["metadata"]["resourceVersion"]
    _write_between(api_sandbox, vins, vi)
    code, body = _get(api_sandbox, vins, resourceVersion=rv, resourceVersionMatch="Exact")
    assert code == 200 and _names(body) == ["i0", "i1", "i2", "i3"] and body["metadata"]["resourceVersion"] == rv
    # a resourceVersion with a limit and no match is exact too (and pages that snapshot)
    code, body = _get(api_sandbox, vins, resourceVersion=rv, limit="3")
    assert code == 200 and _names(body) == ["i0", "i1", "i2"] and body["metadata"]["remainingItemCount"] == 1
    # NotOlderThan (and a resourceVersion alone) answer the latest state
    for params in ({"resourceVersionMatch": "NotOlderThan"}, {}):
        code, body = _get(api_sandbox, vins, resourceVersion=rv, **params)
        assert code == 200 and _names(body) == ["i0", "i1", "i1a", "i2"]
        assert int(body["metadata"]["resourceVersion"]) > int(rv)
    # resourceVersion=0 is served whole: the watch cache ignores limit
    code, body = _get(api_sandbox, vins, resourceVersion="0", limit="2")
    assert code == 200 and _names(body) == ["i0", "i1", "i1a", "i2"] and body["metadata"]["continue"] == ""


def test_history_before_the_compaction_is_gone(api_sandbox: Sandbox, vins: str, vi: Any) -> None:
    code, page1 = _get(api_sandbox, vins, limit="2")
    rv, token = page1["metadata"]["resourceVersion"], page1["metadata"]["continue"]
    _write_between(api_sandbox, vins, vi)
    api_sandbox.compact()
    for params in ({"resourceVersionMatch": "Exact"}, {"limit": "2"}):
        code, body = _get(api_sandbox, vins, resourceVersion=rv, **params)
        assert code == 410 and body["reason"] == "Expired"
        assert body["message"] == "The resourceVersion for the provided list is too old."
        assert body["metadata"] == {}
    code, body = _get(api_sandbox, vins, limit="2", cont=token)
    assert (code, body["reason"], body["message"]) == (410, "Expired", CONTINUE_TOO_OLD)
    # the answer carries a token for the rest of the list at the latest state: rv -1, the same start key
    latest = body["metadata"]["continue"]
    assert json.loads(base64.urlsafe_b64decode(latest + "=" * (-len(latest) % 4))) == {
        "v": "meta.k8s.io/v1", "rv": -1, "start": "i1\x00"}
    assert latest == "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTEsInN0YXJ0IjoiaTFcdTAwMDAifQ"
    code, rest = _get(api_sandbox, vins, limit="2", cont=latest)
    assert code == 200 and _names(rest) == ["i1a", "i2"] and rest["metadata"]["continue"] == ""
    assert int(rest["metadata"]["resourceVersion"]) > int(rv)


def test_future_exact_resource_version(api_sandbox: Sandbox, vins: str) -> None:
    current = int(_get(api_sandbox, vins)[1]["metadata"]["resourceVersion"])
    want = current + 1000
    for params in ({"resourceVersionMatch": "Exact"}, {"limit": "1"}):
        code, body = _get(api_sandbox, vins, resourceVersion=str(want), **params)
        assert code == 504 and body["reason"] == "Timeout"
        assert body["message"] == f"Timeout: Too large resource version: {want}, current: {current}"
        # read from etcd: no retry hint (the watch cache's NotOlderThan wait gives one)
        assert body["details"] == {"causes": [{"reason": "ResourceVersionTooLarge",
                                               "message": "Too large resource version"}]}
    code, body = _get(api_sandbox, vins, resourceVersion=str(want), resourceVersionMatch="NotOlderThan")
    assert code == 504 and body["details"]["retryAfterSeconds"] == 1


def _invalid_list_options(body: Any) -> list[tuple[str, str]]:
    assert body["reason"] == "Invalid" and body["details"]["kind"] == "ListOptions"
    assert body["details"]["group"] == "meta.k8s.io" and "name" not in body["details"]
    return [(c["reason"], c["message"]) for c in body["details"]["causes"]]


def test_resource_version_match_validation(api_sandbox: Sandbox, vins: str) -> None:
    code, body = _get(api_sandbox, vins, resourceVersionMatch="Exact")
    assert code == 422 and body["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is '
        'forbidden unless resourceVersion is provided')
    code, body = _get(api_sandbox, vins, resourceVersion="1", resourceVersionMatch="Bogus")
    assert code == 422 and _invalid_list_options(body) == [
        ("FieldValueNotSupported", 'Unsupported value: "Bogus": supported values: "Exact", "NotOlderThan", ""')]
    code, body = _get(api_sandbox, vins, resourceVersion="0", resourceVersionMatch="Exact")
    assert code == 422 and _invalid_list_options(body) == [
        ("FieldValueForbidden", 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"')]
    code, body = _get(api_sandbox, vins, resourceVersionMatch="Exact", cont="abc")
    assert code == 422 and body["message"] == (
        'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden '
        'unless resourceVersion is provided, resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden '
        'when continue is provided]')
    code, body = _get(api_sandbox, vins, watch="true", resourceVersion="1", resourceVersionMatch="NotOlderThan",
                      timeoutSeconds="1")
    assert code == 422 and _invalid_list_options(body) == [
        ("FieldValueForbidden", "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents "
                                "is provided")]


def test_parameter_refusals(api_sandbox: Sandbox, vins: str) -> None:
    code, body = _get(api_sandbox, vins, limit="abc")
    assert (code, body["message"]) == (400, 'strconv.ParseInt: parsing "abc": invalid syntax')
    code, body = _get(api_sandbox, vins, resourceVersion="abc")
    assert (code, body["reason"], body["message"]) == (
        400, "BadRequest",
        'invalid resource version: resourceVersion: Invalid value: "abc": strconv.ParseUint: parsing "abc": '
        'invalid syntax')
    # a watch hands the storage error up unconverted: 500 without a reason, before any event
    code, body = _get(api_sandbox, vins, watch="true", resourceVersion="-1", timeoutSeconds="1")
    assert code == 500 and "reason" not in body and body["message"] == (
        'resourceVersion: Invalid value: "-1": strconv.ParseUint: parsing "-1": invalid syntax')


@pytest.mark.parametrize("token,detail", [
    ("garbage", "invalid character '\\u0081' looking for beginning of value"),
    ("YQ", "invalid character 'a' looking for beginning of value"),
    ("!!!", "illegal base64 data at input byte 0"),
    ("e30", "server does not recognize this encoded version "),
    ("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NX0", "encoded start key empty (version meta.k8s.io/v1)"),
    ("eyJ2IjoibWV0YS5rOHMuaW8vdjIiLCJydiI6NSwic3RhcnQiOiJhIn0",
     "server does not recognize this encoded version meta.k8s.io/v2"),
    ("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MCwic3RhcnQiOiJhIn0",
     "incorrect encoded start resourceVersion (version meta.k8s.io/v1)"),
    ("eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiIuLi9hIn0", "../a"),
])
def test_invalid_continue_tokens(api_sandbox: Sandbox, vins: str, token: str, detail: str) -> None:
    code, body = _get(api_sandbox, vins, limit="2", cont=token)
    assert (code, body["reason"]) == (400, "BadRequest")
    assert body["message"] == f"invalid continue token: continue key is not valid: {detail}"


def test_continue_with_a_resource_version(api_sandbox: Sandbox, vins: str) -> None:
    token = _get(api_sandbox, vins, limit="2")[1]["metadata"]["continue"]
    code, body = _get(api_sandbox, vins, limit="2", resourceVersion="5", cont=token)
    assert (code, body["message"]) == (400, "specifying resource version is not allowed when using continue")
    assert _get(api_sandbox, vins, limit="2", resourceVersion="0", cont=token)[0] == 200


def test_a_page_ends_where_the_keys_end_not_the_matches(api_sandbox: Sandbox, vins: str) -> None:
    """With a selector, a full page has a continue token whenever any key follows its last item (etcd
    and the watch cache both look past the selection), and no remainingItemCount."""
    base = f"{GROUP_PATH}/namespaces/{vins}/virtualimages"
    api_sandbox.request("PATCH", f"{base}/i0", {"metadata": {"labels": {"pick": "y"}}},
                        headers={"Content-Type": "application/merge-patch+json"})
    code, body = _get(api_sandbox, vins, limit="1", labelSelector="pick")
    assert code == 200 and _names(body) == ["i0"] and body["metadata"]["continue"]
    assert "remainingItemCount" not in body["metadata"]
    code, body = _get(api_sandbox, vins, limit="1", labelSelector="pick", cont=body["metadata"]["continue"])
    assert code == 200 and _names(body) == [] and body["metadata"]["continue"] == ""


def test_cross_namespace_lists_are_ordered_by_storage_key(api_sandbox: Sandbox, vi: Any) -> None:
    """etcd orders keys byte-wise: "<ns>/<name>", so namespace "p-x" sorts before "p" + "/"."""
    stem = f"o{uuid.uuid4().hex[:6]}"
    spaces = [stem, f"{stem}-x"]
    for ns in spaces:
        api_sandbox.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                           "metadata": {"name": ns}})
        api_sandbox.request("POST", f"{GROUP_PATH}/namespaces/{ns}/virtualimages",
                            vi("a", ns, labels={"stem": stem}))
    try:
        code, _, body = api_sandbox.request("GET", f"{GROUP_PATH}/virtualimages?labelSelector=stem%3D{stem}")
        assert code == 200
        assert [i["metadata"]["namespace"] for i in body["items"]] == [f"{stem}-x", stem]
    finally:
        for ns in spaces:
            api_sandbox.request("DELETE", f"/api/v1/namespaces/{ns}")
