/*
 * gf_metrics - the Prometheus endpoint (gf_metrics.h) on libmicrohttpd.
 *
 * One internal polling thread answers every request at once from the
 * access handler (no request bodies are read), so a render never runs
 * twice at the same time. The listening socket is made here from the
 * resolved address and handed to libmicrohttpd, so that the address
 * binding, its errors and the port picked for PORT 0 are ours to report;
 * once the daemon runs, it owns the socket and closes it when stopped.
 */
#include "gf_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <microhttpd.h>

#include "gf_alloc.h"

#define MAX_CONNECTIONS 16
#define CONNECTION_TIMEOUT_S 10
#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct gf_metrics {
    struct MHD_Daemon *daemon;
    int fd;
    unsigned port;
    gf_metrics_render_fn render;
    void *arg;
    atomic_bool healthy;
};

/* ------------------------------------------------------------------ */
/* samples                                                             */

/* Append s with \\, \n (and \" when quoted) escaped. */
static int put_escaped(gf_buf *b, const char *s, bool quoted)
{
    for (; *s; s++) {
        int rc;
        if (*s == '\\')
            rc = gf_buf_append(b, "\\\\", 2);
        else if (*s == '\n')
            rc = gf_buf_append(b, "\\n", 2);
        else if (*s == '"' && quoted)
            rc = gf_buf_append(b, "\\\"", 2);
        else
            rc = gf_buf_append(b, s, 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Does b already hold the TYPE line of family `name`? */
static bool has_family(const gf_buf *b, const char *name)
{
    size_t nlen = strlen(name);
    const char *p = (const char *)b->data, *end = p + b->len;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len > 7 + nlen && memcmp(p, "# TYPE ", 7) == 0 &&
            memcmp(p + 7, name, nlen) == 0 && p[7 + nlen] == ' ')
            return true;
        p = nl ? nl + 1 : NULL;
    }
    return false;
}

int gf_metrics_sample(gf_buf *b, const char *name, const char *type,
                      const char *help, const char *const *labels,
                      const char *v)
{
    size_t len0 = b->len;
    if (!has_family(b, name)) {
        if (gf_buf_printf(b, "# HELP %s ", name) != 0 ||
            put_escaped(b, help ? help : "", false) != 0 ||
            gf_buf_printf(b, "\n# TYPE %s %s\n", name, type) != 0)
            goto fail_mem;
    }
    if (gf_buf_puts(b, name) != 0)
        goto fail_mem;
    if (labels && labels[0]) {
        for (size_t i = 0; labels[i] && labels[i + 1]; i += 2)
            if (gf_buf_printf(b, "%s%s=\"", i ? "," : "{", labels[i]) != 0 ||
                put_escaped(b, labels[i + 1], true) != 0 ||
                gf_buf_puts(b, "\"") != 0)
                goto fail_mem;
        if (gf_buf_puts(b, "}") != 0)
            goto fail_mem;
    }
    if (gf_buf_printf(b, " %s\n", v) != 0)
        goto fail_mem;
    return 0;

fail_mem:
    b->len = len0; /* no half sample */
    return -ENOMEM;
}

int gf_metrics_counter(gf_buf *b, const char *name, const char *help,
                       const char *label, const char *value, uint64_t v)
{
    char num[32];
    snprintf(num, sizeof num, "%" PRIu64, v);
    const char *labels[] = {label, value, NULL};
    return gf_metrics_sample(b, name, "counter", help, label ? labels : NULL,
                             num);
}

int gf_metrics_gauge(gf_buf *b, const char *name, const char *help,
                     const char *label, const char *value, double v)
{
    char num[40];
    if (isnan(v))
        snprintf(num, sizeof num, "NaN");
    else if (isinf(v))
        snprintf(num, sizeof num, "%sInf", v > 0 ? "+" : "-");
    else {
        /* the shortest form that reads back as the same double */
        snprintf(num, sizeof num, "%.15g", v);
        if (strtod(num, NULL) != v)
            snprintf(num, sizeof num, "%.17g", v);
    }
    const char *labels[] = {label, value, NULL};
    return gf_metrics_sample(b, name, "gauge", help, label ? labels : NULL,
                             num);
}

/* ------------------------------------------------------------------ */
/* the server                                                          */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status,
                             const void *body, size_t len)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, (void *)(uintptr_t)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    enum MHD_Result ok =
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    if (ok == MHD_YES)
        ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c,
                              const char *url, const char *method,
                              const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)version, (void)upload_data, (void)con_cls;
    gf_metrics *m = cls;
    if (*upload_data_size != 0)
        return MHD_NO; /* a body: not a request of ours */
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        static const char msg[] = "only GET and HEAD\n";
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, msg, sizeof msg - 1);
    }
    if (strcmp(url, "/metrics") == 0) {
        gf_buf b = {0};
        if (m->render)
            m->render(&b, m->arg);
        enum MHD_Result rc =
            reply(c, MHD_HTTP_OK, b.data ? (const void *)b.data : "", b.len);
        gf_buf_free(&b);
        return rc;
    }
    if (strcmp(url, "/health") == 0) {
        if (atomic_load(&m->healthy))
            return reply(c, MHD_HTTP_OK, "ok\n", 3);
        return reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "failing\n", 8);
    }
    static const char nf[] = "not found: try /metrics or /health\n";
    return reply(c, MHD_HTTP_NOT_FOUND, nf, sizeof nf - 1);
}

/*
 * Split "HOST:PORT" / "[V6]:PORT" into host and port (gf_malloc'd).
 * Returns 0 or -1.
 */
static int split_addr(const char *hp, char **host, char **port)
{
    const char *colon;
    *host = *port = NULL;
    if (hp[0] == '[') {
        const char *close = strchr(hp, ']');
        if (!close || close[1] != ':')
            return -1;
        *host = gf_strndup(hp + 1, (size_t)(close - hp - 1));
        colon = close + 1;
    } else {
        colon = strrchr(hp, ':');
        if (!colon || strchr(hp, ':') != colon)
            return -1;
        *host = gf_strndup(hp, (size_t)(colon - hp));
    }
    const char *p = colon + 1;
    if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5 ||
        atoi(p) > 65535 || !*host || !**host) {
        gf_free(*host);
        *host = NULL;
        return -1;
    }
    *port = gf_strdup(p);
    if (!*port) {
        gf_free(*host);
        *host = NULL;
        return -1;
    }
    return 0;
}

/* A listening socket on the first address of host:port that binds. */
static int listen_on(const char *host, const char *port, char **why)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        *why = gf_asprintf("cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd =
            socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (a->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
            listen(fd, MAX_CONNECTIONS) == 0)
            break;
        err = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        *why = gf_asprintf("cannot listen: %s", strerror(err));
    return fd;
}

/* The port a bound socket got. */
static unsigned bound_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

gf_metrics *gf_metrics_start(const char *host_port, gf_metrics_render_fn render,
                             void *arg, char **err)
{
    *err = NULL;
    char *host = NULL, *port = NULL, *why = NULL;
    gf_metrics *m = gf_calloc(1, sizeof *m);
    if (!m)
        goto fail_mem;
    m->fd = -1;
    m->render = render;
    m->arg = arg;
    atomic_init(&m->healthy, true);
    if (split_addr(host_port, &host, &port) != 0) {
        why = gf_strdup("expected HOST:PORT (127.0.0.1:9100, "
                        "[::1]:9100, 0.0.0.0:9100 for every interface)");
        goto fail_start;
    }
    m->fd = listen_on(host, port, &why);
    if (m->fd < 0)
        goto fail_start;
    m->port = bound_port(m->fd);
    m->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle,
                         m, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)m->fd,
                         MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                         MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    if (!m->daemon) {
        why = gf_asprintf("cannot start the HTTP server: %s",
                          strerror(errno ? errno : EIO));
        goto fail_start;
    }
    m->fd = -1; /* libmicrohttpd closes it in MHD_stop_daemon */
    gf_free(host);
    gf_free(port);
    return m;

fail_mem:
    why = NULL;
fail_start:
    *err = gf_asprintf("--metrics-addr %s: %s", host_port,
                       why ? why : "out of memory");
    gf_free(why);
    gf_free(host);
    gf_free(port);
    gf_metrics_stop(&m);
    return NULL;
}

unsigned gf_metrics_port(const gf_metrics *m)
{
    return m->port;
}

void gf_metrics_set_healthy(gf_metrics *m, bool healthy)
{
    atomic_store(&m->healthy, healthy);
}

void gf_metrics_stop(gf_metrics **mp)
{
    if (!mp || !*mp)
        return;
    gf_metrics *m = *mp;
    if (m->daemon)
        MHD_stop_daemon(m->daemon);
    if (m->fd >= 0) /* a start that failed before the daemon took it */
        close(m->fd);
    gf_free(m);
    *mp = NULL;
}
