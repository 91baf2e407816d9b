# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Side by side: the writes and waits of a catalog's objects (and of its tracks) run in threads, so a catalog
takes about as long as its slowest object, not the sum of them."""

from __future__ import annotations

import concurrent.futures
from typing import Callable, List, Sequence, TypeVar

MAX_WORKERS = 64
Item = TypeVar("Item")
Result = TypeVar("Result")


def side_by_side(work: Callable[[Item], Result], items: Sequence[Item]) -> List[Result]:
    """``work`` of every item, each in its own thread (up to MAX_WORKERS), results in the items' order;
    ``work`` is expected not to raise (a failure belongs in its result)."""
    if not items:
        return []
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(MAX_WORKERS, len(items))) as pool:
        return list(pool.map(work, items))
