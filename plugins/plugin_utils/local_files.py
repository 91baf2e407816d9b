# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The one policy for the files a task names, shared by every action plugin of the collection.

A user writes a relative path and expects what ``copy`` does with ``src``. So every file is:

- found with the task's search path (the role's ``files/`` and the role, then the playbook directory's
  ``files/`` and the playbook directory); a glob is found as the ``fileglob`` lookup finds it;
- decrypted when it is vault-encrypted, into a temporary file that is removed when the task ends.

Which side of the connection a file is on depends on who reads it, and on nothing else:

- a file the action plugin reads itself (a manifest whose content becomes a module argument) is always
  on the controller: ``read`` and ``glob``;
- a file the module reads (a disk image it streams) is on the host the module runs on: ``module_path``
  resolves it on the controller only when the module runs there (a ``local`` connection, which includes
  ``delegate_to: localhost``); with any other connection the path is left as the user wrote it.
"""

from __future__ import annotations

import glob
import os
from typing import Any, Callable, List, Optional, Tuple

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.common.text.converters import to_text

GLOB_MAGIC = frozenset("*?[")


def runs_on_controller(connection: Any) -> bool:
    """Whether the module runs where the action plugin runs (the rule for module files and progress)."""
    return getattr(connection, "transport", None) == "local"


def _split_at_magic(pattern: str) -> Tuple[str, str]:
    """(leading directories without glob characters, the rest), e.g. ``a/b*/c.yaml`` -> (``a``, ``b*/c.yaml``)."""
    parts = pattern.split(os.sep)
    for index, part in enumerate(parts):
        if GLOB_MAGIC.intersection(part):
            return os.sep.join(parts[:index]), os.sep.join(parts[index:])
    return pattern, ""


class LocalFiles:
    """The files of one task run; ``cleanup`` removes every decrypted copy made for it."""

    def __init__(self, find: Callable[[str], str], loader: Any, search_path: List[str],
                 module_on_controller: bool, detached: bool) -> None:
        """``find`` resolves a relative path like ``copy``'s ``src`` (the action's ``_find_needle('files', …)``);
        ``loader`` is the task's DataLoader (vault); ``search_path`` the task's search path (for globs without
        a directory); ``detached`` is true when the module outlives the plugin (``async`` wrapped by Ansible)."""
        self._find = find
        self._loader = loader
        self._search_path = search_path
        self.module_on_controller = module_on_controller
        self._detached = detached
        self._decrypted: List[str] = []

    def find(self, path: str, option: str) -> str:
        """The controller path of a file (not a directory) named by ``option``."""
        try:
            found = self._find(path)
        except AnsibleError as exc:
            raise AnsibleActionFail("%s: %s not found: %s" % (option, path, to_text(exc)))
        if os.path.isdir(found):
            raise AnsibleActionFail("%s: %s is a directory, not a file" % (option, found))
        return found

    def read(self, path: str, option: str) -> str:
        """The text of a controller file the plugin itself reads (decrypted when vault-encrypted)."""
        return self.read_found(self.find(path, option), option)

    def read_found(self, found: str, option: str) -> str:
        """The text of a file already found on the controller; a decrypted copy is removed at once."""
        real = self._loader.get_real_file(found, decrypt=True)
        try:
            with open(real, encoding="utf-8") as stream:
                return stream.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise AnsibleActionFail("%s: %s cannot be read: %s" % (option, found, exc))
        finally:
            if real != found:
                self._loader.cleanup_tmp_file(real)

    def glob(self, pattern: str, option: str) -> List[str]:
        """The controller files a path or glob names, sorted; none is an error (a typo must not do less).

        Found as the ``fileglob`` lookup finds them: the leading directories without glob characters with
        the search path, then the rest matched inside; a pattern without such directories is matched in
        each search path's ``files/`` and the path itself (the playbook directory last), the first that matches
        wins."""
        expanded = os.path.expanduser(pattern)
        if not GLOB_MAGIC.intersection(expanded):
            return [self.find(expanded, option)]
        if os.path.isabs(expanded):
            roots = [""]
            rest = expanded
        else:
            static, rest = _split_at_magic(expanded)
            roots = self._glob_roots(static)
        for root in roots:
            matches = sorted(path for path in glob.glob(os.path.join(root, rest)) if os.path.isfile(path))
            if matches:
                return matches
        raise AnsibleActionFail("%s: %r matches no file" % (option, pattern))

    def _glob_roots(self, static: str) -> List[str]:
        if not static:  # like find's search: each search path, then the playbook directory as a last resort
            paths = list(dict.fromkeys(list(self._search_path) + [self._loader.get_basedir()]))
            return [root for path in paths for root in (os.path.join(path, "files"), path)]
        try:
            return [self._find(static)]
        except AnsibleError:
            return []

    def module_path(self, path: Optional[str], option: str) -> Optional[str]:
        """The path to give the module for a file it reads: found and decrypted on the controller when the
        module runs there, unchanged otherwise (a path on the managed host)."""
        if not isinstance(path, str) or not self.module_on_controller:
            return path
        found = self.find(path, option)
        real = self._loader.get_real_file(found, decrypt=True)
        if real != found:
            if self._detached:
                self._loader.cleanup_tmp_file(real)
                raise AnsibleActionFail(
                    "%s: a vault-encrypted file cannot be used with async (its decrypted copy would outlive "
                    "the task); run the task without async" % option)
            self._decrypted.append(real)
        return real

    def cleanup(self) -> None:
        """Remove the decrypted copies made for the module."""
        while self._decrypted:
            self._loader.cleanup_tmp_file(self._decrypted.pop())


def resolve_source_upload(args: Any, files: LocalFiles) -> None:
    """``source.upload.path`` of the modules that make an image or a disk: a file the module streams, resolved by
    ``module_path`` in place."""
    source = args.get("source") if isinstance(args, dict) else None
    upload = source.get("upload") if isinstance(source, dict) else None
    if isinstance(upload, dict):
        upload["path"] = files.module_path(upload.get("path"), "source.upload.path")
