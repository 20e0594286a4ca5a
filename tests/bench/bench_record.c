/*
 * bench_record - records/s for the record writer and reader.
 *
 *   bench_record [N]     (default N = 1000000)
 *
 * Writes N records of 15 fields (strings, ints, a float, a bool, a nil: an
 * ingest's typical member record) into 64 KiB batches three ways: gf_out
 * (what plugins use), gf_out with begin_copy + 2 overrides (a classify
 * stage), and msgpack-c's packer writing the same fields through a write
 * callback (the alternative gf_out.c's encoder was measured against). Then
 * reads them back: every field with gf_record_next, three fields by name
 * with gf_record_get, and msgpack-c's msgpack_unpack_next for comparison.
 * Each figure is the best of three runs. Not a test: nothing is asserted
 * beyond a checksum that keeps the compiler honest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>

#include "gf_alloc.h"
#include "gf_mp.h"
#include "gf_out.h"
#include "gf_record.h"

#define BATCH (64u << 10)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Batches kept for the read benchmarks (only the first write pass). */
typedef struct kept {
    uint8_t **data;
    size_t *len;
    uint32_t *nrec;
    size_t n, cap;
    int keep;
    uint64_t bytes;
} kept;

static int on_full(gf_out *out, void *arg)
{
    kept *k = arg;
    k->bytes += out->batch.len;
    if (!k->keep) {
        gf_buf_clear(&out->batch);
        return 0;
    }
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 64;
        k->data = realloc(k->data, k->cap * sizeof *k->data);
        k->len = realloc(k->len, k->cap * sizeof *k->len);
        k->nrec = realloc(k->nrec, k->cap * sizeof *k->nrec);
        if (!k->data || !k->len || !k->nrec)
            return -1;
    }
    k->data[k->n] = gf_out_take(out, &k->len[k->n], &k->nrec[k->n]);
    k->n++;
    return 0;
}

static void write_one(gf_out *o, long i)
{
    gf_out_begin(o);
    gf_out_set_str(o, "kind", "member", 6);
    gf_out_set_int(o, "id", i);
    gf_out_set_str(o, "name", "Zhang San", 9);
    gf_out_set_str(o, "platform", "meituan", 7);
    gf_out_set_str(o, "district", "chaoyang", 8);
    gf_out_set_str(o, "station", "station-0042", 12);
    gf_out_set_int(o, "age", 20 + i % 40);
    gf_out_set_float(o, "points", (double)i * 0.5);
    gf_out_set_bool(o, "party_member", i % 3 == 0);
    gf_out_set_str(o, "relation", "mobile", 6);
    gf_out_set_str(o, "origin", "henan", 5);
    gf_out_set_str(o, "role", "pioneer", 7);
    gf_out_set_int(o, "year", 2024);
    gf_out_set_str(o, "joined", "2024-03-01", 10);
    gf_out_set_nil(o, "note");
}

static double bench_gf_write(long n, kept *k)
{
    gf_out o;
    if (gf_out_init(&o, BATCH, on_full, k) != 0)
        exit(1);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        write_one(&o, i);
        if (gf_out_end(&o) != 0)
            exit(1);
    }
    gf_out_flush(&o);
    double t = now_s() - t0;
    gf_out_release(&o);
    return t;
}

/* msgpack-c: the same record through msgpack_pack_* and a write callback
   into a gf_buf (what gf_out would do with the packer). */
static int buf_write(void *data, const char *p, size_t n)
{
    return gf_buf_append(data, p, n);
}

static void pk_s(msgpack_packer *pk, const char *s, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, s, n);
}

#define KV(k) pk_s(&pk, k, sizeof k - 1)

static double bench_msgpackc_write(long n, uint64_t *bytes)
{
    gf_buf b = {0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &b, buf_write);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        msgpack_pack_map(&pk, 15);
        KV("kind");
        pk_s(&pk, "member", 6);
        KV("id");
        msgpack_pack_int64(&pk, i);
        KV("name");
        pk_s(&pk, "Zhang San", 9);
        KV("platform");
        pk_s(&pk, "meituan", 7);
        KV("district");
        pk_s(&pk, "chaoyang", 8);
        KV("station");
        pk_s(&pk, "station-0042", 12);
        KV("age");
        msgpack_pack_int64(&pk, 20 + i % 40);
        KV("points");
        msgpack_pack_double(&pk, (double)i * 0.5);
        KV("party_member");
        if (i % 3 == 0)
            msgpack_pack_true(&pk);
        else
            msgpack_pack_false(&pk);
        KV("relation");
        pk_s(&pk, "mobile", 6);
        KV("origin");
        pk_s(&pk, "henan", 5);
        KV("role");
        pk_s(&pk, "pioneer", 7);
        KV("year");
        msgpack_pack_int64(&pk, 2024);
        KV("joined");
        pk_s(&pk, "2024-03-01", 10);
        KV("note");
        msgpack_pack_nil(&pk);
        if (b.len >= BATCH) {
            *bytes += b.len;
            gf_buf_clear(&b);
        }
    }
    double t = now_s() - t0;
    *bytes += b.len;
    gf_buf_free(&b);
    return t;
}

static double bench_copy(const kept *k, uint64_t *sum)
{
    kept sink = {0};
    gf_out o;
    if (gf_out_init(&o, BATCH, on_full, &sink) != 0)
        exit(1);
    double t0 = now_s();
    for (size_t b = 0; b < k->n; b++) {
        const uint8_t *pos = k->data[b], *end = pos + k->len[b];
        gf_record rec;
        while (gf_mp_batch_next(&pos, end, &rec)) {
            gf_out_begin_copy(&o, &rec);
            gf_out_set_str(&o, "category", "rider", 5);
            gf_out_set_int(&o, "age", 99);
            if (gf_out_end(&o) != 0)
                exit(1);
        }
    }
    gf_out_flush(&o);
    double t = now_s() - t0;
    *sum += sink.bytes;
    gf_out_release(&o);
    return t;
}

static double bench_read_next(const kept *k, uint64_t *sum)
{
    double t0 = now_s();
    for (size_t b = 0; b < k->n; b++) {
        const uint8_t *pos = k->data[b], *end = pos + k->len[b];
        gf_record rec;
        while (gf_mp_batch_next(&pos, end, &rec)) {
            gf_iter it = {0};
            gf_str key;
            gf_value v;
            while (gf_record_next(&rec, &it, &key, &v))
                *sum += key.len + (uint64_t)v.type;
        }
    }
    return now_s() - t0;
}

static double bench_read_get(const kept *k, uint64_t *sum)
{
    double t0 = now_s();
    for (size_t b = 0; b < k->n; b++) {
        const uint8_t *pos = k->data[b], *end = pos + k->len[b];
        gf_record rec;
        while (gf_mp_batch_next(&pos, end, &rec)) {
            gf_value v;
            if (gf_record_get(&rec, "kind", &v))
                *sum += v.v.s.len;
            if (gf_record_get(&rec, "age", &v))
                *sum += (uint64_t)v.v.i;
            if (gf_record_get(&rec, "joined", &v))
                *sum += v.v.s.len;
        }
    }
    return now_s() - t0;
}

static double bench_validate(const kept *k, uint64_t *sum)
{
    double t0 = now_s();
    for (size_t b = 0; b < k->n; b++) {
        const char *why;
        if (gf_mp_check_batch(k->data[b], k->len[b], k->nrec[b], &why) != 0)
            exit(1);
        *sum += k->nrec[b];
    }
    return now_s() - t0;
}

static double bench_msgpackc_read(const kept *k, uint64_t *sum)
{
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    double t0 = now_s();
    for (size_t b = 0; b < k->n; b++) {
        size_t off = 0;
        while (msgpack_unpack_next(&u, (const char *)k->data[b], k->len[b],
                                   &off) == MSGPACK_UNPACK_SUCCESS)
            *sum += u.data.via.map.size;
    }
    double t = now_s() - t0;
    msgpack_unpacked_destroy(&u);
    return t;
}

static double best(double a, double b)
{
    return a < b ? a : b;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    if (n <= 0)
        n = 1000000;
    kept k = {0};
    uint64_t sum = 0, mbytes = 0;
    double tw = 1e9, tm = 1e9, tc = 1e9, tn = 1e9, tg = 1e9, tv = 1e9, tu = 1e9;
    for (int run = 0; run < 3; run++) {
        k.keep = run == 0;
        k.bytes = 0;
        tw = best(tw, bench_gf_write(n, &k));
        tm = best(tm, bench_msgpackc_write(n, &mbytes));
    }
    uint64_t total = 0;
    for (size_t b = 0; b < k.n; b++)
        total += k.nrec[b];
    if (total != (uint64_t)n) {
        fprintf(stderr, "kept %llu of %ld records\n", (unsigned long long)total,
                n);
        return 1;
    }
    for (int run = 0; run < 3; run++) {
        tc = best(tc, bench_copy(&k, &sum));
        tn = best(tn, bench_read_next(&k, &sum));
        tg = best(tg, bench_read_get(&k, &sum));
        tv = best(tv, bench_validate(&k, &sum));
        tu = best(tu, bench_msgpackc_read(&k, &sum));
    }
    printf("%ld records of 15 fields, %.1f bytes each\n", n,
           (double)k.bytes / (double)n);
    printf("write  gf_out begin/15 sets/end   %12.0f records/s\n", n / tw);
    printf("write  msgpack-c packer           %12.0f records/s\n", n / tm);
    printf("copy   begin_copy + 2 sets/end     %12.0f records/s\n", n / tc);
    printf("check  gf_mp_check_batch          %12.0f records/s\n", n / tv);
    printf("read   gf_record_next, 15 fields  %12.0f records/s\n", n / tn);
    printf("read   gf_record_get, 3 keys      %12.0f records/s\n", n / tg);
    printf("read   msgpack-c unpack_next      %12.0f records/s\n", n / tu);
    printf("(checksum %llu)\n", (unsigned long long)sum);
    for (size_t b = 0; b < k.n; b++)
        gf_free(k.data[b]);
    free(k.data);
    free(k.len);
    free(k.nrec);
    return 0;
}
