/*
 * gf_metrics - a Prometheus text endpoint for a running pipeline
 * (`gigflow run --metrics-addr HOST:PORT`), served by libmicrohttpd from
 * its own thread:
 *
 *   GET /metrics  text exposition format 0.0.4, rendered on each scrape by
 *                 the caller's render function;
 *   GET /health   200 "ok\n" while the run is healthy, 503 "failing\n"
 *                 once it is not (gf_metrics_set_healthy);
 *   anything else 404 (405 for methods other than GET and HEAD).
 *
 * It binds only the address given (127.0.0.1:9100 listens on loopback
 * only; 0.0.0.0:9100 on every interface), serves a bounded number of
 * connections with a timeout, and never reads a request body.
 *
 * The sample helpers write one sample each and the family's HELP and TYPE
 * lines before its first sample. Prometheus wants a family's samples
 * together: write all samples of one family before the next family.
 */
#ifndef GF_METRICS_H
#define GF_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "gf_buf.h"

typedef struct gf_metrics gf_metrics;

/*
 * Called on each scrape, from the server's thread (one scrape at a time):
 * append the exposition text to b. Read counters with atomics or locks.
 */
typedef void (*gf_metrics_render_fn)(gf_buf *b, void *arg);

/*
 * Listen on host_port ("HOST:PORT", "[IPV6]:PORT"; PORT 0 picks a free
 * one, see gf_metrics_port) and serve until gf_metrics_stop. render may be
 * NULL (an empty /metrics). Returns NULL with *err a gf_malloc'd message
 * ("--metrics-addr X: ...", free with gf_free) when the address is
 * malformed, cannot be resolved or cannot be bound.
 */
gf_metrics *gf_metrics_start(const char *host_port, gf_metrics_render_fn render,
                             void *arg, char **err);
/* The TCP port the endpoint listens on. */
unsigned gf_metrics_port(const gf_metrics *m);
/* Mark the run healthy (the start) or failing: /health answers 200 or 503.
   Any thread. */
void gf_metrics_set_healthy(gf_metrics *m, bool healthy);
/* Stop serving (waits for a scrape in progress), free, *mp = NULL.
   Accepts NULL. */
void gf_metrics_stop(gf_metrics **mp);

/*
 * Append one sample `name{label="value"} v` to b, preceded by
 * "# HELP name help" and "# TYPE name counter|gauge" when b holds no
 * sample of `name` yet. label NULL: no labels. Label values and help are
 * escaped as the format requires. Return 0 or -ENOMEM.
 */
int gf_metrics_counter(gf_buf *b, const char *name, const char *help,
                       const char *label, const char *value, uint64_t v);
int gf_metrics_gauge(gf_buf *b, const char *name, const char *help,
                     const char *label, const char *value, double v);
/*
 * The general form: `type` "counter", "gauge" or "untyped"; labels a
 * NULL-terminated list of name, value pairs (or NULL); the sample value as
 * text ("12", "0.5", "NaN", "+Inf").
 */
int gf_metrics_sample(gf_buf *b, const char *name, const char *type,
                      const char *help, const char *const *labels,
                      const char *v);

#endif
