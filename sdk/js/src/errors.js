/**
 * Errors leave the plugin as JSON `{code, message, error?, description?,
 * uri?, status?}` (wit/deviceflow.wit). DeviceFlowError carries those fields
 * and also looks like the RequestError that @octokit/auth-oauth-device
 * throws: the message is the plugin's octokit-style message
 * ("<description> (<error>, <uri>)" for an OAuth error), `status` is 400 for
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
    super(fields.message || `deviceflow: ${fields.code}`, options);
    this.name = "DeviceFlowError";
    /** The plugin's error code, such as "access_denied" or "cancelled". */
    this.code = fields.code;
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

/** Every code an export can answer with (wit: error-code), plus "plugin". */
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
