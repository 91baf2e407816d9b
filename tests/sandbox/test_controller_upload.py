"""Upload data source: the uploader's HTTP contract, phases, deadline and failures."""
from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import threading
import urllib.parse
from pathlib import Path
from typing import Any

import requests

from _controller_support import Api, Recorder, api, cond, dvcr_layer_files, seeded, vi, vis  # noqa: F401

UPLOAD = {"type": "Upload"}


def _urls(vis: Recorder, name: str) -> dict:
    obj = vis.wait_phase(name, "WaitForUserUpload", 30)
    ready = cond(obj, "Ready")
    assert (ready["reason"], ready["message"]) == ("WaitForUserUpload", "Waiting for the image to be uploaded.")
    assert obj["status"]["progress"] == "0%"
    return obj["status"]["imageUploadURLs"]


def _curl(sb: Any, url: str, *args: str) -> tuple[int, str]:
    """curl exactly as the user guide does it (plus the sandbox CA); returns (HTTP code, body)."""
    out = subprocess.run(["curl", "-sS", "--noproxy", "*", "--cacert", sb.ca_path, "-o", "-", "-w", "\n%{http_code}",
                          *args, url], capture_output=True, text=True, timeout=60)
    body, _, code = out.stdout.rpartition("\n")
    return int(code or 0), body


def test_upload_happy_path_with_curl(sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path,
                                     tmp_path: Path) -> None:
    src = seeded / "disk.qcow2.gz"
    api.create(vi(namespace, "up", {"type": "Upload", "upload": {
        "checksum": {"sha256": hashlib.sha256(src.read_bytes()).hexdigest()}}}))
    urls = _urls(vis, "up")
    history = vis.history("up")
    uploader_msgs = [cond(h, "Ready")["message"] for h in history
                     if h.get("status", {}).get("phase") == "Provisioning" and cond(h, "Ready")]
    uid = history[-1]["metadata"]["uid"]
    assert f'Waiting for the uploader "d8v-vi-uploader-{uid}" to be ready to process the user\'s upload.' \
        in uploader_msgs
    ext = urllib.parse.urlsplit(urls["external"])
    assert ext.scheme == "https" and ext.hostname == "127.0.0.1"
    token = ext.path.rsplit("/", 1)[-1]
    assert ext.path == f"/upload/{token}" and re.fullmatch(r"[a-z0-9]{32}", token)
    assert urls["inCluster"].startswith("http://127.0.0.1:") and urls["inCluster"].endswith("/upload")
    # readiness probe and wrong methods
    assert _curl(sandbox, urls["external"]) == (200, "")
    assert _curl(sandbox, urls["external"], "-X", "DELETE")[0] == 404
    other = urls["external"][:-1] + ("0" if urls["external"][-1] != "0" else "1")
    assert _curl(sandbox, other)[0] == 404                                  # the random path is the key
    code, _ = _curl(sandbox, urls["external"], "--progress-bar", "-T", str(src))
    assert code == 200
    # 200 once the uploader stored the data; Ready follows from the controller, as on the platform
    obj = vis.wait_phase("up", "Ready", 30)
    st = obj["status"]
    assert (st["format"], st["size"]["storedBytes"]) == ("qcow2", str(src.stat().st_size))
    files = dvcr_layer_files(sandbox, st["target"]["registryURL"], tmp_path)
    assert list(files.values()) == [src.read_bytes()]
    assert st["imageUploadURLs"] == urls                  # stay in status, dead
    assert _curl(sandbox, urls["external"], "-T", str(src))[0] == 404
    assert _curl(sandbox, urls["external"])[0] == 404


def test_upload_in_cluster_url_with_post(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                         seeded: Path) -> None:
    api.create(vi(namespace, "post", UPLOAD))
    urls = _urls(vis, "post")
    data = (seeded / "cd.iso").read_bytes()
    r = requests.post(urls["inCluster"], data=data, timeout=60)
    assert r.status_code == 200
    assert vis.wait_phase("post", "Ready", 10)["status"]["format"] == "iso"


def _raw_put(url: str, declared: int, body: bytes, hold: threading.Event | None = None) -> socket.socket:
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=30)
    s.sendall(f"PUT {u.path} HTTP/1.1\r\nHost: {u.netloc}\r\nContent-Length: {declared}\r\n\r\n".encode() + body)
    return s


def test_concurrent_upload_is_refused_and_short_body_fails_terminally(
        sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path) -> None:
    api.create(vi(namespace, "short", UPLOAD))
    urls = _urls(vis, "short")
    first = _raw_put(urls["inCluster"], 4096, b"x" * 1000)     # declares more than it sends
    vis.wait_phase("short", "Provisioning", 10)
    assert _curl(sandbox, urls["external"], "-T", str(seeded / "disk.vdi"))[0] == 503
    first.shutdown(socket.SHUT_WR)                              # ...and stops: interrupted upload
    answer = first.recv(4096).decode()
    first.close()
    assert answer == "" or answer.startswith("HTTP/1.1 500")   # a 500, if the half-closed socket still hears
    obj = vis.wait_phase("short", "Failed", 10)
    ready = cond(obj, "Ready")
    assert ready["reason"] == "ProvisioningFailedTerminally"
    assert ready["message"] == (f"Provisioning failed: Pod {namespace}/d8v-vi-uploader-{obj['metadata']['uid']} "
                                "reported: source image size mismatch.")
    assert "imageUploadURLs" not in obj["status"]


def test_chunked_upload_and_checksum_mismatch_fail(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                  seeded: Path) -> None:
    api.create(vi(namespace, "chunked", UPLOAD))
    api.create(vi(namespace, "badsum", {"type": "Upload", "upload": {"checksum": {"md5": "0" * 32}}}))
    urls = _urls(vis, "chunked")
    src = seeded / "disk.vdi"
    code, body = _curl(sandbox, urls["external"], "-H", "Transfer-Encoding: chunked", "-T", str(src))
    assert code == 500 and "zero data source image size" in body
    assert cond(vis.wait_phase("chunked", "Failed", 10), "Ready")["message"].endswith(
        "reported: zero data source image size.")
    urls = _urls(vis, "badsum")
    assert _curl(sandbox, urls["external"], "-T", str(src))[0] == 500
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    assert cond(vis.wait_phase("badsum", "Failed", 10), "Ready")["message"].endswith(
        f"reported: md5 sum mismatch: {'0' * 32} != {md5}.")


def test_upload_deadline(sandbox: Any, api: Api, namespace: str, vis: Recorder) -> None:
    api.create(vi(namespace, "late", UPLOAD, annotations={"sandbox.deckhouse.io/upload-deadline": "1"}))
    urls = _urls(vis, "late")
    obj = vis.wait_phase("late", "Failed", 15)
    ready = cond(obj, "Ready")
    assert (ready["reason"], ready["message"]) == (
        "WaitForUserUploadTimeout",
        "The image was not uploaded within 10 minutes. Recreate the VirtualImage to upload the image again.")
    assert "imageUploadURLs" not in obj["status"]
    assert _curl(sandbox, urls["external"])[0] == 404
