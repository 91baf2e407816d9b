"""Fault injection for regular API paths: 500s, 429s with Retry-After, latency, cut watches.

Settings live in `faults.json` (so a restarted API keeps them) and change at run time through the
admin endpoint `PUT /sandbox/faults`.  Keys:
  error_rate (0..1)      share of requests answered 500 InternalError
  throttle_rate (0..1)   share answered 429 TooManyRequests with Retry-After
  retry_after (s, int)   the Retry-After value (default 1)
  latency (s)            added before every answer
  watch_cut (s)          watch streams are closed after this long
  bookmark_interval (s)  how often watches with allowWatchBookmarks get a BOOKMARK (default 30)
  only_verbs (list)      restrict error/throttle faults to these verbs (e.g. ["create","patch"])
  only_users (list)      restrict error/throttle faults to these users (e.g. ["admin"])
  error_every (n, int)   deterministic: every n-th eligible request answered 500
  throttle_every (n)     deterministic: every n-th eligible request answered 429 (after error_every)
The rates draw at random; the *_every settings let a test know a fault will hit its own requests.
"""
from __future__ import annotations

import asyncio
import random
from typing import Any

from ..config import State
from . import errors

DEFAULTS: dict[str, Any] = {"error_rate": 0.0, "throttle_rate": 0.0, "retry_after": 1,
                            "latency": 0.0, "watch_cut": 0.0, "bookmark_interval": 30.0,
                            "only_verbs": [], "only_users": [], "error_every": 0, "throttle_every": 0}
_LISTS = ("only_verbs", "only_users")
_INTS = ("retry_after", "error_every", "throttle_every")


class Faults:
    def __init__(self, state: State) -> None:
        self.state = state
        self.settings: dict[str, Any] = dict(DEFAULTS)
        self.settings.update(self._clean(state.load_faults()))
        self.eligible = 0           # requests the error/throttle faults applied to since the last change

    @staticmethod
    def _clean(raw: Any) -> dict[str, Any]:
        if not isinstance(raw, dict):
            raise errors.bad_request("faults must be a JSON object")
        unknown = sorted(set(raw) - set(DEFAULTS))
        if unknown:
            raise errors.bad_request(f"unknown fault settings: {', '.join(unknown)}; "
                                     f"known: {', '.join(sorted(DEFAULTS))}")
        out: dict[str, Any] = {}
        for k, v in raw.items():
            if k in _LISTS:
                if not isinstance(v, list):
                    raise errors.bad_request(f"{k} must be a list")
                out[k] = [str(x) for x in v]
                continue
            try:
                out[k] = int(v) if k in _INTS else float(v)
            except (TypeError, ValueError):
                raise errors.bad_request(f"{k} must be a number") from None
            if k.endswith("_rate") and not 0 <= out[k] <= 1:
                raise errors.bad_request(f"{k} must be between 0 and 1")
            if k.endswith("_every") and out[k] < 0:
                raise errors.bad_request(f"{k} must be 0 (off) or a positive count")
        return out

    def update(self, raw: Any) -> dict[str, Any]:
        self.settings.update(self._clean(raw))
        self.eligible = 0
        self._save()
        return dict(self.settings)

    def reset(self) -> dict[str, Any]:
        self.settings = dict(DEFAULTS)
        self.eligible = 0
        self._save()
        return dict(self.settings)

    def _save(self) -> None:
        self.state.save_faults({k: v for k, v in self.settings.items() if v != DEFAULTS[k]})

    async def before(self, verb: str, user: str | None = None) -> None:
        """Called for each regular API request: wait, then maybe fail."""
        s = self.settings
        if s["latency"] > 0:
            await asyncio.sleep(s["latency"])
        if s["only_verbs"] and verb not in s["only_verbs"]:
            return
        if s["only_users"] and user not in s["only_users"]:
            return
        self.eligible += 1
        if s["error_every"] and self.eligible % s["error_every"] == 0:
            raise errors.internal("injected fault (sandbox error_every)")
        if s["throttle_every"] and self.eligible % s["throttle_every"] == 0:
            raise errors.too_many_requests(int(s["retry_after"]))
        roll = random.random()
        if roll < s["error_rate"]:
            raise errors.internal("injected fault (sandbox error_rate)")
        if roll < s["error_rate"] + s["throttle_rate"]:
            raise errors.too_many_requests(int(s["retry_after"]))

    def watch_limit(self) -> float:
        return float(self.settings["watch_cut"])

    def bookmark_interval(self) -> float:
        return max(0.05, float(self.settings["bookmark_interval"]))
