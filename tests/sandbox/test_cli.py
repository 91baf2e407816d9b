"""The sandbox's command line (sandbox/cli.py): what `--help` and `status` print.

`--help` lists the user's commands and never argparse's `==SUPPRESS==` marker (the internal `serve-api` is
neither listed nor described, and still runs). `status` shows the file server's plain HTTP URL, the one the
guides use through `$DVP_SANDBOX_HTTP_URL`, with the folder it serves and the env file to source: checked
against the env file `up` writes and a GET of a file put in that folder. Only the file server is started.
"""
from __future__ import annotations

import re
import shlex
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from sandbox import cli, supervisor
from sandbox.component import UpOptions
from sandbox.components import by_name
from sandbox.config import State
from sandbox.pki import ensure_ca

USER_COMMANDS = ["up", "down", "status", "restart", "faults", "seed"]


def _help(capsys: pytest.CaptureFixture[str], argv: List[str], prog: str) -> str:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv, prog=prog, default_dir="state")
    assert exited.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("prog", ["dvp-sandbox", "python -m sandbox"])
def test_help_lists_the_user_commands_and_never_suppress(capsys: pytest.CaptureFixture[str], prog: str) -> None:
    top = _help(capsys, ["--help"], prog)
    assert "SUPPRESS" not in top and "serve-api" not in top, top
    assert re.findall(r"\{([a-z,-]+)\}", top) == [",".join(USER_COMMANDS)] * 2, top   # usage and the list
    for command in USER_COMMANDS:
        assert re.search(r"^    %s +\S" % command, top, re.M), command   # each with its help line
        assert "SUPPRESS" not in _help(capsys, [command, "--help"], prog), command
    assert cli._parser(prog, "state").parse_args(["serve-api"]).cmd == "serve-api"   # internal, still there


def _env_file(path: Path) -> Dict[str, str]:
    """The `export K='V'` lines of the env file."""
    pairs = [line[len("export "):].split("=", 1) for line in path.read_text().splitlines()
             if line.startswith("export ")]
    return {key: shlex.split(value)[0] for key, value in pairs}


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[State]:
    """A state dir prepared as `up` prepares it for the API server and the file server; only the file server runs."""
    state = State(tmp_path / "state")
    state.ensure_dirs()
    ensure_ca(state)
    selected = [by_name("api"), by_name("fileserver")]
    for component in selected:
        component.prepare(state, UpOptions())
    supervisor.write_client_files(state, selected)
    supervisor.start_component(state, by_name("fileserver"), UpOptions(), prepare=False)
    try:
        yield state
    finally:
        supervisor.stop_component(state, "fileserver")


def test_status_shows_the_plain_http_file_server_url_and_the_env_file(
        file_server: State, capsys: pytest.CaptureFixture[str]) -> None:
    state = file_server
    assert cli.main(["--state-dir", str(state.root), "status"], prog="dvp-sandbox") == 0
    out = capsys.readouterr().out
    env = _env_file(state.env_path)
    http_url, www = env["DVP_SANDBOX_HTTP_URL"], env["DVP_SANDBOX_WWW"]
    assert http_url.startswith("http://127.0.0.1:")

    (fileserver,) = [line for line in out.splitlines() if line.split()[:1] == ["fileserver"]]
    assert "running pid" in fileserver and env["DVP_SANDBOX_HTTPS_URL"] in fileserver, out
    (plain,) = [line for line in out.splitlines() if "plain HTTP" in line]
    assert plain.split() == ["plain", "HTTP", http_url, "($DVP_SANDBOX_HTTP_URL,", "serving", www + ")"], out
    assert out.splitlines().index(plain) == out.splitlines().index(fileserver) + 1
    (env_line,) = [line for line in out.splitlines() if line.split()[:1] == ["env"]]
    assert env_line.split()[1] == str(state.env_path), out
    assert "SUPPRESS" not in out

    (Path(www) / "mine.img").write_bytes(b"my own build\n")
    url = re.search(r"http://\S+", plain).group(0)
    with urllib.request.urlopen("%s/mine.img" % url, timeout=10) as answer:   # plain HTTP, no CA needed
        assert answer.read() == b"my own build\n"


def test_status_without_a_file_server_has_no_http_line(tmp_path: Path) -> None:
    state = State(tmp_path / "state")
    state.ensure_dirs()
    ensure_ca(state)
    by_name("api").prepare(state, UpOptions())
    supervisor.write_client_files(state, [by_name("api")])   # as after `up --no-controller`
    out = supervisor.status(state)
    assert "plain HTTP" not in out and "DVP_SANDBOX_HTTP_URL" not in state.env_path.read_text()
    assert "env          %s" % state.env_path in out
