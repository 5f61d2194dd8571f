import * as path from 'node:path';
import { Agent } from '../../controller';
import { createDrivers } from '../../drivers';
import { createLogger } from '../../logger';
import { EmbeddedBroker } from '../../sync/embedded-broker';
import { databasePath } from '../../store/database';
import { CliError } from '../cli-error';
import { renderLiveView, type LiveExtras } from '../live-view';
import { printJson, type CliOutput } from '../output';
import { packageRoot } from '../package-root';
import { loadConfigOrExit } from './config-command';
import type { AgentConfig } from '../../config';
import { waitForShutdown } from './run-command';

export interface DemoOptions {
  config?: string;
  dataDir?: string;
  brokerPort: string;
  api?: string;
  duration?: string;
  speed: string;
  view: boolean;
  json?: boolean;
}

/**
 * `edge-agent demo` (what `npm start` runs): a simulated household through the real pipeline — encoded frames,
 * consent, a real SQLite file, the engagement engine and an embedded MQTT broker as upstream.
 */
export async function demoCommand(opts: DemoOptions, io: CliOutput): Promise<number> {
  const configFile = opts.config ?? path.join(packageRoot(), 'config', 'demo.yaml');
  const brokerPort = Number(opts.brokerPort);
  if (!Number.isInteger(brokerPort) || brokerPort < 0 || brokerPort > 65535) {
    throw new CliError(`--broker-port must be a port number, got "${opts.brokerPort}"`, 2);
  }
  const speed = Number(opts.speed);
  if (!(speed > 0)) throw new CliError(`--speed must be a positive number, got "${opts.speed}"`, 2);
  const durationMs = opts.duration === undefined ? undefined : Number(opts.duration) * 1000;
  if (durationMs !== undefined && !(durationMs > 0)) throw new CliError(`--duration must be seconds > 0, got "${opts.duration}"`, 2);

  const live = opts.view && io.isTTY && !opts.json;
  const logLines: string[] = [];
  const logger = createLogger({
    level: 'info',
    format: 'pretty',
    // In the live view, log lines would be overwritten: keep the last few and show them under the view.
    write: live ? (l) => logLines.push(l) && logLines.length > 3 && logLines.shift() : (l) => io.err(l),
  });

  const broker = new EmbeddedBroker('127.0.0.1', brokerPort);
  await broker.start();
  const dataDir = path.resolve(opts.dataDir ?? path.join(process.cwd(), 'data', 'demo'));
  // What the demo sets goes into the document as overrides, so it is validated (and defaulted) like the file.
  const overrides = { EDGE_AGENT_GATEWAY_DATA_DIR: dataDir, EDGE_AGENT_UPSTREAM_URL: broker.url, ...(opts.api ? { EDGE_AGENT_API_LISTEN: opts.api } : {}) };
  let config: AgentConfig;
  try {
    config = loadConfigOrExit(configFile, { ...process.env, ...overrides }).config;
  } catch (err) {
    await broker.stop();
    throw err;
  }

  const agent = new Agent(config, { logger, drivers: createDrivers(config, logger, { speed }) });
  const triggers: LiveExtras['recentTriggers'] = [];
  agent.bus.on('trigger', (t) => {
    triggers.push({ at: t.at, profile: t.profile, campaign: t.campaign, index: t.index, channels: t.channels });
    if (triggers.length > 20) triggers.shift();
  });
  let items = 0;
  agent.bus.on('ingested', () => items++);
  try {
    await agent.start();
  } catch (err) {
    await agent.stop().catch(() => undefined);
    await broker.stop();
    throw err;
  }

  const baseTopic = config.upstream?.baseTopic ?? 'edge';
  const extras = (): LiveExtras => ({
    eventsPerSec: rate,
    recentTriggers: triggers,
    mqttMessages: broker.received,
    brokerUrl: broker.url,
    watchHint: `npx mqtt sub -h 127.0.0.1 -p ${broker.url.split(':').pop()} -t '${baseTopic}/#' -v`,
    apiUrl: agent.apiAddress ? `http://${agent.apiAddress}` : null,
    dbFile: databasePath(dataDir),
  });
  let rate = 0;
  let lastItems = 0;
  let lastAt = Date.now();
  const sample = (): void => {
    const now = Date.now();
    rate = ((items - lastItems) * 1000) / Math.max(1, now - lastAt);
    lastItems = items;
    lastAt = now;
  };

  if (!live && !opts.json) {
    io.out(`edge-agent demo: gateway ${config.gateway.id}, ${config.devices.length} simulated devices, broker ${broker.url}`);
    io.out(`watch the MQTT side: ${extras().watchHint}`);
    if (agent.apiAddress) io.out(`status: npx edge-agent status --url http://${agent.apiAddress}`);
  }
  let frame = 0;
  const view = setInterval(
    () => {
      sample();
      const s = agent.status();
      if (live) {
        const screen = renderLiveView(s, extras(), true) + (logLines.length ? '\n\n' + logLines.join('\n') : '');
        io.out('\x1b[H\x1b[2J' + screen);
      } else if (opts.json) {
        printJson(io, { ...s, demo: { itemsPerSec: rate, mqttMessages: broker.received } });
      } else if (frame++ % 5 === 0) {
        const idx = s.engagement.map((e) => `${e.profile}/${e.campaign}=${e.index.toFixed(2)}`).join(' ');
        io.out(
          `[${s.gateway.uptimeS}s] ${rate.toFixed(1)} items/s, accepted ${s.ingest.accepted}, dropped ${s.ingest.droppedNoConsent}, triggers ${s.triggers.total}, outbox ${s.outbox.pending}, mqtt ${broker.received} | ${idx}`,
        );
      }
    },
    live ? 1000 : 1000,
  );

  const why = await waitForShutdown(durationMs);
  clearInterval(view);
  await agent.stop();
  await broker.stop();
  if (live) io.out('');
  io.err(`demo stopped (${why}); data kept in ${dataDir}`);
  return 0;
}
