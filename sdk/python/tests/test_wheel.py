"""The package as users get it: sdist and wheel built, installed into a fresh venv, used."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest

from helpers.emulator import Emulator
from helpers.page import enter_code

SDK = Path(__file__).resolve().parents[1]
REPO = SDK.parent.parent
RUNTIME = ["extism==1.1.1", "extism-sys==1.41.0", "cffi==2.1.1", "pycparser==3.12"]
CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Builds the sdist, then the wheel from the sdist (so the sdist is complete)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(SDK)],
                   check=True, capture_output=True, text=True)
    return out


@pytest.fixture(scope="module")
def fresh(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with only the wheel and its runtime installed."""
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    wheelhouse = SDK / ".wheelhouse"
    if not wheelhouse.is_dir():
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:",
                        "--dest", str(wheelhouse), *RUNTIME], check=True)
    wheel = next(dist.glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index",
                    "--find-links", str(wheelhouse), str(wheel)], check=True)
    return python


def test_the_wheel_ships_the_plugin_and_the_type_marker(dist: Path) -> None:
    wheel = next(dist.glob("deviceflow-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        assert z.read("deviceflow/deviceflow.wasm") == (REPO / "plugin" / "deviceflow.wasm").read_bytes()
        metadata = z.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "deviceflow/py.typed" in names
    assert not any(n.startswith("tests/") for n in names)
    assert "Requires-Dist: extism==1.1.1" in metadata
    assert "Provides-Extra: keyring" in metadata


def test_the_sdist_holds_the_plugin(dist: Path) -> None:
    import tarfile

    sdist = next(dist.glob("deviceflow-*.tar.gz"))
    with tarfile.open(sdist) as t:
        names = t.getnames()
    assert any(n.endswith("src/deviceflow/deviceflow.wasm") for n in names)


def _env(tmp: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["DEVICEFLOW_CONFIG_DIR"] = str(tmp / "config")
    return env


def test_the_installed_wheel_runs_from_a_fresh_venv(fresh: Path, tmp_path: Path) -> None:
    code = (
        "import deviceflow, sys\n"
        "print(deviceflow.__file__)\n"
        "print(deviceflow.info()['name'], deviceflow.info()['abi'])\n"
    )
    r = subprocess.run([str(fresh), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=120)
    assert r.returncode == 0, r.stderr
    where, info = r.stdout.splitlines()
    assert Path(where).resolve().is_relative_to(fresh.parent.parent.resolve())
    assert info == "deviceflow 2.0.0"


def test_a_whole_sign_in_with_the_installed_wheel(fresh: Path, emulator: Emulator, tmp_path: Path) -> None:
    env = _env(tmp_path)
    args = ["--client-id", "Ov23liWheel", "--base-url", emulator.url, "--store", "file",
            "--store-path", str(tmp_path / "tokens.json")]
    login = subprocess.Popen([str(fresh), "-m", "deviceflow", "login", *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    assert login.stderr is not None
    seen: List[str] = []
    for line in login.stderr:
        seen.append(line)
        m = CODE.search(line)
        if m:
            assert enter_code(emulator.page_url(), m.group(1)) == "authorized"
            break
    _, err = login.communicate(timeout=60)
    assert login.returncode == 0, "".join(seen) + err
    r = subprocess.run([str(fresh), "-m", "deviceflow", "token", *args], capture_output=True, text=True,
                       cwd=tmp_path, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("gho_")


def test_extras_are_optional(fresh: Path, tmp_path: Path) -> None:
    # Without the keyring, cryptography and requests extras the package
    # still imports, and each store says what to install.
    code = (
        "import deviceflow\n"
        "for make in (deviceflow.KeyringStore, lambda: deviceflow.EncryptedFileStore(key='x')):\n"
        "    try:\n"
        "        make()\n"
        "    except deviceflow.StoreError as e:\n"
        "        print(e.message)\n"
        "try:\n"
        "    deviceflow.DeviceFlow('x').requests_auth()\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    r = subprocess.run([str(fresh), "-c", code], capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "store: KeyringStore needs the keyring package: pip install 'deviceflow[keyring]'",
        "store: EncryptedFileStore needs the cryptography package: pip install 'deviceflow[encryption]'",
        "deviceflow.requests_auth needs the requests package: pip install 'deviceflow[requests]'",
    ]
