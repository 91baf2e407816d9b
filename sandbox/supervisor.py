"""Start, stop and inspect the sandbox's processes.

Every process is started in its own session, logs to `logs/<name>.log`, and is remembered in
`pids/<name>.pid` as "<pid> <start time>" so `down` can stop exactly that process (never by name),
and a recycled PID is never mistaken for ours.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from . import platform as platforms
from . import tools
from .component import REPO_ROOT, Component, UpOptions
from .components import COMPONENTS, by_name
from .config import State, atomic_write
from .pki import ensure_ca

GRACE_SECONDS = 10.0


class SandboxError(RuntimeError):
    """A component failed to start or stop; the message says which and shows its log tail."""


# -- process bookkeeping -------------------------------------------------------------------------
def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":        # zombie: dead for our purposes
        return None
    return fields[19]


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def running_pid(state: State, name: str) -> int | None:
    """PID of the component if its pidfile names a live process started as recorded."""
    try:
        pid_s, started = state.pid_path(name).read_text().split()
    except (OSError, ValueError):
        return None
    pid = int(pid_s)
    _reap(pid)
    return pid if _start_time(pid) == started else None


def _log_tail(state: State, name: str, lines: int = 30) -> str:
    try:
        text = state.log_path(name).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


# -- files for users ---------------------------------------------------------------------------
def write_client_files(state: State, selected: list[Component]) -> dict[str, Any]:
    """sandbox.json, kubeconfig and env: everything a client needs to reach the sandbox."""
    tokens = state.ensure_tokens()
    info = state.load_info()
    info.update({
        "state_dir": str(state.root),
        "api_url": state.api_url,
        "ca": str(state.ca_crt),
        "kubeconfig": str(state.kubeconfig_path),
        "env": str(state.env_path),
    })
    info["components"] = {c.name: (c.info(state) if c.info else {}) for c in selected}
    state.save_info(info)
    atomic_write(state.kubeconfig_path, _kubeconfig(state, tokens), 0o600)
    exports = {
        "KUBECONFIG": str(state.kubeconfig_path),
        "K8S_AUTH_KUBECONFIG": str(state.kubeconfig_path),
        "DVP_SANDBOX_DIR": str(state.root),
        "DVP_SANDBOX_API_URL": state.api_url,
        "DVP_SANDBOX_CA": str(state.ca_crt),
        platforms.ENV: platforms.line(info.get("platform")).name,
    }
    for c in selected:
        if c.exports:
            exports.update(c.exports(state))
    lines = ["# Source me: exports for talking to the DVP sandbox."]
    lines += [f"export {k}='{v}'" for k, v in exports.items()]
    atomic_write(state.env_path, "\n".join(lines) + "\n", 0o600)
    return info


def _kubeconfig(state: State, tokens: dict[str, str]) -> str:
    cfg = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "dvp-sandbox", "cluster": {
            "server": state.api_url, "certificate-authority": str(state.ca_crt)}}],
        "users": [{"name": f"dvp-sandbox-{u}", "user": {"token": tokens[u]}}
                  for u in ("admin", "viewer", "controller")],
        "contexts": [
            {"name": "dvp-sandbox", "context": {"cluster": "dvp-sandbox", "user": "dvp-sandbox-admin",
                                                "namespace": "default"}},
            {"name": "dvp-sandbox-viewer", "context": {"cluster": "dvp-sandbox",
                                                       "user": "dvp-sandbox-viewer",
                                                       "namespace": "default"}},
        ],
        "current-context": "dvp-sandbox",
    }
    return json.dumps(cfg, indent=2) + "\n"   # JSON is valid YAML for every kubeconfig reader


# -- start / stop --------------------------------------------------------------------------------
def _selected(opts: UpOptions) -> list[Component]:
    return [c for c in COMPONENTS if not (opts.no_controller and c.optional)]


SEED_TOOLS = ("qemu-img", "xorriso")   # the demo sources (seed.py)


def require_tools(selected: list[Component], seed: bool = False) -> None:
    """Every system program the selected components (and seeding) run is here, or SandboxError naming,
    for each missing one, its Debian/Ubuntu package and the variable that points at a binary elsewhere."""
    needed = {name for c in selected for name in c.tools} | (set(SEED_TOOLS) if seed else set())
    try:
        tools.require(sorted(needed))
    except tools.ToolMissing as exc:
        raise SandboxError("missing system programs, nothing was started:\n  "
                           + "\n  ".join(exc.problems)) from None


def start_component(state: State, comp: Component, opts: UpOptions, prepare: bool = True) -> int:
    """Prepare, spawn and wait until healthy; raise SandboxError with the log tail otherwise."""
    if prepare and comp.prepare:
        comp.prepare(state, opts)
    env = dict(os.environ)
    env["DVP_SANDBOX_DIR"] = str(state.root)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    if comp.env:
        env.update(comp.env(state))
    log = open(state.log_path(comp.name), "ab")
    try:
        proc = subprocess.Popen(comp.argv(state, opts), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, env=env, cwd=str(state.root),
                                start_new_session=True)
    finally:
        log.close()
    started = _start_time(proc.pid) or "0"
    atomic_write(state.pid_path(comp.name), f"{proc.pid} {started}\n")
    deadline = time.monotonic() + comp.start_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            state.pid_path(comp.name).unlink(missing_ok=True)
            raise SandboxError(f"component {comp.name} exited with code {proc.returncode} while "
                               f"starting; last log lines:\n{_log_tail(state, comp.name)}")
        if comp.health(state):
            return proc.pid
        time.sleep(0.1)
    stop_component(state, comp.name)
    raise SandboxError(f"component {comp.name} not healthy after {comp.start_timeout:.0f}s; "
                       f"last log lines:\n{_log_tail(state, comp.name)}")


def stop_component(state: State, name: str, grace: float = GRACE_SECONDS) -> bool:
    """TERM the recorded PID, KILL after the grace period; True if something was stopped."""
    pid = running_pid(state, name)
    state_file = state.pid_path(name)
    if pid is None:
        state_file.unlink(missing_ok=True)
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        _reap(pid)
        if _start_time(pid) is None:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, signal.SIGKILL)
        while _start_time(pid) is not None:
            _reap(pid)
            time.sleep(0.05)
    state_file.unlink(missing_ok=True)
    return True


def _platform(state: State, opts: UpOptions) -> str:
    """The line to serve: the one asked for, else (while the API server runs) the one it serves,
    else the default (dev). A running API server keeps its line: switching needs `down` first."""
    recorded = state.load_info().get("platform")
    api_running = running_pid(state, "api") is not None
    try:
        wanted = platforms.line(opts.platform or (recorded if api_running else None)).name
    except ValueError as exc:
        raise SandboxError(str(exc)) from None
    if recorded and wanted != recorded and api_running:
        raise SandboxError(f"the sandbox in {state.root} runs platform line {recorded}; run `down` before "
                           f"`up --platform {wanted}`")
    return wanted


def up(state: State, opts: UpOptions) -> str:
    """Start everything not running yet; a no-op (saying so) when all already run."""
    selected = _selected(opts)
    line = _platform(state, opts)
    if all(running_pid(state, c.name) for c in selected):
        return f"sandbox already running in {state.root} (API {state.api_url}, platform {line})"
    require_tools([c for c in selected if running_pid(state, c.name) is None], seed=opts.seed)
    state.ensure_dirs()
    info = state.load_info()
    info["platform"] = line
    state.save_info(info)
    ensure_ca(state)
    state.save_faults(dict(opts.faults))
    for c in selected:            # allocate ports and certs before anyone needs the client files
        if c.prepare:
            c.prepare(state, opts)
    write_client_files(state, selected)
    info = state.load_info()
    info["options"] = {"no_controller": opts.no_controller, "seed": opts.seed, "platform": line}
    state.save_info(info)
    started = []
    try:
        for c in selected:
            if running_pid(state, c.name) is None:
                start_component(state, c, opts, prepare=False)
                started.append(c.name)
    except SandboxError:
        for name in reversed(started):
            stop_component(state, name)
        raise
    return (f"sandbox up in {state.root}: API {state.api_url}, platform {line}\n"
            f"  source {state.env_path}   # or: export KUBECONFIG={state.kubeconfig_path}")


def down(state: State) -> str:
    stopped = [c.name for c in reversed(COMPONENTS) if stop_component(state, c.name)]
    return f"stopped: {', '.join(stopped)}" if stopped else "nothing was running"


def restart(state: State, name: str) -> str:
    comp = by_name(name)
    require_tools([comp])
    stop_component(state, name)
    saved = state.load_info().get("options", {})
    opts = UpOptions(no_controller=saved.get("no_controller", False), seed=False,
                     faults=state.load_faults())
    pid = start_component(state, comp, opts)
    return f"restarted {name} (pid {pid})"


def status(state: State) -> str:
    if not state.info_path.exists():
        return f"no sandbox in {state.root}"
    info = state.load_info()
    served = platforms.line(info.get("platform"))
    lines = [f"sandbox in {state.root}", f"  platform     {served.name} (DVP {served.release})"]
    for c in COMPONENTS:
        pid = running_pid(state, c.name)
        endpoints = info.get("components", {}).get(c.name, {})
        lines.append(f"  {c.name:12} {'running pid ' + str(pid) if pid else 'stopped':20} {endpoints.get('url', '')}")
        if endpoints.get("http_url"):   # the file server's plain HTTP listener: the URL the guides use
            lines.append(f"  {'':12} {'plain HTTP':20} {endpoints['http_url']}   "
                         f"($DVP_SANDBOX_HTTP_URL, serving {endpoints.get('www', '')})")
    lines.append(f"  kubeconfig   {state.kubeconfig_path}")
    lines.append(f"  env          {state.env_path}   (source it: KUBECONFIG and the DVP_SANDBOX_* addresses)")
    return "\n".join(lines)
