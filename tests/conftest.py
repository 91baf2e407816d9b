"""Session fixtures shared by tests/sandbox and tests/integration: one sandbox per pytest session.

- `sandbox`: a fresh sandbox (every component that exists) in a temp state dir, stopped by PID at
  the end.  Set DVP_SANDBOX_NO_CONTROLLER=1 to start only the API server, and
  DVP_SANDBOX_PLATFORM=v1.10 to serve the released platform line instead of the development one
  (`sandbox.platform`; the fixture's `sandbox.platform` says which line runs).
- `k8s`: an admin kubernetes DynamicClient.
- `namespace`: a fresh namespace per test (name returned), deleted afterwards.
"""
from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

try:
    from sandbox.handle import Sandbox  # noqa: E402
except ImportError:  # the ansible-test units copy has no sandbox/ (and tests/unit needs no sandbox)
    Sandbox = None  # type: ignore[assignment,misc]


def _interrupt_on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session", autouse=True)
def _teardown_on_sigterm() -> Iterator[None]:
    """`timeout`/CI cancel send SIGTERM: turn it into an interrupt so the session's fixtures
    still stop the sandboxes they started (otherwise their processes would outlive pytest)."""
    previous = signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    sb = Sandbox(tmp_path_factory.mktemp("dvp-sandbox"))
    try:
        sb.up(no_controller=os.environ.get("DVP_SANDBOX_NO_CONTROLLER") == "1",
              platform=os.environ.get("DVP_SANDBOX_PLATFORM") or None)
        yield sb
    finally:
        sb.down()


@pytest.fixture(scope="session")
def k8s(sandbox: Sandbox) -> Any:
    return sandbox.dynamic_client()


@pytest.fixture
def namespace(k8s: Any) -> Iterator[str]:
    name = f"t-{uuid.uuid4().hex[:10]}"
    api = k8s.resources.get(api_version="v1", kind="Namespace")
    api.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    try:
        yield name
    finally:
        try:
            api.delete(name=name)
        except Exception:  # already gone (a test deleted it)
            pass
