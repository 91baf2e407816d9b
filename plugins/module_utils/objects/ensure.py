# -*- coding: utf-8 -*-
# Copyright: deckhouse.virtualization contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""What every runner of one object shares: ``state`` is carried by the request (a manifest to make present, or
none to make the object absent), so the dispatch is written once."""

from __future__ import annotations

from typing import Any, Dict


class EnsureRunner:
    """A run that makes one object present (the request has a manifest) or absent (it has none)."""

    request: Any

    def run(self) -> Dict[str, Any]:
        """Present when the request has a manifest, else absent."""
        if self.request.manifest is None:
            return self.ensure_absent()
        return self.ensure_present()

    def ensure_present(self) -> Dict[str, Any]:
        """Make the object as the request describes it."""
        raise NotImplementedError

    def ensure_absent(self) -> Dict[str, Any]:
        """Delete the object (and what the run owns with it)."""
        raise NotImplementedError
