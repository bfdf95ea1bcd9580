"""The Go emulator (``deviceflow emulator``) as a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import List, Optional


def build_emulator(repo: Path, out_dir: Path) -> Path:
    """Builds the deviceflow command, or takes $DEVICEFLOW_EMULATOR_BIN when set."""
    prebuilt = os.environ.get("DEVICEFLOW_EMULATOR_BIN")
    if prebuilt:
        return Path(prebuilt)
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("the Go toolchain is needed to build the emulator (go is not on PATH)")
    binary = out_dir / ("deviceflow.exe" if os.name == "nt" else "deviceflow")
    subprocess.run([go, "build", "-o", str(binary), "./sdk/cmd/deviceflow"], cwd=repo, check=True)
    return binary


class Emulator:
    """A running emulator: ``url`` is its base URL."""

    def __init__(self, proc: "subprocess.Popen[str]", url: str) -> None:
        self.proc = proc
        self.url = url
        self.stderr: List[str] = []
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()

    @classmethod
    def start(cls, binary: Path, *args: str, interval: str = "200ms", client_id: Optional[str] = None, client_type: str = "oauth-app") -> "Emulator":
        cmd = [str(binary), "emulator", "--interval", interval, *args]
        if client_id:
            cmd += ["--client-id", client_id, "--client-type", client_type]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        line = _readline_with_timeout(proc, 30)
        if not line.startswith("http"):
            proc.kill()
            raise RuntimeError(f"the emulator did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}")
        return cls(proc, line.strip())

    def page_url(self) -> str:
        return self.url + "/login/device"

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def _readline_with_timeout(proc: "subprocess.Popen[str]", seconds: float) -> str:
    box: List[str] = []
    t = threading.Thread(target=lambda: box.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    t.start()
    t.join(seconds)
    return box[0] if box else ""
