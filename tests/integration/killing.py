"""Killing playbook runs at chosen moments, for the kill-at-random-points suite (test_killed_runs.py).

A kill point is a trigger (a condition on the sandbox's state: the n-th audited request of a kind, an object's
phase, bytes through the upload proxy) plus a delay after it; both are drawn from a random generator seeded with
CHAOS_SEED (default SEED), so a failing point replays with the same seed. The killer polls the trigger every
POLL seconds (a condition on the server's state with a deadline, not a sleep-and-hope), then sends SIGKILL to the
playbook's whole process tree (ansible-playbook, its workers, which call setsid, the module and its threads) and
checks that none of them is left.
"""
from __future__ import annotations

import os
import random
import signal
import socket
import socketserver
import threading
import time
from typing import Any, Callable, Dict, List, NamedTuple

SEED = 19
REPORT_PROPERTY = "kill_report"  # each test's Report, printed at the end of the session (conftest.py)
POLL = 0.02
TRIGGER_TIMEOUT = 120.0


def seed() -> int:
    """CHAOS_SEED from the environment, else SEED."""
    return int(os.environ.get("CHAOS_SEED", SEED))


def rng_for(scenario: str) -> random.Random:
    """One generator per scenario, so adding points to one scenario leaves the others' points as they were."""
    return random.Random("%d/%s" % (seed(), scenario))


class Trigger(NamedTuple):
    """What must have happened before the kill, as printed, and the probe that says it has."""

    what: str
    fired: Callable[[], bool]


class Point(NamedTuple):
    """One kill point of a scenario."""

    phase: str      # what the run was doing: planning, creating, waiting, ...
    trigger: Trigger
    delay: float    # seconds after the trigger fired

    def describe(self) -> str:
        return "%s: %s, then %.2fs" % (self.phase, self.trigger.what, self.delay)


def audited(sandbox: Any, method: str, resource: str, count: int, verb: str = "") -> Trigger:
    """The sandbox's audit holds ``count`` successful admin requests of a method (and verb) to a resource."""
    def fired() -> bool:
        return sum(1 for item in sandbox.audit() if item.get("user") == "admin" and item.get("method") == method
                   and item.get("resource") == resource and (not verb or item.get("verb") == verb)
                   and item.get("code", 500) < 400) >= count
    what = "%s %s %s no. %d" % (method, verb or "", resource, count)
    return Trigger(" ".join(what.split()), fired)


def _parents() -> Dict[int, int]:
    """pid -> parent pid of every live process (zombies left out)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] != "Z":
                parents[int(entry)] = int(fields[1])
    return parents


def _tree(root: int) -> List[int]:
    """The root and every live descendant (Ansible's workers call setsid: a process group is not enough)."""
    parents = _parents()
    found, frontier = {root} if root in parents else set(), [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier and pid not in found]
        found.update(children)
        frontier = children
    return sorted(found)


def kill_tree(root: int) -> List[int]:
    """SIGSTOP the whole tree until no new process appears (none can fork away meanwhile), then SIGKILL it all;
    the pids killed."""
    stopped: List[int] = []
    while True:
        fresh = [pid for pid in _tree(root) if pid not in stopped]
        if not fresh:
            break
        for pid in fresh:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped.extend(fresh)
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return stopped


class Killer:
    """``play(..., until=killer)``: wait for the point's trigger, then its delay, then SIGKILL the group."""

    def __init__(self, point: Point) -> None:
        self.point = point
        self.killed_after = 0.0    # seconds from the start of the run to the kill
        self.outcome = ""

    def __call__(self, proc: Any) -> None:
        started = time.monotonic()
        deadline = started + TRIGGER_TIMEOUT
        while not self.point.trigger.fired():
            if proc.poll() is not None:
                raise AssertionError("the run ended (rc %s) before %s" % (proc.returncode, self.point.trigger.what))
            if time.monotonic() > deadline:
                raise AssertionError("%s did not happen within %ss" % (self.point.trigger.what, TRIGGER_TIMEOUT))
            time.sleep(POLL)
        stop = time.monotonic() + self.point.delay
        while time.monotonic() < stop and proc.poll() is None:
            time.sleep(POLL)
        if proc.poll() is not None:
            raise AssertionError("the run ended (rc %s) within %.2fs of %s: the point is too late"
                                 % (proc.returncode, self.point.delay, self.point.trigger.what))
        killed = kill_tree(proc.pid)
        proc.wait(timeout=30)
        self.killed_after = time.monotonic() - started
        deadline = time.monotonic() + 10
        left = [pid for pid in killed if pid in _parents()]
        while left and time.monotonic() < deadline:   # SIGKILL is delivered; their parents reap them shortly
            time.sleep(POLL)
            left = [pid for pid in killed if pid in _parents()]
        assert not left, "processes of the killed run still alive: %s" % left
        self.outcome = "killed %d processes after %.2fs" % (len(killed), self.killed_after)


class Report:
    """What each point checked, printed as a table with the seed."""

    def __init__(self, scenario: str) -> None:
        self.scenario = scenario
        self.rows: List[Dict[str, Any]] = []

    def add(self, point: Point, killer: Killer, checks: List[str]) -> None:
        self.rows.append({"point": point.describe(), "kill": killer.outcome, "checks": checks})

    def text(self) -> str:
        lines = ["kill-at-random: %s (CHAOS_SEED=%d; replay: CHAOS_SEED=%d make chaos)"
                 % (self.scenario, seed(), seed())]
        for row in self.rows:
            lines.append("  point  %s -> %s" % (row["point"], row["kill"]))
            lines.extend("    ok   %s" % check for check in row["checks"])
        return "\n".join(lines)


class ThrottledProxy:
    """A TCP proxy in front of an upload endpoint: forwards at ``rate`` bytes/s and counts the request's bytes
    (``passed``), so a run can be killed mid-stream at a chosen byte. The upstream is looked up for each
    connection (``upstream()`` -> (host, port)): a recreated image has a new URL."""

    def __init__(self, upstream: Callable[[], Any], rate: int) -> None:
        self.upstream = upstream
        self.rate = rate
        self.answered = threading.Event()
        self.hold_answer = False
        self.passed = 0
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/upload" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arm(self, hold_answer: bool = False) -> None:
        """Count from zero; with ``hold_answer`` the server's answer is kept from the client (``answered`` is set
        instead), so that a run can be killed after the server stored the upload and before the module learnt it."""
        self.passed, self.hold_answer = 0, hold_answer
        self.answered.clear()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.upstream(), timeout=30)
        except OSError:
            client.close()
            return
        threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()
        self._pump(client, upstream, True)

    def _pump(self, source: socket.socket, sink: socket.socket, counted: bool) -> None:
        chunk = 64 * 1024
        try:
            while True:
                data = source.recv(chunk)
                if not data:
                    break
                if not counted and self.hold_answer:
                    self.answered.set()
                    continue
                sink.sendall(data)
                if counted:
                    self.passed += len(data)
                    time.sleep(len(data) / float(self.rate))   # the throttle itself
        except OSError:
            pass
        finally:
            for sock in (source, sink):   # one side gone: the other learns it at once
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
