"""The user registry's basic-auth pair, kept in sandbox.json.

Its own small module because both the registry's setup (`controller/processes.py`, which makes the pair) and the
seeding (`seed.py`, which pushes the demo images with it) need it, and neither should import the other.
"""
from __future__ import annotations

import secrets

from .config import NotRecorded, State

REGISTRY_USER = "sandbox"


def registry_credentials(state: State) -> tuple[str, str]:
    """The user registry's basic-auth pair, as recorded in sandbox.json (by the registry's prepare)."""
    creds = state.load_info().get("registry_auth")
    if not creds:
        raise NotRecorded(f"registry_auth is not in {state.info_path} yet: the registry's prepare step "
                          f"records it")
    return creds["username"], creds["password"]


def ensure_registry_credentials(state: State) -> tuple[str, str]:
    """Make the user registry's basic-auth pair once and keep it in sandbox.json."""
    info = state.load_info()
    if not info.get("registry_auth"):
        info["registry_auth"] = {"username": REGISTRY_USER, "password": secrets.token_urlsafe(18)}
        state.save_info(info)
    return registry_credentials(state)
