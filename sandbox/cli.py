"""Command line: up, down, status, restart, faults, seed, and the internal serve-api entry point.

Two front doors share it: `python -m sandbox` (a checkout: the state dir defaults to ./.sandbox) and the
`dvp-sandbox` console script of the installed distribution (packaging/dvp-sandbox: the state dir defaults to
one per user, `${XDG_STATE_HOME:-~/.local/state}/dvp-sandbox`, so every shell and directory finds the same
sandbox). `--state-dir` and `$DVP_SANDBOX_DIR` win over both defaults.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from . import platform, supervisor
from .component import UpOptions
from .config import DEFAULT_DIR, ENV_DIR, State

FAULT_HELP = ("fault settings k=v: error_rate (0..1, answers 500), throttle_rate (0..1, answers 429), "
              "retry_after (s), latency (s added), watch_cut (s, cut watch streams), "
              "bookmark_interval (s)")


def parse_kv(items: list[str]) -> dict[str, Any]:
    """`k=v` pairs; values parsed as JSON when possible (numbers, true/false/null)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"expected k=v, got {item!r}")
        try:
            out[key] = json.loads(raw)
        except json.JSONDecodeError:
            out[key] = raw
    return out


def user_state_dir() -> Path:
    """The installed command's default state dir: one per user, `${XDG_STATE_HOME:-~/.local/state}/dvp-sandbox`."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path("~/.local/state").expanduser())
    return Path(base) / "dvp-sandbox"


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("dvp-sandbox")
    except PackageNotFoundError:
        return "from a checkout (not installed)"


def _parser(prog: str, default_dir: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description="local DVP sandbox")
    p.add_argument("--state-dir", help=f"state directory (default: ${ENV_DIR} or {default_dir})")
    p.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start the sandbox (no-op when running)")
    up.add_argument("--no-controller", action="store_true", help="start only the API server")
    up.add_argument("--seed", action="store_true", help="seed demo content (controller)")
    up.add_argument("--api-port", type=int, help="force the API port")
    up.add_argument("--platform", choices=list(platform.LINES),
                    help=f"platform line to serve (default {platform.DEFAULT}): "
                         + "; ".join(f"{n} = {li.description}" for n, li in platform.LINES.items()))
    up.add_argument("--fault", action="append", default=[], metavar="K=V", help=FAULT_HELP)
    sub.add_parser("down", help="stop everything this state dir started")
    sub.add_parser("status", help="show what runs")
    rs = sub.add_parser("restart", help="restart one component")
    rs.add_argument("component")
    fa = sub.add_parser("faults", help="show or change fault injection at run time")
    fa.add_argument("--set", action="append", default=[], metavar="K=V", help=FAULT_HELP)
    fa.add_argument("--clear", action="store_true", help="switch every fault off")
    sub.add_parser("seed", help="make the demo sources in www/ and the user registry (sandbox must run)")
    # serve-api is internal (the API component's own process): added without `help`, so it has no line in
    # `--help`, and left out of the command list (`help=argparse.SUPPRESS` would print "==SUPPRESS==" there)
    sub.add_parser("serve-api")
    sub.metavar = "{%s}" % ",".join(name for name in sub.choices if name != "serve-api")
    return p


def main(argv: list[str] | None = None, prog: str = "python -m sandbox", default_dir: str | None = None) -> int:
    """Run one command; `default_dir` is the state dir when neither --state-dir nor $DVP_SANDBOX_DIR says
    (None: ./.sandbox)."""
    args = _parser(prog, default_dir or f"./{DEFAULT_DIR}").parse_args(argv)
    state = State(args.state_dir or os.environ.get(ENV_DIR) or default_dir)
    try:
        if args.cmd == "up":
            print(supervisor.up(state, UpOptions(no_controller=args.no_controller, seed=args.seed,
                                                 faults=parse_kv(args.fault), api_port=args.api_port,
                                                 platform=args.platform)))
        elif args.cmd == "down":
            print(supervisor.down(state))
        elif args.cmd == "status":
            print(supervisor.status(state))
        elif args.cmd == "restart":
            print(supervisor.restart(state, args.component))
        elif args.cmd == "faults":
            from .handle import Sandbox
            sb = Sandbox(state.root)
            now = sb.set_faults(clear=args.clear, **parse_kv(args.set)) if (args.set or args.clear) \
                else sb.faults()
            print(json.dumps(now, indent=2, sort_keys=True))
        elif args.cmd == "seed":
            from .seed import seed
            supervisor.require_tools([], seed=True)
            seed(state)
            print(f"seeded {state.root / 'www'} and the user registry")
        elif args.cmd == "serve-api":
            from .api.server import serve
            serve(state)
    except supervisor.SandboxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def console_main() -> int:
    """The `dvp-sandbox` console script of the installed distribution."""
    return main(prog="dvp-sandbox", default_dir=str(user_state_dir()))
