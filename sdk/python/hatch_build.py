"""Copies the repository's plugin (plugin/deviceflow.wasm) into the package.

The plugin is built once, from Go, at the top of the repository; the Python
package ships a copy of it. This hook makes the copy whenever a wheel (or an
editable install) is built from a checkout. Building from an sdist, which
already holds the copy, needs no repository.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE_WASM = Path("src/deviceflow/deviceflow.wasm")
REPO_WASM = Path("../../plugin/deviceflow.wasm")


class CopyPluginHook(BuildHookInterface):
    """Puts deviceflow.wasm next to the package's modules."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        root = Path(self.root)
        source = root / REPO_WASM
        target = root / PACKAGE_WASM
        if source.is_file():
            if not target.is_file() or target.read_bytes() != source.read_bytes():
                shutil.copyfile(source, target)
        elif not target.is_file():
            raise RuntimeError(
                "deviceflow.wasm not found: build from a repository checkout "
                "(plugin/deviceflow.wasm) or from the sdist"
            )
