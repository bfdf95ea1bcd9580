/**
 * A JSON parser that also remembers the source text of every object and
 * array, so a runner can send a vector's response body exactly as written
 * (compacted, numbers untouched), as wit/conformance/README.md asks.
 */
export function parseWithSource(text) {
  const sources = new WeakMap();
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  const fail = (what) => {
    throw new SyntaxError(`JSON: ${what} at ${i}`);
  };
  const value = () => {
    ws();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const obj = {};
      ws();
      if (text[i] === "}") {
        i++;
      } else {
        for (;;) {
          ws();
          if (text[i] !== '"') fail("expected a key");
          const key = string();
          ws();
          if (text[i++] !== ":") fail("expected ':'");
          obj[key] = value();
          ws();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i++] !== "}") fail("expected '}'");
          break;
        }
      }
      sources.set(obj, text.slice(start, i));
      return obj;
    }
    if (c === "[") {
      i++;
      const arr = [];
      ws();
      if (text[i] === "]") {
        i++;
      } else {
        for (;;) {
          arr.push(value());
          ws();
          if (text[i] === ",") {
            i++;
            continue;
          }
          if (text[i++] !== "]") fail("expected ']'");
          break;
        }
      }
      sources.set(arr, text.slice(start, i));
      return arr;
    }
    if (c === '"') return string();
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!m) fail("unexpected token");
    i += m[0].length;
    return JSON.parse(m[0]);
  };
  const string = () => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  const result = value();
  ws();
  if (i !== text.length) fail("trailing data");
  return { value: result, sources };
}

/** Removes the white space outside strings from JSON source text. */
export function compact(source) {
  let out = "";
  let inString = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (inString) {
      out += c;
      if (c === "\\") out += source[++i];
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (!" \t\r\n".includes(c)) {
      out += c;
    }
  }
  return out;
}
