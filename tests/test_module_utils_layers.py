# -*- coding: utf-8 -*-
"""The folders of plugins/module_utils are layers: a module imports only from its own folder and the folders
below it. This keeps the API layer free of domain rules and lets a reader find a rule by its layer."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent / "plugins" / "module_utils"
PACKAGE = "ansible_collections.deckhouse.virtualization.plugins.module_utils"
# Bottom first: each layer may import the layers before it.
LAYERS = ["common", "api", "options", "objects", "transfer", "images", "disks", "machines", "catalog", "glue"]


def imported_layers(path: Path) -> List[Tuple[int, str]]:
    """(line, layer) of every import of a module_utils module in the file, at any nesting level."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: List[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + ["%s.%s" % (node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        layers = {name[len(PACKAGE) + 1:].split(".")[0] for name in names if name.startswith(PACKAGE + ".")}
        found.extend((node.lineno, layer) for layer in sorted(layers))
    return found


def violations(root: Path) -> List[str]:
    """``file:line imports <layer>`` for each import that reaches up, or out of the known layers."""
    rank: Dict[str, int] = {layer: index for index, layer in enumerate(LAYERS)}
    wrong = []
    for path in sorted(root.rglob("*.py")):
        own = path.relative_to(root).parts[0]
        if own not in rank:
            wrong.append("%s is in no layer (add its folder to LAYERS)" % path.relative_to(root))
            continue
        for line, layer in imported_layers(path):
            if layer not in rank or rank[layer] > rank[own]:
                wrong.append("%s:%d imports %s" % (path.relative_to(root), line, layer))
    return wrong


def test_module_utils_imports_only_downwards():
    assert violations(ROOT) == []


def test_every_layer_has_modules():
    assert sorted(p.name for p in ROOT.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(LAYERS)


@pytest.mark.parametrize("source,expected", [
    ("from %s.glue.module import run\n" % PACKAGE, ["common/bad.py:1 imports glue"]),
    ("def f():\n    from %s.images import runner\n" % PACKAGE, ["common/bad.py:2 imports images"]),
    ("from %s.common.kinds import Kind\n" % PACKAGE, []),
])
def test_the_check_sees_upward_and_lazy_imports(tmp_path, source, expected):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "bad.py").write_text(source)
    assert violations(tmp_path) == expected
