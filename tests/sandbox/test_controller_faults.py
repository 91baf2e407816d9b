"""Fault injection: the controller killed mid-import, DVCR outages."""
from __future__ import annotations

import shutil
import socket
import urllib.parse
from pathlib import Path
from typing import Any

import requests

from sandbox import supervisor
from sandbox.components import UpOptions, by_name

from _controller_support import Api, Recorder, api, check_progress, cond, http_source, seeded, vi, vis  # noqa: F401

SLOW = {"sandbox.deckhouse.io/import-rate": str(1024 * 1024)}   # 4 MiB raw: ~4 s


def test_controller_restart_mid_import_restarts_it_from_scratch(
        sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    shutil.copyfile(seeded / "disk.raw", seeded / f"{namespace}.raw")
    api.create(vi(namespace, "upload", {"type": "Upload"}))
    api.create(vi(namespace, "midway", {"type": "Upload"}))
    urls = vis.wait_phase("upload", "WaitForUserUpload", 30)["status"]["imageUploadURLs"]
    mid = urllib.parse.urlsplit(vis.wait_phase("midway", "WaitForUserUpload", 30)["status"]["imageUploadURLs"][
        "inCluster"])
    sock = socket.create_connection((mid.hostname, mid.port), timeout=10)
    sock.sendall("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n".encode() + b"x" * 1000)
    vis.wait_phase("midway", "Provisioning", 30)
    api.create(vi(namespace, "slow", http_source(f"{http}/{namespace}.raw"), annotations=SLOW))
    vis.wait("slow", lambda o: (o.get("status") or {}).get("progress") not in (None, "0%"), 30, "progress")
    assert vis.last("slow")["status"]["phase"] == "Provisioning"
    sandbox.restart("controller")
    sock.close()
    # an upload cut by the restart cannot resume: Failed terminally, URLs cleared
    cut = vis.wait_phase("midway", "Failed", 30)
    assert cond(cut, "Ready")["reason"] == "ProvisioningFailedTerminally"
    assert "imageUploadURLs" not in cut["status"]
    obj = vis.wait_phase("slow", "Ready", 60)
    assert obj["status"]["format"] == "raw"
    check_progress(vis.history("slow"))        # the restarted import never shows progress going down
    stats = requests.get(f"{http}/stats", timeout=10).json()
    assert stats["requests"][f"{namespace}.raw"] == 2   # fetched again from the first byte
    # an upload nobody had started yet survives: same external URL, a fresh uploader behind it
    again = vis.wait("upload", lambda o: (o.get("status") or {}).get("phase") == "WaitForUserUpload"
                     and (o["status"].get("imageUploadURLs") or {}).get("inCluster") != urls["inCluster"], 30)
    assert again["status"]["imageUploadURLs"]["external"] == urls["external"]


def test_dvcr_outage_holds_imports_until_it_returns(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                    seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    api.create(vi(namespace, "before", http_source(f"{http}/disk.vdi"),
                  annotations={"sandbox.deckhouse.io/image-check-interval": "0.3"}))
    vis.wait_phase("before", "Ready", 60)
    supervisor.stop_component(sandbox.state, "dvcr")
    try:
        api.create(vi(namespace, "during", http_source(f"{http}/disk.vdi")))
        obj = vis.wait("during", lambda o: cond(o, "Ready") is not None and
                       cond(o, "Ready")["message"] == "The image is being imported.", 30)
        assert obj["status"]["phase"] == "Provisioning"
    finally:
        supervisor.start_component(sandbox.state, by_name("dvcr"), UpOptions())
    vis.wait_phase("during", "Ready", 60)
    # an outage is not a loss: the Ready image never went ImageLost
    assert all((h.get("status") or {}).get("phase") != "ImageLost" for h in vis.history("before"))


def test_controller_rides_out_api_errors_and_cut_watches(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                        seeded: Path) -> None:
    http = sandbox.components["fileserver"]["http_url"]
    sandbox.set_faults(error_rate=0.3, throttle_rate=0.2, retry_after=0, watch_cut=1, only_verbs=["patch"])
    try:
        for name in ("a", "b"):
            api.create(vi(namespace, name, http_source(f"{http}/disk.qcow2")))
        for name in ("a", "b"):
            assert vis.wait_phase(name, "Ready", 60)["metadata"]["finalizers"] == [
                "virtualization.deckhouse.io/vi-cleanup"]
    finally:
        sandbox.set_faults(clear=True)
