"""python -m deviceflow, as a person and a script use it, against the emulator."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from helpers.emulator import Emulator
from helpers.loopback import Loopback, send
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
        assert "ot logged in" in r.stderr and "python -m deviceflow login --base-url" in r.stderr
        assert r.stdout == ""

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
    host = emulator.url.removeprefix("http://")
    assert f"✓ Logged in to {host} as octocat" in err
    assert f"✓ Token stored in: file {tmp_path / 'tokens.json'}" in err
    assert out == ""

    r = cli("token", env=env)
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert token.startswith("gho_") and r.stdout == token + "\n"
    assert token not in r.stderr

    r = cli("status", env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"{host}\n  ✓ Logged in as octocat\n"), r.stdout
    assert "Scopes: gist, repo" in r.stdout and "Token: gho_********" in r.stdout
    assert token not in r.stderr + r.stdout

    r = cli("logout", env=env)
    assert r.returncode == 0 and "✓ Logged out of" in r.stderr
    r = cli("logout", env=env)
    assert r.returncode == 0 and "Not logged in" in r.stderr
    assert cli("token", env=env).returncode == 1


def test_the_go_commands_flags(emulator_binary: Path, tmp_path: Path) -> None:
    """The flags this command shares with the Go one (sdk/cmd/deviceflow/parity_test.go runs both)."""
    emu = Emulator.start(emulator_binary, "--auto-approve", "1", interval="100ms")
    try:
        env = clean_env(DEVICEFLOW_CLIENT_ID="Ov23liCLI", DEVICEFLOW_BASE_URL=emu.url, DEVICEFLOW_STORE="file",
                        DEVICEFLOW_STORE_PATH=str(tmp_path / "tokens.json"))
        # token --login signs in when nothing is stored: the code on stderr, only the token on stdout.
        r = cli("token", "--login", env=env)
        assert r.returncode == 0, r.stderr
        assert "one-time code" in r.stderr and re.fullmatch(r"gho_\w+\n", r.stdout), r.stdout
        first = r.stdout
        # login always signs in anew; --force, --no-qr and --no-browser are accepted.
        r = cli("login", "--force", "--no-qr", "--no-browser", "--json", env=env)
        assert r.returncode == 0, r.stderr
        summary = json.loads(r.stdout)
        assert summary == {"host": emu.url.removeprefix("http://"), "baseUrl": emu.url, "clientId": "Ov23liCLI",
                           "clientType": "oauth-app", "loggedIn": True, "login": "octocat", "scopes": [],
                           "store": "file", "storeLocation": str(tmp_path / "tokens.json")}
        r = cli("token", "--json", env=env)
        assert r.returncode == 0, r.stderr
        tok = json.loads(r.stdout)
        assert sorted(tok) == ["clientId", "clientType", "expiresAt", "scopes", "token", "tokenType", "type"]
        assert tok["token"] != first.strip() and tok["expiresAt"] is None
        r = cli("status", "--json", env=env)
        assert r.returncode == 0 and json.loads(r.stdout)["valid"] is True
        assert json.loads(cli("logout", "--json", env=env).stdout) == {"host": emu.url.removeprefix("http://"), "removed": True}
        r = cli("token", "--json", env=env)
        assert r.returncode == 1 and json.loads(r.stdout)["error"]["code"] == "not_found"
    finally:
        emu.stop()


def test_hostname_and_store_names(tmp_path: Path) -> None:
    env = clean_env(DEVICEFLOW_CLIENT_ID="Ov23li", DEVICEFLOW_ENCRYPTION_KEY="passphrase:correct horse battery")
    r = cli("status", "--hostname", "ghe.example.com", "--store", "encrypted-file", "--store-path", str(tmp_path / "s"), "--json", env=env)
    assert r.returncode == 1, r.stderr
    s = json.loads(r.stdout)
    assert (s["host"], s["baseUrl"], s["store"], s["loggedIn"]) == ("ghe.example.com", "https://ghe.example.com", "encrypted", False)
    assert r.stderr == ""  # --json: the summary says it all
    r = cli("token", "--hostname", "http://ghe.example.com", "--store", "memory", env=env)
    assert r.returncode == 2 and 'bad --hostname "http://ghe.example.com"' in r.stderr, r.stderr


@pytest.mark.skipif(os.name != "posix", reason="SIGINT")
def test_ctrl_c_while_waiting_stops_at_once(emulator_binary: Path, tmp_path: Path) -> None:
    # A five-minute interval: a Ctrl-C that did not end the wait before the
    # first poll would keep the command running far past communicate's
    # timeout, however loaded the machine.
    emu = Emulator.start(emulator_binary, interval="300s")
    try:
        env = dict(os.environ, DEVICEFLOW_STORE="memory")
        login = subprocess.Popen([sys.executable, "-m", "deviceflow", "login", "--client-id", "Ov23liCLI", "--base-url", emu.url],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert login.stderr is not None
        # The code box ends with the code's lifetime; then the command waits.
        for line in login.stderr:
            if "expires in" in line:
                break
        login.send_signal(signal.SIGINT)
        _, err = login.communicate(timeout=60)
        assert login.returncode == 130
        assert "deviceflow: cancelled" in err and "Traceback" not in err
    finally:
        emu.stop()


def test_keyring_is_the_default_and_its_absence_is_explained(tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("DEVICEFLOW_STORE", None)
    r = cli("status", "--client-id", "Ov23li", env=env)
    assert r.returncode == 1
    assert "no keyring backend is available" in r.stderr
    assert "--store encrypted " in r.stderr
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


def test_bad_input_is_a_usage_error_without_a_traceback() -> None:
    r = cli("status", "--client-id", "x", "--store", "memory", "--base-url", "http://ghe.example.com", env=dict(os.environ))
    assert r.returncode == 2
    assert "--base-url" in r.stderr and "Traceback" not in r.stderr


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEVICEFLOW_") or k == "DEVICEFLOW_CONFIG_DIR"}
    env.update(extra)
    return env


def assert_clean(text: str) -> None:
    """No control character but the newline, no doubled name."""
    bad = sorted({hex(ord(c)) for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F})
    assert not bad, f"control characters {bad} in {text!r}"
    assert "\u202e" not in text
    assert "deviceflow: deviceflow:" not in text


@pytest.mark.parametrize(
    "args",
    [
        ["login", "--no-such-flag"],
        ["login", "--open", "--no-browser"],
        ["login", "--base-url", "ftp://github.com"],
        ["login", "--base-url", "http://ghe.example.com"],
        ["login", "--base-url", "javascript:alert(1)"],
        ["login", "--base-url", "https://github.com:70000"],
        ["login", "--base-url", "https://github.com:0"],
        ["login", "--base-url", "https://github.com:port"],
        ["login", "--base-url", "https://user:secret@github.com"],
        ["login", "--base-url", "https://ghe.example.com?x=1"],
        ["login", "--base-url", "https:github.com"],
        ["login", "--base-url", "github.com"],
        ["login", "--base-url", "https://gith\tub.com"],
        ["token", "--store", "s3"],
        ["status", "--client-type", "gitlab"],
        ["login", "--client-id", "Ov23\x1bli"],
        ["login", "--client-id", "Ov23li\u0085"],
    ],
)
def test_usage_errors_exit_2(args: List[str], tmp_path: Path) -> None:
    args = [a.encode().decode("unicode_escape") if "\\" in a else a for a in args]
    env = clean_env(DEVICEFLOW_CLIENT_ID="Ov23li", DEVICEFLOW_STORE="file", DEVICEFLOW_STORE_PATH=str(tmp_path / "s"))
    r = cli(*args, env=env)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert_clean(r.stderr)
    assert r.stdout == ""
    assert not (tmp_path / "s").exists()  # nothing was written


@pytest.mark.parametrize("variable, value", [("DEVICEFLOW_STORE", "s3"), ("DEVICEFLOW_CLIENT_TYPE", "gitlab"),
                                             ("DEVICEFLOW_BASE_URL", "ftp://x"), ("DEVICEFLOW_CLIENT_ID", "a\x07b")])
def test_bad_values_from_the_environment_are_usage_errors_too(variable: str, value: str) -> None:
    env = clean_env(DEVICEFLOW_CLIENT_ID="Ov23li", DEVICEFLOW_STORE="memory")
    env[variable] = value.encode().decode("unicode_escape")
    r = cli("token", env=env)
    assert r.returncode == 2, r.stderr
    assert_clean(r.stderr)


def test_the_control_character_in_a_client_id_is_refused_not_stripped() -> None:
    r = cli("token", "--client-id", "Ov23\x1b[2Jli", "--store", "memory", env=clean_env())
    assert r.returncode == 2
    assert 'bad --client-id "Ov23\\x1b[2Jli": contains a control character' in r.stderr


def hostile(verification_uri: str, **device: object) -> Loopback:
    """A server whose every text is an attack on the terminal; it then denies access."""
    answers = {"requests": 0}

    def respond(h: object, body: bytes) -> None:
        answers["requests"] += 1
        js = [("Content-Type", "application/json")]
        if h.path == "/login/device/code":  # type: ignore[attr-defined]
            doc = {"device_code": "DC", "user_code": "AB\x1b]0;pwned\x07CD-EF\u009b2JGH",
                   "verification_uri": verification_uri, "expires_in": 900, "interval": 1}
            doc.update(device)
            send(h, 200, json.dumps(doc).encode(), js)  # type: ignore[arg-type]
        else:
            send(h, 200, json.dumps({"error": "access_denied", "error_description":  # type: ignore[arg-type]
                                     "no \x1b[31mred\x1b[0m way\x07 \u202egnp.exe \x1bc\x7f"}).encode(), js)

    srv = Loopback(respond)
    srv.answers = answers  # type: ignore[attr-defined]
    return srv


def fake_browser(tmp_path: Path) -> Dict[str, str]:
    """BROWSER pointing at a script that records the URL it was asked to open."""
    script = tmp_path / "browser.sh"
    script.write_text(f"#!/bin/sh\necho \"$1\" >> {tmp_path / 'opened'}\n")
    script.chmod(0o755)
    return {"BROWSER": f"{script} %s"}


@pytest.mark.skipif(os.name != "posix", reason="a shell script as the browser")
def test_nothing_a_server_sends_reaches_the_terminal_raw(tmp_path: Path) -> None:
    with hostile("https://github.com/login/device\x1b[2J\x1b]2;title\x07", verification_uri_complete="https://gıthub.com/login/device?c=1") as srv:
        r = cli("login", "--open", "--client-id", "Ov23li", "--store", "memory", "--base-url", srv.origin,
                env=clean_env(**fake_browser(tmp_path)))
    assert r.returncode == 1
    assert_clean(r.stderr)
    assert "ABCD-EFGH" in r.stderr
    assert "https://github.com/login/device" in r.stderr
    assert "xn--gthub-n4a.com" in r.stderr and "gıthub" not in r.stderr
    assert "no red way gnp.exe" in r.stderr
    assert "pwned" not in r.stderr and "title" not in r.stderr
    # The complete URI is an https page: opened with its host in the ASCII form shown.
    assert (tmp_path / "opened").read_text().strip() == "https://xn--gthub-n4a.com/login/device?c=1"


@pytest.mark.skipif(os.name != "posix", reason="a shell script as the browser")
@pytest.mark.parametrize("uri", ["javascript:alert(document.cookie)", "http://evil.example/login/device",
                                 "file:///etc/passwd", "https:evil.example/x", "https://github.com/\x1b[2J"])
def test_only_https_or_loopback_pages_are_opened(tmp_path: Path, uri: str) -> None:
    with hostile(uri.encode().decode("unicode_escape")) as srv:
        r = cli("login", "--open", "--client-id", "Ov23li", "--store", "memory", "--base-url", srv.origin,
                env=clean_env(**fake_browser(tmp_path)))
    assert r.returncode == 1
    assert_clean(r.stderr)
    assert not (tmp_path / "opened").exists()
    assert "not opened" in r.stderr or "was not opened" in r.stderr


@pytest.mark.skipif(os.name != "posix", reason="a shell script as the browser")
def test_a_loopback_http_page_is_opened(tmp_path: Path) -> None:
    with hostile("http://127.0.0.1:9/login/device") as srv:
        r = cli("login", "--open", "--client-id", "Ov23li", "--store", "memory", "--base-url", srv.origin,
                env=clean_env(**fake_browser(tmp_path)))
    assert r.returncode == 1
    assert (tmp_path / "opened").read_text().strip() == "http://127.0.0.1:9/login/device"


def test_login_checks_the_store_is_writable_before_showing_a_code(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with hostile("https://github.com/login/device") as srv:
        r = cli("login", "--client-id", "Ov23li", "--store", "file", "--store-path", str(blocker / "tokens"),
                "--base-url", srv.origin, env=clean_env())
        asked = srv.answers["requests"]  # type: ignore[attr-defined]
    assert r.returncode == 1
    assert "store" in r.stderr and str(blocker / "tokens") in r.stderr
    assert "one-time code" not in r.stderr
    assert asked == 0  # no device code was even requested
    assert_clean(r.stderr)


def test_the_writability_check_leaves_nothing_behind(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with hostile("https://github.com/login/device") as srv:
        r = cli("login", "--client-id", "Ov23li", "--store", "file", "--store-path", str(store),
                "--base-url", srv.origin, env=clean_env())
    assert r.returncode == 1 and "one-time code" in r.stderr  # it got as far as the code, then was denied
    assert [p.name for p in store.iterdir() if not p.name.endswith((".lock", ".lease"))] == []


def test_a_corrupt_entry_is_a_store_error_naming_the_file_not_signed_out(tmp_path: Path) -> None:
    from deviceflow import FileStore
    from deviceflow.stores.file import entry_name

    store = tmp_path / "store"
    origin = "http://127.0.0.1:9"
    FileStore(store).set(f"deviceflow:v1:{origin}|oauth-app|Ov23li|", "{}")
    entry = store / f"{entry_name(f'deviceflow:v1:{origin}|oauth-app|Ov23li|')}.json"
    entry.write_text("{not json")
    r = cli("token", "--client-id", "Ov23li", "--store", "file", "--store-path", str(store), "--base-url", origin,
            env=clean_env())
    assert r.returncode == 1
    assert str(entry) in r.stderr and "Not signed in" not in r.stderr
    assert "store: store" not in r.stderr and "failed: store:" not in r.stderr  # said once
    assert entry.read_text() == "{not json"
    assert_clean(r.stderr)


def test_messages_carry_the_name_once(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from deviceflow import _cli
    from deviceflow.errors import DeviceFlowError, StoreError

    for error in (DeviceFlowError(code="network"), DeviceFlowError("deviceflow: deviceflow: twice"), StoreError("store: full")):
        def fail(args: object, out: object, err: object, error: Exception = error) -> int:
            raise error

        monkeypatch.setitem(_cli.COMMANDS, "status", fail)
        err = io.StringIO()
        assert _cli.main(["status", "--client-id", "x", "--store", "memory"], io.StringIO(), err) == 1
        text = err.getvalue()
        assert text.count("deviceflow:") == 1, text


def test_ctrl_c_anywhere_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from deviceflow import _cli

    def interrupted(args: object, out: object, err: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setitem(_cli.COMMANDS, "token", interrupted)
    err = io.StringIO()
    assert _cli.main(["token", "--client-id", "x", "--store", "memory"], io.StringIO(), err) == 130
    assert err.getvalue().strip() == "deviceflow: cancelled"
    out = io.StringIO()
    assert _cli.main(["token", "--client-id", "x", "--store", "memory", "--json"], out, io.StringIO()) == 130
    assert json.loads(out.getvalue()) == {"error": {"code": "cancelled", "message": "cancelled"}}
