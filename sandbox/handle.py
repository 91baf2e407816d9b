"""A Python handle on one sandbox, for tests and users.

    sb = Sandbox("/tmp/sb").up(no_controller=True)
    dyn = sb.dynamic_client()                 # admin; user="viewer" / "controller" too
    sb.set_faults(error_rate=0.2); sb.audit(); sb.clear_audit(); sb.compact()
    sb.restart("api"); sb.down()

Attributes come from sandbox.json: api_url, ca_path, kubeconfig, tokens, components (endpoints
other components publish, e.g. sb.components["dvcr"]["url"]), state_dir, env_path.
"""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from . import supervisor
from .component import UpOptions
from .config import State


class Sandbox:
    def __init__(self, state_dir: str | Path | None = None) -> None:
        self.state = State(state_dir)

    # -- lifecycle ------------------------------------------------------------------------------
    def up(self, no_controller: bool = False, seed: bool = False, api_port: int | None = None,
           faults: dict[str, Any] | None = None, platform: str | None = None) -> "Sandbox":
        supervisor.up(self.state, UpOptions(no_controller=no_controller, seed=seed,
                                            faults=dict(faults or {}), api_port=api_port, platform=platform))
        return self

    def down(self) -> str:
        return supervisor.down(self.state)

    def restart(self, component: str) -> str:
        return supervisor.restart(self.state, component)

    def running(self, component: str = "api") -> bool:
        return supervisor.running_pid(self.state, component) is not None

    # -- facts ------------------------------------------------------------------------------------
    @property
    def info(self) -> dict[str, Any]:
        return self.state.load_info()

    @property
    def state_dir(self) -> Path:
        return self.state.root

    @property
    def api_url(self) -> str:
        return str(self.info["api_url"])

    @property
    def ca_path(self) -> str:
        return str(self.info["ca"])

    @property
    def kubeconfig(self) -> str:
        return str(self.info["kubeconfig"])

    @property
    def env_path(self) -> str:
        return str(self.info["env"])

    @property
    def platform(self) -> str:
        """The platform line this sandbox serves (`dev` or `v1.10`, see sandbox.platform)."""
        return str(self.info.get("platform") or "dev")

    @property
    def tokens(self) -> dict[str, str]:
        return dict(self.info["tokens"])

    @property
    def components(self) -> dict[str, dict[str, Any]]:
        return dict(self.info.get("components", {}))

    # -- clients ------------------------------------------------------------------------------------
    def api_client(self, user: str = "admin") -> Any:
        """A kubernetes.client.ApiClient for `user` (TLS verified against the sandbox CA)."""
        from kubernetes import client
        cfg = client.Configuration()
        cfg.host = self.api_url
        cfg.ssl_ca_cert = self.ca_path
        cfg.verify_ssl = True
        cfg.api_key = {"authorization": self.tokens[user]}
        cfg.api_key_prefix = {"authorization": "Bearer"}
        return client.ApiClient(cfg)

    def dynamic_client(self, user: str = "admin") -> Any:
        from kubernetes.dynamic import DynamicClient
        return DynamicClient(self.api_client(user))

    def request(self, method: str, path: str, body: Any = None, user: str = "admin",
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        """A raw HTTPS call to the API; returns (status, headers, decoded JSON or text)."""
        data = None
        hdrs = {"Authorization": f"Bearer {self.tokens[user]}", "Accept": "application/json"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        req = urllib.request.Request(self.api_url + path, data=data, method=method, headers=hdrs)
        ctx = ssl.create_default_context(cafile=self.ca_path)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as resp:
                code, rh, raw = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as err:
            code, rh, raw = err.code, dict(err.headers), err.read()
        try:
            return code, rh, json.loads(raw) if raw else None
        except json.JSONDecodeError:
            return code, rh, raw.decode(errors="replace")

    def _admin(self, method: str, path: str, body: Any = None) -> Any:
        code, _, out = self.request(method, path, body)
        if code >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {code}: {out}")
        return out

    # -- fault injection and audit ---------------------------------------------------------------
    def faults(self) -> dict[str, Any]:
        return dict(self._admin("GET", "/sandbox/faults"))

    def set_faults(self, clear: bool = False, **kw: Any) -> dict[str, Any]:
        """Change fault settings (merged into the current ones; clear=True first resets all)."""
        if clear:
            self._admin("DELETE", "/sandbox/faults")
        return dict(self._admin("PUT", "/sandbox/faults", kw)) if kw else self.faults()

    def audit(self) -> list[dict[str, Any]]:
        """Every request handled since the last clear_audit(), oldest first."""
        return list(self._admin("GET", "/sandbox/audit")["items"])

    def clear_audit(self) -> None:
        self._admin("DELETE", "/sandbox/audit")

    def compact(self) -> int:
        """Drop the API's watch history (like etcd compaction): older RVs then answer 410 Gone."""
        return int(self._admin("POST", "/sandbox/compact")["compacted"])
