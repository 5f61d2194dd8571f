import { logActivity } from '../logging/activity-log';
import type { Part } from '../part';
import type { BaseContext } from './context';

/** What the agent does, in the log (device links, triggers, consent); it stops listening when the agent announces its stop. */
export class ActivityLogPart implements Part<BaseContext, Record<string, never>> {
  readonly name = 'activity-log';
  private off: (() => void) | null = null;

  async start({ bus, logger }: BaseContext): Promise<Record<string, never>> {
    this.off = logActivity(bus, logger);
    return {};
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = null;
  }
}
