// The differential suite: every scenario of scenarios.js through
// @octokit/auth-oauth-device and through this package against the same fetch
// mock, transcripts compared byte for byte (harness.js). A scenario without
// `deliberate` must be identical; one with it must name a difference listed
// in DELIBERATE (and README.md). Prints a summary line at the end.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { closeIdle } from "../../src/index.js";
import { DELIBERATE, NORMALIZE, firstDifference, runScenario } from "./harness.js";
import { scenarios } from "./scenarios.js";

const outcome = { compared: 0, identical: 0, deliberate: new Map(), unexpected: [] };

after(async () => {
  await closeIdle();
  const names = [...outcome.deliberate].map(([name, n]) => `${name} ×${n}`).join(", ");
  const deliberate = [...outcome.deliberate.values()].reduce((a, b) => a + b, 0);
  const line =
    `differential: ${outcome.compared} scenarios compared with @octokit/auth-oauth-device, ` +
    `${outcome.identical} identical, ${deliberate} deliberate differences (${names})` +
    (outcome.unexpected.length ? `, ${outcome.unexpected.length} UNEXPECTED: ${outcome.unexpected.join("; ")}` : "");
  process.stdout.write(`${line}\n`);
});

test("there are at least 40 scenarios, each named once", () => {
  assert.ok(scenarios.length >= 40, `${scenarios.length} scenarios`);
  assert.equal(new Set(scenarios.map((s) => s.name)).size, scenarios.length);
  for (const s of scenarios) if (s.deliberate) assert.ok(DELIBERATE[s.deliberate], `${s.name}: unknown deliberate difference ${s.deliberate}`);
});

for (const scenario of scenarios) {
  test(`differential: ${scenario.name}`, async () => {
    const octokit = await runScenario(scenario, "octokit");
    const ours = await runScenario(scenario, "ours");
    outcome.compared++;
    const same = JSON.stringify(octokit) === JSON.stringify(ours);
    if (process.env.DEVICEFLOW_DIFF_VERBOSE) {
      process.stdout.write(`--- ${scenario.name}\n${same ? "identical" : firstDifference(octokit, ours)}\n`);
    }
    if (same) {
      outcome.identical++;
      return;
    }
    // Our errors are DeviceFlowError, not @octokit/request-error's class: a
    // scenario equal in everything else is counted under "error-class".
    if (JSON.stringify(octokit) === JSON.stringify(asRequestErrors(ours))) {
      outcome.deliberate.set("error-class", (outcome.deliberate.get("error-class") ?? 0) + 1);
      return;
    }
    if (scenario.deliberate) {
      outcome.deliberate.set(scenario.deliberate, (outcome.deliberate.get(scenario.deliberate) ?? 0) + 1);
      const normalize = NORMALIZE[scenario.deliberate];
      if (normalize) {
        // The named difference taken out, the transcripts must be the same
        // (but for the error class).
        const a = normalize(octokit);
        const b = asRequestErrors(normalize(ours));
        if (JSON.stringify(a) !== JSON.stringify(b)) {
          outcome.unexpected.push(scenario.name);
          assert.fail(`${scenario.name}: beyond ${scenario.deliberate}, octokit and ours differ at ${firstDifference(a, b)}`);
        }
      }
      return;
    }
    outcome.unexpected.push(scenario.name);
    assert.fail(`${scenario.name}: octokit and ours differ at ${firstDifference(octokit, ours)}`);
  });
}

/** The transcript with our error class written as octokit's. */
function asRequestErrors(transcript) {
  return JSON.parse(JSON.stringify(transcript).replaceAll('"class":"DeviceFlowError"', '"class":"RequestError"'));
}
