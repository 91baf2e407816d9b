# -*- coding: utf-8 -*-
"""Who may import whom in plugins/.

The folders of plugins/module_utils are layers: a file imports only from its own folder and the folders below it.
This keeps the API layer free of domain rules and lets a reader find a rule by its layer.

The folders of plugins/ have rules of their own (MAY_IMPORT): module_utils travels with every module to the managed
host and imports nothing outside itself; a module runs there with module_utils alone, so it imports module_utils (any
layer) and never another module; action plugins and plugin_utils run on the controller and may use module_utils,
and nothing below them imports them back.

Every import counts, absolute or relative, at any nesting level (one inside a function or a branch too).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import pytest

PLUGINS_ROOT = Path(__file__).resolve().parent.parent / "plugins"
PLUGINS = "ansible_collections.deckhouse.virtualization.plugins"
# Bottom first: each layer may import the layers before it.
LAYERS = ["common", "api", "options", "objects", "transfer", "images", "disks", "machines", "catalog", "glue"]
# The folders of plugins/ each folder may import (module_utils among its own layers by LAYERS).
MAY_IMPORT: Dict[str, Set[str]] = {
    "module_utils": {"module_utils"},
    "modules": {"module_utils"},
    "plugin_utils": {"plugin_utils", "module_utils"},
    "action": {"action", "plugin_utils", "module_utils"},
    "doc_fragments": {"doc_fragments", "plugin_utils"},
}
Target = Tuple[str, Optional[str]]   # (folder of plugins/, layer when the folder is module_utils)


def _module_name(root: Path, path: Path) -> List[str]:
    """The dotted name of the file under ``root`` (plugins/), as parts."""
    parts = PLUGINS.split(".") + list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def _absolute(root: Path, path: Path, node: ast.AST) -> List[str]:
    """The absolute names one import statement reads (a relative one resolved against the file's package)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        here = _module_name(root, path)
        package = here if path.name == "__init__.py" else here[:-1]
        if node.level - 1 >= len(package):
            return []
        base = ".".join(package[:len(package) - (node.level - 1)] + ([node.module] if node.module else []))
    return [base] + ["%s.%s" % (base, alias.name) for alias in node.names]


def _target(name: str) -> Optional[Target]:
    """(folder, layer) of a name inside plugins/; None for anything else (plugins/ itself included)."""
    if not name.startswith(PLUGINS + "."):
        return None
    parts = name[len(PLUGINS) + 1:].split(".")
    return parts[0], (parts[1] if parts[0] == "module_utils" and len(parts) > 1 else None)


def imported(root: Path, path: Path) -> List[Tuple[int, Target]]:
    """(line, (folder, layer)) of every import of a file of plugins/ in the file, at any nesting level."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = {t for t in (_target(name) for name in _absolute(root, path, node)) if t is not None}
        # `from ...module_utils import glue` names both module_utils and module_utils.glue: the layer says more
        layered = {folder for folder, layer in targets if layer is not None}
        targets = {(folder, layer) for folder, layer in targets if layer is not None or folder not in layered}
        found.extend((node.lineno, target) for target in sorted(targets, key=str))
    return found


def _why_not(own: str, own_layer: Optional[str], folder: str, layer: Optional[str]) -> str:
    """"" when a file of ``own`` (layer ``own_layer``) may import ``folder`` (``layer``), else the reason."""
    rank = {name: index for index, name in enumerate(LAYERS)}
    if folder not in MAY_IMPORT[own]:
        return "%s may import only %s" % (own, ", ".join(sorted(MAY_IMPORT[own])))
    if folder != "module_utils" or layer is None:
        return ""
    if layer not in rank:
        return "no such layer"
    if own == "module_utils" and own_layer in rank and rank[layer] > rank[own_layer]:
        return "a layer above %s" % own_layer
    return ""


def violations(root: Path) -> List[str]:
    """``file:line imports <folder>[.<layer>] (why)`` for each import in plugins/ (at ``root``) its rules forbid,
    and a line for each file outside the known folders and layers."""
    wrong = []
    for path in sorted(root.rglob("*.py")):
        where = path.relative_to(root)
        own = where.parts[0]
        own_layer = where.parts[1] if own == "module_utils" and len(where.parts) > 2 else None
        if own not in MAY_IMPORT:
            wrong.append("%s is in no known folder of plugins/ (add it to MAY_IMPORT)" % where)
            continue
        if own == "module_utils" and own_layer not in LAYERS:
            wrong.append("%s is in no layer (add its folder to LAYERS)" % where)
            continue
        for line, (folder, layer) in imported(root, path):
            why = _why_not(own, own_layer, folder, layer)
            if why:
                wrong.append("%s:%d imports %s (%s)" % (where, line, folder + ("." + layer if layer else ""), why))
    return wrong


def test_plugins_import_only_what_their_folder_and_layer_may():
    assert violations(PLUGINS_ROOT) == []


def test_every_layer_has_modules():
    root = PLUGINS_ROOT / "module_utils"
    assert sorted(p.name for p in root.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(LAYERS)


def test_every_folder_of_plugins_has_its_rules():
    assert sorted(p.name for p in PLUGINS_ROOT.iterdir() if p.is_dir() and p.name != "__pycache__") == \
        sorted(MAY_IMPORT)


def test_the_check_sees_the_imports_of_the_real_tree():
    """Not vacuous: every module reaches module_utils, every action plugin plugin_utils or another action plugin,
    and module_utils' layers import one another."""
    def targets(folder: str) -> Dict[str, Set[str]]:
        return {path.name: {folder for _line, (folder, _layer) in imported(PLUGINS_ROOT, path)}
                for path in sorted((PLUGINS_ROOT / folder).rglob("*.py"))}
    modules = targets("modules")
    assert modules and all("module_utils" in found for found in modules.values()), modules
    actions = targets("action")
    assert actions and all(found & {"plugin_utils", "action"} for found in actions.values()), actions
    layers = {layer for path in (PLUGINS_ROOT / "module_utils").rglob("*.py")
              for _line, (_folder, layer) in imported(PLUGINS_ROOT, path)}
    assert set(LAYERS) - {"glue"} <= layers


ABS = PLUGINS + ".module_utils"


@pytest.mark.parametrize("name,source,expected", [
    # module_utils' layers: absolute, lazy and relative imports
    ("module_utils/common/bad.py", "from %s.glue.module import run\n" % ABS,
     ["module_utils/common/bad.py:1 imports module_utils.glue (a layer above common)"]),
    ("module_utils/common/bad.py", "def f():\n    from %s.images import runner\n" % ABS,
     ["module_utils/common/bad.py:2 imports module_utils.images (a layer above common)"]),
    ("module_utils/common/bad.py", "import %s.api.client\n" % ABS,
     ["module_utils/common/bad.py:1 imports module_utils.api (a layer above common)"]),
    ("module_utils/common/ok.py", "from %s.common.kinds import Kind\n" % ABS, []),
    ("module_utils/common/bad.py", "from ..glue.module import run\n",
     ["module_utils/common/bad.py:1 imports module_utils.glue (a layer above common)"]),
    ("module_utils/common/bad.py", "if True:\n    from .. import glue\n",
     ["module_utils/common/bad.py:2 imports module_utils.glue (a layer above common)"]),
    ("module_utils/images/ok.py", "from ..common.kinds import Kind\nfrom . import runner\nfrom .fields import x\n",
     []),
    ("module_utils/images/bad.py", "from ..nowhere import x\n",
     ["module_utils/images/bad.py:1 imports module_utils.nowhere (no such layer)"]),
    ("module_utils/common/bad.py", "from %s.plugin_utils.local_files import LocalFiles\n" % PLUGINS,
     ["module_utils/common/bad.py:1 imports plugin_utils (module_utils may import only module_utils)"]),
    ("module_utils/glue/bad.py", "from ...action import virtual_image\n",
     ["module_utils/glue/bad.py:1 imports action (module_utils may import only module_utils)"]),
    ("module_utils/glue/bad.py", "from ...modules.virtual_image import main\n",
     ["module_utils/glue/bad.py:1 imports modules (module_utils may import only module_utils)"]),
    ("module_utils/bad.py", "", ["module_utils/bad.py is in no layer (add its folder to LAYERS)"]),
    # modules: module_utils only, never another module
    ("modules/ok.py", "from %s.glue.module import run\nfrom ..module_utils.common import kinds\n" % ABS, []),
    ("modules/bad.py", "from %s.modules.virtual_image import main\n" % PLUGINS,
     ["modules/bad.py:1 imports modules (modules may import only module_utils)"]),
    ("modules/bad.py", "def main():\n    from . import virtual_image\n",
     ["modules/bad.py:2 imports modules (modules may import only module_utils)"]),
    ("modules/bad.py", "from ..plugin_utils.local_files import LocalFiles\n",
     ["modules/bad.py:1 imports plugin_utils (modules may import only module_utils)"]),
    ("modules/bad.py", "from ..action.virtual_image import ActionModule\n",
     ["modules/bad.py:1 imports action (modules may import only module_utils)"]),
    ("modules/bad.py", "from ..module_utils.nowhere import x\n",
     ["modules/bad.py:1 imports module_utils.nowhere (no such layer)"]),
    # action plugins and plugin_utils: module_utils yes, modules no; plugin_utils never imports an action plugin
    ("action/ok.py", "from %s.action.virtual_image import ActionModule\nfrom ..plugin_utils import module_action\n"
     "from ..module_utils.glue.module import run\n" % PLUGINS, []),
    ("action/bad.py", "from ..modules import virtual_image\n",
     ["action/bad.py:1 imports modules (action may import only action, module_utils, plugin_utils)"]),
    ("plugin_utils/ok.py", "from .local_files import LocalFiles\nfrom ..module_utils.common import kinds\n", []),
    ("plugin_utils/bad.py", "from ..action.virtual_image import ActionModule\n",
     ["plugin_utils/bad.py:1 imports action (plugin_utils may import only module_utils, plugin_utils)"]),
    ("plugin_utils/bad.py", "import %s.modules.virtual_image\n" % PLUGINS,
     ["plugin_utils/bad.py:1 imports modules (plugin_utils may import only module_utils, plugin_utils)"]),
    ("doc_fragments/bad.py", "from ..modules import virtual_image\n",
     ["doc_fragments/bad.py:1 imports modules (doc_fragments may import only doc_fragments, plugin_utils)"]),
    ("filter/new.py", "", ["filter/new.py is in no known folder of plugins/ (add it to MAY_IMPORT)"]),
    # names outside plugins/ are none of the check's business; a relative import cannot climb out of it unseen
    ("modules/ok.py", "import os\nfrom ansible.module_utils.basic import AnsibleModule\n", []),
    ("module_utils/common/bad.py", "from .... import plugins\nfrom ....plugins.modules import virtual_image\n",
     ["module_utils/common/bad.py:2 imports modules (module_utils may import only module_utils)"]),
])
def test_the_check_sees_a_seeded_violation(tmp_path, name, source, expected):
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    assert violations(tmp_path) == expected
