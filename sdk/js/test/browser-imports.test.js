// The browser entry reaches no Node built-in and no bare package name: a
// walk of its import graph from src/browser/index.js, following every
// static and dynamic import with a literal specifier. Whatever it reaches a
// plain <script type="module"> can load by URL, without a bundler.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { builtinModules } from "node:module";

const ENTRY = new URL("../src/browser/index.js", import.meta.url);
const SPECIFIER = /(?:^|[\s;}])(?:import|export)\s*(?:[\w*{}\s,$]+\s*from\s*)?["']([^"']+)["']|\bimport\s*\(\s*["']([^"']+)["']\s*\)/g;

function walk(entry) {
  const seen = new Map();
  const problems = [];
  const queue = [entry.href];
  while (queue.length) {
    const href = queue.shift();
    if (seen.has(href)) continue;
    // Comments out first: JSDoc's import("…") types are not imports.
    const source = readFileSync(fileURLToPath(href), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/(^|[^:"'\\])\/\/.*$/gm, "$1");
    const specs = [];
    for (const m of source.matchAll(SPECIFIER)) specs.push(m[1] ?? m[2]);
    seen.set(href, specs);
    for (const spec of specs) {
      if (spec.startsWith("node:") || builtinModules.includes(spec)) {
        problems.push(`${rel(href)} imports the Node built-in ${spec}`);
      } else if (!spec.startsWith("./") && !spec.startsWith("../")) {
        problems.push(`${rel(href)} imports the bare name ${spec} (a page without a bundler cannot resolve it)`);
      } else {
        queue.push(new URL(spec, href).href);
      }
    }
  }
  return { files: [...seen.keys()].map(rel), problems };
}

const root = pathToFileURL(fileURLToPath(new URL("..", import.meta.url))).href;
const rel = (href) => href.slice(root.length);

test("the browser entry's import graph has no Node built-in and no bare name", () => {
  const { files, problems } = walk(ENTRY);
  assert.deepEqual(problems, []);
  assert.ok(files.includes("src/strategy.js"), "the strategy is the Node entry's");
  assert.ok(files.includes("src/host-core.js"), "the host is the Node entry's");
  assert.ok(files.includes("browser/wasm_exec.js"), "Go's loader");
  for (const nodeOnly of ["src/host.js", "src/plugin.js", "src/lock.js", "src/file-store.js", "src/keyring-store.js"]) {
    assert.ok(!files.includes(nodeOnly), `${nodeOnly} is Node's only`);
  }
});

test("the walk sees Node imports where there are some (it is not vacuous)", () => {
  const { problems } = walk(new URL("../src/index.js", import.meta.url));
  assert.ok(problems.some((p) => p.includes("node:")));
});

test("package.json sends bundlers to the browser entry", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.exports["."].browser.default, "./src/browser/index.js");
  assert.equal(pkg.browser, "./src/browser/index.js");
  assert.ok(Object.keys(pkg.exports["."]).indexOf("browser") < Object.keys(pkg.exports["."]).indexOf("default"), "browser before default");
  assert.ok(pkg.files.includes("browser/"), "the engine and wasm_exec.js are packed");
});
