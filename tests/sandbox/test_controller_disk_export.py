"""A data export of a VirtualDisk as the vd controller reports it (the export itself is the storage module's): the
request annotation on the disk's PVC makes it InUse UsedForDataExport, and its PVC lost under that request makes it
Exporting until the volume is back. Both lines: v1.10.2 reads only the storage module's old annotation key and
gives InUse no message."""
from __future__ import annotations

import time
from typing import Iterator

import pytest
from _controller_support import Api, Recorder, cond
from test_controller_disks import ready_of, v110, vd  # noqa: F401 (v110: a fixture)

REQUEST_KEY = {"dev": "storage-foundation.deckhouse.io/data-export-request",
               "v1.10": "storage.deckhouse.io/data-export-request"}
IN_USE_MESSAGE = {"dev": "The VirtualDisk is in use by a data export request; the export must finish to release "
                         "the disk.", "v1.10": ""}


@pytest.fixture(params=["dev", "v1.10"])
def line(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def line_api(request: pytest.FixtureRequest, line: str) -> Iterator[tuple[Api, str]]:
    sb = request.getfixturevalue("sandbox" if line == "dev" else "v110")
    if sb.platform != line:
        pytest.skip("the session sandbox serves v1.10 (DVP_SANDBOX_PLATFORM): that line runs as the v1.10 case")
    api = Api(sb)
    ns = f"export-{time.monotonic_ns() % 10**8}"
    api.req("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    yield api, ns
    api.delete("Namespace", None, ns)


def set_pvc_phase(api: Api, ns: str, pvc: str, phase: str) -> None:
    api.req("PATCH", api.path("PersistentVolumeClaim", ns, pvc) + "/status", {"status": {"phase": phase}},
            "application/merge-patch+json")


def test_a_data_export_holds_the_disk_and_a_lost_volume_under_it_is_exporting(line: str,
                                                                              line_api: tuple[Api, str]) -> None:
    api, ns = line_api
    disks = Recorder(api, "VirtualDisk", ns)
    try:
        api.create(vd(ns, "data"))
        ready = disks.wait_phase("data", "Ready", 60)
        pvc = ready["status"]["target"]["persistentVolumeClaimName"]
        api.patch("PersistentVolumeClaim", ns, pvc, {"metadata": {"annotations": {REQUEST_KEY[line]: "true"}}})
        held = disks.wait("data", lambda o: (cond(o, "InUse") or {}).get("status") == "True", 30)
        in_use = cond(held, "InUse")
        assert (in_use["reason"], in_use["message"]) == ("UsedForDataExport", IN_USE_MESSAGE[line])
        set_pvc_phase(api, ns, pvc, "Lost")
        exporting = disks.wait_phase("data", "Exporting", 30)
        assert ready_of(exporting) == ("False", "Exporting", "The VirtualDisk is being exported.")
        set_pvc_phase(api, ns, pvc, "Bound")
        api.patch("PersistentVolumeClaim", ns, pvc, {"metadata": {"annotations": {REQUEST_KEY[line]: None}}})
        back = disks.wait("data", lambda o: o["status"]["phase"] == "Ready"
                          and (cond(o, "InUse") or {}).get("reason") == "NotInUse", 30)
        assert ready_of(back) == ("True", "Ready", "")
    finally:
        disks.stop()


def test_a_volume_lost_without_a_request_the_line_knows_is_pvc_lost(line: str, line_api: tuple[Api, str]) -> None:
    """No request on dev; on v1.10 the storage module's renamed key, which v1.10.2 does not read."""
    api, ns = line_api
    disks = Recorder(api, "VirtualDisk", ns)
    try:
        api.create(vd(ns, "data"))
        ready = disks.wait_phase("data", "Ready", 60)
        pvc = api.get("PersistentVolumeClaim", ns, ready["status"]["target"]["persistentVolumeClaimName"])
        if line == "v1.10":
            api.patch("PersistentVolumeClaim", ns, pvc["metadata"]["name"],
                      {"metadata": {"annotations": {REQUEST_KEY["dev"]: "true"}}})
        set_pvc_phase(api, ns, pvc["metadata"]["name"], "Lost")
        lost = disks.wait_phase("data", "PVCLost", 30)
        assert ready_of(lost) == ("False", "PVCLost",
                                  'The PersistentVolume "%s" not found.' % pvc["spec"].get("volumeName", ""))
        assert cond(lost, "InUse")["reason"] == "NotInUse"
    finally:
        disks.stop()
