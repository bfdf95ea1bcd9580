/**
 * The contract version this SDK speaks (wit/deviceflow.wit's package
 * version). A plugin whose `info().abi` has another major version is refused,
 * in Node (plugin.js) and in browsers (browser/engine.js).
 */
export const ABI_VERSION = "2.0.0";
