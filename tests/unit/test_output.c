/*
 * test_output - gf_output, the runtime's atomic outputs: nothing visible
 * before commit, an old target replaced only at commit, everything removed
 * without it, reopening appends, a path by name (output_path), targets that
 * are not regular files and missing directories refused, a second writer
 * of one path refused, and every allocation failure walked.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gf_alloc.h"
#include "gf_output.h"

static char dir[] = "/tmp/gf_test_output_XXXXXX";
static char path[512], path2[512];

/* Entries in dir other than . and .. */
static int entries(void)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

/* The whole content of p, or NULL when it does not exist. */
static char *slurp(const char *p)
{
    FILE *f = fopen(p, "r");
    if (!f)
        return NULL;
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void put(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_commit_replaces(void **state)
{
    (void)state;
    char err[512];
    int owner;
    put(path, "old\n");
    gf_output_set *s = gf_output_new();
    FILE *f = gf_output_open(s, &owner, "out", path, err, sizeof err);
    assert_non_null(f);
    fputs("new\n", f);
    assert_int_equal(fflush(f), 0);
    assert_string_equal(slurp(path), "old\n"); /* untouched until commit */
    assert_int_equal(entries(), 2);            /* the target and a temp */
    fputs("more\n", f); /* left open: commit flushes it */
    assert_int_equal(gf_output_commit(s, err, sizeof err), 0);
    assert_string_equal(slurp(path), "new\nmore\n");
    assert_int_equal(entries(), 1);
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    mode_t um = umask(0);
    umask(um);
    assert_int_equal(sb.st_mode & 0777, 0666 & ~um);
    assert_int_equal(fclose(f), 0); /* the plugin's destroy() may close */
    gf_output_free(&s);
    assert_null(s);
    assert_string_equal(slurp(path), "new\nmore\n");
    unlink(path);
}

static void test_no_commit_removes(void **state)
{
    (void)state;
    char err[512];
    int owner;
    put(path, "old\n");
    gf_output_set *s = gf_output_new();
    FILE *f = gf_output_open(s, &owner, "out", path, err, sizeof err);
    assert_non_null(f);
    fputs("half", f);
    const char *tmp = gf_output_path(s, &owner, "out", path2, err, sizeof err);
    assert_non_null(tmp);
    assert_int_equal(access(tmp, F_OK), 0); /* the name is reserved */
    assert_int_equal(entries(), 3);
    gf_output_free(&s); /* f still open: closed here */
    assert_int_equal(entries(), 1);
    assert_string_equal(slurp(path), "old\n");
    assert_null(slurp(path2));
    gf_output_free(&s); /* NULL is fine */
    unlink(path);
}

static void test_reopen_appends(void **state)
{
    (void)state;
    char err[512];
    int owner, other;
    gf_output_set *s = gf_output_new();
    FILE *f = gf_output_open(s, &owner, "out", path, err, sizeof err);
    assert_non_null(f);
    fputs("a\n", f);
    /* still open: refused; another owner: refused, naming the first */
    assert_null(gf_output_open(s, &owner, "out", path, err, sizeof err));
    assert_non_null(strstr(err, "is open already"));
    assert_int_equal(fclose(f), 0);
    assert_null(gf_output_open(s, &other, "second", path, err, sizeof err));
    assert_non_null(strstr(err, "is written by stage out already"));
    f = gf_output_open(s, &owner, "out", path, err, sizeof err);
    assert_non_null(f);
    fputs("b\n", f);
    assert_int_equal(fclose(f), 0);
    /* by name: the same name again */
    const char *t1 = gf_output_path(s, &owner, "out", path2, err, sizeof err);
    const char *t2 = gf_output_path(s, &owner, "out", path2, err, sizeof err);
    assert_non_null(t1);
    assert_ptr_equal(t1, t2);
    put(t1, "by name\n"); /* as libxlsxwriter does */
    assert_int_equal(gf_output_commit(s, err, sizeof err), 0);
    assert_string_equal(slurp(path), "a\nb\n");
    assert_string_equal(slurp(path2), "by name\n");
    assert_int_equal(entries(), 2);
    gf_output_free(&s);
    unlink(path);
    unlink(path2);
}

static void test_refusals(void **state)
{
    (void)state;
    char err[512], p[600];
    int owner;
    gf_output_set *s = gf_output_new();
    assert_null(gf_output_open(s, &owner, "out", dir, err, sizeof err));
    snprintf(p, sizeof p, "%s exists and is not a regular file", dir);
    assert_non_null(strstr(err, p));
    assert_null(gf_output_path(s, &owner, "out", "/dev/null", err, sizeof err));
    assert_non_null(strstr(err, "/dev/null exists and is not a regular"));
    assert_int_equal(gf_output_prepare("/dev/null", err, sizeof err), -1);
    snprintf(p, sizeof p, "%s/no/such/x.csv", dir);
    assert_null(gf_output_open(s, &owner, "out", p, err, sizeof err));
    char want[1400];
    snprintf(want, sizeof want,
             "%s: the directory %s/no/such does not exist; create it first", p,
             dir);
    assert_string_equal(err, want);
    /* prepare creates the directories; then the open succeeds */
    assert_int_equal(gf_output_prepare(p, err, sizeof err), 0);
    FILE *f = gf_output_open(s, &owner, "out", p, err, sizeof err);
    assert_non_null(f);
    gf_output_free(&s);
    snprintf(want, sizeof want, "%s/no/such", dir);
    assert_int_equal(rmdir(want), 0);
    snprintf(want, sizeof want, "%s/no", dir);
    assert_int_equal(rmdir(want), 0);
    assert_int_equal(entries(), 0);
}

/* Fail the Nth allocation for every N: never a crash, never a leak (ASan),
   nothing left behind. */
static void test_alloc_failures(void **state)
{
    (void)state;
    char err[512];
    int owner;
    for (long n = 0; n < 40; n++) {
        gf_alloc_fail_after(n);
        gf_output_set *s = gf_output_new();
        if (s) {
            FILE *f = gf_output_open(s, &owner, "out", path, err, sizeof err);
            if (f)
                fputs("x", f);
            gf_output_path(s, &owner, "out", path2, err, sizeof err);
        }
        gf_alloc_fail_reset();
        gf_output_free(&s);
        assert_int_equal(entries(), 0);
    }
}

static int setup(void **state)
{
    (void)state;
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/out.csv", dir);
    snprintf(path2, sizeof path2, "%s/book.xlsx", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_replaces),
        cmocka_unit_test(test_no_commit_removes),
        cmocka_unit_test(test_reopen_appends),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
