import * as path from 'node:path';
import { openDatabase, databasePath } from '../../store/database';
import { IngestStore } from '../../store/ingest-store';
import { listSerialPorts } from '../../../drivers/serial/port-scanner';
import {
  EspFlasher,
  FLASH_STALL_MS,
  FlashError,
  FlashPlanError,
  buildFlashPlan,
  formatBytes,
  formatProgressLine,
  listenForHello,
  planProblems,
  refusalMessage,
  type FlashEvent,
  type FlashOutcome,
  type FlashPlan,
  type HelloResult,
} from '../../../firmware-bridge/flasher';
import { CliError } from '../cli-error';
import { resolveConfigPath } from '../config-path';
import { printJson, type CliOutput } from '../output';
import { loadConfigOrExit } from './config-command';
import { UnfinishedFlashGuard } from './unfinished-flash-guard';

export interface FlashCommandOptions {
  port: string;
  image: string;
  address?: string;
  baud: string;
  appBaud: string;
  erase?: boolean;
  force?: boolean;
  profile?: string;
  config?: string;
  wait: boolean;
  helloTimeout: string;
  json?: boolean;
  debug?: boolean;
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new CliError(`${flag} must be a positive integer, got "${value}"`, 2);
  return n;
}

/** The data dir whose registry records the flash: from --config, else the usual config lookup, else none. */
function registryDir(o: FlashCommandOptions): string | null {
  let file: string | null = null;
  try {
    file = resolveConfigPath(o.config);
  } catch (err) {
    if (o.config || o.profile) throw err;
  }
  return file ? loadConfigOrExit(file).config.gateway.dataDir : null;
}

/** USB identity of the port, so esptool-js picks the right reset for native USB-Serial/JTAG chips. */
function usbIdentity(port: string): { vendorId?: number; productId?: number } {
  const info = listSerialPorts().find((p) => p.path === path.resolve(port) || p.byId === port);
  if (!info?.vendorId || !info.productId) return {};
  return { vendorId: parseInt(info.vendorId, 16), productId: parseInt(info.productId, 16) };
}

/** Progress as a redrawn bar on a terminal, sparse plain lines otherwise, JSON lines with --json. */
export function progressPrinter(
  o: Pick<FlashCommandOptions, 'json' | 'debug'>,
  io: CliOutput,
): (e: FlashEvent) => void {
  let barShown = false;
  let lastDraw = 0;
  let lastTenth = -1;
  return (e) => {
    if (o.json) {
      if (e.event !== 'log' || o.debug) printJson(io, e);
      return;
    }
    if (e.event === 'log') {
      if (o.debug) io.err(`  esptool: ${e.message}`);
      return;
    }
    if (e.event === 'stage') {
      barShown = false;
      io.err(`${e.stage}: ${e.message}`);
      return;
    }
    const line = formatProgressLine(e);
    if (io.isTTY) {
      const now = Date.now();
      if (e.bytes < e.total && now - lastDraw < 100) return;
      lastDraw = now;
      // Cursor up and clear: redraw the bar in place with whole-line writes.
      io.err(barShown ? `\x1b[1A\x1b[2K${line}` : line);
      barShown = true;
      return;
    }
    const tenth = Math.floor(e.percent / 10);
    if (tenth !== lastTenth || e.bytes === e.total) {
      lastTenth = tenth;
      io.err(line);
    }
  };
}

/**
 * `edge-agent flash`: check the image(s), flash through esptool-js, wait for the app's hello, record it. Until
 * it has its result, the process cannot end with status 0 (UnfinishedFlashGuard).
 */
export async function flashCommand(o: FlashCommandOptions, io: CliOutput): Promise<number> {
  // Under --json the failure is said once, as the result line on stdout (docs/cli.md).
  const guard = o.json
    ? new UnfinishedFlashGuard(() => undefined, (event) => printJson(io, event))
    : new UnfinishedFlashGuard((line) => io.err(line));
  guard.arm();
  try {
    return await flashUntilResult(o, io, guard);
  } finally {
    guard.disarm();
  }
}

async function flashUntilResult(o: FlashCommandOptions, io: CliOutput, guard: UnfinishedFlashGuard): Promise<number> {
  const baud = positiveInt(o.baud, '--baud');
  const appBaud = positiveInt(o.appBaud, '--app-baud');
  const helloTimeoutS = Number(o.helloTimeout);
  if (!(helloTimeoutS > 0 && helloTimeoutS <= 300))
    throw new CliError('--hello-timeout must be seconds from 0 to 300', 2);
  const dataDir = registryDir(o);

  let plan: FlashPlan;
  try {
    plan = buildFlashPlan(o.image, o.address);
  } catch (err) {
    if (err instanceof FlashPlanError) throw new CliError(err.message, 2);
    throw err;
  }
  // The checks that need no device run first: a broken file never gets as far as the port.
  const offline = planProblems(plan, undefined);
  if (offline.length > 0 && !o.force) return fail(refusalMessage(offline), { flashed: false });

  const print = progressPrinter(o, io);
  const emit = (e: FlashEvent): void => {
    guard.note(e);
    print(e);
  };
  let outcome: FlashOutcome;
  // Ctrl-C or a stop mid-flash ends it with its one line (where it stopped, half-written or not), not silently.
  const interrupted = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void =>
    interrupted.abort(new Error(signal === 'SIGINT' ? 'interrupted' : signal));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    outcome = await new EspFlasher(emit).flash({
      port: o.port,
      baud,
      plan,
      erase: o.erase === true,
      force: o.force === true,
      usb: usbIdentity(o.port),
      signal: interrupted.signal,
      stallTimeoutMs: FLASH_STALL_MS,
    });
  } catch (err) {
    if (err instanceof FlashError)
      return fail(err.message, { flashed: false, kind: err.kind, halfWritten: err.written });
    throw err;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }

  let hello: HelloResult | null = null;
  try {
    if (o.wait) {
      if (!o.json) io.err(`waiting up to ${helloTimeoutS} s for the device's hello at ${appBaud} baud …`);
      hello = await listenForHello(outcome.port, appBaud, helloTimeoutS * 1000);
    }
  } finally {
    await new Promise<void>((resolve) =>
      outcome.port.isOpen ? outcome.port.close(() => resolve()) : resolve(),
    );
  }

  const expectedFw = plan.app?.inspection?.appDescriptor?.version ?? null;
  let recorded = false;
  if (hello?.hello && dataDir) {
    const db = openDatabase(databasePath(dataDir));
    try {
      new IngestStore(db).recordFlash({
        id: hello.hello.id,
        model: hello.hello.model,
        fw: hello.hello.fw,
        channels: hello.hello.ch,
        caps: hello.hello.cap ?? [],
        profile: o.profile ?? null,
        mac: outcome.mac,
        at: Date.now(),
      });
      recorded = true;
    } finally {
      db.close();
    }
  }

  const summary = {
    ok: !o.wait || hello?.hello !== null,
    flashed: true,
    chip: outcome.chipDescription,
    mac: outcome.mac,
    flashSize: outcome.flashSize,
    parts: outcome.parts.map((p) => ({ ...p, address: hex(p.address) })),
    durationMs: outcome.durationMs,
    bytesPerSecond: outcome.bytesPerSecond,
    reset: outcome.reset,
    imageVersion: expectedFw,
    device: hello?.hello ? { id: hello.hello.id, model: hello.hello.model, fw: hello.hello.fw } : null,
    fwMatchesImage: hello?.hello && expectedFw ? hello.hello.fw === expectedFw : null,
    profile: recorded ? (o.profile ?? null) : null,
    recorded,
  };
  const total = outcome.parts.reduce((a, p) => a + p.bytes, 0);
  const resetNote =
    outcome.reset === 'manual'
      ? ' — press EN/RESET on the board to start the new firmware'
      : outcome.reset === 'rtc-watchdog'
        ? ' (restarted by watchdog: the port has no DTR/RTS)'
        : '';
  if (o.json) printJson(io, { event: 'result', ...summary });
  else {
    io.out(
      `flashed ${formatBytes(total)} in ${outcome.parts.length} part${outcome.parts.length === 1 ? '' : 's'} to ${outcome.chipDescription} (MAC ${outcome.mac}) in ${(outcome.durationMs / 1000).toFixed(1)} s, ${formatBytes(outcome.bytesPerSecond)}/s, MD5 verified${resetNote}`,
    );
    if (hello?.hello) {
      io.out(
        `device ${hello.hello.id} (${hello.hello.model}) is up with firmware ${hello.hello.fw} after ${(hello.waitedMs / 1000).toFixed(1)} s`,
      );
      if (recorded)
        io.out(`recorded in the device registry${o.profile ? `, paired to profile ${o.profile}` : ''}`);
      else io.err('(no config found: not recorded in a device registry — pass --config to record it)');
    }
    if (summary.fwMatchesImage === false) {
      io.err(
        `warning: the device reports firmware ${hello?.hello?.fw}, the image is ${expectedFw} — it may have rolled back to the previous app`,
      );
    }
  }
  if (o.wait && !hello?.hello) {
    const seen = hello && hello.framesOk > 0 ? ` (${hello.framesOk} protocol frames seen, but no hello)` : '';
    throw new CliError(
      `flashed and verified, but no hello from the device within ${helloTimeoutS} s at ${appBaud} baud${seen} — check the serial console for a boot loop, try --app-baud, or use --no-wait for firmware without our protocol`,
      1,
    );
  }
  return 0;
}

/** Under --json the error is the stream's last line, its `result` event (main prints it through jsonFailure). */
function fail(message: string, extra: Record<string, unknown>): never {
  throw new CliError(message, 1, { event: 'result', ...extra });
}
