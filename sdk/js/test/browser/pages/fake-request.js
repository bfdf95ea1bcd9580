// A small stand-in for an @octokit/request instance, for pages without a
// bundler (the real one needs a bundler for its CommonJS dependency): the
// parts the strategy and the host use — endpoint.DEFAULTS, merge, parse, and
// request(route | options) sending through `request.fetch` when given, as
// octokit does. `seen` records each request's method, URL and authorization.

const RESERVED = new Set(["method", "baseUrl", "url", "headers", "request", "mediaType", "data"]);

export function fakeRequest(baseUrl) {
  const seen = [];
  const merge = (route, params = {}) => {
    const options = typeof route === "string" ? { ...params, method: route.split(" ")[0], url: route.split(" ")[1] } : { ...route, ...params };
    return { ...options, baseUrl: options.baseUrl ?? baseUrl, headers: { ...(options.headers ?? {}) } };
  };
  const parse = (o) => {
    const url = /^https?:/.test(o.url) ? o.url : `${o.baseUrl}${o.url}`;
    let body;
    if (o.data !== undefined) body = o.data;
    else {
      const fields = Object.fromEntries(Object.entries(o).filter(([k]) => !RESERVED.has(k)));
      if (Object.keys(fields).length > 0) {
        body = JSON.stringify(fields);
        // As octokit does, after the hooks: a JSON body gets its content type.
        if (!Object.keys(o.headers).some((k) => k.toLowerCase() === "content-type")) o.headers["content-type"] = "application/json; charset=utf-8";
      }
    }
    return { method: o.method ?? "GET", url, headers: o.headers, body };
  };
  const request = async (route, params) => {
    const o = merge(route, params);
    const { method, url, headers, body } = parse(o);
    seen.push({ method, url, authorization: headers.authorization ?? null });
    const send = o.request?.fetch ?? fetch;
    const res = await send(url, { method, headers, body, redirect: o.request?.redirect, signal: o.request?.signal });
    const text = await res.text();
    let data = text;
    try {
      data = JSON.parse(text);
    } catch {
      // not JSON
    }
    const out = { status: res.status, headers: Object.fromEntries(res.headers), data, url };
    if (res.status >= 400) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status, response: out });
    return out;
  };
  request.endpoint = { DEFAULTS: { baseUrl, headers: {}, request: {} }, merge, parse };
  return { request, seen };
}
