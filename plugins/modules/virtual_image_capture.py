#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Capture a VirtualDisk into a VirtualImage (and a ClusterVirtualImage) (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_image_capture
short_description: Capture a VirtualDisk into a VirtualImage (and optionally a ClusterVirtualImage)
version_added: 0.1.0
description:
  - Creates a C(VirtualImage) from a C(VirtualDisk) and waits until it is C(Ready); optionally publishes it
    cluster-wide as a C(ClusterVirtualImage). Two methods (O(method)).
  - V(snapshot) never stops a virtual machine. It takes a C(VirtualDiskSnapshot) C(<name>-capture) of the disk
    (consistent, as the platform freezes a running virtual machine's filesystem through its guest agent for the
    moment it takes; see O(required_consistency)), makes the C(VirtualImage) and the C(ClusterVirtualImage) from the
    snapshot, waits until they are C(Ready) and deletes the snapshot unless O(keep_snapshot=true). When the images
    are already C(Ready) no snapshot is taken.
  - V(stop) (the default) makes the C(VirtualImage) from the disk itself (C(dataSource.objectRef) of kind
    C(VirtualDisk)) and the C(ClusterVirtualImage) from that image. The platform reads a disk only while no
    virtual machine mounts it (a VM lists it in C(status.blockDeviceRefs)
    and is not C(Stopped)). Without O(stop_vm) such a disk is an error naming the VMs, not an endless C(Pending).
  - With O(method=stop) and O(stop_vm=true) each mounting VM is stopped with a C(VirtualMachineOperation) of type C(Stop), the image
    is made, and the VM is started again with a C(Start) operation. The VM cannot start while the image is being
    made, so the module always waits for the image when it stopped a VM.
  - A VM with runPolicy C(AlwaysOn) cannot be stopped by an operation; the module fails explaining the options
    unless O(allow_run_policy_change=true), in which case it switches runPolicy to C(AlwaysOff) and restores
    C(AlwaysOn) afterwards.
  - If anything fails after a VM was stopped, the VM is started again before the task fails (unless
    O(restart_vm_on_failure=false)); the message and RV(vms_restarted) say so.
  - A run killed after stopping a VM leaves a mark on it; the next run starts it again. Another run of the same
    capture (a killed run's module may still be going) may be stopping or starting the same VM; its unfinished
    operations are waited for, never answered with one the platform refuses, and either run reaches the same end.
  - Idempotent. When the image already exists C(Ready), no VM is looked at or stopped; a re-run never bounces
    a VM.
author:
  - Deckhouse virtualization contributors (@deckhouse)
extends_documentation_fragment:
  - deckhouse.virtualization.auth
  - deckhouse.virtualization.wait
  - deckhouse.virtualization.wait.timeout
  - deckhouse.virtualization.progress
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports the VMs it would stop and the images it would create; writes use the API server's dry run.
  diff_mode:
    support: full
  platform:
    platforms: kubernetes
options:
  namespace:
    description: Namespace of the disk, the VMs and the new C(VirtualImage).
    type: str
    required: true
  disk:
    description: Name of the C(VirtualDisk) to capture.
    type: str
    required: true
  method:
    description:
      - V(stop) captures the disk itself, which needs it free of running virtual machines (see O(stop_vm)).
      - V(snapshot) captures a C(VirtualDiskSnapshot) of it while its virtual machine keeps running.
    type: str
    choices: [stop, snapshot]
    default: stop
  keep_snapshot:
    description: With O(method=snapshot), keep the snapshot after the images are made (it is deleted by default).
    type: bool
    default: false
  required_consistency:
    description:
      - With O(method=snapshot), require a consistent snapshot (the default). The platform fails it, and the task
        with the platform's message, when the virtual machine runs and its filesystem cannot be frozen.
      - The platform never retries a C(Failed) snapshot; the next run deletes the C(<name>-capture) snapshot left
        C(Failed) and takes it anew (once the guest agent runs, or with V(false)).
      - V(false) takes such a snapshot anyway (crash-consistent); RV(snapshot_consistent) then says which it was.
    type: bool
    default: true
  name:
    description: Name of the C(VirtualImage) to create from the disk. The platform forbids dots.
    type: str
    required: true
  storage:
    description: Where the image is stored.
    type: str
    choices: [ContainerRegistry, PersistentVolumeClaim]
  storage_class:
    description: Storage class of the image's PVC (only with O(storage=PersistentVolumeClaim)).
    type: str
  labels:
    description: Labels of the image (and of the cluster image).
    type: dict
  cluster_image:
    description:
      - Name of a C(ClusterVirtualImage) to publish from the captured image (chain C(VirtualDisk) to
        C(VirtualImage) to C(ClusterVirtualImage)). It is made after the VMs were started again.
    type: str
  stop_vm:
    description:
      - With O(method=stop), stop the VMs that mount the disk for the capture and start again those that were
        running.
      - Each VM is marked before it is stopped (annotation C(virtualization.deckhouse.io/ansible-stopped-by)) and
        the mark is removed once it runs again, so that the next run of a killed capture starts it again; a VM
        stopped by someone else carries no mark and is never started.
    type: bool
    default: false
  allow_run_policy_change:
    description:
      - Allow stopping an C(AlwaysOn) VM by switching its runPolicy to C(AlwaysOff); C(AlwaysOn) is restored
        afterwards (also after a failure, unless O(restart_vm_on_failure=false)).
    type: bool
    default: false
  restart_vm_on_failure:
    description: Start the stopped VMs again when the capture fails after stopping them.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Capture a stopped disk
  deckhouse.virtualization.virtual_image_capture:
    namespace: vms
    disk: build-root
    name: golden-2026-08

- name: Capture the root disk of a running VM and publish it cluster-wide
  deckhouse.virtualization.virtual_image_capture:
    namespace: vms
    disk: web-root
    name: web-golden
    cluster_image: web-golden
    stop_vm: true
    wait_timeout: 1200

- name: Capture the root disk of a running VM without stopping it (from a snapshot, deleted afterwards)
  deckhouse.virtualization.virtual_image_capture:
    namespace: vms
    disk: app-root
    name: app-golden
    cluster_image: app-golden
    method: snapshot
"""

RETURN = r"""
image:
  description: The C(VirtualImage) as the API returned it last.
  returned: always
  type: dict
phase:
  description: C(status.phase) of the image at the end.
  returned: always
  type: str
  sample: Ready
cluster_image:
  description: The C(ClusterVirtualImage) (null without O(cluster_image)).
  returned: always
  type: dict
cluster_image_phase:
  description: C(status.phase) of the cluster image at the end.
  returned: always
  type: str
vm_actions:
  description:
    - The VM actions taken, in order, each with C(vm), C(action) (C(Stop), C(Start) or C(SetRunPolicy)),
      C(duration) in seconds, C(operation) (the VMOP name) or C(run_policy), C(phase) and C(check_mode);
      C(lost_race) when the operation failed only because another one of the VM came first.
  returned: always
  type: list
  elements: dict
  sample: [{"vm": "web", "action": "Stop", "operation": "web-stop-1a2b3c", "phase": "Completed", "duration": 4.2}]
vms_stopped:
  description: The VMs the module stopped (or would stop in check mode).
  returned: always
  type: list
  elements: str
vms_restarted:
  description: The VMs the module started again.
  returned: always
  type: list
  elements: str
snapshot:
  description: The C(VirtualDiskSnapshot) taken (O(method=snapshot)), as it was once C(Ready); null when none was taken.
  returned: always
  type: dict
snapshot_consistent:
  description: C(status.consistent) of that snapshot.
  returned: always
  type: bool
snapshot_deleted:
  description: Whether the task deleted the snapshot after making the images.
  returned: always
  type: bool
vms_left_stopped:
  description: VMs that stay stopped after a failure (restart disabled or failed).
  returned: on failure
  type: list
  elements: str
duration:
  description: Seconds the task took.
  returned: always
  type: float
diff:
  description:
    - The objects before and after, one entry per object made (the snapshot, the C(VirtualImage), then the
      C(ClusterVirtualImage)), each headed with its reference so that C(--diff) prints them one after the other.
  returned: when diff mode is on
  type: list
  elements: dict
"""

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    STORAGE_CHOICES, VIRTUAL_DISK,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import CollectionModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.capture import (
    CAPTURE_METHODS, CaptureRequest, CaptureRunner,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import with_task_options


def argument_spec() -> Dict[str, Any]:
    """The options of virtual_image_capture (a fresh copy: AnsibleModule changes it)."""
    return with_task_options(dict(
        namespace={"type": "str", "required": True},
        disk={"type": "str", "required": True},
        name={"type": "str", "required": True},
        method={"type": "str", "default": CAPTURE_METHODS[0], "choices": list(CAPTURE_METHODS)},
        keep_snapshot={"type": "bool", "default": False},
        required_consistency={"type": "bool", "default": True},
        storage={"type": "str", "choices": list(STORAGE_CHOICES)},
        storage_class={"type": "str"},
        labels={"type": "dict"},
        cluster_image={"type": "str"},
        stop_vm={"type": "bool", "default": False},
        allow_run_policy_change={"type": "bool", "default": False},
        restart_vm_on_failure={"type": "bool", "default": True},
    ))


class CaptureModule(CollectionModule[CaptureRequest]):
    """virtual_image_capture."""

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()

    def label(self, request: CaptureRequest) -> str:
        return VIRTUAL_DISK.ref(request.disk, request.namespace)

    def request(self, params: Dict[str, Any]) -> CaptureRequest:
        return CaptureRequest.from_params(params)

    def execute(self, client: Client, request: CaptureRequest, tracker: Tracker) -> Dict[str, Any]:
        return CaptureRunner(client, request, tracker).run()


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    CaptureModule().main()


if __name__ == "__main__":
    main()
