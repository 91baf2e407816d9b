"""The controller's folders form layers: a folder imports only its own modules and the folders below it, so a
low part (the object model, the runtime) can be read, tested and reused without the parts built on it.

Every import counts: absolute (`sandbox.controller.x`) and relative, at module level or inside a function.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

CONTROLLER = Path(__file__).resolve().parents[2] / "sandbox" / "controller"
PACKAGE = "sandbox.controller"
ROOT = ""   # the modules directly in sandbox/controller/: the wiring and entry points, on top
# Bottom to top.
ORDER = ("model", "runtime", "imports", "reconcilers", ROOT)


def imported_modules(package: str, source: str) -> set[str]:
    """Absolute names of what `source`, a file of `package` (an __init__.py: of the package it makes), imports of
    the sandbox."""
    base_parts = package.split(".")
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "sandbox")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = base_parts[:len(base_parts) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            if module.split(".")[0] != "sandbox":
                continue
            # `from pkg import name`: name may be a module of pkg, which is what the file then reaches
            out.update(f"{module}.{a.name}" for a in node.names)
    return out


def folder_of(module: str) -> str | None:
    """The controller folder a module name falls in (ROOT for sandbox.controller's own modules), None when it is
    outside the controller."""
    if module != PACKAGE and not module.startswith(PACKAGE + "."):
        return None
    rest = module[len(PACKAGE) + 1:].split(".") if module != PACKAGE else []
    if rest and (CONTROLLER / rest[0]).is_dir():
        return rest[0]
    return ROOT


def upward_imports(rel: Path, source: str) -> list[str]:
    """The imports of the file at `rel` that reach a folder above its own."""
    here = ORDER.index(rel.parts[0] if len(rel.parts) > 1 else ROOT)
    bad = []
    for module in sorted(imported_modules(".".join([PACKAGE, *rel.parent.parts]), source)):
        folder = folder_of(module)
        if folder is not None and ORDER.index(folder) > here:
            bad.append(f"{rel} imports {module} ({folder or 'the controller root'})")
    return bad


FILES = sorted(p.relative_to(CONTROLLER) for p in CONTROLLER.rglob("*.py"))


def test_every_folder_of_the_controller_has_its_place_in_the_order() -> None:
    folders = {p.parts[0] for p in FILES if len(p.parts) > 1}
    assert folders == set(ORDER) - {ROOT}


@pytest.mark.parametrize("rel", FILES, ids=str)
def test_no_folder_imports_a_folder_above_it(rel: Path) -> None:
    assert upward_imports(rel, (CONTROLLER / rel).read_text()) == []


@pytest.mark.parametrize("rel,source", [
    ("model/kinds.py", "from ..runtime.kube import Kube\n"),
    ("model/kinds.py", "from sandbox.controller.runtime import kube\n"),
    ("runtime/cache.py", "def f():\n    from ..imports import uploader\n"),
    ("imports/sources.py", "import sandbox.controller.reconcilers.virtualimage\n"),
    ("reconcilers/virtualvm.py", "from .. import app\n"),
    ("reconcilers/virtualvm.py", "from ..app import Controller\n"),
])
def test_an_import_into_a_higher_folder_is_caught(rel: str, source: str) -> None:
    assert len(upward_imports(Path(rel), source)) == 1


@pytest.mark.parametrize("rel,source", [
    ("model/names.py", "from .kinds import VI\n"),
    ("imports/sources.py", "from ...platform import V1_10\nfrom ..runtime.context import Context\n"),
    ("reconcilers/virtualvm.py", "from ..imports.imagejob import ImageJobs\nfrom ..model import power\n"),
    ("app.py", "from .reconcilers.virtualdisk import VirtualDiskReconciler\n"),
])
def test_an_import_downwards_or_outside_the_controller_is_allowed(rel: str, source: str) -> None:
    assert upward_imports(Path(rel), source) == []


def test_seeding_reaches_nothing_of_the_controller() -> None:
    """`seed.py` runs beside the controller (and in `up --seed` before it): what both need lives below both."""
    imported = imported_modules("sandbox", (CONTROLLER.parent / "seed.py").read_text())
    assert "sandbox.registryauth.registry_credentials" in imported
    assert [m for m in imported if folder_of(m) is not None] == []
