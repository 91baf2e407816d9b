"""What a supervised process is: the `Component` record, the `UpOptions` every hook gets, and the
small helpers components are built from.

Imports nothing of the sandbox but `config` (a leaf), so both the list of components
(`sandbox.components`) and the controller's processes (`sandbox.controller.processes`) can
build on it without importing each other.
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
    platform: str | None = None   # platform line (sandbox.platform); None: keep the recorded one or the default


@dataclass
class Component:
    """One supervised process."""
    name: str
    argv: Callable[[State, UpOptions], list[str]]
    health: Callable[[State], bool]
    prepare: Callable[[State, UpOptions], None] | None = None   # records ports, makes certs/files
    env: Callable[[State], dict[str, str]] | None = None        # extra env for the process
    info: Callable[[State], dict[str, Any]] | None = None       # sandbox.json components[name]
    exports: Callable[[State], dict[str, str]] | None = None    # lines of the env file
    optional: bool = False                                      # skipped by --no-controller
    start_timeout: float = 60.0
    tools: tuple[str, ...] = ()                                 # system programs it runs (tools.py)


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
