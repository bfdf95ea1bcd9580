"""python -m deviceflow, as a person and a script use it, against the emulator."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List

import pytest

from helpers.emulator import Emulator
from helpers.page import enter_code

CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


def cli(*args: str, env: Dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deviceflow", *args], capture_output=True, text=True, env=env, timeout=60)


def test_login_token_status_logout(emulator: Emulator, tmp_path: Path) -> None:
    env = dict(os.environ)
    env.update({
        "DEVICEFLOW_CLIENT_ID": "Ov23liCLI",
        "DEVICEFLOW_BASE_URL": emulator.url,
        "DEVICEFLOW_STORE": "file",
        "DEVICEFLOW_STORE_PATH": str(tmp_path / "tokens.json"),
        "DEVICEFLOW_SCOPES": "repo,gist",
    })

    # Not signed in yet: token and status say so, and start no flow.
    for command in ("token", "status"):
        r = cli(command, env=env)
        assert r.returncode == 1, r.stderr
        assert "Not signed in" in r.stderr and r.stdout == ""

    login = subprocess.Popen([sys.executable, "-m", "deviceflow", "login"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    assert login.stderr is not None
    box: List[str] = []
    for line in login.stderr:
        box.append(line)
        if CODE.search(line):
            break
    code = CODE.search(box[-1]).group(1)  # type: ignore[union-attr]
    for line in login.stderr:
        box.append(line)
        if "expires in" in line:
            break
    text = "".join(box)
    assert f"{emulator.url}/login/device" in text
    assert "The code expires in 15:00" in text
    assert enter_code(emulator.page_url(), code) == "authorized"
    out, err = login.communicate(timeout=30)
    assert login.returncode == 0, err
    assert f"Signed in to {emulator.url} as octocat" in err
    assert out == ""

    r = cli("token", env=env)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("gho_") and r.stdout == token + "\n"
    assert token not in r.stderr

    r = cli("status", env=env)
    assert r.returncode == 0, r.stderr
    assert f"Signed in to {emulator.url} as octocat." in r.stderr
    assert "Scopes: gist, repo" in r.stderr
    assert token not in r.stderr + r.stdout

    r = cli("logout", env=env)
    assert r.returncode == 0 and "Signed out" in r.stderr
    r = cli("logout", env=env)
    assert r.returncode == 0 and "Not signed in" in r.stderr
    assert cli("token", env=env).returncode == 1


@pytest.mark.skipif(os.name != "posix", reason="SIGINT")
def test_ctrl_c_while_waiting_stops_at_once(emulator_binary: Path, tmp_path: Path) -> None:
    emu = Emulator.start(emulator_binary, interval="5s")
    try:
        env = dict(os.environ, DEVICEFLOW_STORE="memory")
        login = subprocess.Popen([sys.executable, "-m", "deviceflow", "login", "--client-id", "Ov23liCLI", "--base-url", emu.url],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert login.stderr is not None
        for line in login.stderr:
            if CODE.search(line):
                break
        time.sleep(0.3)  # now in the 5 s wait before the first poll
        t0 = time.monotonic()
        login.send_signal(signal.SIGINT)
        _, err = login.communicate(timeout=10)
        assert time.monotonic() - t0 < 3
        assert login.returncode == 130
        assert "interrupted" in err and "Traceback" not in err
    finally:
        emu.stop()


def test_keyring_is_the_default_and_its_absence_is_explained(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("DEVICEFLOW_STORE", None)
    r = cli("status", "--client-id", "Ov23li", env=env)
    assert r.returncode == 1
    assert "no keyring backend is available" in r.stderr
    assert "--store encrypted-file" in r.stderr
    assert not (tmp_path / "config").exists()  # nothing was written instead


def test_usage_errors() -> None:
    env = dict(os.environ)
    env.pop("DEVICEFLOW_CLIENT_ID", None)
    r = cli("login", env=env)
    assert r.returncode == 2 and "--client-id" in r.stderr
    r = cli(env=env)
    assert r.returncode == 2 and "login" in r.stderr
    r = cli("login", "--client-id", "x", "--store", "plaintext", env=env)
    assert r.returncode == 2


def test_bad_input_is_reported_without_a_traceback() -> None:
    r = cli("status", "--client-id", "x", "--store", "memory", "--base-url", "http://ghe.example.com", env=dict(os.environ))
    assert r.returncode == 1
    assert "baseUrl" in r.stderr and "Traceback" not in r.stderr
