#include <string.h>

#include "edge_proto/crc16.h"
#include "edge_proto/errors.h"
#include "edge_proto/frame.h"

bool edge_frame_type_known(uint8_t type)
{
    return (type >= EDGE_T_HELLO && type <= EDGE_T_FIRMWARE_CHOICE) ||
           (type >= EDGE_T_ACK && type <= EDGE_T_CONSENT_STATE);
}

bool edge_frame_type_needs_ack(uint8_t type)
{
    return type == EDGE_T_READING || type == EDGE_T_EVENT || type == EDGE_T_CONSENT || type == EDGE_T_FIRMWARE_CHOICE;
}

int edge_frame_encode(uint8_t type, uint16_t seq, const uint8_t *body, size_t body_len, uint8_t *out, size_t cap)
{
    uint16_t crc;
    if (body == NULL || out == NULL || body_len == 0) {
        return EDGE_ERR_ARG;
    }
    if (body_len > cap || cap - body_len < EDGE_FRAME_OVERHEAD) {
        return EDGE_ERR_NOSPACE;
    }
    /* memmove: the caller may have built the body in place at out + EDGE_FRAME_HEADER. */
    memmove(out + EDGE_FRAME_HEADER, body, body_len);
    out[0] = EDGE_PROTOCOL_VERSION;
    out[1] = type;
    out[2] = (uint8_t)(seq & 0xFFu);
    out[3] = (uint8_t)(seq >> 8);
    crc = edge_crc16(out, EDGE_FRAME_HEADER + body_len);
    out[EDGE_FRAME_HEADER + body_len] = (uint8_t)(crc & 0xFFu);
    out[EDGE_FRAME_HEADER + body_len + 1u] = (uint8_t)(crc >> 8);
    return (int)(body_len + EDGE_FRAME_OVERHEAD);
}

int edge_frame_decode(const uint8_t *buf, size_t len, edge_frame_t *out)
{
    size_t end;
    uint16_t crc;
    if (len < EDGE_FRAME_MIN) {
        return EDGE_ERR_SHORT;
    }
    end = len - 2u;
    crc = (uint16_t)(buf[end] | (buf[end + 1u] << 8));
    if (crc != edge_crc16(buf, end)) {
        return EDGE_ERR_CRC;
    }
    if (buf[0] != EDGE_PROTOCOL_VERSION) {
        return EDGE_ERR_VERSION;
    }
    if (!edge_frame_type_known(buf[1])) {
        return EDGE_ERR_TYPE;
    }
    out->type = buf[1];
    out->seq = (uint16_t)(buf[2] | (buf[3] << 8));
    out->body = buf + EDGE_FRAME_HEADER;
    out->body_len = end - EDGE_FRAME_HEADER;
    return EDGE_OK;
}
