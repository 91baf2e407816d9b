"""The system programs the sandbox runs, in one table: which package brings each, and the variable that
points at a binary elsewhere.

A leaf (imports nothing of the sandbox). Every place that starts one of these programs asks `command(name)`
for the path, so `DVP_SANDBOX_QEMU_IMG=/opt/qemu/bin/qemu-img` (say) reaches the supervisor, the controller
and the seeding alike (children inherit the environment). `up` calls `require(...)` for what the
components it is about to start need, before it starts anything: a missing program stops it with the
package to install and the variable to set, and nothing is left running. Nothing is ever downloaded.

`openssl` is not required: without it (or without its GOST provider) streebog checksums fall back to the
pure-Python gostcrypto (`controller/imports/streebog.py`).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass


@dataclass(frozen=True)
class Tool:
    name: str        # the command looked up on PATH
    package: str     # the Debian/Ubuntu package that installs it
    env: str         # the variable naming a binary elsewhere
    needed_by: str   # who runs it (for the error message)


TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("qemu-img", "qemu-utils", "DVP_SANDBOX_QEMU_IMG",
         "the image controller and the demo sources"),
    Tool("docker-registry", "docker-registry", "DVP_SANDBOX_DOCKER_REGISTRY",
         "DVCR and the user registry"),
    Tool("xorriso", "xorriso", "DVP_SANDBOX_XORRISO", "the demo sources of `up --seed` and `seed`"),
    Tool("openssl", "openssl", "DVP_SANDBOX_OPENSSL",
         "native streebog checksums (optional: pure Python without it)"),
)}


class ToolMissing(RuntimeError):
    """One or more programs are missing; str() says what to install or set, one line per program."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _executable(path: str) -> bool:
    return os.path.isfile(path) and os.access(path, os.X_OK)


def find(name: str) -> str | None:
    """The program's path: the variable's value when set (None unless it is an executable file),
    else the command found on PATH (None when absent)."""
    tool = TOOLS[name]
    override = os.environ.get(tool.env)
    if override:
        return override if _executable(override) else None
    return shutil.which(tool.name)


def command(name: str) -> str:
    """What to run for `name`: its resolved path, or the bare name (the caller's error then names it)."""
    return find(name) or name


def problem(name: str) -> str | None:
    """Why `name` cannot run here (None when it can): the package to install, the variable to set."""
    tool = TOOLS[name]
    if find(name):
        return None
    override = os.environ.get(tool.env)
    if override:
        return (f"{tool.name}: {tool.env}={override} is not an executable file (needed by {tool.needed_by}); "
                f"point {tool.env} at a {tool.name} binary (Debian/Ubuntu package {tool.package}) or unset it to use "
                f"the one on PATH")
    return (f"{tool.name}: not found on PATH (needed by {tool.needed_by}); install the Debian/Ubuntu package "
            f"{tool.package} (apt-get install {tool.package}) or set {tool.env} to the path of a "
            f"{tool.name} binary")


def require(names: list[str] | tuple[str, ...]) -> None:
    """Raise ToolMissing naming every program of `names` that cannot run (in the table's order)."""
    problems = [p for p in (problem(n) for n in TOOLS if n in names) if p]
    if problems:
        raise ToolMissing(problems)
