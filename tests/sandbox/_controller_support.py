"""Shared helpers for the controller suites: a status recorder (watch) and the progress checker.

Every status a test's objects go through is recorded from a real watch, so the progress
invariants are checked on what a client would really see, not on a final snapshot.
"""
from __future__ import annotations

import base64
import json
import re
import tarfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

import pytest
import requests

GROUP = "virtualization.deckhouse.io/v1alpha2"
PLURALS = {"VirtualImage": "virtualimages", "ClusterVirtualImage": "clustervirtualimages",
           "VirtualDisk": "virtualdisks", "VirtualDiskSnapshot": "virtualdisksnapshots",
           "VirtualMachine": "virtualmachines", "VirtualMachineOperation": "virtualmachineoperations"}
_PROGRESS = re.compile(r"^(0|100|\d{1,2}\.\d)%$")


class Api:
    """Plain HTTPS calls as admin (TLS trusted via the sandbox CA, never the environment)."""

    def __init__(self, sb: Any) -> None:
        self.sb = sb
        self.base = sb.api_url
        self.s = requests.Session()
        self.s.trust_env = False
        self.s.headers["Authorization"] = f"Bearer {sb.tokens['admin']}"
        self.ca = sb.ca_path

    def path(self, kind: str, ns: str | None, name: str | None = None) -> str:
        if kind in ("Secret", "PersistentVolumeClaim", "Event", "Namespace"):
            plural = {"Secret": "secrets", "PersistentVolumeClaim": "persistentvolumeclaims",
                      "Event": "events", "Namespace": "namespaces"}[kind]
            p = "/api/v1" + (f"/namespaces/{ns}" if ns else "") + f"/{plural}"
        elif kind == "StorageClass":
            p = "/apis/storage.k8s.io/v1/storageclasses"
        else:
            p = f"/apis/{GROUP}" + (f"/namespaces/{ns}" if ns else "") + f"/{PLURALS[kind]}"
        return p + (f"/{name}" if name else "")

    def req(self, method: str, path: str, body: Any = None, ctype: str = "application/json",
            ok: tuple[int, ...] = (200, 201, 202)) -> Any:
        r = self.s.request(method, self.base + path, data=json.dumps(body) if body is not None else None,
                           headers={"Content-Type": ctype}, verify=self.ca, timeout=30)
        if r.status_code not in ok:
            raise AssertionError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        return r.json() if r.text else None

    def create(self, obj: dict) -> dict:
        ns = obj["metadata"].get("namespace")
        return self.req("POST", self.path(obj["kind"], ns), obj)

    def get(self, kind: str, ns: str | None, name: str) -> dict | None:
        r = self.s.get(self.base + self.path(kind, ns, name), verify=self.ca, timeout=30)
        return None if r.status_code == 404 else r.json()

    def patch(self, kind: str, ns: str | None, name: str, patch: dict) -> dict:
        return self.req("PATCH", self.path(kind, ns, name), patch, "application/merge-patch+json")

    def delete(self, kind: str, ns: str | None, name: str) -> None:
        self.req("DELETE", self.path(kind, ns, name), ok=(200, 202, 404))

    def events(self, ns: str) -> list[dict]:
        return self.req("GET", self.path("Event", ns))["items"]


class Recorder:
    """Watch one kind (in one namespace, or cluster-wide) in a thread, keeping every object seen."""

    def __init__(self, api: Api, kind: str, ns: str | None) -> None:
        self.api, self.kind, self.ns = api, kind, ns
        self.seen: dict[str, list[dict]] = {}
        self.cond = threading.Condition()
        self._stop = False
        listed = api.req("GET", api.path(kind, ns))
        for obj in listed["items"]:
            self._add(obj)
        self._rv = listed["metadata"]["resourceVersion"]
        self._resp: requests.Response | None = None
        self._session = requests.Session()   # its own: sessions are not shared across threads
        self._session.trust_env = False
        self._session.headers.update(api.s.headers)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _add(self, obj: dict) -> None:
        with self.cond:
            self.seen.setdefault(obj["metadata"]["name"], []).append(obj)
            self.cond.notify_all()

    def _run(self) -> None:
        while not self._stop:
            try:
                self._resp = self._session.get(
                    self.api.base + self.api.path(self.kind, self.ns),
                    params={"watch": "1", "resourceVersion": self._rv, "timeoutSeconds": "5"}, stream=True,
                    verify=self.api.ca, timeout=(10, 30))
                for line in self._resp.iter_lines():
                    if self._stop:
                        return
                    if not line:
                        continue
                    ev = json.loads(line)
                    obj = ev.get("object") or {}
                    if ev.get("type") == "ERROR" or "metadata" not in obj:
                        if ev.get("type") == "ERROR":  # expired: carry on from a fresh list
                            self._rv = self.api.req("GET", self.api.path(self.kind, self.ns))["metadata"][
                                "resourceVersion"]
                        break
                    self._rv = obj["metadata"].get("resourceVersion", self._rv)
                    if ev["type"] == "DELETED":
                        obj = {**obj, "_deleted": True}
                    self._add(obj)
            except Exception:
                if self._stop:
                    return
                time.sleep(0.2)

    def stop(self) -> None:
        """The thread ends at the next server-side watch timeout (closing from here could block)."""
        self._stop = True

    def history(self, name: str) -> list[dict]:
        with self.cond:
            return list(self.seen.get(name, []))

    def last(self, name: str) -> dict | None:
        h = self.history(name)
        return h[-1] if h else None

    def wait(self, name: str, pred: Callable[[dict], bool], timeout: float = 30, what: str = "") -> dict:
        """Block until the latest version of `name` satisfies pred (watch-driven, with a deadline)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                hist = self.seen.get(name) or []
                if hist and pred(hist[-1]):
                    return hist[-1]
                left = deadline - time.monotonic()
                if left <= 0:
                    last = hist[-1] if hist else None
                    raise AssertionError(f"timeout waiting for {self.kind} {name} {what}: last status "
                                         f"{json.dumps((last or {}).get('status'), indent=1)}")
                self.cond.wait(min(left, 1.0))

    def wait_any(self, pred: Callable[[dict], bool], timeout: float = 30, what: str = "") -> list[dict]:
        """Block until the latest version of some object satisfies pred; all such objects (watch-driven, with a
        deadline). For objects whose names the test cannot know, such as events."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                found = [hist[-1] for hist in self.seen.values() if hist and pred(hist[-1])]
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"timeout waiting for a {self.kind} {what}")
                self.cond.wait(min(left, 1.0))

    def wait_phase(self, name: str, phase: str, timeout: float = 30) -> dict:
        return self.wait(name, lambda o: (o.get("status") or {}).get("phase") == phase, timeout, f"phase {phase}")

    def wait_gone(self, name: str, timeout: float = 30) -> None:
        self.wait(name, lambda o: bool(o.get("_deleted")), timeout, "deleted")


def phase_of(obj: dict) -> str | None:
    return (obj.get("status") or {}).get("phase")


def cond(obj: dict, type_: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c["type"] == type_:
            return c
    return None


def check_progress(history: list[dict]) -> list[str]:
    """The platform's progress rules over every version seen; returns the progress values.

    Empty while Pending; well-formed; never decreasing (a spec change resets it, through
    Pending); exactly 100% at Ready and never before.
    """
    values: list[str] = []
    best = -1.0
    gen = None
    for obj in history:
        if obj.get("_deleted"):
            continue
        st = obj.get("status") or {}
        phase, prog = st.get("phase"), st.get("progress")
        if st.get("observedGeneration") != gen:
            gen, best = st.get("observedGeneration"), -1.0
        if phase == "Pending":
            assert not prog, f"progress {prog!r} while Pending"
            best = -1.0
            continue
        if phase == "Ready":
            assert prog == "100%", f"Ready with progress {prog!r}"
        if not prog:
            continue
        assert _PROGRESS.match(prog), f"malformed progress {prog!r}"
        val = float(prog[:-1])
        if prog == "100%":
            assert phase in ("Ready", "Terminating", "ImageLost", "PVCLost"), f"100% in phase {phase}"
        assert val >= best, f"progress went down: {best} -> {val} ({[v for v in values]})"
        best = val
        if not values or values[-1] != prog:
            values.append(prog)
    return values


def vi(ns: str, name: str, source: dict, storage: str = "ContainerRegistry", annotations: dict | None = None,
       **spec: Any) -> dict:
    return {"apiVersion": GROUP, "kind": "VirtualImage",
            "metadata": {"name": name, "namespace": ns, "annotations": annotations or {}},
            "spec": {"storage": storage, "dataSource": source, **spec}}


def cvi(name: str, source: dict, annotations: dict | None = None) -> dict:
    return {"apiVersion": GROUP, "kind": "ClusterVirtualImage",
            "metadata": {"name": name, "annotations": annotations or {}}, "spec": {"dataSource": source}}


def http_source(url: str, **kw: Any) -> dict:
    return {"type": "HTTP", "http": {"url": url, **kw}}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def ca_b64(sb: Any) -> str:
    return base64.b64encode(Path(sb.ca_path).read_bytes()).decode()


def image_source(sb: Any, repo: str, secret: str | None = None) -> dict:
    """A ContainerImage data source in the sandbox's user registry (TLS with the sandbox CA)."""
    ci: dict = {"image": f"{sb.components['registry']['host']}/{repo}", "caBundle": ca_b64(sb)}
    if secret:
        ci["imagePullSecret"] = {"name": secret}
    return {"type": "ContainerImage", "containerImage": ci}


def pull_secret(sb: Any, ns: str, name: str) -> dict:
    """A dockerconfigjson Secret for the user registry."""
    reg = sb.components["registry"]
    auth = base64.b64encode(f"{reg['username']}:{reg['password']}".encode()).decode()
    payload = json.dumps({"auths": {reg["host"]: {"auth": auth}}}).encode()
    return {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": name, "namespace": ns},
            "data": {".dockerconfigjson": base64.b64encode(payload).decode()}}


def dvcr_layer_files(sb: Any, registry_url: str, workdir: Path) -> dict[str, bytes]:
    """Files inside the single layer of a DVCR image (checks it is exactly one uncompressed tar layer)."""
    host, _, rest = registry_url.partition("/")
    repo, _, tag = rest.rpartition(":")
    s = requests.Session()
    s.trust_env = False
    man = s.get(f"https://{host}/v2/{repo}/manifests/{tag}", verify=sb.ca_path, timeout=10, headers={
        "Accept": "application/vnd.oci.image.manifest.v1+json"})
    assert man.status_code == 200, man.text
    layers = man.json()["layers"]
    assert len(layers) == 1 and layers[0]["mediaType"] == "application/vnd.oci.image.layer.v1.tar", layers
    blob = s.get(f"https://{host}/v2/{repo}/blobs/{layers[0]['digest']}", verify=sb.ca_path, timeout=30)
    path = workdir / "layer.tar"
    path.write_bytes(blob.content)
    out = {}
    with tarfile.open(path, "r:") as tar:
        for m in tar:
            if m.isreg():
                out[m.name] = tar.extractfile(m).read()  # type: ignore[union-attr]
    return out


# -- fixtures (imported by the test modules) -----------------------------------------------------


def need_controller(sb: Any) -> None:
    if "controller" not in sb.components:
        pytest.skip("sandbox started without the controller (DVP_SANDBOX_NO_CONTROLLER=1)")


@pytest.fixture(scope="session")
def seeded(sandbox: Any) -> Path:
    """The demo sources (www/ and the user registry), made once per session; returns www/."""
    from sandbox.seed import seed

    need_controller(sandbox)
    seed(sandbox.state)
    return sandbox.state_dir / "www"


@pytest.fixture(scope="session")
def api(sandbox: Any) -> Api:
    need_controller(sandbox)
    return Api(sandbox)


@pytest.fixture
def vis(api: Api, namespace: str):
    """A recorder of VirtualImages in the test's namespace; the progress rules are checked at the end."""
    rec = Recorder(api, "VirtualImage", namespace)
    yield rec
    rec.stop()
    for name in list(rec.seen):
        check_progress(rec.history(name))
