"""virtual_disk and virtual_disk_info against the sandbox: every source, both waits, grow and refused shrink, the
attached-disk rules, check mode and diff, re-runs with zero writes at the audit, fail-fast and blocked cases.

Runs on both platform lines (DVP_SANDBOX_PLATFORM=v1.10 too): nothing here depends on a field only dev has."""
from __future__ import annotations

import hashlib
from typing import Any, Dict

DISK = "deckhouse.virtualization.virtual_disk"
INFO = "deckhouse.virtualization.virtual_disk_info"
WAIT = 60
WFFC_CLASS = "local-path-wffc"


def disk(namespace: str, name: str, **options: Any) -> Dict[str, Any]:
    return dict({"name": name, "namespace": namespace, "wait_timeout": WAIT}, **options)


def test_every_source_reaches_ready_and_a_rerun_writes_nothing(play, namespace, kube, sources, registry_image,
                                                               tmp_path, admin_writes):
    from sandbox import seed
    kube.ready_image(namespace, "base", sources["qcow2"])
    upload = seed.make_disk(tmp_path / "up.qcow2", "qcow2")
    creds = {"username": registry_image["username"], "password": registry_image["password"]}
    tasks = [
        disk(namespace, "blank", size="8Mi"),
        disk(namespace, "http", source={"http": {"url": sources["qcow2"]}}),
        disk(namespace, "registry", source={"container_image": {
            "image": registry_image["image"], "ca_bundle": registry_image["ca"], "registry_credentials": creds}}),
        disk(namespace, "from-vi", size="32Mi", source={"object_ref": {"kind": "VirtualImage", "name": "base"}}),
        disk(namespace, "upload", source={"upload": {"path": str(upload), "checksum": {
            "sha256": hashlib.sha256(upload.read_bytes()).hexdigest()}}}),
    ]
    run = play([{DISK: task, "register": task["name"].replace("-", "_")} for task in tasks]
               + [{"deckhouse.virtualization.virtual_disk_snapshot": {
                   "name": "snap", "namespace": namespace, "disk": "blank", "wait_timeout": WAIT}},
                  {DISK: disk(namespace, "from-snap", source={"object_ref": {"kind": "VirtualDiskSnapshot",
                                                                             "name": "snap"}}),
                   "register": "from_snap"}])
    assert run.rc == 0, run.fatal()
    for name in ("blank", "http", "registry", "from_vi", "upload", "from_snap"):
        assert run[name]["changed"] is True and run[name]["phase"] == "Ready", (name, run[name])
    assert run["blank"]["summary"]["source"] == "blank" and run["blank"]["summary"]["capacity"] == "8Mi"
    assert run["from_vi"]["summary"]["source"] == "VirtualImage base"
    assert run["from_vi"]["disk"]["status"]["capacity"] == "32Mi"
    assert run["from_snap"]["disk"]["spec"]["dataSource"] == {
        "type": "ObjectRef", "objectRef": {"kind": "VirtualDiskSnapshot", "name": "snap"}}
    assert run["upload"]["bytes"] == upload.stat().st_size and run["upload"]["disk"]["status"]["phase"] == "Ready"
    secret = run["registry"]["disk"]["spec"]["dataSource"]["containerImage"]["imagePullSecret"]
    assert secret == {"name": "registry-registry-credentials"}
    assert creds["password"] not in run.stdout
    admin_writes.clear()
    tasks[3] = {k: v for k, v in tasks[3].items() if k != "size"}  # a size left out keeps the disk's
    again = play([{DISK: task, "register": task["name"].replace("-", "_")} for task in tasks])
    assert again.rc == 0, again.fatal()
    assert all(again[t["name"].replace("-", "_")]["changed"] is False for t in tasks), again.results
    assert admin_writes(namespace) == []


def test_grow_waits_through_resizing_and_shrink_is_refused_before_any_write(play, namespace, admin_writes):
    first = play([{DISK: disk(namespace, "data", size="8Mi"), "register": "made"}])
    assert first["made"]["phase"] == "Ready", first.fatal()
    admin_writes.clear()
    run = play([{DISK: disk(namespace, "data", size="16Mi"), "register": "grown"},
                {DISK: disk(namespace, "data", size="16384Ki"), "register": "same"},
                {DISK: disk(namespace, "data", size="8Mi"), "register": "shrink", "ignore_errors": True}])
    grown, shrink = run["grown"], run["shrink"]
    assert grown["changed"] is True and grown["phase"] == "Ready" and grown["summary"]["capacity"] == "16Mi"
    assert "Resizing" in [p["phase"] for p in grown["phases"]], grown["phases"]
    assert run["same"]["changed"] is False  # 16Mi is 16384Ki
    assert shrink["failed"] is True
    assert "size 8Mi is smaller than the disk's size 16Mi" in shrink["msg"], shrink["msg"]
    assert shrink["differing_fields"] == ["spec.persistentVolumeClaim.size"]
    assert [(w["method"], w.get("dryRun")) for w in admin_writes(namespace)] == [("PATCH", False)]


def test_check_mode_and_diff_write_nothing(play, namespace, kube, admin_writes):
    task = disk(namespace, "planned", size="8Mi", labels={"tier": "gold"})
    admin_writes.clear()
    run = play([{DISK: task, "register": "checked", "check_mode": True}], diff=True)
    assert run.rc == 0, run.fatal()
    assert run["checked"]["changed"] is True and run["checked"]["diff"]["before"] == {}
    assert run["checked"]["diff"]["after"]["spec"] == {"persistentVolumeClaim": {"size": "8Mi"}}
    assert "+++ after" in run.stdout and '"size": "8Mi"' in run.stdout
    assert all(w.get("dryRun") for w in admin_writes(namespace)) and admin_writes(namespace)
    assert kube.get("VirtualDisk", namespace, "planned") is None
    play([{DISK: task}])
    admin_writes.clear()
    grow = play([{DISK: dict(task, size="16Mi"), "register": "grow", "check_mode": True},
                 {DISK: dict(task, state="absent"), "register": "gone", "check_mode": True}], diff=True)
    assert grow["grow"]["changed"] is True and grow["grow"]["diff"]["after"]["spec"]["persistentVolumeClaim"] == {
        "size": "16Mi"}
    assert grow["gone"]["changed"] is True and grow["gone"]["diff"]["after"] == {}
    assert [w["dryRun"] for w in admin_writes(namespace)] == [True, True]
    assert kube.get("VirtualDisk", namespace, "planned")["spec"]["persistentVolumeClaim"]["size"] == "8Mi"


def test_wait_for_first_consumer_by_default_and_for_the_data_when_asked(play, namespace, kube):
    late = disk(namespace, "late", size="8Mi", storage_class=WFFC_CLASS)
    run = play([{DISK: late, "register": "default"},
                {DISK: dict(late, wait_for="Ready", wait_timeout=3), "register": "data", "ignore_errors": True}])
    assert run["default"]["changed"] is True and run["default"]["phase"] == "WaitForFirstConsumer", run.fatal()
    data = run["data"]
    assert data["failed"] is True
    assert "timed out" in data["msg"] and "WaitForFirstConsumer" in data["msg"], data["msg"]
    kube.make_vm(namespace, "consumer", "late", "AlwaysOnUnlessStoppedManually")
    ready = play([{DISK: dict(late, wait_for="Ready"), "register": "ready"}])
    assert ready["ready"]["phase"] == "Ready" and ready["ready"]["changed"] is False, ready.fatal()
    assert ready["ready"]["summary"]["attached_to"] == ["consumer"]


def test_delete_of_an_attached_disk_is_refused_before_any_write_then_forced(play, namespace, kube, admin_writes):
    kube.make_disk(namespace, "root")
    kube.make_vm(namespace, "web", "root", "AlwaysOnUnlessStoppedManually")
    kube.poll("disk attached", lambda: (kube.get("VirtualDisk", namespace, "root")["status"]
                                        .get("attachedToVirtualMachines")))
    admin_writes.clear()
    run = play([{DISK: disk(namespace, "root", state="absent"), "register": "refused", "ignore_errors": True},
                {DISK: disk(namespace, "root", source={"object_ref": {"kind": "VirtualImage", "name": "x"}},
                            recreate=True), "register": "no_recreate", "ignore_errors": True}])
    refused = run["refused"]
    assert refused["failed"] is True and 'attached to VirtualMachine "web" (mounted)' in refused["msg"], refused
    assert "force: true" in refused["msg"] and refused["attached_to"] == [{"name": "web", "mounted": True}]
    assert run["no_recreate"]["failed"] is True
    assert admin_writes(namespace) == []
    forced = play([{DISK: disk(namespace, "root", state="absent", force=True), "register": "forced"}])
    result = forced["forced"]
    assert result["changed"] is True and result["phase"] == "Terminating" and result["held_by"] == ["web"], result
    assert any("Terminating" in w and "web" in w for w in result.get("warnings", [])), result.get("warnings")
    assert kube.get("VirtualDisk", namespace, "root")["metadata"].get("deletionTimestamp")
    assert kube.vm_phase(namespace, "web") == "Running"


def test_a_disk_made_without_a_size_grows_in_place_from_its_capacity(play, namespace, kube, sources, admin_writes):
    """No size given: the disk has its source's size, and no spec.persistentVolumeClaim at all. A size at least
    its capacity grows it in place (never "recreate"); one below its capacity is refused naming the capacity."""
    kube.ready_image(namespace, "base", sources["qcow2"])
    made = play([{DISK: disk(namespace, "sourced", source={"object_ref": {"kind": "VirtualImage", "name": "base"}}),
                  "register": "made"}])
    assert made.rc == 0, made.fatal()
    assert "persistentVolumeClaim" not in made["made"]["disk"]["spec"]
    capacity = made["made"]["disk"]["status"]["capacity"]
    uid = made["made"]["disk"]["metadata"]["uid"]
    admin_writes.clear()
    same = disk(namespace, "sourced", source={"object_ref": {"kind": "VirtualImage", "name": "base"}})
    run = play([{DISK: dict(same, size="1Ki"), "register": "below", "ignore_errors": True},
                {DISK: dict(same, size="64Mi"), "register": "grown"}])
    below, grown = run["below"], run["grown"]
    assert below["failed"] is True
    assert "size 1Ki is smaller than the disk's size %s" % capacity in below["msg"], below["msg"]
    assert "recreate" not in below["msg"], below["msg"]
    assert grown["changed"] is True and grown["phase"] == "Ready", run.fatal()
    assert grown["disk"]["metadata"]["uid"] == uid, "grown in place, not recreated"
    assert grown["summary"]["capacity"] == "64Mi"
    assert [w["method"] for w in admin_writes(namespace)] == ["PATCH"]


def test_a_disk_smaller_than_its_image_is_refused_before_any_write(play, namespace, kube, sources, admin_writes):
    image = kube.ready_image(namespace, "big", sources["qcow2"])
    unpacked = int(image["status"]["size"]["unpackedBytes"])
    need_mib = -(-unpacked // (1 << 20))
    admin_writes.clear()
    source = {"object_ref": {"kind": "VirtualImage", "name": "big"}}
    run = play([{DISK: disk(namespace, "small", size="1Ki", source=source), "register": "small",
                 "ignore_errors": True}])
    msg = run["small"]["msg"]
    assert run["small"]["failed"] is True
    assert ("size 1Ki is smaller than the data of VirtualImage %s/big, which unpacks to %dMi (%d bytes)"
            % (namespace, need_mib, unpacked)) in msg, msg
    assert "give at least %dMi" % need_mib in msg and "nothing was written" in msg
    assert admin_writes(namespace) == []


def test_advice_to_recreate_a_disk_says_its_data_is_lost(play, namespace, kube, sources):
    kube.ready_image(namespace, "a", sources["qcow2"])
    kube.ready_image(namespace, "b", sources["raw"])
    assert play([{DISK: disk(namespace, "kept", source={"object_ref": {"kind": "VirtualImage", "name": "a"}})}]).rc == 0
    run = play([{DISK: disk(namespace, "kept", source={"object_ref": {"kind": "VirtualImage", "name": "b"}}),
                 "register": "refused", "ignore_errors": True}])
    assert "Set recreate: true to delete it and create it anew (the data on the disk is lost)." in run["refused"]["msg"]


def test_spec_change_after_provisioning_is_refused_or_recreated_for_a_free_disk(
        play, namespace, kube, sources, admin_writes):
    kube.ready_image(namespace, "a", sources["qcow2"])
    kube.ready_image(namespace, "b", sources["raw"])
    first = play([{DISK: disk(namespace, "copy", source={"object_ref": {"kind": "VirtualImage", "name": "a"}}),
                   "register": "made"}])
    uid = first["made"]["disk"]["metadata"]["uid"]
    admin_writes.clear()
    other = disk(namespace, "copy", source={"object_ref": {"kind": "VirtualImage", "name": "b"}})
    run = play([{DISK: other, "register": "refused", "ignore_errors": True},
                {DISK: dict(other, recreate=True), "register": "recreated"}])
    refused = run["refused"]
    assert refused["failed"] is True and "spec.dataSource.objectRef.name" in refused["msg"], refused["msg"]
    assert "recreate: true" in refused["msg"]
    recreated = run["recreated"]
    assert recreated["changed"] is True and recreated["phase"] == "Ready", run.fatal()
    assert recreated["disk"]["metadata"]["uid"] != uid
    assert [w["method"] for w in admin_writes(namespace)] == ["DELETE", "POST"]


def test_failed_and_pvc_lost_fail_fast_with_the_platform_message(play, namespace, sources):
    broken = disk(namespace, "broken", source={"http": {"url": sources["qcow2"]}},
                  annotations={"sandbox.deckhouse.io/disk-error": "disk full"})
    lost = disk(namespace, "lost", size="8Mi", annotations={"sandbox.deckhouse.io/pvc-lost": "true"})
    run = play([{DISK: broken, "register": "failed", "ignore_errors": True},
                {DISK: dict(lost, wait=False), "register": "made"},
                {DISK: lost, "register": "lost", "ignore_errors": True}])
    failed = run["failed"]
    assert failed["failed"] is True and "phase Failed" in failed["msg"] and "disk full" in failed["msg"], failed
    assert failed["duration"] < WAIT / 2 and failed["disk"]["status"]["phase"] == "Failed"
    assert run["lost"]["failed"] is True and "phase PVCLost" in run["lost"]["msg"], run["lost"]
    assert "not found" in run["lost"]["msg"]


def test_blocked_reasons_are_named(play, namespace, kube):
    kube.upload_image(namespace, "never-uploaded")  # a VirtualImage that stays WaitForUserUpload
    run = play([
        {DISK: disk(namespace, "waits", wait_timeout=3,
                    source={"object_ref": {"kind": "VirtualImage", "name": "never-uploaded"}}),
         "register": "image", "ignore_errors": True},
        {DISK: disk(namespace, "no-class", size="8Mi", storage_class="no-such-class", wait_timeout=3),
         "register": "klass", "ignore_errors": True}])
    image, klass = run["image"], run["klass"]
    assert image["failed"] is True and "timed out" in image["msg"], image["msg"]
    assert "blocked: DatasourceReady False/ImageNotReady" in image["msg"], image["msg"]
    # a class that does not exist is refused at admission on the platform (the module says so before writing);
    # StorageClassReady blocks only a disk whose class went away after it was admitted
    assert klass["failed"] is True and klass["msg"].startswith('storage_class: storage class "no-such-class" not '
                                                               "found"), klass["msg"]
    assert kube.get("VirtualDisk", namespace, "no-class") is None


def test_bad_inputs_fail_before_any_write_naming_the_option(play, namespace, sources, admin_writes):
    cases = {
        "negative": (disk(namespace, "d", size="-1Gi"), "size must be greater than 0"),
        "malformed": (disk(namespace, "d", size="ten gigs"), "size must be a size like 10Gi"),
        "two": (disk(namespace, "d", source={"http": {"url": sources["qcow2"]},
                                             "object_ref": {"kind": "VirtualImage", "name": "x"}}),
                "source must have exactly one of"),
        "snapshot": (disk(namespace, "d", source={"object_ref": {"kind": "VirtualDiskSnapshot", "name": "nope"}}),
                     "source.object_ref.name: VirtualDiskSnapshot %s/nope does not exist" % namespace),
        "disk-kind": (disk(namespace, "d", source={"object_ref": {"kind": "VirtualDisk", "name": "x"}}),
                      "value of kind must be one of: VirtualImage, ClusterVirtualImage, VirtualDiskSnapshot"),
        "blank": (disk(namespace, "d"), "size is required for a blank disk"),
    }
    admin_writes.clear()
    run = play([{DISK: task, "register": name.replace("-", "_"), "ignore_errors": True}
                for name, (task, _message) in cases.items()])
    for name, (_task, message) in cases.items():
        result = run[name.replace("-", "_")]
        assert result["failed"] is True and message in result["msg"], (name, result["msg"])
    assert admin_writes.real_anywhere() == []


def test_info_lists_gets_and_summarizes(play, namespace, kube, sources):
    kube.ready_image(namespace, "base", sources["qcow2"])
    play([{DISK: disk(namespace, "a", size="8Mi", labels={"app": "web"})},
          {DISK: disk(namespace, "b", source={"object_ref": {"kind": "VirtualImage", "name": "base"}})}])
    kube.make_vm(namespace, "web", "a", "AlwaysOnUnlessStoppedManually")
    run = play([{INFO: {"namespace": namespace}, "register": "all"},
                {INFO: {"namespace": namespace, "name": "b"}, "register": "one"},
                {INFO: {"namespace": namespace, "label_selectors": ["app=web"]}, "register": "web"},
                {INFO: {"namespace": namespace, "phase": ["Failed"]}, "register": "failed_only"}])
    assert run.rc == 0, run.fatal()
    assert [s["name"] for s in run["all"]["summary"]] == ["a", "b"]
    first = run["all"]["summary"][0]
    assert first["phase"] == "Ready" and first["size"] == "8Mi" and first["capacity"] == "8Mi"
    assert first["storage_class"] == "local-path" and first["source"] == "blank"
    assert first["attached_to"] == ["web"] and first["image_being_made"] is False
    assert [s["source"] for s in run["one"]["summary"]] == ["VirtualImage base"]
    assert [s["name"] for s in run["web"]["summary"]] == ["a"] and run["failed_only"]["disks"] == []


def test_a_storage_class_that_does_not_exist_is_named_before_any_write(play, namespace, admin_writes, sandbox):
    """The platform's vd webhook refuses a disk on a class that does not exist; the module says so first, naming
    the option. Without it (the sandbox as a cluster would answer), the refusal is the platform's, not an RBAC one."""
    run = play([{DISK: disk(namespace, "typo", size="8Mi", storage_class="local-pth"), "register": "typo",
                 "ignore_errors": True}])
    assert run["typo"]["failed"] is True
    assert run["typo"]["msg"].startswith('storage_class: storage class "local-pth" not found; name an existing '
                                         "StorageClass"), run["typo"]["msg"]
    assert admin_writes(namespace) == []
    import requests
    body = {"apiVersion": "virtualization.deckhouse.io/v1alpha2", "kind": "VirtualDisk",
            "metadata": {"name": "typo", "namespace": namespace},
            "spec": {"persistentVolumeClaim": {"size": "8Mi", "storageClassName": "local-pth"}}}
    refused = requests.post("%s/apis/virtualization.deckhouse.io/v1alpha2/namespaces/%s/virtualdisks"
                            % (sandbox.api_url, namespace), json=body, verify=sandbox.ca_path, timeout=30,
                            headers={"Authorization": "Bearer %s" % sandbox.tokens["admin"]})
    assert refused.status_code == 403 and refused.json()["message"].endswith(
        'denied the request: storage class "local-pth" not found')
