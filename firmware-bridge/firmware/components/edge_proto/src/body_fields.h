/*
 * Internal to the body decoders (body_read_device.c, body_read_gateway.c): the top-level keys of a body and
 * typed reads of their values, with the gateway's rules for each type. Not part of the public API.
 */
#ifndef EDGE_PROTO_BODY_FIELDS_H
#define EDGE_PROTO_BODY_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge_proto/body.h"
#include "edge_proto/errors.h"

/* a wanted key the body does not have */
#define ABSENT ((size_t)-1)
#define MAX_SAFE 9007199254740991.0 /* 2^53 - 1 */

/* Checks the body is well-formed, then records where each of `keys` starts in `at` (ABSENT when missing). */
int edge_fields_find(const uint8_t *body, size_t len, const char *const *keys, size_t n_keys, size_t *at);
/* A reader over the body positioned at `pos`. */
void edge_field_reader_at(edge_cbor_reader_t *r, const uint8_t *body, size_t len, size_t pos);
/* A "uint" as the gateway defines it: any integral number >= 0, here also at most max. */
int edge_field_read_uint(edge_cbor_reader_t *r, double max, uint64_t *out);
int edge_field_uint_at(const uint8_t *body, size_t len, size_t pos, double max, uint64_t *out);
/* A number that is neither NaN nor infinite. */
int edge_field_finite_number(edge_cbor_reader_t *r, double *out);
int edge_field_number_at(const uint8_t *body, size_t len, size_t pos, double *out);
int edge_field_text_at(const uint8_t *body, size_t len, size_t pos, bool non_empty, edge_text_t *out);
int edge_field_bool_at(const uint8_t *body, size_t len, size_t pos, bool *out);

#endif
