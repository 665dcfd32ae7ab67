/* cli_ensemble.c - `train --member OPTS ...` (see cli_ensemble.h). */
#include "src/cli/cli_ensemble.h"
#include "src/cli/cli_train.h"
#include "src/cli/cli_train_util.h"
#include "figures/fig.h"
#include "figures/run_files.h"
#include "src/base/sg_error.h"
#include "src/train/metrics.h"
#include "src/train/run_dir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct member {
    char *buf;    /* the OPTS tokens, NUL-separated */
    char **argv;  /* the command's argv, then the tokens */
    char dir[4096];
    cli_opts opts;
    cli_train_outcome out;
} member;

struct cli_ensemble {
    const cli_opts *base;
    int n;
    member m[CLI_MEMBERS_MAX];
};

int cli_ensemble_defaults(cli_opts *o)
{
    if (o->single && o->n_members > 0)
        return sg_fail(SG_E_INVALID, "--single and --member exclude each other");
    if (o->single || o->n_members > 0 || o->features || !o->dataset ||
        strcmp(o->dataset, "dsa") != 0)
        return SG_OK;
    if (o->sensors || o->encoder_given || o->enc_args.scope || o->layout_given ||
        o->magnitude_given)
        return SG_OK;
    static const char *const defaults[] = CLI_DSA_MEMBERS;
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++)
        o->members[o->n_members++] = defaults[i];
    return SG_OK;
}

/* What every member must share, so it is not a member's to set. */
static int member_option_allowed(const char *name)
{
    static const char *const shared[] = {
        "out", "overwrite", "resume", "dataset", "subjects", "label-regex", "photos",
        "on-error", "cv", "valid-pct", "valid-subjects", "member", "single", "features",
        "keep-folds", "cv-parallel", "dist-url", "rank", "world-size", "dist-backend",
        "dist-timeout", "help", NULL};
    for (int i = 0; shared[i]; i++)
        if (strcmp(name, shared[i]) == 0)
            return 0;
    return 1;
}

/* Splits opts at white space into m->buf / m->argv after argv. */
static int member_argv(member *m, int argc, char **argv, const char *opts, int *argc_out)
{
    size_t len = strlen(opts);
    m->buf = malloc(len + 1);
    m->argv = malloc(((size_t)argc + len / 2 + 2) * sizeof *m->argv);
    if (!m->buf || !m->argv)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(m->buf, opts, len + 1);
    memcpy(m->argv, argv, (size_t)argc * sizeof *argv);
    int n = argc;
    char *save = NULL;
    for (char *t = strtok_r(m->buf, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
        if (t[0] == '-' && t[1] == '-') {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)strcspn(t + 2, "="), t + 2);
            if (!member_option_allowed(name))
                return sg_fail(SG_E_INVALID,
                               "--member '%s': --%s is shared by all members; give it once, "
                               "outside --member",
                               opts, name);
        } else if (t[0] == '-' && (t[1] == 'o' || t[1] == 'h')) {
            return sg_fail(SG_E_INVALID, "--member '%s': -%c is shared by all members", opts,
                           t[1]);
        }
        m->argv[n++] = t;
    }
    m->argv[n] = NULL;
    *argc_out = n;
    return SG_OK;
}

int cli_ensemble_create(cli_ensemble **out, const cli_opts *base, int argc, char **argv,
                        unsigned groups, const char *usage)
{
    *out = NULL;
    if (base->resume)
        return sg_fail(SG_E_INVALID,
                       "--resume continues one run; an ensemble's members are runs of their own "
                       "(RUN_DIR/member_N): train again with --overwrite, or one model with "
                       "--single");
    if (base->features)
        return sg_fail(SG_E_INVALID, "--member trains networks, not --features heads");
    cli_ensemble *e = calloc(1, sizeof *e);
    if (!e)
        return sg_fail(SG_E_NOMEM, "out of memory");
    e->base = base;
    int rc = SG_OK;
    for (int i = 0; rc == SG_OK && i < base->n_members; i++) {
        member *m = &e->m[i];
        e->n = i + 1;
        int n = 0;
        rc = member_argv(m, argc, argv, base->members[i], &n);
        cli_opts_default(&m->opts);
        if (rc == SG_OK)
            rc = cli_parse(&m->opts, n, m->argv, groups, usage);
        if (rc == SG_OK && m->opts.n_args != base->n_args)
            rc = sg_fail(SG_E_INVALID, "--member '%s': '%s' is not an option", base->members[i],
                         m->opts.args[m->opts.n_args - 1]);
        /* A member is one model: its own options, then train's defaults. */
        m->opts.n_members = 0;
        m->opts.single = 1;
        if (rc == SG_OK)
            rc = cli_sensor_defaults(&m->opts);
        if (rc == SG_OK)
            rc = cli_train_check(&m->opts);
        int len = snprintf(m->dir, sizeof m->dir, "%s/member_%d", base->out_dir, i);
        if (rc == SG_OK && (len < 0 || (size_t)len >= sizeof m->dir))
            rc = sg_fail(SG_E_INVALID, "--out %s: path too long", base->out_dir);
        m->opts.out_dir = m->dir;
        m->out.want_data = i == 0;
        if (rc && base->members[i][0])
            rc = sg_fail_context(rc, "--member '%s'", base->members[i]);
    }
    if (rc) {
        cli_ensemble_free(e);
        return rc;
    }
    *out = e;
    return SG_OK;
}

void cli_ensemble_free(cli_ensemble *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n; i++) {
        free(e->m[i].buf);
        free(e->m[i].argv);
        cli_train_outcome_free(&e->m[i].out);
    }
    free(e);
}

/* Member j's rows for member 0's: every member validated the same
 * samples (same data, split options and seed), possibly in another
 * order. */
static int align_rows(size_t *row, const cli_train_outcome *ref, const cli_train_outcome *o,
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
static int mean_probs(float *probs, const cli_ensemble *e)
{
    const cli_train_outcome *ref = &e->m[0].out;
    size_t k = (size_t)ref->n_classes, n = ref->n;
    double *sum = calloc(n * k + 1, sizeof *sum);
    size_t *row = malloc((n + 1) * sizeof *row);
    int rc = sum && row ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    for (int j = 0; rc == SG_OK && j < e->n; j++) {
        const cli_train_outcome *o = &e->m[j].out;
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
static int ensemble_folds(fold_result *folds, const cli_ensemble *e, const float *probs)
{
    const cli_train_outcome *ref = &e->m[0].out;
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

static int members_config(json_t *config, const cli_ensemble *e)
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
static int write_ensemble(cli_ensemble *e)
{
    const cli_opts *o = e->base;
    cli_train_outcome *ref = &e->m[0].out;
    cli_dataset *d = &ref->data;
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
        rc = cli_config_new(&config, o, d, "train");
    if (rc == SG_OK)
        rc = members_config(config, e);
    if (rc == SG_OK) {
        printf("ensemble of %d members (mean probabilities; each member's own results are in "
               "%s/member_N):\n",
               e->n, o->out_dir);
        fflush(stdout); /* its line before the stderr ones, in a log of both */
        fprintf(stderr, "sensorgram train: ensemble of %d members\n", e->n);
        rc = cli_write_validation_outputs(o->out_dir, d, ref->index, probs, ref->n,
                                          o->top_losses, &ref->spec, config);
    }
    if (rc == SG_OK)
        rc = cli_report_folds(config, folds, ref->n_folds, o->out_dir);
    if (rc == SG_OK)
        rc = run_config_write(o->out_dir, config);
    if (rc == SG_OK && fig_run_dir_draw(o->out_dir, o->figure_format) != SG_OK)
        fprintf(stderr, "sensorgram train: warning: figures: %s\n", sg_last_error());
    json_decref(config);
    free(folds);
    free(probs);
    return rc;
}

int cli_ensemble_train(cli_ensemble *e, sg_dist *dist)
{
    int writer = sg_dist_rank(dist) == 0;
    int rc = SG_OK;
    for (int i = 0; rc == SG_OK && i < e->n; i++) {
        member *m = &e->m[i];
        if (writer)
            fprintf(stderr, "sensorgram train: ensemble member %d/%d (%s) -> %s\n", i + 1, e->n,
                    e->base->members[i][0] ? e->base->members[i] : "the other options alone",
                    m->dir);
        rc = cli_train_run(&m->opts, dist, &m->out);
        if (rc)
            rc = sg_fail_context(rc, "ensemble member %d (%s)", i,
                                 e->base->members[i][0] ? e->base->members[i] : "no OPTS");
    }
    if (rc == SG_OK && writer)
        rc = write_ensemble(e);
    return rc;
}
