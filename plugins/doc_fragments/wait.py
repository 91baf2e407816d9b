# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Wait options shared by the image modules."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of plugins/module_utils/args.py WAIT_ARG_SPEC and PROGRESS_ARG_SPEC."""

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the image is C(Ready) (C(state=present)) or gone (C(state=absent)).
      - The wait watches the object (no polling) and stops at once on C(Failed), C(ImageLost) or C(PVCLost)
        with the platform's message, and on a delete blocked by a virtual machine using the image.
      - While the image is blocked (C(Pending) with a C(DatasourceReady) reason) the wait goes on; the reason is
        named if it times out.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait. The timeout message names the last phase, progress and C(Ready) condition.
    type: int
    default: 1800
  progress_file:
    description:
      - Internal, set by the action plugin; do not set it yourself.
      - A file on the managed host to which progress lines are appended while waiting, so the action plugin
        can show phase, progress and download speed at C(-v).
    type: path
"""
