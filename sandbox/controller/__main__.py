"""python -m sandbox.controller --state-dir DIR [--upload-deadline S] [--retry-window S] ..."""
from __future__ import annotations

import argparse
import asyncio

from .. import logsafe
from ..config import State
from ..seed import seed
from .app import Controller
from .model.settings import Settings


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sandbox.controller")
    p.add_argument("--state-dir")
    p.add_argument("--upload-deadline", type=float, help="seconds (platform: 600)")
    p.add_argument("--retry-window", type=float, help="seconds transient HTTP errors are retried")
    p.add_argument("--import-rate", type=int, help="bytes/s cap on imports (slow imports)")
    p.add_argument("--image-check-interval", type=float, help="seconds between DVCR checks (ImageLost)")
    p.add_argument("--vm-step", type=float, help="seconds a VM spends Starting/Stopping")
    p.add_argument("--seed", action="store_true", help="make the demo sources first (see sandbox.seed)")
    args = p.parse_args(argv)
    state = State(args.state_dir)
    logsafe.configure(state.secret_values)
    settings = Settings.load(state.root / "controller" / "settings.json", {
        "upload_deadline": args.upload_deadline, "retry_window": args.retry_window,
        "import_rate": args.import_rate, "image_check_interval": args.image_check_interval,
        "vm_step": args.vm_step})
    if args.seed:
        seed(state)
    asyncio.run(Controller(state, settings).run())


if __name__ == "__main__":
    main()
