/* job.c - the resources a job's request implies (job.h). */
#include "src/train/job.h"

#include "src/base/sg_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int job_workers(const job_opts *o)
{
    return o->workers > 0 ? o->workers : 1;
}

/* Ranks of a process group started on this machine (1 without one). */
static long local_ranks(const job_opts *o)
{
    const char *local = getenv("LOCAL_WORLD_SIZE");
    const char *world = getenv("WORLD_SIZE");
    long n = local ? strtol(local, NULL, 10)
             : o->world_size > 0 ? o->world_size
             : world ? strtol(world, NULL, 10)
                     : 1;
    return n > 0 ? n : 1;
}

int job_torch_threads(const job_opts *o)
{
    if (o->threads > 0)
        return o->threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN) / local_ranks(o);
    return n > 1 ? (int)n : 1;
}

void job_draw_figures(const job_opts *o, const char *run_dir)
{
    if (o->draw_figures && o->draw_figures(run_dir, o->figure_format) != SG_OK)
        fprintf(stderr, "sensorgram %s: warning: figures: %s\n", o->cmd ? o->cmd : "train",
                sg_last_error());
}
