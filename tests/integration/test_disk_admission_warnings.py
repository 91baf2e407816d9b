"""The platform's admission warnings on a VirtualDisk reach the user of virtual_disk as task warnings (the client
relays every Warning header), and the failure they announce arrives fast in the platform's words.

Runs on both platform lines (DVP_SANDBOX_PLATFORM=v1.10 too): the disk webhook warns alike on both."""
from __future__ import annotations

DISK = "deckhouse.virtualization.virtual_disk"
WAIT = 60
ISO_WARNING = ("Creating a virtual disk from an ISO image is not supported: please use a virtual image or a cluster "
               "virtual image instead")


def test_a_disk_from_an_iso_image_shows_the_webhook_warning_and_fails_fast(play, namespace, kube, sources):
    """Then the source fixed converges: the Failed disk takes the new source and becomes Ready, with no warning."""
    kube.ready_image(namespace, "installer", sources["iso"])
    kube.ready_image(namespace, "root-image", sources["qcow2"])
    task = {"name": "from-iso", "namespace": namespace, "wait_timeout": WAIT,
            "source": {"object_ref": {"kind": "VirtualImage", "name": "installer"}}}
    run = play([{DISK: task, "register": "made", "ignore_errors": True}])
    made = run["made"]
    assert made["failed"] is True and made["duration"] < WAIT / 2, made
    assert "phase Failed" in made["msg"] and ISO_WARNING + "." in made["msg"], made["msg"]
    assert [w for w in made.get("warnings", []) if w.startswith("the API server warns: ")] == [
        "the API server warns: " + ISO_WARNING], made
    fixed = play([{DISK: dict(task, source={"object_ref": {"kind": "VirtualImage", "name": "root-image"}}),
                   "register": "fixed"}])["fixed"]
    assert fixed["changed"] is True and fixed["phase"] == "Ready", fixed
    assert not [w for w in fixed.get("warnings", []) if w.startswith("the API server warns: ")], fixed
