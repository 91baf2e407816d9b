"""The collection on both platform lines: strict field validation, the API server's warnings, checksums the
released line (DVP v1.10) lacks, and uploads it cannot verify. The suite runs once per line (`make pytest` runs
this file against a v1.10 sandbox too, with DVP_SANDBOX_PLATFORM=v1.10); expectations follow `sandbox.platform`."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict

import pytest

VI = "deckhouse.virtualization.virtual_image"
CVI = "deckhouse.virtualization.cluster_virtual_image"
UPLOAD = "deckhouse.virtualization.virtual_image_upload"
WAIT = 120


def digest(path: Path, algo: str) -> str:
    return hashlib.new(algo, path.read_bytes()).hexdigest()


@pytest.fixture
def released(sandbox: Any) -> bool:
    """The sandbox serves the released line (DVP v1.10)."""
    assert sandbox.platform in ("dev", "v1.10")
    return sandbox.platform == "v1.10"


@pytest.fixture
def qcow2(sandbox: Any, sources: Dict[str, str]) -> Path:
    """The file the sandbox serves at sources['qcow2']."""
    return Path(sandbox.components["fileserver"]["www"]) / "it-disk.qcow2"


def test_sha512_fails_naming_the_option_on_v110_and_is_verified_on_dev(play, namespace, sources, qcow2, released,
                                                                       admin_writes):
    http = {"url": sources["qcow2"], "checksum": {"sha512": digest(qcow2, "sha512")}}
    task = {"name": "sha512", "namespace": namespace, "source": {"http": http}, "wait_timeout": WAIT}
    cluster = {"name": "%s-sha512" % namespace, "source": {"http": http}, "wait_timeout": WAIT}
    admin_writes.clear()
    run = play([{VI: task, "register": "checked", "check_mode": True, "ignore_errors": True},
                {VI: task, "register": "vi", "ignore_errors": True},
                {CVI: cluster, "register": "cvi", "ignore_errors": True}])
    assert run.rc == 0, run.stdout
    try:
        if released:
            for name, option in (("checked", "source.http.checksum.sha512"), ("vi", "source.http.checksum.sha512"),
                                 ("cvi", "source.http.checksum.sha512")):
                result = run[name]
                assert result["failed"] is True, result
                assert result["msg"].startswith("%s (spec.dataSource.http.checksum.sha512): this cluster's " % option)
                assert "newer than DVP v1.10" in result["msg"] and "(sha256 or md5)" in result["msg"]
                assert result["unknown_fields"] == ["spec.dataSource.http.checksum.sha512"]
            assert [w for w in admin_writes.real_anywhere() if w.get("code", 0) < 300] == []  # refused, none stored
        else:
            assert run["checked"]["changed"] is True and not run["checked"].get("failed")
            for name in ("vi", "cvi"):
                assert run[name]["phase"] == "Ready", run[name]
                assert run[name]["image"]["spec"]["dataSource"]["http"]["checksum"] == http["checksum"]
    finally:
        play([{CVI: {"name": cluster["name"], "state": "absent"}}])


@pytest.mark.parametrize("algo", ["md5", "sha256"])
def test_released_checksums_reach_ready_and_rerun_writes_nothing(play, namespace, sources, qcow2, algo,
                                                                 admin_writes):
    task = {"name": "img-%s" % algo, "namespace": namespace, "wait_timeout": WAIT,
            "source": {"http": {"url": sources["qcow2"], "checksum": {algo: digest(qcow2, algo)}}}}
    first = play([{VI: task, "register": "first"}])
    assert first.rc == 0 and first["first"]["phase"] == "Ready", first.stdout
    admin_writes.clear()
    again = play([{VI: task, "register": "again"}])
    assert again["again"]["changed"] is False and admin_writes(namespace) == []


def test_upload_checksum_is_verified_by_whoever_can(play, namespace, tmp_path, released, admin_writes):
    disk = tmp_path / "disk.qcow2"
    from sandbox import seed
    seed.make_disk(disk, "qcow2")
    sums = {"sha256": digest(disk, "sha256")}
    task = {"name": "up", "namespace": namespace, "wait_timeout": WAIT,
            "source": {"upload": {"path": str(disk), "checksum": sums}}}
    standalone = {"name": "up2", "namespace": namespace, "path": str(disk), "checksum": sums, "wait_timeout": WAIT}
    run = play([{VI: task, "register": "first"},
                {VI: dict(task, name="up2", source={"upload": {"path": str(disk)}}), "register": "bare"},
                {UPLOAD: standalone, "register": "standalone"}])
    assert run.rc == 0, run.stdout
    first = run["first"]
    assert first["phase"] == "Ready" and first["checksums"]["sha256"] == sums["sha256"]
    unverified = [w for w in first.get("warnings", []) if "the platform does not verify the checksums" in w]
    if released:
        assert first["verified_by"] == ["module"]
        assert "checksum" not in (first["image"]["spec"]["dataSource"].get("upload") or {})
        assert len(unverified) == 1 and "source.upload.checksum" in unverified[0]
    else:
        assert first["verified_by"] == ["module", "platform"] and unverified == []
        assert first["image"]["spec"]["dataSource"]["upload"]["checksum"] == sums
    assert run["standalone"]["changed"] is False  # the file is recorded already: nothing to send
    admin_writes.clear()
    again = play([{VI: task, "register": "again"}, {UPLOAD: standalone, "register": "standalone"}])
    assert again["again"]["changed"] is False and again["standalone"]["changed"] is False
    assert admin_writes(namespace) == []


def test_a_wrong_upload_checksum_stops_before_the_last_byte_on_both_lines(play, namespace, tmp_path):
    disk = tmp_path / "disk.raw"
    from sandbox import seed
    seed.make_disk(disk, "raw")
    task = {"name": "bad", "namespace": namespace, "wait_timeout": WAIT,
            "source": {"upload": {"path": str(disk), "checksum": {"sha256": "0" * 64}}}}
    run = play([{VI: task, "register": "bad", "ignore_errors": True}])
    assert run["bad"]["failed"] is True
    assert "does not match" in run["bad"]["msg"] and "0" * 64 in run["bad"]["msg"], run["bad"]["msg"]


def test_api_server_warnings_reach_the_task(play, namespace, sources):
    """A deprecation the platform sends as a Warning header (storage: Kubernetes) is an Ansible warning."""
    definition = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
                  "metadata": {"name": "old-storage", "namespace": namespace},
                  "spec": {"storage": "Kubernetes", "dataSource": {"type": "HTTP", "http": {"url": sources["qcow2"]}}}}
    run = play([{VI: {"definition": definition, "wait": False}, "register": "old"}])
    assert run.rc == 0, run.stdout
    warnings = [w for w in run["old"].get("warnings", []) if w.startswith("the API server warns: ")]
    assert warnings == ["the API server warns: Using the `Kubernetes` storage type is deprecated. "
                        "It is recommended to use `PersistentVolumeClaim` instead."], run["old"]
    assert "[WARNING]: the API server warns: Using the `Kubernetes` storage type is deprecated" in run.stdout


def test_a_quota_refusal_fails_at_once_and_says_the_platform_retries(play, namespace, sources):
    task = {"name": "quota", "namespace": namespace, "wait_timeout": WAIT, "source": {"http": {"url": sources["qcow2"]}},
            "annotations": {"sandbox.deckhouse.io/quota-exceeded": "compute"}}
    run = play([{VI: task, "register": "quota", "ignore_errors": True}])
    result = run["quota"]
    assert result["failed"] is True and result["duration"] < WAIT / 2, result  # at once, not at the timeout
    assert "phase Failed: Quota exceeded: " in result["msg"] and "exceeded quota: compute" in result["msg"]
    assert "the platform retries the import by itself" in result["msg"]


def test_an_import_not_started_is_reported_as_blocked(play, namespace, sources):
    task = {"name": "unscheduled", "namespace": namespace, "wait_timeout": 8,
            "source": {"http": {"url": sources["qcow2"]}},
            "annotations": {"sandbox.deckhouse.io/unschedulable": "0/3 nodes are available: 3 Insufficient cpu."}}
    run = play([{VI: task, "register": "blocked", "ignore_errors": True}])
    result = run["blocked"]
    assert result["failed"] is True and result["msg"].startswith("timed out after 8s"), result
    assert "blocked: Ready False/ProvisioningNotStarted: " in result["msg"]
    assert "0/3 nodes are available: 3 Insufficient cpu." in result["msg"]


def test_a_delete_held_by_cleanup_says_what_it_waits_for(play, namespace, sources, released):
    base = {"name": "held", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}},
            "annotations": {"sandbox.deckhouse.io/cleanup-delay": "30"}, "wait_timeout": WAIT}
    run = play([{VI: base, "register": "made"},
                {VI: {"name": "held", "namespace": namespace, "state": "absent", "wait_timeout": 3},
                 "register": "gone", "ignore_errors": True}])
    assert run["made"]["phase"] == "Ready", run.stdout
    result = run["gone"]
    assert result["failed"] is True and result["msg"].startswith("timed out after 3s"), result
    if released:  # v1.10 has no Terminating condition: the phase is all there is to say
        assert "blocked:" not in result["msg"] and "last phase Terminating" in result["msg"]
    else:
        assert "blocked: Terminating True/CleanupPending: Waiting for the importer Pod" in result["msg"], result
