"""Check mode and secrets, for every module and role: check mode writes nothing, and no secret (API token,
registry password, upload URLs) shows at -vvv in check mode or in real runs, nor in Ansible's temp dir.
"""
from __future__ import annotations

NS = "deckhouse.virtualization."
VI, UP = NS + "virtual_image", NS + "virtual_image_upload"


def test_check_mode_writes_nothing_and_secrets_never_show(play, sandbox, kube, namespace, registry_image,
                                                          every_writer, admin_writes):
    """Check mode at -vvv with a token (host + api_key), registry password and upload URLs in play."""
    upl = every_writer.upload
    token = sandbox.tokens["admin"]
    before = kube.snapshot(namespace)
    sandbox.clear_audit()
    run = play(every_writer.tasks, check=True, verbosity=3,
               defaults={"kubeconfig": None, "host": sandbox.api_url, "api_key": token, "ca_cert": sandbox.ca_path})
    assert run.rc == 0, run.fatal()
    for name in ("vi_http", "vi_reg", "vi_up", "vi_relabel", "vi_absent", "cvi", "upload", "capture", "vmop",
                 "apply"):
        assert run[name]["changed"] is True, (name, run[name])
    writes = admin_writes.real_anywhere()
    assert writes == [], [(w["method"], w["path"]) for w in writes]
    assert kube.snapshot(namespace) == before
    assert kube.vm_phase(namespace, "svc") == "Running"
    secrets = [token, registry_image["password"]] + list((upl["status"].get("imageUploadURLs") or {}).values())
    assert len(secrets) >= 3
    for secret in secrets:
        assert secret not in run.stdout


def test_secrets_never_show_in_real_runs(play, sandbox, kube, namespace, registry_image, tmp_path):
    """A real upload (URLs handed out) and a registry import with a password, at -vvv."""
    upl = kube.upload_image(namespace, "upl")
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
    assert run.rc == 0, run.fatal()
    assert run["upload"]["changed"] is True and run["reg"]["phase"] == "Ready"
    up2 = kube.get("VirtualImage", namespace, "up2")
    urls = [u for obj in (upl, up2) for u in (obj["status"].get("imageUploadURLs") or {}).values()]
    assert urls
    for secret in [token, registry_image["password"]] + urls:
        assert secret not in run.stdout
    leftovers = list((tmp_path / "play1" / "tmp").rglob("*")) if (tmp_path / "play1" / "tmp").exists() else []
    for path in leftovers:  # anything the collection left in Ansible's temp dir
        if path.is_file():
            assert not any(s in path.read_text(errors="replace") for s in urls + [token])


def test_a_pipeline_in_check_mode_warns_of_the_source_an_earlier_task_only_dry_ran(play, sandbox, namespace, sources,
                                                                                   admin_writes):
    """An image then a disk made from it, in check mode at -v: the disk task warns that its source does not
    exist yet and says what it would create; nothing is written, and no line says "Created"."""
    image = {"name": "base", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}}}
    disk = {"name": "root", "namespace": namespace,
            "source": {"object_ref": {"kind": "VirtualImage", "name": "base"}}}
    run = play([{VI: image, "register": "image"}, {NS + "virtual_disk": disk, "register": "disk"}],
               check=True, verbosity=1)
    assert run.rc == 0, run.fatal()
    assert run["image"]["changed"] is True and run["disk"]["changed"] is True
    assert ("source.object_ref.name: VirtualImage %s/base does not exist; in a real run this task fails unless an "
            "earlier task makes it" % namespace) in " ".join(run["disk"].get("warnings") or [])
    assert run["disk"]["disk"]["spec"]["dataSource"]["objectRef"] == {"kind": "VirtualImage", "name": "base"}
    for name in ("image", "disk"):
        assert [p["phase"] for p in run[name]["phases"]][:1] == ["would be created (check mode)"], run[name]["phases"]
    assert "would be created (check mode)" in run.stdout and ": Created" not in run.stdout
    assert admin_writes.real_anywhere() == []
    real = play([{NS + "virtual_disk": dict(disk, wait=False), "register": "disk", "ignore_errors": True}])
    assert real["disk"]["failed"] is True and "does not exist; nothing was written" in real["disk"]["msg"]
