"""virtual_image_upload against the sandbox's real upload server, through real ansible-playbook runs.

Images are created as GitOps would (straight through the API); the module only uploads. Files are tiny.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import lzma
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional
from urllib.parse import urlsplit

import pytest

VI = "virtualization.deckhouse.io/v1alpha2"
MOD = "deckhouse.virtualization.virtual_image_upload"
ANNOTATION = "virtualization.deckhouse.io/ansible-upload-checksum"
DEADLINE_ANNOTATION = "sandbox.deckhouse.io/upload-deadline"


# -- helpers ------------------------------------------------------------------------------------------
def api(k8s: Any, kind: str = "VirtualImage") -> Any:
    return k8s.resources.get(api_version=VI, kind=kind)


def create_upload_image(k8s: Any, namespace: Optional[str], name: str, annotations: Optional[Dict[str, str]] = None,
                        checksum: Optional[Dict[str, str]] = None) -> None:
    """What GitOps would apply: an image waiting for a user upload."""
    kind = "VirtualImage" if namespace else "ClusterVirtualImage"
    meta: Dict[str, Any] = {"name": name, "labels": {"owner": "gitops"}, "annotations": dict(annotations or {})}
    if namespace:
        meta["namespace"] = namespace
    data_source: Dict[str, Any] = {"type": "Upload"}
    if checksum:
        data_source["upload"] = {"checksum": checksum}
    api(k8s, kind).create(body={"apiVersion": VI, "kind": kind, "metadata": meta, "spec": {"dataSource": data_source}},
                          namespace=namespace)


def get_image(k8s: Any, namespace: Optional[str], name: str) -> Optional[Dict[str, Any]]:
    from kubernetes.dynamic.exceptions import NotFoundError
    kind = "VirtualImage" if namespace else "ClusterVirtualImage"
    try:
        return api(k8s, kind).get(name=name, namespace=namespace).to_dict()
    except NotFoundError:
        return None


def wait_phase(k8s: Any, namespace: Optional[str], name: str, phases: List[str], timeout: float = 30) -> Dict[str, Any]:
    """Poll the server's state until the image is in one of ``phases`` (deadline, not a bare sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        obj = get_image(k8s, namespace, name)
        if obj and (obj.get("status") or {}).get("phase") in phases:
            return obj
        assert time.monotonic() < deadline, "image %s never reached %s: %s" % (name, phases, obj and obj.get("status"))
        time.sleep(0.1)


def wait_upload_urls(k8s: Any, namespace: Optional[str], name: str, timeout: float = 30) -> Dict[str, str]:
    """Poll the server's state until the image publishes its upload URLs (deadline, not a bare sleep)."""
    deadline = time.monotonic() + timeout
    while True:
        obj = get_image(k8s, namespace, name)
        urls = ((obj or {}).get("status") or {}).get("imageUploadURLs")
        if urls:
            return urls
        assert time.monotonic() < deadline, "image %s never published its upload URLs: %s" % (
            name, obj and obj.get("status"))
        time.sleep(0.1)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha1(path: Path) -> str:
    """The checksum the modules record when none is given."""
    return hashlib.sha1(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def disks(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Path]:
    """qcow2, raw, iso, raw.gz, qcow2.xz and a second qcow2 (different content), all tiny."""
    folder = tmp_path_factory.mktemp("upload-disks")
    files: Dict[str, Path] = {}
    files["qcow2"] = folder / "disk.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(files["qcow2"]), "16M"], check=True)
    files["qcow2_b"] = folder / "other.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(files["qcow2_b"]), "32M"], check=True)
    files["raw"] = folder / "disk.raw"
    files["raw"].write_bytes(os.urandom(256 * 1024))
    iso_dir = folder / "iso-content"
    iso_dir.mkdir()
    (iso_dir / "hello.txt").write_text("hello\n")
    files["iso"] = folder / "disk.iso"
    subprocess.run(["xorriso", "-as", "mkisofs", "-quiet", "-o", str(files["iso"]), str(iso_dir)], check=True,
                   capture_output=True)
    files["gz"] = folder / "disk.raw.gz"
    files["gz"].write_bytes(gzip.compress(files["raw"].read_bytes()))
    files["xz"] = folder / "disk.qcow2.xz"
    files["xz"].write_bytes(lzma.compress(files["qcow2"].read_bytes(), format=lzma.FORMAT_XZ))
    files["big"] = folder / "big.raw"
    files["big"].write_bytes(os.urandom(3 * 1024 * 1024))
    return files


def secrets_of(obj: Dict[str, Any]) -> List[str]:
    """What must never be printed: each URL, and the external URL's random path."""
    urls = ((obj.get("status") or {}).get("imageUploadURLs") or {}).values()
    found = []
    for url in urls:
        found.append(url)
        path = urlsplit(url).path.rsplit("/", 1)[-1]
        if len(path) == 32:
            found.append(path)
    return found


# -- a proxy that cuts the first upload it relays ------------------------------------------------------
class CuttingProxy:
    """Relays PUTs to the image's current in-cluster URL; cuts the first ``cuts`` connections after ``limit`` bytes.

    ``on_503`` is called when the server answers a relayed request with 503.

    It asks the API for the URL on every connection, so it follows a recreated image.
    """

    def __init__(self, target: Callable[[], str], limit: int, cuts: int = 1,
                 on_503: Callable[[], None] = lambda: None) -> None:
        self.target = target
        self.on_503 = on_503
        self.limit = limit
        self.cuts = cuts
        self.count = 0
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(4)
        self.url = "http://127.0.0.1:%d/upload" % self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                client, _address = self.server.accept()
            except OSError:
                return
            self.count += 1
            threading.Thread(target=self._relay, args=(client, self.count <= self.cuts), daemon=True).start()

    def _relay(self, client: socket.socket, cut: bool) -> None:
        try:
            parts = urlsplit(self.target())
            upstream = socket.create_connection((parts.hostname, parts.port or 80))
        except (AssertionError, OSError, KeyError):
            client.close()  # the module sees a broken connection rather than a hang
            return

        def back() -> None:
            try:
                while True:
                    data = upstream.recv(65536)
                    if not data:
                        break
                    if data.startswith(b"HTTP/1.1 503"):
                        self.on_503()
                    client.sendall(data)
            except OSError:
                pass
            finally:
                client.close()

        threading.Thread(target=back, daemon=True).start()
        forwarded = 0
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                if cut and forwarded + len(data) >= self.limit:
                    upstream.sendall(data[:self.limit - forwarded])
                    break
                upstream.sendall(data)
                forwarded += len(data)
        except OSError:
            pass
        if cut:
            for sock in (client, upstream):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        else:
            upstream.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.server.close()


# -- tests --------------------------------------------------------------------------------------------
def test_every_format_and_endpoint_then_unchanged_without_a_byte(play, namespace, k8s, sandbox, disks,
                                                                 admin_writes):
    """qcow2 (external + CA), raw (in_cluster), iso (auto), .gz with given sums, .xz with streebog, a CVI."""
    cvi = "up-%s" % namespace
    for name in ("qcow2", "raw", "iso", "gz", "xz"):
        create_upload_image(k8s, namespace, name)
    create_upload_image(k8s, None, cvi)
    given = {"md5": hashlib.md5(disks["gz"].read_bytes()).hexdigest(), "sha256": sha256(disks["gz"]).upper()}
    streebog = __import__("gostcrypto.gosthash", fromlist=["new"]).new(
        "streebog256", data=disks["xz"].read_bytes()).hexdigest()

    def task(name: str, path: Path, **extra: Any) -> Dict[str, Any]:
        args = {"name": name, "namespace": namespace, "path": str(path)}
        args.update(extra)
        return {"name": "upload %s" % name, MOD: args, "register": name}

    tasks = [
        task("qcow2", disks["qcow2"], endpoint="external", upload_ca_cert=sandbox.ca_path),
        task("raw", disks["raw"], endpoint="in_cluster"),
        task("iso", disks["iso"]),
        task("gz", disks["gz"], checksum=given),
        task("xz", disks["xz"], checksum={"streebog256": streebog}),
        {"name": "cvi", MOD: {"name": cvi, "cluster": True, "path": str(disks["qcow2"])}, "register": "cvi"},
    ]
    first = play(tasks, verbosity=3)
    assert first.rc == 0, first.stdout[-3000:]
    expected_format = {"qcow2": "qcow2", "raw": "raw", "iso": "iso", "gz": "raw", "xz": "qcow2"}
    for name, fmt in expected_format.items():
        result = first[name]
        assert result["changed"] is True and result["phase"] == "Ready", (name, result.get("msg"))
        assert result["bytes"] == disks[name].stat().st_size and result["throughput"] > 0
        obj = get_image(k8s, namespace, name)
        assert obj["status"]["format"] == fmt, name
        assert obj["status"]["size"]["storedBytes"] == str(disks[name].stat().st_size)  # compressed as sent
        assert json.loads(obj["metadata"]["annotations"][ANNOTATION])["size"] == disks[name].stat().st_size
        assert [p["phase"] for p in result["phases"]][-1] == "Ready"
    assert first["qcow2"]["endpoint"] == "external" and first["raw"]["endpoint"] == "in_cluster"
    assert first["iso"]["endpoint"] == "in_cluster"  # auto: the in-cluster URL answers its probe here
    assert first["qcow2"]["checksums"] == {"sha1": sha1(disks["qcow2"])}
    assert first["gz"]["checksums"] == {"md5": given["md5"], "sha256": given["sha256"].lower()}
    assert first["xz"]["checksums"] == {"streebog256": streebog}
    assert "libengine-gost-openssl" not in first.stdout  # OpenSSL's GOST provider hashed it: no slow-path warning
    assert first["cvi"]["phase"] == "Ready" and get_image(k8s, None, cvi)["status"]["format"] == "qcow2"
    assert "uploading" in first.stdout  # progress lines at -v
    # the URLs are credentials: nowhere in -vvv output, and redacted in the returned image
    for name in list(expected_format) + [cvi]:
        obj = get_image(k8s, None if name == cvi else namespace, name)
        for secret in secrets_of(obj):
            assert secret not in first.stdout, name
    assert first["qcow2"]["image"]["status"]["imageUploadURLs"]["external"].endswith("/<redacted>")

    admin_writes.clear()
    second = play(tasks)
    assert second.rc == 0, second.stdout[-3000:]
    for name in list(expected_format) + ["cvi"]:
        assert second[name]["changed"] is False and second[name]["bytes"] == 0, name
    assert admin_writes(namespace) == [] and admin_writes(None) == []
    api(k8s, "ClusterVirtualImage").delete(name=cvi)


def test_changed_file_is_detected_and_recreate_replaces_it(play, namespace, k8s, disks):
    create_upload_image(k8s, namespace, "img")
    base = {"name": "img", "namespace": namespace, "path": str(disks["qcow2"])}
    run = play([
        {MOD: base, "register": "first"},
        {MOD: dict(base, path=str(disks["qcow2_b"])), "register": "differs", "ignore_errors": True},
        {MOD: dict(base, path=str(disks["qcow2_b"]), recreate=True), "register": "recreated"},
    ], diff=True)
    assert run.rc == 0, run.stdout[-3000:]
    differs = run["differs"]
    assert differs["failed"] is True and "recreate: true" in differs["msg"]
    assert any(f.startswith("checksum.sha1") for f in differs["differing_fields"])
    recreated = run["recreated"]
    assert recreated["changed"] is True and recreated["phase"] == "Ready"
    assert recreated["image"]["metadata"]["uid"] != run["first"]["image"]["metadata"]["uid"]
    assert recreated["image"]["metadata"]["labels"] == {"owner": "gitops"}
    record = json.loads(get_image(k8s, namespace, "img")["metadata"]["annotations"][ANNOTATION])
    assert record == {"sha1": sha1(disks["qcow2_b"]), "size": disks["qcow2_b"].stat().st_size}


def test_wrong_checksum_fails_before_anything_is_sent_and_check_mode_sends_nothing(
        play, namespace, k8s, disks, admin_writes):
    create_upload_image(k8s, namespace, "img")
    waiting = wait_phase(k8s, namespace, "img", ["WaitForUserUpload"])
    admin_writes.clear()
    run = play([
        {MOD: {"name": "img", "namespace": namespace, "path": str(disks["raw"]), "checksum": {"sha1": "0" * 40}},
         "register": "wrong", "ignore_errors": True},
        {MOD: {"name": "img", "namespace": namespace, "path": str(disks["raw"])}, "register": "checked",
         "check_mode": True},
    ], diff=True)
    assert run.rc == 0, run.stdout[-3000:]
    assert run["wrong"]["failed"] is True and "checksum.sha1" in run["wrong"]["msg"]
    assert "nothing was sent" in run["wrong"]["msg"]
    assert run["checked"]["changed"] is True and run["checked"]["bytes"] == 0
    assert ANNOTATION in run["checked"]["diff"]["after"]["metadata"]["annotations"]
    now = get_image(k8s, namespace, "img")
    assert now["status"]["phase"] == "WaitForUserUpload"
    assert now["status"]["imageUploadURLs"] == waiting["status"]["imageUploadURLs"]  # the URL is still unused
    assert admin_writes(namespace) == []


def test_interrupted_upload_without_and_with_retries(play, namespace, k8s, disks):
    create_upload_image(k8s, namespace, "once")
    create_upload_image(k8s, namespace, "again")

    def in_cluster(name: str) -> Callable[[], str]:
        return lambda: wait_phase(k8s, namespace, name, ["WaitForUserUpload"])["status"]["imageUploadURLs"]["inCluster"]

    proxies = [CuttingProxy(in_cluster("once"), limit=512 * 1024), CuttingProxy(in_cluster("again"), limit=512 * 1024)]
    try:
        run = play([
            {MOD: {"name": "once", "namespace": namespace, "path": str(disks["big"]), "upload_url": proxies[0].url,
                   "retries": 0}, "register": "once", "ignore_errors": True},
            {MOD: {"name": "again", "namespace": namespace, "path": str(disks["big"]), "upload_url": proxies[1].url,
                   "retries": 1, "show_upload_url": True}, "register": "again"},
        ], verbosity=1)
    finally:
        for proxy in proxies:
            proxy.close()
    assert run.rc == 0, run.stdout[-3000:]
    once = run["once"]
    assert once["failed"] is True and "source image size mismatch" in once["msg"] and "retries" in once["msg"]
    assert get_image(k8s, namespace, "once")["status"]["phase"] == "Failed"
    again = run["again"]
    assert again["phase"] == "Ready" and again["attempts"] == 2 and again["changed"] is True
    assert "Failed" in [p["phase"] for p in again["phases"]]
    assert "upload_url" in again  # returned because show_upload_url asked (Ansible masks this no_log value)
    assert "recreating the image" in run.stdout


def test_missed_deadline_fails_or_is_recreated(play, sandbox, namespace, k8s, disks):
    # the sandbox's per-object deadline (seconds); the recreated image keeps it, so the retry must start
    # its upload within 3 s of the new URLs appearing (it starts at once: it watches the image)
    if sandbox.platform == "v1.10":
        pytest.skip("DVP v1.10 has no upload deadline (its controller never fails a waiting upload)")
    create_upload_image(k8s, namespace, "late", annotations={DEADLINE_ANNOTATION: "1"})
    create_upload_image(k8s, namespace, "late-retry", annotations={DEADLINE_ANNOTATION: "3"})
    for name in ("late", "late-retry"):
        failed = wait_phase(k8s, namespace, name, ["Failed"])
        ready = [c for c in failed["status"]["conditions"] if c["type"] == "Ready"][0]
        assert ready["reason"] == "WaitForUserUploadTimeout"
    run = play([
        {MOD: {"name": "late", "namespace": namespace, "path": str(disks["raw"]), "retries": 0},
         "register": "late", "ignore_errors": True},
        {MOD: {"name": "late-retry", "namespace": namespace, "path": str(disks["raw"]), "retries": 1},
         "register": "retried"},
    ])
    assert run.rc == 0, run.stdout[-3000:]
    assert "The image was not uploaded within 10 minutes" in run["late"]["msg"]
    assert run["retried"]["phase"] == "Ready" and run["retried"]["changed"] is True


def slow_upload(url: str, size: int, release: threading.Event) -> threading.Thread:
    """Another client's upload: half the body at once, the rest only once ``release`` is set (at most 60 s)."""
    parts = urlsplit(url)

    def run() -> None:
        with socket.create_connection((parts.hostname, parts.port or 80)) as sock:
            sock.sendall(b"PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n"
                         % (parts.path.encode(), parts.netloc.encode(), size))
            sock.sendall(b"\0" * (size // 2))
            release.wait(60)
            sock.sendall(b"\0" * (size - size // 2))
            sock.recv(4096)  # the server's answer (after storing)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_concurrent_upload_gets_503_then_the_image_is_recreated(play, namespace, k8s, disks):
    """While another client uploads, the module's PUTs get 503 and are retried; the other upload then
    finishes (no record of ours) and recreate: true replaces it. The other upload ends only after the
    server has answered the module 503 (seen through a relaying proxy), so the order is certain."""
    create_upload_image(k8s, namespace, "busy")

    def in_cluster() -> str:
        # Provisioning comes twice: first while the uploader starts (no URLs yet), then while a body is stored
        # (URLs kept); after Ready the URL is dead (the server says 404).
        return wait_upload_urls(k8s, namespace, "busy")["inCluster"]

    release = threading.Event()
    other = slow_upload(in_cluster(), 1024 * 1024, release)
    wait_phase(k8s, namespace, "busy", ["Provisioning"])
    proxy = CuttingProxy(in_cluster, limit=0, cuts=0, on_503=release.set)
    try:
        run = play([{MOD: {"name": "busy", "namespace": namespace, "path": str(disks["qcow2"]), "recreate": True,
                           "upload_url": proxy.url}, "register": "busy"}], verbosity=1)
    finally:
        release.set()
        proxy.close()
        other.join(timeout=30)
    assert run.rc == 0, run.stdout[-3000:]
    assert "busy with another upload (503)" in run.stdout
    result = run["busy"]
    assert result["phase"] == "Ready" and result["attempts"] >= 2
    assert "recreating the image" in run.stdout  # the other upload has no record: recreate: true replaced it
    assert json.loads(get_image(k8s, namespace, "busy")["metadata"]["annotations"][ANNOTATION])["sha1"] == \
        sha1(disks["qcow2"])


def test_external_endpoint_tls_is_verified_separately(play, namespace, k8s, disks):
    create_upload_image(k8s, namespace, "tls")
    run = play([
        {MOD: {"name": "tls", "namespace": namespace, "path": str(disks["raw"]), "endpoint": "external"},
         "register": "untrusted", "ignore_errors": True},
        {MOD: {"name": "tls", "namespace": namespace, "path": str(disks["raw"]), "endpoint": "external",
               "upload_validate_certs": False}, "register": "unverified"},
    ])
    assert run.rc == 0, run.stdout[-3000:]
    assert "TLS verification of the upload server failed" in run["untrusted"]["msg"]
    assert "nothing was sent" in run["untrusted"]["msg"]
    assert run["unverified"]["phase"] == "Ready" and run["unverified"]["endpoint"] == "external"


def test_path_from_a_role_and_a_vault_encrypted_file(play, namespace, k8s, disks, tmp_path, monkeypatch):
    create_upload_image(k8s, namespace, "from-role")
    create_upload_image(k8s, namespace, "from-vault")
    role = tmp_path / "roles" / "uploader"
    (role / "files").mkdir(parents=True)
    (role / "tasks").mkdir()
    (role / "files" / "role-disk.qcow2").write_bytes(disks["qcow2"].read_bytes())
    (role / "tasks" / "main.yml").write_text(
        "- name: upload from the role's files/\n"
        "  %s:\n    name: from-role\n    namespace: %s\n    path: role-disk.qcow2\n"
        "  register: role_result\n" % (MOD, namespace))
    password = tmp_path / "vault-pass"
    password.write_text("not-a-real-secret\n")
    vaulted = tmp_path / "vaulted.raw"
    vaulted.write_bytes(disks["raw"].read_bytes())
    vault_bin = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "ansible-vault"
    subprocess.run([str(vault_bin), "encrypt", "--vault-password-file", str(password), str(vaulted)],
                   check=True, capture_output=True)
    assert vaulted.read_bytes().startswith(b"$ANSIBLE_VAULT")
    monkeypatch.setenv("ANSIBLE_ROLES_PATH", str(tmp_path / "roles"))
    monkeypatch.setenv("ANSIBLE_VAULT_PASSWORD_FILE", str(password))
    run = play([
        {"ansible.builtin.include_role": {"name": "uploader"}},
        {"ansible.builtin.set_fact": {"role_copy": "{{ role_result }}"}, "register": "from_role"},
        {"name": "vault with async", MOD: {"name": "from-vault", "namespace": namespace, "path": str(vaulted)},
         "async": 60, "poll": 0, "register": "vault_async", "ignore_errors": True},
        {"name": "vault", MOD: {"name": "from-vault", "namespace": namespace, "path": str(vaulted)},
         "register": "from_vault"},
    ])
    assert run.rc == 0, run.stdout[-3000:]
    assert run["vault_async"]["failed"] is True
    assert "path: a vault-encrypted file cannot be used with async" in run["vault_async"]["msg"]
    from_role = run["from_role"]["ansible_facts"]["role_copy"]
    assert from_role["phase"] == "Ready" and from_role["bytes"] == disks["qcow2"].stat().st_size
    assert run["from_vault"]["checksums"] == {"sha1": sha1(disks["raw"])}  # the plaintext was sent
    assert get_image(k8s, namespace, "from-vault")["status"]["size"]["storedBytes"] == \
        str(disks["raw"].stat().st_size)


def test_virtual_image_source_upload_creates_uploads_and_is_idempotent(play, sandbox, namespace, k8s, disks,
                                                                       admin_writes):
    """virtual_image with source.upload: create, wait for the URL, stream, Ready in one task; then unchanged."""
    image_mod = "deckhouse.virtualization.virtual_image"
    cvi = "src-up-%s" % namespace
    given = {"sha256": sha256(disks["qcow2"])}
    tasks = [
        {image_mod: {"name": "created", "namespace": namespace,
                     "source": {"upload": {"path": str(disks["qcow2"]), "checksum": given}}}, "register": "vi"},
        {"deckhouse.virtualization.cluster_virtual_image": {
            "name": cvi, "source": {"upload": {"path": str(disks["iso"]), "endpoint": "external",
                                               "upload_ca_cert": str(sandbox.ca_path)}}}, "register": "cvi"},
    ]
    checked = play([dict(tasks[0], check_mode=True),
                    {image_mod: {"name": "bad", "namespace": namespace,
                                 "source": {"upload": {"path": str(disks["qcow2"]), "retries": -1}}},
                     "register": "bad", "ignore_errors": True}])
    assert checked["vi"]["changed"] is True and get_image(k8s, namespace, "created") is None
    assert checked["bad"]["msg"] == "source.upload.retries must be >= 0, got -1"
    assert get_image(k8s, namespace, "bad") is None
    first = play(tasks, diff=True)
    assert first.rc == 0, first.stdout[-3000:]
    vi = first["vi"]
    assert vi["changed"] is True and vi["phase"] == "Ready" and vi["bytes"] == disks["qcow2"].stat().st_size
    assert vi["checksums"] == given
    live = get_image(k8s, namespace, "created")
    if sandbox.platform == "v1.10":  # no dataSource.upload: the module alone verified the bytes
        assert vi["diff"]["before"] == {} and vi["diff"]["after"]["spec"]["dataSource"] == {"type": "Upload"}
        assert live["spec"]["dataSource"] == {"type": "Upload"} and vi["verified_by"] == ["module"]
    else:
        assert vi["diff"]["before"] == {} and vi["diff"]["after"]["spec"]["dataSource"]["upload"]["checksum"] == given
        assert live["spec"]["dataSource"] == {"type": "Upload", "upload": {"checksum": given}}  # the server checks too
        assert vi["verified_by"] == ["module", "platform"]
    assert json.loads(live["metadata"]["annotations"][ANNOTATION])["sha256"] == given["sha256"]
    assert first["cvi"]["phase"] == "Ready" and get_image(k8s, None, cvi)["status"]["format"] == "iso"
    assert vi["endpoint"] == "in_cluster" and first["cvi"]["endpoint"] == "external"  # source.upload.endpoint
    for secret in secrets_of(live):
        assert secret not in first.stdout

    admin_writes.clear()
    second = play(tasks)
    assert second.rc == 0, second.stdout[-3000:]
    assert second["vi"]["changed"] is False and second["vi"]["bytes"] == 0
    assert second["cvi"]["changed"] is False
    assert admin_writes(namespace) == [] and admin_writes(None) == []
    api(k8s, "ClusterVirtualImage").delete(name=cvi)


def test_a_gitops_definition_with_an_upload_source_is_created_without_waiting_then_uploaded(play, namespace, k8s,
                                                                                            disks):
    """virtual_image with an Upload definition and wait: false creates it and returns its phase; another step sends
    the file with virtual_image_upload; the definition's re-run writes nothing. With wait: true it is refused."""
    definition = {"apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": "gitops", "namespace": namespace},
                  "spec": {"dataSource": {"type": "Upload"}}}
    image_task = {"deckhouse.virtualization.virtual_image": {"definition": definition, "wait": False}}
    run = play([
        dict(image_task, register="made"),
        {MOD: {"name": "gitops", "namespace": namespace, "path": str(disks["qcow2"])}, "register": "sent"},
        dict(image_task, register="again"),
        {"deckhouse.virtualization.virtual_image": {"definition": dict(definition, metadata={
            "name": "gitops-waiting", "namespace": namespace})}, "register": "waiting", "ignore_errors": True},
    ])
    made, sent, again = run["made"], run["sent"], run["again"]
    assert made["changed"] is True and made["phase"] in (None, "Pending", "WaitForUserUpload"), made  # not waited for
    assert made["image"]["spec"]["dataSource"] == {"type": "Upload"}
    assert sent["changed"] is True and sent["phase"] == "Ready", sent.get("msg")
    assert again["changed"] is False and again["phase"] == "Ready"
    assert run["waiting"]["failed"] and "wait: false" in run["waiting"]["msg"]
    assert get_image(k8s, namespace, "gitops-waiting") is None
