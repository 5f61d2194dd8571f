import { SerialPort } from 'serialport';
import { SerialLink } from '../../drivers/serial/serial-link';
import type { FrameSink } from '../../drivers/types';
import { hasSocat } from '../support/pty-pair';
import { ptyPerTest } from '../support/pty-per-test';

const sink: FrameSink = { onFrame: () => undefined, onBadFrame: () => undefined, onLink: () => undefined };

/** Opens the port as the flasher does (serialport locks it); rejects with serialport's error if it cannot. */
function lockPort(path: string): Promise<SerialPort> {
  const p = new SerialPort({ path, baudRate: 460800, autoOpen: false });
  return new Promise((resolve, reject) => p.open((err) => (err ? reject(err) : resolve(p))));
}

(hasSocat ? describe : describe.skip)('a serial link hands its port over (real PTY)', () => {
  const t = ptyPerTest();

  // The firmware rollout stops the device's link and opens the port itself; a link stopped while its port was
  // still opening used to let that open finish with nobody holding it, so the port stayed locked and the rollback
  // failed with "in use by another program" (a device left half-written in the fleet run).
  it('stopped while its port is still opening: once stop() resolves, the port is free to lock', async () => {
    for (let i = 0; i < 20; i++) {
      const link = new SerialLink({ deviceId: 'scale-1', path: t.pty.gateway, baudRate: 115200 }, sink);
      link.start();
      await link.stop();
      const flasher = await lockPort(t.pty.gateway);
      await new Promise<void>((resolve) => flasher.close(() => resolve()));
    }
  });

  it('started again after a stop, it opens the port again (the update released it)', async () => {
    const link = new SerialLink({ deviceId: 'scale-1', path: t.pty.gateway, baudRate: 115200 }, sink);
    link.start();
    await link.stop();
    link.start();
    const deadline = Date.now() + 5000;
    while (!link.isOpen && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(link.isOpen).toBe(true);
    await expect(lockPort(t.pty.gateway)).rejects.toThrow(/lock/i);
    await link.stop();
  });
});
