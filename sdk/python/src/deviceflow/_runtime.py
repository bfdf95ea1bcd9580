"""The plugin runtime: one compiled plugin per process, a pool of instances.

The plugin (``deviceflow.wasm``, shipped inside this package) is compiled
once, the first time it is needed, with the host functions of
:mod:`deviceflow._hostfns`; its ``info`` is then read once, and a plugin
whose major ABI is not this host's is refused with
:class:`deviceflow.IncompatiblePlugin`. Compiled code is cached on disk between
processes through Extism's (wasmtime's) compilation cache. Extism instances
are not safe for concurrent use, so each call takes an idle instance from a
small pool, or makes a new one.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

from extism import Plugin
from extism.extism import CompiledPlugin

from . import _hostfns
from .errors import IncompatiblePlugin

#: The plugin's linear memory cap: 1024 pages of 64 KiB, 64 MiB.
MAX_MEMORY_PAGES = 1024

#: The major version of the contract (wit/deviceflow.wit) this host implements.
ABI_MAJOR = 2

_POOL_SIZE = 4
_CACHE_ENV = "EXTISM_CACHE_CONFIG"

_compile_lock = threading.Lock()
_compiled: Optional[CompiledPlugin] = None
_refused: Optional[IncompatiblePlugin] = None
_pool_lock = threading.Lock()
_idle: List[Plugin] = []


def wasm_path() -> Path:
    """Returns the path of the plugin shipped in this package."""
    return Path(__file__).with_name("deviceflow.wasm")


def _existing_wasm() -> Path:
    path = wasm_path()
    if not path.is_file():
        raise RuntimeError(f"deviceflow: the plugin is missing from the package ({path}); reinstall deviceflow")
    return path.absolute()


def cache_dir() -> Optional[Path]:
    """Returns where compiled plugin code is kept between processes.

    ``$DEVICEFLOW_CACHE_DIR`` when set (``off`` disables the cache),
    otherwise ``deviceflow/wasmtime`` under the user's cache directory.
    """
    explicit = os.environ.get("DEVICEFLOW_CACHE_DIR")
    if explicit is not None:
        return None if explicit == "off" else Path(explicit).absolute()
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = str(Path.home() / "Library" / "Caches")
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).absolute() / "deviceflow" / "wasmtime"


def _cache_config() -> Optional[str]:
    """Writes a wasmtime cache configuration and returns its path (or None)."""
    directory = cache_dir()
    if directory is None:
        return None
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = directory.parent / "wasmtime-cache.toml"
        text = f"[cache]\ndirectory = {_toml_string(str(directory))}\n"
        if not config.is_file() or config.read_text() != text:
            fd, tmp = tempfile.mkstemp(dir=directory.parent, suffix=".toml")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, config)
        return str(config)
    except OSError:
        return None


def _toml_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


@contextmanager
def _cache_env() -> Iterator[None]:
    """Points Extism's compilation cache at deviceflow's (or switches it off)
    for the duration of a compilation, unless the user set EXTISM_CACHE_CONFIG."""
    if _CACHE_ENV in os.environ:
        yield
        return
    # Extism reads the variable when it compiles: a path to a wasmtime
    # cache configuration, or "" for no cache at all.
    os.environ[_CACHE_ENV] = _cache_config() or ""
    try:
        yield
    finally:
        os.environ.pop(_CACHE_ENV, None)


def check_abi(info: object) -> None:
    """Raises IncompatiblePlugin unless ``info`` (the plugin's) names ABI major 2."""
    abi = info.get("abi") if isinstance(info, dict) else None
    major = abi.split(".", 1)[0] if isinstance(abi, str) else ""
    if major != str(ABI_MAJOR):
        shown = abi if isinstance(abi, str) else "no ABI version"
        raise IncompatiblePlugin(
            f"deviceflow plugin: the plugin implements ABI {shown} but this host implements ABI "
            f"{ABI_MAJOR}.x (wit/deviceflow.wit): install a deviceflow package whose plugin matches",
            abi=shown,
            expected=ABI_MAJOR,
        )


def _checked(plugin: CompiledPlugin) -> None:
    """Calls the plugin's info once and checks its ABI."""
    instance = Plugin(plugin)
    try:
        out = instance.call("info", b"{}")
        try:
            info = json.loads(bytes(out))
        except ValueError:
            info = None
        check_abi(info)
        give_back(instance)
    except BaseException:
        discard(instance)
        raise


def compiled() -> CompiledPlugin:
    """Compiles the plugin once per process, checks its ABI and returns it."""
    global _compiled, _refused
    with _compile_lock:
        if _refused is not None:
            raise _refused
        if _compiled is None:
            # By path: Extism reads the file itself, which saves encoding
            # 4 MB as base64 in a JSON manifest on every start.
            manifest = {
                "wasm": [{"path": str(_existing_wasm()), "name": "main"}],
                "memory": {"max_pages": MAX_MEMORY_PAGES},
            }
            with _cache_env():
                plugin = CompiledPlugin(manifest, wasi=True, functions=_hostfns.FUNCTIONS)
            try:
                _checked(plugin)
            except IncompatiblePlugin as e:
                _refused = e
                raise
            _compiled = plugin
        return _compiled


def take() -> Plugin:
    """Takes an idle instance, or makes one."""
    with _pool_lock:
        if _idle:
            return _idle.pop()
    return Plugin(compiled())


def give_back(instance: Plugin) -> None:
    """Returns an instance to the pool after a call that did not trap."""
    with _pool_lock:
        if len(_idle) < _POOL_SIZE:
            _idle.append(instance)
            return
    instance.__del__()


def discard(instance: Plugin) -> None:
    """Frees an instance that trapped or was interrupted."""
    instance.__del__()


def info(request: Dict[str, Any]) -> Dict[str, Any]:
    """Runs the plugin's info export (which calls no host function)."""
    instance = take()
    try:
        out = json.loads(bytes(instance.call("info", json.dumps(request).encode("utf-8"))))
    except BaseException:
        discard(instance)
        raise
    give_back(instance)
    return out if isinstance(out, dict) else {}


def preload() -> None:
    """Compiles the plugin and warms one instance."""
    give_back(take())
