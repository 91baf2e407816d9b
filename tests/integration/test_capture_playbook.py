"""playbooks/capture_disk.yml (through the disk_capture role) against the sandbox: the golden-image flow, then a no-op re-run."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(sandbox, collections_root, tmp_path, namespace, url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("K8S_AUTH_") and k != "KUBECONFIG"}
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(collections_root), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"), "ANSIBLE_HOME": str(tmp_path / "home"),
                "K8S_AUTH_KUBECONFIG": sandbox.kubeconfig,
                "PATH": "%s:%s" % (REPO / ".venv" / "bin", env.get("PATH", ""))})
    argv = [str(REPO / ".venv" / "bin" / "ansible-playbook"), "-i", str(REPO / "playbooks" / "inventory" / "sandbox.yml"),
            "-e", json.dumps({"capture_namespace": namespace, "capture_base_url": url}),
            str(REPO / "playbooks" / "capture_disk.yml")]
    return subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240, check=False)


def test_golden_image_flow_and_rerun(sandbox, collections_root, tmp_path, k8s, kube, sources, admin_writes):
    namespace = "golden-%s" % os.urandom(3).hex()
    try:
        first = _run(sandbox, collections_root, tmp_path, namespace, sources["qcow2"])
        assert first.returncode == 0, first.stdout + first.stderr
        assert "Builder VM actions: Stop, Start" in first.stdout
        assert "VM web-1 is Running on a disk made from the golden image" in first.stdout
        golden = kube.get("VirtualImage", namespace, "golden")
        assert golden["status"]["phase"] == "Ready" and golden["metadata"]["labels"] == {"golden": "true"}
        cvi = kube.get("ClusterVirtualImage", None, "golden-" + namespace)
        assert cvi["status"]["phase"] == "Ready"
        assert kube.get("VirtualDisk", namespace, "web-1-root")["status"]["phase"] == "Ready"
        assert kube.vm_phase(namespace, "builder") == "Running"

        admin_writes.clear()
        again = _run(sandbox, collections_root, tmp_path, namespace, sources["qcow2"])
        assert again.returncode == 0, again.stdout + again.stderr
        assert "Builder VM actions: none" in again.stdout and ", unchanged." in again.stdout
        assert re.search(r"localhost\s*:\s*ok=\d+\s+changed=0\s", again.stdout), again.stdout
        # the only writes of the re-run are the refused creates of objects that exist (409)
        assert not [w for w in admin_writes(namespace) if w.get("code", 0) < 300]
    finally:
        kube.api("ClusterVirtualImage").delete(name="golden-" + namespace)
        k8s.resources.get(api_version="v1", kind="Namespace").delete(name=namespace)
