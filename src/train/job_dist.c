/* job_dist.c - joining a process group the way a PyTorch script does.
 *
 * Precedence: flags (--dist-url, --rank, --world-size), then torchrun's
 * environment (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT),
 * then Slurm's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID; the master
 * address still comes from MASTER_ADDR, which a Slurm script exports).
 * A world size of 1 (or none given) means one process and no group.
 */
#include "src/train/job_dist.h"

#include "src/base/sg_error.h"
#include "src/train/run_dir.h"
#include "src/train/train_ckpt.h"
#include "src/train/run_files.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An integer environment variable; 0 when unset, else its parse status. */
static int env_int(int *out, const char *name, int *found)
{
    const char *s = getenv(name);
    *found = 0;
    if (!s || !*s)
        return SG_OK;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < 0 || v > (1 << 20))
        return sg_fail(SG_E_INVALID, "environment variable %s='%s' is not a rank count", name, s);
    *out = (int)v;
    *found = 1;
    return SG_OK;
}

/* The first set of several variables (torchrun's, then Slurm's). */
static int env_pick(int *out, const char *a, const char *b)
{
    int found;
    int rc = env_int(out, a, &found);
    if (rc || found)
        return rc;
    return env_int(out, b, &found);
}

static int parse_url(sg_dist_spec *s, char *host, size_t host_size, const char *url)
{
    const char *p = url;
    if (strncmp(p, "tcp://", 6) == 0)
        p += 6;
    else if (strcmp(p, "env://") == 0)
        return SG_OK;
    else
        return sg_fail(SG_E_INVALID, "--dist-url: '%s' is not tcp://HOST:PORT or env://", url);
    const char *colon = strrchr(p, ':');
    if (!colon || colon == p || (size_t)(colon - p) >= host_size)
        return sg_fail(SG_E_INVALID, "--dist-url: '%s' is not tcp://HOST:PORT", url);
    memcpy(host, p, (size_t)(colon - p));
    host[colon - p] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535)
        return sg_fail(SG_E_INVALID, "--dist-url: port of '%s' is not in 1..65535", url);
    s->master_addr = host;
    s->master_port = (int)port;
    return SG_OK;
}

int job_dist_join(sg_dist **out, const job_opts *o)
{
    *out = NULL;
    char host[256]; /* s.master_addr for --dist-url: sg_dist_create copies what it keeps */
    sg_dist_spec s = {
        .backend = o->dist_backend,
        .master_addr = getenv("MASTER_ADDR"),
        .master_port = 29500,
        .rank = 0,
        .world_size = 1,
        .timeout_s = o->dist_timeout,
        .no_overlap = !o->dist_overlap,
    };
    int rc = env_pick(&s.world_size, "WORLD_SIZE", "SLURM_NTASKS");
    if (rc == SG_OK)
        rc = env_pick(&s.rank, "RANK", "SLURM_PROCID");
    if (rc == SG_OK)
        rc = env_pick(&s.local_rank, "LOCAL_RANK", "SLURM_LOCALID");
    int found;
    if (rc == SG_OK)
        rc = env_int(&s.master_port, "MASTER_PORT", &found);
    if (rc == SG_OK)
        rc = env_int(&s.restart_count, "TORCHELASTIC_RESTART_COUNT", &found);
    if (rc)
        return rc;
    const char *agent = getenv("TORCHELASTIC_USE_AGENT_STORE");
    s.agent_store = agent && strcmp(agent, "True") == 0;
    if (o->world_size > 0)
        s.world_size = o->world_size;
    if (o->rank >= 0)
        s.rank = o->rank;
    if (o->dist_url) {
        rc = parse_url(&s, host, sizeof host, o->dist_url);
        if (rc)
            return rc;
        s.agent_store = 0; /* an explicit rendezvous is ours, not the agent's */
    }
    if (s.world_size <= 1) {
        if (o->rank > 0)
            return sg_fail(SG_E_INVALID, "--rank %d without --world-size (or WORLD_SIZE)",
                           o->rank);
        return SG_OK;
    }
    if (s.rank >= s.world_size)
        return sg_fail(SG_E_INVALID, "rank %d is outside world size %d (RANK/--rank)", s.rank,
                       s.world_size);
    if (!s.master_addr || !*s.master_addr)
        return sg_fail(SG_E_INVALID,
                       "%d ranks but no rendezvous: set MASTER_ADDR and MASTER_PORT (torchrun "
                       "does) or give --dist-url tcp://HOST:PORT",
                       s.world_size);
    if (o->accumulate > 1)
        return sg_fail(SG_E_INVALID,
                       "--accumulate is for one process: with %d ranks each rank's --bs is its "
                       "share of the step",
                       s.world_size);
    /* as cli_train picks cuda:LOCAL_RANK; "auto" then means NCCL.  Asked
     * only now: it loads libtorch, which a usage error need not wait for. */
    s.cuda = o->device && (strcmp(o->device, "auto") == 0 || strncmp(o->device, "cuda", 4) == 0) &&
             sg_cuda_available();
    rc = sg_dist_create(out, &s);
    return rc ? sg_fail_context(rc, "rank %d", s.rank) : SG_OK;
}

long job_dist_global_batch(const job_opts *o, const sg_dist *d)
{
    return (long)o->batch_size * (long)sg_dist_world_size(d) *
           (long)(o->accumulate > 1 ? o->accumulate : 1);
}

int job_dist_config_add(json_t *config, const job_opts *o, const sg_dist *d)
{
    if (json_object_set_new(config, "world_size", json_integer(sg_dist_world_size(d))) ||
        json_object_set_new(config, "accumulate",
                            json_integer(o->accumulate > 1 ? o->accumulate : 1)) ||
        json_object_set_new(config, "global_batch", json_integer(job_dist_global_batch(o, d))) ||
        /* what applies: without ranks or with --cv-parallel it is off */
        json_object_set_new(config, "sync_bn",
                            json_boolean(o->sync_bn && d &&
                                         !(o->cv_parallel && o->cv != JOB_CV_NONE))) ||
        json_object_set_new(config, "dist_overlap", json_boolean(o->dist_overlap)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    return SG_OK;
}

int job_dist_check_resume(const char *dir, const job_opts *o, const sg_dist *d)
{
    /* A finished or unreadable run is the resume checks' to report. */
    char last[4096];
    train_meta meta;
    if (run_dir_path(last, sizeof last, dir, SG_RUN_CKPT_LAST) != SG_OK ||
        train_ckpt_read_meta(&meta, last) != SG_OK)
        return SG_OK;
    int finished = meta.state.finished;
    train_meta_free(&meta);
    if (finished)
        return SG_OK;
    json_t *config = NULL;
    int rc = run_config_read(&config, dir);
    if (rc)
        return sg_fail_context(rc, "--resume");
    long want = job_dist_global_batch(o, d);
    json_t *gb = json_object_get(config, "global_batch");
    json_t *ws = json_object_get(config, "world_size");
    json_t *bs = json_object_get(json_object_get(config, "options"), "bs");
    long had = json_is_integer(gb) ? (long)json_integer_value(gb)
               : json_is_integer(bs) ? (long)json_integer_value(bs) : want;
    int had_world = json_is_integer(ws) ? (int)json_integer_value(ws) : 1;
    json_decref(config);
    if (had != want)
        return sg_fail(SG_E_INVALID,
                       "--resume: %s was trained with a global batch of %ld (%d rank%s), this "
                       "run would use %ld (--bs %d x %d ranks x --accumulate %d): keep --bs x "
                       "ranks x --accumulate equal",
                       dir, had, had_world, had_world == 1 ? "" : "s", want, o->batch_size,
                       sg_dist_world_size(d), o->accumulate > 1 ? o->accumulate : 1);
    return SG_OK;
}

int job_dist_restart_count(void)
{
    int n = 0, found;
    if (env_int(&n, "TORCHELASTIC_RESTART_COUNT", &found) != SG_OK)
        return 0;
    return n;
}
