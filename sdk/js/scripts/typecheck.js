// npm run typecheck, second half: TypeScript checks the JavaScript in src/
// (checkJs, tsconfig.json) and test/types/implements.ts checks that
// index.d.ts describes it. Findings not yet fixed are listed, without line
// numbers, in test/types/known-errors.txt: a finding not listed there fails,
// and so does a listed one that no longer occurs (delete its line).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsc = fileURLToPath(new URL("../node_modules/typescript/bin/tsc", import.meta.url));
const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json", "--pretty", "false"], { cwd: root, encoding: "utf8" });
if (r.error) throw r.error;

// "src/x.js(12,3): error TS2339: Property ..." -> "src/x.js TS2339 Property ..."
const found = [];
for (const line of r.stdout.split("\n")) {
  const m = /^(\S+)\(\d+,\d+\): error (TS\d+): (.*)$/.exec(line);
  if (m) found.push(`${m[1]} ${m[2]} ${m[3].replaceAll(root, "")}`);
  else if (line.trim() && !line.startsWith(" ")) found.push(line);
}
const known = readFileSync(new URL("../test/types/known-errors.txt", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() && !l.startsWith("#"));

const unknown = [...found];
const gone = [];
for (const k of known) {
  const i = unknown.indexOf(k);
  if (i >= 0) unknown.splice(i, 1);
  else gone.push(k);
}
for (const f of unknown) console.error(`typecheck: ${f}`);
for (const g of gone) console.error(`typecheck: no longer found, delete from test/types/known-errors.txt: ${g}`);
if (unknown.length) console.error(r.stdout);
if (unknown.length || gone.length || (r.status !== 0 && found.length === 0)) process.exit(1);
console.log(`typecheck: src/ and index.d.ts agree (${known.length} known findings in test/types/known-errors.txt)`);
