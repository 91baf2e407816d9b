"""Fixtures for the module integration suites: real ansible-playbook runs against the sandbox.

- `collections_root`: `.build/collections` holding `ansible_collections/deckhouse/virtualization`
  as a symlink to the repo root (ANSIBLE_COLLECTIONS_PATH points here).
- `play`: run a list of tasks in one playbook (module_defaults for the group carry the sandbox
  kubeconfig), return the registered results by name plus stdout.
- `sources`: small disk files in the sandbox file server's www dir and their URLs.
- `admin_writes`: the admin's write requests (POST/PUT/PATCH/DELETE) the audit saw for a namespace.
- `kube`: read, make and wait on virtualization objects, snapshot a namespace's images (kube_objects.py).
- `every_writer`: a namespace where every module and role has something to write, and a task for each.
"""
from __future__ import annotations

import json
import os
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import yaml
from conformance.gate import unavailable
from kube_objects import KubeObjects

REPO = Path(__file__).resolve().parents[2]
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
PLAYBOOK_BIN = REPO / ".venv" / "bin" / "ansible-playbook"
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
GROUP = "group/deckhouse.virtualization.virtualization"
IMAGE_MODULES = ("deckhouse.virtualization.virtual_image", "deckhouse.virtualization.cluster_virtual_image")
WAIT_CAP = 60
NS = "deckhouse.virtualization."


@pytest.fixture(scope="session")
def collections_root() -> Path:
    root = REPO / ".build" / "collections"
    link = root / "ansible_collections" / "deckhouse" / "virtualization"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink() or Path(os.readlink(link)) != REPO:
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(REPO)
    return root


@dataclass
class PlayResult:
    """What one ansible-playbook run gave."""

    rc: int
    stdout: str
    results: Dict[str, Any]

    def __getitem__(self, name: str) -> Any:
        return self.results[name]

    def fatal(self) -> str:
        """The failed tasks' lines of the output (for assertion messages)."""
        out = self.stdout
        return "\n".join(out[i:i + 1500] for i in range(len(out)) if out.startswith("fatal:", i))


def _registered(tasks: List[Dict[str, Any]]) -> List[str]:
    names = []
    for task in tasks:
        if "register" in task:
            names.append(task["register"])
        for key in ("block", "rescue", "always"):
            names.extend(_registered(task.get(key) or []))
    return names


def _bound_waits(tasks: List[Dict[str, Any]]) -> None:
    """A test must fail, not hang: image tasks wait at most WAIT_CAP seconds unless they say otherwise."""
    for task in tasks:
        for key in IMAGE_MODULES:
            if isinstance(task.get(key), dict):
                task[key].setdefault("wait_timeout", WAIT_CAP)


@pytest.fixture
def play(sandbox: Any, collections_root: Path, tmp_path: Path) -> Callable[..., PlayResult]:
    """play(tasks, check=False, diff=False, verbosity=0, extra_vars=None, defaults=None, env=None, until=None)
    -> PlayResult.

    ``defaults`` adds to the module_defaults (a None value removes that key); ``env`` adds environment
    variables after every K8S_AUTH_* and KUBECONFIG of the test runner's own environment was removed;
    ``until(process)`` runs beside the playbook (started in a process group of its own) and may kill it."""
    counter = {"n": 0}

    def run(tasks: List[Dict[str, Any]], check: bool = False, diff: bool = False, verbosity: int = 0,
            extra_vars: Optional[Dict[str, Any]] = None, defaults: Optional[Dict[str, Any]] = None,
            env: Optional[Dict[str, str]] = None,
            until: Optional[Callable[[subprocess.Popen], None]] = None) -> PlayResult:
        counter["n"] += 1
        work = tmp_path / ("play%d" % counter["n"])
        work.mkdir()
        out = work / "results.json"
        names = _registered(tasks)
        _bound_waits(tasks)
        dump = "{{ {%s} | to_json }}" % ", ".join("'%s': %s | default(None)" % (n, n) for n in names)
        module_defaults = {"kubeconfig": sandbox.kubeconfig}
        module_defaults.update(defaults or {})
        module_defaults = {key: value for key, value in module_defaults.items() if value is not None}
        playbook = [{
            "hosts": "localhost", "gather_facts": False,
            "module_defaults": {GROUP: module_defaults},
            "tasks": [{"block": tasks, "always": [
                {"ansible.builtin.copy": {"content": dump, "dest": str(out)}, "check_mode": False,
                 "diff": False}]}],
        }]
        (work / "play.yml").write_text(yaml.safe_dump(playbook, sort_keys=False))
        environ = dict(os.environ)
        environ.update({"ANSIBLE_COLLECTIONS_PATH": str(collections_root), "ANSIBLE_NOCOLOR": "1",
                        "ANSIBLE_HOST_KEY_CHECKING": "0", "ANSIBLE_RETRY_FILES_ENABLED": "0",
                        "ANSIBLE_PIPELINING": "1", "ANSIBLE_LOCAL_TEMP": str(work / "tmp"),
                        "ANSIBLE_HOME": str(work / "home"),
                        "PATH": "%s:%s" % (VENV_PYTHON.parent, environ.get("PATH", ""))})
        for key in [k for k in environ if k.startswith("K8S_AUTH_") or k == "KUBECONFIG"]:
            del environ[key]
        environ.update(env or {})
        argv = [str(PLAYBOOK_BIN), "-i", "localhost,", "-c", "local",
                "-e", "ansible_python_interpreter=%s" % VENV_PYTHON, "-e", json.dumps(extra_vars or {}),
                str(work / "play.yml")]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if verbosity:
            argv.append("-" + "v" * verbosity)
        if until is None:
            proc = subprocess.run(argv, cwd=work, env=environ, capture_output=True, text=True, timeout=240, check=False)
            results = json.loads(out.read_text()) if out.exists() else {}
            return PlayResult(proc.returncode, proc.stdout + proc.stderr, results)
        # Its own process group, output to a file (a pipe nobody reads would stall it): ``until`` may kill it.
        with open(work / "output.txt", "w+") as output:
            running = subprocess.Popen(argv, cwd=work, env=environ, stdout=output, stderr=subprocess.STDOUT,
                                       text=True, start_new_session=True)
            try:
                until(running)
                running.wait(timeout=240)
            finally:
                if running.poll() is None:
                    running.kill()
            output.seek(0)
            text = output.read()
        results = json.loads(out.read_text()) if out.exists() else {}
        return PlayResult(running.returncode, text, results)

    return run


@pytest.fixture(scope="session")
def sandbox_env(sandbox: Any) -> Dict[str, str]:
    """What `source .sandbox/env` exports, as a user would have it."""
    env = {}
    for line in Path(sandbox.env_path).read_text().splitlines():
        if line.startswith("export "):
            key, sep, value = line[len("export "):].partition("=")
            env[key] = shlex.split(value)[0] if sep and value else ""
    return env


@pytest.fixture(scope="session")
def sources(sandbox: Any) -> Dict[str, str]:
    """Small disk images on the sandbox file server: name -> URL (http), plus 'https' variants."""
    from sandbox import seed
    fileserver = sandbox.components["fileserver"]
    www = Path(fileserver["www"])
    www.mkdir(parents=True, exist_ok=True)
    urls: Dict[str, str] = {}
    for fmt in ("qcow2", "raw"):
        path = www / ("it-disk.%s" % fmt)
        if not path.exists():
            seed.make_disk(path, fmt)
        urls[fmt] = "%s/%s" % (fileserver["http_url"], path.name)
        urls["https_" + fmt] = "%s/%s" % (fileserver["https_url"], path.name)
    iso = www / "it-cd.iso"
    if not iso.exists():
        seed.make_iso(iso)
    urls["iso"] = "%s/%s" % (fileserver["http_url"], iso.name)
    urls["missing"] = "%s/no-such-file.qcow2" % fileserver["http_url"]
    return urls


@pytest.fixture(scope="session")
def registry_image(sandbox: Any, sources: Dict[str, str]) -> Dict[str, str]:
    """A container image with disk/ in the sandbox's user registry (needs credentials)."""
    from sandbox import dvcr
    from sandbox.config import State
    from sandbox.registryauth import registry_credentials
    state = State(sandbox.state_dir)
    reg_info = sandbox.components["registry"]
    www = Path(sandbox.components["fileserver"]["www"])
    reg = dvcr.Registry(reg_info["host"], str(sandbox.ca_path), registry_credentials(state))
    work = Path(sandbox.state_dir) / "it-registry-work"
    work.mkdir(exist_ok=True)
    reg.push_files("it/disk", "v1", {"disk/disk.qcow2": www / "it-disk.qcow2"}, work, compress=True)
    return {"image": "%s/it/disk:v1" % reg_info["host"], "username": reg_info["username"],
            "password": reg_info["password"], "ca": Path(sandbox.ca_path).read_text()}


class AdminWrites:
    """admin_writes(namespace) -> the admin's writes since the last clear() (namespace None: cluster-scoped)."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.clear()

    def clear(self) -> None:
        self.sandbox.clear_audit()

    def __call__(self, namespace: Optional[str] = None, resource: Optional[str] = None) -> List[Dict[str, Any]]:
        return [item for item in self.sandbox.audit()
                if item.get("user") == "admin" and item.get("method") in WRITE_METHODS
                and (item.get("namespace") or None) == (namespace or None)   # cluster scope: None or ""
                and (resource is None or item.get("resource") == resource)]

    def real(self, namespace: Optional[str], resource: str, method: str = "POST") -> List[Dict[str, Any]]:
        """The writes of one method to one resource, dry runs left out."""
        return [w for w in self(namespace, resource) if w["method"] == method and not w.get("dryRun")]

    def real_anywhere(self) -> List[Dict[str, Any]]:
        """Every write that is not a dry run, in any namespace or cluster-scoped."""
        return [item for item in self.sandbox.audit() if item.get("user") == "admin"
                and item.get("method") in WRITE_METHODS and not item.get("dryRun")]


@pytest.fixture
def admin_writes(sandbox: Any) -> AdminWrites:
    """The audit, filtered to the admin's writes; cleared at the start of each test."""
    return AdminWrites(sandbox)


@pytest.fixture(scope="session")
def kube(k8s: Any) -> KubeObjects:
    return KubeObjects(k8s)


def role_task(name: str, **variables: Any) -> Dict[str, Any]:
    return {"ansible.builtin.include_role": {"name": NS + name}, "vars": variables}


@dataclass
class Writers:
    """A namespace where every module and role has something to write, and one task for each."""

    tasks: List[Dict[str, Any]]
    upload: Dict[str, Any]  # the VirtualImage `upl` waiting for its upload (its status holds the upload URLs)
    disk: Path  # a local file to upload


@pytest.fixture
def every_writer(kube: KubeObjects, namespace: str, sources: Dict[str, str], registry_image: Dict[str, str],
                 tmp_path: Path) -> Writers:
    """The namespace gets a Ready VI `keep`, a VI `upl` waiting for its upload, VirtualDisks `free` and `root`
    and a VM `svc` running on `root`; each task carries the secrets it can (registry password, upload URLs)."""
    ns, url = namespace, sources["qcow2"]
    kube.ready_image(ns, "keep", url)
    upload = kube.upload_image(ns, "upl")
    kube.make_disk(ns, "free")
    kube.make_disk(ns, "root")
    kube.make_vm(ns, "svc", "root", "AlwaysOnUnlessStoppedManually")
    disk = tmp_path / "disk.raw"
    disk.write_bytes(b"\1" * 65536)
    creds = {"username": registry_image["username"], "password": registry_image["password"]}
    registry = {"image": registry_image["image"], "ca_bundle": registry_image["ca"], "registry_credentials": creds}
    vi, cvi = NS + "virtual_image", NS + "cluster_virtual_image"
    tasks = [
        {vi: {"name": "new-http", "namespace": ns, "source": {"http": {"url": url}}}, "register": "vi_http"},
        {vi: {"name": "new-reg", "namespace": ns, "source": {"container_image": registry}}, "register": "vi_reg"},
        {vi: {"name": "new-up", "namespace": ns, "source": {"upload": {"path": str(disk)}}}, "register": "vi_up"},
        {vi: {"name": "keep", "namespace": ns, "source": {"http": {"url": url}}, "labels": {"tier": "gold"}},
         "register": "vi_relabel"},
        {vi: {"name": "keep", "namespace": ns, "state": "absent"}, "register": "vi_absent"},
        {cvi: {"name": "rel-cvi", "source": {"http": {"url": url}}}, "register": "cvi"},
        {NS + "virtual_image_upload": {"name": "upl", "namespace": ns, "path": str(disk)}, "register": "upload"},
        {NS + "virtual_image_info": {"namespace": ns}, "register": "info"},
        {NS + "virtual_image_capture": {"namespace": ns, "disk": "free", "name": "captured", "wait_timeout": 60},
         "register": "capture"},
        {NS + "virtual_machine_operation": {"namespace": ns, "name": "svc", "type": "Stop", "wait_timeout": 60},
         "register": "vmop"},
        {NS + "image_catalog_apply": {"namespaces": [ns], "catalog": "rel", "images": [{"name": "cat-a", "url": url}]},
         "register": "apply"},
        role_task("image_catalog", image_catalog_namespaces=[ns], image_catalog_images=[{"name": "role-a", "url": url}]),
        role_task("cluster_image_catalog", cluster_image_catalog_images=[{"name": "rel-role-cvi", "url": url}]),
        role_task("disk_capture", disk_capture_namespace=ns, disk_capture_disk="free", disk_capture_image="role-cap"),
    ]
    return Writers(tasks, upload, disk)


@pytest.fixture(scope="session")
def crd_schemas() -> Iterator[Dict[str, Any]]:
    """kind -> openAPIV3Schema from ../shared/reference/crds (skip when absent)."""
    folder = REPO.parent / "shared" / "reference" / "crds"
    if not folder.is_dir():
        unavailable("reference CRDs not found at %s" % folder)
    schemas = {}
    for path in folder.glob("*.yaml"):
        crd = yaml.safe_load(path.read_text())
        schemas[crd["spec"]["names"]["kind"]] = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    yield schemas


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The kill-at-random reports (test_killed_runs.py): what each kill point checked, and the seed; recorded as a
    test property so that they reach this summary from pytest-xdist's workers too."""
    from killing import REPORT_PROPERTY
    finished = [report for outcome in ("passed", "failed") for report in terminalreporter.stats.get(outcome, [])
                if report.when == "call"]
    reports = [value for report in finished for name, value in report.user_properties if name == REPORT_PROPERTY]
    if reports:
        terminalreporter.section("kill-at-random")
        for text in reports:
            terminalreporter.write_line(text)
