/**
 * The plugin's imports (wit/deviceflow.wit, interface host), namespace
 * `extism:host/user`. Each is a thin adaptor: it reads its argument from
 * Extism memory, asks the running call (`slot.call`, see host.js) to do the
 * work, and writes the answer back. None of them ever throws: Extism closes
 * the worker when a host function throws, so every failure becomes the
 * contract's error answer.
 *
 * Values: pointers arrive and leave as BigInt offsets; `sleep`'s ms is an
 * i64 (BigInt); `now` answers an i64 (BigInt); `sleep` and `emit` answer an
 * i32 (0 go on, 1 cancelled).
 *
 * @param {{call: object | null}} slot
 */
export function hostFunctions(slot) {
  const noCall = () => new Error("no call is running on this plugin instance");
  const current = () => {
    if (!slot.call) throw noCall();
    return slot.call;
  };
  const storeFailure = (err) => ({ error: { kind: "store", message: messageOf(err) } });

  return {
    async http_request(cp, offset) {
      let answer;
      try {
        const req = JSON.parse(cp.read(offset).text());
        answer = await current().http(req);
      } catch (err) {
        answer = { error: { kind: "denied", message: `malformed request from the plugin: ${messageOf(err)}` } };
      }
      return cp.store(JSON.stringify(answer));
    },

    async sleep(_cp, ms) {
      try {
        return (await current().sleep(Number(ms))) ? 1 : 0;
      } catch {
        return 1;
      }
    },

    now() {
      try {
        return BigInt(Math.floor(current().now()));
      } catch {
        return BigInt(Date.now());
      }
    },

    async store_get(cp, offset) {
      let answer;
      try {
        const value = await current().storeGet(cp.read(offset).text());
        answer = value === undefined || value === null ? {} : { value: String(value) };
      } catch (err) {
        answer = storeFailure(err);
      }
      return cp.store(JSON.stringify(answer));
    },

    async store_set(cp, offset) {
      let answer = {};
      try {
        const { key, value } = JSON.parse(cp.read(offset).text());
        await current().storeSet(key, value);
      } catch (err) {
        answer = storeFailure(err);
      }
      return cp.store(JSON.stringify(answer));
    },

    async store_delete(cp, offset) {
      let answer = {};
      try {
        await current().storeDelete(cp.read(offset).text());
      } catch (err) {
        answer = storeFailure(err);
      }
      return cp.store(JSON.stringify(answer));
    },

    async emit(cp, offset) {
      try {
        return (await current().emit(cp.read(offset).text())) ? 1 : 0;
      } catch {
        return 1;
      }
    },
  };
}

function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}
