import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchResult } from './stats';

/**
 * Footprint of the real firmware as built for rv32imc at -Os (firmware-bridge/firmware/boards/qemu-virt): .text,
 * .rodata, .data and .bss per component from the linker map (after --gc-sections, so only what is linked counts),
 * and the worst-case stack from GCC's -fstack-usage frames summed along the call graph (-fcallgraph-info=su).
 */

/** the checkout: two levels up from scripts/bench, three from dist/scripts/bench */
const ROOT = [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', '..')].find((d) =>
  fs.existsSync(path.join(d, 'firmware-bridge', 'firmware')),
)!;
const BOARD = path.join(ROOT, 'firmware-bridge', 'firmware', 'boards', 'qemu-virt');
const CROSS = 'riscv64-unknown-elf-';
/** the trap entry saves 16 registers on the interrupted stack before calling board_trap (start.S) */
const TRAP_FRAME = 64;

type Kind = 'text' | 'rodata' | 'data' | 'bss';
type Component = 'edge_proto' | 'board' | 'app' | 'libc';

function componentOf(file: string): Component {
  if (file.includes('/proto/')) return 'edge_proto';
  if (file.includes('/board/')) return 'board';
  if (file.includes('/app/')) return 'app';
  return 'libc'; // picolibc and libgcc archive members
}

function kindOf(section: string): Kind | null {
  if (/^\.(text)/.test(section)) return 'text';
  if (/^\.(s?rodata)/.test(section)) return 'rodata';
  if (/^\.(s?data|tdata)/.test(section)) return 'data';
  if (/^\.(s?bss|tbss)|^COMMON/.test(section)) return 'bss';
  return null;
}

/** Input-section sizes per component and kind, from the "Linker script and memory map" part of a GNU ld map. */
export function sectionSizes(map: string): Map<string, number> {
  const sizes = new Map<string, number>();
  const body = map.slice(map.indexOf('Linker script and memory map'));
  const lines = body.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let m = /^ (\.[\w.$]+|COMMON)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$/.exec(lines[i]);
    if (!m) {
      const name = /^ (\.[\w.$]+|COMMON)$/.exec(lines[i]);
      const next = name && /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$/.exec(lines[i + 1] ?? '');
      if (name && next) m = [lines[i], name[1], next[1], next[2], next[3]] as unknown as RegExpExecArray;
    }
    if (!m) continue;
    const kind = kindOf(m[1]);
    const size = parseInt(m[3], 16);
    if (!kind || size === 0 || !m[4].includes('.o')) continue;
    const key = `${componentOf(m[4])}.${kind}`;
    sizes.set(key, (sizes.get(key) ?? 0) + size);
  }
  return sizes;
}

interface CallNode {
  frame: number | null; // null: not compiled by us (libc), or only declared in this file
  callees: string[];
}

/** Merges GCC's per-file VCG call graphs (.ci): node titles are function names (file:name for static ones). */
export function callGraph(ciTexts: readonly string[]): Map<string, CallNode> {
  const g = new Map<string, CallNode>();
  const node = (t: string): CallNode => {
    let n = g.get(t);
    if (!n) g.set(t, (n = { frame: null, callees: [] }));
    return n;
  };
  for (const text of ciTexts) {
    for (const m of text.matchAll(
      /^node: \{ title: "([^"]+)" label: "[^"]*?(\d+) bytes \((static|dynamic,bounded|dynamic)\)" \}/gm,
    )) {
      // a dynamic frame is unbounded: refuse to report a figure that would be wrong
      if (m[3] === 'dynamic') throw new Error(`${m[1]} has an unbounded (dynamic) stack frame`);
      node(m[1]).frame = Number(m[2]);
    }
    for (const m of text.matchAll(/^edge: \{ sourcename: "([^"]+)" targetname: "([^"]+)"/gm))
      node(m[1]).callees.push(m[2]);
  }
  return g;
}

/**
 * Deepest stack from `root`: its frame plus the deepest callee. `indirect(caller)` names the functions an
 * indirect call in `caller` can reach. Recursion is an error (edge_proto has none by design).
 */
export function worstStack(
  g: Map<string, CallNode>,
  root: string,
  indirect: (caller: string) => string[],
  unknown: Set<string>,
): number {
  const memo = new Map<string, number>();
  const walk = (fn: string, path: string[]): number => {
    if (memo.has(fn)) return memo.get(fn)!;
    if (path.includes(fn)) throw new Error(`recursion: ${[...path, fn].join(' -> ')}`);
    const n = g.get(fn);
    if (!n || n.frame === null) {
      unknown.add(fn);
      return 0;
    }
    let deepest = 0;
    for (const c of n.callees) {
      const targets = c === '__indirect_call' ? indirect(fn) : [c];
      for (const t of targets) deepest = Math.max(deepest, walk(t, [...path, fn]));
    }
    memo.set(fn, n.frame + deepest);
    return n.frame + deepest;
  };
  return walk(root, []);
}

export function missingFirmwareToolchain(): boolean {
  return spawnSync('sh', ['-c', `command -v ${CROSS}gcc && command -v make`]).status !== 0;
}

export async function firmwareFootprintBench(): Promise<BenchResult[]> {
  if (missingFirmwareToolchain()) {
    process.stderr.write(
      'bench: firmware footprint skipped: gcc-riscv64-unknown-elf/picolibc-riscv64-unknown-elf not installed\n',
    );
    return [];
  }
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'edge-fw-footprint-'));
  try {
    const t0 = Date.now();
    const make = spawnSync('make', ['-s', '-C', BOARD, `OUT=${out}`], { encoding: 'utf8' });
    if (make.status !== 0) throw new Error(`firmware build failed: ${make.stderr}`);
    return [
      { name: 'firmware.build_s', value: (Date.now() - t0) / 1000, unit: 's' },
      ...footprintOfBuild(out),
    ];
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** The footprint rows of a build made by the board's Makefile into `out`. */
export function footprintOfBuild(out: string): BenchResult[] {
  const sizes = sectionSizes(fs.readFileSync(path.join(out, 'kitchen_scale.map'), 'utf8'));
  const cis = ['proto', 'board', 'app'].flatMap((d) =>
    fs
      .readdirSync(path.join(out, d))
      .filter((f) => f.endsWith('.ci'))
      .map((f) => fs.readFileSync(path.join(out, d, f), 'utf8')),
  );
  const g = callGraph(cis);
  const titles = [...g.keys()];
  const matching = (re: RegExp): string[] => titles.filter((t) => re.test(t) && g.get(t)!.frame !== null);
  // Who an indirect call can reach, per caller: the session's and COBS's write callback is the app's UART sink,
  // the app's send_body calls one of its body builders, the board's wait loop one of the UART's conditions.
  const indirect = (caller: string): string[] => {
    if (/session\.c:|edge_cobs_encode_to/.test(caller)) return matching(/main\.c:uart_sink$/);
    if (/main\.c:/.test(caller)) return matching(/main\.c:build_\w+$/);
    if (/board_wait/.test(caller)) return matching(/uart\.c:(rx_has|tx_has_room|tx_done)$/);
    throw new Error(`unresolved indirect call in ${caller}`);
  };
  const protoUnknown = new Set<string>();
  const noCallback = (caller: string): string[] =>
    /session\.c:|edge_cobs_encode_to/.test(caller) ? [] : indirect(caller);
  const protoRoots = cis
    .filter((c) => c.includes('components/edge_proto/src/'))
    .flatMap((c) => [...c.matchAll(/^node: \{ title: "(edge_\w+)" label: "[^"]*bytes/gm)].map((m) => m[1]));
  const protoStack = Math.max(...protoRoots.map((r) => worstStack(g, r, noCallback, protoUnknown)));
  const fwUnknown = new Set<string>();
  const taskStack = worstStack(g, 'board_start', indirect, fwUnknown);
  const trapStack = TRAP_FRAME + worstStack(g, 'board_trap', indirect, fwUnknown);
  const nm = spawnSync(`${CROSS}nm`, ['-S', path.join(out, 'kitchen_scale.elf')], {
    encoding: 'utf8',
  }).stdout;
  const symSize = (name: string): number => {
    const m = new RegExp(`^[0-9a-f]+ ([0-9a-f]+) \\w ${name}$`, 'm').exec(nm);
    return m ? parseInt(m[1], 16) : 0;
  };
  const get = (k: string): number => sizes.get(k) ?? 0;
  const protoLeaves = [...protoUnknown].filter((f) => f !== '__indirect_call').length;
  const rows: BenchResult[] = [
    {
      name: 'firmware.edge_proto.text',
      value: get('edge_proto.text'),
      unit: 'B',
      target: '<= 12288 (with rodata)',
    },
    { name: 'firmware.edge_proto.rodata', value: get('edge_proto.rodata'), unit: 'B' },
    {
      name: 'firmware.edge_proto.text_plus_rodata',
      value: get('edge_proto.text') + get('edge_proto.rodata'),
      unit: 'B',
      target: '<= 12288',
    },
    {
      name: 'firmware.edge_proto.data_plus_bss',
      value: get('edge_proto.data') + get('edge_proto.bss'),
      unit: 'B',
      target: '<= 1024',
    },
    // the library keeps no state of its own: the caller owns it (here main.c's statics)
    {
      name: 'firmware.edge_proto.session_state',
      value: symSize('s_session'),
      unit: 'B',
      peer: 'edge_session_t, 8 slots x 128 B',
    },
    {
      name: 'firmware.edge_proto.reader_state',
      value: symSize('s_reader'),
      unit: 'B',
      peer: 'edge_reader_t, 600-byte run',
    },
    {
      name: 'firmware.edge_proto.stack_worst',
      value: protoStack,
      unit: 'B',
      target: '<= 1536',
      peer: `plus the write callback; ${protoLeaves} libc/libgcc leaf routines (mem*, str*, soft-float) counted as 0`,
    },
  ];
  for (const c of ['board', 'app', 'libc'] as const)
    for (const k of ['text', 'rodata', 'data', 'bss'] as const)
      rows.push({ name: `firmware.${c}.${k}`, value: get(`${c}.${k}`), unit: 'B' });
  rows.push(
    {
      name: 'firmware.image.text_plus_rodata',
      value: [...sizes].filter(([k]) => /\.(text|rodata)$/.test(k)).reduce((a, [, v]) => a + v, 0),
      unit: 'B',
    },
    {
      name: 'firmware.image.data_plus_bss',
      value: [...sizes].filter(([k]) => /\.(data|bss)$/.test(k)).reduce((a, [, v]) => a + v, 0),
      unit: 'B',
      peer: 'incl. the 2 KiB UART rings',
    },
    {
      name: 'firmware.stack_worst',
      value: taskStack + trapStack,
      unit: 'B',
      peer: `app_main's task ${taskStack} B + an interrupt on top ${trapStack} B; 8 KiB reserved`,
    },
  );
  return rows;
}
