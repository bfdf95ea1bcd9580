/**
 * Errors leave the plugin as JSON `{code, message, error?, description?,
 * uri?, status?}` (wit/deviceflow.wit). DeviceFlowError carries those fields
 * and also looks like the RequestError that @octokit/auth-oauth-device
 * throws: for a server's OAuth error the message is octokit's
 * ("<description> (<error>, <uri>)") and the name "HttpError", `status` is 400 for
 * an OAuth error GitHub answered with HTTP 200 (as octokit reports it), and
 * `response.data` holds the server's `error`, `error_description` and
 * `error_uri`. No field ever holds a token.
 */
export class DeviceFlowError extends Error {
  /**
   * @param {{code: string, message?: string, error?: string, description?: string, uri?: string, status?: number}} fields
   * @param {{cause?: unknown}} [options]
   */
  constructor(fields, options) {
    const detail = fields.message || `deviceflow: ${fields.code}`;
    // A server's OAuth error reads exactly as octokit's RequestError does:
    // "<error_description> (<error>, <error_uri>)", "undefined" for a field
    // the server left out, as octokit writes it. The plugin's own message,
    // which adds what to do, stays in `detail`. An app that cannot use the
    // device flow ("unsupported") keeps the advice in its message.
    const octokitStyle = fields.error && fields.code !== "unsupported";
    super(octokitStyle ? `${fields.description} (${fields.error}, ${fields.uri})` : detail, options);
    /** "HttpError" (as octokit's RequestError) for a server's OAuth error, else "DeviceFlowError". */
    this.name = fields.error ? "HttpError" : "DeviceFlowError";
    /** The plugin's error code, such as "access_denied" or "cancelled". */
    this.code = fields.code;
    /** The plugin's message: the error and what to do about it. */
    this.detail = detail;
    if (fields.error) {
      /** The server's raw OAuth error string. */
      this.oauthError = fields.error;
      this.description = fields.description;
      this.uri = fields.uri;
      const httpStatus = fields.status || 200;
      this.status = httpStatus === 200 ? 400 : httpStatus;
      const data = { error: fields.error };
      if (fields.description) data.error_description = fields.description;
      if (fields.uri) data.error_uri = fields.uri;
      this.response = { status: httpStatus, headers: {}, data };
    } else if (fields.status) {
      this.status = fields.status;
    }
  }
}

/**
 * Every code an export can answer with (wit: error-code), plus the host's
 * own: "plugin" (the plugin failed: a trap, a dead worker) and "plugin_abi"
 * (the plugin speaks another major version of the contract).
 */
export const codes = Object.freeze([
  "expired_token",
  "access_denied",
  "unsupported",
  "incorrect_client_credentials",
  "incorrect_device_code",
  "unsupported_grant_type",
  "bad_refresh_token",
  "oauth_error",
  "not_found",
  "cancelled",
  "network",
  "http_denied",
  "store",
  "invalid_input",
  "invalid_response",
  "plugin",
  "plugin_abi",
]);

/**
 * Turns what Extism threw for a failed call into a DeviceFlowError: the
 * plugin's error JSON when it is there, otherwise a "plugin" failure (a trap,
 * a dead worker).
 *
 * @param {unknown} thrown
 * @returns {{error: DeviceFlowError, fromPlugin: boolean}}
 */
export function fromCallFailure(thrown) {
  const text = thrown instanceof Error ? thrown.message : String(thrown);
  const prefix = "Plugin-originated error: ";
  if (text.startsWith(prefix)) {
    try {
      const fields = JSON.parse(text.slice(prefix.length));
      if (fields && typeof fields.code === "string" && fields.code) {
        return { error: new DeviceFlowError(fields), fromPlugin: true };
      }
    } catch {
      // Not the contract's JSON: fall through to a plugin failure.
    }
  }
  return {
    error: new DeviceFlowError({ code: "plugin", message: `deviceflow plugin: ${text}` }, { cause: thrown }),
    fromPlugin: false,
  };
}

/**
 * The error for a call stopped by its AbortSignal.
 *
 * @param {AbortSignal} signal
 */
export function cancelledError(signal) {
  return new DeviceFlowError(
    { code: "cancelled", message: "cancelled: the flow was stopped before it finished" },
    { cause: signal.reason },
  );
}

/**
 * StoreError is what the SDK's stores throw when their backend fails or
 * holds something they cannot read; the plugin then fails the call with code
 * "store" and this message. `path` names the file concerned, when there is
 * one.
 */
export class StoreError extends Error {
  /**
   * @param {string} message
   * @param {{path?: string, cause?: unknown}} [options]
   */
  constructor(message, { path, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "StoreError";
    /** Always "store". */
    this.code = /** @type {const} */ ("store");
    if (path !== undefined) this.path = path;
  }
}

/**
 * The error for a plugin whose contract ABI has another major version than
 * the one this SDK speaks: the host refuses to run it.
 *
 * @param {string} found the plugin's `info().abi`, or a description
 * @param {string} expected this SDK's ABI version
 * @param {string} [where] the plugin's path
 */
export function abiError(found, expected, where) {
  const err = new DeviceFlowError({
    code: "plugin_abi",
    message:
      `deviceflow: the plugin${where ? ` ${where}` : ""} speaks contract ABI ${found}, ` +
      `but this SDK needs ABI ${expected.split(".")[0]}.x (${expected}): install the plugin that ships with this SDK`,
  });
  err.abi = found;
  err.expectedAbi = expected;
  return err;
}
