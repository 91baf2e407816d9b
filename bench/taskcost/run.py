"""Task cost benchmark: what a task of this collection costs when it changes nothing, against a one-task play of
``ansible.builtin.ping`` run side by side (interleaved, the median of several runs each).

Scenarios (ratio = median seconds of the play / median seconds of the ping play; goal at most GOAL):
  image    one ``virtual_image`` task whose image is already Ready as asked;
  info     one ``virtual_image_info`` task listing a namespace;
  catalog  one ``image_catalog_apply`` task over a catalog of 24 images already in place.

A missed goal is printed as MISSED and the run exits 1, so `make bench` fails on it.
Run: .venv/bin/python bench/taskcost/run.py [--runs 5] (scripts/bench.sh taskcost). Starts its own sandbox in a
temp dir and stops it by PID at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[2]
BIN = REPO / ".venv" / "bin"
GOAL = 1.3
CATALOG_SIZE = 24
sys.path.insert(0, str(REPO))

from sandbox.handle import Sandbox  # noqa: E402


def play(tasks: List[Dict[str, Any]], kubeconfig: str, work: Path, setup: bool = False) -> float:
    """Run a one-play playbook of ``tasks`` on localhost; seconds it took (fails loudly, and when a timed play
    changed something)."""
    path = work / ("play-%d.json" % time.monotonic_ns())
    path.write_text(json.dumps([{"hosts": "localhost", "gather_facts": False, "tasks": tasks,
                                 "module_defaults": {"group/deckhouse.virtualization.virtualization": {
                                     "kubeconfig": kubeconfig}}}]))
    env = dict(os.environ)
    env.update({"ANSIBLE_COLLECTIONS_PATH": str(REPO / ".build" / "collections"), "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_LOCAL_TEMP": str(work / "tmp"), "ANSIBLE_HOME": str(work / "home")})
    for key in [k for k in env if k.startswith("K8S_AUTH_") or k == "KUBECONFIG"]:
        del env[key]
    argv = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
            "-e", "ansible_python_interpreter=%s" % (BIN / "python"), str(path)]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if proc.returncode != 0 or not (setup or "changed=0" in proc.stdout):
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit("benchmark play failed or changed something (rc %d)" % proc.returncode)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    subprocess.run([str(REPO / "scripts" / "link-collection.sh")], check=True)
    with tempfile.TemporaryDirectory(prefix="taskcost-bench-") as tmp:
        work = Path(tmp)
        (work / "tmp").mkdir()
        sb = Sandbox(work / "sandbox")
        try:
            sb.up()
            www = Path(sb.components["fileserver"]["www"])
            http = sb.components["fileserver"]["http_url"]
            (www / "tiny.raw").write_bytes(os.urandom(64 << 10))
            api = sb.dynamic_client().resources.get(api_version="v1", kind="Namespace")
            api.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "cost"}})
            source = {"http": {"url": "%s/tiny.raw" % http}}
            image = {"deckhouse.virtualization.virtual_image": {"name": "one", "namespace": "cost", "source": source}}
            info = {"deckhouse.virtualization.virtual_image_info": {"namespace": "cost"}}
            catalog = {"deckhouse.virtualization.image_catalog_apply": {
                "catalog": "cost", "namespaces": ["cost"],
                "images": [{"name": "c-%02d" % i, "url": "%s/tiny.raw" % http} for i in range(CATALOG_SIZE)]}}
            ping = {"ansible.builtin.ping": {}}
            for setup in (image, catalog):    # in place before anything is timed
                play([setup], sb.kubeconfig, work, setup=True)
            plays = {"ping": [ping], "image": [image], "info": [info], "catalog": [catalog]}
            seconds: Dict[str, List[float]] = {name: [] for name in plays}
            for _ in range(args.runs):
                for name, tasks in plays.items():
                    seconds[name].append(play(tasks, sb.kubeconfig, work))
        finally:
            sb.down()
    base = statistics.median(seconds["ping"])
    print("task cost, median of %d runs each, interleaved; ping play %.2f s" % (args.runs, base))
    missed = []
    labels = {"image": "no-op virtual_image task", "info": "virtual_image_info task",
              "catalog": "no-op image_catalog_apply task, %d images" % CATALOG_SIZE}
    for name, label in labels.items():
        ratio = statistics.median(seconds[name]) / base
        verdict = "ok" if ratio <= GOAL else "MISSED"
        print("  %-48s %6.2f s  %5.2fx ping  (goal <=%gx %s)" % (label, statistics.median(seconds[name]), ratio,
                                                                GOAL, verdict))
        if verdict != "ok":
            missed.append("%s: %.2fx ping" % (label, ratio))
    print("load average at the end: %s" % " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    if missed:
        print("\nbench: %d goal(s) MISSED:\n  %s" % (len(missed), "\n  ".join(missed)))
        raise SystemExit(1)
    print("\nbench: every goal met")


if __name__ == "__main__":
    main()
