/* job.c - the resources a job's request implies (job.h). */
#include "src/train/job.h"

#include "src/base/sg_error.h"

#include <stdio.h>
#include <unistd.h>

int job_workers(const job_opts *o)
{
    return o->workers > 0 ? o->workers : 1;
}

int job_torch_threads(const job_opts *o)
{
    if (o->threads > 0)
        return o->threads;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long left = cores - o->workers;
    return left > 1 ? (int)left : 1;
}

void job_draw_figures(const job_opts *o, const char *run_dir)
{
    if (o->draw_figures && o->draw_figures(run_dir, o->figure_format) != SG_OK)
        fprintf(stderr, "sensorgram %s: warning: figures: %s\n", o->cmd ? o->cmd : "train",
                sg_last_error());
}
