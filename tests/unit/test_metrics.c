/*
 * Unit tests of gf_metrics: the sample helpers against hand-written
 * exposition text (escaping, HELP/TYPE once per family, number forms), and
 * the executor's families (gf_stats_prometheus, figures set by hand), and
 * the endpoint on 127.0.0.1 port 0 through a plain socket client: /metrics
 * rendered on each scrape, /health 200 then 503, 404 and 405, nothing on
 * another loopback address, the connection limit, address errors.
 */
#define _GNU_SOURCE /* strcasestr */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_buf.h"
#include "gf_metrics.h"
#include "gf_stats.h"

#define DEADLINE_MS 5000

/* The buffer's text (NUL-terminated in place). */
static const char *text_of(gf_buf *b)
{
    assert_int_equal(gf_buf_reserve(b, 1), 0);
    b->data[b->len] = '\0';
    return (const char *)b->data;
}

static void test_samples(void **state)
{
    (void)state;
    gf_buf b = {0};
    assert_int_equal(gf_metrics_counter(&b, "gigflow_records_in_total",
                                        "Records a stage received.", "stage",
                                        "ingest", 0),
                     0);
    assert_int_equal(gf_metrics_counter(&b, "gigflow_records_in_total",
                                        "Records a stage received.", "stage",
                                        "clas\"si\\fy\n", UINT64_MAX),
                     0);
    assert_int_equal(gf_metrics_gauge(&b, "gigflow_x", "back\\slash\nnew \"q\"",
                                      NULL, NULL, 0.1),
                     0);
    assert_int_equal(
        gf_metrics_gauge(&b, "gigflow_x", NULL, NULL, NULL, 1.0 / 3), 0);
    assert_int_equal(gf_metrics_gauge(&b, "gigflow_x", NULL, NULL, NULL, NAN),
                     0);
    assert_int_equal(
        gf_metrics_gauge(&b, "gigflow_x", NULL, NULL, NULL, INFINITY), 0);
    assert_int_equal(
        gf_metrics_gauge(&b, "gigflow_x", NULL, NULL, NULL, -INFINITY), 0);
    assert_int_equal(gf_metrics_gauge(&b, "gigflow_x", NULL, NULL, NULL, 1e300),
                     0);
    /* a family whose name starts like another one gets its own header */
    assert_int_equal(gf_metrics_gauge(&b, "gigflow_x_total", "t", "a", "b", 7),
                     0);
    const char *const labels[] = {"stage", "classify", "peer", "tcp://h:1",
                                  NULL};
    assert_int_equal(gf_metrics_sample(&b, "gigflow_credit", "gauge", "Credit.",
                                       labels, "64"),
                     0);
    assert_string_equal(
        text_of(&b),
        "# HELP gigflow_records_in_total Records a stage received.\n"
        "# TYPE gigflow_records_in_total counter\n"
        "gigflow_records_in_total{stage=\"ingest\"} 0\n"
        "gigflow_records_in_total{stage=\"clas\\\"si\\\\fy\\n\"} "
        "18446744073709551615\n"
        "# HELP gigflow_x back\\\\slash\\nnew \"q\"\n"
        "# TYPE gigflow_x gauge\n"
        "gigflow_x 0.1\n"
        "gigflow_x 0.33333333333333331\n"
        "gigflow_x NaN\n"
        "gigflow_x +Inf\n"
        "gigflow_x -Inf\n"
        "gigflow_x 1e+300\n"
        "# HELP gigflow_x_total t\n"
        "# TYPE gigflow_x_total gauge\n"
        "gigflow_x_total{a=\"b\"} 7\n"
        "# HELP gigflow_credit Credit.\n"
        "# TYPE gigflow_credit gauge\n"
        "gigflow_credit{stage=\"classify\",peer=\"tcp://h:1\"} 64\n");
    gf_buf_free(&b);
}

/* A failed allocation leaves no half sample behind. */
static void test_sample_alloc_failures(void **state)
{
    (void)state;
    bool done = false;
    for (long n = 0; !done && n < 100; n++) {
        gf_buf b = {0};
        assert_int_equal(gf_buf_puts(&b, "# x\n"), 0);
        size_t len0 = b.len;
        gf_alloc_fail_after(n);
        int rc =
            gf_metrics_counter(&b, "gigflow_a_total", "help", "stage", "s", 1);
        gf_alloc_fail_reset();
        if (rc == 0) {
            done = true;
            assert_string_equal(text_of(&b),
                                "# x\n"
                                "# HELP gigflow_a_total help\n"
                                "# TYPE gigflow_a_total counter\n"
                                "gigflow_a_total{stage=\"s\"} 1\n");
        } else {
            assert_int_equal(rc, -ENOMEM);
            assert_int_equal(b.len, len0);
        }
        gf_buf_free(&b);
    }
    assert_true(done);
}

/* gf_stats_prometheus: every family, stages summed over instances. */
static void test_stats_render(void **state)
{
    (void)state;
    const char *const names[] = {"src", "cls"};
    const unsigned inst[] = {1, 2};
    gf_stats *st = gf_stats_new(2, names, inst);
    assert_non_null(st);
    gf_counters *a = gf_stats_counters(st, 0, 0);
    gf_counters *b0 = gf_stats_counters(st, 1, 0);
    gf_counters *b1 = gf_stats_counters(st, 1, 1);
    a->out = 100;
    a->batches_sent = 4;
    a->batches_acked = 3;
    a->batches_resent = 1;
    a->credit = 5;
    a->peers = 2;
    a->start_ns = 1000000000;
    a->end_ns = 3500000000;
    b0->in = 60;
    b1->in = 40;
    b0->out = 55;
    b1->out = 39;
    b0->rejected = 5;
    b1->dropped = 1;
    b0->batches_received = 2;
    b1->batches_received = 2;
    b1->duplicates = 1;
    b0->frames_rejected = 7;
    b0->peers = 1;
    b1->peers = 1;
    b0->start_ns = 1000000000; /* running; b1 not started yet */
    gf_buf b = {0};
    gf_stats_prometheus(st, &b, 2000000000);
    assert_string_equal(
        text_of(&b),
        "# HELP gigflow_records_in_total Records a stage received.\n"
        "# TYPE gigflow_records_in_total counter\n"
        "gigflow_records_in_total{stage=\"src\"} 0\n"
        "gigflow_records_in_total{stage=\"cls\"} 100\n"
        "# HELP gigflow_records_out_total Records a stage emitted.\n"
        "# TYPE gigflow_records_out_total counter\n"
        "gigflow_records_out_total{stage=\"src\"} 100\n"
        "gigflow_records_out_total{stage=\"cls\"} 94\n"
        "# HELP gigflow_records_rejected_total Records a stage rejected to "
        "the dead letters.\n"
        "# TYPE gigflow_records_rejected_total counter\n"
        "gigflow_records_rejected_total{stage=\"src\"} 0\n"
        "gigflow_records_rejected_total{stage=\"cls\"} 5\n"
        "# HELP gigflow_records_dropped_total Records a stage dropped on "
        "purpose (filters).\n"
        "# TYPE gigflow_records_dropped_total counter\n"
        "gigflow_records_dropped_total{stage=\"src\"} 0\n"
        "gigflow_records_dropped_total{stage=\"cls\"} 1\n"
        "# HELP gigflow_batches_sent_total Batches (DATA frames) a stage "
        "sent downstream.\n"
        "# TYPE gigflow_batches_sent_total counter\n"
        "gigflow_batches_sent_total{stage=\"src\"} 4\n"
        "gigflow_batches_sent_total{stage=\"cls\"} 0\n"
        "# HELP gigflow_batches_received_total Batches a stage received.\n"
        "# TYPE gigflow_batches_received_total counter\n"
        "gigflow_batches_received_total{stage=\"src\"} 0\n"
        "gigflow_batches_received_total{stage=\"cls\"} 4\n"
        "# HELP gigflow_batches_acked_total Batches a stage sent that a "
        "consumer acknowledged.\n"
        "# TYPE gigflow_batches_acked_total counter\n"
        "gigflow_batches_acked_total{stage=\"src\"} 3\n"
        "gigflow_batches_acked_total{stage=\"cls\"} 0\n"
        "# HELP gigflow_batches_resent_total Batches a stage sent again (no "
        "acknowledgement, consumer lost).\n"
        "# TYPE gigflow_batches_resent_total counter\n"
        "gigflow_batches_resent_total{stage=\"src\"} 1\n"
        "gigflow_batches_resent_total{stage=\"cls\"} 0\n"
        "# HELP gigflow_duplicates_dropped_total Batches a stage received "
        "again and dropped (same producer and sequence).\n"
        "# TYPE gigflow_duplicates_dropped_total counter\n"
        "gigflow_duplicates_dropped_total{stage=\"src\"} 0\n"
        "gigflow_duplicates_dropped_total{stage=\"cls\"} 1\n"
        "# HELP gigflow_frames_rejected_total Invalid frames a stage refused "
        "(bad header, length or MessagePack).\n"
        "# TYPE gigflow_frames_rejected_total counter\n"
        "gigflow_frames_rejected_total{stage=\"src\"} 0\n"
        "gigflow_frames_rejected_total{stage=\"cls\"} 7\n"
        "# HELP gigflow_peers_connected Peers (other processes) a stage is "
        "connected to.\n"
        "# TYPE gigflow_peers_connected gauge\n"
        "gigflow_peers_connected{stage=\"src\"} 2\n"
        "gigflow_peers_connected{stage=\"cls\"} 2\n"
        "# HELP gigflow_credit Batches a stage may still send before it "
        "waits for credit.\n"
        "# TYPE gigflow_credit gauge\n"
        "gigflow_credit{stage=\"src\"} 5\n"
        "gigflow_credit{stage=\"cls\"} 0\n"
        "# HELP gigflow_stage_instances Instances (workers) of a stage in "
        "this process.\n"
        "# TYPE gigflow_stage_instances gauge\n"
        "gigflow_stage_instances{stage=\"src\"} 1\n"
        "gigflow_stage_instances{stage=\"cls\"} 2\n"
        "# HELP gigflow_stage_running Instances of a stage running now.\n"
        "# TYPE gigflow_stage_running gauge\n"
        "gigflow_stage_running{stage=\"src\"} 0\n"
        "gigflow_stage_running{stage=\"cls\"} 1\n"
        "# HELP gigflow_stage_seconds Seconds a stage has run (its longest "
        "instance).\n"
        "# TYPE gigflow_stage_seconds gauge\n"
        "gigflow_stage_seconds{stage=\"src\"} 2.5\n"
        "gigflow_stage_seconds{stage=\"cls\"} 1\n");
    gf_buf_free(&b);
    gf_stats_free(&st);
}

/* ------------------------------------------------------------------ */
/* the endpoint                                                        */

typedef struct fake_run {
    uint64_t classify_in;
    unsigned scrapes;
} fake_run;

static void render(gf_buf *b, void *arg)
{
    fake_run *r = arg;
    r->scrapes++;
    gf_metrics_counter(b, "gigflow_records_in_total", "Records in.", "stage",
                       "ingest", 0);
    gf_metrics_counter(b, "gigflow_records_in_total", "Records in.", "stage",
                       "classify", r->classify_in);
    gf_metrics_gauge(b, "gigflow_peers_connected", "Peers.", NULL, NULL, 2);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int connect_to(const char *ip, unsigned port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read until EOF or the deadline; the bytes, malloc'd and NUL-terminated. */
static char *read_all(int fd)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    long long end = now_ms() + DEADLINE_MS;
    for (;;) {
        long left = (long)(end - now_ms());
        assert_true(left > 0);
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            break;
        n += (size_t)r;
        assert_true(n < cap - 1);
    }
    buf[n] = '\0';
    return buf;
}

/* One request; the status code, the body in *body (malloc'd), and the
   Content-Type in ctype. */
static int request(unsigned port, const char *method, const char *path,
                   char **body, char *ctype, size_t ctcap)
{
    int fd = connect_to("127.0.0.1", port);
    assert_true(fd >= 0);
    char req[256];
    int len = snprintf(req, sizeof req,
                       "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       "Connection: close\r\n\r\n",
                       method, path);
    assert_int_equal(write(fd, req, (size_t)len), len);
    char *resp = read_all(fd);
    close(fd);
    int status = 0;
    assert_int_equal(sscanf(resp, "HTTP/1.%*d %d", &status), 1);
    char *sep = strstr(resp, "\r\n\r\n");
    assert_non_null(sep);
    *sep = '\0';
    ctype[0] = '\0';
    const char *ct = strcasestr(resp, "\r\nContent-Type: ");
    if (ct) {
        ct += 16;
        size_t l = strcspn(ct, "\r\n");
        snprintf(ctype, ctcap, "%.*s", (int)l, ct);
    }
    *body = strdup(sep + 4);
    free(resp);
    return status;
}

static void test_endpoint(void **state)
{
    (void)state;
    fake_run run = {.classify_in = 12345};
    char *err = NULL;
    gf_metrics *m = gf_metrics_start("127.0.0.1:0", render, &run, &err);
    assert_null(err);
    assert_non_null(m);
    unsigned port = gf_metrics_port(m);
    assert_true(port > 0);

    char *body, ctype[128];
    assert_int_equal(
        request(port, "GET", "/metrics", &body, ctype, sizeof ctype), 200);
    assert_string_equal(ctype, "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(body,
                        "# HELP gigflow_records_in_total Records in.\n"
                        "# TYPE gigflow_records_in_total counter\n"
                        "gigflow_records_in_total{stage=\"ingest\"} 0\n"
                        "gigflow_records_in_total{stage=\"classify\"} 12345\n"
                        "# HELP gigflow_peers_connected Peers.\n"
                        "# TYPE gigflow_peers_connected gauge\n"
                        "gigflow_peers_connected 2\n");
    free(body);
    /* rendered again on each scrape */
    run.classify_in++;
    assert_int_equal(
        request(port, "GET", "/metrics", &body, ctype, sizeof ctype), 200);
    assert_non_null(strstr(body, "{stage=\"classify\"} 12346\n"));
    free(body);
    assert_int_equal(run.scrapes, 2);

    assert_int_equal(
        request(port, "GET", "/health", &body, ctype, sizeof ctype), 200);
    assert_string_equal(body, "ok\n");
    free(body);
    gf_metrics_set_healthy(m, false);
    assert_int_equal(
        request(port, "GET", "/health", &body, ctype, sizeof ctype), 503);
    assert_string_equal(body, "failing\n");
    free(body);
    gf_metrics_set_healthy(m, true);
    assert_int_equal(
        request(port, "GET", "/health", &body, ctype, sizeof ctype), 200);
    free(body);

    assert_int_equal(
        request(port, "GET", "/metricsx", &body, ctype, sizeof ctype), 404);
    assert_string_equal(body, "not found: try /metrics or /health\n");
    free(body);
    assert_int_equal(
        request(port, "DELETE", "/metrics", &body, ctype, sizeof ctype), 405);
    free(body);
    assert_int_equal(
        request(port, "HEAD", "/metrics", &body, ctype, sizeof ctype), 200);
    assert_string_equal(body, "");
    free(body);
    assert_int_equal(run.scrapes, 3);

    /* bound to 127.0.0.1 only: 127.0.0.2 is loopback too, and refused */
    assert_int_equal(connect_to("127.0.0.2", port), -1);

    /* the connection limit: 16 idle clients, the 17th is turned away */
    int idle[16];
    for (int i = 0; i < 16; i++) {
        idle[i] = connect_to("127.0.0.1", port);
        assert_true(idle[i] >= 0);
    }
    int extra = connect_to("127.0.0.1", port); /* the kernel accepts... */
    assert_true(extra >= 0);
    const char get[] = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
    ssize_t w = write(extra, get, sizeof get - 1);
    (void)w;                      /* may fail once the server closed it */
    char *resp = read_all(extra); /* ...the server closes it unanswered */
    assert_string_equal(resp, "");
    free(resp);
    close(extra);
    for (int i = 0; i < 16; i++)
        close(idle[i]);
    /* and serves again once they are gone (closing is seen asynchronously) */
    int status = 0;
    long long end = now_ms() + DEADLINE_MS;
    while (status != 200 && now_ms() < end) {
        int fd = connect_to("127.0.0.1", port);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, get, sizeof get - 1),
                         (ssize_t)sizeof get - 1);
        resp = read_all(fd);
        close(fd);
        if (strncmp(resp, "HTTP/1.1 200", 12) == 0)
            status = 200;
        free(resp);
    }
    assert_int_equal(status, 200);

    gf_metrics_stop(&m);
    assert_null(m);
    gf_metrics_stop(&m);
    /* stopped: the port is closed */
    assert_int_equal(connect_to("127.0.0.1", port), -1);
}

static void expect_start_error(const char *addr, const char *want)
{
    char *err = NULL;
    gf_metrics *m = gf_metrics_start(addr, NULL, NULL, &err);
    assert_null(m);
    assert_non_null(err);
    assert_string_equal(err, want);
    gf_free(err);
}

static void test_start_errors(void **state)
{
    (void)state;
    static const char usage[] =
        ": expected HOST:PORT (127.0.0.1:9100, [::1]:9100, 0.0.0.0:9100 for "
        "every interface)";
    static const char *const bad[] = {
        "localhost9100", "127.0.0.1:", "127.0.0.1:70000", ":9100",
        "127.0.0.1:9x",  "[::1]9100",  "::1:9100"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char want[256];
        snprintf(want, sizeof want, "--metrics-addr %s%s", bad[i], usage);
        expect_start_error(bad[i], want);
    }
    /* a port in use */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    char addr[64], want[256];
    snprintf(addr, sizeof addr, "127.0.0.1:%u", ntohs(a.sin_port));
    snprintf(want, sizeof want,
             "--metrics-addr %s: cannot listen: Address already in use", addr);
    expect_start_error(addr, want);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples),
        cmocka_unit_test(test_sample_alloc_failures),
        cmocka_unit_test(test_stats_render),
        cmocka_unit_test(test_endpoint),
        cmocka_unit_test(test_start_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
