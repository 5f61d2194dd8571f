import {
  newQuickJSWASMModuleFromVariant,
  newVariant,
  type QuickJSSyncVariant,
  type QuickJSWASMModule,
} from 'quickjs-emscripten-core';
import releaseSync from '@jitl/quickjs-wasmfile-release-sync';
import { quickjsWasm } from './quickjs-code';

/** What the QuickJS build needs before any script allocates (its import declares 256 pages minimum). */
const BASE_PAGES = 256;
const PAGE = 65536;
const ceilingPages = (memoryBytes: number): number => BASE_PAGES + Math.ceil(memoryBytes / PAGE);
/** The size of a script's fixed WebAssembly memory: the QuickJS base plus its memory limit, the hard ceiling. */
export const ceilingBytes = (memoryBytes: number): number => ceilingPages(memoryBytes) * PAGE;

/**
 * The release-sync build, loaded through `require`: the package's own variant uses a dynamic `import()`, which
 * needs a flag under jest and buys nothing here.
 */
const variant: QuickJSSyncVariant = {
  ...releaseSync,
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  importModuleLoader: () => Promise.resolve(require('@jitl/quickjs-wasmfile-release-sync/emscripten-module') as Awaited<ReturnType<QuickJSSyncVariant['importModuleLoader']>>),
};

/** Thrown through the WebAssembly stack when a script's heap cannot grow: the instance is dropped and rebuilt. */
export class HeapExhausted extends Error {
  constructor() {
    super('heap exhausted');
  }
}

/**
 * Wraps Emscripten's heap-resize import so that a failed growth ends the call at once. Without it, a script
 * that swallows its out-of-memory errors keeps the engine garbage-collecting a full heap on every allocation
 * between two interrupt polls (seconds, measured). The import is found by what it does (it grows the memory),
 * not by its minified name.
 */
function stopWhenHeapIsFull(imports: WebAssembly.Imports): WebAssembly.Imports {
  const out: WebAssembly.Imports = {};
  for (const [ns, table] of Object.entries(imports)) {
    out[ns] = { ...table };
    for (const [name, fn] of Object.entries(table)) {
      if (typeof fn === 'function' && /\.grow\(/.test(Function.prototype.toString.call(fn))) {
        const resize = fn as (...a: unknown[]) => unknown;
        out[ns][name] = (...a: unknown[]): unknown => {
          const grown = resize(...a);
          if (!grown) throw new HeapExhausted();
          return grown;
        };
      }
    }
  }
  return out;
}

/**
 * A QuickJS engine of its own in a WebAssembly memory that cannot grow past `ceilingBytes(memoryBytes)`; a failed
 * growth throws HeapExhausted through the call that asked for it.
 */
export async function quickjsInFixedMemory(memoryBytes: number): Promise<{ memory: WebAssembly.Memory; qjs: QuickJSWASMModule }> {
  const memory = new WebAssembly.Memory({ initial: BASE_PAGES, maximum: ceilingPages(memoryBytes) });
  const qjs = await newQuickJSWASMModuleFromVariant(
    newVariant(variant, {
      wasmMemory: memory,
      emscriptenModule: {
        instantiateWasm(imports: WebAssembly.Imports, onSuccess: (instance: WebAssembly.Instance) => void): WebAssembly.Exports {
          const instance = new WebAssembly.Instance(quickjsWasm(), stopWhenHeapIsFull(imports));
          onSuccess(instance);
          return instance.exports;
        },
      },
    }),
  );
  return { memory, qjs };
}
