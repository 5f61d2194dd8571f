import * as fs from 'node:fs';

/**
 * QuickJS's WebAssembly code, apart from the engine's JavaScript glue (quickjs-instance.ts): the agent's thread
 * compiles it for its script workers without loading the engine itself.
 */
const wasmFile = (): Uint8Array => fs.readFileSync(require.resolve('@jitl/quickjs-wasmfile-release-sync/wasm'));
let compiledWasm: WebAssembly.Module | null = null;
let compilingWasm: Promise<WebAssembly.Module> | null = null;

/** The QuickJS WebAssembly code, compiled once per process and instantiated once per script. */
export function quickjsWasm(): WebAssembly.Module {
  compiledWasm ??= new WebAssembly.Module(wasmFile());
  return compiledWasm;
}

/**
 * The same, compiled without blocking the thread (V8 compiles on its background threads): the agent's thread
 * compiles it once and hands it to each script worker it starts, so that a worker started after a stop does not
 * compile it again (V8 shares a module's code between threads).
 */
export function quickjsWasmCompiled(): Promise<WebAssembly.Module> {
  compilingWasm ??= compiledWasm ? Promise.resolve(compiledWasm) : WebAssembly.compile(wasmFile()).then((m) => (compiledWasm = m));
  return compilingWasm;
}

/** A script worker uses the code its agent compiled. */
export function useQuickjsWasm(module: WebAssembly.Module): void {
  compiledWasm = module;
}
