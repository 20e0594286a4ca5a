/*
 * gf_dist - the instances of a distributed run (see gf_dist.h): where they
 * run and their sockets. Placement (--stage), the per-process file names,
 * the refusal of graphs whose batches would reach a link along two paths,
 * the set-up of each local instance's links, inproc edges and CURVE keys,
 * and their teardown. The instance's thread loop is in gf_dist_run.c, the
 * keeper in gf_dist_keeper.c; what they share is in gf_dist_int.h.
 */
#include "gf_dist.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gf_alloc.h"
#include "gf_dedup.h"
#include "gf_dist_int.h"
#include "gf_link.h"
#include "gf_security.h"

static char *errf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *errf(const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return gf_strdup(buf);
}

/* ---------------------------------------------------------- placement -- */

int gf_dist_place(const gf_pipeline *p, const char *const *specs, size_t n,
                  const size_t *first, unsigned char *local, char **err)
{
    for (size_t k = 0; k < n; k++) {
        const char *sp = specs[k];
        const char *hash = strrchr(sp, '#');
        size_t len = hash ? (size_t)(hash - sp) : strlen(sp);
        char *name = gf_strndup(sp, len);
        if (!name) {
            *err = errf("out of memory");
            return -1;
        }
        long s = gf_pipeline_find(p, name);
        gf_free(name);
        if (s < 0) {
            *err = errf("--stage %s: no stage named '%.*s' in %s", sp, (int)len,
                        sp, p->file);
            return -1;
        }
        const gf_stage_def *d = &p->stages[s];
        unsigned long inst = 0;
        if (hash) {
            char *end;
            errno = 0;
            inst = strtoul(hash + 1, &end, 10);
            if (!hash[1] || *end || errno || inst >= d->workers) {
                *err = errf("--stage %s: stage %s has %u worker%s: the "
                            "instance is 0 to %u",
                            sp, d->name, d->workers, d->workers == 1 ? "" : "s",
                            d->workers - 1);
                return -1;
            }
        } else if (d->workers > 1) {
            *err = errf("--stage %s: stage %s has %u workers: name one "
                        "instance, --stage %s#I (I from 0 to %u), one "
                        "--stage per instance this process runs",
                        sp, d->name, d->workers, d->name, d->workers - 1);
            return -1;
        }
        local[first[s] + inst] = 1;
    }
    return 0;
}

char *gf_dist_own_path(const char *path, const char *spec)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - path) : strlen(path);
    char *tag = gf_strdup(spec);
    if (!tag)
        return NULL;
    for (char *c = tag; *c; c++)
        if (*c == '#' || *c == '/')
            *c = '.'; /* never in a stage name: sector#1 != stage sector-1 */
    char *out = gf_asprintf("%.*s.%s%s", (int)stem, path, tag, path + stem);
    gf_free(tag);
    return out;
}

/* ------------------------------------------------------------- set-up -- */

static bool is_stateless(const gf_stage_def *s)
{
    return s->lib->desc->kind == GF_KIND_CLASSIFY;
}

static int add_origins(const gf_pipeline *p, const size_t *first, size_t s,
                       uint64_t **ids, size_t *n, size_t depth);

/* Add the origins whose batches reach a consumer through its input stage
   u to ids[] (no repeats). */
static int origins_via(const gf_pipeline *p, const size_t *first, size_t u,
                       uint64_t **ids, size_t *n, size_t depth)
{
    const gf_stage_def *ud = &p->stages[u];
    if (is_stateless(ud) && is_link(ud))
        return add_origins(p, first, u, ids, n, depth + 1);
    for (unsigned w = 0; w < ud->workers; w++) {
        uint64_t id = first[u] + w + 1;
        bool seen = false;
        for (size_t i = 0; i < *n; i++)
            seen |= (*ids)[i] == id;
        if (seen)
            continue;
        uint64_t *g = gf_realloc(*ids, (*n + 1) * sizeof *g);
        if (!g)
            return -1;
        *ids = g;
        g[(*n)++] = id;
    }
    return 0;
}

/* Add the origins of stage s's input to ids[] (no repeats). */
static int add_origins(const gf_pipeline *p, const size_t *first, size_t s,
                       uint64_t **ids, size_t *n, size_t depth)
{
    if (depth > p->nstages)
        return 0; /* the graph is acyclic: cannot happen */
    const gf_stage_def *d = &p->stages[s];
    for (size_t f = 0; f < d->nfrom; f++)
        if (origins_via(p, first, d->from[f], ids, n, depth) < 0)
            return -1;
    return 0;
}

void gf_dist_link_log(void *arg, const char *line)
{
    gf_inst *in = arg;
    if (in->ctx.instances > 1) {
        char buf[1024];
        snprintf(buf, sizeof buf, "instance %u: %s", in->ctx.instance, line);
        in->rt.ops->log(&in->ctx, GF_LOG_INFO, buf);
        return;
    }
    in->rt.ops->log(&in->ctx, GF_LOG_INFO, line);
}

static bool all_local(const gf_inst *inst, const size_t *first,
                      const gf_stage_def *d, size_t s)
{
    for (unsigned w = 0; w < d->workers; w++)
        if (!inst[first[s] + w].local)
            return false;
    return true;
}

static void inproc_endpoint(char *buf, size_t n, const gf_run *run, size_t s,
                            unsigned w)
{
    snprintf(buf, n, "inproc://gigflow-dist-%p-%zu-%u", (const void *)run, s,
             w);
}

/* The receiving end of local instance `in`. */
static int setup_input(gf_run *run, gf_inst *inst, const size_t *first,
                       gf_inst *in, char **err)
{
    const gf_pipeline *p = run->p;
    const gf_stage_def *d = in->def;
    struct gf_dist_inst *di = in->dist;
    size_t nprod = 0, nsib = 0;
    for (size_t f = 0; f < d->nfrom; f++)
        nprod += p->stages[d->from[f]].workers;
    if (link_merge(in) && in->ctx.instance == 0)
        nsib = d->workers - 1;
    nprod += nsib;
    uint64_t *ids = gf_calloc(nprod ? nprod : 1, sizeof *ids);
    bool *orig = gf_calloc(nprod ? nprod : 1, sizeof *orig);
    int rc = -1;
    if (!ids || !orig) {
        *err = errf("out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t f = 0; f < d->nfrom; f++) {
        size_t u = d->from[f];
        const gf_stage_def *ud = &p->stages[u];
        for (unsigned w = 0; w < ud->workers; w++) {
            orig[k] = !(is_stateless(ud) && is_link(ud));
            ids[k++] = first[u] + w + 1;
        }
        if (!is_link(d) && (!all_local(inst, first, ud, u) ||
                            !all_local(inst, first, d, in->stage))) {
            *err = errf("stage %s receives from stage %s, and not every "
                        "instance of both runs in this process: give %s a "
                        "`listen` endpoint (one per worker) so that its "
                        "producers can reach it",
                        d->name, ud->name, d->name);
            rc = -2;
            goto done;
        }
    }
    for (size_t w = 1; w <= nsib; w++) {
        orig[k] = true; /* its partial state is needed */
        ids[k++] = in->producer + w;
    }
    if (!is_link(d)) {
        char ep[128];
        inproc_endpoint(ep, sizeof ep, run, in->stage, in->ctx.instance);
        in->rx = gf_edge_rx_new(run->zctx, ep, ids, nprod);
        if (!in->rx)
            *err = errf("stage %s: cannot create its input: %s", di->name,
                        zmq_strerror(errno));
        else
            rc = 0;
        goto done;
    }
    if (d->nlisten != d->workers) {
        *err =
            errf("stage %s has %u workers but `listen` gives %u "
                 "endpoint%s: give one endpoint per worker (a list) to "
                 "run it across processes",
                 d->name, d->workers, d->nlisten, d->nlisten == 1 ? "" : "s");
        goto done;
    }
    const char *lerr = NULL;
    const char *ep = d->listens[in->ctx.instance];
    di->lrx = gf_link_rx_new(run->lctx, &di->lo, in->producer, di->name, ep,
                             ids, orig, nprod, in->cnt, &lerr);
    if (!di->lrx) {
        *err = errf("stage %s: cannot listen at %s: %s", di->name, ep, lerr);
        goto done;
    }
    di->passthru = is_stateless(d);
    uint64_t *og = NULL;
    size_t nog = 0;
    if (add_origins(p, first, in->stage, &og, &nog, 0) < 0) {
        gf_free(og);
        *err = errf("out of memory");
        goto done;
    }
    if (di->passthru) {
        di->origins = gf_calloc(nog ? nog : 1, sizeof *di->origins);
        if (di->origins) {
            for (size_t i = 0; i < nog; i++)
                di->origins[i].id = og[i];
            di->norigins = di->eos_left = nog;
        }
    } else {
        /* a stateful stage takes its share of the origins' batches; an
           instance 0 that merges takes its siblings' partials too */
        uint64_t *all = gf_realloc(og, (nog + nsib + 1) * sizeof *all);
        if (all) {
            og = all;
            for (size_t w = 1; w <= nsib; w++)
                og[nog + w - 1] = in->producer + w;
            di->dedup = gf_dedup_new(og, nog + nsib);
        }
        for (size_t i = 0; di->dedup && d->workers > 1 && i < nog; i++)
            gf_dedup_share(di->dedup, og[i], in->ctx.instance, d->workers);
    }
    gf_free(og);
    if (di->passthru ? !di->origins : !di->dedup) {
        *err = errf("out of memory");
        goto done;
    }
    rc = 0;

done:
    gf_free(ids);
    gf_free(orig);
    return rc;
}

/* The sending ends of local instance `in`. */
static int setup_output(gf_run *run, gf_inst *inst, const size_t *first,
                        gf_inst *in, char **err)
{
    const gf_pipeline *p = run->p;
    const gf_stage_def *d = in->def;
    struct gf_dist_inst *di = in->dist;
    in->down = gf_calloc(d->nto ? d->nto : 1, sizeof *in->down);
    di->ltx = gf_calloc(d->nto + 1, sizeof *di->ltx);
    if (!in->down || !di->ltx) {
        *err = errf("out of memory");
        return -1;
    }
    in->ndown = d->nto;
    di->ntx = d->nto + 1;
    if (link_merge(in) && in->ctx.instance > 0) {
        /* its partial state goes to instance 0 of its own stage */
        const char *lerr = NULL;
        di->sib = gf_link_tx_new(run->lctx, &di->lo, in->producer, d->name,
                                 d->listens, 1, true, gf_dist_on_ack, in,
                                 in->cnt, &lerr);
        if (!di->sib) {
            *err = errf("stage %s: cannot connect to %s#0: %s", di->name,
                        d->name, lerr);
            return -1;
        }
        di->ltx[d->nto] = di->sib;
    }
    for (size_t t = 0; t < d->nto; t++) {
        gf_fanout *f = &in->down[t];
        f->stage = d->to[t];
        const gf_stage_def *td = &p->stages[f->stage];
        if (is_link(td)) {
            if (td->nlisten != td->workers) {
                *err = errf("stage %s has %u workers but `listen` gives %u "
                            "endpoint%s: give one endpoint per worker",
                            td->name, td->workers, td->nlisten,
                            td->nlisten == 1 ? "" : "s");
                return -2;
            }
            const char *lerr = NULL;
            di->ltx[t] =
                gf_link_tx_new(run->lctx, &di->lo, in->producer, td->name,
                               td->listens, td->workers, !is_stateless(td),
                               gf_dist_on_ack, in, in->cnt, &lerr);
            if (!di->ltx[t]) {
                *err = errf("stage %s: cannot connect to stage %s: %s",
                            di->name, td->name, lerr);
                return -1;
            }
            di->nltx++;
            continue;
        }
        if (!all_local(inst, first, td, f->stage) ||
            !all_local(inst, first, d, in->stage)) {
            *err = errf("stage %s sends to stage %s, and not every "
                        "instance of both runs in this process: give %s a "
                        "`listen` endpoint (one per worker)",
                        d->name, td->name, td->name);
            return -2;
        }
        f->tx = gf_calloc(td->workers, sizeof *f->tx);
        if (!f->tx) {
            *err = errf("out of memory");
            return -1;
        }
        f->n = td->workers;
        f->rr = in->ctx.instance % f->n;
        gf_inst **ld =
            gf_realloc(di->local_down, (di->nlocal_down + f->n) * sizeof *ld);
        if (!ld) {
            *err = errf("out of memory");
            return -1;
        }
        di->local_down = ld;
        for (unsigned w = 0; w < f->n; w++)
            ld[di->nlocal_down++] = &inst[first[f->stage] + w];
        for (unsigned w = 0; w < f->n; w++) {
            char ep[128];
            inproc_endpoint(ep, sizeof ep, run, f->stage, w);
            f->tx[w] = gf_edge_tx_new(run->zctx, ep, in->producer);
            if (!f->tx[w]) {
                *err = errf("stage %s: cannot connect to stage %s: %s",
                            di->name, td->name, zmq_strerror(errno));
                return -1;
            }
        }
    }
    return 0;
}

/* gf_link_opts.secure: CURVE on every link socket when the pipeline has
   a security section, the inbound limits on listening ones always. */
static int secure_socket(void *arg, void *sock, bool server,
                         const char *peer_stage)
{
    gf_inst *in = arg;
    gf_security *sec = in->run->sec ? in->run->sec[in->stage] : NULL;
    int rc;
    if (server)
        rc = sec ? gf_security_server(sec, sock, in->def->name)
                 : gf_security_harden(sock);
    else
        rc = sec ? gf_security_client(sec, sock, peer_stage) : 0;
    if (rc < 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot secure the %s%s: %s",
                 server ? "listening socket" : "connection to stage ",
                 server ? "" : peer_stage, strerror(errno));
        gf_dist_link_log(in, msg);
    }
    return rc;
}

/* Load the keys of every stage with an instance here and start the ZAP
   handler once. -2: a key problem (printed), -1: the handler failed. */
static int setup_security(gf_run *run, gf_inst *inst, size_t ninst, char **err)
{
    const gf_pipeline *p = run->p;
    run->sec = gf_calloc(p->nstages, sizeof *run->sec);
    if (!run->sec) {
        *err = errf("out of memory");
        return -1;
    }
    gf_security *zap = NULL, *any = NULL;
    for (size_t i = 0; i < ninst; i++) {
        size_t s = inst[i].stage;
        if (!inst[i].local || run->sec[s])
            continue;
        gf_diag d = {0};
        int rc = gf_security_load(p, p->stages[s].name, &run->sec[s], &d);
        gf_diag_print(&d, stderr);
        gf_diag_free(&d);
        if (rc < 0) {
            *err = errf("stage %s: cannot load its keys (see above)",
                        p->stages[s].name);
            return -2;
        }
        if (!run->sec[s])
            return 0; /* no security section: plaintext everywhere */
        /* one handler per context: the first listening stage's */
        if (p->stages[s].nlisten > 0 && !zap)
            zap = run->sec[s];
        if (!any)
            any = run->sec[s];
    }
    if (!zap)
        zap = any;
    if (zap && gf_security_start(zap, run->lctx) < 0) {
        *err = errf("cannot start the CURVE handshake handler: %s",
                    strerror(errno));
        return -1;
    }
    return 0;
}

void gf_dist_free_security(gf_run *run)
{
    if (!run->sec)
        return;
    for (size_t s = 0; s < run->p->nstages; s++)
        gf_security_free(&run->sec[s]);
    gf_free(run->sec);
    run->sec = NULL;
}

/*
 * Across processes a batch keeps its origin's id through stateless
 * stages, so a stage fed over links must receive each origin's batches
 * along one path only: two paths (gen -> a -> out and gen -> b -> out)
 * would carry the same ids, and the second copy would be taken for a
 * duplicate. Such a graph is refused (it runs in one process, where every
 * edge counts its own batches). Returns 0, or -2 with *err.
 */
static int check_paths(const gf_pipeline *p, const size_t *first, char **err)
{
    for (size_t s = 0; s < p->nstages; s++) {
        const gf_stage_def *d = &p->stages[s];
        for (size_t f = 0; is_link(d) && f < d->nfrom; f++) {
            for (size_t g = f + 1; g < d->nfrom; g++) {
                uint64_t *a = NULL, *b = NULL, shared = 0;
                size_t na = 0, nb = 0;
                int rc = origins_via(p, first, d->from[f], &a, &na, 0);
                if (rc == 0)
                    rc = origins_via(p, first, d->from[g], &b, &nb, 0);
                for (size_t i = 0; rc == 0 && i < na && !shared; i++)
                    for (size_t j = 0; j < nb && !shared; j++)
                        if (a[i] == b[j])
                            shared = a[i];
                gf_free(a);
                gf_free(b);
                if (rc < 0) {
                    *err = errf("out of memory");
                    return -1;
                }
                if (!shared)
                    continue;
                size_t o = 0; /* the stage of instance id `shared` */
                while (o + 1 < p->nstages && first[o + 1] < shared)
                    o++;
                *err =
                    errf("stage %s receives the batches of stage %s "
                         "along two paths (through %s and through %s): "
                         "across processes each must come along one "
                         "path only; join the paths before the link, or "
                         "run the file without --stage",
                         d->name, p->stages[o].name, p->stages[d->from[f]].name,
                         p->stages[d->from[g]].name);
                return -2;
            }
        }
    }
    return 0;
}

int gf_dist_setup(gf_run *run, gf_inst *inst, size_t ninst, const size_t *first,
                  char **err)
{
    *err = NULL;
    int prc = check_paths(run->p, first, err);
    if (prc < 0)
        return prc;
    int src = setup_security(run, inst, ninst, err);
    if (src < 0)
        return src;
    for (size_t i = 0; i < ninst; i++) {
        gf_inst *in = &inst[i];
        if (!in->local)
            continue;
        struct gf_dist_inst *di = gf_calloc(1, sizeof *di);
        if (!di) {
            *err = errf("out of memory");
            return -1;
        }
        in->dist = di;
        pthread_mutexattr_t ma;
        pthread_mutexattr_init(&ma);
        pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&di->lock, &ma);
        pthread_mutexattr_destroy(&ma);
        di->name = gf_asprintf("%s#%u", in->def->name, in->ctx.instance);
        if (!di->name) {
            *err = errf("out of memory");
            return -1;
        }
        di->lo = (gf_link_opts){
            .heartbeat_ms = run->opts.heartbeat_ms,
            .credit = GF_LINK_CREDIT,
            .log = gf_dist_link_log,
            .log_arg = in,
            .secure = secure_socket,
            .secure_arg = in,
        };
        int rc =
            in->def->nfrom > 0 ? setup_input(run, inst, first, in, err) : 0;
        if (rc == 0)
            rc = setup_output(run, inst, first, in, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void gf_dist_teardown(gf_inst *in)
{
    struct gf_dist_inst *di = in->dist;
    if (!di)
        return;
    gf_link_rx_destroy(&di->lrx);
    for (size_t t = 0; di->ltx && t < di->ntx; t++)
        gf_link_tx_destroy(&di->ltx[t]);
    gf_free(di->ltx);
    gf_dedup_free(&di->dedup);
    gf_free(di->origins);
    gf_buf_free(&di->acc);
    gf_buf_free(&di->held);
    for (size_t i = 0; i < di->nchain; i++)
        gf_buf_free(&di->chain[i].dead);
    gf_free(di->chain);
    gf_free(di->items);
    gf_free(di->name);
    gf_free(di->local_down);
    pthread_mutex_destroy(&di->lock);
    gf_free(di);
    in->dist = NULL;
}
