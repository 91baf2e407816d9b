"""The sandbox's own logs (every component's log and the API audit) hold no token, password or upload URL, after a
run that used each of them, on the paths that work and on those that fail (a wrong registry password, a wrong
token, an upload broken mid-body, a request to an upload URL that is gone)."""
from __future__ import annotations

import json
import secrets
import socket
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Dict, List
from urllib.parse import urlsplit

NS = "deckhouse.virtualization."
VI, UP = NS + "virtual_image", NS + "virtual_image_upload"


def _break_upload_mid_body(url: str) -> None:
    """Announce 1 MiB, send 1 KiB, hang up: the uploader sees an interrupted upload."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 1048576\r\n\r\n" % (parts.path, parts.netloc))
                     .encode() + b"\0" * 1024)


def _answer(url: str, ca: str, token: str = "") -> int:
    request = urllib.request.Request(url, method="GET", headers={"Authorization": "Bearer " + token} if token else {})
    try:
        with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=ca), timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _logs(state_dir: str) -> Dict[str, str]:
    root = Path(state_dir)
    files = sorted((root / "logs").glob("*.log")) + [root / "audit.jsonl"]
    return {path.name: path.read_text(errors="replace") for path in files if path.exists()}


def test_sandbox_logs_hold_no_token_password_or_upload_url(play, sandbox, kube, namespace, registry_image, tmp_path):
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\1" * 65536)
    wrong_password, wrong_token = "wrong-pw-" + secrets.token_hex(8), "wrong-token-" + secrets.token_hex(8)
    token = sandbox.tokens["admin"]
    sent, broken = kube.upload_image(namespace, "sent"), kube.upload_image(namespace, "broken")

    def registry(name: str, password: str) -> Dict[str, Any]:
        creds = {"username": registry_image["username"], "password": password}
        return {VI: {"name": name, "namespace": namespace, "wait_timeout": 60, "source": {"container_image": {
            "image": registry_image["image"], "ca_bundle": registry_image["ca"], "registry_credentials": creds}}},
            "register": name, "ignore_errors": True}

    run = play([
        {UP: {"name": "sent", "namespace": namespace, "path": str(disk), "endpoint": "external",
              "upload_ca_cert": sandbox.ca_path}, "register": "upload"},
        {VI: {"name": "own", "namespace": namespace, "source": {"upload": {"path": str(disk)}}}, "register": "own"},
        registry("reg", registry_image["password"]),
        registry("badpw", wrong_password),
    ], defaults={"kubeconfig": None, "host": sandbox.api_url, "api_key": token, "ca_cert": sandbox.ca_path})
    assert run["upload"]["changed"] is True and run["own"]["phase"] == "Ready", run.fatal()
    assert run["reg"]["phase"] == "Ready" and run["badpw"]["failed"], run.fatal()

    broken_urls = broken["status"]["imageUploadURLs"]
    _break_upload_mid_body(broken_urls["inCluster"])
    kube.poll_phase("VirtualImage", "broken", namespace, "Failed")
    assert _answer(sent["status"]["imageUploadURLs"]["external"], sandbox.ca_path) == 404  # used: gone
    assert _answer(sandbox.api_url + "/api/v1/namespaces", sandbox.ca_path, wrong_token) == 401

    own = kube.get("VirtualImage", namespace, "own") or {}
    published = [(obj.get("status") or {}).get("imageUploadURLs") or {} for obj in (sent, broken, own)]
    urls: List[str] = [url for urls_of_one in published for url in urls_of_one.values()]
    assert len(urls) == 6
    paths = [urlsplit(u).path for u in urls if urlsplit(u).path != "/upload"]  # the external URLs' secret part
    secrets_used = dict({"token " + who: value for who, value in sandbox.tokens.items()},
                        **{"wrong token": wrong_token, "registry password": registry_image["password"],
                           "wrong registry password": wrong_password},
                        **{"upload URL %d" % i: url for i, url in enumerate(urls)},
                        **{"upload path %d" % i: path for i, path in enumerate(paths)})
    logs = _logs(sandbox.state_dir)
    assert {"api.log", "controller.log", "audit.jsonl"} <= set(logs)
    leaks = ["%s in %s" % (what, name) for name, text in logs.items() for what, value in secrets_used.items()
             if value in text]
    assert not leaks, json.dumps(leaks)
