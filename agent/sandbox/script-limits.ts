import { CONFIG_SCHEMA } from '../config/schema';
import { parseDuration } from '../config/duration';

/** The hard limits of one script (the config's `scripts:`, docs/scripts.md). */
export interface ScriptLimits {
  /** wall time per call */
  timeoutMs: number;
  /** heap the script may hold */
  memoryBytes: number;
  /** length of the JSON result */
  maxOutputBytes: number;
  /** QuickJS stack (deep recursion ends here, not in the WebAssembly stack) */
  stackBytes: number;
}

const CONFIGURED = CONFIG_SCHEMA.properties.scripts.properties;
/** The config's defaults (`scripts:` in agent/config/schema.ts), for hosts built without a config; the stack is ours. */
export const DEFAULT_LIMITS: ScriptLimits = {
  timeoutMs: parseDuration(CONFIGURED.timeout.default) as number, // a valid duration literal
  memoryBytes: CONFIGURED.memoryMb.default * 1024 * 1024,
  maxOutputBytes: CONFIGURED.maxOutputKb.default * 1024,
  stackBytes: 256 * 1024,
};
