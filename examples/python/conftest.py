"""The examples' tests reuse the SDK's test helpers (emulator, device page)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "sdk" / "python" / "tests"))

from helpers.emulator import Emulator, build_emulator  # noqa: E402


@pytest.fixture(scope="session")
def emulator_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_emulator(REPO, tmp_path_factory.mktemp("bin"))


@pytest.fixture()
def emulator(emulator_binary: Path) -> Iterator[Emulator]:
    emu = Emulator.start(emulator_binary, interval="200ms")
    try:
        yield emu
    finally:
        emu.stop()
