# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The wait options (module_utils/options/args.py WAIT_ARG_SPEC).

``deckhouse.virtualization.wait`` speaks of the objects a module changes, for any module;
``deckhouse.virtualization.wait.image`` says what waiting for an image means, for the modules that make one.
"""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of WAIT_ARG_SPEC: for any object, or for images."""

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the objects the task creates or changes reach the end state named in the module's description.
      - The wait watches the objects (no polling) and stops at once, with the platform's message, when the platform
        reports a failure.
    type: bool
    default: true
  wait_timeout:
    description:
      - Seconds to wait. The timeout message names the object waited for and the last phase seen.
    type: int
    default: 1800
"""

    IMAGE = r"""
options:
  wait:
    description:
      - Wait until the image is C(Ready), or gone when it is deleted.
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
"""
