import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, startCli } from '../support/run-cli';
import { freePort } from '../support/free-port';
import { tempDir } from '../support/temp-dir';
import { createServiceNotifier, watchdogIntervalMs } from '../../agent/service/systemd-notifier';
import { silentLogger } from '../../agent/logger';
import { NotifyReceiver, type Notification } from './notify-receiver';

// 400 ms watchdog → a ping every 200 ms: fast enough to see the pace within a couple of seconds.
const WATCHDOG_USEC = '400000';
const PACE_MS = 200;

function writeConfig(dir: string, apiPort: number): string {
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(
    file,
    [
      `gateway: { id: notify-test, dataDir: ${path.join(dir, 'data')} }`,
      `api: { listen: "127.0.0.1:${apiPort}" }`,
      'upstream: { url: "mqtt://127.0.0.1:9", profile: generic, baseTopic: edge }', // nothing listens: offline
      'devices: []',
      '',
    ].join('\n'),
  );
  return file;
}

const gapsMs = (ns: Notification[]): number[] => ns.slice(1).map((n, i) => n.atMs - ns[i].atMs);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('watchdogIntervalMs (sd_watchdog_enabled semantics)', () => {
  it.each([
    [{ WATCHDOG_USEC: '30000000' }, 15_000],
    [{ WATCHDOG_USEC: '400000' }, 200],
    [{ WATCHDOG_USEC: '400000', WATCHDOG_PID: '4242' }, 200],
    [{ WATCHDOG_USEC: '400000', WATCHDOG_PID: '4243' }, null], // meant for another process
    [{ WATCHDOG_USEC: '10' }, 50], // floored: a typo must not spin the CPU
    [{ WATCHDOG_USEC: 'soon' }, null],
    [{ WATCHDOG_USEC: '0' }, null],
    [{}, null],
  ])('%j → %s', (env, expected) => {
    expect(watchdogIntervalMs(env, 4242)).toBe(expected);
  });

  it('without NOTIFY_SOCKET the notifier is a no-op, watchdog or not', async () => {
    const n = createServiceNotifier({ logger: silentLogger, env: { WATCHDOG_USEC } });
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs).toBeNull();
    n.ready('x');
    await n.close();
  });
});

describe('edge-agent run under a systemd-style NOTIFY_SOCKET (real CLI, real unix datagram socket)', () => {
  let t: ReturnType<typeof tempDir>;
  let receiver: NotifyReceiver;
  let socketPath: string;
  beforeEach(async () => {
    t = tempDir('edge-agent-notify-');
    socketPath = path.join(t.dir, 'notify.sock');
    receiver = await NotifyReceiver.start(socketPath);
  });
  afterEach(() => {
    receiver.stop();
    t.cleanup();
  });

  it('sends READY=1 once the API answers, WATCHDOG=1 at WATCHDOG_USEC/2, and STOPPING=1 on SIGTERM', async () => {
    const apiPort = await freePort();
    const agent = startCli(['run', '--config', writeConfig(t.dir, apiPort)], {
      env: { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC },
    });
    try {
      const ready = await receiver.waitFor((n) => n.assignments.includes('READY=1'), 'READY=1');
      // READY=1 means started: the local API already answers.
      const status = await fetch(`http://127.0.0.1:${apiPort}/api/status`);
      expect(status.status).toBe(200);
      expect(ready.assignments).toContain(`MAINPID=${agent.child.pid}`);
      expect(ready.assignments.find((a) => a.startsWith('STATUS='))).toMatch(
        /^STATUS=running: gateway notify-test, 0 devices, api 127\.0\.0\.1:\d+$/,
      );
      const starting = receiver.notifications.findIndex((n) => n.assignments.includes('STATUS=starting'));
      expect(starting).toBeGreaterThanOrEqual(0);
      expect(starting).toBeLessThan(receiver.notifications.indexOf(ready));

      await sleep(10 * PACE_MS);
      const pings = receiver.with('WATCHDOG=1');
      expect(pings.length).toBeGreaterThanOrEqual(6);
      const pace = median(gapsMs(pings));
      expect(pace).toBeGreaterThan(PACE_MS * 0.75);
      expect(pace).toBeLessThan(PACE_MS * 1.5);
      expect(receiver.with('STOPPING=1')).toHaveLength(0);

      agent.child.kill('SIGTERM');
      expect(await agent.exit).toBe(0);
      const stopping = await receiver.waitFor(
        (n) => n.assignments.includes('STOPPING=1'),
        'STOPPING=1',
        2000,
      );
      expect(stopping.assignments).toContain('STATUS=stopping (SIGTERM)');
      expect(receiver.with('READY=1')).toHaveLength(1);
    } finally {
      agent.child.kill('SIGKILL');
    }
  });

  it("this system's systemd-notify closes the PID race: BARRIER=1 follows every message", async () => {
    const agent = startCli(['run', '--config', writeConfig(t.dir, await freePort())], {
      env: { NOTIFY_SOCKET: socketPath },
    });
    try {
      await receiver.waitFor((n) => n.assignments.includes('READY=1'), 'READY=1');
      const i = receiver.notifications.findIndex((n) => n.assignments.includes('READY=1'));
      await receiver.waitFor((n) => receiver.notifications.indexOf(n) > i, 'a message after READY=1', 2000);
      expect(receiver.notifications[i + 1].assignments).toEqual(['BARRIER=1']);
    } finally {
      agent.child.kill('SIGTERM');
      await agent.exit;
    }
  });

  it.each([
    [
      'a NOTIFY_SOCKET nobody listens on',
      (dir: string) => ({ NOTIFY_SOCKET: path.join(dir, 'nobody.sock') }),
    ],
    [
      'no systemd-notify on PATH',
      (dir: string, sock: string) => ({ NOTIFY_SOCKET: sock, PATH: path.join(dir, 'empty-bin') }),
    ],
  ])('%s: one warning, the agent keeps running and stops cleanly', async (_what, envFor) => {
    fs.mkdirSync(path.join(t.dir, 'empty-bin'));
    const apiPort = await freePort();
    const agent = startCli(['run', '--config', writeConfig(t.dir, apiPort)], {
      env: { ...envFor(t.dir, socketPath), WATCHDOG_USEC: '100000' },
    });
    try {
      await agent.waitFor(/"msg":"ready"/);
      await sleep(1000); // ~20 failed pings
      expect((await fetch(`http://127.0.0.1:${apiPort}/api/status`)).status).toBe(200);
      expect(agent.output().match(/systemd notification failed/g)).toHaveLength(1);
      agent.child.kill('SIGTERM');
      expect(await agent.exit).toBe(0);
      expect(receiver.notifications).toHaveLength(0);
    } finally {
      agent.child.kill('SIGKILL');
    }
  });
});

describe('the watchdog pings come from the event loop', () => {
  it('a blocked event loop sends no WATCHDOG=1 until it runs again', async () => {
    const t = tempDir('edge-agent-notify-');
    const socketPath = path.join(t.dir, 'notify.sock');
    const receiver = await NotifyReceiver.start(socketPath);
    // The real (compiled) notifier in a child process that blocks its own event loop when told to.
    const notifier = path.join(REPO, 'dist', 'agent', 'service', 'systemd-notifier.js');
    const script = `
      const { createServiceNotifier } = require(${JSON.stringify(notifier)});
      const n = createServiceNotifier({ logger: { debug() {}, info() {}, warn: (m) => console.error(m), error() {} } });
      n.ready('test');
      process.stdin.on('data', (d) => {
        const until = Date.now() + Number(d.toString());
        while (Date.now() < until) {} // a hung handler: nothing else on the loop runs
        n.status('unblocked');
      });`;
    const child = spawn(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH, NOTIFY_SOCKET: socketPath, WATCHDOG_USEC },
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    try {
      await receiver.waitFor(() => receiver.with('WATCHDOG=1').length >= 3, 'three pings');
      const blockMs = 1500;
      child.stdin.write(String(blockMs));
      const unblocked = await receiver.waitFor(
        (n) => n.assignments.includes('STATUS=unblocked'),
        'STATUS=unblocked',
        5000,
      );
      await receiver.waitFor(
        (n) => n.atMs > unblocked.atMs + 2 * PACE_MS && n.assignments.includes('WATCHDOG=1'),
        'pings after the block',
      );

      const pings = receiver.with('WATCHDOG=1');
      // Silence for the whole block (at most one ping was already on its way when the loop blocked) ...
      expect(Math.max(...gapsMs(pings))).toBeGreaterThan(blockMs - 2 * PACE_MS);
      const after = pings.filter((p) => p.atMs >= unblocked.atMs);
      expect(after.length).toBeGreaterThanOrEqual(2); // and back to the normal pace once it runs again
      expect(median(gapsMs(after))).toBeLessThan(PACE_MS * 1.5);
    } finally {
      child.kill('SIGKILL');
      receiver.stop();
      t.cleanup();
    }
  });
});
