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
      - Internal, set by the action plugin; not a task option. A value given in a task is dropped before the
        module runs. It is listed here only because the module receives it as an option.
      - At C(-v) or more, when the module runs on the controller (a C(local) connection) without C(async), the
        action plugin names a temporary file here, prints the lines the module appends to it while it waits
        (phases, progress, download or upload rate) as they come, and removes the file afterwards. Otherwise
        the module gets none and writes no progress lines.
    type: path
"""
