import { PtyPair } from './pty-pair';
import { tempDir } from './temp-dir';

/** What a test of a `ptyPerTest` block gets: this test's directory and the PTY pair started in it. */
export interface PtyTest {
  readonly dir: string;
  readonly pty: PtyPair;
}

export interface PtyPerTestOptions {
  /** temp dir name prefix */
  prefix?: string;
  /** runs once the pair is up (start an agent or a simulated device on it) */
  setUp?: (t: PtyTest) => Promise<void> | void;
  /** runs before the pair is unplugged, so whatever holds a port closes it first; the pair is stopped even if it throws */
  tearDown?: () => Promise<void> | void;
}

/**
 * Gives every test of the enclosing describe a fresh temp dir with a started PtyPair in it (an ESP32 on a
 * USB-UART), then unplugs it and removes the dir. The test's own setup and teardown go in `setUp`/`tearDown`:
 * Jest runs a block's afterEach hooks in the order they were declared, so a separate afterEach of the test
 * would close its port only after the pair was gone.
 */
export function ptyPerTest(opts: PtyPerTestOptions = {}): PtyTest {
  let current: { dir: string; cleanup: () => void; pty: PtyPair } | null = null;
  const now = (): { dir: string; pty: PtyPair } => {
    if (current === null) throw new Error('ptyPerTest: used outside a test');
    return current;
  };
  const fixture: PtyTest = {
    get dir() {
      return now().dir;
    },
    get pty() {
      return now().pty;
    },
  };
  beforeEach(async () => {
    const t = tempDir(opts.prefix);
    current = { ...t, pty: new PtyPair(t.dir) };
    await current.pty.start();
    await opts.setUp?.(fixture);
  });
  afterEach(async () => {
    const t = current;
    if (t === null) return;
    try {
      await opts.tearDown?.();
    } finally {
      current = null;
      await t.pty.stop();
      t.cleanup();
    }
  });
  return fixture;
}
