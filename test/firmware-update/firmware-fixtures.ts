import * as fs from 'node:fs';
import * as path from 'node:path';
import { FirmwareUpdates } from '../../agent/firmware-update/firmware-updates';
import type { DeviceFacts } from '../../agent/firmware-update/rollout-plan';
import { kitchenScaleImage } from '../support/firmware-packages';

/**
 * A verified kitchen-scale 2.5.0 package on the gateway in `dataDir` (imported as a technician would) and a
 * rollout in which `device` (kitchen-scale 2.4.0, connected, idle) is planned. `plan()` is what the agent's rollout
 * does next with the household's choices on file: "<action> <device state>[ <reason>]".
 */
export function pendingUpdate(dataDir: string, device: string): { fw: FirmwareUpdates; plan: () => string } {
  const fw = new FirmwareUpdates(dataDir);
  const file = path.join(dataDir, 'new.bin');
  fs.writeFileSync(file, kitchenScaleImage('2.5.0', 64 * 1024, 41));
  fw.importPackage(file);
  const facts: DeviceFacts[] = [
    { id: device, model: 'kitchen-scale', fw: '2.4.0', connected: true, idle: true, doNotUpdate: false, deferredUntil: null },
  ];
  const plan = (): string => {
    const p = fw.plan(facts, Date.now())!;
    const d = p.rollout.devices.find((x) => x.id === device)!;
    return `${p.action.kind} ${d.state}${d.reason ? ` ${d.reason.replace(/until .*/, 'until …')}` : ''}`;
  };
  return { fw, plan };
}
