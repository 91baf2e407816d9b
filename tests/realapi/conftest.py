"""Fixtures for the modules against the REAL API server for custom resources (issue 16).

The server is the one `make conformance` compares the sandbox with: etcd plus the upstream
`k8s.io/apiextensions-apiserver` built by scripts/realapi/build.py, started by conformance/servers.py
(`RealApi`: own CA, client certificate in O=system:masters, free loopback ports, stopped by PID, the
platform's CRDs from ../shared/reference/ with `x-doc-*` stripped, an audit log at Metadata level).
It has no controller, no core kinds (namespaces, Secrets, RBAC) and no garbage collection: only the
cases that need none of those run here.

- `realapi`: one real server per platform line (`dev`, `v1.10`) for the whole session (a session fixture
  parametrised by line, so every test runs on both lines and each server starts once). Skipped with the
  reason when the binary is not built (this suite never builds it: `make realapi-test` and
  `make conformance` do), when etcd is not on PATH or when the reference CRDs are absent.
  DVP_REALAPI_BINARY names the binary explicitly (the make target passes what build.py printed).
- `sandbox`: overrides the session sandbox of tests/conftest.py with a stand-in holding the real server's
  kubeconfig and line, so that the integration suite's own `play` fixture (imported from
  tests/integration/conftest.py, not copied) runs the collection's modules through ansible-playbook
  against the real server.
- `audit`: the real server's audit log, read from a mark: the writes (create/update/patch/delete) and
  whether each was a dry run, taken from the server's own records.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import parse_qs, urlsplit

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from conformance.__main__ import LINES, reference_dir  # noqa: E402
from conformance.gate import unavailable  # noqa: E402
from conformance.servers import RealApi, StartError  # noqa: E402

WRITE_VERBS = ("create", "update", "patch", "delete", "deletecollection")
BUILD_HINT = "`make realapi` builds it (about 5 minutes once per machine); `make realapi-test` builds and runs this suite"


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _integration_fixtures() -> ModuleType:
    """tests/integration/conftest.py under a name of its own (it imports kube_objects from its folder)."""
    folder = REPO / "tests" / "integration"
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    return _load("realapi_integration_fixtures", folder / "conftest.py")


_INTEGRATION = _integration_fixtures()
collections_root = _INTEGRATION.collections_root
play = _INTEGRATION.play


def built_binary() -> tuple[Optional[Path], str]:
    """(the real server's binary, "") when it is built, else (None, why): never builds it.

    Without DVP_REALAPI_BINARY, it is where scripts/realapi/build.py keeps the build of the current lock
    file, main.go and script (its `by-lock` alias, computed with build.py's own functions)."""
    explicit = os.environ.get("DVP_REALAPI_BINARY")
    if explicit:
        path = Path(explicit)
        return (path, "") if path.is_file() else (None, "DVP_REALAPI_BINARY=%s is not a file" % explicit)
    build = _load("realapi_build", REPO / "scripts" / "realapi" / "build.py")
    if not build.LOCK.exists():
        return None, "no %s" % build.LOCK
    key = build.sha256(build.LOCK.read_bytes(), build.script_inputs())
    path = build.cache_root() / "by-lock" / key[:32] / build.BINARY
    if path.exists():
        return path.resolve(), ""
    return None, "the real API server is not built for this lock file (no %s): %s" % (path, BUILD_HINT)


@pytest.fixture(scope="session")
def realapi_binary() -> Path:
    """The real server's binary (skipped without it; failed under CI)."""
    binary, why = built_binary()
    if binary is None:
        unavailable(why)
    return binary


@pytest.fixture(scope="session", params=list(LINES))
def realapi(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealApi]:
    line = request.param
    binary, why = built_binary()
    if binary is None:
        unavailable(why)
    if not shutil.which("etcd"):
        unavailable("etcd not found on PATH: install Debian's etcd-server (see bindep.txt)")
    crd_dir = reference_dir() / LINES[line]
    if not crd_dir.is_dir():
        unavailable("no reference CRDs for %s at %s (DVP_REFERENCE_DIR overrides)" % (line, crd_dir))
    try:
        server = RealApi(binary, tmp_path_factory.mktemp("realapi-%s" % line.replace(".", "_")), crd_dir)
    except StartError as exc:
        pytest.fail("the real API server (%s) did not start: %s" % (line, exc))
    server.line = line  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(realapi: RealApi) -> SimpleNamespace:
    """What `play` reads of a sandbox (its kubeconfig), pointing at the real server; `platform` is the line."""
    return SimpleNamespace(kubeconfig=str(realapi.kubeconfig), platform=realapi.line)  # type: ignore[attr-defined]


@pytest.fixture
def line(realapi: RealApi) -> str:
    return realapi.line  # type: ignore[attr-defined]


@pytest.fixture
def namespace() -> str:
    """A fresh namespace name: the real server has no Namespace kind, any name is accepted as is."""
    return "rt-%s" % uuid.uuid4().hex[:10]


class Audit:
    """The real server's audit log (one JSON event per line), read from the last mark()."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.mark()

    def mark(self) -> None:
        self._settle()
        self.offset = self.path.stat().st_size if self.path.exists() else 0

    def _settle(self) -> None:
        """The ResponseComplete event is written just after the response: wait until the file stops growing."""
        last = -1
        for _attempt in range(20):
            size = self.path.stat().st_size if self.path.exists() else 0
            if size == last:
                return
            last = size
            time.sleep(0.05)

    def events(self) -> List[Dict[str, Any]]:
        self._settle()
        if not self.path.exists():
            return []
        with open(self.path, "rb") as stream:
            stream.seek(self.offset)
            lines = stream.read().decode().splitlines()
        return [e for e in (json.loads(line) for line in lines if line.strip()) if e.get("stage") == "ResponseComplete"]

    def writes(self, namespace: Optional[str] = None, resource: Optional[str] = None) -> List[Dict[str, Any]]:
        """Writes since the mark, as {verb, resource, namespace, name, code, dry_run, uri}."""
        out = []
        for event in self.events():
            if event.get("verb") not in WRITE_VERBS:
                continue
            ref = event.get("objectRef") or {}
            if namespace is not None and ref.get("namespace") != namespace:
                continue
            if resource is not None and ref.get("resource") != resource:
                continue
            query = parse_qs(urlsplit(event.get("requestURI", "")).query)
            out.append({"verb": event["verb"], "resource": ref.get("resource"), "namespace": ref.get("namespace"),
                        "name": ref.get("name"), "code": (event.get("responseStatus") or {}).get("code"),
                        "dry_run": "All" in query.get("dryRun", [])
                        or "All" in ((event.get("requestObject") or {}).get("dryRun") or []),  # DeleteOptions body
                        "uri": event.get("requestURI")})
        return out

    def real_writes(self, **kwargs: Any) -> List[Dict[str, Any]]:
        return [w for w in self.writes(**kwargs) if not w["dry_run"]]

    def stored_writes(self, **kwargs: Any) -> List[Dict[str, Any]]:
        """Writes the server accepted (2xx) and stored (not dry runs)."""
        return [w for w in self.real_writes(**kwargs) if w["code"] is not None and 200 <= w["code"] < 300]


@pytest.fixture
def audit(realapi: RealApi) -> Audit:
    return Audit(realapi.dir / "audit.log")
