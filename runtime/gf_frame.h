/*
 * gf_frame - the frames on an edge (DESIGN.md "Frames on an edge").
 *
 * A message is two ZeroMQ frames: a fixed 40-byte header and a payload of
 * MessagePack records laid end to end (empty for EOS, ACK, HEARTBEAT).
 * The header is encoded field by field in little-endian order, never by
 * copying a struct, so it is the same on every machine:
 *
 *   off size field
 *     0   4  magic "GFFR"
 *     4   1  version (1)
 *     5   1  type: 1 DATA, 2 EOS, 3 ACK, 4 HEARTBEAT, 5 HELLO
 *     6   2  flags (0)
 *     8   8  producer id
 *    16   8  sequence number (per producer and consumer, from 1)
 *    24   4  record count (DATA: in this payload; EOS: total sent to this
 *            consumer)
 *    28   4  payload length in bytes
 *    32   8  EOS: number of DATA frames sent; ACK: acknowledged sequence;
 *            otherwise 0
 */
#ifndef GF_FRAME_H
#define GF_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define GF_FRAME_MAGIC 0x52464647u /* "GFFR" read little-endian */
#define GF_FRAME_VERSION 1
#define GF_FRAME_HDR_SIZE 40
/* Largest payload accepted from outside the process. */
#define GF_FRAME_MAX_PAYLOAD (64u << 20)

typedef enum gf_frame_type {
    GF_FRAME_DATA = 1,
    GF_FRAME_EOS = 2,
    GF_FRAME_ACK = 3,
    GF_FRAME_HEARTBEAT = 4,
    GF_FRAME_HELLO = 5
} gf_frame_type;

typedef struct gf_frame_hdr {
    uint8_t type;
    uint16_t flags;
    uint64_t producer;
    uint64_t seq;
    uint32_t count;
    uint32_t payload_len;
    uint64_t aux;
} gf_frame_hdr;

/* Encode h into out[GF_FRAME_HDR_SIZE]. */
void gf_frame_encode(const gf_frame_hdr *h, uint8_t *out);
/*
 * Decode and check a header frame of `len` bytes: size, magic, version,
 * known type, payload_len within GF_FRAME_MAX_PAYLOAD. Returns 0, or -1
 * with *why set to a static description.
 */
int gf_frame_decode(const void *buf, size_t len, gf_frame_hdr *h,
                    const char **why);
/*
 * Check a payload against its decoded header: length equal to payload_len;
 * DATA: exactly `count` well-formed records (gf_mp_check_batch); others:
 * empty. Returns 0 or -1 with *why.
 */
int gf_frame_check_payload(const gf_frame_hdr *h, const void *payload,
                           size_t len, const char **why);

#endif
