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
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ContextManager, Dict, FrozenSet, Iterator, List, Optional

from .errors import IncompatiblePlugin

if TYPE_CHECKING:
    from extism import Plugin
    from extism.extism import CompiledPlugin

# extism (and its native library) and the host functions are imported when
# the plugin is first compiled, not with this module.

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
            import tempfile

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
    """Calls the plugin's info once and checks its ABI.

    It asks about the default base URL, so that the answer also serves the
    allow-list of a Host without a base URL (see :func:`endpoints`).
    """
    from extism import Plugin

    instance = Plugin(plugin)
    try:
        out = instance.call("info", _DEFAULT_INFO)
        try:
            info = json.loads(bytes(out))
        except ValueError:
            info = None
        check_abi(info)
        _remember_endpoints({"baseUrl": _DEFAULT_BASE_URL}, info)
        _remember_response_headers(info)
        give_back(instance)
    except BaseException:
        discard(instance)
        raise


def compiled() -> CompiledPlugin:
    """Compiles the plugin once per process, checks its ABI and returns it."""
    _await_background()
    with _compile_lock:
        return _compile_locked(set_env=True)


def _compile_locked(set_env: bool) -> CompiledPlugin:
    global _compiled, _refused
    if _refused is not None:
        raise _refused
    if _compiled is None:
        # By path: Extism reads the file itself, which saves encoding
        # 4 MB as base64 in a JSON manifest on every start.
        manifest = {
            "wasm": [{"path": str(_existing_wasm()), "name": "main"}],
            "memory": {"max_pages": MAX_MEMORY_PAGES},
        }
        from extism.extism import CompiledPlugin

        from . import _hostfns

        with _cache_env() if set_env else _no_env():
            plugin = CompiledPlugin(manifest, wasi=True, functions=_hostfns.FUNCTIONS)
        try:
            _checked(plugin)
        except IncompatiblePlugin as e:
            _refused = e
            raise
        _compiled = plugin
    return _compiled


@contextmanager
def _no_env() -> Iterator[None]:
    yield


# A compilation started by compile_in_background: the thread, and the
# variable pointing Extism at the compilation cache, set before the thread
# started and restored once it has ended (never while it runs).
_background: Optional[threading.Thread] = None
_background_env: Optional[ContextManager[None]] = None


def compile_in_background() -> None:
    """Starts compiling the plugin on a thread, for a short-lived process.

    Compiling (even from the cache) takes tens of milliseconds of native code
    that runs outside the GIL, so ``python -m deviceflow`` starts it first
    and loads its modules and reads its flags meanwhile; :func:`compiled`
    waits for it. A failure there is left for :func:`compiled` to raise.
    Call it while no other thread runs (it sets an environment variable).
    """
    global _background, _background_env
    with _compile_lock:
        if _compiled is not None or _refused is not None or _background is not None:
            return
        env = _cache_env()
        env.__enter__()
        _background = threading.Thread(target=_compile_quietly, name="deviceflow-compile", daemon=True)
        _background_env = env
        _background.start()  # it waits for the lock this thread holds


def _compile_quietly() -> None:
    try:
        with _compile_lock:
            _compile_locked(set_env=False)
    except BaseException:
        pass  # compiled() tries again in the caller's thread, and raises there


def _await_background() -> None:
    """Waits for a compilation compile_in_background started, then restores the environment."""
    global _background, _background_env
    thread = _background
    if thread is None or thread is threading.current_thread():
        return
    thread.join()
    with _compile_lock:
        if _background is not thread:
            return
        env, _background, _background_env = _background_env, None, None
    if env is not None:
        env.__exit__(None, None, None)


def take() -> Plugin:
    """Takes an idle instance, or makes one."""
    with _pool_lock:
        if _idle:
            return _idle.pop()
    plugin = compiled()
    from extism import Plugin

    return Plugin(plugin)


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
    if not isinstance(out, dict):
        return {}
    _remember_endpoints(request, out)
    return out


# info's answers as far as the sandbox goes (endpoints, endpointsError,
# allow), by the part of the request they depend on (the base URL, the
# OAuth URL, a generic server's issuer or endpoints: everything but the
# client). The plugin is pure, so one answer per server serves every Host of
# the process, and the command's check of its flags serves its Host.
_DEFAULT_BASE_URL = "https://github.com"
_DEFAULT_INFO = json.dumps({"baseUrl": _DEFAULT_BASE_URL}).encode("utf-8")
_NOT_ENDPOINTS = ("clientId", "clientType", "scopes")
_endpoints_lock = threading.Lock()
_endpoints: Dict[str, Dict[str, Any]] = {}


def _endpoints_key(request: Dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in request.items() if k not in _NOT_ENDPOINTS}, sort_keys=True)


def _remember_endpoints(request: Dict[str, Any], answer: object) -> None:
    if not isinstance(answer, dict) or not ("endpoints" in answer or "endpointsError" in answer):
        return
    part = {k: v for k, v in answer.items() if k != "inputError"}
    with _endpoints_lock:
        if len(_endpoints) < 64:
            _endpoints[_endpoints_key(request)] = part


# The response headers the plugin reads (info's responseHeaders), learnt
# when its ABI is checked: the only ones a host passes it (None, for a
# plugin that does not say, passes them all).
_response_headers: Optional[FrozenSet[str]] = None


def _remember_response_headers(answer: object) -> None:
    global _response_headers
    names = answer.get("responseHeaders") if isinstance(answer, dict) else None
    if isinstance(names, list) and all(isinstance(n, str) for n in names):
        _response_headers = frozenset(n.lower() for n in names)


def for_plugin(answer: Dict[str, Any]) -> Dict[str, Any]:
    """An HTTP answer as the plugin gets it: of the response headers, only
    those it reads (GitHub's cookies and the rest stay in the host)."""
    read = _response_headers
    headers = answer.get("headers")
    if read is None or not isinstance(headers, dict):
        return answer
    return dict(answer, headers={k: v for k, v in headers.items() if k in read})


def endpoints(request: Dict[str, Any]) -> Dict[str, Any]:
    """info's answer to request as far as the sandbox goes (see above),
    asked of the plugin once per server."""
    with _endpoints_lock:
        known = _endpoints.get(_endpoints_key(request))
    return known if known is not None else info(request)


def preload() -> None:
    """Compiles the plugin and warms one instance."""
    give_back(take())
