/*
 * Unit tests of gf_security: keygen's files (format checked by parsing
 * them here and deriving the public key with libzmq, mode 0600 even under
 * umask 0, no overwrite), the `security` section's errors (positions
 * counted by hand), key file refusals (exact messages, never a key in
 * them), and CURVE over tcp://127.0.0.1 with raw ZeroMQ sockets: an
 * allowed client gets through; a plaintext client, an unknown key and a
 * wrong server key are refused and nothing they send arrives; with the
 * ZAP handler stopped even the allowed key is refused; an oversized frame
 * cuts the peer off. Every wait polls with a deadline.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "gf_alloc.h"
#include "gf_frame.h"
#include "gf_pipeline.h"
#include "gf_security.h"

#define DEADLINE_MS 5000

static char tmp[64];
static char pfile[128];
static char cwd0[4096];

static int setup(void **state)
{
    (void)state;
    strcpy(tmp, "/tmp/gf_security_XXXXXX");
    if (!mkdtemp(tmp) || !getcwd(cwd0, sizeof cwd0))
        return -1;
    snprintf(pfile, sizeof pfile, "%s/p.yaml", tmp);
    setenv("GIGFLOW_PLUGIN_PATH", GF_TEST_PLUGIN_DIR, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    if (chdir(cwd0) != 0)
        return -1;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd);
}

static char *path_in(const char *name)
{
    static char p[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, name);
    return p[k];
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(path_in(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The whole file, malloc'd (NULL if missing). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 65536);
    size_t n = fread(buf, 1, 65535, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The quoted value of `name = "..."` in text, into out[41]; 0 or -1. */
static int key_value(const char *text, const char *name, char out[41])
{
    const char *p = strstr(text, name);
    if (!p)
        return -1;
    p += strlen(name);
    if (strncmp(p, " = \"", 4) != 0)
        return -1;
    p += 4;
    const char *q = strchr(p, '"');
    if (!q || q - p != 40)
        return -1;
    memcpy(out, p, 40);
    out[40] = '\0';
    return 0;
}

static void keygen(const char *dir, const char *name)
{
    char *err = NULL;
    int rc = gf_security_keygen(dir, name, &err);
    if (rc != 0)
        print_error("keygen: %s\n", err);
    assert_int_equal(rc, 0);
    assert_null(err);
}

static gf_pipeline *load_pipeline(const char *file, gf_diag *d)
{
    gf_pipeline *p = gf_pipeline_load(file, NULL, 0, d);
    for (size_t i = 0; !p && i < d->n; i++)
        print_error("%s\n", d->msgs[i]);
    return p;
}

/* ------------------------------------------------------------------ */
/* keygen                                                              */

static void test_keygen_files(void **state)
{
    (void)state;
    mode_t old = umask(0); /* the key must be 0600 even so */
    keygen(path_in("k"), "ingest");
    umask(old);

    struct stat sb;
    assert_int_equal(stat(path_in("k"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700); /* made by keygen */
    assert_int_equal(stat(path_in("k/ingest.key"), &sb), 0);
    assert_true(S_ISREG(sb.st_mode));
    assert_int_equal(sb.st_mode & 07777, 0600);
    assert_int_equal(stat(path_in("k/ingest.pub"), &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0644);

    char *key = slurp(path_in("k/ingest.key"));
    char *pub = slurp(path_in("k/ingest.pub"));
    assert_non_null(key);
    assert_non_null(pub);
    char kpub[41], ksec[41], ppub[41], derived[41], junk[41];
    assert_int_equal(key_value(key, "public-key", kpub), 0);
    assert_int_equal(key_value(key, "secret-key", ksec), 0);
    assert_int_equal(key_value(pub, "public-key", ppub), 0);
    assert_int_equal(key_value(pub, "secret-key", junk), -1);
    assert_non_null(strstr(key, "\nmetadata\n    name = \"ingest\"\ncurve\n"));
    assert_non_null(strstr(pub, "\nmetadata\n    name = \"ingest\"\ncurve\n"));
    /* the pair belongs together: libzmq derives the same public key */
    assert_int_equal(zmq_curve_public(derived, ksec), 0);
    assert_string_equal(derived, kpub);
    assert_string_equal(ppub, kpub);
    uint8_t bin[32];
    assert_non_null(zmq_z85_decode(bin, ksec));

    /* a second keygen refuses and leaves both files as they were */
    char *err = NULL;
    assert_int_equal(gf_security_keygen(path_in("k"), "ingest", &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "refusing to overwrite"));
    assert_null(strstr(err, ksec));
    gf_free(err);
    char *key2 = slurp(path_in("k/ingest.key"));
    char *pub2 = slurp(path_in("k/ingest.pub"));
    assert_string_equal(key2, key);
    assert_string_equal(pub2, pub);

    /* only the .pub left (the key was moved away): still refused */
    assert_int_equal(unlink(path_in("k/ingest.key")), 0);
    assert_int_equal(gf_security_keygen(path_in("k"), "ingest", &err), -1);
    char want[1024];
    snprintf(want, sizeof want,
             "%s/k/ingest.pub: exists; refusing to overwrite keys (to replace "
             "them, remove %s/k/ingest.key and %s/k/ingest.pub, then hand out "
             "the new ingest.pub)",
             tmp, tmp, tmp);
    assert_string_equal(err, want);
    gf_free(err);

    /* not a stage name */
    assert_int_equal(gf_security_keygen(path_in("k"), "a/b", &err), -1);
    assert_string_equal(err, "'a/b' is not a stage name (letters, digits, '_' "
                             "and '-' only)");
    gf_free(err);
    free(key);
    free(pub);
    free(key2);
    free(pub2);
}

/* ------------------------------------------------------------------ */
/* the security section                                                */

static const char *const stages_yaml = "stages:\n"
                                       "  - name: ingest\n"
                                       "    plugin: t_ok_ingest\n"
                                       "  - name: classify\n"
                                       "    plugin: t_ok\n"
                                       "    from: ingest\n"
                                       "    listen: tcp://127.0.0.1:7001\n"
                                       "  - name: export\n"
                                       "    plugin: t_ok_export\n"
                                       "    from: classify\n"
                                       "    with: {path: out.csv}\n";

/* `want` with @P and @D replaced; static storage, one at a time. */
static const char *expand(const char *want)
{
    static char out[4096];
    size_t o = 0;
    for (const char *s = want; *s && o < sizeof out - 200; s++) {
        if (s[0] == '@' && (s[1] == 'P' || s[1] == 'D')) {
            o += (size_t)snprintf(out + o, sizeof out - o, "%s",
                                  s[1] == 'P' ? pfile : tmp);
            s++;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
    return out;
}

/* Load "p.yaml" = head + stages_yaml; must fail with exactly these. */
static void expect_errors(const char *head, size_t n, ...)
{
    char text[4096];
    snprintf(text, sizeof text, "%s%s", head, stages_yaml);
    write_file("p.yaml", text);
    gf_diag d = {0};
    gf_pipeline *p = gf_pipeline_load(pfile, NULL, 0, &d);
    assert_null(p);
    bool same = d.n == n;
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++) {
        const char *want = expand(va_arg(ap, const char *));
        if (i >= d.n || strcmp(d.msgs[i], want) != 0) {
            same = false;
            print_error("want: %s\n", want);
        }
    }
    va_end(ap);
    if (!same)
        for (size_t i = 0; i < d.n; i++)
            print_error("got:  %s\n", d.msgs[i]);
    assert_true(same);
    gf_diag_free(&d);
}

static void test_section_errors(void **state)
{
    (void)state;
    /* @P stands for the pipeline file, @D for its directory */
    expect_errors("security: keys/\n", 1,
                  "@P:1:11: 'security' must be a mapping with 'keys: DIR' "
                  "(and optionally 'allow: [FILE.pub, ...]'), got a scalar");
    expect_errors("security:\n"
                  "  keys: nokeys\n"
                  "  allwo: [a.pub]\n",
                  2,
                  "@P:3:3: security: unknown key 'allwo' (did you mean "
                  "'allow'?)",
                  "@P:2:9: security: 'keys' directory @D/nokeys: No such "
                  "file or directory (make the keys with `gigflow keygen "
                  "STAGE --dir DIR` for each stage)");
    expect_errors("security:\n"
                  "  allow: []\n",
                  2,
                  "@P:2:3: security: no 'keys' directory; name the "
                  "directory with each stage's STAGE.key and STAGE.pub (made "
                  "by `gigflow keygen STAGE --dir DIR`)",
                  "@P:2:10: security: 'allow' is empty, which would refuse "
                  "every client; leave it out to accept the stages that feed "
                  "each listening stage");
    write_file("afile", "x");
    expect_errors("security:\n"
                  "  keys: afile\n"
                  "  allow: keys/a.pub\n",
                  2, "@P:2:9: security: 'keys' @D/afile is not a directory",
                  "@P:3:10: security: 'allow' must be a list of public key "
                  "files ([keys/a.pub, ...]), got a scalar");
    assert_int_equal(mkdir(path_in("keys"), 0700), 0);
    expect_errors("security:\n"
                  "  keys: keys\n"
                  "  allow: [keys/a.pub, keys/b.key, [x]]\n",
                  2,
                  "@P:3:23: security: 'keys/b.key' is a secret key file; "
                  "'allow' lists public keys (.pub)",
                  "@P:3:35: security: 'allow' must be a scalar, got a list");
}

/* The keys make_secure_pipeline made: ingest, classify, export. */
static char made_pub[3][41], made_sec[3][41];

/* Write p.yaml with `security: {keys: keys/}` and keys for every stage. */
static void make_secure_pipeline(const char *extra)
{
    char text[4096];
    snprintf(text, sizeof text, "security:\n  keys: keys/\n%s%s",
             extra ? extra : "", stages_yaml);
    write_file("p.yaml", text);
    static const char *const names[] = {"ingest", "classify", "export"};
    for (size_t k = 0; k < 3; k++) {
        char file[64];
        keygen(path_in("keys"), names[k]);
        snprintf(file, sizeof file, "keys/%s.key", names[k]);
        char *text = slurp(path_in(file));
        assert_non_null(text);
        assert_int_equal(key_value(text, "public-key", made_pub[k]), 0);
        assert_int_equal(key_value(text, "secret-key", made_sec[k]), 0);
        free(text);
    }
}

/* No diagnostic may contain any key made by make_secure_pipeline. */
static void assert_no_keys_in(const gf_diag *d)
{
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < d->n; i++) {
            assert_null(strstr(d->msgs[i], made_pub[k]));
            assert_null(strstr(d->msgs[i], made_sec[k]));
        }
}

static void expect_load_error(gf_pipeline *p, const char *stage,
                              const char *want)
{
    gf_diag d = {0};
    gf_security *s = (gf_security *)1;
    assert_int_equal(gf_security_load(p, stage, &s, &d), -1);
    assert_null(s);
    if (d.n != 1 || strcmp(d.msgs[0], want) != 0) {
        for (size_t i = 0; i < d.n; i++)
            print_error("got:  %s\n", d.msgs[i]);
        print_error("want: %s\n", want);
    }
    assert_int_equal(d.n, 1);
    assert_string_equal(d.msgs[0], want);
    assert_no_keys_in(&d);
    gf_diag_free(&d);
}

static void test_key_files(void **state)
{
    (void)state;
    make_secure_pipeline(NULL);
    /* from the pipeline's directory, names read as in the brief */
    assert_int_equal(chdir(tmp), 0);
    gf_diag d = {0};
    gf_pipeline *p = load_pipeline("p.yaml", &d);
    assert_non_null(p);
    assert_non_null(p->security);

    gf_security *s = NULL;
    assert_int_equal(gf_security_load(p, "classify", &s, &d), 0);
    assert_non_null(s);
    assert_int_equal(d.n, 0);
    assert_int_equal(gf_security_refused(s), 0);
    gf_security_free(&s);
    assert_null(s);
    gf_security_free(&s); /* NULL is fine */

    assert_int_equal(chmod("keys/classify.key", 0644), 0);
    expect_load_error(p, "classify",
                      "keys/classify.key: permissions 0644 are too open; "
                      "chmod 600 keys/classify.key");
    assert_int_equal(chmod("keys/classify.key", 0640), 0);
    expect_load_error(p, "classify",
                      "keys/classify.key: permissions 0640 are too open; "
                      "chmod 600 keys/classify.key");
    assert_int_equal(chmod("keys/classify.key", 0400), 0); /* fine */
    assert_int_equal(gf_security_load(p, "classify", &s, &d), 0);
    gf_security_free(&s);

    /* the loading stage's own key missing */
    assert_int_equal(rename("keys/export.key", "export.key.away"), 0);
    expect_load_error(p, "export",
                      "keys/export.key: cannot open: No such file or "
                      "directory (make a key pair with `gigflow keygen export "
                      "--dir keys` on this machine)");
    assert_int_equal(rename("export.key.away", "keys/export.key"), 0);

    /* a directory where the key should be */
    assert_int_equal(rename("keys/export.key", "export.key.away"), 0);
    assert_int_equal(mkdir("keys/export.key", 0700), 0);
    expect_load_error(p, "export",
                      "keys/export.key: not a regular file (make a key pair "
                      "with `gigflow keygen export --dir keys` on this "
                      "machine)");
    assert_int_equal(rmdir("keys/export.key"), 0);
    assert_int_equal(rename("export.key.away", "keys/export.key"), 0);

    /* a listening neighbour's public key missing: export connects to it */
    assert_int_equal(rename("keys/classify.pub", "classify.pub.away"), 0);
    expect_load_error(p, "export",
                      "keys/classify.pub: cannot open: No such file or "
                      "directory (copy it from the machine where `gigflow "
                      "keygen classify --dir keys` ran)");
    assert_int_equal(rename("classify.pub.away", "keys/classify.pub"), 0);

    /* the listening stage's inputs: ingest.pub is its allow-list */
    assert_int_equal(rename("keys/ingest.pub", "ingest.pub.away"), 0);
    expect_load_error(p, "classify",
                      "keys/ingest.pub: cannot open: No such file or "
                      "directory (stage 'classify' listens and accepts the "
                      "keys of the stages that feed it; copy the file from "
                      "the machine where `gigflow keygen ingest --dir keys` "
                      "ran)");
    /* ingest itself does not need its own .pub */
    assert_int_equal(gf_security_load(p, "ingest", &s, &d), 0);
    gf_security_free(&s);
    assert_int_equal(rename("ingest.pub.away", "keys/ingest.pub"), 0);

    /* a .pub holding a secret key */
    char *key = slurp("keys/ingest.key");
    write_file("keys/classify.pub", key);
    expect_load_error(p, "export",
                      "keys/classify.pub: holds a secret key; a .pub file "
                      "must hold the public key only (share STAGE.pub, never "
                      "STAGE.key)");
    free(key);

    /* a secret key with someone else's public key */
    char *c = slurp("keys/classify.key");
    char *e = slurp("keys/export.key");
    char cpub[41], epub[41];
    assert_int_equal(key_value(c, "public-key", cpub), 0);
    assert_int_equal(key_value(e, "public-key", epub), 0);
    memcpy(strstr(c, cpub), epub, 40);
    assert_int_equal(unlink("keys/classify.key"), 0);
    write_file("keys/classify.key", c);
    assert_int_equal(chmod("keys/classify.key", 0600), 0);
    expect_load_error(p, "classify",
                      "keys/classify.key: public-key does not belong to "
                      "secret-key (the file was edited or mixed up) (make a "
                      "key pair with `gigflow keygen classify --dir keys` on "
                      "this machine)");
    /* a broken secret key */
    char *sk = strstr(c, "secret-key = \"") + 14;
    sk[3] = '"';
    write_file("keys/classify.key", c);
    expect_load_error(p, "classify",
                      "keys/classify.key: secret-key is not a 40-character "
                      "Z85 key (make a key pair with `gigflow keygen "
                      "classify --dir keys` on this machine)");
    free(c);
    free(e);

    expect_load_error(p, "nosuch", "p.yaml: no stage 'nosuch' in the pipeline");
    gf_pipeline_free(&p);
    gf_diag_free(&d);
}

/* Names are spelled from the working directory: pipelines in a subfolder. */
static void test_key_names_from_cwd(void **state)
{
    (void)state;
    make_secure_pipeline(NULL);
    assert_int_equal(chmod(path_in("keys/ingest.key"), 0604), 0);
    char sub[128];
    snprintf(sub, sizeof sub, "%s/..", tmp);
    assert_int_equal(chdir(sub), 0);
    const char *base = strrchr(tmp, '/') + 1;
    char rel[128], want[512];
    snprintf(rel, sizeof rel, "%s/p.yaml", base);
    gf_diag d = {0};
    gf_pipeline *p = load_pipeline(rel, &d);
    assert_non_null(p);
    snprintf(want, sizeof want,
             "%s/keys/ingest.key: permissions 0604 are too open; chmod 600 "
             "%s/keys/ingest.key",
             base, base);
    expect_load_error(p, "ingest", want);
    gf_pipeline_free(&p);
}

static void test_no_security(void **state)
{
    (void)state;
    write_file("p.yaml", stages_yaml);
    gf_diag d = {0};
    gf_pipeline *p = load_pipeline(pfile, &d);
    assert_non_null(p);
    assert_null(p->security);
    gf_security *s = (gf_security *)1;
    assert_int_equal(gf_security_load(p, "classify", &s, &d), 0);
    assert_null(s);
    assert_int_equal(d.n, 0);
    gf_pipeline_free(&p);
}

/* Every allocation failing in turn: -1 with a message, or success. */
static void test_load_alloc_failures(void **state)
{
    (void)state;
    make_secure_pipeline(NULL);
    gf_diag d = {0};
    gf_pipeline *p = load_pipeline(pfile, &d);
    assert_non_null(p);
    bool done = false;
    for (long n = 0; !done && n < 1000; n++) {
        gf_security *s = NULL;
        gf_alloc_fail_after(n);
        int rc = gf_security_load(p, "classify", &s, &d);
        gf_alloc_fail_reset();
        if (rc == 0) {
            assert_non_null(s);
            done = true;
        } else {
            assert_null(s);
        }
        gf_security_free(&s);
        gf_diag_free(&d);
    }
    assert_true(done);
    gf_pipeline_free(&p);
}

/* ------------------------------------------------------------------ */
/* CURVE over tcp://127.0.0.1                                          */

typedef struct net {
    gf_pipeline *p;
    void *sctx, *cctx; /* server side (with the ZAP handler), clients */
    gf_security *srv, *cli;
    void *pull, *mon;
    char endpoint[256];
    bool handshake_ok; /* a HANDSHAKE_SUCCEEDED event was seen */
    size_t nclients;
    void *clients[8]; /* closed by net_teardown, also after a failure */
} net;

static net N;

static void net_setup(bool secure)
{
    memset(&N, 0, sizeof N);
    make_secure_pipeline(NULL);
    gf_diag d = {0};
    N.p = load_pipeline(pfile, &d);
    assert_non_null(N.p);
    assert_int_equal(gf_security_load(N.p, "classify", &N.srv, &d), 0);
    assert_int_equal(gf_security_load(N.p, "ingest", &N.cli, &d), 0);
    N.sctx = zmq_ctx_new();
    N.cctx = zmq_ctx_new();
    assert_non_null(N.sctx);
    assert_non_null(N.cctx);
    N.pull = zmq_socket(N.sctx, ZMQ_PULL);
    int zero = 0;
    zmq_setsockopt(N.pull, ZMQ_LINGER, &zero, sizeof zero);
    if (secure) {
        assert_int_equal(gf_security_start(N.srv, N.sctx), 0);
        assert_int_equal(gf_security_server(N.srv, N.pull, "classify"), 0);
    } else {
        assert_int_equal(gf_security_harden(N.pull), 0);
    }
    assert_int_equal(zmq_bind(N.pull, "tcp://127.0.0.1:*"), 0);
    size_t len = sizeof N.endpoint;
    assert_int_equal(
        zmq_getsockopt(N.pull, ZMQ_LAST_ENDPOINT, N.endpoint, &len), 0);
    assert_int_equal(
        zmq_socket_monitor(N.pull, "inproc://test-monitor", ZMQ_EVENT_ALL), 0);
    N.mon = zmq_socket(N.sctx, ZMQ_PAIR);
    assert_int_equal(zmq_connect(N.mon, "inproc://test-monitor"), 0);
}

static int net_teardown(void **state)
{
    /* stop the monitor while its reader is open: its last event would
       block a send to a peerless PAIR */
    zmq_socket_monitor(N.pull, NULL, 0);
    zmq_close(N.mon);
    zmq_close(N.pull);
    for (size_t i = 0; i < N.nclients; i++)
        zmq_close(N.clients[i]);
    /* the ZAP thread (if still running) ends with its context */
    zmq_ctx_term(N.cctx);
    zmq_ctx_term(N.sctx);
    gf_security_free(&N.srv);
    gf_security_free(&N.cli);
    gf_pipeline_free(&N.p);
    return teardown(state);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait up to `ms` for a monitor event in `mask`; returns it, or 0. */
static unsigned wait_event(unsigned mask, long ms)
{
    long long end = now_ms() + ms;
    for (;;) {
        long left = (long)(end - now_ms());
        if (left <= 0)
            return 0;
        zmq_pollitem_t it = {N.mon, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&it, 1, left) <= 0)
            continue;
        zmq_msg_t ev, addr;
        zmq_msg_init(&ev);
        zmq_msg_init(&addr);
        assert_true(zmq_msg_recv(&ev, N.mon, 0) >= 0);
        assert_true(zmq_msg_recv(&addr, N.mon, 0) >= 0);
        uint16_t e;
        memcpy(&e, zmq_msg_data(&ev), 2);
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
        if (e == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            N.handshake_ok = true;
        if (e & mask)
            return e;
    }
}

/*
 * Receive one message on the server within `ms`: its text in buf (and the
 * ZAP User-Id in user, when given). Returns its size, or -1 on timeout.
 */
static int recv_within(long ms, char *buf, size_t cap, char *user)
{
    zmq_pollitem_t it = {N.pull, 0, ZMQ_POLLIN, 0};
    long long end = now_ms() + ms;
    long left;
    while ((left = (long)(end - now_ms())) > 0) {
        if (zmq_poll(&it, 1, left) <= 0)
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        int n = zmq_msg_recv(&m, N.pull, ZMQ_DONTWAIT);
        if (n < 0) {
            zmq_msg_close(&m);
            continue;
        }
        size_t c = (size_t)n < cap - 1 ? (size_t)n : cap - 1;
        memcpy(buf, zmq_msg_data(&m), c);
        buf[c] = '\0';
        if (user) {
            const char *u = zmq_msg_gets(&m, "User-Id");
            snprintf(user, 64, "%s", u ? u : "");
        }
        zmq_msg_close(&m);
        return n;
    }
    return -1;
}

static void *push_socket(void)
{
    void *s = zmq_socket(N.cctx, ZMQ_PUSH);
    assert_non_null(s);
    int zero = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    assert_true(N.nclients < 8);
    N.clients[N.nclients++] = s;
    return s;
}

static void send_text(void *s, const char *text)
{
    assert_int_equal(zmq_send(s, text, strlen(text), ZMQ_DONTWAIT),
                     (int)strlen(text));
}

/* The Z85 public key in a key file of the test's keys directory. */
static void pub_of(const char *name, char out[41])
{
    char file[64];
    snprintf(file, sizeof file, "keys/%s.pub", name);
    char *text = slurp(path_in(file));
    assert_non_null(text);
    assert_int_equal(key_value(text, "public-key", out), 0);
    free(text);
}

/* After a refusal: the allowed client's message is the first to arrive. */
static void allowed_still_first(void)
{
    void *ok = push_socket();
    assert_int_equal(gf_security_client(N.cli, ok, "classify"), 0);
    assert_int_equal(zmq_connect(ok, N.endpoint), 0);
    send_text(ok, "allowed");
    char buf[64], user[64];
    assert_int_equal(recv_within(DEADLINE_MS, buf, sizeof buf, user), 7);
    assert_string_equal(buf, "allowed");
    assert_string_equal(user, "ingest");
    assert_int_equal(recv_within(200, buf, sizeof buf, NULL), -1);
}

static void test_curve_allowed(void **state)
{
    (void)state;
    net_setup(true);
    void *c = push_socket();
    assert_int_equal(gf_security_client(N.cli, c, "classify"), 0);
    assert_int_equal(zmq_connect(c, N.endpoint), 0);
    send_text(c, "hello");
    send_text(c, "world");
    char buf[64], user[64];
    assert_int_equal(recv_within(DEADLINE_MS, buf, sizeof buf, user), 5);
    assert_string_equal(buf, "hello");
    assert_string_equal(user, "ingest"); /* the ZAP handler's User-Id */
    assert_int_equal(recv_within(DEADLINE_MS, buf, sizeof buf, NULL), 5);
    assert_string_equal(buf, "world");
    assert_int_equal(gf_security_refused(N.srv), 0);
    /* the limit is set on server and client sockets alike */
    int64_t max = 0;
    size_t len = sizeof max;
    assert_int_equal(zmq_getsockopt(N.pull, ZMQ_MAXMSGSIZE, &max, &len), 0);
    assert_int_equal(max, GF_FRAME_HDR_SIZE + GF_FRAME_MAX_PAYLOAD);
    assert_int_equal(zmq_getsockopt(c, ZMQ_MAXMSGSIZE, &max, &len), 0);
    assert_int_equal(max, GF_FRAME_HDR_SIZE + GF_FRAME_MAX_PAYLOAD);

    /* a server only for stages of the pipeline; a client only of stages
       whose .pub was read */
    void *x = push_socket();
    errno = 0;
    assert_int_equal(gf_security_server(N.srv, x, "nosuch"), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(gf_security_client(N.cli, x, "nosuch"), -1);
    assert_int_equal(errno, ENOENT);

    /* one handler per context */
    gf_diag d = {0};
    gf_security *again = NULL;
    assert_int_equal(gf_security_load(N.p, "classify", &again, &d), 0);
    errno = 0;
    assert_int_equal(gf_security_start(again, N.sctx), -1);
    assert_int_equal(errno, EADDRINUSE);
    gf_security_free(&again);
}

static void test_refuse_plaintext(void **state)
{
    (void)state;
    net_setup(true);
    void *c = push_socket(); /* the NULL mechanism */
    assert_int_equal(zmq_connect(c, N.endpoint), 0);
    send_text(c, "plaintext");
    /* the server sees the mechanism mismatch, or the client saw it first
       and hung up; either way no handshake succeeds */
    assert_int_not_equal(
        wait_event(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_DISCONNECTED,
                   DEADLINE_MS),
        0);
    assert_false(N.handshake_ok);
    char buf[64];
    assert_int_equal(recv_within(200, buf, sizeof buf, NULL), -1);
    assert_int_equal(gf_security_refused(N.srv), 0); /* ZAP never saw it */
    allowed_still_first();
}

static void test_refuse_unknown_key(void **state)
{
    (void)state;
    net_setup(true);
    char spub[41], rpub[41], rsec[41];
    pub_of("classify", spub);
    assert_int_equal(zmq_curve_keypair(rpub, rsec), 0);
    void *c = push_socket();
    assert_int_equal(zmq_setsockopt(c, ZMQ_CURVE_SERVERKEY, spub, 41), 0);
    assert_int_equal(zmq_setsockopt(c, ZMQ_CURVE_PUBLICKEY, rpub, 41), 0);
    assert_int_equal(zmq_setsockopt(c, ZMQ_CURVE_SECRETKEY, rsec, 41), 0);
    assert_int_equal(zmq_connect(c, N.endpoint), 0);
    send_text(c, "rogue");
    assert_int_not_equal(
        wait_event(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, DEADLINE_MS), 0);
    assert_true(gf_security_refused(N.srv) > 0);
    assert_false(N.handshake_ok);
    gf_buf b = {0};
    gf_security_metrics(N.srv, &b);
    char want[256];
    snprintf(want, sizeof want, "gigflow_handshakes_refused_total %llu\n",
             (unsigned long long)gf_security_refused(N.srv));
    assert_int_equal(gf_buf_append(&b, "", 1), 0);
    assert_non_null(strstr((const char *)b.data, want));
    assert_non_null(
        strstr((const char *)b.data,
               "# TYPE gigflow_handshakes_refused_total counter\n"));
    gf_buf_free(&b);
    char buf[64];
    assert_int_equal(recv_within(200, buf, sizeof buf, NULL), -1);
    allowed_still_first();

    /* export's key is known, but export does not feed classify */
    gf_diag d = {0};
    gf_security *ex = NULL;
    assert_int_equal(gf_security_load(N.p, "export", &ex, &d), 0);
    uint64_t before = gf_security_refused(N.srv);
    c = push_socket();
    assert_int_equal(gf_security_client(ex, c, "classify"), 0);
    assert_int_equal(zmq_connect(c, N.endpoint), 0);
    send_text(c, "export");
    assert_int_not_equal(
        wait_event(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, DEADLINE_MS), 0);
    assert_true(gf_security_refused(N.srv) > before);
    assert_int_equal(recv_within(200, buf, sizeof buf, NULL), -1);
    gf_security_free(&ex);
}

static void test_refuse_wrong_server_key(void **state)
{
    (void)state;
    net_setup(true);
    char ipub[41], fake_pub[41], fake_sec[41];
    pub_of("ingest", ipub);
    assert_int_equal(zmq_curve_keypair(fake_pub, fake_sec), 0);
    char *text = slurp(path_in("keys/ingest.key"));
    char isec[41];
    assert_int_equal(key_value(text, "secret-key", isec), 0);
    free(text);
    void *c = push_socket(); /* ingest's own keys, someone else's server */
    assert_int_equal(zmq_setsockopt(c, ZMQ_CURVE_SERVERKEY, fake_pub, 41), 0);
    assert_int_equal(zmq_setsockopt(c, ZMQ_CURVE_PUBLICKEY, ipub, 41), 0);
    assert_int_equal(zmq_setsockopt(c, ZMQ_CURVE_SECRETKEY, isec, 41), 0);
    assert_int_equal(zmq_connect(c, N.endpoint), 0);
    send_text(c, "misdirected");
    assert_int_not_equal(
        wait_event(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL, DEADLINE_MS), 0);
    assert_false(N.handshake_ok);
    char buf[64];
    assert_int_equal(recv_within(200, buf, sizeof buf, NULL), -1);
    allowed_still_first();
}

static void test_refuse_without_handler(void **state)
{
    (void)state;
    net_setup(true);
    gf_security_free(&N.srv); /* stops the ZAP handler */
    void *c = push_socket();  /* even the allowed key is refused now */
    assert_int_equal(gf_security_client(N.cli, c, "classify"), 0);
    assert_int_equal(zmq_connect(c, N.endpoint), 0);
    send_text(c, "unchecked");
    assert_int_not_equal(
        wait_event(ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL, DEADLINE_MS), 0);
    assert_false(N.handshake_ok);
    char buf[64];
    assert_int_equal(recv_within(200, buf, sizeof buf, NULL), -1);
}

static void test_oversized_frame(void **state)
{
    (void)state;
    net_setup(false); /* plaintext, hardened */
    void *c = push_socket();
    assert_int_equal(zmq_connect(c, N.endpoint), 0);
    assert_int_not_equal(wait_event(ZMQ_EVENT_HANDSHAKE_SUCCEEDED, DEADLINE_MS),
                         0);
    size_t big = (size_t)GF_FRAME_HDR_SIZE + GF_FRAME_MAX_PAYLOAD + 1;
    zmq_msg_t m;
    assert_int_equal(zmq_msg_init_size(&m, big), 0);
    memset(zmq_msg_data(&m), 'x', big);
    assert_int_equal(zmq_msg_send(&m, c, 0), (int)big);
    assert_int_not_equal(wait_event(ZMQ_EVENT_DISCONNECTED, DEADLINE_MS), 0);
    char buf[64];
    assert_int_equal(recv_within(200, buf, sizeof buf, NULL), -1);
    /* the client reconnects; small messages go through */
    int ms = DEADLINE_MS;
    zmq_setsockopt(c, ZMQ_SNDTIMEO, &ms, sizeof ms);
    assert_int_equal(zmq_send(c, "small", 5, 0), 5);
    assert_int_equal(recv_within(DEADLINE_MS, buf, sizeof buf, NULL), 5);
    assert_string_equal(buf, "small");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_keygen_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_section_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_names_from_cwd, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_no_security, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_alloc_failures, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_curve_allowed, setup,
                                        net_teardown),
        cmocka_unit_test_setup_teardown(test_refuse_plaintext, setup,
                                        net_teardown),
        cmocka_unit_test_setup_teardown(test_refuse_unknown_key, setup,
                                        net_teardown),
        cmocka_unit_test_setup_teardown(test_refuse_wrong_server_key, setup,
                                        net_teardown),
        cmocka_unit_test_setup_teardown(test_refuse_without_handler, setup,
                                        net_teardown),
        cmocka_unit_test_setup_teardown(test_oversized_frame, setup,
                                        net_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
