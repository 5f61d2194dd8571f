import type { FlashEvent } from '../../../firmware-bridge/flasher';
import { jsonFailure } from '../output';

/**
 * The process-level half of "a flash that has not reached its result never exits 0". The flasher rejects what
 * a lost port leaves pending, but a promise anywhere in esptool-js that never settles would still let the event
 * loop run empty, and Node ends such a process with status 0 and nothing said. While armed, this guard turns
 * that end (and any exit with status 0) into status 1 and one line saying where the flash stopped.
 */
export class UnfinishedFlashGuard {
  private stage = 'connecting';
  private percent: number | null = null;
  private armed = false;

  /** `report` gets the one line (stderr); `result` the machine-readable result (stdout with --json), if any. */
  constructor(
    private readonly report: (line: string) => void,
    private readonly result: ((event: Record<string, unknown>) => void) | null = null,
  ) {}

  arm(): void {
    if (this.armed) return;
    this.armed = true;
    process.on('beforeExit', this.onBeforeExit);
    process.on('exit', this.onExit);
  }

  /** The command reached its result (success or a reported failure): normal exit rules apply again. */
  disarm(): void {
    if (!this.armed) return;
    this.armed = false;
    process.removeListener('beforeExit', this.onBeforeExit);
    process.removeListener('exit', this.onExit);
  }

  /** Follows the flasher's events, so the line can say where it stopped. */
  note(e: FlashEvent): void {
    if (e.event === 'stage') this.stage = e.stage;
    else if (e.event === 'progress') this.percent = e.percent;
  }

  get message(): string {
    const at = this.percent === null ? '' : ` at ${Math.floor(this.percent)} %`;
    return `the flash stopped without a result while ${this.stage}${at} (the port went quiet: unplugged?) — the device may be half-written; reconnect it and run the same command again`;
  }

  private trip(): void {
    this.disarm();
    this.result?.(jsonFailure(this.message, 1, { event: 'result', flashed: false, kind: 'lost', halfWritten: this.percent !== null }));
    this.report(`edge-agent: ${this.message}`);
    process.exitCode = 1;
  }

  private readonly onBeforeExit = (): void => this.trip();

  private readonly onExit = (code: number): void => {
    if (code === 0) this.trip();
  };
}
