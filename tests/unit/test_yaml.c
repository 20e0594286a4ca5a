/*
 * Unit tests of gf_yaml: positions of every node, quoting, aliases copied
 * and bounded, duplicate keys, libyaml's errors with their position, and
 * every cleanup path under failing allocations. Expected positions are
 * counted by hand from the test texts (1-based line and column).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gf_alloc.h"
#include "gf_buf.h"
#include "gf_yaml.h"

static gf_ynode *load(const char *text, gf_diag *d)
{
    return gf_yaml_load_string(text, strlen(text), "t.yaml", d);
}

/* Loading must fail with exactly one diagnostic equal to `want`. */
static void expect_error(const char *text, const char *want)
{
    gf_diag d = {0};
    gf_ynode *n = load(text, &d);
    assert_null(n);
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], want);
    gf_diag_free(&d);
}

static void assert_pos(const gf_ynode *n, unsigned line, unsigned col)
{
    assert_non_null(n);
    assert_int_equal(n->line, line);
    assert_int_equal(n->col, col);
}

static void test_positions(void **state)
{
    (void)state;
    const char *text = "name: x\n"
                       "stages:\n"
                       "  - name: a\n"
                       "    with: {k: 1, 'q': \"two\"}\n"
                       "  - [b, c]\n";
    gf_diag d = {0};
    gf_ynode *root = load(text, &d);
    assert_non_null(root);
    assert_int_equal(d.n, 0);
    assert_int_equal(root->type, GF_Y_MAP);
    assert_string_equal(root->file, "t.yaml");
    assert_pos(root, 1, 1);
    assert_int_equal(root->n, 2);
    assert_pos(gf_ynode_key(root, "name"), 1, 1);
    assert_pos(gf_ynode_get(root, "name"), 1, 7);
    assert_string_equal(gf_ynode_get(root, "name")->scalar, "x");

    gf_ynode *stages = gf_ynode_get(root, "stages");
    assert_int_equal(stages->type, GF_Y_SEQ);
    assert_pos(stages, 3, 3);
    assert_int_equal(stages->n, 2);
    gf_ynode *s0 = stages->items[0];
    assert_pos(s0, 3, 5);
    assert_pos(gf_ynode_key(s0, "with"), 4, 5);
    gf_ynode *with = gf_ynode_get(s0, "with");
    assert_int_equal(with->type, GF_Y_MAP);
    assert_pos(with, 4, 11);
    assert_pos(gf_ynode_key(with, "k"), 4, 12);
    assert_pos(gf_ynode_get(with, "k"), 4, 15);
    assert_false(gf_ynode_get(with, "k")->quoted);
    assert_pos(gf_ynode_key(with, "q"), 4, 18);
    assert_true(gf_ynode_key(with, "q")->quoted);
    assert_pos(gf_ynode_get(with, "q"), 4, 23);
    assert_true(gf_ynode_get(with, "q")->quoted);
    assert_string_equal(gf_ynode_get(with, "q")->scalar, "two");
    gf_ynode *s1 = stages->items[1];
    assert_int_equal(s1->type, GF_Y_SEQ);
    assert_pos(s1, 5, 5);
    assert_pos(s1->items[1], 5, 9);
    /* every node shares the root's file name */
    assert_ptr_equal(s1->items[1]->file, root->file);
    assert_null(gf_ynode_get(root, "nope"));
    assert_null(gf_ynode_get(s1, "b")); /* not a mapping */
    gf_ynode_free(&root);
    assert_null(root);
    gf_ynode_free(&root); /* NULL is fine */
}

static void test_aliases_copied(void **state)
{
    (void)state;
    const char *text = "a: &x {k: v, l: [1, 2]}\n"
                       "b: *x\n";
    gf_diag d = {0};
    gf_ynode *root = load(text, &d);
    assert_non_null(root);
    gf_ynode *a = gf_ynode_get(root, "a"), *b = gf_ynode_get(root, "b");
    assert_int_equal(b->type, GF_Y_MAP);
    assert_ptr_not_equal(a, b);
    assert_int_equal(b->n, 2);
    assert_string_equal(gf_ynode_get(b, "k")->scalar, "v");
    assert_ptr_not_equal(gf_ynode_get(a, "k"), gf_ynode_get(b, "k"));
    assert_int_equal(gf_ynode_get(b, "l")->n, 2);
    assert_string_equal(gf_ynode_get(b, "l")->items[1]->scalar, "2");
    /* the copy stands where the alias is; its insides where written */
    assert_pos(b, 2, 4);
    assert_pos(gf_ynode_get(b, "k"), 1, 11);
    gf_ynode_free(&root);
    assert_int_equal(d.n, 0);
}

/*
 * Ten aliases per level: level N's node has 1 + 10 * size(N-1) nodes:
 * l0 11, l1 111, l2 1111, l3 11111. Copies so far after l1..l3:
 * 110 + 1110 + 11110 = 12330; on l4 each alias copies 11111, so the
 * 8th (12330 + 8 * 11111 = 101218 > 100000) crosses the limit, at column
 * 10 + 7 * 5 = 45 of line 5.
 */
static void test_alias_bomb(void **state)
{
    (void)state;
    gf_buf b = {0};
    gf_buf_puts(&b, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
    for (int lv = 1; lv <= 8; lv++) {
        gf_buf_printf(&b, "l%d: &l%d [", lv, lv);
        for (int i = 0; i < 10; i++)
            gf_buf_printf(&b, "%s*l%d", i ? ", " : "", lv - 1);
        gf_buf_puts(&b, "]\n");
    }
    gf_buf_append(&b, "", 1);
    expect_error((const char *)b.data,
                 "t.yaml:5:45: aliases expand to more than 100000 nodes; "
                 "refusing (an alias expansion bomb?)");
    gf_buf_free(&b);
}

static void test_duplicate_key(void **state)
{
    (void)state;
    expect_error("a: 1\nb: 2\na: 3\n",
                 "t.yaml:3:1: duplicate key 'a' (first at line 1, column 1)");
    expect_error("s:\n  - {x: 1, y: 2, x: 3}\n",
                 "t.yaml:2:18: duplicate key 'x' (first at line 2, column "
                 "6)");
}

static void test_syntax_errors(void **state)
{
    (void)state;
    /* libyaml's own words, at the position it gives */
    expect_error("a: b\n  c: d\n",
                 "t.yaml:2:4: YAML syntax: mapping values are not allowed in "
                 "this context");
    expect_error("a: [1, 2\n",
                 "t.yaml:2:1: YAML syntax: did not find expected ',' or ']' "
                 "while parsing a flow sequence (line 1, column 4)");
    expect_error("a:\n\t- b\n",
                 "t.yaml:2:1: YAML syntax: found character that cannot start "
                 "any token while scanning for the next token (line 2, "
                 "column 1)");
    expect_error("a: \"x\xff\"\n",
                 "t.yaml: invalid text at byte 5: invalid leading UTF-8 "
                 "octet");
}

static void test_alias_errors(void **state)
{
    (void)state;
    expect_error("a: 1\nb: *nope\n",
                 "t.yaml:2:4: alias '*nope' refers to no anchor defined "
                 "before it (an anchor cannot be used inside itself)");
    expect_error("a: &s [1, *s]\n",
                 "t.yaml:1:11: alias '*s' refers to no anchor defined "
                 "before it (an anchor cannot be used inside itself)");
}

static void test_key_not_scalar(void **state)
{
    (void)state;
    expect_error("? [a]\n: 1\n",
                 "t.yaml:1:3: a mapping key must be a scalar, not a list");
}

static void test_empty_and_scalar(void **state)
{
    (void)state;
    gf_diag d = {0};
    gf_ynode *n = load("# only a comment\n", &d);
    assert_non_null(n);
    assert_int_equal(n->type, GF_Y_SCALAR);
    assert_string_equal(n->scalar, "");
    assert_false(n->quoted);
    gf_ynode_free(&n);
    n = gf_yaml_load_string("", 0, "e.yaml", &d);
    assert_non_null(n);
    assert_string_equal(n->file, "e.yaml");
    gf_ynode_free(&n);
    n = load("'just text'", &d);
    assert_non_null(n);
    assert_true(n->quoted);
    assert_string_equal(n->scalar, "just text");
    gf_ynode_free(&n);
    /* only the first document is read */
    n = load("a: 1\n---\nb: [\n", &d);
    assert_non_null(n);
    assert_non_null(gf_ynode_get(n, "a"));
    gf_ynode_free(&n);
    assert_int_equal(d.n, 0);
    expect_error("a: \"x\\0y\"\n",
                 "t.yaml:1:4: a scalar holds a NUL character");
}

static void test_depth_limit(void **state)
{
    (void)state;
    gf_buf b = {0};
    for (int i = 0; i < 64; i++)
        gf_buf_puts(&b, "[");
    for (int i = 0; i < 64; i++)
        gf_buf_puts(&b, "]");
    gf_buf_append(&b, "", 1);
    gf_diag d = {0};
    gf_ynode *n = load((const char *)b.data, &d);
    assert_non_null(n); /* 64 levels are fine */
    gf_ynode_free(&n);
    gf_buf_clear(&b);
    for (int i = 0; i < 65; i++)
        gf_buf_puts(&b, "[");
    for (int i = 0; i < 65; i++)
        gf_buf_puts(&b, "]");
    gf_buf_append(&b, "", 1);
    expect_error((const char *)b.data,
                 "t.yaml:1:65: nesting deeper than 64 levels");
    gf_buf_free(&b);
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/gf_test_yaml_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *text = "stages:\n  - plugin: p\n";
    assert_int_equal(write(fd, text, strlen(text)), (long)strlen(text));
    close(fd);
    gf_diag d = {0};
    gf_ynode *n = gf_yaml_load_file(path, &d);
    assert_non_null(n);
    assert_string_equal(n->file, path);
    gf_ynode *p = gf_ynode_get(gf_ynode_get(n, "stages")->items[0], "plugin");
    assert_pos(p, 2, 13);
    assert_string_equal(p->file, path);
    gf_ynode_free(&n);
    unlink(path);
    assert_null(gf_yaml_load_file(path, &d));
    assert_int_equal(d.n, 1);
    char want[256];
    snprintf(want, sizeof want, "%s: cannot open: No such file or directory",
             path);
    assert_string_equal(d.msgs[0], want);
    gf_diag_free(&d);
}

/* Fail the Nth allocation for every N: no crash, no leak (ASan). */
static void test_alloc_failures(void **state)
{
    (void)state;
    const char *text = "a: &x {k: v, l: [1, 2]}\nb: *x\nc: [a, b, c]\n";
    for (long n = 0; n < 1000; n++) {
        gf_diag d = {0};
        gf_alloc_fail_after(n);
        gf_ynode *root = load(text, &d);
        gf_alloc_fail_reset();
        if (root) {
            assert_int_equal(gf_ynode_get(root, "b")->n, 2);
            gf_ynode_free(&root);
            gf_diag_free(&d);
            return;
        }
        gf_diag_free(&d);
    }
    fail_msg("never succeeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positions),
        cmocka_unit_test(test_aliases_copied),
        cmocka_unit_test(test_alias_bomb),
        cmocka_unit_test(test_duplicate_key),
        cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_alias_errors),
        cmocka_unit_test(test_key_not_scalar),
        cmocka_unit_test(test_empty_and_scalar),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
