import { HostCore } from "../host-core.js";
import { runExport } from "./engine.js";

const DIRECT = { runInAsyncScope: (fn) => fn() };
let leases = 0;

/** @type {import("../host-core.js").Platform} */
const BROWSER = {
  runExport,
  // Browsers have no AsyncLocalStorage: the host functions run as they come.
  scope: () => DIRECT,
  // A lease id only has to be unique among this page's leases.
  leaseId: () => globalThis.crypto?.randomUUID?.() ?? `lease-${++leases}-${Math.random().toString(36).slice(2)}`,
};

/**
 * Host runs the engine's exports in the page: fetch inside the sandbox (only
 * the configured GitHub's hosts), timers and clocks, a store and an event
 * sink — the same host as Node's (host-core.js) over the GOOS=js engine.
 */
export class Host extends HostCore {
  /**
   * @param {import("../index.js").HostOptions} [options]
   */
  constructor(options = {}) {
    super(options, BROWSER);
  }
}
