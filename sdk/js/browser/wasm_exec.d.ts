// Types for Go's wasm_exec.js (copied from the Go toolchain by `make wasm`,
// shipped as it is): importing it defines globalThis.Go, the loader of
// programs built with GOOS=js.
export {};

declare global {
  class Go {
    importObject: WebAssembly.Imports;
    run(instance: WebAssembly.Instance): Promise<void>;
  }
}
