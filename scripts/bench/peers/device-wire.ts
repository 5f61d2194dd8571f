import { encodeSerialFrame } from '../../../firmware-bridge/protocol';
import { HELLO, dataFrame } from '../ingest-bench';

/** The wire bytes of one device: hello, then `frames` data frames alternating a qualifying event and a reading. */
export function deviceWire(frames: number, id = 'scale-0'): Buffer {
  const parts: Uint8Array[] = [encodeSerialFrame(HELLO(id))];
  for (let i = 0; i < frames; i++) parts.push(encodeSerialFrame(dataFrame(i)));
  return Buffer.concat(parts);
}
