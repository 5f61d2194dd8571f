#include "edge_proto/crc16.h"

/*
 * Nibble-table CRC: 32 bytes of table (flash) instead of 512, two lookups per byte. Frames are at most a few
 * hundred bytes, so this costs microseconds on an ESP32 and keeps the component small.
 */
static const uint16_t k_nibble[16] = {
    0x0000, 0x1021, 0x2042, 0x3063, 0x4084, 0x50A5, 0x60C6, 0x70E7,
    0x8108, 0x9129, 0xA14A, 0xB16B, 0xC18C, 0xD1AD, 0xE1CE, 0xF1EF,
};

uint16_t edge_crc16_update(uint16_t crc, const uint8_t *data, size_t len)
{
    size_t i;
    for (i = 0; i < len; i++) {
        crc = (uint16_t)((crc << 4) ^ k_nibble[((crc >> 12) ^ (data[i] >> 4)) & 0x0Fu]);
        crc = (uint16_t)((crc << 4) ^ k_nibble[((crc >> 12) ^ (data[i] & 0x0Fu)) & 0x0Fu]);
    }
    return crc;
}

uint16_t edge_crc16(const uint8_t *data, size_t len)
{
    return edge_crc16_update(EDGE_CRC16_INIT, data, len);
}
