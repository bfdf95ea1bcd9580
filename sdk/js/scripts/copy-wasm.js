// Copies the repository's plugin into the package before `npm pack` (prepack)
// and removes the copy afterwards (postpack, with --remove), so the tarball
// carries deviceflow.wasm while the repository keeps one source of truth.
import { copyFileSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const target = fileURLToPath(new URL("../deviceflow.wasm", import.meta.url));
if (process.argv.includes("--remove")) {
  rmSync(target, { force: true });
} else {
  const source = fileURLToPath(new URL("../../../plugin/deviceflow.wasm", import.meta.url));
  copyFileSync(source, target);
}
