import { timeScale } from './time-scale';

/**
 * Polls `cond` every 25 ms; throws `timed out waiting for <what>` (plus `detail()`) after `timeoutMs` times the
 * suite's time scale (EDGE_TEST_TIME_SCALE: a slow machine gets longer before a wait gives up, never a longer wait).
 */
export async function waitUntil(what: string, cond: () => boolean, timeoutMs = 10_000, detail: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs * timeScale();
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${detail()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
