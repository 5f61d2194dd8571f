import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { REPO } from './run-cli';

/**
 * The real kitchen_scale firmware (firmware-bridge/firmware), built for QEMU's RISC-V `virt` machine by the
 * board's Makefile and run in qemu-system-riscv32: its UART on a PTY, its simulated load cell, privacy button
 * and LED in a block of guest RAM shared through QEMU's memory backend file (board_sim.h), its reset via QMP.
 */

export const BOARD_DIR = path.join(REPO, 'firmware-bridge', 'firmware', 'boards', 'qemu-virt');
const CROSS = 'riscv64-unknown-elf-';
const QEMU = 'qemu-system-riscv32';
const RAM_BYTES = 16 * 1024 * 1024;
const RAM_BASE = 0x80000000;
/** board_sim.h: BOARD_SIM_ADDR and the word index of each field */
const SIM_OFFSET = 0x80100000 - RAM_BASE;
const SIM = { magic: 0, boots: 1, loadRaw: 2, buttonDown: 3, conversions: 4, buttonReads: 5, led: 6, ledPulses: 7 } as const;
const SIM_MAGIC = 0x5343414c;
const STACK_PAINT = 0xa5a5a5a5;
/** main.c's calibration: grams per HX711 count */
export const GRAMS_PER_COUNT = 0.00235;

const onPath = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** What is missing to build and run the firmware here, or null (Debian: see .ci/run). */
export function missingFirmwareTools(): string | null {
  const missing: string[] = [];
  if (!onPath(`${CROSS}gcc`)) missing.push('gcc-riscv64-unknown-elf');
  else if (!path.isAbsolute(spawnSync(`${CROSS}gcc`, ['-print-file-name=picolibc.specs']).stdout.toString().trim()))
    missing.push('picolibc-riscv64-unknown-elf');
  if (!onPath(QEMU)) missing.push('qemu-system-misc');
  if (!onPath('make')) missing.push('make');
  if (!onPath('socat')) missing.push('socat');
  return missing.length ? missing.join(', ') : null;
}

export interface FirmwareBuild {
  elf: string;
  /** the directory holding the objects, .su files and the map */
  out: string;
  /** the painted stack: [bottom, top) guest addresses */
  stack: { bottom: number; top: number };
}

/** Builds the firmware with the board's Makefile into `out` (a few seconds). Throws with make's output. */
export function buildFirmware(out: string): FirmwareBuild {
  const res = spawnSync('make', ['-s', '-C', BOARD_DIR, `OUT=${out}`], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`firmware build failed:\n${res.stdout}${res.stderr}`);
  const elf = path.join(out, 'kitchen_scale.elf');
  const nm = spawnSync(`${CROSS}nm`, [elf], { encoding: 'utf8' }).stdout;
  const sym = (name: string): number => {
    const m = new RegExp(`^([0-9a-f]+) \\w ${name.replace(/\$/g, '\\$')}$`, 'm').exec(nm);
    if (!m) throw new Error(`${name} not in ${elf}`);
    return parseInt(m[1], 16);
  };
  return { elf, out, stack: { bottom: sym('__stack_bottom'), top: sym('__stack_top') } };
}

/** A minimal QMP client: one command at a time, events ignored. */
class Qmp {
  private buf = '';
  private waiting: Array<(msg: Record<string, unknown>) => void> = [];

  private constructor(private readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString();
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ('event' in msg) continue;
        this.waiting.shift()?.(msg);
      }
    });
    sock.on('error', () => {});
  }

  static async connect(file: string): Promise<Qmp> {
    const sock = net.connect(file);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', () => resolve());
      sock.once('error', reject);
    });
    const qmp = new Qmp(sock);
    await new Promise<Record<string, unknown>>((resolve) => qmp.waiting.push(resolve)); // the greeting
    await qmp.execute('qmp_capabilities');
    return qmp;
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.waiting.push((msg) => ('error' in msg ? reject(new Error(`QMP ${command}: ${JSON.stringify(msg.error)}`)) : resolve(msg.return)));
      this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + '\n');
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/**
 * One virt machine running the firmware. `start()` leaves the core halted (-S) until `run()`: QEMU drops UART
 * output while nobody holds the PTY, so the caller opens the PTY (a PtyPair joined to it) first.
 */
export class QemuBoard {
  private proc: ChildProcess | null = null;
  private qmp: Qmp | null = null;
  private mem: number | null = null;
  private stderr = '';
  /** the guest UART's PTY (/dev/pts/N) */
  pty = '';

  constructor(
    private readonly build: FirmwareBuild,
    private readonly dir: string,
  ) {}

  async start(opts: { loadRaw?: number } = {}): Promise<void> {
    const memFile = path.join(this.dir, 'qemu-ram');
    const qmpFile = path.join(this.dir, 'qemu-qmp.sock');
    fs.writeFileSync(memFile, Buffer.alloc(0));
    fs.truncateSync(memFile, RAM_BYTES);
    this.mem = fs.openSync(memFile, 'r+');
    this.poke(SIM.loadRaw, opts.loadRaw ?? 0);
    this.proc = spawn(
      QEMU,
      [
        '-M', 'virt,memory-backend=ram0',
        '-object', `memory-backend-file,id=ram0,size=${RAM_BYTES},mem-path=${memFile},share=on`,
        '-m', `${RAM_BYTES / (1024 * 1024)}M`,
        '-bios', 'none',
        '-kernel', this.build.elf,
        '-display', 'none',
        '-monitor', 'none',
        '-chardev', 'pty,id=uart0',
        '-serial', 'chardev:uart0',
        '-qmp', `unix:${qmpFile},server=on,wait=off`,
        '-S',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!fs.existsSync(qmpFile)) {
      if (this.proc.exitCode !== null || Date.now() > deadline) throw new Error(`qemu did not start: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    this.qmp = await Qmp.connect(qmpFile);
    const chardevs = (await this.qmp.execute('query-chardev')) as Array<{ label: string; filename: string }>;
    const uart = chardevs.find((c) => c.label === 'uart0');
    if (!uart?.filename.startsWith('pty:')) throw new Error(`no PTY for the guest UART: ${JSON.stringify(chardevs)}`);
    this.pty = uart.filename.slice('pty:'.length);
  }

  /** Starts the halted core (QMP cont). */
  async run(): Promise<void> {
    await this.qmp!.execute('cont');
  }

  /** Presses the machine's reset (QMP system_reset): the firmware boots again; the shared block survives. */
  async reset(): Promise<void> {
    await this.qmp!.execute('system_reset');
  }

  async stop(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (this.qmp) {
      await this.qmp.execute('quit').catch(() => {});
      this.qmp.close();
      this.qmp = null;
    }
    if (p && p.exitCode === null) {
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      const kill = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(kill);
    }
    if (this.mem !== null) fs.closeSync(this.mem);
    this.mem = null;
  }

  private peek(word: number): number {
    const b = Buffer.alloc(4);
    fs.readSync(this.mem!, b, 0, 4, SIM_OFFSET + word * 4);
    return b.readUInt32LE(0);
  }

  private poke(word: number, value: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value | 0, 0);
    fs.writeSync(this.mem!, b, 0, 4, SIM_OFFSET + word * 4);
  }

  /** Times the firmware has booted since start() (0 before its first boot reached app_main's board start). */
  get boots(): number {
    return this.peek(SIM.magic) === SIM_MAGIC ? this.peek(SIM.boots) : 0;
  }

  /** HX711 conversions the firmware has clocked out: it samples only what it may (privacy at the source). */
  get conversions(): number {
    return this.peek(SIM.conversions);
  }

  get buttonReads(): number {
    return this.peek(SIM.buttonReads);
  }

  get ledPulses(): number {
    return this.peek(SIM.ledPulses);
  }

  /** The load cell's next conversion, in HX711 counts. */
  set loadRaw(counts: number) {
    this.poke(SIM.loadRaw, counts);
  }

  get loadRaw(): number {
    return this.peek(SIM.loadRaw) | 0;
  }

  /** Holds or releases the privacy (BOOT) button. */
  set buttonDown(down: boolean) {
    this.poke(SIM.buttonDown, down ? 1 : 0);
  }

  /** Deepest use of the task stack so far, in bytes: the painted words the firmware has overwritten. */
  stackHighWater(): number {
    const { bottom, top } = this.build.stack;
    const b = Buffer.alloc(top - bottom);
    fs.readSync(this.mem!, b, 0, b.length, bottom - RAM_BASE);
    let i = 0;
    while (i + 4 <= b.length && b.readUInt32LE(i) === STACK_PAINT) i += 4;
    return b.length - i;
  }
}
