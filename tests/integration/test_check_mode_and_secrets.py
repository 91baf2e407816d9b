"""Hostile conditions for every module and role: check mode writes nothing, secrets never show at -vvv,
a read-only user gets a clear 403, and TLS with an unknown CA fails clearly (validate_certs: false warns).
"""
from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any, Dict, List

from _reliability import API, Snapshot, admin_writes, poll_phase, wait_ready
from test_capture import make_disk, make_vm, vm_phase

NS = "deckhouse.virtualization."
VI, CVI, INFO, UP = NS + "virtual_image", NS + "cluster_virtual_image", NS + "virtual_image_info", NS + "virtual_image_upload"
CAP, VMOP, APPLY = NS + "virtual_image_capture", NS + "virtual_machine_operation", NS + "image_catalog_apply"


def _fatal(stdout: str) -> str:
    """The failed tasks' lines of an ansible-playbook output (for assertion messages)."""
    return "\n".join(stdout[i:i + 1500] for i in range(len(stdout)) if stdout.startswith("fatal:", i))


def _role(name: str, **kw: Any) -> Dict[str, Any]:
    return {"ansible.builtin.include_role": {"name": NS + name}, "vars": kw}


def _upload_image(k8s: Any, namespace: str, name: str) -> Dict[str, Any]:
    """A VirtualImage waiting for its upload (its status carries the secret upload URLs)."""
    k8s.resources.get(api_version=API, kind="VirtualImage").create(namespace=namespace, body={
        "apiVersion": API, "kind": "VirtualImage", "metadata": {"name": name, "namespace": namespace},
        "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "Upload"}}})
    return poll_phase(k8s, "VirtualImage", name, namespace, "WaitForUserUpload")


def _every_writer(ns: str, url: str, disk: Path, registry: Dict[str, str]) -> List[Dict[str, Any]]:
    """One task per module and role that would write, each with the secrets it can carry."""
    creds = {"username": registry["username"], "password": registry["password"]}
    return [
        {VI: {"name": "new-http", "namespace": ns, "source": {"http": {"url": url}}}, "register": "vi_http"},
        {VI: {"name": "new-reg", "namespace": ns, "source": {"container_image": {
            "image": registry["image"], "ca_bundle": registry["ca"], "registry_credentials": creds}}},
         "register": "vi_reg"},
        {VI: {"name": "new-up", "namespace": ns, "source": {"upload": {"path": str(disk)}}}, "register": "vi_up"},
        {VI: {"name": "keep", "namespace": ns, "source": {"http": {"url": url}}, "labels": {"tier": "gold"}},
         "register": "vi_relabel"},
        {VI: {"name": "keep", "namespace": ns, "state": "absent"}, "register": "vi_absent"},
        {CVI: {"name": "rel-cvi", "source": {"http": {"url": url}}}, "register": "cvi"},
        {UP: {"name": "upl", "namespace": ns, "path": str(disk)}, "register": "upload"},
        {INFO: {"namespace": ns}, "register": "info"},
        {CAP: {"namespace": ns, "disk": "free", "name": "captured", "wait_timeout": 60}, "register": "capture"},
        {VMOP: {"namespace": ns, "name": "svc", "type": "Stop", "wait_timeout": 60}, "register": "vmop"},
        {APPLY: {"namespaces": [ns], "catalog": "rel", "images": [{"name": "cat-a", "url": url}]},
         "register": "apply"},
        _role("image_catalog", image_catalog_namespaces=[ns], image_catalog_images=[{"name": "role-a", "url": url}]),
        _role("cluster_image_catalog", cluster_image_catalog_images=[{"name": "rel-role-cvi", "url": url}]),
        _role("disk_capture", disk_capture_namespace=ns, disk_capture_disk="free", disk_capture_image="role-cap"),
    ]


def test_check_mode_writes_nothing_and_secrets_never_show(play, sandbox, k8s, namespace, sources, registry_image,
                                                          tmp_path):
    """Check mode at -vvv with a token (host + api_key), registry password and upload URLs in play."""
    url = sources["qcow2"]
    wait_ready(k8s, namespace, "keep", url)
    upl = _upload_image(k8s, namespace, "upl")
    make_disk(k8s, namespace, "free")
    make_disk(k8s, namespace, "root")
    make_vm(k8s, namespace, "svc", "root", "AlwaysOnUnlessStoppedManually")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\1" * 65536)
    token = sandbox.tokens["admin"]
    before = Snapshot.take(k8s, namespace)
    sandbox.clear_audit()
    run = play(_every_writer(namespace, url, disk, registry_image), check=True, verbosity=3,
               defaults={"kubeconfig": None, "host": sandbox.api_url, "api_key": token, "ca_cert": sandbox.ca_path})
    assert run.rc == 0, _fatal(run.stdout)
    for name in ("vi_http", "vi_reg", "vi_up", "vi_relabel", "vi_absent", "cvi", "upload", "capture", "vmop",
                 "apply"):
        assert run[name]["changed"] is True, (name, run[name])
    writes = admin_writes(sandbox)
    assert writes == [], [(w["method"], w["path"]) for w in writes]
    assert Snapshot.take(k8s, namespace) == before
    assert vm_phase(k8s, namespace, "svc") == "Running"
    secrets = [token, registry_image["password"]] + list((upl["status"].get("imageUploadURLs") or {}).values())
    assert len(secrets) >= 3
    for secret in secrets:
        assert secret not in run.stdout


def test_secrets_never_show_in_real_runs(play, sandbox, k8s, namespace, sources, registry_image, tmp_path):
    """A real upload (URLs handed out) and a registry import with a password, at -vvv."""
    upl = _upload_image(k8s, namespace, "upl")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\1" * 65536)
    creds = {"username": registry_image["username"], "password": registry_image["password"]}
    token = sandbox.tokens["admin"]
    run = play([
        {UP: {"name": "upl", "namespace": namespace, "path": str(disk)}, "register": "upload"},
        {VI: {"name": "up2", "namespace": namespace, "source": {"upload": {"path": str(disk)}}}, "register": "up2"},
        {VI: {"name": "reg", "namespace": namespace, "source": {"container_image": {
            "image": registry_image["image"], "ca_bundle": registry_image["ca"], "registry_credentials": creds}}},
         "register": "reg"},
    ], verbosity=3, defaults={"kubeconfig": None, "host": sandbox.api_url, "api_key": token,
                              "ca_cert": sandbox.ca_path})
    assert run.rc == 0, _fatal(run.stdout)
    assert run["upload"]["changed"] is True and run["reg"]["phase"] == "Ready"
    up2 = k8s.resources.get(api_version=API, kind="VirtualImage").get(name="up2", namespace=namespace).to_dict()
    urls = [u for obj in (upl, up2) for u in (obj["status"].get("imageUploadURLs") or {}).values()]
    assert urls
    for secret in [token, registry_image["password"]] + urls:
        assert secret not in run.stdout
    leftovers = list((tmp_path / "play1" / "tmp").rglob("*")) if (tmp_path / "play1" / "tmp").exists() else []
    for path in leftovers:  # anything the collection left in Ansible's temp dir
        if path.is_file():
            assert not any(s in path.read_text(errors="replace") for s in urls + [token])


def test_viewer_gets_a_clear_403_from_every_writer(play, sandbox, k8s, namespace, sources, registry_image, tmp_path):
    wait_ready(k8s, namespace, "keep", sources["qcow2"])
    _upload_image(k8s, namespace, "upl")
    make_disk(k8s, namespace, "free")
    make_disk(k8s, namespace, "root")
    make_vm(k8s, namespace, "svc", "root", "AlwaysOnUnlessStoppedManually")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\1" * 4096)
    tasks = _every_writer(namespace, sources["qcow2"], disk, registry_image)
    tasks = [t for t in tasks if INFO not in t]
    for index, task in enumerate(tasks):
        task["register"] = "w%d" % index
        if "ansible.builtin.include_role" in task:
            role = task["ansible.builtin.include_role"]["name"].split(".")[-1]
            # only the context as a role variable: the kubeconfig still comes from module_defaults (mixed)
            task["vars"].update({"%s_context" % role: "dvp-sandbox-viewer"})
            tasks[index] = {"block": [{k: v for k, v in task.items() if k != "register"}],
                            "rescue": [{"ansible.builtin.debug": {"msg": "{{ ansible_failed_result.msg }}"},
                                        "register": "w%d" % index}]}
        else:
            task["ignore_errors"] = True
    sandbox.clear_audit()
    run = play(tasks, defaults={"context": "dvp-sandbox-viewer"})
    problems = []
    for index in range(len(tasks)):
        msg = str(run.results.get("w%d" % index, {}).get("msg", ""))
        if "Forbidden (403)" not in msg or "not allowed to" not in msg:
            problems.append((index, msg[:300]))
    assert not problems, problems
    assert [a for a in sandbox.audit() if a.get("user") == "viewer" and a.get("code") in (200, 201)
            and a.get("method") in ("POST", "PUT", "PATCH", "DELETE")] == []


def test_unknown_ca_fails_clearly_and_validate_certs_false_warns(play, sandbox, k8s, namespace, sources, tmp_path):
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_text(Path(ssl.get_default_verify_paths().cafile or "/etc/ssl/certs/ca-certificates.crt").read_text())
    _upload_image(k8s, namespace, "upl")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\1" * 4096)
    image = {"name": "tls", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}}
    run = play([
        {VI: dict(image, ca_cert=str(other_ca)), "register": "api_unknown", "ignore_errors": True},
        {VI: dict(image, validate_certs=False), "register": "api_insecure"},
        {UP: {"name": "upl", "namespace": namespace, "path": str(disk), "upload_ca_cert": str(other_ca),
              "endpoint": "external"},
         "register": "up_unknown", "ignore_errors": True},
        {UP: {"name": "upl", "namespace": namespace, "path": str(disk), "upload_validate_certs": False,
              "endpoint": "external"},
         "register": "up_insecure"},
    ])
    assert "CERTIFICATE_VERIFY_FAILED" in run["api_unknown"]["msg"] or "certificate" in run["api_unknown"]["msg"]
    assert run["api_unknown"]["msg"].startswith("cannot talk to the API server")
    assert run["api_insecure"]["changed"] is True
    assert any("validate_certs" in w for w in run["api_insecure"].get("warnings", [])), run["api_insecure"]
    assert "certificate" in run["up_unknown"]["msg"] and "upload_ca_cert" in run["up_unknown"]["msg"], \
        run["up_unknown"]
    assert run["up_insecure"]["changed"] is True
    assert any("upload_validate_certs" in w for w in run["up_insecure"].get("warnings", [])), run["up_insecure"]
