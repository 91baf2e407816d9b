"""kubectl, unchanged, against the API-only sandbox: get, get -w, describe, apply (client and
server side), patch (merge/json), wait --for=jsonpath, delete."""
from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from conformance.gate import unavailable

pytestmark = pytest.mark.kubectl
KUBECTL = shutil.which("kubectl")
VI_API = "virtualization.deckhouse.io/v1alpha2"


@pytest.fixture
def kubectl(api_sandbox: Any) -> Any:
    if not KUBECTL:
        unavailable("kubectl not installed (.ci/run installs it)")
    env = {**os.environ, "KUBECONFIG": api_sandbox.kubeconfig}

    def run(*args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([KUBECTL, *args], input=stdin, capture_output=True, text=True,
                              env=env, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {proc.stderr}")
        return proc
    run.env = env  # type: ignore[attr-defined]
    return run


def _manifest(ns: str, url: str = "https://example.com/disk.qcow2") -> str:
    return (f"apiVersion: {VI_API}\nkind: VirtualImage\nmetadata:\n  name: kimg\n  namespace: {ns}\n"
            f"spec:\n  storage: ContainerRegistry\n  dataSource:\n    type: HTTP\n    http:\n"
            f"      url: {url}\n")


def test_apply_get_describe_patch_delete(kubectl: Any, ns: str) -> None:
    assert "created" in kubectl("apply", "-f", "-", stdin=_manifest(ns)).stdout
    assert "unchanged" in kubectl("apply", "-f", "-", stdin=_manifest(ns)).stdout
    changed = _manifest(ns, "https://example.com/2.img")
    # switching a client-side-applied object to server-side apply with a changed field conflicts
    # with "kubectl-client-side-apply", exactly as on a real cluster ...
    conflict = kubectl("apply", "--server-side", "-f", "-", stdin=changed, check=False)
    assert conflict.returncode != 0
    assert 'conflict with "kubectl-client-side-apply"' in conflict.stderr
    # ... while the same manifest migrates ownership to "kubectl", after which changes apply
    assert "serverside-applied" in kubectl("apply", "--server-side", "-f", "-", stdin=_manifest(ns)).stdout
    assert "serverside-applied" in kubectl("apply", "--server-side", "-f", "-", stdin=changed).stdout
    table = kubectl("get", "vi", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "PHASE", "CDROM", "PROGRESS", "AGE"] and table[1].startswith("kimg")
    url = kubectl("get", "virtualimage", "kimg", "-n", ns, "-o", "jsonpath={.spec.dataSource.http.url}").stdout
    assert url == "https://example.com/2.img"
    assert "Data Source" in kubectl("describe", "vi", "kimg", "-n", ns).stdout
    kubectl("patch", "vi", "kimg", "-n", ns, "--type", "merge", "-p", '{"metadata":{"labels":{"a":"b"}}}')
    kubectl("patch", "vi", "kimg", "-n", ns, "--type", "json",
            "-p", '[{"op":"add","path":"/metadata/labels/c","value":"d"}]')
    assert kubectl("get", "vi", "-n", ns, "-l", "a=b,c=d", "-o", "name").stdout.strip() == \
        "virtualimage.virtualization.deckhouse.io/kimg"
    assert "deleted" in kubectl("delete", "vi", "kimg", "-n", ns).stdout
    assert "No resources found" in kubectl("get", "vi", "-n", ns).stderr


def test_wait_for_jsonpath_and_watch(kubectl: Any, ns: str) -> None:
    kubectl("apply", "-f", "-", stdin=_manifest(ns))
    lines: queue.Queue[str] = queue.Queue()
    watcher = subprocess.Popen([KUBECTL, "get", "vi", "-n", ns, "-w", "--no-headers"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=kubectl.env)
    reader = threading.Thread(target=lambda: [lines.put(x) for x in watcher.stdout], daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        assert lines.get(timeout=10).startswith("kimg")                  # the initial listing
        waiter = subprocess.Popen([KUBECTL, "wait", "--for=jsonpath={.status.phase}=Ready", "vi/kimg",
                                   "-n", ns, "--timeout=20s"], stdout=subprocess.PIPE, text=True,
                                  env=kubectl.env)
        kubectl("patch", "vi", "kimg", "-n", ns, "--subresource=status", "--type", "merge",
                "-p", '{"status":{"phase":"Ready","progress":"100%"}}')
        out, _ = waiter.communicate(timeout=30)
        assert waiter.returncode == 0 and "condition met" in out
        update = lines.get(timeout=10).split()
        assert update[:2] == ["kimg", "Ready"]                             # the watch saw it
    finally:
        watcher.terminate()
        watcher.wait(10)


def test_kubectl_viewer_context_is_read_only(kubectl: Any, ns: str) -> None:
    kubectl("apply", "-f", "-", stdin=_manifest(ns))
    kubectl("--context", "dvp-sandbox-viewer", "get", "vi", "-n", ns)
    denied = kubectl("--context", "dvp-sandbox-viewer", "delete", "vi", "kimg", "-n", ns, check=False)
    assert denied.returncode != 0 and 'User "viewer" cannot delete resource "virtualimages"' in denied.stderr
    assert Path(kubectl.env["KUBECONFIG"]).stat().st_mode & 0o077 == 0
