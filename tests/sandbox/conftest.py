"""Fixtures for the API server's own suites (tests/sandbox/test_api_*.py).

`api_sandbox` is a second, API-only sandbox (no controller) so these tests can assert exact
resourceVersions, restart the API and inject faults without racing the image controller or
disturbing the shared session sandbox other suites use.  It starts in about a second.
"""
from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest

from sandbox.handle import Sandbox


@pytest.fixture(scope="session")
def api_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path_factory.mktemp("api-sandbox"))
    try:
        sb.up(no_controller=True)
        yield sb
    finally:
        sb.down()


@pytest.fixture(scope="session")
def api_sandbox_v110(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """An API-only sandbox serving the released platform line v1.10 (`up --platform v1.10`)."""
    sb = Sandbox(tmp_path_factory.mktemp("api-sandbox-v110"))
    try:
        sb.up(no_controller=True, platform="v1.10")
        yield sb
    finally:
        sb.down()


@pytest.fixture(params=["dev", "v1.10"])
def line_sandbox(request: pytest.FixtureRequest) -> Sandbox:
    """The API-only sandbox of each platform line in turn (the test runs once per line)."""
    return request.getfixturevalue("api_sandbox" if request.param == "dev" else "api_sandbox_v110")


@pytest.fixture
def line_ns(line_sandbox: Sandbox) -> Iterator[str]:
    """A fresh namespace on `line_sandbox`."""
    name = f"l-{uuid.uuid4().hex[:10]}"
    line_sandbox.request("POST", "/api/v1/namespaces",
                         {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    line_sandbox.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture(scope="session")
def api(api_sandbox: Sandbox) -> Any:
    """Admin DynamicClient on the API-only sandbox."""
    return api_sandbox.dynamic_client()


@pytest.fixture
def ns(api: Any, api_sandbox: Sandbox) -> Iterator[str]:
    """A fresh namespace on the API-only sandbox."""
    name = f"a-{uuid.uuid4().hex[:10]}"
    api_sandbox.request("POST", "/api/v1/namespaces",
                        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    api_sandbox.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture(autouse=True)
def _no_faults_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fault settings never leak from one test into the next."""
    yield
    if "api_sandbox" in request.fixturenames:
        request.getfixturevalue("api_sandbox").set_faults(clear=True)


def _vi(name: str, ns: str, url: str = "https://example.com/disk.qcow2", **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
            "metadata": {"name": name, "namespace": ns, **meta},
            "spec": {"storage": "ContainerRegistry",
                     "dataSource": {"type": "HTTP", "http": {"url": url}}}}


def _cm(name: str, ns: str, data: dict[str, str] | None = None, **meta: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns, **meta},
            "data": data or {"k": "v"}}


@pytest.fixture
def vi() -> Any:
    """Builds a VirtualImage body: vi(name, ns, url=..., **metadata)."""
    return _vi


@pytest.fixture
def cm() -> Any:
    """Builds a ConfigMap body: cm(name, ns, data=None, **metadata)."""
    return _cm
