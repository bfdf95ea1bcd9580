/** Deep equality of parsed JSON values. */
export function jsonEqual(a, b) {
  return matchValue(a, b, false);
}

/** Deep equality where the pattern's string "{any}" matches any present value. */
export function jsonMatch(got, pattern) {
  return matchValue(got, pattern, true);
}

function matchValue(g, p, wildcards) {
  if (wildcards && p === "{any}") return g !== undefined && g !== null;
  if (Array.isArray(p)) {
    return Array.isArray(g) && g.length === p.length && p.every((x, i) => matchValue(g[i], x, wildcards));
  }
  if (p !== null && typeof p === "object") {
    if (g === null || typeof g !== "object" || Array.isArray(g)) return false;
    const pk = Object.keys(p);
    if (Object.keys(g).length !== pk.length) return false;
    return pk.every((k) => Object.hasOwn(g, k) && matchValue(g[k], p[k], wildcards));
  }
  return g === p;
}

/** Parses JSON, or answers undefined. */
export function tryParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
