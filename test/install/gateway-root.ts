import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO } from '../support/run-cli';
import { tempDir } from '../support/temp-dir';

export const INSTALLER = path.join(REPO, 'scripts', 'install-gateway');

/**
 * A throwaway system root for `install-gateway --root`: the account files a Debian image has (root and dialout,
 * no bluetooth group yet, as before bluez is installed), /bin/kill, and a copy of the host's systemd units, so
 * `systemd-analyze verify --root` can resolve multi-user.target and friends.
 */
export function gatewayRoot(): { dir: string; cleanup: () => void } {
  const t = tempDir('edge-agent-root-');
  const etc = path.join(t.dir, 'etc');
  fs.mkdirSync(etc);
  fs.writeFileSync(path.join(etc, 'passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
  fs.writeFileSync(path.join(etc, 'group'), 'root:x:0:\ndialout:x:20:\n');
  fs.writeFileSync(path.join(etc, 'shadow'), 'root:*:19000:0:99999:7:::\n', { mode: 0o640 });
  fs.writeFileSync(path.join(etc, 'gshadow'), 'root:*::\ndialout:*::\n', { mode: 0o640 });
  // Merged /usr as on bookworm, with the one binary the unit names besides our own (ExecReload=/bin/kill).
  fs.mkdirSync(path.join(t.dir, 'usr', 'bin'), { recursive: true });
  fs.symlinkSync('usr/bin', path.join(t.dir, 'bin'));
  fs.copyFileSync('/usr/bin/kill', path.join(t.dir, 'usr', 'bin', 'kill'));
  fs.chmodSync(path.join(t.dir, 'usr', 'bin', 'kill'), 0o755);
  fs.cpSync('/usr/lib/systemd/system', path.join(t.dir, 'usr', 'lib', 'systemd', 'system'), {
    recursive: true,
    verbatimSymlinks: true,
  });
  return t;
}

export interface InstallerResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runInstaller(args: string[], timeoutMs = 120_000): Promise<InstallerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(INSTALLER, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`install-gateway ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The changes a run reported ("+ …") or would make ("would …"), without the prefix, in order. */
export function changes(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => /^(?:\+ |would )(.*)$/.exec(l)?.[1])
    .filter((l): l is string => l !== undefined);
}

/** Every path under dir with type, mode, owner, size, link target and content hash: equal snapshots, equal trees. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    const rel = path.relative(dir, p) || '.';
    let what = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs}`;
    if (st.isSymbolicLink()) what += ` -> ${fs.readlinkSync(p)}`;
    else if (st.isFile())
      what += ` ${st.size} ${crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex')}`;
    out.set(rel, what);
    if (st.isDirectory()) for (const e of fs.readdirSync(p)) walk(path.join(p, e));
  };
  walk(dir);
  return out;
}

/** Differences between two snapshots, as readable lines (empty when equal). */
export function diff(before: Map<string, string>, after: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [k, v] of before)
    if (after.get(k) !== v) lines.push(after.has(k) ? `changed ${k}` : `removed ${k}`);
  for (const k of after.keys()) if (!before.has(k)) lines.push(`added ${k}`);
  return lines;
}

export const modeOf = (p: string): string => (fs.statSync(p).mode & 0o7777).toString(8).padStart(4, '0');
export const ownerOf = (p: string): string => {
  const st = fs.statSync(p);
  return `${st.uid}:${st.gid}`;
};

/** uid:gid of a user (and its group) in the root's own /etc/passwd. */
export function idsIn(root: string, user: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync(path.join(root, 'etc', 'passwd'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user} in ${root}/etc/passwd`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** Supplementary members of a group in the root's /etc/group. */
export function membersOf(root: string, group: string): string[] {
  const line = fs
    .readFileSync(path.join(root, 'etc', 'group'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${group}:`));
  return line
    ? line
        .split(':')[3]
        .split(',')
        .filter((m) => m !== '')
    : [];
}
