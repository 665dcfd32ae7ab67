/* pretrain.c - contrastive pretraining on unlabelled sensor recordings
 * (see pretrain.h).
 */
#include "src/train/pretrain.h"
#include "src/base/fs_stat.h"
#include "src/base/clock.h"

#include "models/safetensors.h"
#include "models/weights.h"
#include "src/base/atomic_file.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "src/train/job_aug.h"
#include "src/train/job_budget.h"
#include "src/train/job_setup.h"
#include "src/train/pretrain_mask.h"
#include "src/train/run_dir.h"
#include "src/train/schedule.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The second view's loader seed: any constant that differs from 0. */
#define VIEW_B_SEED 0x9e3779b97f4a7c15ull
/* NT-Xent's temperature (SimCLR's CIFAR setting; TS-TCC uses 0.2). */
#define PRETRAIN_TEMPERATURE 0.2

static const char *objective_name(const job_opts *o)
{
    return o->pretrain_objective == PRETRAIN_MASKED ? "masked" : "simclr";
}

/* Grows *buf to hold need floats. */
static int reserve(float **buf, size_t *cap, size_t need)
{
    if (need <= *cap)
        return SG_OK;
    float *p = realloc(*buf, need * sizeof *p);
    if (!p)
        return sg_fail(SG_E_NOMEM, "out of memory for a pretraining batch");
    *buf = p;
    *cap = need;
    return SG_OK;
}

/* A file pretrain writes into its folder. */
static int pretrain_file(const char *name)
{
    return strcmp(name, SG_PRETRAIN_WEIGHTS) == 0 || strcmp(name, SG_PRETRAIN_JSON) == 0 ||
           strcmp(name, SG_PRETRAIN_METRICS) == 0 ||
           (strncmp(name, "without_", 8) == 0 && strstr(name, ".safetensors"));
}

/* Removes pretrain's files from dir (and dir itself when it made it and
 * it is then empty); keeps everything else and this thread's error. */
static void remove_outputs(const char *dir, int made)
{
    char msg[2048];
    snprintf(msg, sizeof msg, "%s", sg_last_error());
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        char path[4096];
        while ((de = readdir(d)) != NULL) {
            if (!pretrain_file(de->d_name))
                continue;
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
        closedir(d);
    }
    if (made)
        rmdir(dir);
    sg_fail(SG_E_IO, "%s", msg); /* the code is the caller's; keep its message */
}

/* The output folder: new, empty, or (with --overwrite) an earlier
 * pretraining's, whose files are removed. */
static int prepare_out(const char *dir, int overwrite, int *made)
{
    *made = 0;
    if (!sg_is_dir(dir)) {
        if (access(dir, F_OK) == 0)
            return sg_fail(SG_E_INVALID, "%s exists and is not a folder", dir);
        int rc = sg_mkdir_p(dir);
        *made = rc == SG_OK;
        return rc;
    }
    DIR *d = opendir(dir);
    if (!d)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", dir, strerror(errno));
    struct dirent *de;
    int other = 0, ours = 0;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (pretrain_file(de->d_name))
            ours++;
        else
            other++;
    }
    closedir(d);
    if (ours && !overwrite)
        return sg_fail(SG_E_INVALID,
                       "%s holds a pretraining; pass --overwrite to replace it, or another --out",
                       dir);
    if (other && !ours && !overwrite)
        return sg_fail(SG_E_INVALID,
                       "%s holds other files; pass --overwrite to pretrain into it anyway (only "
                       "pretrain's files are replaced), or another --out",
                       dir);
    if (ours)
        remove_outputs(dir, 0);
    return SG_OK;
}

/* "1,2,5" from a bit mask of subjects. */
static void mask_text(char *buf, size_t size, unsigned mask)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int s = 0; s < 32 && len < size; s++)
        if (mask & (1u << s))
            len += (size_t)snprintf(buf + len, size - len, "%s%d", len ? "," : "", s);
}

/* The distinct subjects of idx[0..n) as text. */
static void subjects_text(char *buf, size_t size, const job_data *d, const size_t *idx, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        int g = d->src.group[idx[i]], seen = 0;
        if (g < 0)
            continue;
        for (size_t j = 0; j < i && !seen; j++)
            seen = d->src.group[idx[j]] == g;
        if (!seen)
            len += (size_t)snprintf(buf + len, size - len, "%s%d", len ? "," : "", g);
    }
}

typedef struct fold_out {
    int held_out;           /* subject, -1 none */
    char file[64];          /* name in the folder */
    char subjects[256];     /* seen */
    size_t n;
    int epochs, steps, batch;
    double loss, top1, seconds;
} fold_out;

/* The steps' buffers, kept across batches and epochs. */
typedef struct step_bufs {
    float *x;      /* simclr: both views; masked: the masked images */
    float *target; /* masked: span means, then weights */
    size_t x_cap, target_cap;
} step_bufs;

/* One step of the objective on batch a (and its other view b for simclr). */
static int objective_step(sg_model *m, sg_optim *opt, const job_opts *o, const sg_batch *a,
                          const sg_batch *b, sg_rng *mask_rng, step_bufs *buf, double *loss,
                          double *top1)
{
    size_t one = (size_t)a->n * (size_t)a->c * (size_t)a->h * (size_t)a->w;
    if (o->pretrain_objective == PRETRAIN_MASKED) {
        size_t k = (size_t)pretrain_mask_outputs(a->c, a->h);
        int rc = reserve(&buf->x, &buf->x_cap, one);
        if (rc == SG_OK)
            rc = reserve(&buf->target, &buf->target_cap, 2 * (size_t)a->n * k);
        if (rc)
            return rc;
        float *weight = buf->target + (size_t)a->n * k;
        pretrain_mask_batch(a->x, a->n, a->c, a->h, a->w, mask_rng, buf->x, buf->target,
                            weight);
        *top1 = 0;
        return sg_model_train_step_masked(m, opt, buf->x, a->n, a->c, a->h, a->w, buf->target,
                                          weight, (int)k, loss);
    }
    if (b->n != a->n || b->c != a->c || b->h != a->h || b->w != a->w)
        return sg_fail(SG_E_SHAPE, "the two views of a batch differ in shape");
    int rc = reserve(&buf->x, &buf->x_cap, 2 * one);
    if (rc)
        return rc;
    memcpy(buf->x, a->x, one * sizeof *buf->x);
    memcpy(buf->x + one, b->x, one * sizeof *buf->x);
    return sg_model_train_step_contrastive(m, opt, buf->x, a->n, a->c, a->h, a->w,
                                           PRETRAIN_TEMPERATURE, loss, top1);
}

/* One epoch over idx in the order of (seed, epoch): batch by batch, both
 * views of the same segments (simclr) or one view and its hidden spans
 * (masked). */
static int run_epoch(sg_model *m, sg_optim *opt, job_data *d, const sg_transform_spec *spec,
                     const size_t *idx, size_t n, int bs, const job_opts *o, int epoch,
                     const sg_onecycle *sched, long *step, step_bufs *buf, double *loss_sum,
                     double *top1_sum, int *n_steps)
{
    int two_views = o->pretrain_objective == PRETRAIN_SIMCLR;
    size_t *order = malloc(n * sizeof *order);
    if (!order)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(order, idx, n * sizeof *order);
    sg_rng r, mask_rng;
    sg_rng_seed(&r, sg_rng_derive(o->seed, 0x50524554ull, (uint64_t)epoch));
    sg_rng_shuffle(&r, order, n);
    sg_rng_seed(&mask_rng, sg_rng_derive(o->seed, 0x4d41534bull, (uint64_t)epoch));
    sg_sample_source view = sample_source_loader_view(&d->src);
    sg_loader *la = NULL, *lb = NULL;
    sg_loader_opts lo = {
        .batch_size = (size_t)bs,
        .drop_last = 1, /* equal, full batches (of pairs) */
        .shuffle = 0,
        .seed = o->seed,
        .train = 1,
        .n_workers = job_workers(o),
        .prefetch = 2,
        .subset = order,
        .subset_n = n,
    };
    int rc = sg_loader_create(&la, &view, spec, &lo);
    lo.seed = o->seed ^ VIEW_B_SEED;
    if (rc == SG_OK && two_views)
        rc = sg_loader_create(&lb, &view, spec, &lo);
    if (rc == SG_OK)
        rc = sg_loader_start_epoch(la, epoch);
    if (rc == SG_OK && two_views)
        rc = sg_loader_start_epoch(lb, epoch);
    while (rc == SG_OK) {
        sg_batch *a, *b = NULL;
        int got = sg_loader_next(la, &a);
        if (got <= 0) {
            rc = got;
            break;
        }
        if (two_views && (got = sg_loader_next(lb, &b)) <= 0) {
            rc = got < 0 ? got : sg_fail(SG_E_INVALID, "the two views' loaders disagree");
            break;
        }
        double lr = sg_onecycle_lr(sched, *step), mom = sg_onecycle_momentum(sched, *step);
        for (int s = 0; rc == SG_OK && s < SG_STAGE_COUNT; s++)
            rc = sg_optim_set_stage(opt, (sg_stage)s, lr, mom);
        double loss = 0, top1 = 0;
        if (rc == SG_OK)
            rc = objective_step(m, opt, o, a, b, &mask_rng, buf, &loss, &top1);
        if (rc == SG_OK) {
            *loss_sum += loss;
            *top1_sum += top1;
            (*n_steps)++;
            (*step)++;
        }
    }
    sg_loader_free(la);
    sg_loader_free(lb);
    free(order);
    return rc;
}

/* Pretrains one model on idx[0..n) of d and writes it to path. */
static int pretrain_fold(const job_opts *o, job_data *d, const size_t *idx, size_t n,
                         const char *path, fold_out *fo, FILE *metrics)
{
    if (n < 4)
        return sg_fail(SG_E_INVALID, "pretraining needs at least 4 segments; %s has %zu",
                       o->args[0], n);
    int h, w;
    job_input_hw(d, o, &h, &w);
    /* the image cost caps a batch only under a step budget (job_budget.h) */
    if (o->train_steps <= 0)
        h = w = 0;
    int bs = o->batch_size > 0 ? o->batch_size : job_budget_batch(n, h, w);
    if ((size_t)bs > n)
        bs = (int)n;
    size_t steps_per_epoch = n / (size_t)bs;
    int epochs = o->epochs;
    if (o->train_steps > 0) {
        epochs = (int)(((size_t)o->train_steps + steps_per_epoch - 1) / steps_per_epoch);
        if (epochs < 1)
            epochs = 1;
    }
    int rc = job_data_fit(d, idx, n);
    sg_transform_spec spec = {0};
    if (rc == SG_OK)
        rc = job_transform_spec(&spec, d, o);
    /* ImageNet statistics, as fine-tuning from pretrained weights uses
     * (job_normalization): the weights then see the same inputs. */
    if (rc == SG_OK)
        rc = job_normalization(&spec, d, idx, n, 1, o);
    int masked = o->pretrain_objective == PRETRAIN_MASKED;
    if (rc == SG_OK && masked && spec.width < PRETRAIN_MASK_BLOCKS)
        rc = sg_fail(SG_E_INVALID,
                     "--objective masked hides %d of %d time spans; a %d-column image has too "
                     "few",
                     PRETRAIN_MASK_HIDDEN, PRETRAIN_MASK_BLOCKS, spec.width);
    /* the fc is simclr's projection head or the masked task's decoder */
    int outputs = masked ? pretrain_mask_outputs(spec.channels, spec.height) : SG_PRETRAIN_PROJ_DIM;
    sg_model *m = NULL;
    if (rc == SG_OK)
        rc = job_model_create(&m, o, &spec, outputs, "", o->seed, "pretrain", 0);
    if (rc == SG_OK)
        rc = sg_model_set_train(m, 1);
    sg_optim_spec os = {
        .kind = o->opt,
        .lr = o->lr,
        .momentum = 0.9,
        .beta2 = 0.99,
        .eps = 1e-5,
        .weight_decay = o->wd,
        .no_decay_bn_bias = 1,
    };
    sg_optim *opt = NULL;
    if (rc == SG_OK)
        rc = sg_optim_create(&opt, m, &os);
    sg_onecycle sched;
    if (rc == SG_OK) {
        sg_onecycle_torch_defaults(&sched, o->lr, (long)epochs * (long)steps_per_epoch);
        rc = sg_onecycle_check(&sched);
    }
    fo->n = n;
    fo->epochs = epochs;
    fo->batch = bs;
    subjects_text(fo->subjects, sizeof fo->subjects, d, idx, n);
    if (rc == SG_OK)
        fprintf(stderr,
                "sensorgram pretrain: %s: %zu segments%s%s, %dx%dx%d input, %s, %d epochs of %zu "
                "steps, batches of %d %s\n",
                fo->file, n, fo->subjects[0] ? " of subjects " : "", fo->subjects, spec.channels,
                spec.height, spec.width, sg_arch_name(o->arch), epochs, steps_per_epoch, bs,
                masked ? "segments, half of each one's time hidden" : "pairs");
    double t0 = sg_now_seconds();
    long step = 0;
    step_bufs buf = {0};
    for (int e = 0; rc == SG_OK && e < epochs; e++) {
        double loss = 0, top1 = 0;
        int k = 0;
        rc = run_epoch(m, opt, d, &spec, idx, n, bs, o, e, &sched, &step, &buf, &loss, &top1, &k);
        if (rc == SG_OK && k > 0) {
            fo->loss = loss / k;
            fo->top1 = top1 / k;
            if (masked)
                fprintf(stderr,
                        "sensorgram pretrain: epoch %d/%d  reconstruction loss %.4f  (%.0f s)\n",
                        e + 1, epochs, fo->loss, sg_now_seconds() - t0);
            else
                fprintf(stderr,
                        "sensorgram pretrain: epoch %d/%d  contrastive loss %.4f  pair found "
                        "%.1f%%  (%.0f s)\n",
                        e + 1, epochs, fo->loss, 100.0 * fo->top1, sg_now_seconds() - t0);
            if (metrics && masked)
                fprintf(metrics, "%d,%d,%.6f,,%.2f\n", fo->held_out, e + 1, fo->loss,
                        sg_now_seconds() - t0);
            else if (metrics)
                fprintf(metrics, "%d,%d,%.6f,%.6f,%.2f\n", fo->held_out, e + 1, fo->loss, fo->top1,
                        sg_now_seconds() - t0);
        }
    }
    free(buf.x);
    free(buf.target);
    fo->steps = (int)step;
    fo->seconds = sg_now_seconds() - t0;
    char n_text[32], held[32];
    snprintf(n_text, sizeof n_text, "%zu", n);
    snprintf(held, sizeof held, "%d", fo->held_out);
    const char *keys[] = {"sensorgram.pretrain", SG_PRETRAIN_META_SUBJECTS,
                          "sensorgram.held_out", "sensorgram.segments", "sensorgram.data"};
    const char *values[] = {objective_name(o), fo->subjects, fo->held_out >= 0 ? held : "",
                            n_text, o->args[0]};
    if (rc == SG_OK)
        rc = sg_weights_save(m, path, keys, values, sizeof keys / sizeof keys[0]);
    sg_optim_free(opt);
    sg_model_free(m);
    return rc;
}

static json_t *fold_json(const fold_out *f)
{
    return json_pack("{s:s, s:o, s:s, s:I, s:i, s:i, s:i, s:f, s:f, s:f}", "file", f->file,
                     "held_out", f->held_out >= 0 ? json_integer(f->held_out) : json_null(),
                     "subjects", f->subjects, "segments", (json_int_t)f->n, "epochs", f->epochs,
                     "steps", f->steps, "batch_pairs", f->batch, "final_loss", f->loss,
                     "final_pair_found", f->top1, "seconds", f->seconds);
}

static int write_json(const char *dir, const job_opts *o, const fold_out *folds, int n)
{
    json_t *arr = json_array();
    for (int i = 0; arr && i < n; i++)
        json_array_append_new(arr, fold_json(&folds[i]));
    json_t *args = json_array();
    for (int i = 0; args && i < o->argc; i++)
        json_array_append_new(args, json_string(o->argv[i]));
    /* what the objective's head was */
    json_t *head = o->pretrain_objective == PRETRAIN_MASKED
                       ? json_pack("{s:i, s:i}", "spans", PRETRAIN_MASK_BLOCKS, "hidden",
                                   PRETRAIN_MASK_HIDDEN)
                       : json_pack("{s:f, s:i}", "temperature", PRETRAIN_TEMPERATURE,
                                   "projection", SG_PRETRAIN_PROJ_DIM);
    json_t *j = json_pack("{s:s, s:o, s:s, s:s?, s:s, s:s, s:o, s:f, s:f, s:s, s:o}",
                          "objective", objective_name(o), "argv", args ? args : json_null(), "data",
                          o->args[0], "dataset", o->dataset, "cv",
                          o->cv == JOB_CV_LOSO ? "loso" : "none", "arch", sg_arch_name(o->arch),
                          objective_name(o), head ? head : json_null(), "lr", o->lr, "wd", o->wd,
                          "normalization", "imagenet", "folds", arr ? arr : json_null());
    if (!j)
        return sg_fail(SG_E_NOMEM, "cannot build %s", SG_PRETRAIN_JSON);
    char path[4096];
    int rc = run_dir_path(path, sizeof path, dir, SG_PRETRAIN_JSON);
    char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(j);
    if (rc == SG_OK && !text)
        rc = sg_fail(SG_E_NOMEM, "cannot build %s", SG_PRETRAIN_JSON);
    if (rc == SG_OK)
        rc = sg_atomic_write(path, text, strlen(text));
    free(text);
    return rc;
}

/* The subjects of a DSA root for --cv loso, by stat alone. */
static int dsa_fold_subjects(const job_opts *o, unsigned *present)
{
    dsa_select sel;
    dsa_select_all(&sel);
    int rc = o->subjects ? dsa_select_parse_subjects(&sel, o->subjects) : SG_OK;
    if (rc == SG_OK)
        rc = dsa_subjects_present(o->args[0], sel.subjects, present);
    int count = 0;
    for (int s = 0; s < 32; s++)
        count += (*present >> s) & 1u;
    if (rc == SG_OK && count < 2)
        rc = sg_fail(SG_E_INVALID, "--cv loso needs at least two subjects under %s (found %d)",
                     o->args[0], count);
    return rc;
}

/* Loads the data of one pretraining: DSA folds read only their subjects. */
static int load_fold(job_data *d, const job_opts *o, unsigned dsa_subjects)
{
    job_opts fo = *o;
    char list[128];
    if (dsa_subjects) {
        mask_text(list, sizeof list, dsa_subjects);
        fo.subjects = list;
    }
    int rc = job_data_load(d, &fo, o->args[0], 0);
    if (rc == SG_OK && !d->is_series) {
        job_data_free(d);
        rc = sg_fail(SG_E_INVALID,
                     "%s holds images; pretrain learns from sensor recordings (--dataset dsa, "
                     ".ts, numpy, CSV)",
                     o->args[0]);
    }
    if (rc == SG_OK && (rc = job_aug_install(d, o)) != SG_OK)
        job_data_free(d);
    if (rc == SG_OK && o->pretrain_objective == PRETRAIN_SIMCLR && !d->src.aug_on) {
        job_data_free(d);
        rc = sg_fail(SG_E_INVALID, "contrastive pretraining needs series augmentation (two "
                                   "views of a segment): drop --no-augment or set an --aug-*");
    }
    return rc;
}

/* One fold into its file in the run folder: without_S.safetensors for
 * held-out subject S, else the weights file; pretrained on idx of d. */
static int pretrain_fold_file(const job_opts *o, fold_out *fo, int held_out, job_data *d,
                              const size_t *idx, size_t n, FILE *metrics)
{
    fo->held_out = held_out;
    if (held_out >= 0)
        snprintf(fo->file, sizeof fo->file, "without_%d.safetensors", held_out);
    else
        snprintf(fo->file, sizeof fo->file, "%s", SG_PRETRAIN_WEIGHTS);
    char path[4096];
    int rc = run_dir_path(path, sizeof path, o->out_dir, fo->file);
    return rc ? rc : pretrain_fold(o, d, idx, n, path, fo, metrics);
}

/* All folds of a non-DSA source from one reading: idx of each fold are
 * the segments of the other subjects. */
static int run_folds_in_memory(const job_opts *o, fold_out *folds, int *n_folds, FILE *metrics)
{
    job_data d;
    int rc = load_fold(&d, o, 0);
    if (rc)
        return rc;
    int *subjects = NULL;
    size_t n_sub = 0;
    if (o->cv == JOB_CV_LOSO) {
        if (!job_data_has_subjects(&d))
            rc = sg_fail(SG_E_INVALID,
                         "--cv loso needs subjects: %s has none (--subject-column, "
                         "--subject-regex)",
                         o->args[0]);
        if (rc == SG_OK)
            rc = sg_subjects_distinct(&subjects, &n_sub, d.src.group, d.src.n);
    }
    size_t *idx = rc == SG_OK ? malloc(d.src.n * sizeof *idx) : NULL;
    if (rc == SG_OK && !idx)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    int total = o->cv == JOB_CV_LOSO ? (int)n_sub : 1;
    for (int f = 0; rc == SG_OK && f < total; f++) {
        int held_out = o->cv == JOB_CV_LOSO ? subjects[f] : -1;
        size_t n = 0;
        for (size_t i = 0; i < d.src.n; i++)
            if (held_out < 0 || d.src.group[i] != held_out)
                idx[n++] = i;
        rc = pretrain_fold_file(o, &folds[f], held_out, &d, idx, n, metrics);
        *n_folds = f + 1;
    }
    free(idx);
    free(subjects);
    job_data_free(&d);
    return rc;
}

/* DSA under --cv loso: each fold reads only the subjects it trains on. */
static int run_folds_dsa(const job_opts *o, fold_out *folds, int *n_folds, FILE *metrics)
{
    unsigned present = 0;
    int rc = dsa_fold_subjects(o, &present);
    int f = 0;
    for (int s = 0; rc == SG_OK && s < 32; s++) {
        if (!(present & (1u << s)))
            continue;
        job_data d;
        rc = load_fold(&d, o, present & ~(1u << s));
        if (rc)
            break;
        size_t *idx = malloc(d.src.n * sizeof *idx);
        if (!idx)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        for (size_t i = 0; idx && i < d.src.n; i++)
            idx[i] = i;
        if (rc == SG_OK)
            rc = pretrain_fold_file(o, &folds[f], s, &d, idx, d.src.n, metrics);
        free(idx);
        job_data_free(&d);
        *n_folds = ++f;
    }
    return rc;
}

int job_pretrain(const job_opts *o)
{
    if (!o->out_dir)
        return sg_fail(SG_E_INVALID, "pretrain needs --out DIR");
    if (o->cv == JOB_CV_KFOLD)
        return sg_fail(SG_E_INVALID,
                       "pretrain reads no labels, so k folds would hold nothing out that "
                       "matters; --cv loso holds out each subject in turn");
    int made = 0;
    int rc = prepare_out(o->out_dir, o->overwrite, &made);
    if (rc)
        return rc;
    fold_out folds[32];
    memset(folds, 0, sizeof folds);
    int n_folds = 0;
    char mpath[4096];
    FILE *metrics = NULL;
    rc = run_dir_path(mpath, sizeof mpath, o->out_dir, SG_PRETRAIN_METRICS);
    if (rc == SG_OK && !(metrics = fopen(mpath, "w")))
        rc = sg_fail(SG_E_IO, "%s: cannot create: %s", mpath, strerror(errno));
    if (metrics)
        fprintf(metrics, "held_out,epoch,loss,pair_found,seconds\n");
    int dsa = o->dataset && strcmp(o->dataset, "dsa") == 0;
    if (rc == SG_OK)
        rc = dsa && o->cv == JOB_CV_LOSO ? run_folds_dsa(o, folds, &n_folds, metrics)
                                         : run_folds_in_memory(o, folds, &n_folds, metrics);
    if (metrics && fclose(metrics) != 0 && rc == SG_OK)
        rc = sg_fail(SG_E_IO, "%s: write failed", mpath);
    if (rc == SG_OK)
        rc = write_json(o->out_dir, o, folds, n_folds);
    if (rc) {
        remove_outputs(o->out_dir, made);
        return rc;
    }
    for (int f = 0; f < n_folds; f++) {
        char found[64] = "";
        if (o->pretrain_objective == PRETRAIN_SIMCLR)
            snprintf(found, sizeof found, ", pair found %.1f%%", 100.0 * folds[f].top1);
        printf("%s/%s: %zu segments%s%s, final %s loss %.4f%s, %.0f s\n", o->out_dir,
               folds[f].file, folds[f].n, folds[f].subjects[0] ? " of subjects " : "",
               folds[f].subjects,
               o->pretrain_objective == PRETRAIN_MASKED ? "reconstruction" : "contrastive",
               folds[f].loss, found, folds[f].seconds);
    }
    return SG_OK;
}

/* The subjects a weights file says it saw, as a list; *known = 0 when
 * it says nothing (ImageNet files, older files); *sensor = 1 when
 * `pretrain` wrote it.  One read of the file for both. */
static int file_subjects(const char *path, int *seen, int max, int *n_seen, int *known,
                         int *sensor)
{
    *n_seen = 0;
    *known = 0;
    *sensor = 0;
    if (!strstr(path, ".safetensors"))
        return SG_OK;
    sg_st_file f;
    int rc = sg_st_open(&f, path);
    if (rc)
        return rc;
    *sensor = sg_st_meta(&f, "sensorgram.pretrain") != NULL;
    const char *list = sg_st_meta(&f, SG_PRETRAIN_META_SUBJECTS);
    if (list) {
        *known = 1;
        for (const char *p = list; *p && *n_seen < max;) {
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p)
                break;
            seen[(*n_seen)++] = (int)v;
            p = *end == ',' ? end + 1 : end;
        }
    }
    sg_st_close(&f);
    return SG_OK;
}

int job_pretrained_pick(char *path, size_t size, const job_data *d, const sg_split *split,
                        const job_opts *o, int *sensor)
{
    int local;
    if (!sensor)
        sensor = &local;
    *sensor = 0;
    if (!path[0])
        return SG_OK;
    /* the validation subjects, where validation holds out subjects */
    int held[64], n_held = 0;
    int by_subject = (o->cv == JOB_CV_LOSO || o->valid_subjects) && split;
    for (size_t i = 0; by_subject && i < split->n_valid && n_held < 64; i++) {
        int g = d->src.group[split->valid[i]], seen = 0;
        for (int j = 0; j < n_held && !seen; j++)
            seen = held[j] == g;
        if (!seen && g >= 0)
            held[n_held++] = g;
    }
    if (sg_is_dir(path)) {
        char dir[4096], file[4160];
        snprintf(dir, sizeof dir, "%s", path);
        snprintf(file, sizeof file, "%s/%s", dir, SG_PRETRAIN_WEIGHTS);
        if (!sg_is_file(file) && n_held == 1)
            snprintf(file, sizeof file, "%s/without_%d.safetensors", dir, held[0]);
        if (!sg_is_file(file)) {
            if (n_held == 1)
                return sg_fail(SG_E_INVALID,
                               "%s has no pretraining without subject %d (%s nor "
                               "without_%d.safetensors): pretrain with --cv loso over the same "
                               "subjects",
                               dir, held[0], SG_PRETRAIN_WEIGHTS, held[0]);
            return sg_fail(SG_E_INVALID,
                           "%s holds no %s: it is a --cv loso pretraining (one file per "
                           "held-out subject), which train --cv loso picks from; elsewhere name "
                           "one file, %s/without_S.safetensors",
                           dir, SG_PRETRAIN_WEIGHTS, dir);
        }
        if ((size_t)snprintf(path, size, "%s", file) >= size)
            return sg_fail(SG_E_INVALID, "path too long: %s", file);
    }
    int seen[64], n_seen = 0, known = 0;
    int rc = file_subjects(path, seen, 64, &n_seen, &known, sensor);
    if (rc)
        return rc;
    for (int i = 0; known && i < n_held; i++)
        for (int j = 0; j < n_seen; j++)
            if (held[i] == seen[j])
                return sg_fail(SG_E_INVALID,
                               "%s was pretrained on subject %d, which this run validates on: "
                               "a subject-wise score needs weights that never saw it "
                               "(sensorgram pretrain --cv loso --out DIR, then --pretrained DIR)",
                               path, held[i]);
    return SG_OK;
}

