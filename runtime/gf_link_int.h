/*
 * gf_link_int.h - what the two ends of a link (gf_link_tx.c, the producer
 * end, and gf_link_rx.c, the consumer end) share: timings, logging and
 * the sending of control messages. Internal to gf_link: everyone else
 * uses gf_link.h.
 */
#ifndef GF_LINK_INT_H
#define GF_LINK_INT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "gf_link.h"

#define NS_PER_MS 1000000LL
/* Lingering of link sockets at close, so that a last ABORT gets out. */
#define LINK_LINGER_MS 500

#define ADD(field, v)                                                          \
    atomic_fetch_add_explicit(&(field), (v), memory_order_relaxed)

static inline int set_int(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof v);
}

static inline int64_t hb_ns(const gf_link_opts *o)
{
    return (int64_t)(o->heartbeat_ms > 0 ? o->heartbeat_ms
                                         : GF_LINK_HEARTBEAT_MS) *
           NS_PER_MS;
}

/*
 * A peer silent for this long is dead: 13/16 of the heartbeat, so that with
 * links serviced at least every 3/16 of it (the instance's thread every
 * 1/8, the keeper every 1/16 once 1/8 has passed) a death is noticed
 * within the heartbeat. Peers send every 1/4: three heartbeats and more
 * must go missing.
 */
static inline int64_t dead_ns(const gf_link_opts *o)
{
    return hb_ns(o) - hb_ns(o) * 3 / 16;
}

static inline void say(const gf_link_opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static inline void say(const gf_link_opts *o, const char *fmt, ...)
{
    if (!o->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    o->log(o->log_arg, line);
}

/* Send a header-only message (empty payload) on sock, after an optional
   routing id. Never blocks. Returns 0 or -errno. */
static inline int send_ctl(void *sock, const void *rid, size_t rid_len,
                           const gf_frame_hdr *h)
{
    uint8_t hdr[GF_FRAME_HDR_SIZE];
    gf_frame_encode(h, hdr);
    if (rid && zmq_send(sock, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -errno;
    if (zmq_send(sock, hdr, sizeof hdr, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -errno;
    if (zmq_send(sock, "", 0, ZMQ_DONTWAIT) < 0)
        return -errno;
    return 0;
}

/* Receive and drop the rest of a multipart message. */
static inline void drain(void *sock, bool more)
{
    while (more) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            return;
        }
        more = zmq_msg_more(&m);
        zmq_msg_close(&m);
    }
}

#endif
