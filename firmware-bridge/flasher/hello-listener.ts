import type { SerialPort } from 'serialport';
import { deviceStreamDecoder, type DeviceFrame } from '../protocol';

export type HelloBody = Extract<DeviceFrame, { type: 'hello' }>['body'];

export interface HelloResult {
  hello: HelloBody | null;
  /** valid protocol frames seen (a device that speaks the protocol but sent no hello is still "alive") */
  framesOk: number;
  framesBad: number;
  waitedMs: number;
}

/**
 * Listens on an open port, at the app's baud rate, for the first protocol `hello` of the freshly booted
 * firmware. The ROM boot log that precedes it is garbage to the frame decoder, which resynchronises at 0x00.
 */
export async function listenForHello(
  port: SerialPort,
  baudRate: number,
  timeoutMs: number,
): Promise<HelloResult> {
  await new Promise<void>((resolve, reject) =>
    port.update({ baudRate }, (err) => (err ? reject(err) : resolve())),
  );
  const started = Date.now();
  const decoder = deviceStreamDecoder(); // a gateway-only frame type counts as bad, as in the agent
  const result: HelloResult = { hello: null, framesOk: 0, framesBad: 0, waitedMs: 0 };
  await new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      port.removeListener('data', onData);
      port.removeListener('close', done);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      for (const r of decoder.push(chunk)) {
        if (!r.ok) {
          result.framesBad++;
          continue;
        }
        result.framesOk++;
        if (r.frame.type === 'hello') {
          result.hello = r.frame.body;
          done();
          return;
        }
      }
    };
    const timer = setTimeout(done, timeoutMs);
    port.on('data', onData);
    port.once('close', done);
  });
  result.waitedMs = Date.now() - started;
  return result;
}
