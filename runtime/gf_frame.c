/*
 * gf_frame - encoding and checking the frames on an edge (see gf_frame.h
 * for the layout). The header is written and read field by field in
 * little-endian order, so it never depends on struct padding or the host's
 * byte order. Everything received from outside the process goes through
 * gf_frame_decode and gf_frame_check_payload before a plugin sees it.
 */
#include "gf_frame.h"

#include "gf_mp.h"

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

void gf_frame_encode(const gf_frame_hdr *h, uint8_t *out)
{
    put32(out + 0, GF_FRAME_MAGIC);
    out[4] = GF_FRAME_VERSION;
    out[5] = h->type;
    put16(out + 6, h->flags);
    put64(out + 8, h->producer);
    put64(out + 16, h->seq);
    put32(out + 24, h->count);
    put32(out + 28, h->payload_len);
    put64(out + 32, h->aux);
}

int gf_frame_decode(const void *buf, size_t len, gf_frame_hdr *h,
                    const char **why)
{
    const char *dummy;
    const uint8_t *p = buf;
    if (!why)
        why = &dummy;
    if (!p || len != GF_FRAME_HDR_SIZE) {
        *why = "header frame is not 40 bytes";
        return -1;
    }
    if (get32(p) != GF_FRAME_MAGIC) {
        *why = "bad magic (not a gigflow frame)";
        return -1;
    }
    if (p[4] != GF_FRAME_VERSION) {
        *why = "unsupported frame version";
        return -1;
    }
    if (p[5] < GF_FRAME_DATA || p[5] > GF_FRAME_HELLO) {
        *why = "unknown frame type";
        return -1;
    }
    if (get16(p + 6) != 0) {
        *why = "unknown frame flags";
        return -1;
    }
    uint32_t plen = get32(p + 28);
    if (plen > GF_FRAME_MAX_PAYLOAD) {
        *why = "payload length above the limit";
        return -1;
    }
    h->type = p[5];
    h->flags = 0;
    h->producer = get64(p + 8);
    h->seq = get64(p + 16);
    h->count = get32(p + 24);
    h->payload_len = plen;
    h->aux = get64(p + 32);
    return 0;
}

int gf_frame_check_payload(const gf_frame_hdr *h, const void *payload,
                           size_t len, const char **why)
{
    const char *dummy;
    if (!why)
        why = &dummy;
    if (len != h->payload_len) {
        *why = "payload length differs from the header's";
        return -1;
    }
    if (h->type != GF_FRAME_DATA) {
        if (len != 0) {
            *why = "payload on a frame that carries none";
            return -1;
        }
        return 0;
    }
    return gf_mp_check_batch(payload, len, h->count, why);
}
