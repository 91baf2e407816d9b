# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The internal ``progress_file`` option (module_utils/options/args.py PROGRESS_ARG_SPEC).

``deckhouse.virtualization.progress`` is for modules whose action plugin sets it and tails it
(plugin_utils/module_action.py); ``deckhouse.virtualization.progress.unused`` for modules that accept
the option with the shared argument spec but write no progress.
"""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of PROGRESS_ARG_SPEC: used, or accepted and ignored."""

    DOCUMENTATION = r"""
options:
  progress_file:
    description:
      - Internal, set by the action plugin; do not set it yourself.
      - A file to which the module appends progress lines while it waits. The action plugin sets it when the
        module runs on the controller (a C(local) connection) at C(-v) or more, without C(async), and prints the
        lines (phases, progress, download or upload rate) as they come.
    type: path
"""

    UNUSED = r"""
options:
  progress_file:
    description:
      - Internal; accepted like the other modules of the collection accept it, and ignored. This module writes
        no progress lines, so nothing is shown while it waits.
    type: path
"""
