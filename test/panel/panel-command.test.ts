import * as fs from 'node:fs';
import * as path from 'node:path';
import { panelCommand, panelInfo } from '../../agent/cli/commands/panel-command';
import type { CliOutput } from '../../agent/cli/output';
import { tempDir } from '../support/temp-dir';
import { householdConfig } from './panel-harness';

describe('edge-agent panel (in-process)', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir()));
  afterEach(() => t.cleanup());

  it('shows where to open the panel and the pairing code; --new-code replaces it', async () => {
    const file = path.join(t.dir, 'config.yaml');
    fs.writeFileSync(
      file,
      `gateway: { id: gw, dataDir: ./data }\napi: { listen: "127.0.0.1:8799", panel: { lanListen: "0.0.0.0:8798" } }\n`,
    );
    const out: string[] = [];
    const io: CliOutput = { out: (s) => out.push(s), err: (s) => out.push(s), isTTY: false };
    expect(await panelCommand({ config: file }, io)).toBe(0);
    const code = fs.readFileSync(path.join(t.dir, 'data', 'panel-code'), 'utf8').trim();
    expect(fs.statSync(path.join(t.dir, 'data', 'panel-code')).mode & 0o777).toBe(0o600);
    expect(out[0]).toContain('on this gateway:      http://127.0.0.1:8799/panel/');
    expect(out[0]).toContain(`pairing code:         ${code.slice(0, 4)}-${code.slice(4)}`);
    out.length = 0;
    expect(await panelCommand({ config: file, newCode: true, json: true }, io)).toBe(0);
    const info = JSON.parse(out[0]!) as { pairingCode: string; renewed: boolean; lan: string[] };
    const fresh = fs.readFileSync(path.join(t.dir, 'data', 'panel-code'), 'utf8').trim();
    expect(info.pairingCode).toBe(`${fresh.slice(0, 4)}-${fresh.slice(4)}`);
    expect(info.renewed).toBe(true);
    expect(info.lan.every((u) => /^http:\/\/.+:8798\/panel\/$/.test(u))).toBe(true);
  });

  it('says so when the panel is switched off', () => {
    const cfg = householdConfig(t.dir, { enabled: false });
    expect(() => panelInfo(cfg)).toThrow(/switched off in the config \(api\.panel\.enabled: false\)/);
  });
});
