#!/usr/bin/env node
// Signs in to GitHub with the device flow and says who you are, the way an
// Octokit app does, with @deviceflow/auth-oauth-device as the auth strategy.
// The token is kept in a file store, so the second run signs in at once;
// Ctrl-C cancels a sign-in that is waiting for you.
//
//   node login.js --client-id Ov23li... [--scopes repo,read:org]
//                 [--base-url https://github.com | https://HOST/api/v3 | emulator URL]
//                 [--github-app] [--store DIR] [--logout]
import { parseArgs } from "node:util";
import { Octokit } from "@octokit/core";
// The one-line switch: this import was "@octokit/auth-oauth-device".
import { createOAuthDeviceAuth, FileStore } from "@deviceflow/auth-oauth-device";

const { values: args } = parseArgs({
  options: {
    "client-id": { type: "string", default: process.env.GITHUB_CLIENT_ID },
    scopes: { type: "string", default: "" },
    "base-url": { type: "string", default: process.env.GITHUB_BASE_URL ?? "https://api.github.com" },
    "github-app": { type: "boolean", default: false },
    store: { type: "string" },
    logout: { type: "boolean", default: false },
  },
});

if (!args["client-id"]) {
  console.error("usage: node login.js --client-id CLIENT_ID [--scopes repo,read:org] [--base-url URL] [--github-app] [--store DIR] [--logout]");
  process.exit(2);
}

// Ctrl-C stops a sign-in at once, wherever it is waiting.
const controller = new AbortController();
process.once("SIGINT", () => controller.abort(new Error("interrupted")));

const octokit = new Octokit({
  baseUrl: args["base-url"],
  authStrategy: createOAuthDeviceAuth,
  auth: {
    clientId: args["client-id"],
    clientType: args["github-app"] ? "github-app" : "oauth-app",
    scopes: args.scopes.split(",").filter(Boolean),
    store: new FileStore(args.store),
    signal: controller.signal,
    onVerification(verification) {
      console.log(`Open ${verification.verification_uri} and enter the code ${verification.user_code}`);
    },
    onEvent(event) {
      if (event.type === "slow_down") console.error(`GitHub asked to slow down: polling every ${event.interval} s`);
      if (event.type === "refreshed") console.error("Refreshed the expiring token.");
    },
  },
});

try {
  if (args.logout) {
    // octokit.auth is the strategy: our extra methods are on it.
    const { removed } = await octokit.auth.logout();
    console.log(removed ? "Signed out." : "Not signed in.");
  } else {
    const { data } = await octokit.request("GET /user");
    console.log(`Signed in as ${data.login}`);
  }
} catch (err) {
  console.error(`Sign-in failed (${err.code ?? err.name}): ${err.message}`);
  process.exitCode = 1;
}

