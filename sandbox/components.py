"""The processes a sandbox runs, in start order.

Adding a component is a few lines: build a `Component` (`sandbox/component.py`) and add it to
`COMPONENTS` (order = start order; `down` stops in reverse).  Example (DVCR, from
`sandbox/controller/processes.py`):

    def _dvcr_argv(state: State, opts: UpOptions) -> list[str]:
        return [tools.command("docker-registry"), "serve", str(state.component_dir("dvcr") / "config.yml")]

    Component(
        name="dvcr",
        argv=_dvcr_argv,
        prepare=_write_dvcr_config,                 # (state, opts) -> None, runs before each start
        health=https_health(lambda s: f"https://127.0.0.1:{s.port('dvcr')}/v2/"),
        info=lambda s: {"url": f"https://127.0.0.1:{s.port('dvcr')}"},   # -> sandbox.json components.dvcr
        exports=lambda s: {"DVP_SANDBOX_DVCR": f"127.0.0.1:{s.port('dvcr')}"},  # -> env file
        optional=True,                              # skipped by `up --no-controller`
        tools=("docker-registry",),                 # system programs it runs: `up` checks them first (tools.py)
    )

Useful pieces: `state.ensure_port(name)` in `prepare` (a persistent free loopback port; every other
hook reads it with `state.port(name)`), `pki.ensure_leaf(state, name)` (a server cert/key),
`state.component_dir(name)` (a work dir), `python_argv("module", ...)` (run a module of this repo
with the venv's Python), `opts.seed` (`up --seed`), `state.tokens()["controller"]` and
`state.api_url` (talk to the API).  Processes get `DVP_SANDBOX_DIR` in their environment and log to
`logs/<name>.log`.
"""
from __future__ import annotations

from .component import REPO_ROOT, Component, UpOptions, https_health, python_argv
from .config import State
from .controller.processes import controller_components
from .pki import ensure_leaf

__all__ = ["COMPONENTS", "REPO_ROOT", "Component", "UpOptions", "by_name"]


# -- the API server ------------------------------------------------------------------------------
def _api_argv(state: State, opts: UpOptions) -> list[str]:
    return python_argv("sandbox", "--state-dir", str(state.root), "serve-api")


def _api_prepare(state: State, opts: UpOptions) -> None:
    ensure_leaf(state, "api")
    state.ensure_port("api", opts.api_port)


API = Component(
    name="api",
    argv=_api_argv,
    prepare=_api_prepare,
    health=https_health(lambda s: f"{s.api_url}/readyz"),
    info=lambda s: {"url": s.api_url},
)

# the API server first; then DVCR, the user registry, the file server, the controller
COMPONENTS: list[Component] = [API, *controller_components()]


def by_name(name: str) -> Component:
    for comp in COMPONENTS:
        if comp.name == name:
            return comp
    raise KeyError(f"no component {name!r}; known: {', '.join(c.name for c in COMPONENTS)}")
