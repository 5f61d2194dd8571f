import type { Agent } from '../../../agent/controller';
import { freePort } from '../free-port';
import { tempDir } from '../temp-dir';
import { ThingsboardDouble } from './thingsboard-double';

export interface DoubleFixture {
  tb: ThingsboardDouble;
  /** a fresh data directory */
  dir: string;
  /** the test's agent: stopped before the double */
  agent: Agent | null;
}

/** jest lifecycle for one describe: a started double and a temp dir per test, torn down after it. */
export function thingsboardDoubleFixture(accessToken: string, maxPayloadSize?: number): DoubleFixture {
  const f = { dir: '', agent: null } as DoubleFixture;
  let cleanup = (): void => undefined;
  beforeEach(async () => {
    const t = tempDir();
    f.dir = t.dir;
    cleanup = t.cleanup;
    f.tb = new ThingsboardDouble({ accessToken, ...(maxPayloadSize ? { maxPayloadSize } : {}) });
    await f.tb.start(await freePort());
  });
  afterEach(async () => {
    await f.agent?.stop();
    f.agent = null;
    await f.tb.stop();
    cleanup();
  });
  return f;
}
