/**
 * Where firmware chunks are requested and answered (docs/firmware-updates.md §2, §3). Both profiles use
 * ThingsBoard's scheme: request `…/request/{requestId}/chunk/{n}` with the chunk size as decimal text, answer
 * `…/response/{requestId}/chunk/{n}` with the bytes (empty past the end), errors on `…/error`.
 */
export interface OtaTopics {
  request(requestId: number, chunk: number): string;
  /** subscription filter for the answers */
  responseFilter: string;
  errorTopic: string;
  /** (requestId, chunk) of an answer topic, or null when the topic is not an answer */
  parseResponse(topic: string): { requestId: number; chunk: number } | null;
}

function scheme(prefix: string): OtaTopics {
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/response/(\\d+)/chunk/(\\d+)$`);
  return {
    request: (requestId, chunk) => `${prefix}/request/${requestId}/chunk/${chunk}`,
    responseFilter: `${prefix}/response/+/chunk/+`,
    errorTopic: `${prefix}/error`,
    parseResponse: (topic) => {
      const m = re.exec(topic);
      return m ? { requestId: Number(m[1]), chunk: Number(m[2]) } : null;
    },
  };
}

/** ThingsBoard's MQTT transport (MqttTopics.DEVICE_FIRMWARE_*): the gateway device's own session. */
export const thingsboardOtaTopics: OtaTopics = scheme('v2/fw');

/** Generic profile: the same scheme under `<base>/<gatewayId>/firmware`. */
export const genericOtaTopics = (baseTopic: string, gatewayId: string): OtaTopics =>
  scheme(`${baseTopic}/${gatewayId}/firmware`);
