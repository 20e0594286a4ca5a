/*
 * bench_edge - records/s through the frame code and through one edge.
 *
 *   bench_edge [N]     (default N = 2000000 records)
 *
 * The records are what ingest_csv makes of the benchmark's members CSV
 * (12 fields: short strings, Chinese text, integers, a bool), written with
 * gf_out into batches of the runtime's default size (64 KiB). Then:
 *
 *   frame      gf_frame_encode + gf_frame_decode of each batch's header
 *              and gf_frame_check_payload (the validation every received
 *              batch gets)
 *   iterate    gf_mp_batch_next over the records of each batch (what a
 *              stage does to hand them to its plugin)
 *   edge       one gf_edge_tx in a thread sending every batch to one
 *              gf_edge_rx (inproc PUSH/PULL, the runtime's high-water
 *              mark), which validates and releases them
 *   raw zmq    the same batches over a bare libzmq inproc PUSH/PULL pair
 *              with the same high-water mark and the same two frames
 *              (a 40-byte header, the payload sent without a copy), no
 *              validation: what an edge would cost with nothing of gigflow
 *
 * Both senders copy each batch into a fresh buffer first, as a stage's
 * gf_out hands over a new one for every batch. Each figure is the best of
 * three runs. Not a test: nothing is asserted beyond the counts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "gf_alloc.h"
#include "gf_edge.h"
#include "gf_frame.h"
#include "gf_mp.h"
#include "gf_out.h"

#define BATCH (64u << 10)
#define ENDPOINT_GF "inproc://bench-edge"
#define ENDPOINT_RAW "inproc://bench-raw"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The batches, kept as gf_out hands them over. */
typedef struct batches {
    uint8_t **data;
    size_t *len;
    uint32_t *nrec;
    size_t n, cap;
    uint64_t records, bytes;
} batches;

static int keep(gf_out *out, void *arg)
{
    batches *k = arg;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->data = realloc(k->data, k->cap * sizeof *k->data);
        k->len = realloc(k->len, k->cap * sizeof *k->len);
        k->nrec = realloc(k->nrec, k->cap * sizeof *k->nrec);
        if (!k->data || !k->len || !k->nrec)
            return -1;
    }
    k->data[k->n] = gf_out_take(out, &k->len[k->n], &k->nrec[k->n]);
    k->records += k->nrec[k->n];
    k->bytes += k->len[k->n];
    k->n++;
    return 0;
}

static void make_batches(long n, batches *k)
{
    static const char *const platforms[] = {"美团", "饿了么", "顺丰",
                                            "中通", "滴滴",   "盒马"};
    static const char *const districts[] = {"朝阳区", "海淀区", "丰台区"};
    gf_out o;
    char s[32];
    if (gf_out_init(&o, BATCH, keep, k) != 0)
        exit(1);
    for (long i = 0; i < n; i++) {
        gf_out_begin(&o);
        gf_out_set_str(&o, "kind", "member", 6);
        gf_out_set_str(&o, "id", s, (size_t)snprintf(s, sizeof s, "M%08ld", i));
        gf_out_set_str(&o, "name", s,
                       (size_t)snprintf(s, sizeof s, "骑手%ld", i));
        gf_out_set_int(&o, "phone", 13800000000 + i % 100000000);
        gf_out_set_str(&o, "platform", platforms[i % 6],
                       strlen(platforms[i % 6]));
        gf_out_set_str(&o, "district", districts[i % 3],
                       strlen(districts[i % 3]));
        gf_out_set_str(&o, "station", s,
                       (size_t)snprintf(s, sizeof s, "STN-%04ld", i % 2000));
        gf_out_set_int(&o, "age", 18 + i % 40);
        gf_out_set_bool(&o, "party", i % 12 == 0);
        gf_out_set_int(&o, "points", i % 500);
        gf_out_set_int(&o, "active_days", i % 31);
        if (gf_out_end(&o) != 0)
            exit(1);
    }
    if (gf_out_flush(&o) != 0)
        exit(1);
    gf_out_release(&o);
}

/* --- frames ------------------------------------------------------------ */

static double bench_frame(const batches *k)
{
    uint8_t hdr[GF_FRAME_HDR_SIZE];
    uint64_t seen = 0;
    double t0 = now_s();
    for (size_t b = 0; b < k->n; b++) {
        gf_frame_hdr h = {.type = GF_FRAME_DATA,
                          .producer = 1,
                          .seq = b + 1,
                          .count = k->nrec[b],
                          .payload_len = (uint32_t)k->len[b]};
        gf_frame_encode(&h, hdr);
        gf_frame_hdr got;
        const char *why;
        if (gf_frame_decode(hdr, sizeof hdr, &got, &why) != 0 ||
            gf_frame_check_payload(&got, k->data[b], k->len[b], &why) != 0) {
            fprintf(stderr, "bench_edge: frame refused: %s\n", why);
            exit(1);
        }
        seen += got.count;
    }
    double t = now_s() - t0;
    if (seen != k->records)
        exit(1);
    return t;
}

static double bench_iterate(const batches *k)
{
    uint64_t seen = 0;
    double t0 = now_s();
    for (size_t b = 0; b < k->n; b++) {
        const uint8_t *pos = k->data[b], *end = pos + k->len[b];
        gf_record rec;
        while (gf_mp_batch_next(&pos, end, &rec))
            seen++;
    }
    double t = now_s() - t0;
    if (seen != k->records)
        exit(1);
    return t;
}

/* A fresh copy of batch b, as gf_out hands one over for every batch. */
static uint8_t *copy_batch(const batches *k, size_t b)
{
    uint8_t *p = gf_malloc(k->len[b]);
    if (!p)
        exit(1);
    memcpy(p, k->data[b], k->len[b]);
    return p;
}

/* --- one gigflow edge --------------------------------------------------- */

typedef struct sender {
    void *zctx;
    const batches *k;
    int rc;
} sender;

static void *gf_send_all(void *arg)
{
    sender *s = arg;
    gf_edge_tx *tx = gf_edge_tx_new(s->zctx, ENDPOINT_GF, 1);
    s->rc = tx ? 0 : -1;
    for (size_t b = 0; tx && b < s->k->n && s->rc == 0; b++) {
        gf_edge_batch *eb =
            gf_edge_batch_new(copy_batch(s->k, b), s->k->len[b], s->k->nrec[b]);
        s->rc = eb ? gf_edge_tx_send(tx, eb, false) : -ENOMEM;
        gf_edge_batch_unref(eb);
    }
    if (tx && s->rc == 0)
        s->rc = gf_edge_tx_eos(tx);
    gf_edge_tx_destroy(&tx);
    return NULL;
}

static double bench_gf_edge(const batches *k)
{
    void *zctx = zmq_ctx_new();
    uint64_t producer = 1, got = 0;
    gf_edge_rx *rx = gf_edge_rx_new(zctx, ENDPOINT_GF, &producer, 1);
    if (!rx)
        exit(1);
    sender s = {.zctx = zctx, .k = k};
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, gf_send_all, &s);
    while (!gf_edge_rx_done(rx)) {
        gf_edge_msg m;
        const char *why = NULL;
        int r = gf_edge_rx_recv(rx, &m, -1, &why);
        if (r < 0 || r == GF_EDGE_BAD) {
            fprintf(stderr, "bench_edge: edge: %s\n", why ? why : "failed");
            exit(1);
        }
        if (r == GF_EDGE_DATA) {
            got += m.hdr.count;
            gf_edge_msg_close(&m);
        }
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    gf_edge_rx_destroy(&rx);
    zmq_ctx_term(zctx);
    if (s.rc != 0 || got != k->records)
        exit(1);
    return dt;
}

/* --- bare libzmq -----------------------------------------------------------
 */

static void free_payload(void *data, void *hint)
{
    (void)hint;
    gf_free(data);
}

static void *raw_send_all(void *arg)
{
    sender *s = arg;
    int hwm = GF_EDGE_HWM;
    void *push = zmq_socket(s->zctx, ZMQ_PUSH);
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    s->rc = zmq_connect(push, ENDPOINT_RAW);
    for (size_t b = 0; s->rc == 0 && b <= s->k->n; b++) {
        /* the same 40-byte header; the record count at offset 24; a last
           empty message ends the stream */
        uint8_t hdr[GF_FRAME_HDR_SIZE] = {0};
        uint32_t n = b < s->k->n ? s->k->nrec[b] : 0;
        memcpy(hdr + 24, &n, 4);
        zmq_msg_t pm;
        if (b < s->k->n)
            zmq_msg_init_data(&pm, copy_batch(s->k, b), s->k->len[b],
                              free_payload, NULL);
        else
            zmq_msg_init(&pm);
        if (zmq_send(push, hdr, sizeof hdr, ZMQ_SNDMORE) < 0 ||
            zmq_msg_send(&pm, push, 0) < 0)
            s->rc = -errno;
    }
    zmq_close(push);
    return NULL;
}

static double bench_raw_zmq(const batches *k)
{
    void *zctx = zmq_ctx_new();
    void *pull = zmq_socket(zctx, ZMQ_PULL);
    int hwm = GF_EDGE_HWM;
    zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if (zmq_bind(pull, ENDPOINT_RAW) != 0)
        exit(1);
    sender s = {.zctx = zctx, .k = k};
    pthread_t t;
    uint64_t got = 0;
    double t0 = now_s();
    pthread_create(&t, NULL, raw_send_all, &s);
    for (;;) {
        uint8_t hdr[GF_FRAME_HDR_SIZE];
        zmq_msg_t pm;
        uint32_t n;
        if (zmq_recv(pull, hdr, sizeof hdr, 0) < 0)
            exit(1);
        zmq_msg_init(&pm);
        if (zmq_msg_recv(&pm, pull, 0) < 0)
            exit(1);
        size_t len = zmq_msg_size(&pm);
        zmq_msg_close(&pm);
        if (len == 0)
            break;
        memcpy(&n, hdr + 24, 4);
        got += n;
    }
    double dt = now_s() - t0;
    pthread_join(t, NULL);
    zmq_close(pull);
    zmq_ctx_term(zctx);
    if (s.rc != 0 || got != k->records)
        exit(1);
    return dt;
}

static double best_of_3(double (*fn)(const batches *), const batches *k)
{
    double best = 1e30;
    for (int i = 0; i < 3; i++) {
        double t = fn(k);
        if (t < best)
            best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    if (n <= 0) {
        fprintf(stderr, "usage: bench_edge [N]\n");
        return 2;
    }
    batches k = {0};
    make_batches(n, &k);
    printf("%ld records in %zu batches of about %u KiB (%.1f bytes a "
           "record)\n\n",
           n, k.n, BATCH >> 10, (double)k.bytes / (double)n);
    printf("%-44s %14s %10s\n", "", "records/s", "MB/s");
    struct {
        const char *name;
        double (*fn)(const batches *);
    } runs[] = {
        {"frame: encode/decode header, check payload", bench_frame},
        {"iterate: gf_mp_batch_next over the records", bench_iterate},
        {"edge: gf_edge inproc, one producer", bench_gf_edge},
        {"raw libzmq inproc PUSH/PULL, no checks", bench_raw_zmq},
    };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        double t = best_of_3(runs[i].fn, &k);
        printf("%-44s %14.0f %10.1f\n", runs[i].name, (double)n / t,
               (double)k.bytes / t / 1e6);
    }
    for (size_t b = 0; b < k.n; b++)
        gf_free(k.data[b]);
    free(k.data);
    free(k.len);
    free(k.nrec);
    return 0;
}
