/*
 * test_deadletter - gf_deadletter: the exact line format (expected lines
 * written by hand), the file created only by the first line, a stale file
 * of an earlier run removed, whole lines from several threads at once
 * (each line parsed back with jansson), errors reported, and stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "gf_alloc.h"
#include "gf_deadletter.h"
#include "unit_util.h"

static void test_format(void **state)
{
    (void)state;
    static const uint8_t mp[] = {0x82, 0xa4, 'k', 'i',  'n', 'd', 0xa3,
                                 'o',  'r',  'g', 0xa1, 'n', 0x05};
    gf_record rec = {mp, sizeof mp, 2};
    gf_buf b = {0};
    assert_int_equal(gf_deadletter_format(&b, "classify", "no \"kind\"", &rec,
                                          NULL, 0, NULL, 0, NULL),
                     0);
    const char *want1 =
        "{\"stage\":\"classify\",\"reason\":\"no \\\"kind\\\"\","
        "\"record\":{\"kind\":\"org\",\"n\":5}}\n";
    assert_int_equal(b.len, strlen(want1));
    assert_memory_equal(b.data, want1, b.len);

    gf_buf_clear(&b);
    assert_int_equal(gf_deadletter_format(&b, "ingest", "3 fields, want 4",
                                          NULL, "a,b\xff,\"c", 7, "/d/in.csv",
                                          12, NULL),
                     0);
    const char *want2 = "{\"stage\":\"ingest\",\"reason\":\"3 fields, want 4\","
                        "\"file\":\"/d/in.csv\",\"line\":12,"
                        "\"raw\":\"a,b\xef\xbf\xbd,\\\"c\"}\n";
    assert_int_equal(b.len, strlen(want2));
    assert_memory_equal(b.data, want2, b.len);

    /* file known, line unknown; nothing else known */
    gf_buf_clear(&b);
    assert_int_equal(
        gf_deadletter_format(&b, NULL, NULL, NULL, NULL, 0, "f", 0, NULL), 0);
    const char *want3 = "{\"stage\":\"\",\"reason\":\"\",\"file\":\"f\"}\n";
    assert_int_equal(b.len, strlen(want3));
    assert_memory_equal(b.data, want3, b.len);

    /* the batch of a record rejected by a stateless stage across processes */
    gf_buf_clear(&b);
    gf_deadletter_batch at = {.origin = 3, .seq = 41, .reject = 2};
    assert_int_equal(
        gf_deadletter_format(&b, "mid", "bad", &rec, NULL, 0, NULL, 0, &at), 0);
    const char *want4 = "{\"stage\":\"mid\",\"reason\":\"bad\","
                        "\"batch\":{\"origin\":3,\"seq\":41,\"reject\":2},"
                        "\"record\":{\"kind\":\"org\",\"n\":5}}\n";
    assert_int_equal(b.len, strlen(want4));
    assert_memory_equal(b.data, want4, b.len);
    gf_buf_free(&b);

    /* out of memory: nothing appended */
    gf_buf keep = {0};
    assert_int_equal(gf_buf_puts(&keep, "prefix"), 0);
    for (long n = 0; n < 5; n++) {
        gf_alloc_fail_after(n);
        int r =
            gf_deadletter_format(&keep, "s", "r", NULL, "x", 1, NULL, 0, NULL);
        gf_alloc_fail_reset();
        if (r != 0)
            assert_int_equal(keep.len, 6);
        keep.len = 6;
    }
    gf_buf_free(&keep);
}

static char tmpdir[64];

static int make_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/gf_dl_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static void test_lazy_file(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/dead.jsonl", tmpdir);
    /* a stale file from an earlier run */
    FILE *f = fopen(path, "w");
    fputs("old line\n", f);
    fclose(f);
    gf_deadletter *dl = gf_deadletter_open(path);
    assert_non_null(dl);
    assert_false(exists(path));
    assert_int_equal(gf_deadletter_close(&dl), 0);
    assert_null(dl);
    assert_false(exists(path)); /* a clean run leaves nothing */

    dl = gf_deadletter_open(path);
    assert_int_equal(
        gf_deadletter_write(dl, "s", "bad", NULL, "raw", 3, NULL, 0), 0);
    assert_true(exists(path));
    assert_int_equal(gf_deadletter_count(dl), 1);
    assert_int_equal(gf_deadletter_close(&dl), 0);
    f = fopen(path, "r");
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(
        line, "{\"stage\":\"s\",\"reason\":\"bad\",\"raw\":\"raw\"}\n");
    assert_null(fgets(line, sizeof line, f));
    fclose(f);

    /* held lines written at once: counted as lines, appended whole */
    dl = gf_deadletter_open(path);
    assert_int_equal(gf_deadletter_write_lines(dl, "", 0, 0), 0);
    assert_false(exists(path)); /* nothing held: no file */
    const char two[] = "{\"a\":1}\n{\"b\":2}\n";
    assert_int_equal(gf_deadletter_write_lines(dl, two, sizeof two - 1, 2), 0);
    assert_int_equal(gf_deadletter_count(dl), 2);
    assert_int_equal(gf_deadletter_write_lines(NULL, two, 1, 1), -EINVAL);
    assert_int_equal(gf_deadletter_close(&dl), 0);
    f = fopen(path, "r");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "{\"a\":1}\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "{\"b\":2}\n");
    assert_null(fgets(line, sizeof line, f));
    fclose(f);

    /* a path that cannot be created: the error comes back */
    snprintf(path, sizeof path, "%s/no/such/dir/dead.jsonl", tmpdir);
    dl = gf_deadletter_open(path);
    assert_non_null(dl);
    assert_int_equal(gf_deadletter_write(dl, "s", "r", NULL, "x", 1, NULL, 0),
                     -ENOENT);
    assert_int_equal(gf_deadletter_count(dl), 0);
    assert_int_equal(gf_deadletter_close(&dl), 0);

    assert_null(gf_deadletter_open(NULL));
    assert_null(gf_deadletter_open(""));
    assert_int_equal(gf_deadletter_close(NULL), 0);
    assert_int_equal(gf_deadletter_count(NULL), 0);
}

static void test_stderr(void **state)
{
    (void)state;
    gf_deadletter *dl = gf_deadletter_open("-");
    assert_non_null(dl);
    assert_int_equal(gf_deadletter_write(dl, "s", "to stderr (expected)", NULL,
                                         "x", 1, NULL, 0),
                     0);
    assert_int_equal(gf_deadletter_count(dl), 1);
    assert_int_equal(gf_deadletter_close(&dl), 0);
    /* stderr still open */
    assert_true(fcntl(STDERR_FILENO, F_GETFD) >= 0);
}

#define THREADS 4
#define LINES 500

typedef struct worker {
    gf_deadletter *dl;
    int id;
} worker;

static void *write_lines(void *arg)
{
    worker *w = arg;
    char stage[16], big[3000];
    snprintf(stage, sizeof stage, "t%d", w->id);
    /* long lines, so an interleaving write would show */
    memset(big, 'a' + w->id, sizeof big);
    for (int i = 0; i < LINES; i++)
        if (gf_deadletter_write(w->dl, stage, "r", NULL, big,
                                (size_t)(1000 + i * 4), "in",
                                (uint64_t)i + 1) != 0)
            return (void *)1;
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/threads.jsonl", tmpdir);
    gf_deadletter *dl = gf_deadletter_open(path);
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
        w[i] = (worker){dl, i};
        assert_int_equal(pthread_create(&t[i], NULL, write_lines, &w[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        assert_null(r);
    }
    assert_int_equal(gf_deadletter_count(dl), THREADS * LINES);
    assert_int_equal(gf_deadletter_close(&dl), 0);

    /* every line a whole JSON object, in order per thread */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char line[8192];
    int next[THREADS] = {0}, n = 0;
    while (fgets(line, sizeof line, f)) {
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        if (!j)
            fail_msg("line %d is not JSON: %s", n + 1, je.text);
        int id = json_string_value(json_object_get(j, "stage"))[1] - '0';
        const char *raw = json_string_value(json_object_get(j, "raw"));
        assert_int_equal(json_integer_value(json_object_get(j, "line")),
                         next[id] + 1);
        assert_int_equal(strlen(raw), 1000 + next[id] * 4);
        for (size_t k = 0; raw[k]; k++)
            assert_int_equal(raw[k], 'a' + id);
        next[id]++;
        n++;
        json_decref(j);
    }
    fclose(f);
    assert_int_equal(n, THREADS * LINES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_lazy_file),
        cmocka_unit_test(test_stderr),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
