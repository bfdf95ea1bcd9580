"""A short process loads only what it uses: importing deviceflow loads
neither extism nor HTTP/TLS; a call answered from the store loads no HTTP
module; ``python -m deviceflow`` compiles the plugin on a thread and leaves
the environment as it found it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import List

HEAVY = ["extism", "deviceflow._http", "http.client", "ssl", "socket", "secrets", "dataclasses"]


def _modules_after(code: str) -> List[str]:
    env = dict(os.environ)
    env.pop("EXTISM_CACHE_CONFIG", None)
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
                         capture_output=True, text=True, env=env, timeout=120, check=True).stdout
    loaded: List[str] = json.loads(out.strip().splitlines()[-1])
    return loaded


def test_import_loads_no_runtime_nor_http() -> None:
    loaded = _modules_after("import deviceflow")
    assert [m for m in HEAVY if m in loaded] == []


def test_a_call_answered_from_the_store_loads_no_http() -> None:
    key = "deviceflow:v1:http://127.0.0.1:9|oauth-app|Ov23liStart|"
    value = {"type": "token", "tokenType": "oauth", "clientType": "oauth-app", "clientId": "Ov23liStart", "token": "gho_start", "scopes": []}
    code = (
        "import json\n"
        "from deviceflow import DeviceFlow, MemoryStore\n"
        f"store = MemoryStore({{{key!r}: json.dumps({value!r})}})\n"
        "auth = DeviceFlow('Ov23liStart', base_url='http://127.0.0.1:9', store=store).token(interactive=False)\n"
        "assert auth.token == 'gho_start'\n"
    )
    loaded = _modules_after(code)
    assert "extism" in loaded
    assert [m for m in ("deviceflow._http", "http.client", "ssl", "secrets") if m in loaded] == []


def test_compile_in_background_then_compiled_restores_the_environment() -> None:
    code = (
        "import os, threading\n"
        "from deviceflow import _runtime\n"
        "_runtime.compile_in_background()\n"
        "assert 'EXTISM_CACHE_CONFIG' in os.environ, 'set for the thread'\n"
        "plugin = _runtime.compiled()\n"
        "assert _runtime.compiled() is plugin\n"
        "assert 'EXTISM_CACHE_CONFIG' not in os.environ, 'restored once the thread ended'\n"
        "assert not [t for t in threading.enumerate() if t.name == 'deviceflow-compile']\n"
        "_runtime.compile_in_background()  # already compiled: nothing to do\n"
        "assert 'EXTISM_CACHE_CONFIG' not in os.environ\n"
    )
    _modules_after(code)


def test_info_endpoints_are_asked_once_per_base_url() -> None:
    code = (
        "from deviceflow import Host, _runtime\n"
        "calls = []\n"
        "real = _runtime.info\n"
        "_runtime.info = lambda request: (calls.append(request), real(request))[1]\n"
        "_runtime.compiled()\n"
        "Host(); Host()\n"
        "Host(base_url='https://ghe.example.com'); Host(base_url='https://ghe.example.com')\n"
        "assert calls == [{'baseUrl': 'https://ghe.example.com'}], calls\n"
        "assert Host(base_url='https://ghe.example.com').limits.allowed == frozenset({'ghe.example.com'})\n"
    )
    _modules_after(code)
