"""virtual_image_capture against the sandbox: free disk, mounted disk, AlwaysOn, failure restart, re-run, check mode."""
from __future__ import annotations

MOD = "deckhouse.virtualization.virtual_image_capture"
WAIT = 60


def test_free_disk_chain_to_cluster_image_and_rerun(play, namespace, kube, admin_writes):
    disk = kube.make_disk(namespace, "data")
    cvi = "%s-golden" % namespace
    task = {"namespace": namespace, "disk": "data", "name": "img", "cluster_image": cvi, "labels": {"tier": "gold"},
            "wait_timeout": WAIT}
    admin_writes.clear()
    run = play([{MOD: task, "register": "first"}, {MOD: task, "register": "again"}])
    assert run.rc == 0, run.stdout
    first = run["first"]
    assert first["changed"] is True and first["phase"] == "Ready" and first["vm_actions"] == []
    assert first["image"]["spec"]["dataSource"] == {
        "type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "data"}}
    assert first["image"]["status"]["sourceUID"] == disk["metadata"]["uid"]
    assert first["cluster_image_phase"] == "Ready"
    assert first["cluster_image"]["spec"]["dataSource"]["objectRef"] == {
        "kind": "VirtualImage", "name": "img", "namespace": namespace}
    assert first["cluster_image"]["metadata"]["labels"] == {"tier": "gold"}
    assert run["again"]["changed"] is False and run["again"]["cluster_image_phase"] == "Ready"
    # one create each, all from the first run: the re-run wrote nothing
    assert [w["method"] for w in admin_writes(namespace)] == ["POST"]
    assert [w["method"] for w in admin_writes("", "clustervirtualimages")] == ["POST"]
    kube.api("ClusterVirtualImage").delete(name=cvi)


def test_mounted_disk_check_mode_refusal_stop_and_rerun(play, namespace, kube, admin_writes):
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    task = {"namespace": namespace, "disk": "root", "name": "web-img", "wait_timeout": WAIT}
    admin_writes.clear()
    run = play([
        {MOD: dict(task, stop_vm=True, cluster_image=namespace + "-cvi"), "register": "check", "check_mode": True},
        {MOD: task, "register": "refused", "ignore_errors": True},
        {MOD: dict(task, stop_vm=True), "register": "captured"},
        {MOD: dict(task, stop_vm=True), "register": "again"},
    ])
    assert run.rc == 0, run.stdout
    check, refused, captured, again = run["check"], run["refused"], run["captured"], run["again"]
    assert check["changed"] is True and check["vms_stopped"] == ["web"], check
    assert [a["action"] for a in check["vm_actions"]] == ["Stop"] and check["vm_actions"][0]["check_mode"] is True
    assert check["image"]["metadata"]["name"] == "web-img" and check["cluster_image"]["metadata"]["name"] == namespace + "-cvi"
    assert [w["dryRun"] for w in admin_writes("", "clustervirtualimages")] == [True]
    assert refused["failed"] is True
    assert 'mounted by VirtualMachine "web" (phase Running)' in refused["msg"] and "stop_vm: true" in refused["msg"]
    assert refused["vms"] == ["web"]

    assert captured["changed"] is True and captured["phase"] == "Ready"
    assert [(a["vm"], a["action"], a["phase"]) for a in captured["vm_actions"]] == [
        ("web", "Stop", "Completed"), ("web", "Start", "Completed")]
    assert all(a["duration"] > 0 for a in captured["vm_actions"])
    assert captured["vms_stopped"] == ["web"] and captured["vms_restarted"] == ["web"]
    assert again["changed"] is False and again["vm_actions"] == [] and again["vms_stopped"] == []
    # check mode sent only dry runs (one VMOP, one VI); the refusal and the re-run wrote nothing:
    # the real writes are exactly the capture's mark on the VM (before it is stopped: a killed run's successor
    # starts it again), its Stop, its image, its Start and the mark's removal
    dry = admin_writes(namespace)
    assert sorted(w["resource"] for w in dry if w.get("dryRun")) == ["virtualimages", "virtualmachineoperations"]
    assert [(w["resource"], w["method"]) for w in dry if not w.get("dryRun")] == [
        ("virtualmachines", "PATCH"), ("virtualmachineoperations", "POST"), ("virtualimages", "POST"),
        ("virtualmachineoperations", "POST"), ("virtualmachines", "PATCH")]
    assert kube.vm_phase(namespace, "web") == "Running"


def test_always_on_refused_then_allowed_with_run_policy_restored(play, namespace, kube, admin_writes):
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "db", "root", "AlwaysOn")
    task = {"namespace": namespace, "disk": "root", "name": "db-img", "stop_vm": True, "wait_timeout": WAIT}
    admin_writes.clear()
    run = play([{MOD: task, "register": "refused", "ignore_errors": True},
                {MOD: dict(task, allow_run_policy_change=True), "register": "allowed"}])
    refused, allowed = run["refused"], run["allowed"]
    assert refused["failed"] is True
    assert "Operation type Stop is not applicable for VirtualMachine with runPolicy AlwaysOn" in refused["msg"]
    assert "allow_run_policy_change: true" in refused["msg"]
    assert allowed["changed"] is True and allowed["phase"] == "Ready", allowed
    assert [(a["action"], a["run_policy"]) for a in allowed["vm_actions"]] == [
        ("SetRunPolicy", "AlwaysOff"), ("SetRunPolicy", "AlwaysOn")]
    assert admin_writes.real(namespace, "virtualmachineoperations") == []
    assert len(admin_writes.real(namespace, "virtualmachines", "PATCH")) == 2
    vm = kube.get("VirtualMachine", namespace, "db")
    assert vm["spec"]["runPolicy"] == "AlwaysOn" and vm["status"]["phase"] == "Running"


def test_failure_after_stop_starts_the_vm_again(play, namespace, kube):
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "app", "root", "AlwaysOnUnlessStoppedManually")
    # A class named for the image that does not exist is refused before the stop (nothing stopped, nothing made).
    task = {"namespace": namespace, "disk": "root", "name": "app-img", "stop_vm": True,
            "storage": "PersistentVolumeClaim", "storage_class": "no-such-class", "wait_timeout": 5}
    early = play([{MOD: task, "register": "early", "ignore_errors": True}])
    assert early["early"]["msg"].startswith('storage_class: storage class "no-such-class" not found')
    assert kube.vm_phase(namespace, "app") == "Running" and kube.get("VirtualImage", namespace, "app-img") is None
    # An image admitted on a class deleted before it looks for it stays blocked once the disk is free: the wait
    # times out after the stop.
    classes = kube.k8s.resources.get(api_version="storage.k8s.io/v1", kind="StorageClass")
    gone = "%s-gone" % namespace

    def blocked_image(name):
        """Blocked at first by the disk the running VM mounts; its class gone by the time the disk is free."""
        classes.create(body={"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": gone},
                             "provisioner": "rancher.io/local-path", "volumeBindingMode": "Immediate"})
        kube.api("VirtualImage").create(namespace=namespace, body={
            "apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualImage",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"storage": "PersistentVolumeClaim", "persistentVolumeClaim": {"storageClassName": gone},
                     "dataSource": {"type": "ObjectRef", "objectRef": {"kind": "VirtualDisk", "name": "root"}}}})
        classes.delete(name=gone)

    task = dict(task, storage_class=gone)
    blocked_image("app-img")
    run = play([{MOD: task, "register": "failed", "ignore_errors": True}])
    blocked_image("app-img2")
    run2 = play([{MOD: dict(task, name="app-img2", restart_vm_on_failure=False), "register": "left",
                  "ignore_errors": True}])
    failed, left = run["failed"], run2["left"]
    assert failed["failed"] is True
    assert "timed out" in failed["msg"] and "StorageClass" in failed["msg"], failed["msg"]
    assert "were started again: app" in failed["msg"]
    # the blocked image kept the disk in use (UsedForImageCreation): it had to go for the VM to start
    assert "the unfinished VirtualImage %s/app-img was deleted" % namespace in failed["msg"]
    assert kube.get("VirtualImage", namespace, "app-img") is None
    assert failed["vms_restarted"] == ["app"]
    assert [a["action"] for a in failed["vm_actions"]] == ["Stop", "Start"]
    assert left["failed"] is True and left["vms_left_stopped"] == ["app"]
    assert "stay stopped (restart_vm_on_failure is false)" in left["msg"]
    assert kube.vm_phase(namespace, "app") == "Stopped"


def test_diff_is_rendered_by_the_callback(play, namespace, kube):
    """--diff prints a before/after per image made (what a user sees, not only the result dict)."""
    kube.make_disk(namespace, "data")
    cvi = "%s-diff" % namespace
    task = {"namespace": namespace, "disk": "data", "name": "img", "cluster_image": cvi, "wait_timeout": WAIT}
    run = play([{MOD: task, "register": "first"}], diff=True)
    assert run.rc == 0, run.stdout
    for ref in ("VirtualImage %s/img" % namespace, "ClusterVirtualImage %s" % cvi):
        assert "--- before: %s\n+++ after: %s\n" % (ref, ref) in run.stdout, run.stdout
    assert '+                "kind": "VirtualDisk",' in run.stdout, run.stdout
    assert '+                "kind": "VirtualImage",' in run.stdout, run.stdout
    kube.api("ClusterVirtualImage").delete(name=cvi)


def test_progress_at_verbose(play, namespace, kube):
    """At -v the capture prints the VM it stops and starts and the phases of the image it makes."""
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    task = {"namespace": namespace, "disk": "root", "name": "img", "stop_vm": True, "wait_timeout": WAIT}
    run = play([{MOD: task, "register": "captured"}], verbosity=1)
    assert run.rc == 0, run.stdout
    disk, vm = "VirtualDisk %s/root" % namespace, "VirtualMachine %s/web" % namespace
    assert "%s: Stop of %s: VirtualMachineOperation" % (disk, vm) in run.stdout, run.stdout
    assert "%s: Start of %s: VirtualMachineOperation" % (disk, vm) in run.stdout, run.stdout
    assert "VirtualImage %s/img: Ready" % namespace in run.stdout, run.stdout
