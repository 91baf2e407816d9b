"""A sums file URL works in every checksum option: the digest of the file's line is what each module stores, and a
file the sums file does not list fails before any write. Builds and sums files are served by the sandbox."""
from __future__ import annotations

import shutil
import uuid
from pathlib import Path
from typing import Any, Dict

from test_golden_tracks import Mirror
from test_upload import create_upload_image, get_image

VI = "virtualization.deckhouse.io/v1alpha2"


def https(url: str, fileserver: Dict[str, Any]) -> str:
    """The same file from the sandbox's HTTPS listener (its certificate is signed by the sandbox's CA)."""
    return url.replace(fileserver["http_url"], fileserver["https_url"])


def test_every_checksum_option_takes_a_sums_file_url(play, sandbox, k8s, namespace, admin_writes, tmp_path):
    mirror = Mirror(sandbox, "sums-%s" % uuid.uuid4().hex[:6])
    fileserver = sandbox.components["fileserver"]
    digest = mirror.publish(7)
    local = tmp_path / "cloud.img"
    shutil.copy(mirror.root / "cloud.img", local)
    cvi = "sums-%s" % uuid.uuid4().hex[:6]
    create_upload_image(k8s, namespace, "gitops-upload")
    sums = {"sha256": mirror.sums_url}
    tasks = [
        {"deckhouse.virtualization.virtual_image": {
            "name": "from-http", "namespace": namespace,
            "source": {"http": {"url": mirror.url, "checksum": sums}}}, "register": "vi_http"},
        {"deckhouse.virtualization.virtual_image": {
            "name": "from-https", "namespace": namespace, "source": {"http": {
                "url": https(mirror.url, fileserver), "checksum": {"sha256": https(mirror.sums_url, fileserver)},
                "ca_bundle": Path(sandbox.ca_path).read_text()}}}, "register": "vi_https"},
        {"deckhouse.virtualization.cluster_virtual_image": {
            "name": cvi, "source": {"http": {"url": mirror.url, "checksum": sums}}}, "register": "cvi_http"},
        {"deckhouse.virtualization.virtual_image": {
            "name": "from-file", "namespace": namespace,
            "source": {"upload": {"path": str(local), "checksum": sums}}}, "register": "vi_upload"},
        {"deckhouse.virtualization.virtual_image_upload": {
            "name": "gitops-upload", "namespace": namespace, "path": str(local), "checksum": sums},
         "register": "uploaded"},
        {"deckhouse.virtualization.virtual_image": {"definition": {
            "apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": "from-manifest", "namespace": namespace},
            "spec": {"storage": "ContainerRegistry", "dataSource": {
                "type": "HTTP", "http": {"url": mirror.url, "checksum": sums}}}}}, "register": "vi_manifest"},
        {"deckhouse.virtualization.image_catalog_apply": {
            "catalog": "sums", "namespaces": [namespace], "definitions": [{"origin": "git/noble.yaml", "manifest": {
                "apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": "catalog-manifest"},
                "spec": {"storage": "ContainerRegistry", "dataSource": {
                    "type": "HTTP", "http": {"url": mirror.url, "checksum": sums}}}}}]}, "register": "catalog"},
        {"deckhouse.virtualization.virtual_disk": {
            "name": "disk-http", "namespace": namespace,
            "source": {"http": {"url": mirror.url, "checksum": sums}}}, "register": "vd_http"},
    ]
    try:
        run = play(tasks)
        assert run.rc == 0, run.fatal()
        for name in ("from-http", "from-https"):   # over TLS, the image's CA bundle verifies the sums file's host
            assert get_image(k8s, namespace, name)["spec"]["dataSource"]["http"]["checksum"] == {"sha256": digest}
        assert get_image(k8s, None, cvi)["spec"]["dataSource"]["http"]["checksum"] == {"sha256": digest}
        for name in ("from-manifest", "catalog-manifest"):
            assert get_image(k8s, namespace, name)["spec"]["dataSource"]["http"]["checksum"] == {"sha256": digest}
        uploaded = get_image(k8s, namespace, "from-file")
        assert uploaded["status"]["phase"] == "Ready"
        if sandbox.platform != "v1.10":   # v1.10 has no upload checksum: the module checks it alone
            assert uploaded["spec"]["dataSource"]["upload"]["checksum"] == {"sha256": digest}
        assert get_image(k8s, namespace, "gitops-upload")["status"]["phase"] == "Ready"
        disk = k8s.resources.get(api_version=VI, kind="VirtualDisk").get(name="disk-http", namespace=namespace)
        assert disk.to_dict()["spec"]["dataSource"]["http"]["checksum"] == {"sha256": digest}

        # A file the sums file does not list: named in the message, nothing written.
        other = tmp_path / "renamed.img"
        shutil.copy(local, other)
        admin_writes.clear()
        bad = play([{"deckhouse.virtualization.virtual_image": {
            "name": "unlisted", "namespace": namespace,
            "source": {"upload": {"path": str(other), "checksum": sums}}}, "register": "unlisted",
            "ignore_errors": True}])
        assert bad["unlisted"]["msg"] == (
            "source.upload.checksum.sha256: the sums file %s cannot give the digest of renamed.img: it has no sha256 "
            "line for renamed.img; nothing was written" % mirror.sums_url)
        assert admin_writes.real_anywhere() == []
    finally:
        _drop_cluster_image(k8s, cvi)


def _drop_cluster_image(k8s: Any, name: str) -> None:
    try:
        k8s.resources.get(api_version=VI, kind="ClusterVirtualImage").delete(name=name)
    except Exception:  # never created
        pass
