"""Bad input across every module and role: each case fails with a message naming the option, and the
sandbox shows nothing was written (admin writes in the audit, resourceVersions before and after).

All cases run in two ansible-playbook runs (modules; roles) with ignore_errors / rescue, so the table
stays cheap. A case is (id, task, words): the failure message must contain every word.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest

NS = "deckhouse.virtualization."
VI, CVI, INFO, UP = NS + "virtual_image", NS + "cluster_virtual_image", NS + "virtual_image_info", NS + "virtual_image_upload"
CAP, VMOP, APPLY = NS + "virtual_image_capture", NS + "virtual_machine_operation", NS + "image_catalog_apply"
Case = Tuple[str, Dict[str, Any], List[str]]


def _module_cases(ns: str, url: str, files: Dict[str, str]) -> List[Case]:
    http = {"http": {"url": url}}
    vi = {"name": "ok", "namespace": ns, "source": http}
    cvi = {"name": "ok-cluster", "source": http}

    def with_(base: Dict[str, Any], **kw: Any) -> Dict[str, Any]:
        return dict(base, **kw)

    def chk(algo: str, value: str) -> Dict[str, Any]:
        return {"http": {"url": url, "checksum": {algo: value}}}

    return [
        ("vi-name-dot", {VI: with_(vi, name="dot.ted")}, ["name", "'.' is forbidden"]),
        ("vi-name-capital", {VI: with_(vi, name="Debian")}, ["name"]),
        ("vi-name-too-long", {VI: with_(vi, name="a" * 300)}, ["name"]),
        ("vi-name-underscore", {VI: with_(vi, name="deb_12")}, ["name"]),
        ("vi-namespace-bad", {VI: with_(vi, namespace="Team_A")}, ["namespace"]),
        ("vi-url-ftp", {VI: with_(vi, source={"http": {"url": "ftp://example.invalid/d.qcow2"}})},
         ["source.http.url"]),
        ("vi-url-file", {VI: with_(vi, source={"http": {"url": "file:///etc/passwd"}})}, ["source.http.url"]),
        ("vi-url-garbage", {VI: with_(vi, source={"http": {"url": "not a url"}})}, ["source.http.url"]),
        ("vi-sha256-short", {VI: with_(vi, source=chk("sha256", "abc123"))}, ["source.http.checksum.sha256"]),
        ("vi-md5-not-hex", {VI: with_(vi, source=chk("md5", "z" * 32))}, ["source.http.checksum.md5"]),
        ("vi-sha1-long", {VI: with_(vi, source=chk("sha1", "a" * 41))}, ["source.http.checksum.sha1"]),
        ("vi-sha512-short", {VI: with_(vi, source=chk("sha512", "a" * 64))}, ["source.http.checksum.sha512"]),
        ("vi-streebog-short", {VI: with_(vi, source=chk("streebog512", "a" * 10))},
         ["source.http.checksum.streebog512"]),
        ("vi-two-sources", {VI: with_(vi, source={"http": {"url": url}, "container_image": {"image": "r.io/a:b"}})},
         ["source", "http", "container_image"]),
        ("vi-no-source", {VI: {"name": "nosrc", "namespace": ns}}, ["source"]),
        ("vi-empty-source", {VI: with_(vi, source={})}, ["source"]),
        ("vi-http-ca-not-pem", {VI: with_(vi, source={"http": {"url": url, "ca_bundle": "not a certificate"}})},
         ["source.http.ca_bundle"]),
        ("vi-registry-ca-not-pem", {VI: with_(vi, source={"container_image": {
            "image": "registry.example/a:b", "ca_bundle": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}})},
         ["source.container_image.ca_bundle"]),
        ("vi-image-ref-bad", {VI: with_(vi, source={"container_image": {"image": "Not An Image!!"}})},
         ["source.container_image.image"]),
        ("vi-upload-missing", {VI: with_(vi, source={"upload": {"path": files["missing"]}})}, ["source.upload.path"]),
        ("vi-upload-dir", {VI: with_(vi, source={"upload": {"path": files["dir"]}})}, ["source.upload.path"]),
        ("vi-upload-dangling", {VI: with_(vi, source={"upload": {"path": files["dangling"]}})},
         ["source.upload.path"]),
        ("vi-upload-sha1-short", {VI: with_(vi, source={"upload": {"path": files["disk"],
                                                                   "checksum": {"sha1": "abc"}}})},
         ["source.upload.checksum.sha1"]),
        ("vi-objref-kind", {VI: with_(vi, source={"object_ref": {"kind": "VirtualMachine", "name": "x"}})},
         ["kind", "VirtualMachine"]),
        ("vi-wait-negative", {VI: with_(vi, wait_timeout=-1)}, ["wait_timeout"]),
        ("vi-request-timeout-zero", {VI: with_(vi, request_timeout=0)}, ["request_timeout", "> 0"]),
        ("vi-request-timeout-negative", {VI: with_(vi, request_timeout=-2.5)}, ["request_timeout"]),
        ("vi-connection-request-timeout-zero", {VI: with_(vi, connection={"request_timeout": 0})},
         ["request_timeout"]),
        ("upload-request-timeout-zero", {UP: {"name": "u", "namespace": ns, "path": files["disk"],
                                              "request_timeout": 0}}, ["request_timeout"]),
        ("vi-definition-upload-waiting", {VI: {"name": "d", "namespace": ns, "definition": {
            "apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
            "spec": {"dataSource": {"type": "Upload"}}}}}, ["definition", "Upload", "wait: false"]),
        ("vi-storage-unknown", {VI: with_(vi, storage="Local")}, ["storage", "Local"]),
        ("vi-state-unknown", {VI: with_(vi, state="gone")}, ["state", "gone"]),
        ("vi-label-key-bad", {VI: with_(vi, labels={"bad key!": "x"})}, ["labels", "bad key!"]),
        ("vi-definition-kind", {VI: {"name": "d", "namespace": ns, "definition": {
            "apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualDisk", "spec": {}}}},
         ["definition", "VirtualDisk"]),
        ("vi-src-missing", {VI: {"name": "s", "namespace": ns, "src": files["missing"]}}, ["src"]),
        ("vi-kube-ca-not-pem", {VI: with_(vi, ca_cert=files["garbage"])}, ["ca_cert"]),
        ("cvi-name-capital", {CVI: with_(cvi, name="UPPER")}, ["name"]),
        ("cvi-objref-no-namespace", {CVI: with_(cvi, source={"object_ref": {"kind": "VirtualImage", "name": "x"}})},
         ["source.object_ref.namespace"]),
        ("cvi-url-scheme", {CVI: with_(cvi, source={"http": {"url": "gopher://example.invalid/x"}})},
         ["source.http.url"]),
        ("cvi-streebog-not-hex", {CVI: with_(cvi, source=chk("streebog256", "g" * 64))},
         ["source.http.checksum.streebog256"]),
        ("cvi-wait-negative", {CVI: with_(cvi, wait_timeout=-5)}, ["wait_timeout"]),
        ("info-phase", {INFO: {"namespace": ns, "phase": ["Bogus"]}}, ["phase", "Bogus"]),
        ("info-selector", {INFO: {"namespace": ns, "label_selectors": ["=bad=="]}}, ["label_selectors"]),
        ("upload-missing", {UP: {"name": "u", "namespace": ns, "path": files["missing"]}}, ["path"]),
        ("upload-dir", {UP: {"name": "u", "namespace": ns, "path": files["dir"]}}, ["path"]),
        ("upload-sha512-short", {UP: {"name": "u", "namespace": ns, "path": files["disk"],
                                      "checksum": {"sha512": "ab"}}}, ["checksum.sha512"]),
        ("upload-endpoint", {UP: {"name": "u", "namespace": ns, "path": files["disk"], "endpoint": "sideways"}},
         ["endpoint", "sideways"]),
        ("upload-retries-negative", {UP: {"name": "u", "namespace": ns, "path": files["disk"], "retries": -1}},
         ["retries"]),
        ("upload-name-dot", {UP: {"name": "u.1", "namespace": ns, "path": files["disk"]}}, ["name"]),
        ("upload-ca-not-pem", {UP: {"name": "u", "namespace": ns, "path": files["disk"],
                                    "upload_ca_cert": files["garbage"]}}, ["upload_ca_cert"]),
        ("capture-disk-bad", {CAP: {"namespace": ns, "disk": "Bad.Disk", "name": "cap"}}, ["disk"]),
        ("capture-name-long", {CAP: {"namespace": ns, "disk": "d", "name": "c" * 300}}, ["name"]),
        ("capture-storage", {CAP: {"namespace": ns, "disk": "d", "name": "cap", "storage": "Floppy"}},
         ["storage", "Floppy"]),
        ("vmop-type", {VMOP: {"namespace": ns, "name": "vm", "type": "Reboot"}}, ["type", "Reboot"]),
        ("vmop-name", {VMOP: {"namespace": ns, "name": "vm_1", "type": "Start"}}, ["name"]),
        ("apply-two-sources", {APPLY: {"namespaces": [ns], "images": [{"name": "a", "url": url, "image": "r/a:b"}]}},
         ["images[0]"]),
        ("apply-no-name", {APPLY: {"namespaces": [ns], "images": [{"url": url}]}}, ["images[0]", "name"]),
        ("apply-name-capital", {APPLY: {"namespaces": [ns], "images": [{"name": "Big", "url": url}]}},
         ["images[0]", "name"]),
        ("apply-checksum", {APPLY: {"namespaces": [ns], "images": [
            {"name": "a", "url": url}, {"name": "b", "url": url, "checksum": {"sha256": "12"}}]}},
         ["images[1]", "sha256"]),
        ("apply-wait-negative", {APPLY: {"namespaces": [ns], "images": [{"name": "a", "url": url}],
                                         "wait_timeout": -1}}, ["wait_timeout"]),
        ("apply-missing-namespace", {APPLY: {"namespaces": ["no-such-ns-rel"], "images": [{"name": "a", "url": url}]}},
         ["no-such-ns-rel"]),
    ]


def _role_cases(ns: str, url: str) -> List[Case]:
    def role(name: str, **kw: Any) -> Dict[str, Any]:
        return {"ansible.builtin.include_role": {"name": NS + name}, "vars": kw}

    return [
        ("role-catalog-scheme", role("image_catalog", image_catalog_namespaces=[ns],
                                     image_catalog_images=[{"name": "a", "url": "gopher://x/y"}]),
         ["image_catalog_images[0]", "url"]),
        ("role-catalog-no-namespaces", role("image_catalog", image_catalog_images=[{"name": "a", "url": url}]),
         ["image_catalog_namespaces"]),
        ("role-catalog-wait", role("image_catalog", image_catalog_namespaces=[ns], image_catalog_wait_timeout="soon",
                                   image_catalog_images=[{"name": "a", "url": url}]),
         ["image_catalog_wait_timeout"]),
        ("role-cluster-checksum", role("cluster_image_catalog", cluster_image_catalog_images=[
            {"name": "a", "url": url, "checksum": {"sha256": "xyz"}}]), ["cluster_image_catalog_images[0]", "sha256"]),
        ("role-cluster-fanout-name", role("cluster_image_catalog", cluster_image_catalog_images=[
            {"name": "A.B", "url": url}]), ["cluster_image_catalog_images[0]", "name"]),
        ("role-capture-no-disk", role("disk_capture", disk_capture_namespace=ns, disk_capture_image="img"),
         ["disk_capture_disk"]),
        ("role-capture-storage", role("disk_capture", disk_capture_namespace=ns, disk_capture_disk="d",
                                      disk_capture_image="img", disk_capture_storage="Tape"),
         ["disk_capture_storage"]),
    ]


def _as_tasks(cases: List[Case]) -> List[Dict[str, Any]]:
    """Modules: ignore_errors + register. Roles: block/rescue, registering ansible_failed_result."""
    tasks = []
    for ident, task, _words in cases:
        reg = "c_" + ident.replace("-", "_")
        if "ansible.builtin.include_role" in task:
            tasks.append({"block": [task], "rescue": [
                {"ansible.builtin.set_fact": {reg: "{{ ansible_failed_result }}"}},
                {"ansible.builtin.debug": {"msg": "{{ %s.msg | default('') }}" % reg}, "register": reg + "_"}]})
        else:
            tasks.append(dict(task, register=reg, ignore_errors=True))
    return tasks


def _check(cases: List[Case], results: Dict[str, Any], role: bool) -> List[str]:
    problems = []
    for ident, _task, words in cases:
        reg = "c_" + ident.replace("-", "_") + ("_" if role else "")
        got = results.get(reg) or {}
        msg = str(got.get("msg", ""))  # a role case registers only when its rescue ran, i.e. it failed
        if not msg or (not role and not got.get("failed")):
            problems.append("%s: did not fail (%s)" % (ident, got))
        elif not all(w in msg for w in words):
            problems.append("%s: message %r lacks %r" % (ident, msg, words))
    return problems


@pytest.fixture
def files(tmp_path: Path) -> Dict[str, str]:
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\0" * 1024)
    (tmp_path / "adir").mkdir()
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("this is not PEM\n")
    dangling = tmp_path / "dangling.img"
    dangling.symlink_to(tmp_path / "gone.img")
    return {"disk": str(disk), "dir": str(tmp_path / "adir"), "missing": str(tmp_path / "nope.img"),
            "garbage": str(garbage), "dangling": str(dangling)}


def test_bad_inputs_fail_naming_the_option_and_write_nothing(play, namespace, sources, sandbox, kube, files,
                                                             admin_writes):
    url = sources["qcow2"]
    kube.ready_image(namespace, "existing", url)
    before = kube.snapshot(namespace)
    sandbox.clear_audit()
    mods, roles = _module_cases(namespace, url, files), _role_cases(namespace, url)
    assert len(mods) + len(roles) >= 40
    run_m = play(_as_tasks(mods))
    run_r = play(_as_tasks(roles))
    problems = _check(mods, run_m.results, False) + _check(roles, run_r.results, True)
    writes = admin_writes.real_anywhere()
    assert not problems, "\n".join(problems)
    assert writes == [], [(w["method"], w["path"], w["code"]) for w in writes]
    assert kube.snapshot(namespace) == before
