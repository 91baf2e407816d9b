# -*- coding: utf-8 -*-
"""The API proxy: dry-run on writes, retries inside a deadline, error messages."""

from __future__ import annotations

import json

import pytest

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client, HttpResponse, translate
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ApiError


class FakeTransport:
    """Scripted answers: dicts are 200 bodies, (status, headers) tuples errors, exceptions raised."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.calls = []

    def __call__(self, method, path, query, headers, body, stream, timeout):
        self.calls.append((method, path, query, body))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, tuple):
            status, hdrs = answer
            return HttpResponse(status, hdrs, json.dumps({"kind": "Status", "message": "m", "reason": "R"}))
        return HttpResponse(200, {}, json.dumps(answer).encode())


def api_exc(status, headers=None):
    return (status, headers or {})


FakeApi = FakeTransport


def test_check_mode_sends_dry_run_on_writes_only():
    api = FakeApi([{}, {}, {}])
    client = Client(api, check_mode=True, sleep=lambda s: None)
    client.get("/p")
    client.create("/c", {"a": 1})
    client.patch("/p", {"b": 2})
    assert api.calls[0][2] == []
    assert ("dryRun", "All") in api.calls[1][2] and ("dryRun", "All") in api.calls[2][2]


def test_retries_5xx_and_429_honouring_retry_after():
    slept = []
    api = FakeApi([api_exc(500), api_exc(429, {"Retry-After": "3"}), {"ok": 1}])
    assert Client(api, sleep=slept.append).get("/p") == {"ok": 1}
    assert slept[0] == 0.25 and slept[1] == 3.0


def test_4xx_not_retried():
    api = FakeApi([api_exc(422)])
    with pytest.raises(ApiError) as err:
        Client(api, sleep=lambda s: pytest.fail("slept")).create("/apis/g/v/namespaces/n/virtualimages", {})
    assert err.value.status == 422 and len(api.calls) == 1


def test_retry_budget_is_a_deadline():
    api = FakeApi([api_exc(503)] * 50)
    client = Client(api, retry_budget=0.0, sleep=lambda s: None)
    with pytest.raises(ApiError, match="API error 503"):
        client.get("/p")
    assert len(api.calls) == 1


def test_connection_reset_retried():
    api = FakeApi([ConnectionResetError(), {"ok": 2}])
    assert Client(api, sleep=lambda s: None).get("/p") == {"ok": 2}


def test_get_404_is_none():
    assert Client(FakeApi([api_exc(404)])).get("/p") is None


def test_403_names_verb_resource_and_keeps_status_message():
    body = {"kind": "Status", "reason": "Forbidden",
            "message": 'virtualimages.virtualization.deckhouse.io "x" is forbidden: User "viewer" cannot create'}
    err = translate(403, json.dumps(body), "POST",
                    "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/ns/virtualimages")
    assert err.msg.startswith("Forbidden (403): not allowed to create virtualimages in namespace ns")
    assert 'User "viewer"' in err.msg


def test_401_is_clear_and_has_no_secret():
    err = translate(401, "{}", "GET", "/apis/virtualization.deckhouse.io/v1alpha2/clustervirtualimages/c")
    assert err.msg.startswith("Unauthorized (401)") and "clustervirtualimages" in err.msg


def test_tls_failure_is_not_retried_and_says_why():
    urllib3 = pytest.importorskip("urllib3")
    ssl_error = urllib3.exceptions.SSLError("certificate verify failed: unable to get local issuer certificate")
    api = FakeTransport([urllib3.exceptions.MaxRetryError(None, "/p", reason=ssl_error)] * 3)
    with pytest.raises(ApiError) as err:
        Client(api, sleep=lambda s: pytest.fail("slept")).get("/apis/g/v/namespaces/n/virtualimages/x")
    assert err.value.msg.startswith("cannot talk to the API server to get virtualimages in namespace n")
    assert "certificate verify failed" in err.value.msg and len(api.calls) == 1


def test_every_write_asks_for_strict_field_validation_and_reads_do_not():
    api = FakeApi([{}, {}, {}, {}])
    client = Client(api, sleep=lambda s: None)
    client.get("/p")
    client.create("/c", {"a": 1})
    client.patch("/p", {"b": 2})
    client.create("/c", {"a": 1}, dry_run=True)
    assert api.calls[0][2] == []
    assert api.calls[1][2] == [("fieldValidation", "Strict")] == api.calls[2][2]
    assert api.calls[3][2] == [("fieldValidation", "Strict"), ("dryRun", "All")]


def test_warning_headers_become_ansible_warnings_once_unescaped_and_redacted(monkeypatch):
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.api import client as client_module
    seen = []
    monkeypatch.setattr(client_module, "warn", seen.append)
    header = ('299 - "unknown field \\"spec.x\\"", 299 - "Using the `Kubernetes` storage type is deprecated.", '
              '299 - "see https://upload.example.com:443/upload/SECRET-TOKEN"')

    def transport(method, path, query, headers, body, stream, timeout):
        return HttpResponse(200, {"Warning": header}, b"{}")
    client = Client(transport, sleep=lambda s: None)
    client.create("/c", {})
    client.create("/c", {})
    assert seen == ['the API server warns: unknown field "spec.x"',
                    "the API server warns: Using the `Kubernetes` storage type is deprecated.",
                    "the API server warns: see https://upload.example.com:443/<redacted>"]


def test_check_mode_delete_says_dry_run_in_its_body():
    """A DELETE with a body takes its options from the body alone on a real API server: a dryRun in the query
    only would be ignored and the object deleted for real."""
    api = FakeApi([{}, {}])
    Client(api, check_mode=True, sleep=lambda s: None).delete("/p")
    Client(api, sleep=lambda s: None).delete("/p")
    (_m, _p, dry_query, dry_body), (_m2, _p2, real_query, real_body) = api.calls
    assert dry_body["dryRun"] == ["All"] and dry_body["propagationPolicy"] == "Background"
    assert "dryRun" not in real_body and dry_query == real_query == []


def test_exists_tells_missing_from_unknowable():
    """A NotFound Status is "missing"; a 403 or a 404 that is no Status (no such API on the server) is unknown."""
    import json as _json
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client, HttpResponse

    answers = {
        "/api/v1/namespaces/here": HttpResponse(200, {}, b'{"kind": "Namespace"}'),
        "/api/v1/namespaces/gone": HttpResponse(404, {}, _json.dumps(
            {"kind": "Status", "reason": "NotFound", "code": 404}).encode()),
        "/api/v1/namespaces/secret": HttpResponse(403, {}, b'{"kind": "Status", "reason": "Forbidden"}'),
        "/api/v1/namespaces/nocore": HttpResponse(404, {}, b"404 page not found"),
        "/api/v1/namespaces/badtoken": HttpResponse(401, {}, b'{"kind": "Status", "reason": "Unauthorized"}'),
        "/api/v1/namespaces/tls": HttpResponse(0, {}, "SSLError: certificate verify failed"),
    }
    client = Client(lambda method, path, *rest: answers[path], retry_budget=0.0)
    names = ("here", "gone", "secret", "nocore", "badtoken", "tls")
    assert [client.exists("/api/v1/namespaces/%s" % n) for n in names] == [True, False, None, None, None, None]


def test_a_webhook_denial_is_the_platform_refusing_not_a_missing_permission():
    body = json.dumps({"kind": "Status", "reason": "Forbidden", "code": 403, "message":
                       'admission webhook "vd.virtualization-controller.validate.d8-virtualization" denied the '
                       'request: storage class "x" not found'}).encode()
    err = translate(403, body, "POST", "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/ns/virtualdisks")
    assert err.msg == ('the platform refused to create virtualdisks in namespace ns: admission webhook '
                       '"vd.virtualization-controller.validate.d8-virtualization" denied the request: storage class '
                       '"x" not found')
    assert err.status == 403
