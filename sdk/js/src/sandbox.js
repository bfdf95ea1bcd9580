/**
 * The host's sandbox: the plugin may reach only the hosts of the endpoints
 * it derives from the configured base URL (Host.allowList asks the plugin's
 * info export; no rule is repeated here), over https except for loopback
 * addresses.
 */

/**
 * Reports why a URL is refused, or null when the sandbox allows it.
 *
 * @param {Set<string>} allowed
 * @param {string} raw
 * @returns {string | null}
 */
export function refusal(allowed, raw) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    return "not an absolute URL";
  }
  if (!allowed.has(url.host.toLowerCase())) {
    return `host ${url.hostname} is not in the allow-list`;
  }
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:") {
    return isLoopback(url.hostname) ? null : "plain http is allowed only for loopback hosts";
  }
  return `scheme ${url.protocol.replace(/:$/, "")} is not allowed`;
}

/** Whether a host name (as URL.hostname gives it) names this machine. */
export function isLoopback(hostname) {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost") return true;
  if (h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
