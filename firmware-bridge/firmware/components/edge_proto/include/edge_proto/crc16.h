#ifndef EDGE_PROTO_CRC16_H
#define EDGE_PROTO_CRC16_H

#include <stddef.h>
#include <stdint.h>

#define EDGE_CRC16_INIT 0xFFFFu

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0). edge_crc16("123456789") == 0x29B1. */
uint16_t edge_crc16(const uint8_t *data, size_t len);

/* Incremental form: start with EDGE_CRC16_INIT, feed chunks in order; the result equals edge_crc16 of the whole. */
uint16_t edge_crc16_update(uint16_t crc, const uint8_t *data, size_t len);

#endif
