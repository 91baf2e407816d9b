"""The action plugin's progress at -v, and every object the modules write checked against the real CRDs."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

import jsonschema
import pytest

MOD = "deckhouse.virtualization.virtual_image"
REPO = Path(__file__).resolve().parents[2]


def test_progress_lines_at_verbose(play, namespace, sources):
    slow = {"name": "slow", "namespace": namespace, "source": {"http": {"url": sources["raw"]}},
            "annotations": {"sandbox.deckhouse.io/import-rate": str(2 * 1024 * 1024)}}
    run = play([{MOD: slow, "register": "slow"}], verbosity=1)
    assert run.rc == 0, run.stdout
    label = "VirtualImage %s/slow: " % namespace
    lines = [line for line in run.stdout.splitlines() if line.startswith(label)]
    assert label + "Pending" in lines and label + "Ready 100%" in lines
    midway = [line for line in lines if re.search(r"Provisioning (\d+\.\d|[1-9]\d?)%", line)]
    assert midway, lines  # progress (with download speed) shown while it ran
    assert any(re.search(r"\(\d.*/s\)$", line) for line in midway), midway
    phases = [p["phase"] for p in run["slow"]["phases"]]
    assert phases[-2:] == ["Provisioning", "Ready"]
    times = [p["time"] for p in run["slow"]["phases"]]
    assert times == sorted(times)


def _validate(schema: Dict[str, Any], obj: Dict[str, Any]) -> None:
    """The CRD's structural schema (metadata is checked by the API server, not the CRD)."""
    jsonschema.validate({k: v for k, v in obj.items() if k != "metadata"}, schema)


def test_written_objects_match_reference_crds(crd_schemas, sandbox, tmp_path, collections_root):
    """Manifests the spec builder makes for every source kind, validated with the real schemas."""
    import sys
    if str(collections_root) not in sys.path:
        sys.path.insert(0, str(collections_root))
    pytest.importorskip("ansible_collections.deckhouse.virtualization.plugins.module_utils.images.manifest")
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import kinds
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.images import manifest
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions

    def build(params, kind):
        return manifest.build_manifest(ImageOptions.from_params(params), kind)

    pem = Path(sandbox.ca_path).read_text()
    sums = {"md5": "a" * 32, "sha1": "b" * 40, "sha256": "c" * 64, "sha512": "d" * 128,
            "streebog256": "e" * 64, "streebog512": "f" * 128}
    disk = tmp_path / "d.img"
    disk.write_bytes(b"x")
    vi_sources = [
        {"http": {"url": "https://example.com/a.qcow2", "checksum": sums, "ca_bundle": pem}},
        {"container_image": {"image": "r.example.com:5000/a/b:1", "ca_bundle": pem, "image_pull_secret": "s"}},
        {"container_image": {"image": "r.example.com/a:1", "registry_credentials": {"username": "u", "password": "p"}}},
        {"object_ref": {"kind": "VirtualDiskSnapshot", "name": "snap"}},
        {"upload": {"path": str(disk), "checksum": {"sha256": "c" * 64}}},
    ]
    cvi_sources = vi_sources[:1] + [
        {"container_image": {"image": "r.example.com/a:1", "image_pull_secret": {"name": "s", "namespace": "n"}}},
        {"container_image": {"image": "r.example.com/a:1", "registry_credentials": {"username": "u", "password": "p"}}},
        {"object_ref": {"kind": "VirtualImage", "name": "v", "namespace": "n"}},
        {"object_ref": {"kind": "ClusterVirtualImage", "name": "c"}},
        {"upload": {"path": str(disk)}},
    ]
    for source in vi_sources:
        for storage in ("ContainerRegistry", "PersistentVolumeClaim"):
            params = {"name": "x", "namespace": "n", "source": source, "storage": storage,
                      "storage_class": "sc" if storage == "PersistentVolumeClaim" else None}
            _validate(crd_schemas["VirtualImage"], build(params, kinds.VIRTUAL_IMAGE))
            secret = manifest.build_pull_secret(ImageOptions.from_params(params), kinds.VIRTUAL_IMAGE)
            assert secret is None or secret["type"] == "kubernetes.io/dockerconfigjson"
    for source in cvi_sources:
        _validate(crd_schemas["ClusterVirtualImage"],
                  build({"name": "x", "source": source}, kinds.CLUSTER_VIRTUAL_IMAGE))
    bad = build({"name": "x", "namespace": "n", "source": {"http": {"url": "ftp://x"}}}, kinds.VIRTUAL_IMAGE)
    with pytest.raises(jsonschema.ValidationError):
        _validate(crd_schemas["VirtualImage"], bad)  # the check has teeth


def test_written_disks_and_snapshots_match_reference_crds_schema_and_cel(crd_schemas, sandbox, tmp_path,
                                                                         collections_root):
    """Every VirtualDisk and VirtualDiskSnapshot the disk modules and capture write: the real schemas and their CEL
    rules (evaluated by the sandbox's CEL library on the reference CRD's own rules), on both platform lines for
    what the released line has."""
    import sys
    if str(collections_root) not in sys.path:
        sys.path.insert(0, str(collections_root))
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import (
        disk_request, snapshot_request,
    )
    from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import (
        DiskOptions, SnapshotOptions,
    )
    from sandbox.api.admission import cel

    released = _reference_schemas(REPO.parent / "shared" / "reference" / "crds-v1.10")
    pem = Path(sandbox.ca_path).read_text()
    disk = tmp_path / "d.img"
    disk.write_bytes(b"x")
    on_both = [
        None,
        {"http": {"url": "https://example.com/a.qcow2", "checksum": {"md5": "a" * 32, "sha256": "c" * 64},
                  "ca_bundle": pem}},
        {"container_image": {"image": "r.example.com:5000/a/b:1", "ca_bundle": pem, "image_pull_secret": "s"}},
        {"container_image": {"image": "r.example.com/a:1", "registry_credentials": {"username": "u", "password": "p"}}},
        {"object_ref": {"kind": "VirtualImage", "name": "v"}},
        {"object_ref": {"kind": "ClusterVirtualImage", "name": "c"}},
        {"object_ref": {"kind": "VirtualDiskSnapshot", "name": "s"}},
        {"upload": {"path": str(disk)}},
    ]
    dev_only = [{"http": {"url": "https://example.com/a", "checksum": {"sha512": "d" * 128}}},
                {"upload": {"path": str(disk), "checksum": {"sha256": "c" * 64}}}]
    for source in on_both + dev_only:
        for size, storage_class in (("10Gi", None), ("512M", "fast"), (None, None)):
            if source is None and size is None:
                continue
            manifest = disk_request(DiskOptions(name="x", namespace="n", source=source, size=size,
                                                storage_class=storage_class, labels={"a": "b"})).manifest
            lines = [crd_schemas] + ([released] if source not in dev_only else [])
            for schemas in lines:
                _validate(schemas["VirtualDisk"], manifest)
                assert cel.check(manifest, schemas["VirtualDisk"]) == [], manifest
    for consistency in (True, False):
        snapshot = snapshot_request(SnapshotOptions(name="s", namespace="n", disk="d",
                                                    required_consistency=consistency)).manifest
        for schemas in (crd_schemas, released):
            _validate(schemas["VirtualDiskSnapshot"], snapshot)
            assert cel.check(snapshot, schemas["VirtualDiskSnapshot"]) == []
    both = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualDisk", "metadata": {"name": "x"},
            "spec": {"dataSource": {"type": "HTTP", "objectRef": {"kind": "VirtualImage", "name": "v"}}}}
    assert cel.check(both, crd_schemas["VirtualDisk"])  # the CEL check has teeth


def _reference_schemas(folder: Path) -> Dict[str, Any]:
    """kind -> openAPIV3Schema of a reference CRD folder."""
    import yaml
    schemas = {}
    for path in folder.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        schemas[crd["spec"]["names"]["kind"]] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return schemas
