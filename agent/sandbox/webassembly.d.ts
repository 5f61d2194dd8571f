// The few WebAssembly globals the sandbox uses. Node has them at run time; TypeScript only declares them in
// the DOM lib, which this project does not load (quickjs-emscripten's own types refer to these names).
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
  }
  type ImportValue = unknown;
  type Imports = Record<string, Record<string, ImportValue>>;
  type Exports = Record<string, unknown>;
  function compile(bytes: Uint8Array): Promise<Module>;
  class Instance {
    constructor(module: Module, imports: Imports);
    readonly exports: Exports;
  }
}
