"""The processes a sandbox runs, in start order.

Adding a component is a few lines: build a `Component` and append it to `COMPONENTS` (order =
start order; `down` stops in reverse).  Example (helper "controller"):

    def _dvcr_argv(state: State, opts: UpOptions) -> list[str]:
        return ["docker-registry", "serve", str(state.component_dir("dvcr") / "config.yml")]

    COMPONENTS.append(Component(
        name="dvcr",
        argv=_dvcr_argv,
        prepare=_write_dvcr_config,                 # (state, opts) -> None, runs before each start
        health=https_health(lambda s: f"https://127.0.0.1:{s.port('dvcr')}/v2/"),
        info=lambda s: {"url": f"https://127.0.0.1:{s.port('dvcr')}"},   # -> sandbox.json components.dvcr
        exports=lambda s: {"DVP_SANDBOX_DVCR": f"127.0.0.1:{s.port('dvcr')}"},  # -> env file
        optional=True,                              # skipped by `up --no-controller`
    ))

Useful pieces: `state.port(name)` (a persistent free loopback port), `pki.ensure_leaf(state, name)`
(a server cert/key), `state.component_dir(name)` (a work dir), `python_argv("module", ...)` (run a
module of this repo with the venv's Python), `opts.seed` (`up --seed`), `state.tokens()["controller"]`
and `state.api_url` (talk to the API).  Processes get `DVP_SANDBOX_DIR` in their environment and
log to `logs/<name>.log`.
"""
from __future__ import annotations

import ssl
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .config import State

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class UpOptions:
    """What `up` was asked for; handed to every hook."""
    no_controller: bool = False
    seed: bool = False
    faults: dict[str, Any] = field(default_factory=dict)
    api_port: int | None = None


@dataclass
class Component:
    """One supervised process."""
    name: str
    argv: Callable[[State, UpOptions], list[str]]
    health: Callable[[State], bool]
    prepare: Callable[[State, UpOptions], None] | None = None
    env: Callable[[State], dict[str, str]] | None = None        # extra env for the process
    info: Callable[[State], dict[str, Any]] | None = None       # sandbox.json components[name]
    exports: Callable[[State], dict[str, str]] | None = None    # lines of the env file
    optional: bool = False                                      # skipped by --no-controller
    start_timeout: float = 60.0


def python_argv(module: str, *args: str) -> list[str]:
    """Run `python -m <module> args` with the interpreter running the supervisor."""
    return [sys.executable, "-m", module, *args]


def https_health(url: Callable[[State], str], headers: Callable[[State], dict[str, str]] | None = None
                 ) -> Callable[[State], bool]:
    """Healthy when the URL answers over TLS trusted by the sandbox CA (any HTTP status counts)."""
    def check(state: State) -> bool:
        ctx = ssl.create_default_context(cafile=str(state.ca_crt))
        req = urllib.request.Request(url(state), headers=headers(state) if headers else {})
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except (OSError, ssl.SSLError):
            return False
    return check


# -- the API server ------------------------------------------------------------------------------
def _api_argv(state: State, opts: UpOptions) -> list[str]:
    return python_argv("sandbox", "--state-dir", str(state.root), "serve-api")


def _api_prepare(state: State, opts: UpOptions) -> None:
    from .pki import ensure_leaf
    ensure_leaf(state, "api")
    state.port("api", opts.api_port)


COMPONENTS: list[Component] = [
    Component(
        name="api",
        argv=_api_argv,
        prepare=_api_prepare,
        health=https_health(lambda s: f"{s.api_url}/readyz"),
        info=lambda s: {"url": s.api_url},
    ),
]


# -- DVCR, the user registry, the file server, the controller (helper "controller") ---------------
from .controller.processes import controller_components  # noqa: E402

COMPONENTS += controller_components()

def by_name(name: str) -> Component:
    for comp in COMPONENTS:
        if comp.name == name:
            return comp
    raise KeyError(f"no component {name!r}; known: {', '.join(c.name for c in COMPONENTS)}")
