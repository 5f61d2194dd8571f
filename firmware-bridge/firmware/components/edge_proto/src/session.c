#include <string.h>

#include "edge_proto/errors.h"
#include "edge_proto/session.h"

void edge_session_init(edge_session_t *s, edge_link_t link, edge_write_fn write, void *ctx)
{
    memset(s, 0, sizeof *s);
    s->link = link;
    s->write = write;
    s->ctx = ctx;
    s->retransmit_ms = EDGE_SESSION_RETRANSMIT_MS;
}

static void transmit(edge_session_t *s, const uint8_t *frame, size_t len)
{
    if (s->link == EDGE_LINK_BLE) {
        s->write(s->ctx, frame, len);
    } else {
        if (!s->delimited) {
            static const uint8_t delimiter = 0x00;
            s->write(s->ctx, &delimiter, 1);
            s->delimited = true;
        }
        (void)edge_cobs_encode_to(frame, len, s->write, s->ctx);
    }
}

static edge_pending_t *free_slot(edge_session_t *s)
{
    size_t i;
    for (i = 0; i < EDGE_SESSION_SLOTS; i++) {
        if (!s->pending[i].used) {
            return &s->pending[i];
        }
    }
    return NULL;
}

int edge_session_send(edge_session_t *s, uint8_t type, const uint8_t *body, size_t body_len, uint32_t now_ms)
{
    uint16_t seq = s->next_seq;
    int n;
    if (body == NULL || body_len == 0 || !edge_frame_type_known(type) || type == EDGE_T_COMMAND ||
        type == EDGE_T_CONSENT_STATE) {
        return EDGE_ERR_ARG;
    }
    if (edge_frame_type_needs_ack(type)) {
        /* Kept frames are built straight into their slot: one copy of the bytes, used for every resend. */
        edge_pending_t *p = free_slot(s);
        if (p == NULL) {
            return EDGE_ERR_QUEUE_FULL;
        }
        n = edge_frame_encode(type, seq, body, body_len, p->frame, sizeof p->frame);
        if (n < 0) {
            return n;
        }
        p->used = true;
        p->seq = seq;
        p->len = (uint16_t)n;
        p->sent_ms = now_ms;
        transmit(s, p->frame, (size_t)n);
    } else {
        n = edge_frame_encode(type, seq, body, body_len, s->tx, sizeof s->tx);
        if (n < 0) {
            return n;
        }
        transmit(s, s->tx, (size_t)n);
    }
    if (type == EDGE_T_HELLO) {
        s->hello_sent = true;
    }
    s->next_seq = (uint16_t)(seq + 1u); /* wraps 0xFFFF -> 0 */
    return (int)seq;
}

int edge_session_poll(edge_session_t *s, uint32_t now_ms)
{
    size_t i;
    int resent = 0;
    for (i = 0; i < EDGE_SESSION_SLOTS; i++) {
        edge_pending_t *p = &s->pending[i];
        if (p->used && edge_ms_reached(now_ms, p->sent_ms + s->retransmit_ms)) {
            transmit(s, p->frame, p->len);
            p->sent_ms = now_ms;
            s->retransmits++;
            resent++;
        }
    }
    return resent;
}

bool edge_session_registered(const edge_session_t *s)
{
    return s->registered;
}

size_t edge_session_pending(const edge_session_t *s)
{
    size_t i, n = 0;
    for (i = 0; i < EDGE_SESSION_SLOTS; i++) {
        n += s->pending[i].used ? 1u : 0u;
    }
    return n;
}

static void send_ack(edge_session_t *s, uint16_t acked_seq)
{
    uint8_t body[8];
    edge_cbor_writer_t w;
    int n;
    edge_cbor_writer_init(&w, body, sizeof body);
    n = edge_body_ack(&w, acked_seq);
    if (n > 0) {
        (void)edge_session_send(s, EDGE_T_ACK, body, (size_t)n, 0);
    }
}

int edge_session_handle(edge_session_t *s, const edge_frame_t *f, edge_inbound_t *in)
{
    int rc;
    size_t i;
    memset(in, 0, sizeof *in);
    in->seq = f->seq;
    switch (f->type) {
    case EDGE_T_ACK:
        rc = edge_decode_ack(f->body, f->body_len, &in->acked_seq);
        if (rc != EDGE_OK) {
            return rc;
        }
        for (i = 0; i < EDGE_SESSION_SLOTS; i++) {
            if (s->pending[i].used && s->pending[i].seq == in->acked_seq) {
                s->pending[i].used = false;
                in->ack_matched = true;
            }
        }
        return EDGE_IN_ACK;
    case EDGE_T_COMMAND:
        rc = edge_decode_command(f->body, f->body_len, &in->command);
        if (rc != EDGE_OK) {
            return rc; /* not acked: the gateway retries, and counts the device's framesBad meanwhile */
        }
        send_ack(s, f->seq);
        if (s->have_cmd_seq && s->last_cmd_seq == f->seq) {
            return EDGE_IN_NONE; /* a repeat of a command whose ack was lost: re-acked, not run again */
        }
        s->have_cmd_seq = true;
        s->last_cmd_seq = f->seq;
        return EDGE_IN_COMMAND;
    case EDGE_T_CONSENT_STATE:
        rc = edge_decode_consent_state(f->body, f->body_len, &in->consent);
        if (rc != EDGE_OK) {
            return rc;
        }
        if (s->hello_sent) {
            s->registered = true;
        }
        return EDGE_IN_CONSENT_STATE;
    default:
        return EDGE_ERR_TYPE; /* device -> gateway types have no meaning on the device */
    }
}
