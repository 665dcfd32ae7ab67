/* job_ensemble.c - `train --member OPTS ...`: trains the members and
 * averages them (see job_ensemble.h). */
#include "src/train/job_ensemble.h"
#include "src/train/job_train.h"
#include "src/train/job_setup.h"
#include "src/train/run_files.h"
#include "src/base/sg_error.h"
#include "src/train/metrics.h"
#include "src/train/run_dir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct member {
    char dir[4096];
    job_opts opts;
    job_outcome out;
} member;

struct job_ensemble {
    const job_opts *base;
    int n;
    member m[JOB_MEMBERS_MAX];
};

int job_ensemble_create(job_ensemble **out, const job_opts *base, const job_opts *members,
                        int n)
{
    *out = NULL;
    if (n < 1 || n > JOB_MEMBERS_MAX)
        return sg_fail(SG_E_INVALID, "an ensemble has 1 to %d members, not %d", JOB_MEMBERS_MAX,
                       n);
    job_ensemble *e = calloc(1, sizeof *e);
    if (!e)
        return sg_fail(SG_E_NOMEM, "out of memory");
    e->base = base;
    int rc = SG_OK;
    for (int i = 0; rc == SG_OK && i < n; i++) {
        member *m = &e->m[i];
        e->n = i + 1;
        m->opts = members[i];
        int len = snprintf(m->dir, sizeof m->dir, "%s/member_%d", base->out_dir, i);
        if (len < 0 || (size_t)len >= sizeof m->dir)
            rc = sg_fail(SG_E_INVALID, "--out %s: path too long", base->out_dir);
        m->opts.out_dir = m->dir;
        m->out.want_data = i == 0;
        if (rc && base->members[i][0])
            rc = sg_fail_context(rc, "--member '%s'", base->members[i]);
    }
    if (rc) {
        job_ensemble_free(e);
        return rc;
    }
    *out = e;
    return SG_OK;
}

void job_ensemble_free(job_ensemble *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n; i++)
        job_outcome_free(&e->m[i].out);
    free(e);
}

/* Member j's rows for member 0's: every member validated the same
 * samples (same data, split options and seed), possibly in another
 * order. */
static int align_rows(size_t *row, const job_outcome *ref, const job_outcome *o,
                      int j)
{
    if (o->n_samples != ref->n_samples || o->n_classes != ref->n_classes ||
        o->n != ref->n || o->n_folds != ref->n_folds ||
        memcmp(o->label, ref->label, ref->n_samples * sizeof *ref->label) != 0)
        return sg_fail(SG_E_INVALID,
                       "ensemble member %d validated other samples than member 0 (%zu of %zu "
                       "samples, %d classes, against %zu of %zu, %d)",
                       j, o->n, o->n_samples, o->n_classes, ref->n, ref->n_samples,
                       ref->n_classes);
    size_t *at = malloc((ref->n_samples + 1) * sizeof *at);
    if (!at)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < ref->n_samples; i++)
        at[i] = (size_t)-1;
    for (size_t r = 0; r < o->n; r++)
        at[o->index[r]] = r;
    int rc = SG_OK;
    for (size_t r = 0; rc == SG_OK && r < ref->n; r++) {
        row[r] = at[ref->index[r]];
        if (row[r] == (size_t)-1 || o->fold[row[r]] != ref->fold[r])
            rc = sg_fail(SG_E_INVALID,
                         "ensemble member %d did not validate sample %zu in fold %d as member "
                         "0 did",
                         j, ref->index[r], ref->fold[r]);
    }
    free(at);
    return rc;
}

/* Mean probabilities (ref->n, k) over the members into probs. */
static int mean_probs(float *probs, const job_ensemble *e)
{
    const job_outcome *ref = &e->m[0].out;
    size_t k = (size_t)ref->n_classes, n = ref->n;
    double *sum = calloc(n * k + 1, sizeof *sum);
    size_t *row = malloc((n + 1) * sizeof *row);
    int rc = sum && row ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    for (int j = 0; rc == SG_OK && j < e->n; j++) {
        const job_outcome *o = &e->m[j].out;
        rc = align_rows(row, ref, o, j);
        for (size_t r = 0; rc == SG_OK && r < n; r++)
            for (size_t c = 0; c < k; c++)
                sum[r * k + c] += o->probs[row[r] * k + c];
    }
    for (size_t i = 0; rc == SG_OK && i < n * k; i++)
        probs[i] = (float)(sum[i] / e->n);
    free(sum);
    free(row);
    return rc;
}

/* The ensemble's fold results: accuracy and log loss of the mean
 * probabilities on each fold's validation rows; time summed over the
 * members (each image goes through all of them). */
static int ensemble_folds(fold_result *folds, const job_ensemble *e, const float *probs)
{
    const job_outcome *ref = &e->m[0].out;
    int k = ref->n_classes;
    int rc = SG_OK;
    for (int f = 0; rc == SG_OK && f < ref->n_folds; f++) {
        fold_result *fr = &folds[f];
        *fr = ref->folds[f];
        fr->r.seconds = fr->r.train_seconds = fr->r.loader_wait_s = 0;
        double inv_rate = 0;
        for (int j = 0; j < e->n; j++) {
            const train_result *r = &e->m[j].out.folds[f].r;
            fr->r.seconds += r->seconds;
            fr->r.train_seconds += r->train_seconds;
            fr->r.loader_wait_s += r->loader_wait_s;
            inv_rate += r->images_per_s > 0 ? 1.0 / r->images_per_s : 0;
        }
        fr->r.images_per_s = inv_rate > 0 ? 1.0 / inv_rate : 0;
        size_t n = 0, right = 0;
        double loss = 0;
        for (size_t r = 0; r < ref->n; r++) {
            if (ref->fold[r] != f)
                continue;
            const float *p = probs + r * (size_t)k;
            int label = ref->label[ref->index[r]];
            if (label < 0)
                continue;
            n++;
            right += sg_argmax(p, k) == label;
            loss += sg_sample_log_loss(p, k, label);
        }
        fr->r.accuracy = n ? (double)right / (double)n : NAN;
        fr->r.log_loss = n ? loss / (double)n : NAN;
        fr->r.valid_loss = fr->r.log_loss;
    }
    return rc;
}

static int members_config(json_t *config, const job_ensemble *e)
{
    json_t *list = json_array();
    if (!list)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int i = 0; i < e->n; i++) {
        char dir[32];
        snprintf(dir, sizeof dir, "member_%d", i);
        json_t *m = json_pack("{s:s, s:s}", "dir", dir, "options", e->base->members[i]);
        if (!m || json_array_append_new(list, m) != 0) {
            json_decref(list);
            return sg_fail(SG_E_NOMEM, "out of memory");
        }
    }
    return json_object_set_new(config, "ensemble", list) == 0
               ? SG_OK
               : sg_fail(SG_E_NOMEM, "out of memory");
}

/* RUN_DIR's files from the members' outcomes. */
static int write_ensemble(job_ensemble *e)
{
    const job_opts *o = e->base;
    job_outcome *ref = &e->m[0].out;
    job_data *d = &ref->data;
    size_t k = (size_t)ref->n_classes;
    float *probs = malloc((ref->n * k + 1) * sizeof *probs);
    fold_result *folds = calloc((size_t)ref->n_folds + 1, sizeof *folds);
    json_t *config = NULL;
    int rc = probs && folds ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    if (rc == SG_OK)
        rc = mean_probs(probs, e);
    if (rc == SG_OK)
        rc = ensemble_folds(folds, e, probs);
    if (rc == SG_OK)
        rc = run_dir_prepare(o->out_dir);
    if (rc == SG_OK)
        rc = job_config_new(&config, o, d, "train");
    if (rc == SG_OK)
        rc = members_config(config, e);
    if (rc == SG_OK) {
        printf("ensemble of %d members (mean probabilities; each member's own results are in "
               "%s/member_N):\n",
               e->n, o->out_dir);
        fflush(stdout); /* its line before the stderr ones, in a log of both */
        fprintf(stderr, "sensorgram train: ensemble of %d members\n", e->n);
        rc = job_write_validation_outputs(o->out_dir, d, ref->index, probs, ref->n,
                                          o->top_losses, &ref->spec, config);
    }
    if (rc == SG_OK)
        rc = job_report_folds(config, folds, ref->n_folds, o->out_dir);
    if (rc == SG_OK)
        rc = run_config_write(o->out_dir, config);
    /* Without validation (all trained on) there is nothing to draw here. */
    if (rc == SG_OK && ref->n > 0)
        job_draw_figures(o, o->out_dir);
    json_decref(config);
    free(folds);
    free(probs);
    return rc;
}

int job_ensemble_train(job_ensemble *e, sg_dist *dist)
{
    int writer = sg_dist_rank(dist) == 0;
    int rc = SG_OK;
    for (int i = 0; rc == SG_OK && i < e->n; i++) {
        member *m = &e->m[i];
        if (writer)
            fprintf(stderr, "sensorgram train: ensemble member %d/%d (%s) -> %s\n", i + 1, e->n,
                    e->base->members[i][0] ? e->base->members[i] : "the other options alone",
                    m->dir);
        rc = job_train(&m->opts, dist, &m->out);
        if (rc)
            rc = sg_fail_context(rc, "ensemble member %d (%s)", i,
                                 e->base->members[i][0] ? e->base->members[i] : "no OPTS");
    }
    if (rc == SG_OK && writer)
        rc = write_ensemble(e);
    return rc;
}
