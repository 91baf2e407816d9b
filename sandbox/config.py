"""The sandbox's state directory: where every file lives and the runtime facts (ports, tokens).

One place decides paths, so the supervisor, the API server, the controller, the handle and the
tests all agree.  Layout (under the state dir):

    ca.crt / ca.key      sandbox CA (pki.py)
    tls/                 server certificates, one pair per component
    sandbox.json         machine-readable runtime info (endpoints, CA, tokens, components)
    kubeconfig           contexts dvp-sandbox (admin, current) and dvp-sandbox-viewer
    env                  shell file exporting KUBECONFIG, DVP_SANDBOX_* and component variables
    faults.json          current fault-injection settings (read by the API server)
    audit.jsonl          the API server's audit trail (GET/DELETE /sandbox/audit)
    store/               persisted API objects
    pids/ logs/          one pidfile / logfile per component

Reads only read: `port`, `tokens` and `api_url` raise NotRecorded for a fact nobody recorded yet;
the explicit steps `ensure_port` / `ensure_tokens` (run by `up` and the components' prepare hooks)
make what is missing and write sandbox.json.  Nothing in this module imports the rest of the
sandbox: it is a leaf every other module may use.
"""
from __future__ import annotations

import json
import os
import secrets
import socket
import tempfile
from pathlib import Path
from typing import Any, Callable

DEFAULT_DIR = ".sandbox"
ENV_DIR = "DVP_SANDBOX_DIR"
USERS = ("admin", "viewer", "controller")


class NotRecorded(LookupError):
    """A runtime fact (port, token) read before the step that records it ran."""


def resolve_state_dir(arg: str | os.PathLike[str] | None = None) -> Path:
    """--state-dir wins, then $DVP_SANDBOX_DIR, then ./.sandbox."""
    raw = arg or os.environ.get(ENV_DIR) or DEFAULT_DIR
    return Path(raw).expanduser().resolve()


def atomic_write(path: Path, data: str | bytes, mode: int = 0o644) -> None:
    """Write via a temp file + rename so readers (and a crash) never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.write(fd, raw)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def free_port() -> int:
    """A port free on loopback right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class State:
    """Paths and persistent runtime facts of one sandbox instance."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_state_dir(root)
        self.ca_crt = self.root / "ca.crt"
        self.ca_key = self.root / "ca.key"
        self.tls_dir = self.root / "tls"
        self.info_path = self.root / "sandbox.json"
        self.kubeconfig_path = self.root / "kubeconfig"
        self.env_path = self.root / "env"
        self.faults_path = self.root / "faults.json"
        self.store_dir = self.root / "store"
        self.pids_dir = self.root / "pids"
        self.logs_dir = self.root / "logs"

    # -- directories / files -------------------------------------------------------------
    def ensure_dirs(self) -> None:
        for d in (self.root, self.tls_dir, self.store_dir, self.pids_dir, self.logs_dir):
            d.mkdir(parents=True, exist_ok=True)

    def pid_path(self, name: str) -> Path:
        return self.pids_dir / f"{name}.pid"

    def log_path(self, name: str) -> Path:
        return self.logs_dir / f"{name}.log"

    def component_dir(self, name: str) -> Path:
        """A private work dir for a component (config files, data); its prepare step makes it."""
        return self.root / name

    # -- sandbox.json: reads only read; ensure_* make what is missing and save it -----------------
    def load_info(self) -> dict[str, Any]:
        try:
            return json.loads(self.info_path.read_text())
        except FileNotFoundError:
            return {}

    def save_info(self, info: dict[str, Any]) -> None:
        # Holds bearer tokens: owner-only.
        atomic_write(self.info_path, json.dumps(info, indent=2, sort_keys=True) + "\n", 0o600)

    def _recorded(self, table: str, name: str) -> Any:
        recorded = self.load_info().get(table) or {}
        if name not in recorded:
            raise NotRecorded(f"{table}.{name} is not in {self.info_path} yet: `up` (a component's "
                              f"prepare step) records it")
        return recorded[name]

    def _ensure(self, table: str, name: str, make: Callable[[], Any]) -> Any:
        info = self.load_info()
        recorded = info.setdefault(table, {})
        if name not in recorded:
            recorded[name] = make()
            self.save_info(info)
        return recorded[name]

    def secret_values(self) -> list[str]:
        """Every credential sandbox.json records (the users' tokens, the user registry's password): what no log
        may hold (see logsafe.py)."""
        info = self.load_info()
        values = list((info.get("tokens") or {}).values()) + [(info.get("registry_auth") or {}).get("password")]
        return [str(value) for value in values if value]

    def port(self, name: str) -> int:
        """The loopback port recorded for an endpoint (NotRecorded before its prepare step ran)."""
        return int(self._recorded("ports", name))

    def ensure_port(self, name: str, forced: int | None = None) -> int:
        """Pick the endpoint's port once (or record `forced`), so URLs stay valid across restarts."""
        if forced:
            info = self.load_info()
            info.setdefault("ports", {})[name] = int(forced)
            self.save_info(info)
            return int(forced)
        return int(self._ensure("ports", name, free_port))

    def tokens(self) -> dict[str, str]:
        """Bearer tokens of the users admin, viewer and controller, as recorded."""
        return {user: str(self._recorded("tokens", user)) for user in USERS}

    def ensure_tokens(self) -> dict[str, str]:
        """Make the users' tokens once (kept across restarts, so kubeconfigs stay valid)."""
        for user in USERS:
            self._ensure("tokens", user, lambda: secrets.token_urlsafe(32))
        return self.tokens()

    # -- derived facts ----------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        return f"https://127.0.0.1:{self.port('api')}"

    def load_faults(self) -> dict[str, Any]:
        try:
            return json.loads(self.faults_path.read_text())
        except FileNotFoundError:
            return {}

    def save_faults(self, faults: dict[str, Any]) -> None:
        atomic_write(self.faults_path, json.dumps(faults, indent=2, sort_keys=True) + "\n")
