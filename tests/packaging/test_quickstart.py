"""The quick start (docs/docsite/rst/guide_quickstart.rst) runs as written, and the README's install and sandbox
lines are commands it runs.

The guide's console blocks (their `$ ` lines, in order) and its one example play are read from the rst with
docutils: nothing of them is retyped here. The commands run with bash one after another, each in the environment
and folder the one before left (`source` and `activate` carry over, as in a terminal). What stands in for the
user's machine, and the only substitutions made:

- HOME and XDG_STATE_HOME are folders of the test's own: `~/...` is a fresh venv, the collection lands in a fresh
  `~/.ansible/collections`, the sandbox in a fresh state dir; pip keeps its cache; `python3` is the test's
  Python (its base interpreter, not a venv); nothing of this checkout is on PATH;
- the work folder stands in for the clone: it holds the checkout's requirements.txt, and `make build` is not run:
  `.build/` gets the session's wheel and tarball (conftest's fixtures run the two builds the Makefile's `build`
  recipe runs, which `make -n build` shows);
- `apt-get` lines are not run: they install exactly the packages of the programs `up --seed` runs.

The example play is saved under the name the `ansible-playbook` command gives. Between the playbook and
`dvp-sandbox down` the image the play names is read back from the sandbox's API: it is Ready. After `down` no
process of the sandbox is left; when a command fails the sandbox is stopped through its state dir all the same.
"""
from __future__ import annotations

import fnmatch
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import docutils.core
import docutils.nodes
import pytest
import yaml
from packaging_support import (BIN, REPO, assert_nothing_left, check_apt, pip_cache, recorded_pids, run, stopped_all,
                               user_env)

from sandbox.handle import Sandbox

GUIDE = REPO / "docs" / "docsite" / "rst" / "guide_quickstart.rst"
README = REPO / "README.md"
IMAGE_MODULE = "deckhouse.virtualization.virtual_image"
IMAGES = "/apis/virtualization.deckhouse.io/v1alpha2/namespaces/%s/virtualimages/%s"
# README lines that install what the guide cannot run: from Galaxy once published, from git.
NOT_IN_THE_GUIDE = ("ansible-galaxy collection install deckhouse.virtualization",
                    "ansible-galaxy collection install git+")


def _guide_blocks() -> List[Tuple[str, str]]:
    """(language, text) of every code block of the guide, in order."""
    doctree = docutils.core.publish_doctree(
        GUIDE.read_text(), source_path=str(GUIDE),
        settings_overrides={"report_level": 5, "halt_level": 5, "syntax_highlight": "none",
                            "warning_stream": False})
    blocks = []
    for node in doctree.findall(docutils.nodes.literal_block):
        languages = [c for c in node["classes"] if c != "code"]
        blocks.append((languages[0] if languages else "", node.astext()))
    return blocks


def _prompted(text: str) -> List[str]:
    """The commands of a console block: its `$ ` lines (a line ending in a backslash goes on); output is skipped."""
    commands: List[str] = []
    pending: Optional[str] = None
    for line in text.splitlines():
        if pending is not None:
            pending += "\n" + line
        elif line.startswith("$ "):
            pending = line[2:]
        else:
            continue
        if not pending.endswith("\\"):
            commands.append(pending)
            pending = None
    assert pending is None, "a command continues past its block: %r" % pending
    return commands


def _guide_commands() -> List[str]:
    return [cmd for language, text in _guide_blocks() if language == "console" for cmd in _prompted(text)]


def _guide_play() -> Tuple[str, List[Dict[str, Any]]]:
    """The guide's one example play: its text and what it parses to."""
    plays = []
    for language, text in _guide_blocks():
        if language.startswith("yaml"):
            data = yaml.safe_load(text)
            if isinstance(data, list) and data and all(isinstance(p, dict) and "hosts" in p for p in data):
                plays.append((text, data))
    assert len(plays) == 1, "the guide shows one play to run, not %d" % len(plays)
    return plays[0]


def _words(command: str) -> List[str]:
    return shlex.split(command, comments=True)


def _normal(command: str) -> str:
    return " ".join(_words(command))


class Shell:
    """Commands one after another, each in bash (`-e -o pipefail`) with the environment and folder the one before
    left."""

    def __init__(self, env: Dict[str, str], cwd: Path, scratch: Path) -> None:
        self.env, self.cwd, self.scratch = dict(env), cwd, scratch
        self.ran: List[Tuple[str, subprocess.CompletedProcess]] = []
        self.seconds: List[float] = []
        scratch.mkdir()

    def run(self, command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        step = self.scratch / ("step-%d" % len(self.ran))
        script = step.with_suffix(".sh")
        script.write_text("%s\nenv -0 > %s\npwd > %s\n" % (
            command, shlex.quote(str(step.with_suffix(".env"))), shlex.quote(str(step.with_suffix(".cwd")))))
        began = time.monotonic()
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=self.env,
                              cwd=str(self.cwd), capture_output=True, text=True, timeout=timeout, check=False)
        self.seconds.append(time.monotonic() - began)
        self.ran.append((command, proc))
        if proc.returncode == 0:
            pairs = (item.partition("=") for item in step.with_suffix(".env").read_text().split("\0") if item)
            self.env = {key: value for key, _sep, value in pairs if key not in ("_", "SHLVL")}
            self.cwd = Path(step.with_suffix(".cwd").read_text().strip())
        return proc

    def report(self) -> str:
        return "\n".join("--- $ %s (exit %d, %.0f s)\n%s%s" % (cmd, p.returncode, s, p.stdout[-3000:], p.stderr[-3000:])
                         for (cmd, p), s in zip(self.ran, self.seconds))


def _check_make_build() -> None:
    """`make build` runs the two builds conftest's `collection_tarball` and `wheel` run, into .build/."""
    recipe = run(["make", "-n", "build"], env=user_env(), cwd=REPO).stdout
    assert re.search(r"ansible-galaxy collection build .*--output-path \.build \.$", recipe, re.M), recipe
    assert re.search(r"scripts/build-sandbox-wheel\.sh \.build$", recipe, re.M), recipe


def _stop(state: Path) -> None:
    """After a failure: stop the sandbox of the state dir by its recorded PIDs (the checkout's `down`)."""
    if (state / "pids").is_dir():
        subprocess.run([str(BIN / "python"), "-m", "sandbox", "--state-dir", str(state), "down"], env=user_env(),
                       cwd=str(REPO), capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.timeout(1200)
def test_the_quick_start_runs_as_written(wheel: Path, collection_tarball: Path, tmp_path: Path) -> None:
    commands = _guide_commands()
    play_text, play = _guide_play()
    (playbook,) = [w for c in commands if _words(c)[:1] == ["ansible-playbook"] for w in _words(c)[1:]
                   if w.endswith((".yml", ".yaml"))]
    (task,) = [t[IMAGE_MODULE] for p in play for t in p["tasks"] if IMAGE_MODULE in t]
    for step in (["dvp-sandbox", "up", "--seed"], ["dvp-sandbox", "down"]):
        assert step in [_words(c) for c in commands], "the quick start runs %s" % " ".join(step)

    home, xdg, work = tmp_path / "home", tmp_path / "xdg-state", tmp_path / "clone"
    for folder in (home, xdg, work / ".build"):
        folder.mkdir(parents=True)
    shutil.copy(REPO / "requirements.txt", work / "requirements.txt")
    (work / playbook).write_text(play_text)
    python = tmp_path / "python-bin"                # the user's python3: the test's Python, outside any venv
    python.mkdir()
    (python / "python3").symlink_to(Path(sys.base_prefix) / "bin" / ("python%d.%d" % sys.version_info[:2]))
    env = user_env([python], HOME=str(home), XDG_STATE_HOME=str(xdg), PIP_CACHE_DIR=pip_cache(), ANSIBLE_NOCOLOR="1")
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(REPO)))
    state = xdg / "dvp-sandbox"
    shell = Shell(env, work, tmp_path / "steps")

    observed: Dict[str, Any] = {}
    pids: List[int] = []
    stopped = False
    try:
        for command in commands:
            words = _words(command)
            if "apt-get" in words[:2]:
                check_apt([command])
                continue
            if words == ["make", "build"]:
                _check_make_build()
                shutil.copy(wheel, work / ".build" / wheel.name)
                shutil.copy(collection_tarball, work / ".build" / collection_tarball.name)
                continue
            if words[:2] == ["dvp-sandbox", "down"]:     # between the playbook and the stop: look at the cluster
                code, _headers, observed = Sandbox(state).request("GET", IMAGES % (task["namespace"], task["name"]))
                assert code == 200, observed
                pids = recorded_pids(state)
            proc = shell.run(command)
            if proc.returncode != 0:
                pytest.fail("a command of the quick start failed\n" + shell.report())
            stopped = stopped or words[:2] == ["dvp-sandbox", "down"]
    finally:
        if not stopped:
            _stop(state)

    outputs = dict(shell.ran)
    venv = Path(shell.env["VIRTUAL_ENV"])
    assert venv.is_relative_to(home) and (venv / "pyvenv.cfg").is_file(), venv    # the docs' own, fresh venv
    for program in ("ansible-playbook", "dvp-sandbox"):
        assert shutil.which(program, path=shell.env["PATH"]) == str(venv / "bin" / program), program
    installed = list(tmp_path.rglob("ansible_collections/deckhouse/virtualization/MANIFEST.json"))
    assert len(installed) == 1 and installed[0].is_relative_to(home), installed
    assert shell.env["DVP_SANDBOX_DIR"] == str(state) and shell.env["KUBECONFIG"] == str(state / "kubeconfig")

    (played,) = [p for cmd, p in outputs.items() if _words(cmd)[:1] == ["ansible-playbook"]]
    assert re.search(r"ok=\d+ +changed=[1-9]\d* .*failed=0", played.stdout), played.stdout
    assert observed["status"]["phase"] == "Ready", observed
    assert observed["spec"]["dataSource"]["http"]["url"].startswith(shell.env["DVP_SANDBOX_HTTP_URL"] + "/")
    (down,) = [p for cmd, p in outputs.items() if _words(cmd)[:2] == ["dvp-sandbox", "down"]]
    assert down.stdout.startswith(stopped_all()), down.stdout
    assert pids
    assert_nothing_left(state, pids)
    print("\n".join("%5.1f s  $ %s" % (s, cmd) for (cmd, _p), s in zip(shell.ran, shell.seconds)))


def _readme_commands(section: str) -> List[str]:
    text = README.read_text().split("\n## %s\n" % section)[1].split("\n## ")[0]
    lines = [line for block in re.findall(r"^```console\n(.*?)^```", text, flags=re.S | re.M)
             for line in block.splitlines() if line.strip()]
    return [_normal(part) for line in lines for part in line.split(" && ")]


def test_the_readme_installs_with_the_guides_commands() -> None:
    """Each command of the README's Installing and The sandbox blocks is one the quick start runs (a `*` of the
    guide matches the README's version), but installing from Galaxy or git."""
    guide = [_normal(c) for c in _guide_commands()]
    readme = _readme_commands("Installing") + _readme_commands("The sandbox")
    checked = [c for c in readme if not c.startswith(NOT_IN_THE_GUIDE)]
    assert len(checked) >= 4, readme
    for command in checked:
        assert any(fnmatch.fnmatchcase(command, pattern) for pattern in guide), \
            "the README's %r is not a command of the quick start: %s" % (command, guide)
