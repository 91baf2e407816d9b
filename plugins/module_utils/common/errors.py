# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Typed errors of the library.

The library never calls ``fail_json`` itself: it raises one of these and the
module turns it into a result, so the same code can run in tests and in-process.
"""

from __future__ import annotations

from typing import Any, Optional


class TaskError(Exception):
    """Whatever fails a task (an object's run, a VM operation, a catalog): ``msg`` is safe to show; ``details`` are
    extra result keys (the object in trouble under its kind's result key: ``image``, ``disk``, ``snapshot``)."""

    def __init__(self, msg: str, **details: Any) -> None:
        super().__init__(msg)
        self.msg = msg
        self.details = details


class ValidationError(TaskError):
    """Invalid options, found before any request is sent."""


class ApiError(TaskError):
    """The API answered with an error (after retries, when retryable)."""

    def __init__(self, msg: str, status: Optional[int] = None, reason: str = "", **details: Any) -> None:
        super().__init__(msg, **details)
        self.status = status
        self.reason = reason


class ObjectFailed(TaskError):
    """An object reports a terminal state (an image or a disk Failed or PVCLost, an image ImageLost, a snapshot
    Failed, a VM operation Failed)."""


class FieldsUnknown(TaskError):
    """The cluster's API lacks fields the task sets (an older platform line); nothing was stored."""


class WaitTimeout(TaskError):
    """The wait deadline passed before the wanted state was reached."""


class InUse(TaskError):
    """An object something uses (an image a disk or a VM uses, a disk attached to a VM), asked to be deleted without
    ``force``: refused before any write."""


class ImmutableSpec(TaskError):
    """The spec differs from what an object's lock allows (a provisioned image or disk, any snapshot): the platform
    rejects the change, and recreating it is not asked for or not allowed."""
