// Plays one conformance vector in the page, through the browser entry's Host
// and the GOOS=js engine, with the semantics of wit/conformance/README.md as
// the Node runner (conformance.test.js) plays them: fake wall and monotonic
// clocks (wallSteps move the wall clock alone), a fake sleep, cancelAtSleep
// and cancelAtEvent, a 1 s per-request cap, and the vector's store. The
// requests go out through the page's own fetch to the runner's scripted
// server (another origin, CORS); what the server does to the clocks and the
// store while a request is in flight comes back through `bridge.effects()`,
// and the timeoutMs each request asked for goes to it through
// `bridge.asked()`. Answers what the Node side checks.
import { Host } from "../../../src/browser/index.js";
import { refusal } from "../../../src/sandbox.js";
import { VectorStore } from "../../support/vector-store.js";

const DEFAULT_CLOCK = 1767225600000;
const DEFAULT_MONO_CLOCK = 1000000000;

/**
 * @param {any} v the vector, {server} already replaced
 * @param {string} origin the scripted server
 * @param {{asked: (ms: number) => Promise<void>, effects: () => Promise<Array<{advanceMs?: number, writes?: Record<string, string | null>}>>}} bridge
 */
export async function playVector(v, origin, bridge) {
  let clock = v.clock || DEFAULT_CLOCK;
  let mono = v.monoClock ?? DEFAULT_MONO_CLOCK;
  const advance = (ms) => {
    clock += ms;
    mono += ms;
  };
  const wallSteps = v.wallSteps ?? [];
  const sleeps = [];
  const events = [];
  let eventCancelled = false;
  const store = new VectorStore(v.store, v.otherLease);
  const host = new Host({
    baseUrl: origin,
    requestTimeoutMs: 1000,
    now: () => clock,
    monotonic: () => mono,
    sleep: (ms) => {
      sleeps.push(ms);
      if (sleeps.length === v.cancelAtSleep) return true;
      advance(ms);
      for (const step of wallSteps) if (step.atSleep === sleeps.length) clock += step.ms;
      return false;
    },
    store,
    onEvent: (event) => {
      events.push(event);
      if (v.cancelAtEvent && event.type === v.cancelAtEvent && !eventCancelled) {
        eventCancelled = true;
        return false;
      }
      return undefined;
    },
  });
  const send = host.http.do.bind(host.http);
  host.http.do = async (req, signal) => {
    if (!refusal(host.http.allowed, req.url)) await bridge.asked(req.timeoutMs);
    try {
      return await send(req, signal);
    } finally {
      for (const fx of await bridge.effects()) {
        if (fx.writes) store.apply(fx.writes);
        if (fx.advanceMs) advance(fx.advanceMs);
      }
    }
  };

  const calls = v.calls ?? [{ export: v.export, input: v.input }];
  const outcomes = [];
  let prevState;
  for (const c of calls) {
    advance(c.advanceMs ?? 0);
    let input = c.input === undefined ? "" : JSON.stringify(c.input);
    if (prevState !== undefined) input = input.replaceAll('"{state}"', prevState);
    let out;
    let err;
    try {
      out = await host.call(c.export, input);
    } catch (e) {
      err = e;
    }
    outcomes.push({
      out,
      err: err && {
        deviceFlowError: err.name === "DeviceFlowError" || err.name === "HttpError",
        code: err.code,
        detail: err.detail ?? err.message,
        oauthError: err.oauthError,
        description: err.description,
        uri: err.uri,
        status: err.response?.status ?? err.status,
        stack: String(err.stack ?? err),
      },
      held: store.heldKeys(),
    });
    if (out && typeof out === "object" && out.state !== undefined) prevState = JSON.stringify(out.state);
  }
  return { outcomes, sleeps, events, store: store.snapshot() };
}
