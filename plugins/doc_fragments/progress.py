# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The internal ``progress_file`` option (module_utils/options/args.py PROGRESS_ARG_SPEC).

Every module that takes it has an action plugin that sets it and tails it (plugin_utils/module_action.py).
"""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of PROGRESS_ARG_SPEC."""

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
