"""Per-call overhead of the Python host, beside the Go host's benchmarks.

    sdk/python/.venv/bin/python sdk/python/bench.py [--quick]

Measures, as host/startup_bench_test.go and host/bench/poll_test.go do for Go:

- new process: importing deviceflow (extism and its native runtime load
  when the plugin is first compiled), the compilation with no compilation
  cache (a machine's very first run) and with a warm on-disk cache, the
  first call (compile, one instance, authenticate answered from the
  store), and the whole process; and the whole ``python -m deviceflow
  token`` command on a file store holding the token, wall time and CPU
  time. New processes run as an installed package does, with its bytecode
  cached (pip writes the .pyc files when it installs; this bench lifts
  PYTHONDONTWRITEBYTECODE for them and warms them once);
- instantiate: a new plugin instance once the plugin is compiled;
- warm call: authenticate answered from the store on a warm instance;
- info: the smallest export, the floor of a call through Extism;
- poll exchange: one poll of the token endpoint answered
  authorization_pending through the plugin (the poll export, state in and
  out), against the emulator on loopback, beside the docs recipe's own
  request (requests.post with the device-code grant) on the same emulator,
  interleaved, and their ratio; and the host's own HTTP for the same request
  alone, so that the plugin's share of a poll shows.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Tuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "tests"))

import requests  # noqa: E402

from deviceflow import FileStore, Host, MemoryStore, _http, _runtime  # noqa: E402
from helpers.emulator import Emulator, build_emulator  # noqa: E402

CLIENT = "Ov23liBench"


def timed(fn: Callable[[], object], n: int) -> Tuple[float, float]:
    """Runs fn n times; answers the median and the mean, in microseconds."""
    samples: List[float] = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(samples), statistics.fmean(samples)


_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import deviceflow
from deviceflow import Host, MemoryStore, _runtime
t1 = time.perf_counter()
_runtime.compiled()
t2 = time.perf_counter()
entries, inp = json.loads(sys.argv[1])
Host(store=MemoryStore(entries), allowed_hosts=["127.0.0.1"]).call("authenticate", inp)
t3 = time.perf_counter()
print(json.dumps({"import": (t1 - t0) * 1e6, "compile": (t2 - t1) * 1e6, "first": (t3 - t1) * 1e6}))
"""


def _child_env(cache: str) -> Dict[str, str]:
    env = dict(os.environ, DEVICEFLOW_CACHE_DIR=cache)
    env.pop("EXTISM_CACHE_CONFIG", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as an installed package runs
    return env


def child(entries: Dict[str, str], inp: Dict[str, object], cache: str) -> Dict[str, float]:
    """Times a new process: import, compile, first call (answered from the store)."""
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", _CHILD, json.dumps([entries, inp])],
                         capture_output=True, text=True, env=_child_env(cache), check=True).stdout
    total = (time.perf_counter() - t0) * 1e6
    result = json.loads(out)
    result["process"] = total
    return result


def token_command(args: List[str], cache: str) -> Tuple[float, float]:
    """Times ``python -m deviceflow token`` in a new process: wall and CPU (user + system) microseconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "deviceflow", "token", *args],
                         capture_output=True, text=True, env=_child_env(cache), check=True).stdout
    wall = (time.perf_counter() - t0) * 1e6
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert out.strip(), "token printed nothing"
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1e6
    return wall, cpu


def cached_entry(emu: Emulator) -> Tuple[Dict[str, str], Dict[str, object]]:
    """Signs in once (approved through the page) and returns the store and the input."""
    from helpers.page import enter_code

    store = MemoryStore()
    inp = {"clientId": CLIENT, "scopes": ["repo"], "baseUrl": emu.url}

    def approve(event: Dict[str, object]) -> None:
        if event.get("type") == "verification":
            assert enter_code(str(event["verification_uri"]), str(event["user_code"])) == "authorized"

    Host(base_url=emu.url, store=store, on_event=approve).call("authenticate", inp)
    return store.snapshot(), inp


def main() -> int:
    p = argparse.ArgumentParser(description="deviceflow Python host benchmarks")
    p.add_argument("--quick", action="store_true", help="fewer iterations")
    args = p.parse_args()
    scale = 0.2 if args.quick else 1.0
    rows: List[Tuple[str, float, float, int]] = []

    def add(name: str, n: int, fn: Callable[[], object]) -> None:
        n = max(int(n * scale), 1)
        med, mean = timed(fn, n)
        rows.append((name, med, mean, n))

    binary = build_emulator(HERE.parent.parent, Path(tempfile.mkdtemp()))
    emu = Emulator.start(binary, "--expires-in", "100000h", "--poll-tolerance", "10s", interval="1ms")
    try:
        entries, inp = cached_entry(emu)

        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as store_dir:
            cold = [child(entries, inp, "off") for _ in range(max(int(3 * scale), 2))]
            child(entries, inp, cache)  # fills the cache and writes the bytecode
            warm_cache = [child(entries, inp, cache) for _ in range(max(int(10 * scale), 3))]
            store = FileStore(store_dir)
            for key, value in entries.items():
                store.set(key, value)
            args = ["--store", "file", "--store-path", store_dir, "--base-url", emu.url, "--client-id", CLIENT, "--scopes", "repo"]
            token_command(args, cache)
            commands = [token_command(args, cache) for _ in range(max(int(10 * scale), 3))]
        for label, key, runs in (
            ("new process: import deviceflow", "import", warm_cache),
            ("new process: cold compile (no cache)", "compile", cold),
            ("new process: compile, warm cache", "compile", warm_cache),
            ("new process: first call, warm cache", "first", warm_cache),
            ("new process: import, compile, 1 call", "process", warm_cache),
        ):
            values = [r[key] for r in runs]
            rows.append((label, statistics.median(values), statistics.fmean(values), len(values)))
        for label, i in (("new process: `token` command (wall)", 0), ("new process: `token` command (CPU)", 1)):
            values = [c[i] for c in commands]
            rows.append((label, statistics.median(values), statistics.fmean(values), len(values)))
        _runtime.compiled()

        add("instantiate", 50, lambda: _runtime.discard(_new_instance()))
        warm = Host(store=MemoryStore(entries), allowed_hosts=["127.0.0.1"])
        warm.call("authenticate", inp)
        add("warm call (authenticate, cached)", 2000, lambda: warm.call("authenticate", inp))
        add("info", 5000, lambda: warm.call("info", b"{}"))

        plugin_us, native_us, raw_us, n = poll_exchange(emu, int(300 * scale) or 30)
        rows.append(("poll exchange: plugin (poll export)", plugin_us, plugin_us, n))
        rows.append(("poll exchange: requests.post recipe", native_us, native_us, n))
        rows.append(("poll exchange: the host's HTTP alone", raw_us, raw_us, n))
    finally:
        emu.stop()

    print(f"deviceflow Python host  (extism {_extism_version()}, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f})")
    print(f"{'benchmark':40} {'median':>12} {'mean':>12} {'n':>6}")
    for name, med, mean, n in rows:
        print(f"{name:40} {_fmt(med):>12} {_fmt(mean):>12} {n:>6}")
    print(f"{'poll exchange ratio plugin/recipe':40} {plugin_us / native_us:>12.2f}")
    print(f"{'plugin cost per poll (plugin - HTTP)':40} {_fmt(plugin_us - raw_us):>12}")
    return 0


def _new_instance() -> object:
    from extism import Plugin

    return Plugin(_runtime.compiled())


def poll_exchange(emu: Emulator, n: int) -> Tuple[float, float, float, int]:
    """Interleaves plugin polls, recipe polls and the host's bare HTTP; answers mean µs of each."""
    offset = {"ms": 0}

    def now_ms() -> int:  # moves past the interval before each poll, like the Go bench
        return time.time_ns() // 1_000_000 + offset["ms"]

    host = Host(base_url=emu.url, now_ms=now_ms, on_event=lambda e: None)
    out = host.call_json("begin", {"clientId": CLIENT, "scopes": ["repo"], "baseUrl": emu.url})
    state = out["state"]
    code = requests.post(emu.url + "/login/device/code", json={"client_id": CLIENT, "scope": "repo"},
                         headers={"accept": "application/json"}, timeout=10).json()["device_code"]

    def plugin_poll() -> None:
        nonlocal state
        offset["ms"] += 2000
        ans = host.call_json("poll", {"state": state})
        assert ans["status"] == "pending", ans
        state = ans["state"]

    def recipe_poll() -> None:
        r = requests.post(
            emu.url + "/login/oauth/access_token",
            json={"client_id": CLIENT, "device_code": code, "grant_type": "urn:ietf:params:oauth:grant-type:device_code"},
            headers={"accept": "application/json"},
            timeout=10,
        )
        assert r.json().get("error") == "authorization_pending", r.text

    limits = host.limits
    bare = {
        "method": "POST",
        "url": emu.url + "/login/oauth/access_token",
        "headers": {"accept": "application/json", "content-type": "application/json; charset=utf-8"},
        "body": json.dumps({"client_id": CLIENT, "device_code": code, "grant_type": "urn:ietf:params:oauth:grant-type:device_code"}),
        "timeoutMs": 30000,
    }

    def bare_poll() -> None:
        ans = _http.perform(bare, limits)
        assert "authorization_pending" in ans["body"], ans

    for _ in range(5):  # warm every path
        plugin_poll()
        recipe_poll()
        bare_poll()
    plugin_total = native_total = bare_total = 0.0
    for _ in range(n):
        t0 = time.perf_counter()
        plugin_poll()
        t1 = time.perf_counter()
        recipe_poll()
        t2 = time.perf_counter()
        bare_poll()
        t3 = time.perf_counter()
        plugin_total += t1 - t0
        native_total += t2 - t1
        bare_total += t3 - t2
    return plugin_total / n * 1e6, native_total / n * 1e6, bare_total / n * 1e6, n


def _fmt(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.1f} µs"


def _extism_version() -> str:
    from extism import extism_version

    return extism_version()


if __name__ == "__main__":
    sys.exit(main())
