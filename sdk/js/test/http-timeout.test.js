// The plugin's timeoutMs bounds the whole exchange, the body included: a
// server that sends its headers at once and then trickles its body is cut
// off at the timeout, through every transport.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { request as octokitRequest } from "@octokit/request";
import { HttpClient } from "../src/http.js";

/** A loopback server answering 200 at once, then one byte of body every 25 ms for 10 s. */
async function tricklingServer(t) {
  const closed = [];
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "application/json", "content-length": "400" });
    res.write("{");
    let sent = 1;
    const timer = setInterval(() => {
      if (++sent >= 400) return clearInterval(timer);
      res.write(" ");
    }, 25);
    res.on("close", () => {
      clearInterval(timer);
      closed.push(performance.now());
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { origin: `http://127.0.0.1:${server.address().port}`, closed };
}

/** A fetch whose body trickles forever and ignores every abort signal. */
function deafFetch() {
  return async () => {
    let timer;
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("{"));
        timer = setInterval(() => controller.enqueue(new TextEncoder().encode(" ")), 25);
      },
      cancel() {
        clearInterval(timer);
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
  };
}

for (const transport of ["fetch", "octokit-request", "octokit-request-with-fetch"]) {
  test(`a trickling body is cut off at the request's timeoutMs (${transport})`, async (t) => {
    const { origin, closed } = await tricklingServer(t);
    const client = new HttpClient({
      allowed: new Set([new URL(origin).host]),
      request:
        transport === "fetch"
          ? undefined
          : transport === "octokit-request"
            ? octokitRequest
            : octokitRequest.defaults({ request: { fetch: (url, init) => fetch(url, init) } }),
      timeoutMs: 30_000,
      maxResponseBytes: 1 << 20,
    });
    const start = performance.now();
    const answer = await client.do({ method: "GET", url: `${origin}/trickle`, headers: {}, body: "", timeoutMs: 400 });
    const took = performance.now() - start;
    assert.equal(answer.error?.kind, "timeout", JSON.stringify(answer));
    assert.ok(took >= 390 && took < 1500, `answered after ${took} ms`);
    // The connection itself is dropped, not left trickling in the background.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(closed.length, 1, "the server saw the connection closed");
    assert.ok(closed[0] - start < 1500, "closed soon after the timeout");
  });
}

test("the host's own cap bounds a trickling body too, and a deaf fetch is cancelled", async () => {
  let cancelled = false;
  const inner = deafFetch();
  const fetchFn = async (url, init) => {
    const res = await inner(url, init);
    const reader = res.body.getReader();
    const watched = new ReadableStream({
      async pull(controller) {
        const { done, value } = await reader.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel(reason) {
        cancelled = true;
        return reader.cancel(reason);
      },
    });
    return new Response(watched, { status: res.status, headers: res.headers });
  };
  const client = new HttpClient({ allowed: new Set(["github.com", "api.github.com"]), fetch: fetchFn, timeoutMs: 300, maxResponseBytes: 1 << 20 });
  const start = performance.now();
  const answer = await client.do({ method: "POST", url: "https://github.com/login/oauth/access_token", headers: {}, body: "{}", timeoutMs: 30_000 });
  assert.equal(answer.error?.kind, "timeout");
  assert.ok(performance.now() - start < 1200);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(cancelled, "the body was cancelled");
});
