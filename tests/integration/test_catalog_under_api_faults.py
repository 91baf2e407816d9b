"""API faults during a catalog run: 5% 500s, 2% 429s with Retry-After (at random, and every ERROR_EVERY-th and
THROTTLE_EVERY-th request as well, so that each is injected whatever the draw), watch streams cut every few
seconds, and one API server restart plus one controller restart in the middle of the run.

The run must end with every image Ready, no duplicate creates, no orphans, `changed` true; a second
run (faults still on, now on the collection's own requests only, and every 2nd and 3rd of them deterministically
too) reports no change and writes nothing. What was injected is counted from the sandbox's audit (every answer's
code; the sandbox answers 500 and 429 only when injecting) and asserted: in each run at least one 500 and one 429,
and at least as many as the deterministic settings alone give. Then it is printed as a table.
"""
from __future__ import annotations

import math
import threading
import time
from collections import Counter
from typing import Any, Dict, List

import pytest

API = "virtualization.deckhouse.io/v1alpha2"
APPLY = "deckhouse.virtualization.image_catalog_apply"
ERROR_EVERY, THROTTLE_EVERY = 50, 60
FAULTS = {"error_rate": 0.05, "throttle_rate": 0.02, "retry_after": 1, "watch_cut": 3,
          "error_every": ERROR_EVERY, "throttle_every": THROTTLE_EVERY}
# The no-op run: the module's requests only (a no-op run makes few), every 2nd a 500 and every 3rd a 429.
MINE, MINE_ERROR_EVERY, MINE_THROTTLE_EVERY = "admin", 2, 3


def _names(k8s: Any, namespace: str) -> List[Dict[str, Any]]:
    return k8s.resources.get(api_version=API, kind="VirtualImage").get(namespace=namespace).to_dict()["items"]


class Restarter(threading.Thread):
    """Restarts the API server once the run has created an image, then the controller once an import runs."""

    def __init__(self, sandbox: Any, k8s: Any, namespace: str, timeout: float = 90) -> None:
        super().__init__(daemon=True)
        self.sandbox, self.k8s, self.namespace, self.timeout = sandbox, k8s, namespace, timeout
        self.done: List[str] = []
        self.error = ""

    def _wait(self, probe: Any) -> bool:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if probe():
                    return True
            except Exception:  # the API may be restarting or faulting: keep polling
                pass
            time.sleep(0.1)
        return False

    def run(self) -> None:
        try:
            if not self._wait(lambda: len(_names(self.k8s, self.namespace)) >= 1):
                self.error = "no image was created"
                return
            self.sandbox.restart("api")
            self.done.append("api")
            if not self._wait(lambda: any((o.get("status") or {}).get("phase") == "Provisioning"
                                          for o in _names(self.k8s, self.namespace))):
                self.error = "no import was in flight for the controller restart"
                return
            self.sandbox.restart("controller")
            self.done.append("controller")
        except Exception as exc:  # reported by the test
            self.error = repr(exc)


def _table(rows: List[List[Any]]) -> str:
    return "\n".join("  %-34s %s" % (str(a), b) for a, b in rows)


def catalog_under_faults(play: Any, sandbox: Any, k8s: Any, namespace: str, sources: Dict[str, str],
                         count: int, rate: int, capsys: Any) -> None:
    images = [{"name": "chaos-%02d" % i, "url": "%s?rate=%d&n=%d" % (sources["raw"], rate, i)} for i in range(count)]
    task = {APPLY: {"namespaces": [namespace], "catalog": "chaos", "images": images, "wait_timeout": 240},
            "register": "first"}
    sandbox.clear_audit()
    sandbox.set_faults(**FAULTS)
    restarter = Restarter(sandbox, k8s, namespace)
    restarter.start()
    try:
        first = play([task])
        restarter.join(timeout=120)
        audit_first = sandbox.audit()  # kept across the API restart (the sandbox persists it)
        sandbox.clear_audit()
        sandbox.set_faults(only_users=[MINE], error_every=MINE_ERROR_EVERY, throttle_every=MINE_THROTTLE_EVERY)
        second = play([dict(task, register="second")])
        audit_second = sandbox.audit()
    finally:
        sandbox.set_faults(clear=True)
    assert restarter.done == ["api", "controller"], restarter.error
    assert first.rc == 0, first.stdout[-3000:]
    assert first["first"]["changed"] is True
    objs = _names(k8s, namespace)
    assert sorted(o["metadata"]["name"] for o in objs) == [i["name"] for i in images]  # no orphans, none lost
    assert all(o["status"]["phase"] == "Ready" for o in objs), [(o["metadata"]["name"], o["status"]) for o in objs]
    created = [a for a in audit_first if a.get("user") == "admin" and a.get("method") == "POST"
               and a.get("code") == 201 and a.get("resource") == "virtualimages"]
    assert len(created) == count, created  # one create per image: none repeated, none lost
    assert second.rc == 0, second.stdout[-3000:]
    assert second["second"]["changed"] is False
    assert [a for a in audit_second if a.get("user") == "admin" and a.get("method") in ("POST", "PUT", "PATCH", "DELETE")
            and a.get("code", 0) < 400] == []
    # The first run: the audit holds every request the faults applied to (the /sandbox endpoints are neither), the
    # restart began the count again. A stretch of L requests holds L // N deterministic hits (a 429 none where a
    # 500 is due too); a lower bound over the stretches, less one for requests seen before the faults were set.
    codes = Counter(a.get("code") for a in audit_first)
    mine = Counter(a.get("code") for a in audit_first if a.get("user") == MINE)
    total = len(audit_first)
    floor_500 = total // ERROR_EVERY - 3
    floor_429 = total // THROTTLE_EVERY - total // math.lcm(ERROR_EVERY, THROTTLE_EVERY) - 4
    assert codes.get(500, 0) >= max(1, floor_500), (codes, total)
    assert codes.get(429, 0) >= max(1, floor_429), (codes, total)
    # The no-op run: the faults applied to the module's requests alone, each one of them in the audit.
    noop = Counter(a.get("code") for a in audit_second if a.get("user") == MINE)
    asked = sum(noop.values())
    assert noop.get(500, 0) >= max(1, asked // MINE_ERROR_EVERY), (noop, asked)
    assert noop.get(429, 0) >= max(1, asked // MINE_THROTTLE_EVERY - asked // math.lcm(
        MINE_ERROR_EVERY, MINE_THROTTLE_EVERY)), (noop, asked)
    watches = sum(1 for a in audit_first + audit_second if a.get("verb") == "watch")
    with capsys.disabled():
        print("\nreliability: catalog under API faults\n" + _table([
            ["first run: requests (all / the module's)", "%d / %d" % (total, sum(mine.values()))],
            ["first run: 500 InternalError", "%d (the module's: %d)" % (codes.get(500, 0), mine.get(500, 0))],
            ["first run: 429 Retry-After", "%d (the module's: %d)" % (codes.get(429, 0), mine.get(429, 0))],
            ["no-op run: the module's requests", asked],
            ["no-op run: 500 / 429 to them", "%d / %d" % (noop.get(500, 0), noop.get(429, 0))],
            ["faults: watch streams (cut every %ss)" % FAULTS["watch_cut"], watches],
            ["restarts", ", ".join(restarter.done)], ["playbook runs completed", 2],
            ["objects checked (Ready, unique)", len(objs)], ["objects lost / orphaned / duplicated", 0]]))


def test_catalog_survives_api_faults_and_restarts(play, sandbox, k8s, namespace, sources, capsys):
    catalog_under_faults(play, sandbox, k8s, namespace, sources, count=4, rate=2 * 1024 * 1024, capsys=capsys)


@pytest.mark.slow
def test_large_catalog_survives_api_faults_and_restarts(play, sandbox, k8s, namespace, sources, capsys):
    catalog_under_faults(play, sandbox, k8s, namespace, sources, count=12, rate=1024 * 1024, capsys=capsys)
