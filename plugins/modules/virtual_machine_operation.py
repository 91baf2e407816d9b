#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Start, stop or restart a VirtualMachine through a VirtualMachineOperation (thin: docs, argspec, main)."""

from __future__ import annotations

DOCUMENTATION = r"""
module: virtual_machine_operation
short_description: Start, stop or restart a VirtualMachine of the Deckhouse Virtualization Platform
version_added: 0.1.0
description:
  - Creates a C(VirtualMachineOperation) (what C(d8 v start|stop|restart) does) and waits until the operation is
    C(Completed) and the VM is C(Running) (Start, Restart) or C(Stopped) (Stop).
  - C(Start) of a C(Running) VM and C(Stop) of a C(Stopped) VM change nothing and create no operation; a VM on its
    way there (C(Starting), C(Stopping)) is waited for instead.
  - The platform refuses an operation while another one of the same VM is unfinished, unless the new one may
    supersede it (C(Stop) supersedes C(Start)). The module waits for such an operation to finish and then decides
    again, and treats a refusal or failure that only says another operation came first (C(should finish first),
    C(NotReadyToBeExecuted), not applicable in the phase the other one brought) the same way.
  - The platform refuses C(Stop) for runPolicy C(AlwaysOn) and C(Start)/C(Restart) for C(AlwaysOff); the module
    fails with that rule and the ways out before creating an operation. Any other refusal fails the task at once
    with the operation's message.
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
    details: The operation is sent with the API server's dry run; nothing is stored and the VM is not touched.
  diff_mode:
    support: none
  platform:
    platforms: kubernetes
options:
  namespace:
    description: Namespace of the VM.
    type: str
    required: true
  name:
    description: Name of the C(VirtualMachine).
    type: str
    required: true
  type:
    description: The operation.
    type: str
    required: true
    choices: [Start, Stop, Restart]
"""

EXAMPLES = r"""
- name: Stop a VM and wait until it is Stopped
  deckhouse.virtualization.virtual_machine_operation:
    namespace: vms
    name: web
    type: Stop

- name: Start it again
  deckhouse.virtualization.virtual_machine_operation:
    namespace: vms
    name: web
    type: Start

- name: Restart it, allowing five minutes
  deckhouse.virtualization.virtual_machine_operation:
    namespace: vms
    name: web
    type: Restart
    wait_timeout: 300
"""

RETURN = r"""
operation:
  description: The C(VirtualMachineOperation) as last seen (null when nothing had to be done, or when another
    operation of the VM brought it there).
  returned: always
  type: dict
vm_phase:
  description: The VM's C(status.phase) at the end.
  returned: always
  type: str
  sample: Running
run_policy:
  description: The VM's runPolicy.
  returned: always
  type: str
  sample: Manual
vm_actions:
  description: The actions taken with their durations (see M(deckhouse.virtualization.virtual_image_capture)).
  returned: always
  type: list
  elements: dict
duration:
  description: Seconds the task took.
  returned: always
  type: float
"""

from typing import Any, Dict

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    VIRTUAL_MACHINE, VM_OPERATIONS,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.glue.module import CollectionModule
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.power import (
    VmOperationRequest, run_operation,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.args import with_task_options


def argument_spec() -> Dict[str, Any]:
    """The options of virtual_machine_operation (a fresh copy: AnsibleModule changes it)."""
    return with_task_options(dict(
        namespace={"type": "str", "required": True},
        name={"type": "str", "required": True},
        type={"type": "str", "required": True, "choices": list(VM_OPERATIONS)},
    ))


class VmOperationModule(CollectionModule[VmOperationRequest]):
    """virtual_machine_operation."""

    def argument_spec(self) -> Dict[str, Any]:
        return argument_spec()

    def label(self, request: VmOperationRequest) -> str:
        return VIRTUAL_MACHINE.ref(request.name, request.namespace)

    def request(self, params: Dict[str, Any]) -> VmOperationRequest:
        return VmOperationRequest.from_params(params)

    def execute(self, client: Client, request: VmOperationRequest, tracker: Tracker) -> Dict[str, Any]:
        return run_operation(client, request, tracker)


def main() -> None:
    """Entry point: the class above says what the module takes and does; the glue base runs it."""
    VmOperationModule().main()


if __name__ == "__main__":
    main()
