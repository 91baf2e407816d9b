"""HTTP data sources against the running sandbox: formats, compression, failures, checksums."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from _controller_support import (Api, Recorder, api, ca_b64, check_progress, cond, dvcr_layer_files,  # noqa: F401
                                 http_source, seeded, vi, vis)

FORMATS = {  # file -> (format, cdrom)
    "disk.qcow2": ("qcow2", False), "disk.raw": ("raw", False), "disk.vmdk": ("vmdk", False),
    "disk.vdi": ("vdi", False), "cd.iso": ("iso", True), "disk.qcow2.gz": ("qcow2", False),
    "disk.raw.xz": ("raw", False),
}


def _http(sb: Any) -> str:
    return sb.components["fileserver"]["http_url"]


def _https(sb: Any) -> str:
    return sb.components["fileserver"]["https_url"]


def test_every_format_and_compression_goes_ready_and_lands_in_dvcr(
        sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path, tmp_path: Path) -> None:
    for i, name in enumerate(FORMATS):
        api.create(vi(namespace, f"img{i}", http_source(f"{_http(sandbox)}/{name}")))
    for i, (name, (fmt, cdrom)) in enumerate(FORMATS.items()):
        obj = vis.wait_phase(f"img{i}", "Ready", 60)
        st = obj["status"]
        src = (seeded / name).read_bytes()
        assert (st["format"], st["cdrom"]) == (fmt, cdrom)
        assert st["size"]["storedBytes"] == str(len(src))
        assert int(st["size"]["unpackedBytes"]) >= 4 * 1024 * 1024 or fmt == "iso"
        assert st["progress"] == "100%"
        assert set(st["downloadSpeed"]) == {"avg", "avgBytes"}
        uid = obj["metadata"]["uid"]
        assert st["target"]["registryURL"] == f"{sandbox.components['dvcr']['host']}/vi/{namespace}/img{i}:{uid}"
        assert obj["metadata"]["finalizers"] == ["virtualization.deckhouse.io/vi-cleanup"]
        ready = cond(obj, "Ready")
        assert (ready["status"], ready["reason"], ready["message"]) == ("True", "Ready", "")
        assert ready["observedGeneration"] == obj["metadata"]["generation"] == st["observedGeneration"]
        assert cond(obj, "InUse")["reason"] == "NotInUse"
        # DVCR holds one uncompressed layer with disk/<file> = the original bytes (compressed as given)
        files = dvcr_layer_files(sandbox, st["target"]["registryURL"], tmp_path)
        assert files == {f"disk/{name}": src}
        # the watch saw the import happen: Provisioning with 0% before Ready
        history = vis.history(f"img{i}")
        assert any(h.get("status", {}).get("phase") == "Provisioning" for h in history)
        assert check_progress(history)[0] == "0%"


def test_https_with_ca_bundle_and_all_checksums(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                seeded: Path) -> None:
    data = (seeded / "disk.vdi").read_bytes()
    import gostcrypto.gosthash as gost
    sums = {a: hashlib.new(a, data).hexdigest() for a in ("md5", "sha1", "sha256", "sha512")}
    sums.update({a: gost.new(a, data=data).hexdigest() for a in ("streebog256", "streebog512")})
    api.create(vi(namespace, "tls", http_source(f"{_https(sandbox)}/disk.vdi", caBundle=ca_b64(sandbox),
                                                checksum=sums)))
    assert vis.wait_phase("tls", "Ready", 60)["status"]["format"] == "vdi"


def _failed(vis: Recorder, name: str, pod_ns: str, uid_of: Any = None) -> tuple[str, str]:
    obj = vis.wait_phase(name, "Failed", 60)
    ready = cond(obj, "Ready")
    prefix = f"Provisioning failed: Pod {pod_ns}/d8v-vi-importer-{obj['metadata']['uid']} reported: "
    assert ready["message"].startswith(prefix) and ready["message"].endswith("."), ready["message"]
    return ready["reason"], ready["message"][len(prefix):-1]


def test_http_errors_fail_with_the_platform_messages(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                     seeded: Path) -> None:
    from sandbox.config import free_port
    dead = f"http://127.0.0.1:{free_port()}/disk.qcow2"
    bad_tls = f"{_https(sandbox)}/disk.qcow2"
    api.create(vi(namespace, "notfound", http_source(f"{_http(sandbox)}/fault/404/disk.qcow2")))
    api.create(vi(namespace, "missing", http_source(f"{_http(sandbox)}/no-such-file.img")))
    api.create(vi(namespace, "unreachable", http_source(dead)))
    api.create(vi(namespace, "badtls", http_source(bad_tls)))
    api.create(vi(namespace, "elsewhere", http_source("https://images.example.invalid/disk.qcow2")))
    http_err = "error creating data source: error creating HTTP data source: "
    assert _failed(vis, "notfound", namespace) == (
        "ProvisioningFailed", http_err + "expected status code 200, got 404. Status: 404 Not Found")
    assert _failed(vis, "missing", namespace)[1].endswith("got 404. Status: 404 Not Found")
    port = dead.split(":")[2].split("/")[0]
    assert _failed(vis, "unreachable", namespace)[1] == (
        http_err + f'HTTP request errored: Get "{dead}": dial tcp 127.0.0.1:{port}: connect: connection refused')
    assert _failed(vis, "badtls", namespace)[1] == (
        http_err + f'HTTP request errored: Get "{bad_tls}": tls: failed to verify certificate: '
        "x509: certificate signed by unknown authority")
    assert _failed(vis, "elsewhere", namespace)[1].endswith("lookup images.example.invalid: no such host")
    # Failed is terminal: nothing changes afterwards, and no progress was reported as 100%
    for name in ("notfound", "unreachable"):
        last = vis.last(name)
        assert last["status"]["phase"] == "Failed" and last["status"].get("progress") != "100%"


@pytest.mark.parametrize("algo,width", [("md5", 32), ("sha1", 40), ("sha256", 64), ("sha512", 128),
                                        ("streebog256", 64), ("streebog512", 128)])
def test_checksum_mismatch_per_algorithm(sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path,
                                         algo: str, width: int) -> None:
    data = (seeded / "disk.vdi").read_bytes()
    if algo.startswith("streebog"):
        import gostcrypto.gosthash as gost
        actual = gost.new(algo, data=data).hexdigest()
    else:
        actual = hashlib.new(algo, data).hexdigest()
    wrong = "ab" * (width // 2)
    api.create(vi(namespace, "sum", http_source(f"{_http(sandbox)}/disk.vdi", checksum={algo: wrong})))
    # dvcr-artifact registry.Process wraps the importer's error; main does not retry it (a permanent error)
    assert _failed(vis, "sum", namespace) == ("ProvisioningFailed",
                                              f"source streaming error: {algo} sum mismatch: {wrong} != {actual}")


def test_transient_errors_are_retried_then_reported(sandbox: Any, api: Api, namespace: str, vis: Recorder,
                                                     seeded: Path) -> None:
    short = {"sandbox.deckhouse.io/retry-window": "1"}
    api.create(vi(namespace, "flaky", http_source(f"{_http(sandbox)}/fault/flaky/2/disk.qcow2?{namespace}")))
    api.create(vi(namespace, "drop", http_source(f"{_http(sandbox)}/fault/drop/disk.raw"), annotations=short))
    api.create(vi(namespace, "err500", http_source(f"{_http(sandbox)}/fault/500/disk.raw"), annotations=short))
    assert vis.wait_phase("flaky", "Ready", 60)["status"]["format"] == "qcow2"
    assert _failed(vis, "drop", namespace)[1] == "unable to process data: unexpected EOF"
    assert _failed(vis, "err500", namespace)[1].endswith(
        "expected status code 200, got 500. Status: 500 Internal Server Error")


def test_html_page_becomes_raw_and_slow_import_reports_progress_and_speed(
        sandbox: Any, api: Api, namespace: str, vis: Recorder, seeded: Path) -> None:
    (seeded / f"{namespace}.html").write_text("<html><body>hello</body></html>\n")
    api.create(vi(namespace, "page", http_source(f"{_http(sandbox)}/{namespace}.html")))
    slow = {"sandbox.deckhouse.io/import-rate": str(1024 * 1024)}   # 4 MiB raw at 1 MiB/s
    api.create(vi(namespace, "slow", http_source(f"{_http(sandbox)}/disk.raw"), annotations=slow))
    assert vis.wait_phase("page", "Ready", 30)["status"]["format"] == "raw"
    mid = vis.wait("slow", lambda o: (o.get("status") or {}).get("progress") not in (None, "0%", "100%"), 30,
                   "progress between 0 and 100")
    speed = mid["status"]["downloadSpeed"]
    assert set(speed) == {"avg", "avgBytes", "current", "currentBytes"} and speed["avg"].endswith("/s")
    assert mid["status"]["target"]["registryURL"].endswith(mid["metadata"]["uid"])
    vis.wait_phase("slow", "Ready", 30)
    assert len(check_progress(vis.history("slow"))) >= 4   # 0%, some steps, 100%
