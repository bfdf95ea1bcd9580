import assert from "node:assert/strict";
import { DeviceFlowError } from "../../src/errors.js";
import { jsonEqual, jsonMatch, tryParse } from "./match.js";

// The conformance runners' checks of a call's outcome and of the store after
// the calls (wit/conformance/README.md), shared by the Node runner and the
// browser runner.

export function checkOutcome(label, out, err, result, wantErr) {
  if (wantErr) {
    assert.ok(err instanceof DeviceFlowError, `${label}: got ${JSON.stringify(out)} / ${err}; want error ${wantErr.code}`);
    assert.equal(err.code, wantErr.code, `${label}: error code (${err.message})`);
    const raw = {
      message: err.detail ?? err.message,
      error: err.oauthError,
      description: err.description,
      uri: err.uri,
      status: err.response?.status ?? err.status,
    };
    for (const f of ["message", "error", "description", "uri", "status"]) {
      if (wantErr[f] !== undefined) assert.equal(raw[f], wantErr[f], `${label}: error ${f}`);
    }
    if (wantErr.messageContains) {
      // The vectors give the plugin's message, which the SDK keeps in `detail`.
      const message = err.detail ?? err.message;
      assert.ok(message.includes(wantErr.messageContains), `${label}: error message ${JSON.stringify(message)} lacks ${JSON.stringify(wantErr.messageContains)}`);
    }
    return;
  }
  if (err) assert.fail(`${label}: unexpected error: ${err.stack ?? err}`);
  if (result !== undefined) {
    assert.ok(jsonMatch(out, result), `${label}: result ${JSON.stringify(out)}, want ${JSON.stringify(result)}`);
  }
}

export function checkStore(got, want) {
  const keys = [...new Set([...Object.keys(got), ...Object.keys(want)])].sort();
  for (const k of keys) {
    assert.ok(Object.hasOwn(got, k), `store: missing ${k}`);
    assert.ok(Object.hasOwn(want, k), `store: unexpected ${k} = ${got[k]}`);
    const g = got[k];
    const w = want[k];
    if (g !== w) {
      const pg = tryParse(g);
      const pw = tryParse(w);
      assert.ok(pg !== undefined && pw !== undefined && jsonEqual(pg, pw), `store: ${k} = ${g}, want ${w}`);
    }
  }
}
