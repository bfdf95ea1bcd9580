"""Shared test fixtures: repository paths, the emulator, loopback servers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
SDK = HERE.parent
REPO = SDK.parent.parent

sys.path.insert(0, str(HERE))

from helpers.emulator import Emulator, build_emulator  # noqa: E402


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository's root."""
    return REPO


@pytest.fixture(scope="session")
def emulator_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deviceflow command (with its emulator), built once per session."""
    return build_emulator(REPO, tmp_path_factory.mktemp("bin"))


@pytest.fixture()
def emulator(emulator_binary: Path) -> Iterator[Emulator]:
    """A fresh emulator with a fast polling interval, stopped after the test."""
    emu = Emulator.start(emulator_binary, interval="200ms")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keeps every test's stores (and the keyring's lock files) away from the user's own.

    The compiled plugin's cache stays where it is, so that no test
    compiles the plugin from scratch.
    """
    from deviceflow import _runtime

    compiled = _runtime.cache_dir()
    monkeypatch.setenv("DEVICEFLOW_CACHE_DIR", str(compiled) if compiled is not None else "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DEVICEFLOW_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.delenv("DEVICEFLOW_ENCRYPTION_KEY", raising=False)

