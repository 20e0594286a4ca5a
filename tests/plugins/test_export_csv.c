/*
 * test_export_csv - export_csv through the plugin harness: cells and
 * quoting, default and given columns, BOM/CRLF/delimiter, split_by file
 * names and per-file columns, atomic output (nothing visible before commit,
 * nothing left without it, an old file replaced whole), a missing directory,
 * stdout. Expected file contents are written out by hand.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <math.h>

#include "io_test_util.h"

static const char *const members[] = {
    "{\"kind\":\"member\",\"id\":1,\"name\":\"张三\",\"score\":12.5,\"ok\":"
    "true}",
    /* no score; tags is not a column (the first record has none) */
    "{\"kind\":\"member\",\"id\":2,\"name\":\"李, \\\"四\\\"\",\"ok\":false,"
    "\"tags\":[\"a\",\"b\"]}",
    /* no ok; note is extra */
    "{\"kind\":\"member\",\"id\":3,\"name\":\" lead\",\"score\":0.1,"
    "\"note\":\"x\"}",
    "{\"kind\":\"member\",\"id\":4,\"name\":\"two\\nlines\",\"score\":1e300,"
    "\"ok\":null}",
    /* fields in another order */
    "{\"ok\":true,\"name\":\"末尾 \",\"id\":-5,\"kind\":\"member\","
    "\"score\":-2.25}",
};

static void push_members(gf_harness *h)
{
    for (size_t i = 0; i < sizeof members / sizeof *members; i++)
        assert_int_equal(gf_harness_push_json(h, members[i]), GF_OK);
}

static void expect_file(const char *path, const char *want)
{
    size_t len = 0;
    char *got = io_slurp(path, &len);
    if (!got)
        fail_msg("%s was not written", path);
    if (len != strlen(want) || memcmp(got, want, len) != 0) {
        size_t i = 0, line = 1, bol = 0;
        for (; i < len && got[i] == want[i]; i++)
            if (got[i] == '\n')
                line++, bol = i + 1;
        fail_msg("%s: line %zu differs:\n  got  %.60s\n  want %.60s", path,
                 line, got + bol, want + bol);
    }
    free(got);
}

static void test_default_columns(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *out = io_fmt("%s/members.csv", dir);
    gf_harness *h = io_open("export_csv", "path: members.csv", dir);
    push_members(h);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_null(io_slurp(out, NULL)); /* not visible before commit */
    assert_int_equal(gf_harness_commit(h), GF_OK);
    expect_file(out, "kind,id,name,score,ok\n"
                     "member,1,张三,12.5,true\n"
                     "member,2,\"李, \"\"四\"\"\",,false\n"
                     "member,3,\" lead\",0.1,\n"
                     "member,4,\"two\nlines\",1e+300,\n"
                     "member,-5,\"末尾 \",-2.25,true\n");
    gf_harness_destroy(&h);
    assert_int_equal(io_dir_count(dir, NULL, 0), 1); /* no temp file left */
    free(out);
    io_rmdir(dir);
}

static void test_columns_bom_crlf(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *out = io_fmt("%s/m.txt", dir);
    gf_harness *h = io_open("export_csv",
                            "path: m.txt\ncolumns: [name, id, missing, tags]\n"
                            "delimiter: \";\"\nbom: true\ncrlf: true",
                            dir);
    push_members(h);
    assert_int_equal(gf_harness_push_json(h, "{\"name\":\"甲;乙\",\"id\":0.5,"
                                             "\"tags\":{\"城市\":\"北京\"}}"),
                     GF_OK);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    expect_file(out, "\xef\xbb\xbfname;id;missing;tags\r\n"
                     "张三;1;;\r\n"
                     "\"李, \"\"四\"\"\";2;;\"[\"\"a\"\",\"\"b\"\"]\"\r\n"
                     "\" lead\";3;;\r\n"
                     "\"two\nlines\";4;;\r\n"
                     "\"末尾 \";-5;;\r\n"
                     "\"甲;乙\";0.5;;\"{\"\"城市\"\":\"\"北京\"\"}\"\r\n");
    gf_harness_destroy(&h);
    free(out);
    io_rmdir(dir);
}

/* The shortest of %.15g/%.16g/%.17g that reads back, computed here with
   libc's printf, for doubles of every shape. */
static void test_floats(void **state)
{
    (void)state;
    static const double fixed[] = {0.0,
                                   -0.0,
                                   0.1,
                                   0.2,
                                   0.3,
                                   1.0 / 3,
                                   2.0 / 3,
                                   1e-4,
                                   1e-5,
                                   0.00012,
                                   -0.0001,
                                   12.5,
                                   49.0,
                                   9.4,
                                   100.25,
                                   123456789.5,
                                   999999999.999999,
                                   1e9,
                                   1e9 + 0.5,
                                   1e15,
                                   1e16,
                                   1e21,
                                   1e300,
                                   -1e-300,
                                   5e-324,
                                   0.1 + 0.2,
                                   1234.5678,
                                   -98765.4321,
                                   3.14159265358979,
                                   2.5e-3};
    enum { NF = sizeof fixed / sizeof *fixed, NR = 2000 };
    char *dir = io_tmpdir();
    char *out = io_fmt("%s/f.csv", dir);
    gf_harness *h = io_open("export_csv", "path: f.csv\nheader: false", dir);
    char *want = malloc((NF + NR) * 40);
    assert_non_null(want);
    size_t wl = 0;
    srand(7);
    for (int i = 0; i < NF + NR; i++) {
        double v;
        if (i < NF)
            v = fixed[i];
        else if (i % 3 == 0)
            v = (rand() % 2000000 - 1000000) / 100.0;
        else if (i % 3 == 1)
            v = (double)rand() / RAND_MAX * 1000;
        else
            v = (rand() % 100000) * 0.001;
        char t[40];
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(t, sizeof t, "%.*g", prec, v);
            if (strtod(t, NULL) == v)
                break;
        }
        wl += (size_t)sprintf(want + wl, "%s\n", t);
        char json[64];
        snprintf(json, sizeof json, "{\"x\":%.17e}", v); /* a real */
        if (v == 0)
            snprintf(json, sizeof json, "{\"x\":%s}",
                     signbit(v) ? "-0.0" : "0.0");
        assert_int_equal(gf_harness_push_json(h, json), GF_OK);
    }
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    expect_file(out, want);
    free(want);
    free(out);
    io_rmdir(dir);
}

static void test_no_header_and_empty(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *out = io_fmt("%s/a.csv", dir);
    gf_harness *h = io_open("export_csv", "path: a.csv\nheader: false", dir);
    assert_int_equal(gf_harness_push_json(h, "{\"x\":1,\"y\":\"b\"}"), GF_OK);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    expect_file(out, "1,b\n");
    gf_harness_destroy(&h);
    /* no records: the header of the given columns, or an empty file */
    h = io_open("export_csv", "path: a.csv\ncolumns: [x, y]", dir);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    expect_file(out, "x,y\n");
    gf_harness_destroy(&h);
    h = io_open("export_csv", "path: a.csv", dir);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    expect_file(out, "");
    gf_harness_destroy(&h);
    free(out);
    io_rmdir(dir);
}

static void test_split_by(void **state)
{
    (void)state;
    static const char *const recs[] = {
        "{\"d\":\"朝阳\",\"n\":1}",
        "{\"d\":\"海淀\",\"n\":2}",
        "{\"d\":\"朝阳\",\"n\":3}",
        "{\"d\":\"a/../b\",\"n\":4}",
        "{\"n\":5}",
        "{\"d\":\"\",\"n\":6}",
        "{\"d\":7,\"n\":8}",
        "{\"d\":\"..\",\"n\":9}",
        "{\"d\":\"x\\u0001y\",\"n\":10}",
    };
    char *dir = io_tmpdir();
    gf_harness *h =
        io_open("export_csv", "path: members.csv\nsplit_by: d", dir);
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++)
        assert_int_equal(gf_harness_push_json(h, recs[i]), GF_OK);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    char names[1024];
    /* before commit: only hidden temporary files */
    size_t n = io_dir_count(dir, names, sizeof names);
    assert_int_equal(n, 7);
    for (char *p = names; p; p = strchr(p, '|'), p = p ? p + 1 : NULL)
        assert_int_equal(p[0], '.');
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    assert_int_equal(io_dir_count(dir, names, sizeof names), 7);

    static const struct {
        const char *file, *text;
    } want[] = {
        {"members-朝阳.csv", "d,n\n朝阳,1\n朝阳,3\n"},
        {"members-海淀.csv", "d,n\n海淀,2\n"},
        {"members-a_.__b.csv", "d,n\na/../b,4\n"},
        /* its own first record has no d: its columns are n alone */
        {"members-none.csv", "n\n5\n6\n"},
        {"members-7.csv", "d,n\n7,8\n"},
        {"members-__.csv", "d,n\n..,9\n"},
        {"members-x_y.csv", "d,n\nx\001y,10\n"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *p = io_fmt("%s/%s", dir, want[i].file);
        expect_file(p, want[i].text);
        free(p);
    }
    io_rmdir(dir);
}

/* More split values than files kept open: closed files are reopened and
   appended to, and each ends up with its header and its rows in order. */
static void test_split_many(void **state)
{
    (void)state;
    enum { VALUES = 150 };
    char *dir = io_tmpdir();
    gf_harness *h = io_open("export_csv", "path: s.csv\nsplit_by: v", dir);
    for (int round = 0; round < 2; round++)
        for (int v = 0; v < VALUES; v++) {
            char json[64];
            snprintf(json, sizeof json, "{\"v\":%d,\"r\":%d}", v, round);
            assert_int_equal(gf_harness_push_json(h, json), GF_OK);
        }
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    assert_int_equal(io_dir_count(dir, NULL, 0), VALUES);
    for (int v = 0; v < VALUES; v++) {
        char *p = io_fmt("%s/s-%d.csv", dir, v);
        char *want = io_fmt("v,r\n%d,0\n%d,1\n", v, v);
        expect_file(p, want);
        free(want);
        free(p);
    }
    io_rmdir(dir);
}

/* split_by without columns: each file takes its columns from its own first
   record, so metric sets of different aggregates keep their fields (as
   `split_by: set` over several aggregates needs); a given `columns` list
   still holds for every file. More files than are kept open at once, so
   the columns survive closing and reopening. */
static void test_split_own_columns(void **state)
{
    (void)state;
    static const char *const recs[] = {
        "{\"set\":\"cov\",\"district\":\"滨江区\",\"coverage\":0.5}",
        "{\"set\":\"top\",\"rank\":1,\"name\":\"王某\",\"points\":90}",
        ("{\"set\":\"cov\",\"district\":\"临湖区\",\"coverage\":1,"
         "\"extra\":true}"),
        /* fields in another order, one missing */
        "{\"points\":80,\"set\":\"top\",\"rank\":2}",
        "{\"set\":\"lvl\",\"level\":3,\"demands\":27}",
    };
    char *dir = io_tmpdir();
    gf_harness *h = io_open("export_csv", "path: m.csv\nsplit_by: set", dir);
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++)
        assert_int_equal(gf_harness_push_json(h, recs[i]), GF_OK);
    for (int v = 0; v < 80; v++) { /* beyond the files kept open */
        char json[80];
        snprintf(json, sizeof json, "{\"set\":\"s%d\",\"f%d\":%d}", v, v, v);
        assert_int_equal(gf_harness_push_json(h, json), GF_OK);
    }
    assert_int_equal(
        gf_harness_push_json(h, "{\"set\":\"cov\",\"coverage\":0}"), GF_OK);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    static const struct {
        const char *file, *text;
    } want[] = {
        {"m-cov.csv", "set,district,coverage\n"
                      "cov,滨江区,0.5\n"
                      "cov,临湖区,1\n"
                      "cov,,0\n"},
        {"m-top.csv", "set,rank,name,points\ntop,1,王某,90\ntop,2,,80\n"},
        {"m-lvl.csv", "set,level,demands\nlvl,3,27\n"},
        {"m-s0.csv", "set,f0\ns0,0\n"},
        {"m-s79.csv", "set,f79\ns79,79\n"},
    };
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        char *p = io_fmt("%s/%s", dir, want[i].file);
        expect_file(p, want[i].text);
        free(p);
    }
    assert_int_equal(io_dir_count(dir, NULL, 0), 3 + 80);
    io_rmdir(dir);

    /* given columns: the same list in every file */
    dir = io_tmpdir();
    h = io_open("export_csv",
                "path: m.csv\nsplit_by: set\ncolumns: [set, rank]", dir);
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++)
        assert_int_equal(gf_harness_push_json(h, recs[i]), GF_OK);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    char *p = io_fmt("%s/m-cov.csv", dir);
    expect_file(p, "set,rank\ncov,\ncov,\n");
    free(p);
    p = io_fmt("%s/m-top.csv", dir);
    expect_file(p, "set,rank\ntop,1\ntop,2\n");
    free(p);
    io_rmdir(dir);
}

static void test_not_committed(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    gf_harness *h = io_open("export_csv", "path: gone.csv", dir);
    push_members(h);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    gf_harness_destroy(&h); /* no commit */
    assert_int_equal(io_dir_count(dir, NULL, 0), 0);
    h = io_open("export_csv", "path: gone.csv\nsplit_by: id", dir);
    push_members(h);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    assert_true(io_dir_count(dir, NULL, 0) > 0);
    gf_harness_destroy(&h);
    assert_int_equal(io_dir_count(dir, NULL, 0), 0);
    io_rmdir(dir);
}

static void test_replaces_old_file_at_commit(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *out = io_fmt("%s/r.csv", dir);
    io_write(out, "old\n", 4);
    gf_harness *h = io_open("export_csv", "path: r.csv", dir);
    assert_int_equal(gf_harness_push_json(h, "{\"a\":1}"), GF_OK);
    assert_int_equal(gf_harness_flush(h), GF_OK);
    expect_file(out, "old\n");
    assert_int_equal(gf_harness_commit(h), GF_OK);
    expect_file(out, "a\n1\n");
    gf_harness_destroy(&h);
    free(out);
    io_rmdir(dir);
}

static void test_missing_directory(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *want = io_fmt("the directory %s/nodir does not exist", dir);
    char *err = io_open_fails("export_csv", "path: nodir/x.csv", dir);
    if (!strstr(err, want))
        fail_msg("unexpected message: %s", err);
    free(err);
    err = io_open_fails("export_csv", "path: nodir/x.csv\nsplit_by: a", dir);
    if (!strstr(err, want))
        fail_msg("unexpected message: %s", err);
    free(err);
    free(want);
    io_rmdir(dir);
}

static void test_bad_options(void **state)
{
    (void)state;
    char *err = io_open_fails("export_csv", "path: \"-\"\nsplit_by: a", NULL);
    assert_non_null(strstr(err, "split_by"));
    free(err);
    err =
        io_open_fails("export_csv", "path: x.csv\ndelimiter: \"\\\"\"", "/tmp");
    assert_non_null(strstr(err, "delimiter"));
    free(err);
}

static void test_stdout(void **state)
{
    (void)state;
    char *dir = io_tmpdir();
    char *cap = io_fmt("%s/stdout.txt", dir);
    gf_harness *h = io_open("export_csv", "path: \"-\"", NULL);
    assert_int_equal(gf_harness_push_json(h, "{\"a\":\"x,y\",\"b\":true}"),
                     GF_OK);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(saved >= 0 && fd >= 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    int rc = gf_harness_flush(h);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    assert_int_equal(rc, GF_OK);
    assert_int_equal(gf_harness_commit(h), GF_OK);
    gf_harness_destroy(&h);
    expect_file(cap, "a,b\n\"x,y\",true\n");
    free(cap);
    io_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_columns),
        cmocka_unit_test(test_columns_bom_crlf),
        cmocka_unit_test(test_floats),
        cmocka_unit_test(test_no_header_and_empty),
        cmocka_unit_test(test_split_by),
        cmocka_unit_test(test_split_many),
        cmocka_unit_test(test_split_own_columns),
        cmocka_unit_test(test_not_committed),
        cmocka_unit_test(test_replaces_old_file_at_commit),
        cmocka_unit_test(test_missing_directory),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_stdout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
