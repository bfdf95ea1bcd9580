/**
 * A workaround for a lost wake-up in @extism/extism 1.0.3's channel between
 * the plugin's worker thread and this thread.
 *
 * Each host function call is answered through a SharedArrayBuffer whose
 * first word is a flag both threads wait on. When this thread signals "the
 * answer is there", Extism sets the flag with a compare-and-exchange loop
 * that can run twice: if the worker has already read the answer and reset
 * the flag in between, the second exchange sets it again, and this thread
 * then waits on a flag nobody will notify. On the next host call
 * `Atomics.notify(flag, 0, 1)` wakes that stale waiter instead of the worker,
 * and the worker sleeps until its 500 ms timeout. Measured: about one call in
 * 300 stalled 0.5–1.5 s, which made a warm call 20 times slower on average
 * (ABI 2 makes more host calls per export, so it shows more).
 *
 * The fix: a notify on one of Extism's buffers wakes every waiter. Extism's
 * waits re-check the flag when they wake, so an extra wake-up is harmless.
 * `Atomics.notify` is wrapped once per process; calls on any other buffer
 * behave exactly as before.
 */

const buffers = new WeakSet();
let installed = false;

/**
 * Registers a plugin's shared buffer for the workaround.
 *
 * @param {{sharedData?: unknown}} plugin an Extism background plugin
 */
export function guardWakeups(plugin) {
  if (typeof SharedArrayBuffer === "undefined" || !(plugin?.sharedData instanceof SharedArrayBuffer)) return;
  buffers.add(plugin.sharedData);
  if (installed) return;
  installed = true;
  const notify = Atomics.notify;
  Atomics.notify = function notify_(typedArray, index, count) {
    if (typedArray && buffers.has(typedArray.buffer)) return notify(typedArray, index);
    return notify(typedArray, index, count);
  };
}
