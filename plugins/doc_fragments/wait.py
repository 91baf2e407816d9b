# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The wait options (module_utils/options/args.py WAIT_ARG_SPEC), one option per variable.

``wait`` and ``wait_timeout`` are separate fragments because ansible-core merges a fragment's options whole: a module
whose ``wait`` means something of its own (a disk, a snapshot) writes ``wait`` in its DOCUMENTATION and takes only
the timeout from here.

- ``deckhouse.virtualization.wait`` and ``.timeout``: for any object, in the module's words;
- ``deckhouse.virtualization.wait.image`` and ``.image_timeout``: for the modules that make an image (the timeout
  text also suits virtual_disk, whose wait reports the same phase, progress and condition).
"""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of WAIT_ARG_SPEC: the wait for any object, or for images."""

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the objects the task creates or changes reach the end state named in the module's description.
      - The wait watches the objects (no polling) and stops at once, with the platform's message, when the platform
        reports a failure.
    type: bool
    default: true
"""

    TIMEOUT = r"""
options:
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
"""

    IMAGE_TIMEOUT = r"""
options:
  wait_timeout:
    description:
      - Seconds to wait. The timeout message names the last phase, progress and C(Ready) condition.
    type: int
    default: 1800
"""
