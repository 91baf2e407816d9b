"""The shared session sandbox (tests/conftest.py): client files and the DynamicClient fixtures."""
from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import yaml


def test_client_files(sandbox: Any) -> None:
    info = json.loads((Path(sandbox.state_dir) / "sandbox.json").read_text())
    assert info["api_url"] == sandbox.api_url and Path(info["ca"]).exists()
    assert set(info["tokens"]) == {"admin", "viewer", "controller"}
    assert "api" in info["components"]
    cfg = yaml.safe_load(Path(sandbox.kubeconfig).read_text())
    assert cfg["current-context"] == "dvp-sandbox"
    assert {c["name"] for c in cfg["contexts"]} >= {"dvp-sandbox", "dvp-sandbox-viewer"}
    env = Path(sandbox.env_path).read_text()
    for var in ("KUBECONFIG", "DVP_SANDBOX_DIR", "DVP_SANDBOX_API_URL", "DVP_SANDBOX_CA"):
        assert f"export {var}=" in env
    for secret_file in (sandbox.kubeconfig, sandbox.env_path, Path(sandbox.state_dir) / "sandbox.json"):
        assert stat.S_IMODE(Path(secret_file).stat().st_mode) == 0o600


def test_fixtures_give_a_working_client(k8s: Any, namespace: str) -> None:
    nss = k8s.resources.get(api_version="v1", kind="Namespace")
    assert nss.get(name=namespace).status.phase == "Active"
    secrets = k8s.resources.get(api_version="v1", kind="Secret")
    made = secrets.create(namespace=namespace, body={
        "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"a": "b"}})
    assert made.data.a == "Yg==" and made.type == "Opaque"


def test_up_again_is_a_noop(sandbox: Any) -> None:
    from sandbox import supervisor
    from sandbox.components import UpOptions
    opts = UpOptions(no_controller=bool(sandbox.info.get("options", {}).get("no_controller")))
    assert "already running" in supervisor.up(sandbox.state, opts)
