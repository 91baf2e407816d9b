"""The two API servers a conformance run compares, started on loopback and stopped by PID.

* `RealApi`: bookworm's etcd plus the upstream API server for custom resources built by
  scripts/realapi/build.py, with the platform's CRDs (read from the reference directory at run time,
  `x-doc-*` keys stripped) applied and Established.
* `SandboxApi`: our sandbox's API server alone (`python -m sandbox up --no-controller`), so no
  controller writes status behind the comparison's back.

Both get a state dir of their own under the run's directory and a kubeconfig for kubectl.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests
import yaml

from .pki import Pki

REPO = Path(__file__).resolve().parent.parent
KINDS_FILES = ("virtualimages", "clustervirtualimages", "virtualdisks", "virtualdisksnapshots",
               "virtualmachineoperations", "virtualmachines")
# The admission plugins that need a core API the CRD server does not have.
DISABLED_ADMISSION = ("NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,"
                      "ValidatingAdmissionPolicy,MutatingAdmissionPolicy")


class StartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def strip_doc_keys(node: Any) -> Any:
    """A copy without the `x-doc-*` keys a real server refuses under strict field validation."""
    if isinstance(node, dict):
        return {k: strip_doc_keys(v) for k, v in node.items() if not str(k).startswith("x-doc-")}
    if isinstance(node, list):
        return [strip_doc_keys(v) for v in node]
    return node


def load_crds(crd_dir: Path) -> list[dict[str, Any]]:
    out = []
    for name in KINDS_FILES:
        path = crd_dir / f"{name}.yaml"
        if path.exists():
            out.extend(strip_doc_keys(d) for d in yaml.safe_load_all(path.read_text()) if d)
    if not out:
        raise StartError(f"no CRDs found in {crd_dir}")
    return out


class Process:
    """One child process in its own session, logged to a file, stopped by its PID only."""

    def __init__(self, name: str, argv: list[str], log_dir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env=env)
        (log_dir / f"{name}.pid").write_text(str(self.proc.pid))

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, lines: int = 25) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, grace: float = 10.0) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def wait_until(what: str, check: Any, timeout: float, proc: Process | None = None) -> None:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        if proc is not None and not proc.alive():
            raise StartError(f"{proc.name} exited while waiting for {what}:\n{proc.tail()}")
        try:
            if check():
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.1)
    raise StartError(f"timed out after {timeout:.0f}s waiting for {what} ({last})"
                     + (f":\n{proc.tail()}" if proc else ""))


def write_kubeconfig(path: Path, server: str, ca: Path, user: dict[str, str]) -> None:
    cfg = {"apiVersion": "v1", "kind": "Config", "current-context": "c",
           "clusters": [{"name": "c", "cluster": {"server": server, "certificate-authority": str(ca)}}],
           "users": [{"name": "u", "user": user}],
           "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u", "namespace": "default"}}]}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        yaml.safe_dump(cfg, fh)


class Server:
    """What the cases need from either side: a base URL, TLS material, a kubeconfig."""
    label = ""
    url = ""
    kubeconfig: Path
    verify: str
    cert: tuple[str, str] | None = None
    headers: dict[str, str] = {}

    def session(self) -> requests.Session:
        s = requests.Session()
        s.headers.update(self.headers)
        if self.cert:
            s.cert = self.cert
        return s

    def ensure_namespace(self, ns: str) -> None:
        """The real server has no namespaces; the sandbox needs them to exist."""

    def compact(self) -> None:
        """Forget watch history so an old resourceVersion answers 410 (sandbox only)."""

    def stop(self) -> None:
        raise NotImplementedError


class RealApi(Server):
    label = "real"

    def __init__(self, binary: Path, run_dir: Path, crd_dir: Path) -> None:
        self.dir = run_dir / "real"
        (self.dir / "logs").mkdir(parents=True, exist_ok=True)
        self.procs: list[Process] = []
        self.pki = Pki(self.dir / "pki")
        self.verify = str(self.pki.ca_crt)
        self.cert = (str(self.pki.crt("admin")), str(self.pki.key("admin")))
        try:
            self._start(binary, crd_dir)
        except BaseException:
            self.stop()
            raise

    def _start(self, binary: Path, crd_dir: Path) -> None:
        client_port, peer_port = free_port(), free_port()
        self.etcd_url = f"http://127.0.0.1:{client_port}"
        t0 = time.monotonic()
        etcd = Process("etcd", [
            "etcd", "--name", "conformance", "--data-dir", str(self.dir / "etcd"),
            "--listen-client-urls", f"http://127.0.0.1:{client_port}",
            "--advertise-client-urls", f"http://127.0.0.1:{client_port}",
            "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer_port}",
            "--initial-cluster", f"conformance=http://127.0.0.1:{peer_port}",
            "--listen-metrics-urls", f"http://127.0.0.1:{free_port()}",
            "--logger", "zap", "--log-level", "warn",
        ], self.dir / "logs")
        self.procs.append(etcd)
        wait_until("etcd", lambda: requests.get(f"http://127.0.0.1:{client_port}/health", timeout=1).ok,
                   30, etcd)
        # Delegated authn/authz would ask a kube-apiserver; point them at an address nothing listens on.
        nowhere = self.dir / "nowhere.kubeconfig"
        write_kubeconfig(nowhere, "https://127.1.2.3:1", self.pki.ca_crt, {"token": "unused"})
        policy = self.dir / "audit-policy.yaml"
        # deletes at Request level: their DeleteOptions (dryRun among them) come in the body, not the query
        policy.write_text("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n"
                          "- level: Request\n  verbs: [delete, deletecollection]\n- level: Metadata\n")
        port = free_port()
        server = Process("realapi-server", [
            str(binary), f"--etcd-servers=http://127.0.0.1:{client_port}",
            "--bind-address=127.0.0.1", f"--secure-port={port}",
            f"--cert-dir={self.dir / 'certs'}", f"--tls-cert-file={self.pki.crt('server')}",
            f"--tls-private-key-file={self.pki.key('server')}", f"--client-ca-file={self.pki.ca_crt}",
            "--authentication-skip-lookup", f"--authentication-kubeconfig={nowhere}",
            f"--authorization-kubeconfig={nowhere}", f"--kubeconfig={nowhere}",
            f"--disable-admission-plugins={DISABLED_ADMISSION}",
            f"--audit-policy-file={policy}", f"--audit-log-path={self.dir / 'audit.log'}",
            "--v=0",
        ], self.dir / "logs")
        self.procs.append(server)
        self.url = f"https://127.0.0.1:{port}"
        s = self.session()
        wait_until("the real API server", lambda: s.get(self.url + "/healthz", verify=self.verify,
                                                          timeout=2).status_code == 200, 60, server)
        crds = load_crds(crd_dir)
        for crd in crds:
            r = s.post(self.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd,
                       params={"fieldValidation": "Strict"}, verify=self.verify, timeout=30)
            if r.status_code != 201:
                raise StartError(f"applying CRD {crd['metadata']['name']}: HTTP {r.status_code}: {r.text[:500]}")
        for crd in crds:
            name, group = crd["metadata"]["name"], crd["spec"]["group"]
            plural = crd["spec"]["names"]["plural"]
            version = next(v["name"] for v in crd["spec"]["versions"] if v.get("served"))

            def ready(name: str = name, group: str = group, plural: str = plural, version: str = version) -> bool:
                got = s.get(f"{self.url}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
                            verify=self.verify, timeout=5).json()
                est = any(c["type"] == "Established" and c["status"] == "True"
                          for c in got.get("status", {}).get("conditions", []))
                return est and s.get(f"{self.url}/apis/{group}/{version}/{plural}", verify=self.verify,
                                     timeout=5).status_code == 200
            wait_until(f"CRD {name} to be served", ready, 30, server)
        self.kubeconfig = self.dir / "kubeconfig"
        write_kubeconfig(self.kubeconfig, self.url, self.pki.ca_crt,
                         {"client-certificate": self.cert[0], "client-key": self.cert[1]})
        self.startup_seconds = time.monotonic() - t0

    def compact(self) -> None:
        """Compact etcd at its current revision, as the API server's own compactor does every few minutes:
        a list or a continue token at an older resourceVersion then answers 410. (A watch from an old
        version is answered from the API server's watch cache, whose window starts when the cache does.)"""
        head = requests.post(self.etcd_url + "/v3/kv/range", json={"key": "AA=="}, timeout=10)
        head.raise_for_status()
        revision = head.json()["header"]["revision"]
        r = requests.post(self.etcd_url + "/v3/kv/compaction", json={"revision": revision, "physical": True},
                          timeout=30)
        r.raise_for_status()

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()


def sandbox_platforms() -> tuple[bool, str]:
    """Whether `python -m sandbox up` takes `--platform` (another change adds it), and its help text."""
    out = subprocess.run([sys.executable, "-m", "sandbox", "up", "--help"], cwd=REPO, capture_output=True,
                         text=True, timeout=60)
    return "--platform" in out.stdout, out.stdout


class SandboxApi(Server):
    label = "sandbox"

    def __init__(self, run_dir: Path, platform: str | None) -> None:
        self.dir = run_dir / "sandbox"
        self.dir.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "sandbox", "--state-dir", str(self.dir), "up", "--no-controller"]
        if platform:
            argv += ["--platform", platform]
        t0 = time.monotonic()
        env = {k: v for k, v in os.environ.items() if k != "DVP_SANDBOX_DIR"}
        res = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120, env=env)
        if res.returncode != 0:
            self.stop()
            raise StartError(f"sandbox up failed: {res.stderr.strip() or res.stdout.strip()}")
        info = json.loads((self.dir / "sandbox.json").read_text())
        self.url = info["api_url"].rstrip("/")
        self.verify = info["ca"]
        self.headers = {"Authorization": f"Bearer {info['tokens']['admin']}"}
        self.kubeconfig = self.dir / "conformance.kubeconfig"
        write_kubeconfig(self.kubeconfig, self.url, Path(self.verify), {"token": info["tokens"]["admin"]})
        self._known: set[str] = {"default"}
        self.startup_seconds = time.monotonic() - t0

    def ensure_namespace(self, ns: str) -> None:
        if ns in self._known:
            return
        r = self.session().post(self.url + "/api/v1/namespaces", verify=self.verify, timeout=30,
                                json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
        if r.status_code not in (201, 409):
            raise StartError(f"creating namespace {ns} on the sandbox: HTTP {r.status_code}: {r.text[:300]}")
        self._known.add(ns)

    def compact(self) -> None:
        r = self.session().post(self.url + "/sandbox/compact", verify=self.verify, timeout=30)
        r.raise_for_status()

    def stop(self) -> None:
        subprocess.run([sys.executable, "-m", "sandbox", "--state-dir", str(self.dir), "down"], cwd=REPO,
                       capture_output=True, text=True, timeout=120)
