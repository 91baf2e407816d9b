"""virtual_disk on both platform lines (run again with DVP_SANDBOX_PLATFORM=v1.10): a field the released line's
VirtualDisk lacks is refused with nothing stored and named as the option; an upload's checksum is verified by
whoever can; create and re-run write what they must and no more."""
from __future__ import annotations

import hashlib
from typing import Any, Dict

import pytest

DISK = "deckhouse.virtualization.virtual_disk"
WAIT = 60


@pytest.fixture
def released(sandbox: Any) -> bool:
    """The sandbox serves the released line (DVP v1.10)."""
    assert sandbox.platform in ("dev", "v1.10")
    return sandbox.platform == "v1.10"


def test_sha512_is_refused_naming_the_option_on_v110_and_verified_on_dev(
        play, namespace, sandbox, sources, released, admin_writes):
    from pathlib import Path
    data = (Path(sandbox.components["fileserver"]["www"]) / "it-disk.qcow2").read_bytes()
    task = {"name": "sums", "namespace": namespace, "wait_timeout": WAIT, "source": {"http": {
        "url": sources["qcow2"], "checksum": {"sha512": hashlib.sha512(data).hexdigest()}}}}
    admin_writes.clear()
    run = play([{DISK: task, "register": "checked", "check_mode": True, "ignore_errors": True},
                {DISK: task, "register": "made", "ignore_errors": True}])
    for name in ("checked", "made"):
        result = run[name]
        if released:
            assert result["failed"] is True and result["msg"].startswith(
                "source.http.checksum.sha512 (spec.dataSource.http.checksum.sha512): this cluster's VirtualDisk API"), result
            assert result["unknown_fields"] == ["spec.dataSource.http.checksum.sha512"]
        else:
            assert not result.get("failed") and result["changed"] is True, result
    if released:
        assert [w for w in admin_writes.real_anywhere() if w.get("code", 0) < 300] == []
    else:
        assert run["made"]["phase"] == "Ready"


def test_upload_into_a_disk_is_verified_by_whoever_can_and_a_rerun_writes_nothing(
        play, namespace, tmp_path, released, admin_writes):
    from sandbox import seed
    disk = seed.make_disk(tmp_path / "disk.qcow2", "qcow2")
    sums: Dict[str, str] = {"sha256": hashlib.sha256(disk.read_bytes()).hexdigest()}
    task = {"name": "up", "namespace": namespace, "wait_timeout": WAIT,
            "source": {"upload": {"path": str(disk), "checksum": sums}}}
    first = play([{DISK: task, "register": "first"}])
    assert first.rc == 0, first.fatal()
    result = first["first"]
    assert result["disk"]["status"]["phase"] == "Ready" and result["checksums"]["sha256"] == sums["sha256"]
    assert result["disk"]["status"]["imageUploadURLs"]["external"].endswith("/<redacted>")
    if released:
        assert result["verified_by"] == ["module"] and "upload" not in result["disk"]["spec"]["dataSource"]
        assert any("the platform does not verify the checksums" in w for w in result.get("warnings", []))
    else:
        assert result["verified_by"] == ["module", "platform"]
        assert result["disk"]["spec"]["dataSource"]["upload"]["checksum"] == sums
    admin_writes.clear()
    again = play([{DISK: task, "register": "again"}])
    assert again["again"]["changed"] is False and admin_writes(namespace) == []


def test_a_wrong_upload_checksum_stops_before_the_last_byte(play, namespace, tmp_path):
    from sandbox import seed
    disk = seed.make_disk(tmp_path / "disk.raw", "raw")
    task = {"name": "bad", "namespace": namespace, "wait_timeout": WAIT,
            "source": {"upload": {"path": str(disk), "checksum": {"sha256": "0" * 64}}}}
    run = play([{DISK: task, "register": "bad", "ignore_errors": True}])
    assert run["bad"]["failed"] is True and "does not match" in run["bad"]["msg"], run["bad"]["msg"]
