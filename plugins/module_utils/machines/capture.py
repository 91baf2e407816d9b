# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Disk capture: VirtualDisk -> VirtualImage (-> ClusterVirtualImage), by one of two methods.

``stop``: the images are made from the disk by the ordinary ImageRunner; this module only decides whether the
disk must be freed first, frees it (stopping mounting VMs when allowed), and guarantees the VMs are started
again, on success and on failure alike. ``snapshot``: a VirtualDiskSnapshot of the disk is taken (the platform
freezes a running VM's filesystem for it), the images are made from the snapshot and the snapshot is deleted
(unless kept); no VM is ever touched. Either way a VI that is already Ready (and the CVI, when asked) means nothing
is done, so a re-run cannot bounce a production VM or take a snapshot.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Mapping, NamedTuple, Optional

from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.client import Client
from ansible_collections.deckhouse.virtualization.plugins.module_utils.api.waiter import Waiter
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common import conditions as cond
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.errors import ObjectFailed, TaskError
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.kinds import (
    CLUSTER_VIRTUAL_IMAGE, PROVISIONED_PHASES, VIRTUAL_DISK, VIRTUAL_IMAGE, VIRTUAL_MACHINE,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.common.progress import Tracker
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.request import (
    SnapshotRequest, snapshot_request,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.disks.snapshot import SnapshotRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.request import ImageRequest, image_request
from ansible_collections.deckhouse.virtualization.plugins.module_utils.images.runner import ImageRunner
from ansible_collections.deckhouse.virtualization.plugins.module_utils.machines.power import (
    CLEAR_MARK, PowerControl, RunPolicyRefused, StopMark, mounting_vms, refusal, run_policy,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.objects.storage_classes import (
    check_storage_class_exists,
)
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.disk import SnapshotOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.image import ImageOptions
from ansible_collections.deckhouse.virtualization.plugins.module_utils.options.validation import validate_capture


class Stopped(NamedTuple):
    """A VM the module stopped, and how to bring it back."""

    name: str
    policy: str
    restart: bool


SNAPSHOT_SUFFIX = "-capture"
CAPTURE_METHODS = ("stop", "snapshot")   # how the disk is held still while it is read; the first is the default


def snapshot_name(params: Mapping[str, Any]) -> str:
    """The snapshot a ``method: snapshot`` capture takes: named after the image, so a re-run finds the same one."""
    return str(params["name"]) + SNAPSHOT_SUFFIX


def image_options(params: Mapping[str, Any], cluster: bool) -> ImageOptions:
    """The typed options of the images made: a VI from the disk and a CVI from that VI (``method: stop``), or both
    from the snapshot (``method: snapshot``)."""
    wait = params.get("wait") is not False or params.get("method") == "snapshot"  # the snapshot goes once they are
    common = ImageOptions(labels=params.get("labels"), wait=wait,
                          wait_timeout=params["wait_timeout"] if params.get("wait_timeout") is not None else 1800)
    if params.get("method") == "snapshot":
        ref = {"kind": "VirtualDiskSnapshot", "name": snapshot_name(params)}
        origin = dict(ref, namespace=params["namespace"]) if cluster else ref
    elif cluster:
        origin = {"kind": "VirtualImage", "name": params["name"], "namespace": params["namespace"]}
    else:
        origin = {"kind": "VirtualDisk", "name": params["disk"]}
    if cluster:
        return common._replace(name=params["cluster_image"], source={"object_ref": origin})
    return common._replace(name=params["name"], namespace=params["namespace"], storage=params.get("storage"),
                           storage_class=params.get("storage_class"), source={"object_ref": origin})


class CaptureRequest(NamedTuple):
    """One run of virtual_image_capture, checked: the images to make and how to free the disk."""

    namespace: str
    disk: str
    image: ImageRequest
    cluster_image: Optional[ImageRequest]
    stop_vm: bool = False
    allow_run_policy_change: bool = False
    restart_vm_on_failure: bool = True
    snapshot: Optional[SnapshotRequest] = None  # method: snapshot
    keep_snapshot: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "CaptureRequest":
        """Every check before any request, reusing the image and snapshot modules' rules."""
        validate_capture(params)
        image = image_request(image_options(params, cluster=False), VIRTUAL_IMAGE)
        cluster = None
        if params.get("cluster_image") is not None:
            cluster = image_request(image_options(params, cluster=True), CLUSTER_VIRTUAL_IMAGE)
        snapshot = None
        if params.get("method") == "snapshot":
            snapshot = snapshot_request(SnapshotOptions(
                name=snapshot_name(params), namespace=params["namespace"], disk=params["disk"],
                required_consistency=params.get("required_consistency") is not False, labels=params.get("labels"),
                recreate=True, wait_timeout=image.wait_timeout))  # its own snapshot: a Failed one is taken anew
        return cls(namespace=params["namespace"], disk=params["disk"], image=image, cluster_image=cluster,
                   stop_vm=bool(params.get("stop_vm")),
                   allow_run_policy_change=bool(params.get("allow_run_policy_change")),
                   restart_vm_on_failure=params.get("restart_vm_on_failure") is not False,
                   snapshot=snapshot, keep_snapshot=bool(params.get("keep_snapshot")))


class CaptureRunner:
    """One run of virtual_image_capture."""

    def __init__(self, client: Client, request: CaptureRequest, tracker: Tracker) -> None:
        self.client = client
        self.request = request
        self.namespace = request.namespace
        self.timeout = request.image.wait_timeout
        self.tracker = tracker
        self.power = PowerControl(client, self.namespace, self.timeout, tracker)
        self.stopped: List[Stopped] = []
        self.stopped_names: List[str] = []
        self.restarted_names: List[str] = []
        self.snapshot_result: Optional[Dict[str, Any]] = None
        self.snapshot_deleted = False
        self.started = time.monotonic()

    def run(self) -> Dict[str, Any]:
        """Capture by the request's method."""
        if self.request.snapshot is not None:
            return self._run_snapshot(self.request.snapshot)
        return self._run_stop()

    def _run_snapshot(self, snapshot: SnapshotRequest) -> Dict[str, Any]:
        """Snapshot the disk (when an image is still to be made), make the images from it, delete it unless kept."""
        requests = [self.request.image] + ([self.request.cluster_image] if self.request.cluster_image else [])
        to_make = [req for req in requests
                   if not self._captured(self.client.get(req.kind.object_path(req.name, req.namespace)), req.ref)]
        if to_make:  # the snapshot runner refuses a disk that does not exist, before any write
            self.snapshot_result = SnapshotRunner(self.client, snapshot, self.tracker.child(snapshot.ref)).run()
        try:
            results = [ImageRunner(self.client, req, self.tracker.child(req.ref)).run() for req in requests]
        except TaskError as exc:
            exc.details.update(snapshot=snapshot.name, snapshot_kept=True)
            exc.msg += "; the snapshot %s is kept for the next run (it deletes it once the images are Ready)" % (
                snapshot.ref)
            exc.args = (exc.msg,)
            raise
        if not self.request.keep_snapshot:
            gone = SnapshotRunner(self.client, snapshot._replace(manifest=None), self.tracker.child(snapshot.ref)).run()
            self.snapshot_deleted = bool(gone["changed"])
        return self._result(results[0], results[1] if len(results) > 1 else None)

    def _run_stop(self) -> Dict[str, Any]:
        """Free the disk when needed, make the image(s), restart what was stopped (by this run, or by an earlier
        one that was killed before it could: the VMs it marked)."""
        vi_request = self.request.image
        if self.request.stop_vm:  # only a stop_vm run marks VMs: only one looks for the marks
            self._resume_marked()
        live = self.client.get(VIRTUAL_IMAGE.object_path(vi_request.name, self.namespace))
        try:
            captured = self._captured(live, vi_request.ref)
        except TaskError as exc:  # a Failed image: still start what an earlier run left stopped
            raise self._after_failure(exc)
        if not captured:
            check_storage_class_exists(self.client, vi_request.manifest or {}, live)  # before any VM stops
            self._free_disk()
        try:
            if self.stopped:  # the VMs come back only once the image is made: always wait for it then
                vi_request = vi_request._replace(wait=True)
            image = ImageRunner(self.client, vi_request, self.tracker.child(vi_request.ref)).run()
            self._restart_all()
        except TaskError as exc:
            raise self._after_failure(exc)
        cluster = None
        cvi_request = self.request.cluster_image
        if cvi_request is not None:
            cluster = ImageRunner(self.client, cvi_request, self.tracker.child(cvi_request.ref)).run()
        return self._result(image, cluster)

    def _captured(self, live: Optional[Mapping[str, Any]], ref: str) -> bool:
        """True when the image is already provisioned; a Failed one is an error (the platform never retries it)."""
        if live is None:
            return False
        phase = cond.phase(live)
        if phase == "Failed":
            ready = cond.condition(live, "Ready") or {}
            raise ObjectFailed("%s is Failed (%s); the platform does not retry: delete it to capture the disk again"
                               % (ref, ready.get("message") or ready.get("reason") or "no message"),
                               image=live, conditions=(live.get("status") or {}).get("conditions") or [])
        return phase in PROVISIONED_PHASES

    def _purpose(self) -> str:
        """What the stop mark says stopped a VM: this capture's disk (the next run of it starts the VM again)."""
        return "virtual_image_capture of %s" % VIRTUAL_DISK.ref(self.request.disk, self.namespace)

    def _resume_marked(self) -> None:
        """VMs an earlier run of this capture stopped and was killed before starting again: started after this run
        makes the image, with the runPolicy they had."""
        for name, mark in self.power.marked(self._purpose()):
            self.tracker.note("%s was stopped by an earlier run of this capture (killed before it started it again): "
                              "it is started once the image is made" % VIRTUAL_MACHINE.ref(name, self.namespace))
            self.stopped.append(Stopped(name, mark.run_policy, True))

    # -- freeing the disk --------------------------------------------------------------------------
    def _free_disk(self) -> None:
        """Stop every VM mounting the disk, or fail naming them (never wait in Pending for a VM)."""
        disk = self.request.disk
        if self.client.get(VIRTUAL_DISK.object_path(disk, self.namespace)) is None:
            raise TaskError("%s not found" % VIRTUAL_DISK.ref(disk, self.namespace))
        vms = mounting_vms(self.client, self.namespace, disk)
        if not vms:
            return
        names = ", ".join('"%s" (phase %s)' % (vm["metadata"]["name"], cond.phase(vm)) for vm in vms)
        if not self.request.stop_vm:
            raise TaskError(
                "%s is mounted by VirtualMachine %s: the platform captures a disk only while no running VM uses it. "
                "Stop the VM first, or set stop_vm: true to stop it for the capture and start it again afterwards."
                % (VIRTUAL_DISK.ref(disk, self.namespace), names), vms=[vm["metadata"]["name"] for vm in vms])
        for vm in vms:  # refuse before stopping anything
            message = refusal("Stop", VIRTUAL_MACHINE.ref(vm["metadata"]["name"], self.namespace), run_policy(vm))
            if message and not self.request.allow_run_policy_change:
                raise RunPolicyRefused(message, vms=[vm["metadata"]["name"]])
        try:
            for vm in vms:
                self._stop(vm)
        except TaskError as exc:
            raise self._after_failure(exc)

    def _stop(self, vm: Mapping[str, Any]) -> None:
        """Stop one VM, marking it first (in the same write as a runPolicy switch) when it is to be started again."""
        name, policy, phase = vm["metadata"]["name"], run_policy(vm), cond.phase(vm)
        self.stopped_names.append(name)
        if any(stopped.name == name for stopped in self.stopped):  # marked by an earlier run: finish its stop
            if policy != "AlwaysOff":
                self.power.operate(name, "Stop")   # joins the earlier run's Stop when it is still going
            elif not self.client.check_mode:
                self.power.wait_phase(name, "Stopped")
            return
        mark = StopMark(self._purpose(), policy).annotation()
        if policy == "AlwaysOn":
            self.stopped.append(Stopped(name, policy, True))
            self.power.set_run_policy(name, "AlwaysOff", "Stopped", annotations=mark)
        elif policy == "AlwaysOff" or phase == "Stopping":
            # already on its way down: wait for it, and leave it stopped afterwards
            self.stopped.append(Stopped(name, policy, False))
            if not self.client.check_mode:
                self.power.wait_phase(name, "Stopped")
        else:
            self.stopped.append(Stopped(name, policy, True))
            if not self.client.check_mode:
                self.power.annotate(name, mark)
            self.power.operate(name, "Stop")

    # -- bringing VMs back -----------------------------------------------------------------------------
    def _restart_all(self) -> None:
        """Start (or restore the runPolicy of) every VM stopped for the capture, then remove its mark once it runs (an
        AlwaysOn VM's in the write that restores its runPolicy);
        raises on the first failure, leaving that VM and the rest on the list of VMs still owed a start. Another run
        of the same capture (a killed run's module still going) may be starting the same VM: its operations are
        waited out, and a start that lost the race to it waits for the VM to run (..power.PowerControl.operate);
        the mark may be gone already, removed by that run."""
        while self.stopped:
            vm = self.stopped[0]
            if vm.restart and not self.client.check_mode:
                if vm.policy == "AlwaysOn":  # the runPolicy owes it the start from here: the mark goes with it
                    self.power.set_run_policy(vm.name, "AlwaysOn", "Running", annotations=CLEAR_MARK)
                else:
                    self.power.operate(vm.name, "Start")
                    self.power.annotate(vm.name, CLEAR_MARK)
                self.restarted_names.append(vm.name)
            self.stopped.pop(0)

    def _release_disk(self) -> str:
        """Delete the unfinished image this capture made, so that the VMs can start again: while an image is being
        made from a disk (Pending or Provisioning, even when blocked) the platform keeps the disk in use for it
        (InUse UsedForImageCreation) and a VM on that disk does not start. Returns what the message adds."""
        image = self.request.image
        path = VIRTUAL_IMAGE.object_path(image.name, self.namespace)
        live = self.client.get(path)
        if live is None or cond.phase(live) in PROVISIONED_PHASES:
            return ""
        self.client.delete(path)
        Waiter(self.client, VIRTUAL_IMAGE, image.name, self.namespace).wait("absent", self.timeout, live)
        return "; the unfinished %s was deleted so that the disk is free for the VirtualMachine(s)" % image.ref

    def _after_failure(self, exc: TaskError) -> TaskError:
        """Start the stopped VMs again (unless told not to) and say so in the error."""
        details = dict(exc.details)
        msg = exc.msg
        pending = [vm.name for vm in self.stopped if vm.restart]
        if pending and not self.client.check_mode:
            if self.request.restart_vm_on_failure:
                try:
                    msg += self._release_disk()
                    self._restart_all()
                    msg += "; the VirtualMachine(s) stopped for the capture were started again: %s" % ", ".join(pending)
                except TaskError as restart_exc:
                    msg += "; starting the stopped VirtualMachine(s) %s again FAILED: %s" % (
                        ", ".join(pending), restart_exc.msg)
                    details["vms_left_stopped"] = pending
            else:
                msg += ("; the VirtualMachine(s) %s stay stopped (restart_vm_on_failure is false)"
                        % ", ".join(pending))
                details["vms_left_stopped"] = pending
        details.update(vm_actions=self.power.actions, vms_stopped=self.stopped_names,
                       vms_restarted=self.restarted_names)
        return TaskError(msg, **details)

    def _result(self, image: Dict[str, Any], cluster: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        result: Dict[str, Any] = {
            "changed": bool(image["changed"] or (cluster or {}).get("changed") or self.power.actions
                            or self.restarted_names),
            "image": image["image"],
            "phase": image["phase"],
            "cluster_image": (cluster or {}).get("image"),
            "cluster_image_phase": (cluster or {}).get("phase"),
            "vm_actions": self.power.actions,
            "vms_stopped": self.stopped_names,
            "vms_restarted": self.restarted_names,
            "snapshot": (self.snapshot_result or {}).get("snapshot"),
            "snapshot_consistent": (self.snapshot_result or {}).get("consistent"),
            "snapshot_deleted": self.snapshot_deleted,
            "duration": round(time.monotonic() - self.started, 3),
        }
        result["diff"] = [_headed(self.request.image.ref, image)]
        if self.snapshot_result is not None and self.request.snapshot is not None:
            result["diff"].insert(0, _headed(self.request.snapshot.ref, self.snapshot_result))
        if cluster is not None and self.request.cluster_image is not None:
            result["diff"].append(_headed(self.request.cluster_image.ref, cluster))
        return result


def _headed(ref: str, result: Mapping[str, Any]) -> Dict[str, Any]:
    """One object's before/after, headed with its reference: Ansible's callbacks render a list of such diffs."""
    diff = dict(result.get("diff") or {"before": {}, "after": {}})
    diff.update(before_header=ref, after_header=ref)
    return diff
