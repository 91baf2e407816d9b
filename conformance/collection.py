"""The collection's own client, imported from this checkout for the cases that drive it.

The collection's modules import each other as `ansible_collections.deckhouse.virtualization...`; a
folder of this run's own holds that name as a link to the checkout (the same link
scripts/link-collection.sh makes for ansible-lint), so the code compared is the code in the tree.
"""
from __future__ import annotations

import atexit
import importlib
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from .servers import REPO

PACKAGE = "ansible_collections.deckhouse.virtualization.plugins.module_utils"
_root: Path | None = None


def _importable() -> None:
    global _root
    if _root is not None:
        return
    _root = Path(tempfile.mkdtemp(prefix="conformance-collections-"))
    atexit.register(shutil.rmtree, _root, True)
    link = _root / "ansible_collections" / "deckhouse" / "virtualization"
    link.parent.mkdir(parents=True)
    link.symlink_to(REPO, target_is_directory=True)
    sys.path.insert(0, str(_root))


def module(name: str) -> ModuleType:
    """A module of the collection's module_utils, e.g. `api.client`."""
    _importable()
    return importlib.import_module(f"{PACKAGE}.{name}")


def client_module() -> ModuleType:
    return module("api.client")
