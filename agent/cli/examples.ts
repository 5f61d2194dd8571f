import type { Command } from 'commander';

/** Examples for commands whose definition does not carry its own (`edge-agent <path> --help` shows them). */
export const EXAMPLES: Record<string, string[]> = {
  run: ['edge-agent run --config /etc/edge-agent/config.yaml', 'EDGE_AGENT_LOG_LEVEL=debug edge-agent run -c ./config.yaml'],
  demo: ['edge-agent demo', 'edge-agent demo --speed 20 --duration 60 --no-view'],
  status: ['edge-agent status', 'edge-agent status --json | jq .engagement'],
  index: ['edge-agent index -r 3 -f 14 -v 72            # 336, the formula as published (S = 100)', 'edge-agent index -r 3 -f 14 -v 72 --scale 10  # 33.6, the source article\'s example'],
  'config validate': ['edge-agent config validate --config /etc/edge-agent/config.yaml', 'edge-agent config validate --json'],
  'devices list': ['edge-agent devices list', 'edge-agent devices list --json'],
  'consent show': ['edge-agent consent show', 'edge-agent consent show --json'],
  'consent grant': ['edge-agent consent grant --device scale-1 --category usage', 'edge-agent consent grant --profile home-a --campaign coffee-reorder', 'edge-agent consent grant --profile home-a --channel push'],
  'consent revoke': ['edge-agent consent revoke --device presence-1 --category presence --erase', 'edge-agent consent revoke --profile home-a --channel sms'],
  'consent verify': ['edge-agent consent verify', 'edge-agent consent verify --json'],
  'consent export': ['edge-agent consent export --json --out receipts.json'],
  'firmware status': ['edge-agent firmware status', 'edge-agent firmware status --json | jq .devices'],
  'firmware defer': ['edge-agent firmware defer --device scale-1            # 24 h', 'edge-agent firmware defer --device scale-1 --never    # do not update', 'edge-agent firmware defer --device scale-1 --clear'],
  'firmware retry': ['edge-agent firmware retry --device scale-1'],
  'firmware import': ['edge-agent firmware import --package build/kitchen-scale.bin'],
  'firmware update': ['sudo systemctl stop edge-agent && edge-agent firmware update --device scale-1 --port /dev/ttyUSB0'],
};

/** Adds the table's examples to the commands it names. */
export function addExamples(program: Command): void {
  const walk = (cmd: Command, path: string[]): void => {
    const key = path.join(' ');
    const lines = EXAMPLES[key];
    if (lines) cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}`);
    for (const c of cmd.commands) walk(c, [...path, c.name()]);
  };
  walk(program, []);
}
