"""Answers matched to the reference API server (apiextensions-apiserver 0.36 with the platform CRDs):
finalizer causes and ownership, the decoder's refusals in Go's words, JSON patch failures, label
selector syntax, apply type checks, status validation and metadata immutability."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

import pytest
import yaml

from sandbox.handle import Sandbox

GROUP = "virtualization.deckhouse.io"
MERGE = {"Content-Type": "application/merge-patch+json"}
JSON_PATCH = {"Content-Type": "application/json-patch+json"}
APPLY = {"Content-Type": "application/apply-patch+yaml"}
REJECTED = "the server rejected our request due to an error in our request"
FIN_FORBIDDEN = ('Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers '
                 '[]string{"example.com/new"}')
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
                   "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  "
                   "or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def _vis(ns: str, name: str = "") -> str:
    return f"/apis/{GROUP}/v1alpha2/namespaces/{ns}/virtualimages" + (f"/{name}" if name else "")


def _create(sb: Sandbox, ns: str, body: dict[str, Any]) -> dict[str, Any]:
    code, _, out = sb.request("POST", _vis(ns), body)
    assert code == 201, out
    return out


def _with_warnings(sb: Sandbox, method: str, path: str, body: Any) -> tuple[int, list[str], Any]:
    """A request whose every Warning header is kept (Sandbox.request folds repeated headers)."""
    req = urllib.request.Request(sb.api_url + path, data=json.dumps(body).encode(), method=method, headers={
        "Authorization": f"Bearer {sb.tokens['admin']}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=sb.ca_path), timeout=30) as r:
            return r.status, r.headers.get_all("Warning") or [], json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get_all("Warning") or [], json.loads(err.read())


def _fields(obj: dict[str, Any], manager: str) -> dict[str, Any]:
    return next(e["fieldsV1"] for e in obj["metadata"]["managedFields"] if e["manager"] == manager)


# -- finalizers ---------------------------------------------------------------------------------------

def test_new_finalizer_on_a_deleting_object_is_reported_twice(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    """ObjectMeta's update checks run twice on a custom resource update (registry, then strategy): the
    cause appears twice in details.causes, once in the message."""
    _create(api_sandbox, ns, vi("fin", ns, finalizers=["example.com/hold"]))
    assert api_sandbox.request("DELETE", _vis(ns, "fin"))[0] == 200
    code, _, body = api_sandbox.request("PATCH", _vis(ns, "fin"), {"metadata": {"finalizers": [
        "example.com/hold", "example.com/new"]}}, headers=MERGE)
    assert code == 422 and body["reason"] == "Invalid"
    assert body["message"] == f'VirtualImage.{GROUP} "fin" is invalid: metadata.finalizers: {FIN_FORBIDDEN}'
    cause = {"reason": "FieldValueForbidden", "message": FIN_FORBIDDEN, "field": "metadata.finalizers"}
    assert body["details"]["causes"] == [cause, cause]
    # with a bad label too: ObjectMeta (label), then the update checks twice (finalizer, label)
    code, _, body = api_sandbox.request("PATCH", _vis(ns, "fin"), {"metadata": {
        "finalizers": ["example.com/hold", "example.com/new"], "labels": {"a": "-x-"}}}, headers=MERGE)
    label = {"reason": "FieldValueInvalid", "message": f'Invalid value: "-x-": {LABEL_VALUE_MSG}',
             "field": "metadata.labels"}
    assert code == 422 and body["details"]["causes"] == [label, cause, label, cause, label]
    assert body["message"] == (f'VirtualImage.{GROUP} "fin" is invalid: [metadata.labels: Invalid value: "-x-": '
                               f'{LABEL_VALUE_MSG}, metadata.finalizers: {FIN_FORBIDDEN}]')
    api_sandbox.request("PATCH", _vis(ns, "fin"), {"metadata": {"finalizers": None}}, headers=MERGE)


def test_metadata_and_schema_causes_come_in_one_answer(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    _create(api_sandbox, ns, vi("both", ns))
    code, _, body = api_sandbox.request("PATCH", _vis(ns, "both"), {"metadata": {"labels": {"a": "-x-"}},
                                                                    "spec": {"storage": "Bogus"}}, headers=MERGE)
    assert code == 422
    fields = [c["field"] for c in body["details"]["causes"]]
    assert fields[:4] == ["metadata.labels"] * 3 + ["spec.storage"]


def test_finalizers_are_a_set_in_managed_fields(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    created = _create(api_sandbox, ns, vi("mf", ns, finalizers=["example.com/a"]))
    manager = created["metadata"]["managedFields"][0]["manager"]
    assert _fields(created, manager)["f:metadata"] == {"f:finalizers": {".": {}, 'v:"example.com/a"': {}}}
    code, _, held = api_sandbox.request("DELETE", _vis(ns, "mf"))
    assert code == 200 and _fields(held, manager)["f:metadata"]["f:finalizers"] == {
        ".": {}, 'v:"example.com/a"': {}}
    # another manager adds an item: it owns that item alone
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "mf") + "?fieldManager=second", {"metadata": {
        "finalizers": ["example.com/a", "example.com/b"]}}, headers=MERGE)
    assert code == 422    # deleting: no new finalizers
    api_sandbox.request("PATCH", _vis(ns, "mf"), {"metadata": {"finalizers": None}}, headers=MERGE)

    _create(api_sandbox, ns, vi("mf2", ns, finalizers=["example.com/a"]))
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "mf2") + "?fieldManager=second", {"metadata": {
        "finalizers": ["example.com/a", "example.com/b"]}}, headers=MERGE)
    assert code == 200 and _fields(out, "second") == {"f:metadata": {"f:finalizers": {'v:"example.com/b"': {}}}}
    assert _fields(out, manager)["f:metadata"] == {"f:finalizers": {".": {}, 'v:"example.com/a"': {}}}
    # a third removes "a": the first keeps the list itself (written `{}` once it has no items of its own)
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "mf2") + "?fieldManager=third", {"metadata": {
        "finalizers": ["example.com/b"]}}, headers=MERGE)
    assert code == 200 and _fields(out, manager)["f:metadata"] == {"f:finalizers": {}}
    assert "third" not in [e["manager"] for e in out["metadata"]["managedFields"]]
    api_sandbox.request("PATCH", _vis(ns, "mf2"), {"metadata": {"finalizers": None}}, headers=MERGE)


def test_applied_finalizers_are_owned_item_by_item(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    def apply(manager: str, finalizers: list[str] | None) -> tuple[int, Any]:
        body = vi("ap", ns, **({"finalizers": finalizers} if finalizers is not None else {}))
        code, _, out = api_sandbox.request("PATCH", _vis(ns, "ap") + f"?fieldManager={manager}",
                                           yaml.safe_dump(body).encode(), headers=APPLY)
        return code, out

    code, out = apply("ap1", ["example.com/x"])
    assert code == 201 and _fields(out, "ap1")["f:metadata"] == {"f:finalizers": {'v:"example.com/x"': {}}}
    code, out = apply("ap2", ["example.com/y"])      # no conflict: a set, not an atomic list
    assert code == 200 and out["metadata"]["finalizers"] == ["example.com/x", "example.com/y"]
    assert _fields(out, "ap2")["f:metadata"] == {"f:finalizers": {'v:"example.com/y"': {}}}
    code, out = apply("ap1", None)                   # ap1 stops applying its item: it goes, ap2's stays
    assert code == 200 and out["metadata"]["finalizers"] == ["example.com/y"]
    assert "f:metadata" not in _fields(out, "ap1")
    code, out = apply("ap1", ["example.com/y", "example.com/x"])
    assert code == 200 and out["metadata"]["finalizers"] == ["example.com/y", "example.com/x"]
    api_sandbox.request("PATCH", _vis(ns, "ap"), {"metadata": {"finalizers": None}}, headers=MERGE)


# -- the decoder's refusals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw,detail", [
    (b'{"apiVersion": ', 'couldn\'t get version/kind; json parse error: unexpected end of JSON input '
                         '({"apiVersion": )'),
    (b"{not json", "couldn't get version/kind; json parse error: invalid character 'n' looking for beginning of "
                   "object key string ({not json)"),
    (b"[1,2", "couldn't get version/kind; json parse error: unexpected end of JSON input (5b312c32)"),
    (b'{"a":1}}', "couldn't get version/kind; json parse error: invalid character '}' after top-level value "
                  '({"a":1}})'),
    (b'{"a":NaN}', "couldn't get version/kind; json parse error: invalid character 'N' looking for beginning of "
                   'value ({"a":NaN})'),
    (b"", "couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)"),
    (b"null", "Object 'Kind' is missing in 'null' (6e756c6c)"),
    (b"[]", "couldn't get version/kind; json parse error: json: cannot unmarshal array into Go value of type "
            'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string '
            '"json:\\"kind,omitempty\\"" } (5b5d)'),
    (b'{"apiVersion":5}', "couldn't get version/kind; json parse error: json: cannot unmarshal number into Go "
                          'struct field .apiVersion of type string ({"apiVersion":5})'),
])
def test_a_body_that_does_not_decode(api_sandbox: Sandbox, ns: str, raw: bytes, detail: str) -> None:
    for method, path in (("POST", _vis(ns)), ("PUT", _vis(ns, "x"))):
        code, _, body = api_sandbox.request(method, path, raw)
        assert (code, body["reason"]) == (400, "BadRequest")
        assert body["message"] == f"the object provided is unrecognized (must be of type VirtualImage): {detail}"


def test_a_body_without_kind_is_quoted_as_sent(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    body = vi("nokind", ns)
    del body["kind"]
    raw = json.dumps(body, indent=1).encode()
    code, _, out = api_sandbox.request("POST", _vis(ns), raw)
    assert code == 400 and out["message"] == (
        f"the object provided is unrecognized (must be of type VirtualImage): Object 'Kind' is missing in "
        f"'{raw.decode()}' ({raw[:30].decode()} ...)")


def test_object_meta_of_the_wrong_type(api_sandbox: Sandbox, ns: str) -> None:
    for meta, detail in (('"x"', "json: cannot unmarshal string into Go value of type v1.ObjectMeta"),
                         ('{"name":["a"]}', "json: cannot unmarshal array into Go struct field ObjectMeta.name of "
                                            "type string"),
                         ('{"name":"a","labels":{"a":1}}', "json: cannot unmarshal number into Go struct field "
                                                           "ObjectMeta.labels of type string")):
        raw = f'{{"apiVersion":"{GROUP}/v1alpha2","kind":"VirtualImage","metadata":{meta},"spec":{{}}}}'
        code, _, out = api_sandbox.request("POST", _vis(ns), raw.encode())
        assert code == 400 and out["message"] == (
            f'VirtualImage in version "v1alpha2" cannot be handled as a VirtualImage: {detail}')


def test_another_version_of_the_group(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    """Decoded as that (unserved) version first: everything but apiVersion, kind and metadata is an
    unknown field, warned about or (Strict) refused."""
    body = dict(vi("wv", ns), apiVersion=f"{GROUP}/v9", status={"x": 1})
    code, warnings, out = _with_warnings(api_sandbox, "POST", _vis(ns), body)
    assert code == 400 and out["message"] == (f"the API version in the data ({GROUP}/v9) does not match the "
                                              f"expected API version ({GROUP}/v1alpha2)")
    assert warnings == ['299 - "unknown field \\"spec\\""', '299 - "unknown field \\"status\\""']
    code, _, out = api_sandbox.request("POST", _vis(ns) + "?fieldValidation=Strict", body)
    assert code == 400 and out["message"] == ('VirtualImage in version "v9" cannot be handled as a VirtualImage: '
                                              'strict decoding error: unknown field "spec", unknown field "status"')
    code, warnings, out = _with_warnings(api_sandbox, "POST", _vis(ns), dict(body, apiVersion="other.io/v1"))
    assert code == 400 and warnings == []


@pytest.mark.parametrize("raw,validation,code,message", [
    (b"{not json", "Warn", 400, "error decoding patch: invalid character 'n' looking for beginning of object key "
                                "string"),
    (b'{"a": tru}', "Strict", 400, "error decoding patch: invalid character '}' in literal true (expecting 'e')"),
    (b"{not json", "Ignore", 400, "Invalid JSON Patch"),
    (b"", "Warn", 400, "error decoding patch: unexpected end of JSON input"),
    (b"[1]", "Warn", 400, "error decoding patch: json: cannot unmarshal array into Go value of type "
                          "map[string]interface {}"),
    (b"null", "Warn", 400, "Invalid JSON Patch"),
])
def test_a_merge_patch_that_does_not_decode(api_sandbox: Sandbox, ns: str, vi: Any, raw: bytes, validation: str,
                                            code: int, message: str) -> None:
    _create(api_sandbox, ns, vi("mp", ns))
    got, _, out = api_sandbox.request("PATCH", _vis(ns, "mp") + f"?fieldValidation={validation}", raw,
                                      headers=MERGE)
    assert (got, out["message"]) == (code, message)


@pytest.mark.parametrize("raw,validation,message", [
    (b"[{", "Warn", "error decoding patch: unexpected end of JSON input"),
    (b"{not", "Ignore", "invalid character 'n' looking for beginning of object key string"),
    (b'{"op": "add"}', "Warn", "error decoding patch: json: cannot unmarshal object into Go value of type "
                               "[]handlers.jsonPatchOp"),
    (b'{"op": "add"}', "Ignore", "json: cannot unmarshal object into Go value of type jsonpatch.Patch"),
    (b"[1]", "Warn", "error decoding patch: json: cannot unmarshal number into Go value of type "
                     "handlers.jsonPatchOp"),
    (b'[{"op":5,"path":"/x"}]', "Strict", "error decoding patch: json: cannot unmarshal number into Go struct "
                                          "field jsonPatchOp.op of type string"),
])
def test_a_json_patch_that_does_not_decode(api_sandbox: Sandbox, ns: str, vi: Any, raw: bytes, validation: str,
                                           message: str) -> None:
    _create(api_sandbox, ns, vi("jd", ns))
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "jd") + f"?fieldValidation={validation}", raw,
                                       headers=JSON_PATCH)
    assert (code, out["reason"], out["message"]) == (400, "BadRequest", message)


@pytest.mark.parametrize("ops", [
    [{"op": "test", "path": "/metadata/name", "value": "zz"}],
    [{"op": "remove", "path": "/spec/nothing/here"}],
    [{"op": "replace", "path": "/spec/nope", "value": 1}],
    [{"op": "add", "path": "/spec/nope/x", "value": 1}],
    [{"op": "move", "from": "/spec/zz", "path": "/spec/yy"}],
    [{"op": "remove", "path": "spec"}],
])
def test_a_json_patch_that_does_not_apply(api_sandbox: Sandbox, ns: str, vi: Any, ops: list[Any]) -> None:
    """kube-apiserver answers a generic 422 (NewGenericServerResponse): empty details, no cause."""
    _create(api_sandbox, ns, vi("jp", ns))
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "jp"), ops, headers=JSON_PATCH)
    assert code == 422 and out == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                   "message": REJECTED, "reason": "Invalid", "details": {}, "code": 422}


@pytest.mark.parametrize("selector,message", [
    ("a b c", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
    ("a=b c", "found 'c', expected: ',' or 'end of string'"),
    ("a in b", "unable to parse requirement: found 'b' expected: '('"),
    ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
    ("a in (b,", "unable to parse requirement: found '', expected: ',', or identifier"),
    ("!", "unable to parse requirement: found '', expected: identifier"),
    ("a,", "found '', expected: identifier after ','"),
    (",a", "found ',', expected: !, identifier, or 'end of string'"),
    ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
    ("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value "
            "must be an integer"),
    ("-a", "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric "
           "characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
           "'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"),
])
def test_label_selector_syntax(api_sandbox: Sandbox, ns: str, selector: str, message: str) -> None:
    from urllib.parse import quote
    code, _, out = api_sandbox.request("GET", _vis(ns) + f"?labelSelector={quote(selector)}")
    assert (code, out["reason"], out["message"]) == (400, "BadRequest", message)


def test_label_selector_operators(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    from urllib.parse import quote
    for name, n in (("n1", "1"), ("n5", "5"), ("nx", "x")):
        _create(api_sandbox, ns, vi(name, ns, labels={"n": n}))
    for selector, names in (("n>2", ["n5"]), ("n<2", ["n1"]), ("n in ()", []), ("n notin (,1)", ["n5", "nx"])):
        code, _, out = api_sandbox.request("GET", _vis(ns) + f"?labelSelector={quote(selector)}")
        assert code == 200 and [i["metadata"]["name"] for i in out["items"]] == names, selector


# -- apply -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("change,message", [
    (lambda b: b.pop("kind"), f"invalid object type: {GROUP}/v1alpha2, Kind="),
    (lambda b: b.pop("apiVersion"), "invalid object type: /, Kind=VirtualImage"),
    (lambda b: b.update(apiVersion=f"{GROUP}/v9"), f"invalid object type: {GROUP}/v9, Kind=VirtualImage"),
    (lambda b: b.update(kind="Other"), f"invalid object type: {GROUP}/v1alpha2, Kind=Other"),
])
def test_apply_of_another_type(api_sandbox: Sandbox, ns: str, vi: Any, change: Any, message: str) -> None:
    body = vi("ak", ns)
    change(body)
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "ak") + "?fieldManager=m", yaml.safe_dump(body).encode(),
                                       headers=APPLY)
    assert (code, out["reason"], out["message"]) == (400, "BadRequest", message)


def test_apply_of_a_list(api_sandbox: Sandbox, ns: str) -> None:
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "al") + "?fieldManager=m", b"[1]", headers=APPLY)
    assert (code, out["message"]) == (400, "error decoding YAML: error unmarshaling JSON: while decoding JSON: "
                                           "json: cannot unmarshal array into Go value of type "
                                           "map[string]interface {}")


def test_apply_with_values_of_the_wrong_type(api_sandbox: Sandbox, ns: str) -> None:
    """The typed patch object cannot be built: 500 without a reason, structured-merge-diff's words."""
    path = f"/apis/{GROUP}/v1alpha2/namespaces/{ns}/virtualdisksnapshots/s1?fieldManager=m"
    prefix = f"failed to create typed patch object ({ns}/s1; {GROUP}/v1alpha2, Kind=VirtualDiskSnapshot): "
    for spec, detail in (
            ({"virtualDiskName": "d", "requiredConsistency": "yes"}, ".spec.requiredConsistency: expected boolean, "
                                                                     "got &{yes}"),
            ({"virtualDiskName": 7}, ".spec.virtualDiskName: expected string, got &value.valueUnstructured{Value:7}"),
            ("x", ".spec: expected map, got &{x}"),
            ({"virtualDiskName": 7, "requiredConsistency": "yes"},
             "errors:\n  .spec.requiredConsistency: expected boolean, got &{yes}\n"
             "  .spec.virtualDiskName: expected string, got &value.valueUnstructured{Value:7}")):
        body = {"apiVersion": f"{GROUP}/v1alpha2", "kind": "VirtualDiskSnapshot",
                "metadata": {"name": "s1", "namespace": ns}, "spec": spec}
        code, _, out = api_sandbox.request("PATCH", path, yaml.safe_dump(body).encode(), headers=APPLY)
        assert code == 500 and "reason" not in out and out["message"] == prefix + detail


# -- status ------------------------------------------------------------------------------------------------

def test_status_is_validated_against_its_own_schema(line_sandbox: Sandbox, line_ns: str, vi: Any) -> None:
    """Messages name fields relative to status; a wrong-typed value also fails its enum."""
    _create(line_sandbox, line_ns, vi("st", line_ns))
    code, _, out = line_sandbox.request("PATCH", _vis(line_ns, "st") + "/status", {"status": {"phase": 7}},
                                        headers=MERGE)
    assert code == 422
    causes = out["details"]["causes"]
    assert causes[0] == {"reason": "FieldValueTypeInvalid", "field": "status.phase",
                         "message": 'Invalid value: "integer": phase in body must be of type string: "integer"'}
    assert causes[1]["reason"] == "FieldValueNotSupported" and causes[1]["field"] == "status.phase"
    assert causes[1]["message"].startswith('Unsupported value: 7: supported values: "Pending", ')
    assert causes[2]["field"] == "<nil>"
    code, _, out = line_sandbox.request("PATCH", _vis(line_ns, "st") + "/status",
                                        {"status": {"conditions": [{"type": 5}]}}, headers=MERGE)
    assert code == 422
    # an object's properties are checked before its required members
    assert [c["field"] for c in out["details"]["causes"]][:2] == ["status.conditions[0].type",
                                                                 "status.conditions[0].lastTransitionTime"]
    assert out["details"]["causes"][0]["message"] == (
        'Invalid value: "integer": conditions[0].type in body must be of type string: "integer"')


def test_a_wrong_typed_spec_value_also_fails_its_enum(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    body = vi("te", ns)
    body["spec"]["storage"] = 7
    code, _, out = api_sandbox.request("POST", _vis(ns), body)
    assert code == 422
    assert [(c["reason"], c["field"]) for c in out["details"]["causes"]][:2] == [
        ("FieldValueTypeInvalid", "spec.storage"), ("FieldValueNotSupported", "spec.storage")]


# -- metadata a write may not change ------------------------------------------------------------------

def test_uid_name_and_namespace_of_a_write(api_sandbox: Sandbox, ns: str, vi: Any) -> None:
    created = _create(api_sandbox, ns, vi("u1", ns))
    other = "00000000-0000-0000-0000-000000000000"
    immutable = {"reason": "FieldValueInvalid", "message": f'Invalid value: "{other}": field is immutable',
                 "field": "metadata.uid"}
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "u1"), {"metadata": {"uid": other}}, headers=MERGE)
    assert code == 422 and out["details"]["causes"] == [immutable, immutable]
    assert out["message"] == f'VirtualImage.{GROUP} "u1" is invalid: metadata.uid: {immutable["message"]}'
    applied = dict(vi("u1", ns), metadata={"name": "u1", "namespace": ns, "uid": other})
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "u1") + "?fieldManager=m",
                                       yaml.safe_dump(applied).encode(), headers=APPLY)
    assert code == 422 and out["details"]["causes"] == [immutable, immutable]
    body = json.loads(json.dumps(created))
    body["metadata"]["uid"] = other
    code, _, out = api_sandbox.request("PUT", _vis(ns, "u1"), body)     # a PUT's uid is a precondition
    assert code == 409 and out["reason"] == "Conflict" and out["message"] == (
        f'Operation cannot be fulfilled on virtualimages.{GROUP} "u1": StorageError: invalid object, Code: 4, '
        f'Key: /registry/{GROUP}/virtualimages/{ns}/u1, ResourceVersion: 0, AdditionalErrorMsg: Precondition '
        f'failed: UID in precondition: {other}, UID in object meta: {created["metadata"]["uid"]}')
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "u1"), {"metadata": {"name": "other"}}, headers=MERGE)
    assert (code, out["message"]) == (400, "the name of the object (other) does not match the name on the URL (u1)")
    code, _, out = api_sandbox.request("PATCH", _vis(ns, "u1"), {"metadata": {"namespace": "other"}}, headers=MERGE)
    assert (code, out["message"]) == (400, "the namespace of the provided object does not match the namespace "
                                           "sent on the request")
