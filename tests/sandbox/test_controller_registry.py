"""ContainerImage data source: TLS registries, pull secrets, disk/ lookup."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from _controller_support import (Api, Recorder, api, ca_b64, cond, dvcr_layer_files, http_source,  # noqa: F401
                                 image_source, pull_secret, seeded, vi, vis)


def test_pull_with_secret_keeps_the_disk_file(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                               seeded: Path, tmp_path: Path) -> None:
    api.create(pull_secret(sandbox, namespace, "pull"))
    api.create(vi(namespace, "ci", image_source(sandbox, "demo/disk:latest", "pull")))
    st = vis.wait_phase("ci", "Ready", 60)["status"]
    assert st["format"] == "qcow2"
    # the (gzip-layered) source becomes one uncompressed layer with the original file
    assert dvcr_layer_files(sandbox, st["target"]["registryURL"], tmp_path) == {
        "disk/disk.qcow2": (seeded / "disk.qcow2").read_bytes()}


def test_missing_secret_blocks_then_resumes(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                            seeded: Path) -> None:
    api.create(vi(namespace, "wait", image_source(sandbox, "demo/disk:latest", "later")))
    obj = vis.wait("wait", lambda o: (cond(o, "DatasourceReady") or {}).get("reason")
                   == "ContainerRegistrySecretNotFound", 30)
    assert obj["status"]["phase"] == "Pending"
    assert cond(obj, "DatasourceReady")["message"] == "Container registry secret not found."
    ready = cond(obj, "Ready")
    assert (ready["reason"], ready["message"]) == ("DatasourceNotReady", "Datasource is not ready.")
    api.create(pull_secret(sandbox, namespace, "later"))
    vis.wait_phase("wait", "Ready", 60)


def test_no_secret_unauthorized_and_no_disk_dir(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                seeded: Path) -> None:
    api.create(pull_secret(sandbox, namespace, "pull"))
    api.create(vi(namespace, "nodisk", image_source(sandbox, "demo/nodisk:latest", "pull")))
    api.create(vi(namespace, "anon", image_source(sandbox, "demo/disk:latest")))
    obj = vis.wait_phase("nodisk", "Failed", 60)
    ready = cond(obj, "Ready")
    assert ready["reason"] == "ProvisioningFailed"
    assert ready["message"] == (
        f"Provisioning failed: Pod {namespace}/d8v-vi-importer-{obj['metadata']['uid']} reported: error creating "
        "data source: error creating container registry data source: no files found in directory disk.")
    anon = cond(vis.wait_phase("anon", "Failed", 60), "Ready")["message"]
    assert "error creating container registry data source: " in anon and "UNAUTHORIZED" in anon


def test_pull_without_secret_from_open_registry_and_tls_without_ca(
        sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path) -> None:
    """DVCR needs no credentials: an image Ready there is a valid anonymous ContainerImage source."""
    api.create(vi(namespace, "base", http_source(f"{sandbox.components['fileserver']['http_url']}/disk.vmdk")))
    url = vis.wait_phase("base", "Ready", 60)["status"]["target"]["registryURL"]
    api.create(vi(namespace, "anon", {"type": "ContainerImage",
                                      "containerImage": {"image": url, "caBundle": ca_b64(sandbox)}}))
    api.create(vi(namespace, "noca", {"type": "ContainerImage", "containerImage": {"image": url}}))
    assert vis.wait_phase("anon", "Ready", 60)["status"]["format"] == "vmdk"
    assert cond(vis.wait_phase("noca", "Failed", 60), "Ready")["message"].endswith(
        "tls: failed to verify certificate: x509: certificate signed by unknown authority.")
