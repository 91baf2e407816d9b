"""Every module's EXAMPLES runs as written with real ansible-playbook against the sandbox.

The examples take their sources from variables (`debian_url`, `registry_ca`, ...); each case below sets
them to the sandbox's file server, registry and CA and creates what the example expects to exist (the
namespace `vms`, a disk mounted by a running VM, an image waiting for an upload). Nothing in the example
text is changed before it runs.
"""
from __future__ import annotations

import ast
import hashlib
import json
import lzma
import os
import subprocess
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = REPO / "plugins" / "modules"
PLAYBOOK_BIN = REPO / ".venv" / "bin" / "ansible-playbook"
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
GROUP = "virtualization.deckhouse.io/v1alpha2"
CATALOG_LABEL = "virtualization.deckhouse.io/ansible-catalog"
TRACK_LABEL = "virtualization.deckhouse.io/ansible-catalog-track"
NEWEST_LABEL = "virtualization.deckhouse.io/ansible-catalog-newest"
MERGE = "application/merge-patch+json"
DEADLINE = 90


def examples(module: str) -> List[Dict[str, Any]]:
    """The module's EXAMPLES as tasks, read from the source without importing it."""
    tree = ast.parse((MODULES / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "EXAMPLES":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{module} has no EXAMPLES")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def poll(what: str, probe: Callable[[], Any], timeout: float = DEADLINE) -> Any:
    """Wait for the sandbox to reach a state (a deadline, not a sleep-and-hope)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


class Cluster:
    """The few objects the examples expect to exist, made with the admin's client."""

    def __init__(self, k8s: Any) -> None:
        self.k8s = k8s

    def api(self, kind: str, api_version: str = GROUP) -> Any:
        return self.k8s.resources.get(api_version=api_version, kind=kind)

    def get(self, kind: str, name: str, namespace: Optional[str] = None) -> Optional[Dict[str, Any]]:
        items = self.api(kind).get(namespace=namespace).to_dict()["items"] if namespace else \
            self.api(kind).get().to_dict()["items"]
        return next((i for i in items if i["metadata"]["name"] == name), None)

    def phase(self, kind: str, name: str, namespace: Optional[str] = None) -> Optional[str]:
        return ((self.get(kind, name, namespace) or {}).get("status") or {}).get("phase")

    def fresh_namespace(self, name: str) -> None:
        self.drop_namespace(name)
        self.api("Namespace", "v1").create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def drop_namespace(self, name: str) -> None:
        api = self.api("Namespace", "v1")

        def names() -> List[str]:
            return [n["metadata"]["name"] for n in api.get().to_dict()["items"]]

        if name in names():
            api.delete(name=name)
            poll(f"namespace {name} gone", lambda: name not in names())

    def drop_cluster_images(self, names: List[str] = (), catalog: Optional[str] = None) -> None:
        api = self.api("ClusterVirtualImage")
        for item in api.get().to_dict()["items"]:
            labels = item["metadata"].get("labels") or {}
            if item["metadata"]["name"] in names or (catalog and labels.get(CATALOG_LABEL) == catalog):
                api.delete(name=item["metadata"]["name"])

    def create(self, kind: str, name: str, spec: Dict[str, Any], namespace: Optional[str] = None) -> None:
        metadata = {"name": name, **({"namespace": namespace} if namespace else {})}
        self.api(kind).create(namespace=namespace, body={"apiVersion": GROUP, "kind": kind, "metadata": metadata,
                                                         "spec": spec})

    def http_image(self, namespace: str, name: str, url: str) -> None:
        self.create("VirtualImage", name, {"storage": "ContainerRegistry",
                                           "dataSource": {"type": "HTTP", "http": {"url": url}}}, namespace)
        poll(f"VirtualImage {name} Ready", lambda: self.phase("VirtualImage", name, namespace) == "Ready")

    def upload_image(self, name: str, namespace: Optional[str] = None) -> None:
        spec = {"dataSource": {"type": "Upload"}}
        if namespace:
            spec["storage"] = "ContainerRegistry"
        self.create("VirtualImage" if namespace else "ClusterVirtualImage", name, spec, namespace)

    def disk(self, namespace: str, name: str) -> None:
        self.create("VirtualDisk", name, {"persistentVolumeClaim": {"size": "8Mi"}}, namespace)
        poll(f"disk {name} Ready", lambda: self.phase("VirtualDisk", name, namespace) == "Ready")

    def running_vm(self, namespace: str, name: str, disk: str) -> None:
        self.create("VirtualMachine", name, {
            "virtualMachineClassName": "generic", "runPolicy": "AlwaysOnUnlessStoppedManually", "cpu": {"cores": 1},
            "memory": {"size": "1Gi"}, "blockDeviceRefs": [{"kind": "VirtualDisk", "name": disk}]}, namespace)
        poll(f"VM {name} Running", lambda: self.phase("VirtualMachine", name, namespace) == "Running")


@pytest.fixture
def cluster(k8s: Any) -> Cluster:
    return Cluster(k8s)


@pytest.fixture
def run_examples(sandbox_env: Dict[str, str], collections_root: Path, tmp_path: Path) -> Callable[..., str]:
    """run_examples(module, vars) runs the module's EXAMPLES in one play; returns its output."""

    def run(module: str, variables: Dict[str, Any]) -> str:
        play = [{"name": f"EXAMPLES of {module}", "hosts": "localhost", "gather_facts": False,
                 "tasks": examples(module)}]
        (tmp_path / "play.yml").write_text(yaml.safe_dump(play, sort_keys=False))
        (tmp_path / "vars.json").write_text(json.dumps(variables))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("ANSIBLE_", "K8S_AUTH_", "DVP_SANDBOX_")) and k != "KUBECONFIG"}
        env.update(sandbox_env)
        env.update({"ANSIBLE_COLLECTIONS_PATH": str(collections_root), "ANSIBLE_NOCOLOR": "1",
                    "ANSIBLE_HOME": str(tmp_path / "home"), "ANSIBLE_LOCAL_TEMP": str(tmp_path / "tmp"),
                    "PATH": "%s:%s" % (VENV_PYTHON.parent, os.environ.get("PATH", ""))})
        proc = subprocess.run([str(PLAYBOOK_BIN), "-i", "localhost,", "-c", "local",
                               "-e", f"ansible_python_interpreter={VENV_PYTHON}", "-e", "@vars.json", "play.yml"],
                              cwd=tmp_path, env=env, capture_output=True, text=True, timeout=280, check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 0, out[-6000:]
        assert "failed=0" in out
        return out

    return run


@pytest.fixture(scope="module")
def www(sandbox: Any, sources: Dict[str, str]) -> Path:
    return Path(sandbox.components["fileserver"]["www"])


def test_every_module_has_examples_covered_here() -> None:
    covered = {name[len("test_"):] for name in globals() if name.startswith("test_") and name[5:] in
               {p.stem for p in MODULES.glob("*.py")}}
    assert covered == {p.stem for p in MODULES.glob("*.py") if p.stem != "__init__"}


def test_virtual_image(run_examples, cluster, sources, www, registry_image) -> None:
    cluster.fresh_namespace("vms")
    try:
        run_examples("virtual_image", {
            "debian_url": sources["qcow2"], "debian_sha256": sha256(www / "it-disk.qcow2"),
            "debian_mirror_url": sources["raw"], "windows_iso_image": registry_image["image"],
            "registry_ca": registry_image["ca"], "registry_user": registry_image["username"],
            "registry_token": registry_image["password"]})
        assert cluster.get("VirtualImage", "debian-12", "vms") is None
        assert cluster.phase("VirtualImage", "windows-iso", "vms") == "Ready"
    finally:
        cluster.drop_namespace("vms")


def test_cluster_virtual_image(run_examples, cluster, sources, www) -> None:
    cluster.fresh_namespace("vms")
    cluster.drop_cluster_images(["alpine-3-20", "golden-debian"])
    try:
        cluster.http_image("vms", "debian-12", sources["qcow2"])
        run_examples("cluster_virtual_image", {"alpine_iso_url": sources["iso"],
                                               "alpine_sha256": sha256(www / "it-cd.iso")})
        assert cluster.phase("ClusterVirtualImage", "alpine-3-20") == "Ready"
    finally:
        cluster.drop_cluster_images(["alpine-3-20", "golden-debian"])
        cluster.drop_namespace("vms")


def test_image_catalog_apply(run_examples, cluster, sandbox, sources, www, tmp_path) -> None:
    for name in ("team-a", "team-b"):
        cluster.drop_namespace(name)
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "extra.yaml").write_text(yaml.safe_dump({
        "apiVersion": GROUP, "kind": "VirtualImage", "metadata": {"name": "extra-raw"},
        "spec": {"storage": "ContainerRegistry", "dataSource": {"type": "HTTP", "http": {"url": sources["raw"]}}}}))
    (www / "doc-examples").mkdir(exist_ok=True)
    (www / "doc-examples" / "SHA256SUMS").write_text("%s *it-raw.img\n" % sha256(www / "it-disk.raw"))
    (www / "doc-examples" / "it-raw.img").write_bytes((www / "it-disk.raw").read_bytes())
    try:
        out = run_examples("image_catalog_apply", {
            "debian_url": sources["qcow2"], "debian_sha256": sha256(www / "it-disk.qcow2"),
            "tools_iso_url": "%s/it-cd.iso" % sandbox.components["fileserver"]["https_url"],
            "mirror_ca": Path(sandbox.ca_path).read_text(),
            "noble_url": sources["raw"].replace("it-disk.raw", "doc-examples/it-raw.img"),
            "noble_sums_url": sources["raw"].replace("it-disk.raw", "doc-examples/SHA256SUMS")})
        for namespace in ("team-a", "team-b"):
            for name in ("debian-12", "tools-iso", "extra-raw"):
                assert cluster.phase("VirtualImage", name, namespace) == "Ready", (namespace, name)
        assert "tools-iso" in out
        newest = "ubuntu-noble-%s" % sha256(www / "it-disk.raw")[:12]
        assert cluster.phase("VirtualImage", newest, "team-a") == "Ready"
        assert "%s (kept: [])" % newest in out
    finally:
        cluster.drop_cluster_images(catalog="base-images")
        for name in ("team-a", "team-b"):
            cluster.drop_namespace(name)


def test_virtual_image_capture(run_examples, cluster) -> None:
    cluster.fresh_namespace("vms")
    cluster.drop_cluster_images(["web-golden"])
    try:
        cluster.disk("vms", "build-root")
        cluster.disk("vms", "web-root")
        cluster.running_vm("vms", "web", "web-root")
        cluster.disk("vms", "app-root")
        cluster.running_vm("vms", "app", "app-root")
        run_examples("virtual_image_capture", {})
        assert cluster.phase("VirtualImage", "golden-2026-08", "vms") == "Ready"
        assert cluster.phase("ClusterVirtualImage", "web-golden") == "Ready"
        assert cluster.phase("VirtualMachine", "web", "vms") == "Running"
        assert cluster.phase("ClusterVirtualImage", "app-golden") == "Ready"
        assert cluster.get("VirtualDiskSnapshot", "app-golden-capture", "vms") is None
    finally:
        cluster.drop_cluster_images(["web-golden", "app-golden"])
        cluster.drop_namespace("vms")


def test_virtual_image_info(run_examples, cluster, sources) -> None:
    cluster.fresh_namespace("vms")
    try:
        cluster.http_image("vms", "debian-12", sources["qcow2"])
        # the newest version of a track, as a catalog with keep labels it
        cluster.http_image("vms", "ubuntu-noble-0a1b2c", sources["raw"])
        cluster.api("VirtualImage").patch(name="ubuntu-noble-0a1b2c", namespace="vms", content_type=MERGE, body={
            "metadata": {"labels": {TRACK_LABEL: "ubuntu-noble", NEWEST_LABEL: "true"}}})
        out = run_examples("virtual_image_info", {})
        assert "debian-12: Ready" in out
        disk = poll("disk web-1-root", lambda: cluster.get("VirtualDisk", "web-1-root", "vms"))
        assert disk["spec"]["dataSource"]["objectRef"] == {"kind": "VirtualImage", "name": "ubuntu-noble-0a1b2c"}
    finally:
        cluster.drop_namespace("vms")


def test_virtual_image_upload(run_examples, cluster, sandbox, tmp_path) -> None:
    from sandbox import seed
    cluster.fresh_namespace("vms")
    cluster.drop_cluster_images(["installer"])
    images = tmp_path / "images"
    images.mkdir()
    disk = seed.make_disk(tmp_path / "ubuntu-24.04.qcow2", "qcow2")
    iso = seed.make_iso(tmp_path / "installer.iso")
    (images / "installer.iso.xz").write_bytes(lzma.compress(iso.read_bytes()))
    seed.make_disk(images / "big.raw", "raw")
    try:
        cluster.upload_image("ubuntu-24", "vms")
        cluster.upload_image("installer")
        cluster.upload_image("big-disk", "vms")
        run_examples("virtual_image_upload", {"ubuntu_sha256": sha256(disk), "images_dir": str(images),
                                              "ingress_ca_file": str(sandbox.ca_path)})
        assert cluster.phase("VirtualImage", "ubuntu-24", "vms") == "Ready"
        assert cluster.phase("ClusterVirtualImage", "installer") == "Ready"
        assert cluster.phase("VirtualImage", "big-disk", "vms") == "Ready"
    finally:
        cluster.drop_cluster_images(["installer"])
        cluster.drop_namespace("vms")


def test_virtual_machine_operation(run_examples, cluster) -> None:
    cluster.fresh_namespace("vms")
    try:
        cluster.disk("vms", "web-root")
        cluster.running_vm("vms", "web", "web-root")
        run_examples("virtual_machine_operation", {})
        assert cluster.phase("VirtualMachine", "web", "vms") == "Running"
    finally:
        cluster.drop_namespace("vms")


def test_virtual_disk(run_examples, cluster, sources, www, tmp_path) -> None:
    from sandbox import seed
    cluster.fresh_namespace("vms")
    try:
        cluster.http_image("vms", "debian-12", sources["qcow2"])
        appliance = seed.make_disk(tmp_path / "appliance.qcow2", "qcow2")
        run_examples("virtual_disk", {"tools_url": sources["raw"], "tools_sha256": sha256(www / "it-disk.raw"),
                                      "appliance_file": str(appliance), "late_binding_class": "local-path-wffc"})
        assert cluster.get("VirtualDisk", "data", "vms") is None
        for name in ("web-root", "tools", "appliance"):
            assert cluster.phase("VirtualDisk", name, "vms") == "Ready", name
        assert cluster.phase("VirtualDisk", "scratch", "vms") == "WaitForFirstConsumer"
    finally:
        cluster.drop_namespace("vms")


@pytest.fixture
def web_vm(cluster: Cluster) -> Iterator[None]:
    """Namespace `vms` with the disk `web-root` mounted by the running VM `web`; dropped afterwards."""
    cluster.fresh_namespace("vms")
    try:
        cluster.disk("vms", "web-root")
        cluster.running_vm("vms", "web", "web-root")
        yield
    finally:
        cluster.drop_namespace("vms")


def test_virtual_disk_info(run_examples, web_vm) -> None:
    assert "web-root: Ready 8Mi on web" in run_examples("virtual_disk_info", {})


def test_virtual_disk_snapshot(run_examples, cluster, web_vm) -> None:
    assert "Ready, consistent: True" in run_examples("virtual_disk_snapshot", {})
    assert cluster.phase("VirtualDisk", "web-root-copy", "vms") == "Ready"
    assert cluster.get("VirtualDiskSnapshot", "web-root-before-upgrade", "vms") is None
    assert cluster.phase("VirtualMachine", "web", "vms") == "Running"
