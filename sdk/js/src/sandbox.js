/**
 * The host's sandbox: the plugin may reach only the hosts derived from the
 * configured base URL (github.com and api.github.com for github.com, HOST for
 * GitHub Enterprise Server), over https except for loopback addresses.
 */

/**
 * Derives the allow-list ("host" or "host:port", lower case).
 *
 * @param {string | undefined} baseUrl
 * @returns {Set<string>}
 */
export function allowedHosts(baseUrl) {
  let url;
  try {
    url = new URL(baseUrl || "https://github.com");
  } catch {
    return new Set();
  }
  const host = url.host.toLowerCase();
  if (host === "github.com" || host === "api.github.com") {
    return new Set(["github.com", "api.github.com"]);
  }
  if (host.endsWith(".ghe.com")) {
    // GitHub Enterprise Cloud with data residency: web and API hosts.
    const web = host.replace(/^api\./, "");
    return new Set([web, `api.${web}`]);
  }
  return new Set([host]);
}

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
