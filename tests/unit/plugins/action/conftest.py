# -*- coding: utf-8 -*-
"""A fake task, connection and module run around the real DataLoader, so the action plugins' file policy
is tested as Ansible drives it (search path, vault) without a playbook.

- `tree`: a playbook directory (with ``files/``) and a role (with ``files/`` and ``tasks/``) under tmp_path.
- `vault`: encrypt(bytes) -> vault text, with the loader holding its secret.
- `run_action`: run_action(plugin_module, args, ...) -> Ran (the module's arguments, what existed while it ran).

These are ansible-test's first controller unit tests: see `pytest_configure` for what that takes.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.parsing.vault import VaultLib, VaultSecret

SECRET = VaultSecret(b"unit-test-vault-password")
COLLECTIONS_PATH = "ANSIBLE_COLLECTIONS_PATH"


@pytest.hookimpl(trylast=True)
def pytest_configure(config: Any) -> None:
    """Give the xdist workers the collections path ansible-test set.

    In the controller context pytest-ansible (installed for Molecule) is active too; seeing galaxy.yml it points
    ANSIBLE_COLLECTIONS_PATH at a ``collections/`` tree of its own. The workers inherit that and ansible-test's
    collection plugin then finds no test file inside it. ansible-test's value is the directory holding
    ``ansible_collections/`` of the copy under test, i.e. seven levels above this file."""
    root = str(Path(__file__).resolve().parents[7])
    if (Path(root) / "ansible_collections").is_dir() and os.environ.get(COLLECTIONS_PATH) != root:
        os.environ[COLLECTIONS_PATH] = root


@dataclass
class Tree:
    """Where the files of a fake play live."""

    playbook: Path
    role: Path

    def write(self, relative: str, content: Any, under: Optional[Path] = None) -> Path:
        path = (under or self.playbook) / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return path


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    playbook = tmp_path / "play"
    role = tmp_path / "roles" / "r"
    for folder in (playbook / "files", role / "files", role / "tasks"):
        folder.mkdir(parents=True)
    return Tree(playbook, role)


@pytest.fixture
def vault() -> Callable[[bytes], bytes]:
    return VaultLib([("default", SECRET)]).encrypt


class FakeTask:
    """The attributes of a Task the action plugins read."""

    def __init__(self, args: Dict[str, Any], search_path: List[str], async_val: int = 0) -> None:
        self.args = args
        self.async_val = async_val
        self.check_mode = False
        self.action = self.resolved_action = "deckhouse.virtualization.test"
        self._search_path = search_path

    def get_search_path(self) -> List[str]:
        return list(self._search_path)


class FakeShell:
    tmpdir = "/nonexistent/remote-tmp"  # set: ActionBase.run makes no temporary directory


class FakeConnection:
    def __init__(self, transport: str) -> None:
        self.transport = transport
        self.has_native_async = False
        self._shell = FakeShell()


@dataclass
class Ran:
    """What the module was given, and which of its files existed while it ran."""

    args: Dict[str, Any]
    result: Dict[str, Any]
    existed: Dict[str, bool] = field(default_factory=dict)
    contents: Dict[str, bytes] = field(default_factory=dict)


@pytest.fixture
def run_action(tree: Tree) -> Callable[..., Ran]:
    """run_action(plugin, args, transport="local", in_role=False, async_val=0, watch=()) -> Ran.

    ``watch`` names module arguments (dotted, e.g. ``source.upload.path``) whose files are checked while the
    module "runs". The task's args must be unchanged afterwards (asserted here for every test)."""

    def run(plugin: Any, args: Dict[str, Any], transport: str = "local", in_role: bool = False,
            async_val: int = 0, watch: tuple = ()) -> Ran:
        loader = DataLoader()
        loader.set_basedir(str(tree.playbook))
        loader.set_vault_secrets([("default", SECRET)])
        search = [str(tree.role), str(tree.role / "tasks")] if in_role else [str(tree.playbook)]
        task = FakeTask(args, search, async_val)
        given = copy.deepcopy(args)
        action = plugin.ActionModule(task, FakeConnection(transport), None, loader, None, None)
        ran = Ran(args={}, result={})

        def execute_module(module_name: str, module_args: Dict[str, Any], task_vars: Any, wrap_async: bool) -> Any:
            ran.args = copy.deepcopy(module_args)
            for dotted in watch:
                value = _dig(module_args, dotted)
                ran.existed[dotted] = isinstance(value, str) and os.path.exists(value)
                if ran.existed[dotted]:
                    ran.contents[dotted] = Path(value).read_bytes()
            return {"changed": False}

        action._execute_module = execute_module  # pylint: disable=protected-access
        action._remove_tmp_path = lambda path: None  # pylint: disable=protected-access
        ran.result = action.run(task_vars={})
        assert task.args == given, "the task's arguments were changed"
        return ran

    return run


def _dig(args: Dict[str, Any], dotted: str) -> Any:
    value: Any = args
    for key in dotted.split("."):
        value = value[int(key)] if isinstance(value, list) else (value or {}).get(key)
    return value
