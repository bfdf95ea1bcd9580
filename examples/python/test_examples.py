"""Runs each example against the emulator and plays the person on its web page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

from helpers.emulator import Emulator
from helpers.page import enter_code

HERE = Path(__file__).resolve().parent
PROMPT = re.compile(r"Open (\S+) and enter the code ([A-Z0-9]{4}-[A-Z0-9]{4})")


def run_and_approve(args: List[str], env: dict) -> subprocess.CompletedProcess:
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stderr is not None
    seen: List[str] = []
    for line in proc.stderr:
        seen.append(line)
        m = PROMPT.search(line)
        if m:
            assert enter_code(m.group(1), m.group(2)) == "authorized"
            break
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(seen) + err)


def test_whoami(emulator: Emulator, tmp_path: Path) -> None:
    env = dict(os.environ, DEVICEFLOW_CONFIG_DIR=str(tmp_path))
    store = ["--store", "file", "--store-path", str(tmp_path / "tokens.json")]
    args = [str(HERE / "whoami.py"), "--client-id", "Ov23liExample", "--base-url", emulator.url,
            "--api-url", emulator.url + "/api/v3", "--scopes", "read:user,gist", *store]
    r = run_and_approve(args, env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "Hello, octocat! Your token has the scopes 'gist, read:user'.\n"
    # The second run takes the cached token: no code to enter. Without
    # --api-url the API's root comes from the plugin's info endpoints.
    without_api_url = [a for a in args if a not in ("--api-url", emulator.url + "/api/v3")]
    again = subprocess.run([sys.executable, *without_api_url], capture_output=True, text=True, env=env, timeout=60)
    assert again.returncode == 0, again.stderr
    assert "enter the code" not in again.stderr
    assert again.stdout == r.stdout


def test_whoami_on_a_machine_without_a_keyring(tmp_path: Path) -> None:
    env = dict(os.environ, DEVICEFLOW_CONFIG_DIR=str(tmp_path))
    r = subprocess.run([sys.executable, str(HERE / "whoami.py"), "--client-id", "x"], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1
    assert "no keyring backend is available" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_stepwise(emulator: Emulator) -> None:
    args = [str(HERE / "stepwise.py"), "--client-id", "Ov23liExample", "--base-url", emulator.url, "--scopes", "repo"]
    r = run_and_approve(args, dict(os.environ))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].startswith("Signed in as octocat; the event loop stayed free (")
    heartbeats = int(re.search(r"\((\d+) heartbeats", lines[0]).group(1))  # type: ignore[union-attr]
    assert heartbeats > 0
    assert lines[1] == "Token type: oauth, scopes: repo"
