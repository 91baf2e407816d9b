"""virtual_image failure paths: fail fast with the platform's message, blocked, RBAC, bad token, InUse."""
from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any


VI = "virtualization.deckhouse.io/v1alpha2"
MOD = "deckhouse.virtualization.virtual_image"


def sources_ca_bundle() -> str:
    """The system CA bundle: real CAs, none of which signed the sandbox's certificate."""
    return ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt"


def test_failed_import_fails_fast_and_validation_sends_nothing(play, namespace, sources, admin_writes, tmp_path):
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\0" * 512)
    run = play([
        {MOD: {"name": "broken", "namespace": namespace, "source": {"http": {"url": sources["missing"]}},
               "wait_timeout": 120}, "register": "failed", "ignore_errors": True},
        {MOD: {"name": "bad-sum", "namespace": namespace,
               "source": {"http": {"url": sources["qcow2"], "checksum": {"sha256": "abc123abc123"}}}},
         "register": "bad_checksum", "ignore_errors": True},
        {MOD: {"name": "up", "namespace": namespace,
               "definition": {"apiVersion": VI, "kind": "VirtualImage", "spec": {"dataSource": {"type": "Upload"}}}},
         "register": "upload", "ignore_errors": True},
        {MOD: {"name": "dot.ted", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}},
         "register": "dotted", "ignore_errors": True},
    ])
    failed = run["failed"]
    assert failed["failed"] is True
    assert "phase Failed" in failed["msg"]
    assert "expected status code 200, got 404" in failed["msg"]
    assert failed["duration"] < 60  # stopped at the terminal phase, not at the 120 s timeout
    assert failed["image"]["status"]["phase"] == "Failed"
    assert any(c["type"] == "Ready" and c["reason"] == "ProvisioningFailed" for c in failed["conditions"])
    assert "msg" in run["bad_checksum"], run["bad_checksum"]
    assert run["bad_checksum"]["msg"] == "source.http.checksum.sha256 must be 64 hex characters (or the http(s) URL of a sums file), got 12"
    assert "names no file to send" in run["upload"]["msg"] and "wait: false" in run["upload"]["msg"]
    assert "'.' is forbidden, allowed name symbols are [0-9a-zA-Z-]" in run["dotted"]["msg"]
    # only the failed import was written: the invalid ones stopped before any request
    assert [w["name"] for w in admin_writes(namespace) if w["method"] == "POST"] in ([""], ["broken"], [None])


def test_image_lost_fails_fast_with_the_platform_reason(play, namespace, sources, sandbox, k8s, admin_writes):
    """A Ready image whose DVCR data vanished turns ImageLost; a re-run stops at once with that reason."""
    from sandbox import dvcr

    image = {"name": "lost", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}},
             "annotations": {"sandbox.deckhouse.io/image-check-interval": "0.5"}}
    made = play([{MOD: image, "register": "made"}])["made"]
    host, _slash, rest = made["image"]["status"]["target"]["registryURL"].partition("/")
    repo, _colon, tag = rest.rpartition(":")
    assert dvcr.Registry(host, str(sandbox.ca_path)).delete(repo, tag)
    api = k8s.resources.get(api_version=VI, kind="VirtualImage")
    phases = []
    for event in api.watch(namespace=namespace, field_selector="metadata.name=lost", timeout=60):
        phases.append(event["object"]["status"]["phase"])
        if phases[-1] == "ImageLost":
            break
    assert phases[-1] == "ImageLost", phases
    writes_before = len(admin_writes(namespace))
    again = play([{MOD: dict(image, wait_timeout=120), "register": "again", "ignore_errors": True}])["again"]
    assert again["failed"] is True and again["changed"] is False
    assert "ImageLost" in again["msg"], again["msg"]
    assert again["duration"] < 60  # stopped at the terminal phase, not at the timeout
    assert len(admin_writes(namespace)) == writes_before


def test_forbidden_and_unauthorized_are_clear(play, namespace, sources, sandbox, tmp_path):
    other_ca = tmp_path / "other-ca.pem"  # a CA that did not sign the API server's certificate
    other_ca.write_text(Path(sources_ca_bundle()).read_text())
    image = {"name": "nope", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}}
    run = play([
        {MOD: dict(image, context="dvp-sandbox-viewer"), "register": "viewer", "ignore_errors": True},
        {MOD: dict(image, host=sandbox.api_url, api_key="not-a-valid-token", ca_cert=sandbox.ca_path),
         "register": "bad_token", "ignore_errors": True},
        {"deckhouse.virtualization.virtual_image_info": {"namespace": namespace, "context": "dvp-sandbox-viewer"},
         "register": "viewer_can_read"},
        {"deckhouse.virtualization.virtual_image_info": {"namespace": namespace, "ca_cert": str(other_ca)},
         "register": "untrusted", "ignore_errors": True},
    ])
    viewer = run["viewer"]["msg"]
    assert viewer.startswith("Forbidden (403): not allowed to create virtualimages in namespace %s" % namespace)
    assert 'User "viewer" cannot create resource "virtualimages"' in viewer
    assert run["bad_token"]["msg"].startswith("Unauthorized (401)")
    assert "not-a-valid-token" not in run.stdout
    assert run["viewer_can_read"]["images"] == []
    untrusted = run["untrusted"]["msg"]  # TLS is verified: a wrong CA is a clear error, not a traceback
    assert untrusted.startswith("cannot talk to the API server to get virtualimages") and "CERTIFICATE" in untrusted


def _vm(namespace: str, image: str) -> dict:
    return {"apiVersion": VI, "kind": "VirtualMachine", "metadata": {"name": "user-vm", "namespace": namespace},
            "spec": {"virtualMachineClassName": "generic", "runPolicy": "AlwaysOn", "cpu": {"cores": 1},
                     "memory": {"size": "1Gi"}, "blockDeviceRefs": [{"kind": "VirtualImage", "name": image}]}}


def test_delete_of_an_image_a_vm_uses_is_refused_then_forced(play, namespace, sources, k8s: Any, sandbox):
    made = play([{MOD: {"name": "used", "namespace": namespace, "source": {"http": {"url": sources["iso"]}}},
                  "register": "made"}])
    assert made.rc == 0 and made["made"]["image"]["status"]["cdrom"] is True
    vms = k8s.resources.get(api_version=VI, kind="VirtualMachine")
    vms.create(body=_vm(namespace, "used"), namespace=namespace)
    sandbox.clear_audit()
    run = play([{MOD: {"name": "used", "namespace": namespace, "state": "absent", "wait_timeout": 60},
                 "register": "refused", "ignore_errors": True}])
    refused = run["refused"]
    assert refused["failed"] is True
    assert refused["msg"].startswith("VirtualImage %s/used is used by VirtualMachine %s/user-vm" % (namespace, namespace))
    assert "set force: true" in refused["msg"] and "nothing was written" in refused["msg"], refused["msg"]
    assert refused["used_by"] == ["VirtualMachine %s/user-vm" % namespace]
    assert [i for i in sandbox.audit() if i["user"] == "admin" and i["verb"] in ("delete", "patch", "create", "update")] == []
    assert k8s.resources.get(api_version=VI, kind="VirtualImage").get(name="used", namespace=namespace)
    forced = play([{MOD: {"name": "used", "namespace": namespace, "state": "absent", "force": True,
                          "wait_timeout": 60}, "register": "forced"}])
    assert forced.rc == 0, forced.fatal()
    assert forced["forced"]["changed"] is True and forced["forced"]["held_by"] == ["VirtualMachine %s/user-vm" % namespace]
    assert "is Terminating: the platform deletes it once nothing uses it" in forced.stdout
    assert forced["forced"]["duration"] < 50
    vms.delete(name="user-vm", namespace=namespace)


def test_transient_api_errors_and_cut_watches_are_survived(play, namespace, sources, sandbox):
    """500s, 429s with Retry-After and watch streams cut every half second: the task still succeeds."""
    slow = {"name": "bumpy", "namespace": namespace, "source": {"http": {"url": sources["raw"]}},
            "annotations": {"sandbox.deckhouse.io/import-rate": str(2 * 1024 * 1024)}}
    sandbox.clear_audit()
    # Deterministic on the module's own requests (every 3rd a 500, every 4th a 429), so both surely hit.
    sandbox.set_faults(only_users=["admin"], error_every=3, throttle_every=4, retry_after=1, watch_cut=0.5)
    try:
        run = play([{MOD: slow, "register": "bumpy"}, {MOD: slow, "register": "again"}])
    finally:
        sandbox.set_faults(clear=True)
    assert run.rc == 0, run.stdout
    assert run["bumpy"]["changed"] is True and run["bumpy"]["phase"] == "Ready"
    assert run["again"]["changed"] is False
    codes = {item["code"] for item in sandbox.audit() if item.get("user") == "admin"
             and item.get("namespace") == namespace}
    assert {500, 429} <= codes  # the faults did hit the module's requests


def test_a_failed_image_is_made_anew_once_its_source_is_fixed(play, namespace, sandbox, sources, admin_writes):
    """A 404 and a wrong checksum fail fast with what the user needs (the URL, both digests, that the platform
    will not retry); once the file is published, the same task makes the Failed image anew and it is Ready."""
    import hashlib
    import shutil

    www = Path(sandbox.components["fileserver"]["www"])
    name = "later-%s.qcow2" % namespace
    url = "%s/%s?token=secret-query" % (sandbox.components["fileserver"]["http_url"], name)
    good = (www / "it-disk.qcow2").read_bytes()
    digest = hashlib.sha256(good).hexdigest()
    wrong = hashlib.sha256(b"another build").hexdigest()
    task = {"name": "later", "namespace": namespace, "wait_timeout": 120,
            "source": {"http": {"url": url, "checksum": {"sha256": digest}}}}
    mismatch = {"name": "mismatch", "namespace": namespace, "wait_timeout": 120,
                "source": {"http": {"url": sources["qcow2"], "checksum": {"sha256": wrong}}}}
    first = play([{MOD: task, "register": "missing", "ignore_errors": True},
                  {MOD: mismatch, "register": "mismatch", "ignore_errors": True}])
    missing = first["missing"]
    assert missing["failed"] is True and "got 404" in missing["msg"], missing["msg"]
    shown = url.split("?")[0] + "?<redacted>"
    assert "the URL %s answered HTTP 404" % shown in missing["msg"], missing["msg"]
    assert "secret-query" not in missing["msg"]
    shown_result = {k: v for k, v in missing.items() if k != "invocation"}   # the task's own arguments, as given
    assert "secret-query" not in json.dumps(shown_result)
    assert missing["image"]["spec"]["dataSource"]["http"]["url"] == shown
    assert "the platform does not import a Failed image again by itself" in missing["msg"]
    bad = first["mismatch"]["msg"]
    assert "expected sha256 %s (the task's checksum), the downloaded file's sha256 is %s" % (wrong, digest) in bad, bad
    uid = missing["image"]["metadata"]["uid"]
    shutil.copyfile(www / "it-disk.qcow2", www / name)
    admin_writes.clear()
    again = play([{MOD: task, "register": "again"}])
    assert again.rc == 0, again.fatal()
    assert again["again"]["changed"] is True and again["again"]["phase"] == "Ready"
    assert again["again"]["image"]["metadata"]["uid"] != uid
    assert "made anew" in again.stdout and "is Failed" in again.stdout
    assert [w["method"] for w in admin_writes(namespace)] == ["DELETE", "POST"]
    quiet = play([{MOD: task, "register": "quiet"}])
    assert quiet["quiet"]["changed"] is False
