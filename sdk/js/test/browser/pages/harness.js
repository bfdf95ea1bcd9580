// The test harness: the browser entry, imported by URL as a page without a
// bundler would, handed to the tests as window.df.
import * as df from "../../../src/browser/index.js";

const w = /** @type {any} */ (window);
w.df = df;
w.dfReady = true;
document.getElementById("status").textContent = "ready";
