/**
 * TypeScript types read off the JSON Schema (agent/config/schema.ts), so a key, its type, its enum and whether it
 * has a default are written once, in the schema. Covers the keywords the config schema uses: type (one or a list),
 * enum, const, anyOf, properties/required/default, items, additionalProperties.
 *
 * `Input` is what a config file (or a config built in code) may say: required keys as the schema's `required`.
 * `Output` is what validation yields: ajv fills every default, so a key with a default is always there.
 */
export type FromSchema<S, Mode extends 'input' | 'output' = 'output'> = S extends { enum: ReadonlyArray<infer E> }
  ? E
  : S extends { const: infer C }
    ? C
    : S extends { anyOf: ReadonlyArray<infer A> }
      ? FromSchema<A, Mode>
      : S extends { type: infer T }
        ? TypeOf<S, T, Mode>
        : unknown;

type TypeOf<S, T, Mode extends 'input' | 'output'> = T extends ReadonlyArray<infer One>
  ? TypeOf<S, One, Mode>
  : T extends 'string'
    ? string
    : T extends 'number' | 'integer'
      ? number
      : T extends 'boolean'
        ? boolean
        : T extends 'array'
          ? S extends { items: infer I }
            ? Array<FromSchema<I, Mode>>
            : unknown[]
          : T extends 'object'
            ? ObjectOf<S, Mode>
            : unknown;

type Props<S> = S extends { properties: infer P } ? P : Record<never, never>;
type RequiredKeys<S> = S extends { required: ReadonlyArray<infer K> } ? K : never;
type DefaultedKeys<P> = { [K in keyof P]: P[K] extends { default: unknown } ? K : never }[keyof P];
type Present<S, Mode> = RequiredKeys<S> | (Mode extends 'output' ? DefaultedKeys<Props<S>> : never);
type Extra<S, Mode extends 'input' | 'output'> = S extends { additionalProperties: infer A }
  ? A extends false
    ? unknown
    : Record<string, FromSchema<A, Mode>>
  : unknown;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type ObjectOf<S, Mode extends 'input' | 'output'> = Simplify<
  { -readonly [K in keyof Props<S> as K extends Present<S, Mode> ? K : never]-?: FromSchema<Props<S>[K], Mode> } & {
    -readonly [K in keyof Props<S> as K extends Present<S, Mode> ? never : K]+?: FromSchema<Props<S>[K], Mode>;
  }
> &
  Extra<S, Mode>;
