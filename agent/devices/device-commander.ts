import { COMMANDS, type CommandName, type GatewayFrame } from '../../firmware-bridge/protocol';
import type { EventBus } from '../event-bus';

export interface CommandOptions {
  /** how long to wait for the device's ack before sending again */
  timeoutMs?: number;
  /** sends in all (the same seq each time: firmware executes a command seq once and re-acks repeats) */
  attempts?: number;
}

export interface CommandResult {
  device: string;
  command: CommandName;
  seq: number | null;
  acked: boolean;
  attempts: number;
  /** round trip of the acked attempt */
  rttMs: number | null;
  error: string | null;
}

export class CommandError extends Error {}

const MAX_TEXT = 64;

/** Checks a command and its arguments as they arrive from the CLI, the API or a campaign. */
export function commandFrameBody(command: string, args: Record<string, unknown>): { c: CommandName; [k: string]: unknown } {
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw new CommandError(`unknown command "${command}" (one of: ${COMMANDS.join(', ')})`);
  }
  const body: { c: CommandName; [k: string]: unknown } = { c: command as CommandName };
  if (command === 'notify') {
    const { text, led, buzz } = args;
    if (text !== undefined && (typeof text !== 'string' || text.length > MAX_TEXT)) {
      throw new CommandError(`notify: "text" must be a string of at most ${MAX_TEXT} characters`);
    }
    if (led !== undefined && (typeof led !== 'string' || !/^[a-z]{1,12}$/.test(led))) {
      throw new CommandError('notify: "led" must be a colour name such as green');
    }
    if (buzz !== undefined && typeof buzz !== 'boolean') throw new CommandError('notify: "buzz" must be true or false');
    if (text === undefined && led === undefined && buzz === undefined) {
      throw new CommandError('notify: give at least one of text, led, buzz');
    }
    if (text !== undefined) body.text = text;
    if (led !== undefined) body.led = led;
    if (buzz !== undefined) body.buzz = buzz;
  } else if (command === 'update') {
    // A firmware update is pending (the gateway's rollout sends it, only to firmware whose hello has cap "update").
    const { v, ...rest } = args;
    if (typeof v !== 'string' || v.length === 0 || v.length > MAX_TEXT) throw new CommandError(`update: "v" must be the pending version, at most ${MAX_TEXT} characters`);
    if (Object.keys(rest).length > 0) throw new CommandError('update takes only "v"');
    body.v = v;
  } else if (Object.keys(args).length > 0) {
    throw new CommandError(`${command} takes no arguments`);
  }
  return body;
}

/**
 * Gateway → device commands with delivery confirmation: a command counts as delivered only when the device
 * acks its seq (0x81). Unacked sends are repeated with the same seq, so a device never runs one command twice.
 */
export class DeviceCommander {
  private readonly waiting = new Map<string, () => void>();
  private readonly sleeping = new Set<() => void>();
  private readonly off: () => void;
  private stopped = false;

  /** Whether a command to `device` waits for its ack (the firmware rollout waits for an idle device). */
  busy(device: string): boolean {
    for (const k of this.waiting.keys()) if (k.startsWith(`${device}/`)) return true;
    return false;
  }

  constructor(
    bus: EventBus,
    private readonly transport: {
      send(deviceId: string, frame: GatewayFrame): boolean;
      nextSeq(deviceId: string): number;
    },
  ) {
    this.off = bus.on('device-ack', ({ device, seq }) => this.waiting.get(`${device}/${seq}`)?.());
  }

  async send(device: string, command: string, args: Record<string, unknown> = {}, o: CommandOptions = {}): Promise<CommandResult> {
    const body = commandFrameBody(command, args);
    const timeoutMs = o.timeoutMs ?? 1500;
    const attempts = Math.max(1, o.attempts ?? 3);
    const seq = this.transport.nextSeq(device);
    const frame: GatewayFrame = { type: 'command', seq, body };
    const key = `${device}/${seq}`;
    let acked = false;
    let wake: () => void = () => undefined;
    this.waiting.set(key, () => {
      acked = true;
      wake();
    });
    try {
      for (let i = 1; i <= attempts && !this.stopped; i++) {
        const sentAt = Date.now();
        if (!this.transport.send(device, frame)) {
          return { device, command: body.c, seq, acked: false, attempts: i, rttMs: null, error: `device ${device} is not connected` };
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.sleeping.delete(wake);
            resolve();
          }, timeoutMs);
          wake = () => {
            clearTimeout(timer);
            this.sleeping.delete(wake);
            resolve();
          };
          this.sleeping.add(wake);
          if (acked) wake();
        });
        if (acked) return { device, command: body.c, seq, acked: true, attempts: i, rttMs: Date.now() - sentAt, error: null };
      }
      const error = this.stopped ? 'the agent is stopping' : `no ack from ${device} after ${attempts} tries`;
      return { device, command: body.c, seq, acked: false, attempts, rttMs: null, error };
    } finally {
      this.waiting.delete(key);
    }
  }

  stop(): void {
    this.stopped = true;
    this.off();
    for (const wake of [...this.sleeping]) wake();
  }
}
