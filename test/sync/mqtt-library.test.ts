import * as path from 'node:path';
import { Writable } from 'node:stream';
import { mqttLibrary } from '../../agent/sync/mqtt-library';

/** mqtt.js as the agent loads it: mqtt-packet's 65,536-Buffer packet id cache off (issue #24: ~6.5 MiB of heap). */
describe('mqttLibrary', () => {
  const packet = (): { writeToStream: ((p: object, s: Writable) => boolean) & { cacheNumbers: boolean } } =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(require.resolve('mqtt-packet', { paths: [path.dirname(require.resolve('mqtt'))] }));

  it('turns the number cache of the mqtt-packet instance mqtt.js uses off, and packet ids are still written right', async () => {
    expect(typeof mqttLibrary().connect).toBe('function');
    expect(packet().writeToStream.cacheNumbers).toBe(false);
    const chunks: Buffer[] = [];
    const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c), cb()) });
    packet().writeToStream({ cmd: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, messageId: 0x1234, retain: false, dup: false }, sink);
    await new Promise((r) => setImmediate(r)); // the stream is corked until the next tick
    // PUBLISH, QoS 1: fixed header, remaining length 6, topic length 1, 't', packet id 0x1234, payload 'x'
    expect([...Buffer.concat(chunks)]).toEqual([0x32, 6, 0, 1, 0x74, 0x12, 0x34, 0x78]);
    expect(mqttLibrary()).toBe(mqttLibrary());
  });
});
