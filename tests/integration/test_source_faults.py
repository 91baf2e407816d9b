"""Source faults through the modules: a source that drops halfway (retried, then Failed after the retry
window), one that fails twice then serves (retried to Ready), one slow to answer, and a DVCR outage
during an import (held in Provisioning, Ready once it returns). The modules report each truthfully.

What was injected is asserted, not only what the modules reported: each fault source is a file of its own on the
sandbox's file server, whose `/stats` count the requests that reached each file and the bytes sent: the dropping
source was asked at least twice (retried) and never sent more than half of it each time; the flaky one (the first
two requests of its URL answered 500, then served) sent the whole file once, so its two 500s were answered and
retried; the slow one was asked once and held its first byte for its seconds. The DVCR outage really stopped
DVCR, and the image was Ready only after it came back.
"""
from __future__ import annotations

import datetime
import json
import shutil
import threading
import urllib.request
from pathlib import Path
from typing import Any, Dict

from sandbox import supervisor
from sandbox.components import UpOptions, by_name

VI = "deckhouse.virtualization.virtual_image"
WINDOW = {"sandbox.deckhouse.io/retry-window": "3"}
SLOW = 2  # seconds the slow source holds its first byte


def _stats(sandbox: Any) -> Dict[str, Dict[str, int]]:
    with urllib.request.urlopen(sandbox.components["fileserver"]["http_url"] + "/stats", timeout=10) as answer:
        return json.loads(answer.read())


def _source(sandbox: Any, name: str) -> str:
    """A copy of the session's raw disk under a name of this test's own: the file server counts per file."""
    www = Path(sandbox.components["fileserver"]["www"])
    shutil.copyfile(www / "it-disk.raw", www / name)
    return name


def test_source_faults_are_retried_or_reported(play, sandbox, namespace, sources):
    base = sources["raw"].rsplit("/", 1)[0]
    drop, flaky, slow = (_source(sandbox, "%s-%s.raw" % (namespace, what)) for what in ("drop", "flaky", "slow"))
    size = (Path(sandbox.components["fileserver"]["www"]) / drop).stat().st_size
    image = {"namespace": namespace, "wait_timeout": 90}
    run = play([
        {VI: dict(image, name="drops", annotations=WINDOW, source={"http": {"url": base + "/fault/drop/" + drop}}),
         "register": "drops", "ignore_errors": True},
        {VI: dict(image, name="flaky", annotations={"sandbox.deckhouse.io/retry-window": "60"},
                  source={"http": {"url": base + "/fault/flaky/2/" + flaky}}), "register": "flaky"},
        {VI: dict(image, name="slow", source={"http": {"url": "%s/fault/slow/%d/%s" % (base, SLOW, slow)}}),
         "register": "slow"},
    ])
    drops = run["drops"]
    assert drops["failed"] is True and "phase Failed" in drops["msg"], drops
    assert drops["image"]["status"]["phase"] == "Failed"
    assert run["flaky"]["changed"] is True and run["flaky"]["phase"] == "Ready", run["flaky"]
    assert run["slow"]["changed"] is True and run["slow"]["phase"] == "Ready", run["slow"]
    stats = _stats(sandbox)
    asked, sent = stats["requests"], stats["bytes"]
    assert asked.get(drop, 0) >= 2, asked   # dropped halfway, and retried at least once within the window
    assert sent.get(drop, 0) <= asked[drop] * (size // 2), (sent.get(drop), asked[drop], size)   # never whole
    # the file server counts a flaky URL's request only once it serves it: the two 500s before it were answered
    assert (asked.get(flaky), sent.get(flaky)) == (1, size), (asked.get(flaky), sent.get(flaky), size)
    assert (asked.get(slow), sent.get(slow)) == (1, size), (asked.get(slow), sent.get(slow), size)
    assert run["slow"]["duration"] >= SLOW, run["slow"]["duration"]


def test_registry_outage_holds_the_import_until_it_returns(play, sandbox, kube, namespace, sources):
    assert supervisor.stop_component(sandbox.state, "dvcr"), "DVCR was not running: no outage was injected"
    errors, back = [], {}

    def bring_back() -> None:
        try:
            kube.poll_phase("VirtualImage", "outage", namespace, "Provisioning", timeout=60)
        except Exception as exc:  # reported below
            errors.append(repr(exc))
        finally:
            supervisor.start_component(sandbox.state, by_name("dvcr"), UpOptions())
            back["at"] = datetime.datetime.now(datetime.timezone.utc)

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
    conditions = (kube.get("VirtualImage", namespace, "outage") or {})["status"]["conditions"]
    ready = next(c for c in conditions if c["type"] == "Ready")
    became = datetime.datetime.strptime(ready["lastTransitionTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    # held until DVCR returned: Ready (whole seconds on the server) no earlier than the second DVCR came back in
    assert ready["status"] == "True" and became >= back["at"].replace(microsecond=0), (ready, back)
