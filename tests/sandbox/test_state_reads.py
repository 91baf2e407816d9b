"""sandbox.config.State: reads never write sandbox.json; the ensure_* steps record facts once."""
from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.config import NotRecorded, State
from sandbox.registryauth import ensure_registry_credentials, registry_credentials


def test_reads_of_a_fresh_state_dir_raise_and_write_nothing(tmp_path: Path) -> None:
    state = State(tmp_path / "sb")
    for read in (lambda: state.port("api"), state.tokens, lambda: state.api_url,
                 lambda: registry_credentials(state)):
        with pytest.raises(NotRecorded):
            read()
    assert state.component_dir("dvcr") == state.root / "dvcr"
    assert not state.root.exists()   # not sandbox.json, not even the directory


def test_ensure_steps_record_once_and_reads_return_the_record(tmp_path: Path) -> None:
    state = State(tmp_path)
    port = state.ensure_port("api")
    tokens = state.ensure_tokens()
    creds = ensure_registry_credentials(state)
    before = state.info_path.read_text()
    assert state.ensure_port("api") == state.port("api") == port
    assert state.ensure_tokens() == state.tokens() == tokens
    assert sorted(tokens) == ["admin", "controller", "viewer"]
    assert ensure_registry_credentials(state) == registry_credentials(state) == creds
    assert state.api_url == f"https://127.0.0.1:{port}"
    assert state.info_path.read_text() == before        # nothing was made twice
    assert state.info_path.stat().st_mode & 0o777 == 0o600


def test_a_forced_port_replaces_the_recorded_one(tmp_path: Path) -> None:
    state = State(tmp_path)
    state.ensure_port("api")
    assert state.ensure_port("api", 45678) == state.port("api") == 45678
