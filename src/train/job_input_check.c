/* job_input_check.c - decode every input image up front (see job_input_check.h). */
#include "src/train/job_input_check.h"

#include "src/base/parallel.h"
#include "src/base/sg_error.h"
#include "src/base/signals.h"
#include "src/image/image_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct check_job {
    sample_source *src;
    char **failed; /* per sample: the decoder's message, or NULL */
};

static int check_one(void *arg, int thread, size_t i)
{
    (void)thread;
    struct check_job *job = arg;
    sg_image img = {0};
    int rc = sg_check_interrupt(); /* Ctrl-C during a long check */
    if (rc)
        return rc;
    /* through the source, as the loader reads it: a row of a stacked X.npy
     * (encode --stack) is not an image file of its own */
    rc = sample_source_read(job->src, i, &img);
    sg_image_free(&img);
    if (rc == SG_E_NOMEM || rc == SG_E_INTERRUPTED)
        return rc; /* never a property of one file */
    if (rc && !(job->failed[i] = strdup(sg_last_error())))
        return sg_fail(SG_E_NOMEM, "out of memory");
    return SG_OK;
}

/* Drops the samples with failed[i] set, keeping order. */
static void prune(sample_source *s, unsigned char *is_valid, char **failed)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (failed[i]) {
            free(s->path[i]);
            free(s->name[i]);
            continue;
        }
        s->path[k] = s->path[i];
        if (s->row)
            s->row[k] = s->row[i];
        s->name[k] = s->name[i];
        s->label[k] = s->label[i];
        s->group[k] = s->group[i];
        if (is_valid)
            is_valid[k] = is_valid[i];
        k++;
    }
    s->n = k;
}

int job_check_images(sample_source *s, unsigned char *is_valid, const job_opts *o)
{
    if (s->kind != SAMPLE_IMAGES || s->n == 0)
        return SG_OK;
    const char *cmd = o->cmd ? o->cmd : "";
    struct check_job job = {.src = s, .failed = calloc(s->n, sizeof(char *))};
    if (!job.failed)
        return sg_fail(SG_E_NOMEM, "out of memory");
    size_t n0 = s->n; /* before pruning */
    int rc = sg_parallel_for(s->n, job_workers(o), check_one, &job);
    size_t bad = 0;
    for (size_t i = 0; i < s->n; i++)
        bad += job.failed[i] != NULL;
    if (rc == SG_OK && bad) {
        if (o->on_error_skip)
            fprintf(stderr, "sensorgram %s: warning: skipped %zu unreadable input%s:\n", cmd, bad,
                    bad == 1 ? "" : "s");
        for (size_t i = 0; i < s->n; i++)
            if (job.failed[i])
                fprintf(stderr, o->on_error_skip ? "  %s\n" : "sensorgram %s: %s\n",
                        o->on_error_skip ? job.failed[i] : cmd, job.failed[i]);
        size_t n = s->n;
        if (!o->on_error_skip)
            rc = sg_fail(SG_E_PARSE,
                         "%zu of %zu input images cannot be read (listed above): fix or remove "
                         "them, or pass --on-error skip to leave them out",
                         bad, n);
        else if (bad == n)
            rc = sg_fail(SG_E_PARSE, "every one of the %zu input images is unreadable", n);
        else
            prune(s, is_valid, job.failed);
    }
    for (size_t i = 0; i < n0; i++)
        free(job.failed[i]);
    free(job.failed);
    return rc;
}
