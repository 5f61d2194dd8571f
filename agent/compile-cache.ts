import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import Module from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';

/**
 * A V8 code cache for CommonJS modules on Node < 22.1, with the contract of Node 22's `NODE_COMPILE_CACHE`
 * (bin/edge-agent.js calls this only when `module.enableCompileCache` does not exist; newer Node does it itself).
 * Compiling ~300 modules is most of a cold start on a slow CPU (issue #24: ~740 of ~1,250 ms under the Pi model);
 * with V8's cached code for what was compiled last time, a start skips most of the parsing and compiling.
 *
 * One file per module in `<dir>/edge-agent-<node version>-<arch>/`, named by a hash of the module's path, holding
 * the hash of the source it was made from, the data's length, then V8's data. A changed source, another V8 or
 * other flags (V8 checks its own version and flag hash and rejects the data) simply compile as without a cache
 * and are written again. Written after the start settled (so functions compiled lazily while starting are in it)
 * and at exit; a file is replaced by rename, so a crash leaves the old one or none. A lost or bad cache costs
 * time, never correctness: the cache is never the source.
 */
export function enableCompileCache(dir: string): void {
  const importer = (vm.constants as unknown as { USE_MAIN_CONTEXT_DEFAULT_LOADER?: symbol } | undefined)?.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (importer === undefined) return; // Node 20 before 20.12: import() from a cached module would not work
  const cacheDir = path.join(dir, `edge-agent-${process.version}-${process.arch}`);
  try {
    fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  } catch {
    return; // not writable here: start without it
  }
  const toWrite = new Map<string, { script: vm.Script; sourceHash: Buffer }>();
  let flushTimer: NodeJS.Timeout | null = null;
  const flush = (): void => {
    flushTimer = null;
    for (const [file, { script, sourceHash }] of toWrite) {
      try {
        const data = script.createCachedData();
        const head = Buffer.alloc(HEADER);
        sourceHash.copy(head, 0);
        head.writeUInt32BE(data.length, HASH_BYTES);
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, Buffer.concat([head, data]), { mode: 0o600 });
        fs.renameSync(tmp, file);
      } catch {
        // a full or read-only disk: the next start compiles as without a cache
      }
    }
    toWrite.clear();
  };
  process.once('exit', flush);

  const proto = Module.prototype as unknown as ModuleProto;
  const original = proto._compile;
  proto._compile = function compileWithCache(this: Module, content: string, filename: string): unknown {
    const file = path.join(cacheDir, `${createHash('sha1').update(filename).digest('hex')}.v8`);
    const sourceHash = createHash('sha1').update(content).digest();
    const cachedData = readCached(file, sourceHash);
    let script: vm.Script;
    try {
      // a #! line is valid only at the very start of a script, not inside the module wrapper
      const body = content.startsWith('#!') ? `//${content}` : content;
      script = new vm.Script(Module.wrap(body), { filename, cachedData, importModuleDynamically: importer as never });
    } catch {
      return original.call(this, content, filename); // let Node report the syntax error its own way
    }
    if (cachedData === undefined || script.cachedDataRejected === true) {
      toWrite.set(file, { script, sourceHash });
      // after the start settled: the functions it compiled lazily are cached too
      flushTimer ??= setTimeout(flush, FLUSH_AFTER_MS).unref();
    }
    const wrapper = script.runInThisContext({ displayErrors: true }) as (...args: unknown[]) => unknown;
    return wrapper.call(this.exports, this.exports, requireFor(this), this, filename, path.dirname(filename));
  };
}

const HASH_BYTES = 20;
const HEADER = HASH_BYTES + 4;
const FLUSH_AFTER_MS = 5_000;

/** The cached data for a module when the file was made from this very source, else undefined. */
function readCached(file: string, sourceHash: Buffer): Buffer | undefined {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  if (buf.length < HEADER || !buf.subarray(0, HASH_BYTES).equals(sourceHash)) return undefined;
  if (buf.readUInt32BE(HASH_BYTES) !== buf.length - HEADER) return undefined; // torn
  return buf.subarray(HEADER);
}

/** Node's CommonJS loader compiles and runs a module's source through this method (what the cache replaces). */
interface ModuleProto {
  _compile(this: Module, content: string, filename: string): unknown;
}

interface ModuleInternals {
  _resolveFilename(request: string, parent: Module, isMain: boolean, options?: { paths?: string[] }): string;
  _resolveLookupPaths(request: string, parent: Module): string[] | null;
  _cache: NodeJS.Dict<Module>;
  _extensions: NodeJS.RequireExtensions;
}

/** The `require` a module's code sees, as Node makes it (resolve, resolve.paths, main, cache, extensions). */
function requireFor(mod: Module): NodeJS.Require {
  const M = Module as unknown as ModuleInternals;
  const req = ((id: string) => mod.require(id)) as NodeJS.Require;
  const resolve = ((request: string, options?: { paths?: string[] }) => M._resolveFilename(request, mod, false, options)) as NodeJS.RequireResolve;
  resolve.paths = (request: string) => M._resolveLookupPaths(request, mod);
  req.resolve = resolve;
  req.main = require.main;
  req.cache = M._cache;
  req.extensions = M._extensions;
  return req;
}
