/*
 * Unit tests of gf_options: every option type into its config field,
 * defaults, paths made absolute, and every error at its exact position.
 * Positions are counted by hand from the texts below.
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
#include "gf_options.h"

typedef struct cfg {
    const char *name;
    int64_t limit;
    double ratio;
    bool strict;
    const char *rules;
    const gf_strlist *fields;
    const gf_strmap *rename;
    const char *out;
    const char *mode;
} cfg;

static const gf_option opts[] = {
    {"name", GF_OPT_STRING, "anon", false, offsetof(cfg, name), "a name"},
    {"limit", GF_OPT_INT, "64", false, offsetof(cfg, limit), "a limit"},
    {"ratio", GF_OPT_FLOAT, "0.25", false, offsetof(cfg, ratio), "a ratio"},
    {"strict", GF_OPT_BOOL, "on", false, offsetof(cfg, strict), "a flag"},
    {"rules", GF_OPT_PATH, NULL, false, offsetof(cfg, rules), "rules file"},
    {"fields", GF_OPT_LIST, "[p, q]", false, offsetof(cfg, fields), "fields"},
    {"rename", GF_OPT_MAP, NULL, false, offsetof(cfg, rename), "renames"},
    {"out", GF_OPT_PATH, "out/x.csv", false, offsetof(cfg, out), "output"},
    {"mode", GF_OPT_STRING, NULL, true, offsetof(cfg, mode),
     "one of fast, slow"},
    {0},
};

static const gf_plugin plug = {
    GF_PLUGIN_HEADER,           .name = "t",
    .kind = GF_KIND_CLASSIFY,   .options = opts,
    .config_size = sizeof(cfg),
};

/* A parse of `text` (a mapping with `plugin:` and `with:`). */
typedef struct fix {
    gf_ynode *root;
    gf_optset *o;
    gf_diag d;
} fix;

static void run(fix *f, const char *text, const char *base, const char *who)
{
    memset(f, 0, sizeof *f);
    f->root = gf_yaml_load_string(text, strlen(text), "t.yaml", &f->d);
    assert_non_null(f->root);
    f->o =
        gf_options_parse_for(&plug, gf_ynode_get(f->root, "with"),
                             gf_ynode_key(f->root, "plugin"), base, who, &f->d);
}

static void done(fix *f)
{
    gf_optset_free(&f->o);
    assert_null(f->o);
    gf_ynode_free(&f->root);
    gf_diag_free(&f->d);
}

/* The parse must fail with exactly these messages, in order. */
static void expect(const char *text, const char *who, size_t n, ...)
{
    fix f;
    run(&f, text, "/base", who);
    assert_null(f.o);
    if (f.d.n != n)
        for (size_t i = 0; i < f.d.n; i++)
            print_error("got: %s\n", f.d.msgs[i]);
    assert_int_equal(f.d.n, n);
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(f.d.msgs[i], va_arg(ap, const char *));
    va_end(ap);
    done(&f);
}

static void test_every_type(void **state)
{
    (void)state;
    fix f;
    run(&f,
        "plugin: t\n"
        "with:\n"
        "  name: 组织\n"
        "  limit: -42\n"
        "  ratio: 2.5e1\n"
        "  strict: No\n"
        "  rules: ./rules/r.yaml\n"
        "  fields: [a, 'b c', 3]\n"
        "  rename: {z: last, a: first}\n"
        "  out: '-'\n"
        "  mode: fast\n",
        "/base/dir", NULL);
    assert_non_null(f.o);
    assert_int_equal(f.d.n, 0);
    const cfg *c = gf_optset_config(f.o);
    assert_string_equal(c->name, "组织");
    assert_int_equal(c->limit, -42);
    assert_true(c->ratio == 25.0);
    assert_false(c->strict);
    assert_string_equal(c->rules, "/base/dir/rules/r.yaml");
    assert_int_equal(c->fields->n, 3);
    assert_string_equal(c->fields->items[0], "a");
    assert_string_equal(c->fields->items[1], "b c");
    assert_string_equal(c->fields->items[2], "3");
    assert_int_equal(c->rename->n, 2);
    assert_string_equal(c->rename->keys[0], "z"); /* file order */
    assert_string_equal(c->rename->values[0], "last");
    assert_string_equal(c->rename->keys[1], "a");
    assert_string_equal(c->rename->values[1], "first");
    assert_string_equal(c->out, "-");
    assert_string_equal(c->mode, "fast");
    /* option_error positions: the key; unknown or absent: `at` */
    const gf_ynode *k = gf_optset_node(f.o, "limit");
    assert_int_equal(k->line, 4);
    assert_int_equal(k->col, 3);
    k = gf_optset_node(f.o, "nope");
    assert_int_equal(k->line, 1);
    assert_int_equal(k->col, 1);
    done(&f);
}

static void test_defaults(void **state)
{
    (void)state;
    fix f;
    run(&f, "plugin: t\nwith: {mode: slow, fields: one, rules: /abs/r}\n", "/b",
        NULL);
    assert_non_null(f.o);
    const cfg *c = gf_optset_config(f.o);
    assert_string_equal(c->name, "anon");
    assert_int_equal(c->limit, 64);
    assert_true(c->ratio == 0.25);
    assert_true(c->strict);
    assert_string_equal(c->rules, "/abs/r"); /* absolute: kept */
    assert_int_equal(c->fields->n, 1);       /* a scalar: a list of one */
    assert_string_equal(c->fields->items[0], "one");
    assert_null(c->rename); /* no default: NULL */
    assert_string_equal(c->out, "/b/out/x.csv");
    done(&f);
    run(&f, "plugin: t\nwith: {mode: slow}\n", "/b/", NULL);
    c = gf_optset_config(f.o);
    assert_int_equal(c->fields->n, 2); /* the default "[p, q]" */
    assert_string_equal(c->fields->items[1], "q");
    assert_string_equal(c->out, "/b/out/x.csv");
    done(&f);
}

static void test_relative_base(void **state)
{
    (void)state;
    char *cwd = getcwd(NULL, 0);
    char want[4096];
    fix f;
    run(&f, "plugin: t\nwith: {mode: m, rules: r.yaml}\n", NULL, NULL);
    snprintf(want, sizeof want, "%s/r.yaml", cwd);
    assert_string_equal(((const cfg *)gf_optset_config(f.o))->rules, want);
    done(&f);
    run(&f, "plugin: t\nwith: {mode: m, rules: r.yaml}\n", "pipes", NULL);
    snprintf(want, sizeof want, "%s/pipes/r.yaml", cwd);
    assert_string_equal(((const cfg *)gf_optset_config(f.o))->rules, want);
    done(&f);
    free(cwd);
}

static void test_unknown_key(void **state)
{
    (void)state;
    expect("plugin: t\nwith:\n  mode: x\n  ruls: r.yaml\n", "stage 'classify'",
           1,
           "t.yaml:4:3: stage 'classify': unknown option 'ruls' (did you "
           "mean 'rules'?)");
    expect("plugin: t\nwith: {mode: x, Limit: 3}\n", NULL, 1,
           "t.yaml:2:17: unknown option 'Limit' (did you mean 'limit'?)");
    expect("plugin: t\nwith: {mode: x, colour: red}\n", NULL, 1,
           "t.yaml:2:17: unknown option 'colour' (plugin 't' knows: name, "
           "limit, ratio, strict, rules, fields, rename, out, mode)");
}

static void test_wrong_types(void **state)
{
    (void)state;
    expect("plugin: t\n"
           "with:\n"
           "  mode: x\n"
           "  limit: abc\n"
           "  ratio: fast\n"
           "  strict: maybe\n"
           "  fields: {a: b}\n"
           "  rename: [a]\n"
           "  name: [a]\n"
           "  out: ''\n",
           NULL, 7,
           "t.yaml:4:10: option 'limit': expected an integer, got 'abc'",
           "t.yaml:5:10: option 'ratio': expected a number, got 'fast'",
           "t.yaml:6:11: option 'strict': expected true or false (or "
           "yes/no, on/off), got 'maybe'",
           "t.yaml:7:11: option 'fields': expected a list of scalars, got a "
           "mapping",
           "t.yaml:8:11: option 'rename': expected a mapping of scalars, got "
           "a list",
           "t.yaml:9:9: option 'name': expected a string, got a list",
           "t.yaml:10:8: option 'out': expected a file name, got ''");
    expect("plugin: t\nwith: {mode: x, limit: 99999999999999999999}\n", NULL, 1,
           "t.yaml:2:24: option 'limit': integer out of range (-2^63 .. "
           "2^63-1), got '99999999999999999999'");
    expect("plugin: t\nwith: {mode: x, limit: 1.5, ratio: nan}\n", NULL, 2,
           "t.yaml:2:24: option 'limit': expected an integer, got '1.5'",
           "t.yaml:2:36: option 'ratio': expected a number, got 'nan'");
    expect("plugin: t\nwith:\n  mode: x\n  fields: [a, [b], {c: d}]\n"
           "  rename: {a: [1]}\n",
           NULL, 3,
           "t.yaml:4:15: option 'fields': list items must be scalars, got a "
           "list",
           "t.yaml:4:20: option 'fields': list items must be scalars, got a "
           "mapping",
           "t.yaml:5:15: option 'rename': the value of 'a' must be a scalar, "
           "got a list");
}

static void test_missing_and_empty(void **state)
{
    (void)state;
    expect("plugin: t\nwith:\n  limit:\n", "stage 's'", 2,
           "t.yaml:3:3: stage 's': option 'limit' has no value (give one, "
           "or remove the key to use the default)",
           "t.yaml:1:1: stage 's': missing required option 'mode' (one of "
           "fast, slow)");
    expect("plugin: t\nwith: [a]\n", NULL, 2,
           "t.yaml:2:7: 'with' must be a mapping of option: value, got a "
           "list",
           "t.yaml:1:1: missing required option 'mode' (one of fast, slow)");
    /* `with:` with nothing after it is no options at all */
    expect("plugin: t\nwith:\n", NULL, 1,
           "t.yaml:1:1: missing required option 'mode' (one of fast, slow)");
}

static void test_no_options_plugin(void **state)
{
    (void)state;
    gf_plugin none = {GF_PLUGIN_HEADER, .name = "none"};
    gf_diag d = {0};
    const char *text = "a: 1\n";
    gf_ynode *root = gf_yaml_load_string(text, strlen(text), "t.yaml", &d);
    assert_null(gf_options_parse(&none, root, root, "/", &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], "t.yaml:1:1: unknown option 'a' (plugin "
                                   "'none' takes no options)");
    gf_diag_free(&d);
    gf_optset *o = gf_options_parse(&none, NULL, root, "/", &d);
    assert_non_null(o);
    assert_int_equal(d.n, 0);
    gf_optset_free(&o);
    gf_ynode_free(&root);
}

static void test_bad_default(void **state)
{
    (void)state;
    static const gf_option bad[] = {
        {"n", GF_OPT_INT, "lots", false, 0, "n"},
        {0},
    };
    gf_plugin p = {GF_PLUGIN_HEADER, .name = "p", .options = bad,
                   .config_size = sizeof(int64_t)};
    gf_diag d = {0};
    const char *text = "plugin: p\n";
    gf_ynode *root = gf_yaml_load_string(text, strlen(text), "t.yaml", &d);
    assert_null(gf_options_parse(&p, NULL, root->keys[0], "/", &d));
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0],
                        "t.yaml:1:1: option 'n': expected an integer, got "
                        "'lots'");
    gf_diag_free(&d);
    gf_ynode_free(&root);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *text = "plugin: t\nwith:\n  mode: x\n  rules: r\n"
                       "  fields: [a, b]\n  rename: {a: b}\n";
    gf_diag d = {0};
    gf_ynode *root = gf_yaml_load_string(text, strlen(text), "t.yaml", &d);
    for (long n = 0; n < 1000; n++) {
        gf_alloc_fail_after(n);
        gf_optset *o =
            gf_options_parse(&plug, gf_ynode_get(root, "with"), root, "/b", &d);
        gf_alloc_fail_reset();
        gf_diag_free(&d);
        if (o) {
            const cfg *c = gf_optset_config(o);
            assert_string_equal(c->rename->values[0], "b");
            gf_optset_free(&o);
            gf_ynode_free(&root);
            return;
        }
    }
    fail_msg("never succeeded");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_type),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_relative_base),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_missing_and_empty),
        cmocka_unit_test(test_no_options_plugin),
        cmocka_unit_test(test_bad_default),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
