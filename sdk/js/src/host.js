import { AsyncResource } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { Call, HostCore } from "./host-core.js";
import { runExport } from "./plugin.js";

export { Call };

/** @type {import("./host-core.js").Platform} */
const NODE = {
  runExport,
  scope: () => new AsyncResource("deviceflow.call"),
  leaseId: () => randomUUID(),
};

/**
 * Host runs the plugin's exports with this process's capabilities: HTTP
 * (fetch or an @octokit/request instance) inside the sandbox, a clock, a
 * sleep that an AbortSignal cuts short, a store, and an event sink. It holds
 * no protocol logic: slow_down, deadlines, backoff, caching and refresh all
 * happen in the plugin. (What is not Node's is in host-core.js, shared with
 * the browser entry.)
 */
export class Host extends HostCore {
  /**
   * @param {import("./index.js").HostOptions} [options]
   */
  constructor(options = {}) {
    super(options, NODE);
  }
}
