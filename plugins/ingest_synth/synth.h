/*
 * synth.h - ingest_synth's own parts, shared by ingest_synth.c (options,
 * the station and organisation layout built at init, the produce loop)
 * and synth_emit.c (one record of each kind from its index). Not an SDK
 * header: nothing here leaves the plugin.
 */
#ifndef SYNTH_H
#define SYNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gigflow/plugin.h>

typedef struct synth_cfg {
    int64_t members, stations, orgs, projects, demands, districts, seed;
    double active_share, coverage, party_share, mobile_share;
    const gf_strlist *kinds;
} synth_cfg;

/* ---- a counter-based generator ------------------------------------------ */

typedef struct rng {
    uint64_t s;
} rng;

static inline uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* splitmix64: the stream for record `idx` of kind `salt`. */
static inline rng rng_at(uint64_t seed, uint64_t salt, uint64_t idx)
{
    rng r = {mix64(seed ^ mix64(salt * 0x9e3779b97f4a7c15ULL + idx + 1))};
    return r;
}

static inline uint64_t rnext(rng *r)
{
    return mix64(r->s += 0x9e3779b97f4a7c15ULL);
}

/* Uniform in [0, n). */
static inline uint32_t rbelow(rng *r, uint64_t n)
{
    return (uint32_t)(((unsigned __int128)rnext(r) * n) >> 64);
}

/* Uniform in [0, 1). */
static inline double runit(rng *r)
{
    return (double)(rnext(r) >> 11) * 0x1.0p-53;
}

static inline bool rchance(rng *r, double p)
{
    return runit(r) < p;
}

/* Index into a table of cumulative weights ending at 1.0. */
static inline unsigned rpick(rng *r, const double *cum, unsigned n)
{
    double u = runit(r);
    for (unsigned i = 0; i + 1 < n; i++)
        if (u < cum[i])
            return i;
    return n - 1;
}

enum {
    SALT_STATION = 1,
    SALT_ORG,
    SALT_PLACE,
    SALT_MEMBER,
    SALT_PROJECT,
    SALT_DEMAND,
    SALT_COVER,
    SALT_ORG_TYPE
};

/* ---- the field's vocabulary -----------------------------------------------
 */

/*
 * Platforms (gf_domain codes) with their share of all workers: food
 * delivery 75% (美团 45%, 饿了么 30%), couriers 15%, ride-hailing 5%,
 * grocery 5%. `node` is the key node type of its stations.
 */
typedef struct platform {
    const char *code;
    const char *zh;
    double share;
    const char *node;
    const char *site; /* station name suffix */
} platform;

#define NPLAT ((size_t)11) /* the entries of platforms[] */
extern const platform platforms[NPLAT];

/* ---- state ----------------------------------------------------------------
 */

enum { K_ORG, K_MEMBER, K_PROJECT, K_DEMAND, K_END };

typedef struct station {
    uint32_t district;
    uint8_t plat;
    uint32_t org; /* first organisation at the station, or NO_ORG */
} station;
#define NO_ORG UINT32_MAX

typedef struct org_info {
    uint32_t district;
    uint32_t station; /* NO_ORG for the upper structure */
    uint8_t type;     /* ORG_* below */
    uint8_t plat;     /* enterprise and station orgs */
} org_info;

enum {
    ORG_INDUSTRY,
    ORG_MOBILE,
    ORG_ENTERPRISE,
    ORG_UNION,
    ORG_YOUTH,
    ORG_WOMEN,
    ORG_BRANCH,
    ORG_JOINT
};
/* Per district: 2 committees, one enterprise org per platform, 3 mass orgs. */
#define UPPER (2 + NPLAT + 3)

typedef struct synth {
    synth_cfg cfg;
    uint64_t seed;
    bool want[K_END];
    station *st;
    org_info *org;
    uint64_t norgs;
    uint32_t ndist;
    double plat_cum[NPLAT];
    const char *plat_form[NPLAT]; /* gf_domain form code per platform */
    /* progress */
    int phase;
    uint64_t next;
    uint64_t emitted;
    int64_t t0;
    bool started;
    /* scratch for text */
    char buf[512];
} synth;

/* Emit record k (j) of its kind into out: GF_OK, or what gf_host.emit
   returned. Nothing is allocated; s->buf is the scratch for text. */
int synth_emit_org(gf_ctx *ctx, synth *s, gf_out *out, uint64_t k);
int synth_emit_member(gf_ctx *ctx, synth *s, gf_out *out, uint64_t j);
int synth_emit_project(gf_ctx *ctx, synth *s, gf_out *out, uint64_t k);
int synth_emit_demand(gf_ctx *ctx, synth *s, gf_out *out, uint64_t k);

#endif
