"""Where the file stores keep their data by default."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def config_dir() -> Path:
    """Returns deviceflow's per-user configuration directory.

    ``$DEVICEFLOW_CONFIG_DIR`` when set; otherwise ``%APPDATA%\\deviceflow``
    on Windows, ``~/Library/Application Support/deviceflow`` on macOS and
    ``$XDG_CONFIG_HOME/deviceflow`` (``~/.config/deviceflow``) elsewhere.
    """
    explicit = os.environ.get("DEVICEFLOW_CONFIG_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / "deviceflow"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "deviceflow"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "deviceflow"


def cache_dir() -> Path:
    """Returns deviceflow's per-user cache directory (the keyring's lock files).

    ``%LOCALAPPDATA%\\deviceflow`` on Windows, ``~/Library/Caches/deviceflow``
    on macOS and ``$XDG_CACHE_HOME/deviceflow`` (``~/.cache/deviceflow``)
    elsewhere.
    """
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "deviceflow"
