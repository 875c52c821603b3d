"""For every test: no config file or profile of the machine's user applies (the `default` profile would otherwise)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def empty_config_home(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("config-home"))


@pytest.fixture(autouse=True)
def no_user_profiles(monkeypatch, empty_config_home) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", empty_config_home)
    monkeypatch.delenv("STOMPER_CONFIG", raising=False)
    monkeypatch.delenv("STOMPER_PROFILE", raising=False)
