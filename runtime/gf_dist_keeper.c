/*
 * gf_dist_keeper - the keeper of a distributed run (see gf_dist.h): one
 * thread per process that services the links of the local instances
 * while their threads are inside plugin callbacks (gf_dist_run.c), and
 * tells their peers at once when the run fails meanwhile.
 */
#include "gf_dist.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "gf_alloc.h"
#include "gf_dist_int.h"
#include "gf_link.h"

struct gf_dist_keeper {
    gf_run *run;
    gf_inst *inst;
    size_t ninst;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool stop;
};

/* Every heartbeat/16: service the links of each instance whose thread is
   inside a plugin callback (its lock is free) and has not serviced them
   for heartbeat/8, so that a long process(), flush() or commit-sized
   write never makes a live instance look dead to its peers, and deaths
   are noticed within the heartbeat (gf_link). */
static void *keeper_main(void *arg)
{
    gf_dist_keeper *k = arg;
    long hb = k->run->opts.heartbeat_ms > 0 ? k->run->opts.heartbeat_ms
                                            : GF_LINK_HEARTBEAT_MS;
    long period = hb / 16 > 0 ? hb / 16 : 1;
    pthread_mutex_lock(&k->lock);
    while (!k->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += period / 1000;
        ts.tv_nsec += (period % 1000) * NS_PER_MS;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&k->cond, &k->lock, &ts);
        if (k->stop)
            break;
        pthread_mutex_unlock(&k->lock);
        for (size_t i = 0; i < k->ninst; i++) {
            gf_inst *in = &k->inst[i];
            struct gf_dist_inst *di = in->dist;
            if (!in->local || !di || pthread_mutex_trylock(&di->lock) != 0)
                continue;
            if (gf_run_interrupted(k->run) && !gf_run_stopping(k->run) &&
                !atomic_load(&k->run->committed))
                gf_dist_fail(in, "interrupted; the other processes of the run "
                                 "stop too");
            if (di->ended || di->aborted) {
                /* left alone */
            } else if (gf_run_stopping(k->run)) {
                /* the run failed while the instance is in a callback: tell
                   its peers now, then stay silent (never vouch for it) */
                gf_link_rx_abort(di->lrx, gf_run_interrupted(k->run));
                for (size_t t = 0; t < di->ntx; t++)
                    gf_link_tx_abort(di->ltx[t], gf_run_interrupted(k->run));
                di->aborted = true;
            } else if (gf_stats_now_ns() - di->last_service >=
                       hb * NS_PER_MS / 8) {
                gf_dist_service(in, 0,
                                false); /* a failure fails the run there */
            }
            pthread_mutex_unlock(&di->lock);
        }
        pthread_mutex_lock(&k->lock);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

gf_dist_keeper *gf_dist_keeper_start(gf_run *run, gf_inst *inst, size_t ninst)
{
    gf_dist_keeper *k = gf_calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->run = run;
    k->inst = inst;
    k->ninst = ninst;
    pthread_mutex_init(&k->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wall clock may step */
    pthread_cond_init(&k->cond, &ca);
    pthread_condattr_destroy(&ca);
    /* signals are the main thread's */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = pthread_create(&k->thread, NULL, keeper_main, k);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&k->cond);
        pthread_mutex_destroy(&k->lock);
        gf_free(k);
        errno = rc;
        return NULL;
    }
    return k;
}

void gf_dist_keeper_stop(gf_dist_keeper **kp)
{
    gf_dist_keeper *k = kp ? *kp : NULL;
    if (!k)
        return;
    pthread_mutex_lock(&k->lock);
    k->stop = true;
    pthread_cond_signal(&k->cond);
    pthread_mutex_unlock(&k->lock);
    pthread_join(k->thread, NULL);
    pthread_cond_destroy(&k->cond);
    pthread_mutex_destroy(&k->lock);
    gf_free(k);
    *kp = NULL;
}
