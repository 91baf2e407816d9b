"""The supervised processes the controller part of the sandbox adds: dvcr, registry, fileserver, controller.

`sandbox.components` puts them after the API server, in this order: the controller needs the
registries and, with `--seed`, the file server.
"""
from __future__ import annotations

from .. import tools
from ..component import Component, UpOptions, https_health, python_argv
from ..config import State, atomic_write
from ..dvcr import htpasswd_line, registry_config
from ..pki import ensure_leaf
from ..registryauth import ensure_registry_credentials, registry_credentials


def _registry_prepare(name: str, with_auth: bool):
    def prepare(state: State, opts: UpOptions) -> None:
        cert, key = ensure_leaf(state, name)
        port = state.ensure_port(name)
        work = state.component_dir(name)
        work.mkdir(parents=True, exist_ok=True)
        htpasswd = None
        if with_auth:
            user, password = ensure_registry_credentials(state)
            htpasswd = work / "htpasswd"
            if not htpasswd.exists():
                atomic_write(htpasswd, htpasswd_line(user, password) + "\n", 0o600)
        atomic_write(work / "config.yml", registry_config(work / "data", port, cert, key, htpasswd))
    return prepare


def _registry_argv(name: str):
    return lambda state, opts: [tools.command("docker-registry"), "serve", str(state.component_dir(name) / "config.yml")]


def _host(state: State, name: str) -> str:
    return f"127.0.0.1:{state.port(name)}"


def _fileserver_prepare(state: State, opts: UpOptions) -> None:
    ensure_leaf(state, "fileserver")
    state.ensure_port("http")
    state.ensure_port("https")
    (state.root / "www").mkdir(parents=True, exist_ok=True)


def _controller_prepare(state: State, opts: UpOptions) -> None:
    ensure_leaf(state, "uploader")
    state.ensure_port("uploader")
    (state.root / "controller").mkdir(parents=True, exist_ok=True)


def _controller_argv(state: State, opts: UpOptions) -> list[str]:
    argv = python_argv("sandbox.controller", "--state-dir", str(state.root))
    return argv + (["--seed"] if opts.seed else [])


def _registry_info(state: State) -> dict:
    user, password = registry_credentials(state)
    return {"url": f"https://{_host(state, 'registry')}", "host": _host(state, "registry"),
            "username": user, "password": password}


def controller_components() -> list[Component]:
    """dvcr, registry, fileserver, controller: all optional (`up --no-controller` skips them)."""
    return [
        Component(
            name="dvcr",
            argv=_registry_argv("dvcr"),
            prepare=_registry_prepare("dvcr", with_auth=False),
            health=https_health(lambda s: f"https://{_host(s, 'dvcr')}/v2/"),
            info=lambda s: {"url": f"https://{_host(s, 'dvcr')}", "host": _host(s, "dvcr")},
            exports=lambda s: {"DVP_SANDBOX_DVCR": _host(s, "dvcr")},
            optional=True,
            tools=("docker-registry",),
        ),
        Component(
            name="registry",
            argv=_registry_argv("registry"),
            prepare=_registry_prepare("registry", with_auth=True),
            health=https_health(lambda s: f"https://{_host(s, 'registry')}/v2/"),
            info=_registry_info,
            exports=lambda s: {"DVP_SANDBOX_REGISTRY": _host(s, "registry"),
                               "DVP_SANDBOX_REGISTRY_USER": registry_credentials(s)[0],
                               "DVP_SANDBOX_REGISTRY_PASSWORD": registry_credentials(s)[1]},
            optional=True,
            tools=("docker-registry",),
        ),
        Component(
            name="fileserver",
            argv=lambda s, o: python_argv("sandbox.fileserver", "--state-dir", str(s.root)),
            prepare=_fileserver_prepare,
            health=https_health(lambda s: f"https://127.0.0.1:{s.port('https')}/stats"),
            info=lambda s: {"url": f"https://127.0.0.1:{s.port('https')}",
                            "http_url": f"http://127.0.0.1:{s.port('http')}",
                            "https_url": f"https://127.0.0.1:{s.port('https')}",
                            "www": str(s.root / "www")},
            exports=lambda s: {"DVP_SANDBOX_HTTP_URL": f"http://127.0.0.1:{s.port('http')}",
                               "DVP_SANDBOX_HTTPS_URL": f"https://127.0.0.1:{s.port('https')}",
                               "DVP_SANDBOX_WWW": str(s.root / "www")},
            optional=True,
        ),
        Component(
            name="controller",
            argv=_controller_argv,
            prepare=_controller_prepare,
            health=https_health(lambda s: f"https://127.0.0.1:{s.port('uploader')}/upload/health"),
            info=lambda s: {"url": f"https://127.0.0.1:{s.port('uploader')}",
                            "uploader_url": f"https://127.0.0.1:{s.port('uploader')}"},
            optional=True,
            start_timeout=120.0,
            tools=("qemu-img",),
        ),
    ]
