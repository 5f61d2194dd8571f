/**
 * The chunk size a firmware download asks the platform for (docs/firmware-updates.md §2, §4, §9).
 *
 * ThingsBoard: its MQTT transport answers a chunk size up to `transport.mqtt.netty.max_payload_size` (65536 by
 * default; `MqttTransportHandler.getOtaPackageCallback` refuses only a size *above* it) and its Netty sockets send
 * without Nagle's delay, where 64 KiB chunks moved 1 MB in about half the time of 16 KiB ones. The generic
 * profile's broker may hold large answers back (Mosquitto without `set_tcp_nodelay`: 40 ms per chunk), so it keeps
 * 16 KiB. An explicit `firmware.chunkBytes` wins over both.
 */
export const DEFAULT_CHUNK_BYTES = { thingsboard: 65536, generic: 16384 } as const;

/**
 * A server that refuses a size (PAYLOAD_TOO_LARGE, a closed connection, an empty answer) is asked again with half
 * of it, down to this (or the configured size, if smaller): the smallest default, which every platform we know
 * serves.
 */
export const FALLBACK_FLOOR_BYTES = DEFAULT_CHUNK_BYTES.generic;

/**
 * The next size to try after `size` was refused, or null when there is none (at the floor). Halving keeps every
 * byte offset that was a multiple of `size` a multiple of the new size, so the bytes on disk stay whole chunks.
 */
export function smallerChunkSize(size: number, floor: number): number | null {
  const half = size / 2;
  return Number.isInteger(half) && half >= floor ? half : null;
}
