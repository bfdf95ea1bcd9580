// One process of the cross-process race (file-store-processes.test.js):
// authenticate once through a FileStore at argv[3] against the fake GitHub
// at argv[2], and print the token.
import { Host, FileStore, closeIdle } from "../../src/index.js";

const [url, path, clientId] = process.argv.slice(2);
try {
  const a = await new Host({ baseUrl: url, store: new FileStore(path) }).call("authenticate", { clientId, clientType: "github-app", baseUrl: url });
  console.log(JSON.stringify({ token: a.token }));
} catch (err) {
  console.log(JSON.stringify({ error: err.code ?? String(err) }));
}
await closeIdle();
