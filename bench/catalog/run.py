"""Catalog benchmark: the image_catalog role against kubernetes.core, side by side on one sandbox.

Scenarios (each a ratio against a baseline measured in the same run):
  seed   N images of SIZE MiB from a bandwidth-capped source (file server `?rate=`), one namespace:
         the role vs kubernetes.core image by image (k8s, then k8s_info until Ready) and vs
         kubernetes.core in two loops (k8s over all, then k8s_info over all).
  noop   a re-run of a catalog already in place, E entries x 4 namespaces: wall time and writes.
  tracks the same re-run with checksums read from a few shared sums files and every 4th entry a track (keep),
         against the same catalog with the digests inline: wall time, GETs per sums file, writes, lists.
  fanout E distinct sources x 4 namespaces with fanout=cluster vs none: bytes the source served, per distinct
         source (goal with fanout=cluster: at most 1.0x the source's size for every source: each fetched once).

Every goal is checked: a missed one is printed as MISSED and the run exits 1 (after the whole table), so
`make bench` fails on it.

Run: .venv/bin/python bench/catalog/run.py [--images 20] [--size-mib 64] [--rate-mib 16] [--noop-entries 25]
(scripts/bench.sh catalog). Starts its own sandbox in a temp dir and stops it by PID at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
BIN = REPO / ".venv" / "bin"
CATALOG_LABEL = "virtualization.deckhouse.io/ansible-catalog"
WRITES = ("POST", "PUT", "PATCH", "DELETE")
FANOUT_GOAL = 1.0   # fanout=cluster: bytes served per distinct source, at most this many times its size
sys.path.insert(0, str(REPO))

from sandbox.handle import Sandbox  # noqa: E402


def playbook(name: str, variables: Dict[str, Any], work: Path) -> float:
    """Run one benchmark playbook; seconds it took (fails loudly)."""
    vars_file = work / ("vars-%d.json" % time.monotonic_ns())
    vars_file.write_text(json.dumps(variables))
    env = dict(os.environ)
    env.update({"ANSIBLE_COLLECTIONS_PATH": "%s:%s" % (REPO / ".build" / "collections", REPO / ".cache" / "collections"),
                "ANSIBLE_NOCOLOR": "1", "ANSIBLE_LOCAL_TEMP": str(work / "tmp"), "ANSIBLE_HOME": str(work / "home"),
                "PATH": "%s:%s" % (BIN, env.get("PATH", ""))})
    for key in [k for k in env if k.startswith("K8S_AUTH_") or k == "KUBECONFIG"]:
        del env[key]
    argv = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
            "-e", "ansible_python_interpreter=%s" % (BIN / "python"), "-e", "@%s" % vars_file, str(HERE / name)]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
        raise SystemExit("benchmark playbook %s failed (rc %d)" % (name, proc.returncode))
    return seconds


def writes(sb: Sandbox, namespaces: List[str]) -> int:
    return len([i for i in sb.audit() if i.get("user") == "admin" and i.get("method") in WRITES
                and (i.get("namespace") or "") in namespaces and not i.get("dryRun")])


def fileserver_stats(sb: Sandbox, reset: bool = False) -> Dict[str, Any]:
    url = sb.components["fileserver"]["http_url"] + "/stats"
    req = urllib.request.Request(url, method="DELETE" if reset else "GET")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def make_namespaces(sb: Sandbox, names: List[str]) -> None:
    api = sb.dynamic_client().resources.get(api_version="v1", kind="Namespace")
    for name in names:
        api.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})


def sources(www: Path, prefix: str, count: int, size: int) -> List[str]:
    """``count`` file names under www/ that all hold one random file of ``size`` bytes (symlinks)."""
    target = www / ("%s-data.raw" % prefix)
    with open(target, "wb") as stream:
        left = size
        while left > 0:
            chunk = min(left, 4 << 20)
            stream.write(os.urandom(chunk))
            left -= chunk
    names = []
    for index in range(count):
        link = www / ("%s-%02d.raw" % (prefix, index))
        if not link.exists():
            link.symlink_to(target.name)
        names.append(link.name)
    return names


def seed(sb: Sandbox, work: Path, base: Dict[str, Any], args: argparse.Namespace, www: Path, http: str) -> List[Tuple]:
    rate = args.rate_mib << 20
    files = sources(www, "seed", args.images, args.size_mib << 20)
    images = [{"name": "img-%02d" % i, "url": "%s/%s?rate=%d" % (http, f, rate)} for i, f in enumerate(files)]
    make_namespaces(sb, ["seed-ours", "seed-k8s", "seed-k8s-batch"])
    ours = playbook("ours.yml", dict(base, bench_namespaces=["seed-ours"], bench_images=images), work)
    serial = playbook("baseline.yml", dict(base, bench_namespaces=["seed-k8s"], bench_images=images), work)
    batch = playbook("baseline_batch.yml", dict(base, bench_namespaces=["seed-k8s-batch"], bench_images=images), work)
    what = "seed %d x %d MiB (cap %d MiB/s per connection)" % (args.images, args.size_mib, args.rate_mib)
    return [(what + ", vs k8s image by image", ours, serial, 10.0),
            (what + ", vs k8s in two loops", ours, batch, None)]


def noop(sb: Sandbox, work: Path, base: Dict[str, Any], args: argparse.Namespace, www: Path, http: str) -> List[Tuple]:
    files = sources(www, "noop", args.noop_entries, 64 << 10)
    images = [{"name": "noop-%02d" % i, "url": "%s/%s" % (http, f)} for i, f in enumerate(files)]
    ours_ns = ["noop-ours-%d" % i for i in range(4)]
    k8s_ns = ["noop-k8s-%d" % i for i in range(4)]
    make_namespaces(sb, ours_ns + k8s_ns)
    # both sets of namespaces are seeded by the role (identical objects); only the re-runs are timed
    playbook("ours.yml", dict(base, bench_namespaces=ours_ns + k8s_ns, bench_images=images), work)
    sb.clear_audit()
    ours = playbook("ours.yml", dict(base, bench_namespaces=ours_ns, bench_images=images), work)
    ours_writes = writes(sb, ours_ns)
    sb.clear_audit()
    baseline = playbook("baseline_batch.yml", dict(base, bench_namespaces=k8s_ns, bench_images=images), work)
    k8s_writes = writes(sb, k8s_ns)
    what = "no-op re-run, %d images in 4 namespaces (writes: ours %d, k8s %d)" % (
        len(images) * 4, ours_writes, k8s_writes)
    return [(what, ours, baseline, 20.0)]


def tracks(sb: Sandbox, work: Path, base: Dict[str, Any], args: argparse.Namespace, www: Path,
           http: str, missed: List[str]) -> List[Tuple]:
    """A re-run with nothing new: entries whose checksums come from a few shared sums files, some of them tracks.

    Timed against the same catalog written with the digests inline (also a re-run); counted: GETs of each sums
    file (one per run, whatever the number of entries and namespaces naming it), writes, lists per namespace."""
    import hashlib
    files = sources(www, "trk", args.noop_entries, 64 << 10)
    digest = hashlib.sha256((www / "trk-data.raw").read_bytes()).hexdigest()
    sums = ["trk-SHA256SUMS-%d" % k for k in range(args.sums_files)]
    for name in sums:
        (www / name).write_text("".join("%s  %s\n" % (digest, f) for f in files))
    track_entries = [i for i in range(len(files)) if i % 4 == 0]

    def entries(inline: bool) -> List[Dict[str, Any]]:
        made = []
        for i, f in enumerate(files):
            entry: Dict[str, Any] = {"name": "trk-%02d" % i, "url": "%s/%s" % (http, f), "checksum": {
                "sha256": digest if inline else "%s/%s" % (http, sums[i % len(sums)])}}
            if i in track_entries:
                entry.update(keep=2)
            made.append(entry)
        return made

    spaces = ["trk-%d" % i for i in range(4)]
    make_namespaces(sb, spaces)
    playbook("ours.yml", dict(base, bench_namespaces=spaces, bench_images=entries(False), bench_catalog="trk"), work)
    sb.clear_audit()
    fileserver_stats(sb, reset=True)
    with_sums = playbook("ours.yml", dict(base, bench_namespaces=spaces, bench_images=entries(False),
                                          bench_catalog="trk"), work)
    requests = fileserver_stats(sb)["requests"]
    gets = [requests.get(name, 0) for name in sums]
    sums_writes = writes(sb, spaces + [""])
    lists = [i for i in sb.audit() if i.get("user") == "admin" and i.get("verb") == "list"
             and i.get("resource") == "virtualimages"]
    sb.clear_audit()
    inline = playbook("ours.yml", dict(base, bench_namespaces=spaces, bench_images=entries(True),
                                       bench_catalog="trk"), work)
    if any(count != 1 for count in gets) or sums_writes or len(lists) != len(spaces):
        missed.append("tracks re-run: each sums file must be read once (%s), nothing written (%d writes), each "
                      "namespace listed once (%d lists)" % (gets, sums_writes, len(lists)))
    what = ("no-op re-run, %d images in 4 ns (%d in tracks), checksums from %d sums files vs inline digests "
            "(sums GETs %s, writes %d, VI lists %d)" % (len(files) * 4, len(track_entries) * 4, len(sums), gets,
                                                        sums_writes, len(lists)))
    return [(what, with_sums, inline, None)]


def fanout(sb: Sandbox, work: Path, base: Dict[str, Any], args: argparse.Namespace, www: Path, http: str) -> List[Tuple]:
    size = 4 << 20
    rows = []
    for mode in ("none", "cluster"):
        files = sources(www, "fan-%s" % mode, args.fanout_entries, size)
        images = [{"name": "fan-%02d" % i, "url": "%s/%s" % (http, f)} for i, f in enumerate(files)]
        spaces = ["fan-%s-%d" % (mode, i) for i in range(4)]
        make_namespaces(sb, spaces)
        fileserver_stats(sb, reset=True)
        seconds = playbook("ours.yml", dict(base, bench_namespaces=spaces, bench_images=images,
                                            bench_catalog="fan-" + mode, bench_fanout=mode), work)
        per_source = [fileserver_stats(sb)["bytes"].get(f, 0) for f in files]
        rows.append((mode, per_source, size, seconds))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--rate-mib", type=int, default=2)
    parser.add_argument("--noop-entries", type=int, default=25)
    parser.add_argument("--fanout-entries", type=int, default=10)
    parser.add_argument("--sums-files", type=int, default=5)
    parser.add_argument("--only", choices=["seed", "noop", "tracks", "fanout"], action="append")
    args = parser.parse_args()
    subprocess.run([str(REPO / "scripts" / "install-kubernetes-core.sh")], check=True)
    subprocess.run([str(REPO / "scripts" / "link-collection.sh")], check=True)
    with tempfile.TemporaryDirectory(prefix="catalog-bench-") as tmp:
        work = Path(tmp)
        (work / "tmp").mkdir()
        sb = Sandbox(work / "sandbox")
        try:
            sb.up()
            www = Path(sb.components["fileserver"]["www"])
            http = sb.components["fileserver"]["http_url"]
            base = {"bench_kubeconfig": sb.kubeconfig, "bench_catalog": "bench"}
            ratios: List[Tuple] = []
            fan: List[Tuple] = []
            missed: List[str] = []
            chosen = args.only or ["seed", "noop", "tracks", "fanout"]
            if "seed" in chosen:
                ratios += seed(sb, work, base, args, www, http)
            if "noop" in chosen:
                ratios += noop(sb, work, base, args, www, http)
            if "tracks" in chosen:
                ratios += tracks(sb, work, base, args, www, http, missed)
            if "fanout" in chosen:
                fan = fanout(sb, work, base, args, www, http)
        finally:
            sb.down()
    missed += report(ratios, fan)
    print("load average at the end: %s" % " ".join(Path("/proc/loadavg").read_text().split()[:3]))
    if missed:
        print("\nbench: %d goal(s) MISSED:\n  %s" % (len(missed), "\n  ".join(missed)))
        raise SystemExit(1)
    print("\nbench: every goal met")


def report(ratios: List[Tuple], fan: List[Tuple]) -> List[str]:
    """Print the tables; the goals missed, one line each."""
    missed = []
    print()
    print("%-82s %9s %10s %8s %7s" % ("scenario", "role (s)", "baseline (s)", "ratio", "goal"))
    for what, ours, baseline, goal in ratios:
        ratio = baseline / ours
        verdict = "-" if goal is None else (">=%gx %s" % (goal, "ok" if ratio >= goal else "MISSED"))
        print("%-82s %9.1f %10.1f %7.1fx %s" % (what, ours, baseline, ratio, verdict))
        if goal is not None and ratio < goal:
            missed.append("%s: %.1fx, goal >=%gx" % (what, ratio, goal))
    if fan:
        print()
        print("%-10s %16s %22s %13s %13s %9s %s" % ("fanout", "bytes served", "distinct source bytes", "x source",
                                                   "worst source", "role (s)", "goal"))
        for mode, per_source, size, seconds in fan:
            served, distinct = sum(per_source), size * len(per_source)
            worst = max(per_source) / size if per_source else 0.0
            verdict = "-"
            if mode == "cluster":
                met = bool(per_source) and worst <= FANOUT_GOAL
                verdict = "<=%gx per source %s" % (FANOUT_GOAL, "ok" if met else "MISSED")
                if not met:
                    missed.append("fanout=cluster: a distinct source served %.2fx its size (%s), goal <=%gx each"
                                  % (worst, ", ".join("%.2f" % (b / size) for b in per_source), FANOUT_GOAL))
            print("%-10s %16d %22d %12.2fx %12.2fx %9.1f %s" % (mode, served, distinct, served / distinct, worst,
                                                               seconds, verdict))
    return missed


if __name__ == "__main__":
    main()
