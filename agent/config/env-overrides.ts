import { parse as parseYamlScalar } from 'yaml';
import { CONFIG_SCHEMA } from './schema';

const SKIP = new Set(['EDGE_AGENT_CONFIG', 'EDGE_AGENT_DEBUG', 'EDGE_AGENT_LOG_LEVEL']);
const PREFIX = 'EDGE_AGENT_';

const toEnv = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

interface SchemaNode {
  type?: string;
  properties?: Record<string, SchemaNode>;
}

/** Every scalar path the schema knows outside arrays, as ENV_NAME → ['a', 'b']. */
function knownPaths(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (node: SchemaNode, path: string[]): void => {
    if (!node.properties) return;
    for (const [k, child] of Object.entries(node.properties)) {
      const p = [...path, k];
      if (child.properties) walk(child, p);
      else if (child.type !== 'array') out.set(PREFIX + p.map(toEnv).join('_'), p);
    }
  };
  walk(CONFIG_SCHEMA as unknown as SchemaNode, []);
  return out;
}

const PATHS = knownPaths();

/**
 * Applies `EDGE_AGENT_<PATH>` overrides (e.g. EDGE_AGENT_GATEWAY_DATA_DIR, EDGE_AGENT_ENGAGEMENT_RECENCY_SCALE=10)
 * to the parsed YAML before validation, so overridden values are validated like any other. Values are YAML
 * scalars: numbers and booleans keep their type. Returns warnings for variables that match no key.
 */
export function applyEnvOverrides(doc: Record<string, unknown>, env: NodeJS.ProcessEnv): { applied: string[]; warnings: string[] } {
  const applied: string[] = [];
  const warnings: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(PREFIX) || SKIP.has(name) || raw === undefined) continue;
    const path = PATHS.get(name);
    if (!path) {
      warnings.push(`environment variable ${name} matches no config key and was ignored`);
      continue;
    }
    let value: unknown;
    try {
      value = parseYamlScalar(raw);
    } catch {
      value = raw;
    }
    if (value === null || typeof value === 'object') value = raw;
    let node: Record<string, unknown> = doc;
    for (const seg of path.slice(0, -1)) {
      const next = node[seg];
      if (typeof next !== 'object' || next === null || Array.isArray(next)) node[seg] = {};
      node = node[seg] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
    applied.push(path.join('.'));
  }
  return { applied, warnings };
}
