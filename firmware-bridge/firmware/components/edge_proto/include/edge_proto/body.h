/*
 * Typed frame bodies of protocol v1 (DESIGN §3, PROTOCOL.md §4).
 *
 * Writers (device -> gateway, plus the ack a device sends for a command) emit keys in the order of the
 * shared vectors and the shortest CBOR form, so canonical vectors are reproduced byte for byte.
 *
 * Decoders validate the whole body first (edge_cbor_check_body: EDGE_ERR_CBOR), then extract fields
 * (EDGE_ERR_FIELD for missing/mistyped ones). Unknown keys are skipped, whatever their type. Texts are
 * zero-copy slices into the body. "uint" fields accept any integral number >= 0, like the gateway, even
 * when sent as a float; they must also fit the C field (uint32 for channels and uptime, uint16 for acked seqs).
 * The device needs edge_decode_ack/command/consent_state; the others exist so relays and host tests can
 * decode every vector, and cost nothing when unused (the linker drops them).
 */
#ifndef EDGE_PROTO_BODY_H
#define EDGE_PROTO_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edge_proto/cbor.h"
#include "edge_proto/config.h"

/* Data categories, as bits for edge_consent_state_t. */
typedef enum {
    EDGE_CAT_ENVIRONMENT = 0,
    EDGE_CAT_PRESENCE = 1,
    EDGE_CAT_USAGE = 2,
    EDGE_CAT_LOCATION = 3,
    EDGE_CAT_HEALTH = 4,    /* GDPR Art. 9 special category */
    EDGE_CAT_BIOMETRIC = 5, /* GDPR Art. 9 special category */
    EDGE_CAT_COUNT = 6
} edge_category_t;

/* "environment", ... or NULL for an out-of-range value. */
const char *edge_category_name(int cat);
/* Category for a text slice, or -1. */
int edge_category_parse(const char *s, size_t len);

typedef struct {
    const char *s; /* not NUL-terminated */
    size_t len;
} edge_text_t;

/* ---------------------------------------------------------------- device -> gateway */

typedef struct {
    uint32_t n;         /* channel number */
    const char *kind;   /* e.g. "weight", "event" (NUL-terminated when writing) */
    edge_category_t category;
} edge_channel_t;

typedef struct {
    uint32_t ch;
    double v;
    bool has_t;
    uint64_t t; /* device milliseconds */
} edge_reading_t;

typedef struct {
    const char *e; /* event name, non-empty */
    bool has_ch, has_v, has_t;
    uint32_t ch;
    double v;
    uint64_t t;
} edge_event_t;

/* The capability a firmware declares in its hello when it understands the "update" command. */
#define EDGE_CAP_UPDATE "update"

/* The household's say on a pending firmware update (0x06 firmware-choice, from the device's own button). */
typedef enum {
    EDGE_FW_DEFER = 0, /* not now: postponed by some hours */
    EDGE_FW_NEVER,     /* do not update this device */
    EDGE_FW_ALLOW      /* updates allowed again */
} edge_firmware_choice_t;

/* Longest deferral at once (a month), as on the gateway. */
#define EDGE_FW_DEFER_MAX_HOURS 744u

/* Each returns the body length or a negative edge_err_t. */
int edge_body_hello(edge_cbor_writer_t *w, const char *id, const char *fw, const char *model,
                    const edge_channel_t *ch, size_t n_ch);
/* edge_body_hello plus "cap": the capabilities this firmware declares (e.g. EDGE_CAP_UPDATE); n_caps 0 = none. */
int edge_body_hello_caps(edge_cbor_writer_t *w, const char *id, const char *fw, const char *model,
                         const edge_channel_t *ch, size_t n_ch, const char *const *caps, size_t n_caps);
/* n == 1 writes {"ch","v"[,"t"]}; n > 1 writes the batched {"r": [[ch, v(, t)], ...]} (as the gateway does). */
int edge_body_readings(edge_cbor_writer_t *w, const edge_reading_t *r, size_t n);
int edge_body_event(edge_cbor_writer_t *w, const edge_event_t *e);
/* scope: "device" or a category name */
int edge_body_consent(edge_cbor_writer_t *w, const char *scope, bool granted);
int edge_body_heartbeat(edge_cbor_writer_t *w, uint32_t up_s, bool has_rssi, int32_t rssi);
int edge_body_ack(edge_cbor_writer_t *w, uint16_t acked_seq);
/* {"d": "defer"|"never"|"allow", "h"?: hours}; hours 0 = none (the gateway defers 24 h); 1..744 only with defer. */
int edge_body_firmware_choice(edge_cbor_writer_t *w, edge_firmware_choice_t d, uint32_t hours);

/* ---------------------------------------------------------------- gateway -> device */

typedef enum {
    EDGE_CMD_PAUSE = 0,
    EDGE_CMD_RESUME,
    EDGE_CMD_IDENTIFY,
    EDGE_CMD_NOTIFY,
    EDGE_CMD_REBOOT,
    EDGE_CMD_UPDATE /* a firmware update to "v" is pending (only sent to firmware declaring EDGE_CAP_UPDATE) */
} edge_command_name_t;

typedef struct {
    edge_command_name_t c;
    /* notify arguments, each optional: from the CLI/API (text, led, buzz) or a campaign trigger (campaign, signal) */
    bool has_text, has_led, has_buzz, has_campaign, has_signal;
    edge_text_t text;
    edge_text_t led;
    bool buzz;
    edge_text_t campaign;
    edge_text_t signal;
    /* update: the pending version, non-empty (required) */
    bool has_v;
    edge_text_t v;
} edge_command_t;

typedef struct {
    uint8_t present; /* bit per edge_category_t: the gateway said something about it */
    uint8_t granted; /* bit per edge_category_t: allowed to collect */
} edge_consent_state_t;

int edge_decode_ack(const uint8_t *body, size_t len, uint16_t *acked_seq);
int edge_decode_command(const uint8_t *body, size_t len, edge_command_t *out);
int edge_decode_consent_state(const uint8_t *body, size_t len, edge_consent_state_t *out);

/* ---------------------------------------------------------------- decoders for device bodies */

typedef struct {
    edge_text_t id, fw, model;
    size_t n_ch;
    struct {
        uint32_t n;
        edge_text_t kind;
        edge_category_t category;
    } ch[EDGE_HELLO_MAX_CHANNELS];
    size_t n_cap; /* "cap", absent = 0 */
    edge_text_t cap[EDGE_HELLO_MAX_CAPS];
} edge_hello_t;

typedef struct {
    size_t n;
    edge_reading_t r[EDGE_READING_MAX_BATCH];
} edge_readings_t;

typedef struct {
    edge_text_t e;
    bool has_ch, has_v, has_t;
    uint32_t ch;
    double v;
    uint64_t t;
} edge_event_in_t;

typedef struct {
    edge_text_t s;
    bool is_device;       /* s == "device" */
    edge_category_t cat;  /* when !is_device */
    bool g;
} edge_consent_t;

typedef struct {
    uint32_t up;
    bool has_rssi;
    int32_t rssi;
} edge_heartbeat_t;

typedef struct {
    edge_firmware_choice_t d;
    bool has_h;
    uint32_t h; /* 1..EDGE_FW_DEFER_MAX_HOURS, only with EDGE_FW_DEFER */
} edge_firmware_choice_in_t;

/* More than EDGE_HELLO_MAX_CHANNELS channels, EDGE_HELLO_MAX_CAPS capabilities or EDGE_READING_MAX_BATCH readings: EDGE_ERR_NOSPACE (a local
   capacity limit, not a protocol error; the gateway accepts any number). */
int edge_decode_hello(const uint8_t *body, size_t len, edge_hello_t *out);
int edge_decode_reading(const uint8_t *body, size_t len, edge_readings_t *out);
int edge_decode_event(const uint8_t *body, size_t len, edge_event_in_t *out);
int edge_decode_consent(const uint8_t *body, size_t len, edge_consent_t *out);
int edge_decode_heartbeat(const uint8_t *body, size_t len, edge_heartbeat_t *out);
int edge_decode_firmware_choice(const uint8_t *body, size_t len, edge_firmware_choice_in_t *out);

#endif
