// ESLint (flat config): `npm run lint`. The recommended rules over the
// package, its tests, scripts and benchmarks, all ES modules on Node.
import js from "@eslint/js";
import globals from "globals";

export default [
  { ignores: ["node_modules/", "browser/wasm_exec.js"] }, // wasm_exec.js is Go's file, shipped as it is
  js.configs.recommended,
  {
    files: ["**/*.js"],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: { ...globals.node },
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      // An unused argument keeps a signature readable (callbacks, host functions);
      // a leading underscore names a value left out on purpose.
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    // The browser entry and what runs in pages: browser globals, and no Node
    // built-in (test/browser/imports.test.js walks the import graph too).
    files: ["src/browser/**/*.js", "test/browser/pages/**/*.js"],
    languageOptions: { globals: { ...globals.browser } },
    rules: { "no-restricted-imports": ["error", { patterns: [{ group: ["node:*"], message: "the browser entry must not reach a Node built-in" }] }] },
  },
  {
    // Browser tests run in Node and hand functions to the page (page.evaluate).
    files: ["test/browser/*.js"],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
];
