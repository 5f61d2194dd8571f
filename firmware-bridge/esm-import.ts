/**
 * Loads an ESM-only package (aedes, esptool-js) from our CommonJS build. TypeScript would rewrite a plain
 * `import()` into `require()`, which fails on Node releases before require(esm); this keeps a real dynamic import.
 */
const dynamicImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

export async function importEsm<T>(specifier: string): Promise<T> {
  return (await dynamicImport(specifier)) as T;
}
