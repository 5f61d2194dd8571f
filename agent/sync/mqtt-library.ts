import * as path from 'node:path';

let loaded: typeof import('mqtt') | null = null;

/**
 * mqtt.js, loaded at the first connection (it and its streams are ~100 modules an agent without upstream, or before
 * its first connect, need not load), with mqtt-packet's number cache off: by default the first packet written
 * fills a cache of all 65,536 two-byte packet ids, one Buffer each, ~6.5 MiB of heap for the life of the process,
 * a third of a home gateway's live heap (issue #24, heap snapshot). Without it a packet id is written from two
 * bytes made on the spot, for the few packets a second a gateway sends.
 */
export function mqttLibrary(): typeof import('mqtt') {
  if (loaded !== null) return loaded;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mqtt = require('mqtt') as typeof import('mqtt');
  // the mqtt-packet instance mqtt.js itself uses, wherever the package manager put it
  const packetModule = require.resolve('mqtt-packet', { paths: [path.dirname(require.resolve('mqtt'))] });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(packetModule) as { writeToStream: { cacheNumbers: boolean } }).writeToStream.cacheNumbers = false;
  loaded = mqtt;
  return mqtt;
}
