# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""The wait options (module_utils/options/args.py WAIT_ARG_SPEC).

``deckhouse.virtualization.wait`` speaks of the objects a module changes, for any module;
``deckhouse.virtualization.wait.image`` says what waiting for an image means, for the modules that make one;
``.disk`` and ``.snapshot`` what it means for virtual_disk and virtual_disk_snapshot.
"""

from __future__ import annotations

from ansible_collections.deckhouse.virtualization.plugins.plugin_utils.doc_yaml import piece, render


_DISK_WAIT = r"""
description:
  - Wait until the disk holds its data and its full size (C(Ready), after C(Resizing) when it grew), or is gone
    when it is deleted; O(wait_for) says whether C(WaitForFirstConsumer) counts as done.
  - The wait watches the object (no polling) and stops at once on C(Failed) or C(PVCLost) with the platform's
    message.
  - While the disk is blocked (C(Pending) with a C(DatasourceReady) or C(StorageClassReady) reason, such as the
    source image not ready or the storage class missing) the wait goes on; the reason is named if it times out.
  - A forced delete of a disk a virtual machine uses ends when the platform holds it C(Terminating) for the
    virtual machine (the result and a warning say so), not when it is gone.
type: bool
default: true
"""

_SNAPSHOT_WAIT = r"""
description:
  - Wait until the snapshot is C(Ready) (C(Pending), C(InProgress), C(Ready)), or gone when it is deleted.
  - The wait watches the object (no polling) and stops at once on C(Failed) with the platform's message (for
    example a consistent snapshot of a running virtual machine whose filesystem cannot be frozen).
type: bool
default: true
"""


def _variant(wait: str, timeout_of: str) -> str:
    """A wait fragment: its own ``wait`` text, and the ``wait_timeout`` of the fragment text ``timeout_of``."""
    timeout = piece(timeout_of)["options"]["wait_timeout"]
    return render(options={"wait": piece(wait), "wait_timeout": timeout})


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """Documentation of WAIT_ARG_SPEC: for any object, or for images, disks or snapshots."""

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

    # Annotated (not plain assignments): ansible-test's yamllint reads plain assignments as literal YAML.
    DISK: str = _variant(_DISK_WAIT, IMAGE)
    SNAPSHOT: str = _variant(_SNAPSHOT_WAIT, DOCUMENTATION)
