"""Source faults through the modules: a source that drops halfway (retried, then Failed after the retry
window), one that fails twice then serves (retried to Ready), one slow to answer, and a DVCR outage
during an import (held in Provisioning, Ready once it returns). The modules report each truthfully.
"""
from __future__ import annotations

import threading

from sandbox import supervisor
from sandbox.components import UpOptions, by_name

VI = "deckhouse.virtualization.virtual_image"
WINDOW = {"sandbox.deckhouse.io/retry-window": "3"}


def test_source_faults_are_retried_or_reported(play, namespace, sources):
    base = sources["raw"].rsplit("/", 1)[0]
    image = {"namespace": namespace, "wait_timeout": 90}
    run = play([
        {VI: dict(image, name="drops", annotations=WINDOW, source={"http": {"url": base + "/fault/drop/it-disk.raw"}}),
         "register": "drops", "ignore_errors": True},
        {VI: dict(image, name="flaky", annotations={"sandbox.deckhouse.io/retry-window": "60"},
                  source={"http": {"url": base + "/fault/flaky/2/it-disk.raw"}}), "register": "flaky"},
        {VI: dict(image, name="slow", source={"http": {"url": base + "/fault/slow/2/it-disk.raw"}}), "register": "slow"},
    ])
    drops = run["drops"]
    assert drops["failed"] is True and "phase Failed" in drops["msg"], drops
    assert drops["image"]["status"]["phase"] == "Failed"
    assert run["flaky"]["changed"] is True and run["flaky"]["phase"] == "Ready", run["flaky"]
    assert run["slow"]["changed"] is True and run["slow"]["phase"] == "Ready", run["slow"]


def test_registry_outage_holds_the_import_until_it_returns(play, sandbox, kube, namespace, sources):
    supervisor.stop_component(sandbox.state, "dvcr")
    errors = []

    def bring_back() -> None:
        try:
            kube.poll_phase("VirtualImage", "outage", namespace, "Provisioning", timeout=60)
        except Exception as exc:  # reported below
            errors.append(repr(exc))
        finally:
            supervisor.start_component(sandbox.state, by_name("dvcr"), UpOptions())

    thread = threading.Thread(target=bring_back, daemon=True)
    thread.start()
    try:
        run = play([{VI: {"name": "outage", "namespace": namespace, "source": {"http": {"url": sources["qcow2"]}},
                          "wait_timeout": 90}, "register": "outage"}])
    finally:
        thread.join(timeout=90)
    assert not errors, errors
    assert run.rc == 0, run.stdout[-2000:]
    assert run["outage"]["changed"] is True and run["outage"]["phase"] == "Ready"
    assert "Provisioning" in [p["phase"] for p in run["outage"]["phases"]]
