"""Killing playbook runs at chosen moments, for the kill-at-random-points suite (test_killed_runs.py).

A kill point is a trigger (a condition on the sandbox's state: the n-th audited request of a kind, an object's
phase, bytes through the upload proxy) plus a delay after it; both are drawn from a random generator seeded with
CHAOS_SEED (default SEED), so a failing point replays with the same seed. The killer polls the trigger every
POLL seconds (a condition on the server's state with a deadline, not a sleep-and-hope), then sends SIGKILL to the
playbook's whole process tree (ansible-playbook, its workers, which call setsid, the module and its threads) and
checks that none of them is left. A point may instead kill ansible-playbook alone (``group_only``: SIGKILL to its
process group, as a user's `kill -9` of the playbook or Ctrl-C of a terminal does): Ansible's workers started
sessions of their own, so they and the modules they run go on, orphaned, beside the run that repairs. The killer
names them (``orphans``) and ``wait_orphans`` waits for them to end (or fails, killing them, at its deadline).

What the repairing run wrote is checked too (``check_repair``): the objects after the kill and after the repair
(``seen``) and the sandbox's audit of the repair. An object that was already right (not failed nor being
deleted, and its labels, annotations, owners, spec or data the same before and after) must keep its uid (not
deleted and made again) and get no write at all; what was missing may be created, what was not right changed.

The labels and annotations the checks read are the collection's own constants, imported from its module_utils
(``collection``), never copied: a renamed label cannot leave a check looking for a name nobody writes.
"""
from __future__ import annotations

import importlib
import json
import os
import random
import signal
import socket
import socketserver
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Tuple

SEED = 19
REPORT_PROPERTY = "kill_report"  # each test's Report, printed at the end of the session (conftest.py)
POLL = 0.02
TRIGGER_TIMEOUT = 120.0
REPO = Path(__file__).resolve().parents[2]
COLLECTION = "ansible_collections.deckhouse.virtualization.plugins.module_utils."
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def collection(name: str) -> ModuleType:
    """The collection's module_utils module ``name`` (``common.labels``), imported from this checkout through the
    link tree the suites use (``.build/collections``, as conftest.py's ``collections_root`` makes it)."""
    root = REPO / ".build" / "collections"
    link = root / "ansible_collections" / "deckhouse" / "virtualization"
    if not link.is_symlink() or Path(os.readlink(link)) != REPO:
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(REPO)
        except OSError:   # another worker made it meanwhile
            pass
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module(COLLECTION + name)


_KINDS = collection("common.kinds")
_LABELS = collection("common.labels")
OWNED_SECRET_LABEL = _KINDS.OWNED_SECRET_LABEL            # on (and annotating) a pull Secret a module made
CATALOG_LABEL = _LABELS.CATALOG_LABEL
FANOUT_LABEL = _LABELS.FANOUT_LABEL
TRACK_LABEL = _LABELS.TRACK_LABEL
NEWEST_LABEL = _LABELS.NEWEST_LABEL
NEWEST_VALUE = _LABELS.NEWEST_VALUE
UPLOAD_RECORD = collection("transfer.upload").ANNOTATION  # what an upload recorded (or its sending mark)
STOPPED_BY = collection("machines.power").STOPPED_BY     # the mark on a VM a module stopped
FAILED_PHASES = _KINDS.TERMINAL_FAILURE_PHASES


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
    group_only: bool = False   # kill ansible-playbook's process group alone; its workers and modules go on

    def describe(self) -> str:
        how = ", ansible-playbook alone" if self.group_only else ""
        return "%s: %s, then %.2fs%s" % (self.phase, self.trigger.what, self.delay, how)


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


def _group_of(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return -1


def kill_group(root: int) -> Tuple[List[int], List[int]]:
    """SIGKILL the process group ``root`` leads (ansible-playbook started in a session of its own) and nothing else:
    (pids killed, pids of the tree left running, each in a session of its own, with their children)."""
    tree = _tree(root)
    group = [pid for pid in tree if _group_of(pid) == root]
    os.killpg(root, signal.SIGKILL)
    return group, [pid for pid in tree if pid not in group]


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
        self._left: List[int] = []   # with group_only: the processes the kill left running

    def orphans(self) -> List[int]:
        """What the kill left running, and every process they started since: live pids."""
        found: set = set()
        for pid in self._left:
            found.update(_tree(pid))
        return sorted(found)

    def wait_orphans(self, timeout: float) -> float:
        """Seconds until every orphan ended (their work done, or their parent gone); at the deadline they are
        killed and the wait fails."""
        started = time.monotonic()
        deadline = started + timeout
        while self.orphans():
            if time.monotonic() > deadline:
                left = self.orphans()
                for pid in left:
                    kill_tree(pid)
                gone = time.monotonic() + 10   # SIGKILL is delivered; whoever adopted them reaps them shortly
                while self.orphans() and time.monotonic() < gone:
                    time.sleep(POLL)
                raise AssertionError("the killed run's orphaned processes %s did not end within %ss" % (left, timeout))
            time.sleep(POLL)
        return time.monotonic() - started

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
        if self.point.group_only:
            killed, self._left = kill_group(proc.pid)
        else:
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
        if self.point.group_only:
            # The point is about a module going on beside the repair: one must be left, or it tested nothing.
            assert self.orphans(), "killing ansible-playbook's group alone left no worker or module running"
            self.outcome += " (ansible-playbook's group; %d processes of its workers went on)" % len(self.orphans())


# -- what the repairing run wrote ------------------------------------------------------------------------------
Key = Tuple[str, str, str]   # (resource, namespace or "", name), as the audit names an object


class Seen(NamedTuple):
    """One object as a check of the repair needs it."""

    uid: str
    content: str     # what clients write: labels, annotations, ownerReferences, spec, data, type (as JSON)
    settled: bool    # neither failed nor being deleted: it can be right as it is


def seen(listing: Mapping[str, Iterable[Mapping[str, Any]]]) -> Dict[Key, Seen]:
    """resource (``virtualimages``) -> its objects, as {key: Seen}."""
    found: Dict[Key, Seen] = {}
    for resource, objects in listing.items():
        for obj in objects:
            meta = obj.get("metadata") or {}
            content = {"labels": meta.get("labels") or {}, "annotations": meta.get("annotations") or {},
                       "ownerReferences": meta.get("ownerReferences") or []}
            content.update({field: obj[field] for field in ("spec", "data", "type") if field in obj})
            phase = (obj.get("status") or {}).get("phase")
            found[(resource, meta.get("namespace") or "", meta["name"])] = Seen(
                meta.get("uid") or "", json.dumps(content, sort_keys=True),
                not meta.get("deletionTimestamp") and phase not in FAILED_PHASES)
    return found


def writes_in(audit: Iterable[Mapping[str, Any]], user: str = "admin") -> List[Tuple[str, Key]]:
    """(method, key) of every successful write of ``user`` in an audit (dry runs left out; a create's name is
    empty: it names its collection)."""
    return [(item["method"], (item.get("resource") or "", item.get("namespace") or "", item.get("name") or ""))
            for item in audit if item.get("user") == user and item.get("method") in WRITES
            and not item.get("dryRun") and item.get("code", 500) < 400]


def _named(key: Key) -> str:
    return "%s %s" % (key[0], "/".join(part for part in key[1:] if part))


def check_repair(before: Mapping[Key, Seen], after: Mapping[Key, Seen],
                 audit: Iterable[Mapping[str, Any]]) -> List[str]:
    """Raise AssertionError unless the repair (``audit``: its requests) left every object that was already right
    ``before`` it as it was: same uid (not deleted and made again), no write to it. What it wrote, as printed."""
    writes = writes_in(audit)
    right = [key for key, was in before.items()
             if was.settled and key in after and after[key].content == was.content]
    wrong = ["%s: deleted and created again although it was already right" % _named(key)
             for key in right if after[key].uid != before[key].uid]
    wrong += ["%s: %s although it was already right" % (_named(key), method)
              for method, key in writes if key in right]
    created = sorted(_named(key) for key in after if key not in before)
    remade = sorted(_named(key) for key in after if key in before and after[key].uid != before[key].uid)
    changed = sorted(_named(key) for key in after if key in before and key not in right)
    deleted = sorted(_named(key) for key in before if key not in after)
    posts = sum(1 for method, _key in writes if method == "POST")
    if posts != len(created) + len(remade):   # a create that left nothing behind, or an object nobody sent
        wrong.append("%d creates sent, but %d objects are new (%s) and %d made again (%s)" % (
            posts, len(created), ", ".join(created) or "none", len(remade), ", ".join(remade) or "none"))
    assert not wrong, "the repairing run wrote what it should have left alone:\n  " + "\n  ".join(wrong)
    return ["repair: %d writes; created %s; made again %s; changed %s; gone %s" % (
        len(writes), ", ".join(created) or "nothing", ", ".join(remade) or "nothing", ", ".join(changed) or "nothing",
        ", ".join(deleted) or "nothing"),
        "repair: %d objects already right kept (same uid, no write to any)" % len(right)]


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
