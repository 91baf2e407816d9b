"""Upload benchmark: virtual_image_upload against `curl -T`, same sandbox upload endpoint, same run.

For each size a file is made at run time (sparse by default; BENCH_UPLOAD_RANDOM=1 for random bytes) and
removed after. Each side gets a fresh image waiting for its upload (URLs are single-use), then:
  curl:   curl -T FILE URL                          -> time until the server's 200 (it answers after storing)
  module: the module process, run as Ansible runs it -> its `seconds` (request start to the 200: the same span)
and the module process's peak RSS (wait4 ru_maxrss). Prints a table; exits 1 if a goal is missed (naming it), so
`make bench` fails on it.

Each side runs BENCH_UPLOAD_REPEATS times (default 3, order A B B A) and the best time counts; each image
is deleted (and gone) before the next upload, so its cleanup does not overlap a measurement.

Environment: BENCH_UPLOAD_SIZES (MiB, comma-separated; default 256,1024,4096),
BENCH_UPLOAD_ENDPOINT (in_cluster | external; default in_cluster), BENCH_UPLOAD_RANDOM (0/1),
BENCH_UPLOAD_CHECKSUM (an algorithm, e.g. streebog256: its checksum is given to both sides, in the image's
spec.dataSource.upload.checksum, which the sandbox verifies while receiving, and to the module, which verifies
before the last byte), BENCH_UPLOAD_RATIO_GOAL (default 0.95).
Goals: throughput ratio >= the goal, peak RSS < 64 MiB.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from sandbox.controller.imports import streebog  # noqa: E402  (after the path tweak)
from sandbox.handle import Sandbox  # noqa: E402

VI = "virtualization.deckhouse.io/v1alpha2"
MODULE = "ansible_collections.deckhouse.virtualization.plugins.modules.virtual_image_upload"
MIB = 1024 * 1024
RATIO_GOAL = float(os.environ.get("BENCH_UPLOAD_RATIO_GOAL", "0.95"))
RSS_GOAL_MIB = 64


def collections_root() -> Path:
    """A tree whose ansible_collections/deckhouse/virtualization is this repo (shared with the tests)."""
    root = REPO / ".build" / "collections"
    link = root / "ansible_collections" / "deckhouse" / "virtualization"
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(REPO)
    return root


def make_file(folder: Path, size_mib: int, random: bool) -> Path:
    path = folder / ("bench-%dMiB.raw" % size_mib)
    with open(path, "wb") as stream:
        if random:
            block = os.urandom(4 * MIB)
            for _ in range(size_mib // 4):
                stream.write(block[:1] + os.urandom(15) + block[16:])  # cheap, not one repeated block
        else:
            stream.truncate(size_mib * MIB)
    return path


class Images:
    """Creates images waiting for an upload and reads their URLs."""

    def __init__(self, sb: Sandbox, namespace: str) -> None:
        self.dyn = sb.dynamic_client()
        self.api = self.dyn.resources.get(api_version=VI, kind="VirtualImage")
        self.namespace = namespace
        ns_api = self.dyn.resources.get(api_version="v1", kind="Namespace")
        ns_api.create(body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})

    def waiting(self, name: str, checksum: Dict[str, str]) -> Dict[str, str]:
        source: Dict[str, Any] = {"type": "Upload"}
        if checksum:
            source["upload"] = {"checksum": checksum}
        self.api.create(namespace=self.namespace, body={
            "apiVersion": VI, "kind": "VirtualImage", "metadata": {"name": name, "namespace": self.namespace},
            "spec": {"dataSource": source}})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = self.api.get(name=name, namespace=self.namespace).to_dict().get("status") or {}
            if status.get("phase") == "WaitForUserUpload" and status.get("imageUploadURLs"):
                return status["imageUploadURLs"]
            time.sleep(0.1)
        raise RuntimeError("image %s never waited for an upload" % name)

    def delete(self, name: str) -> None:
        """Delete and wait until it is gone, so its cleanup does not overlap the next measurement."""
        self.api.delete(name=name, namespace=self.namespace)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if not [i for i in self.api.get(namespace=self.namespace).to_dict()["items"]
                    if i["metadata"]["name"] == name]:
                return
            time.sleep(0.2)


def _clock(line: str) -> float:
    hours, minutes, seconds = line.split(" ", 1)[0].split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def run_curl(path: Path, url: str, ca: str) -> Tuple[float, float]:
    """(seconds to the 200, seconds from the first to the last body byte) from curl's own timed trace."""
    argv = ["curl", "-sS", "-v", "--trace-time", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
            "-T", str(path), url]
    if url.startswith("https:"):
        argv[1:1] = ["--cacert", ca]
    proc = subprocess.run(argv, capture_output=True, text=True, check=True)
    out = proc.stdout.split()
    if out[0] != "200":
        raise RuntimeError("curl got HTTP %s" % out[0])
    lines = proc.stderr.splitlines()
    first = next(_clock(l) for l in lines if " } [" in l)
    last = next(_clock(l) for l in lines if "completely uploaded" in l)
    return float(out[1]), last - first


def checksum_of(path: Path, algo: str) -> Dict[str, str]:
    """{algo: hex} of the file ({} without an algorithm), by the sandbox's own hashing (not the module's)."""
    if not algo:
        return {}
    hasher = streebog.new(algo) if algo.startswith("streebog") else hashlib.new(algo)
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(MIB), b""):
            hasher.update(block)
    return {algo: hasher.hexdigest()}


def run_module(sb: Sandbox, name: str, namespace: str, path: Path, endpoint: str, work: Path,
               checksum: Dict[str, str]) -> Tuple[Dict[str, Any], float, float]:
    """(result, wall seconds, peak RSS MiB) of one module process."""
    args = {"name": name, "namespace": namespace, "path": str(path), "endpoint": endpoint,
            "kubeconfig": sb.kubeconfig, "upload_ca_cert": sb.ca_path, "wait_timeout": 1800}
    if checksum:
        args["checksum"] = checksum
    args_file = work / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=str(collections_root()))
    out_file = work / "module.out"
    started = time.monotonic()
    with open(out_file, "wb") as out:
        proc = subprocess.Popen([str(REPO / ".venv" / "bin" / "python"), "-m", MODULE, str(args_file)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = out_file.read_text()
    result = json.loads(text[text.index("{"):])
    if result.get("failed"):
        raise RuntimeError("module failed: %s" % result.get("msg"))
    return result, wall, usage.ru_maxrss / 1024.0


def main() -> int:
    sizes = [int(s) for s in os.environ.get("BENCH_UPLOAD_SIZES", "256,1024,4096").split(",") if s.strip()]
    endpoint = os.environ.get("BENCH_UPLOAD_ENDPOINT", "in_cluster")
    random = os.environ.get("BENCH_UPLOAD_RANDOM", "0") == "1"
    repeats = max(1, int(os.environ.get("BENCH_UPLOAD_REPEATS", "3")))
    algo = os.environ.get("BENCH_UPLOAD_CHECKSUM", "")
    url_key = "inCluster" if endpoint == "in_cluster" else "external"
    rows: List[Tuple[Any, ...]] = []
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        work = Path(tmp)
        sb = Sandbox(work / "sandbox")
        try:
            sb.up()
            images = Images(sb, "bench-upload")
            for size in sizes:
                path = make_file(work, size, random)
                checksum = checksum_of(path, algo)
                curls: List[Tuple[float, float]] = []
                mods: List[Tuple[float, float, float, float]] = []
                try:
                    # A B B A ...: neither side always runs first (the sandbox warms up and other work drifts)
                    order = ["curl", "module", "module", "curl"] * repeats
                    for index, side in enumerate(order[:2 * repeats]):
                        name = "%s-%d-%d" % (side, size, index)
                        urls = images.waiting(name, checksum)
                        if side == "curl":
                            curls.append(run_curl(path, urls[url_key], sb.ca_path))
                        else:
                            result, wall, rss = run_module(sb, name, images.namespace, path, endpoint, work,
                                                             checksum)
                            mods.append((float(result["seconds"]), float(result["transfer_seconds"]), wall, rss))
                        images.delete(name)
                finally:
                    path.unlink()
                curl_s, curl_xfer = min(c[0] for c in curls), min(c[1] for c in curls)
                mod_s, mod_xfer = min(m[0] for m in mods), min(m[1] for m in mods)
                wall, rss = min(m[2] for m in mods), max(m[3] for m in mods)
                rows.append((size, curl_s, mod_s, curl_s / mod_s, size / curl_xfer, size / mod_xfer,
                             curl_xfer / mod_xfer, wall, rss))
                print("  %d MiB done: curl %.2fs, module %.2fs, RSS %.1f MiB" % (size, curl_s, mod_s, rss), flush=True)
        finally:
            sb.down()
    print()
    what = ("%s given to both (the sandbox verifies it while receiving, the module before the last byte)" % algo
            if algo else "module records sha1, hashed after the last byte while the server stores the image")
    print("upload benchmark (endpoint %s, %s files, %s; best of %d each; load average at the end %s)"
          % (endpoint, "random" if random else "sparse", what, repeats, open("/proc/loadavg").read().split()[0]))
    print("  to 200: request start to the server's answer (includes the server storing the image);")
    print("  transfer: first to last body byte (curl's own trace vs the module's transfer_seconds)")
    header = ("size MiB", "curl s", "module s", "ratio", "curl xfer MiB/s", "mod xfer MiB/s", "xfer ratio",
              "module wall s", "peak RSS MiB")
    print(" | ".join("%15s" % h for h in header))
    for row in rows:
        print(" | ".join("%15s" % (("%.2f" % v) if isinstance(v, float) else v) for v in row))
    missed = ["%d MiB: ratio %.2f" % (r[0], r[3]) for r in rows if r[3] < RATIO_GOAL]
    missed += ["%d MiB: peak RSS %.1f MiB" % (r[0], r[8]) for r in rows if r[8] >= RSS_GOAL_MIB]
    missed += [] if rows else ["no size measured (BENCH_UPLOAD_SIZES is empty)"]
    print("goals: ratio >= %.2f, peak RSS < %d MiB: %s" % (RATIO_GOAL, RSS_GOAL_MIB,
                                                           "MISSED (%s)" % "; ".join(missed) if missed else "met"))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
