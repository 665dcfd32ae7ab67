/* job_setup.c - config.json, validation outputs and fold summaries
 * for train and eval (see job_setup.h).
 */
#include "src/train/job_setup.h"

#include "src/base/atomic_file.h"
#include "src/encode/enc_json.h"
#include "src/train/metrics.h"
#include "src/image/png_io.h"
#include "src/base/rng.h"
#include "src/train/run_dir.h"
#include "src/train/run_files.h"
#include "src/base/sg_error.h"
#include "models/weights.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int job_resolve_pretrained(char *path, size_t size, const job_opts *o, const char *cmd,
                           int *noted)
{
    path[0] = '\0';
    if (o->pretrained && strcmp(o->pretrained, "none") == 0)
        return SG_OK;
    if (o->pretrained)
        return sg_weights_resolve(path, size, o->pretrained);
    if (sg_weights_resolve(path, size, sg_arch_name(o->arch)) == SG_OK)
        return SG_OK;
    path[0] = '\0';
    if (!*noted)
        fprintf(stderr,
                "sensorgram %s: note: no pretrained %s weights stored (sensorgram weights "
                "fetch %s); training starts from random init\n",
                cmd, sg_arch_name(o->arch), sg_arch_name(o->arch));
    *noted = 1;
    return SG_OK;
}

int job_normalization(sg_transform_spec *spec, job_data *d, const size_t *idx, size_t n,
                      int pretrained, const job_opts *o)
{
    int rc = SG_OK;
    /* Pretrained weights expect ImageNet statistics (the spec's defaults);
     * from random init the data's own statistics are better. */
    if (!pretrained)
        rc = train_dataset_stats(spec->mean, spec->std, &d->src, idx, n, spec, 512,
                                 job_workers(o));
    spec->normalize = 1;
    return rc;
}

int job_model_create(sg_model **out, const job_opts *o, const sg_transform_spec *spec,
                     int n_classes, const char *pretrained, uint64_t seed, const char *cmd,
                     int verbose)
{
    *out = NULL;
    sg_model_spec ms = {
        .arch = o->arch,
        .in_channels = spec->channels,
        .n_classes = n_classes,
        .device = o->device,
        .precision = o->precision,
        /* tensor-core convolutions under autocast want NHWC; CUDA only
         * (sg_model_create clears it on the CPU) */
        .channels_last = o->precision != SG_PRECISION_FP32,
        .n_threads = job_torch_threads(o),
    };
    sg_model *m = NULL;
    int rc = sg_torch_seed(seed);
    if (rc == SG_OK)
        rc = sg_model_create(&m, &ms);
    if (rc == SG_OK)
        rc = sg_model_set_cuda_graphs(m, o->cuda_graphs);
    if (rc == SG_OK && pretrained[0]) {
        sg_weights_report rep;
        rc = sg_weights_load(m, pretrained, &rep);
        if (rc == SG_OK && verbose)
            fprintf(stderr, "sensorgram %s: pretrained weights %s%s\n", cmd, pretrained,
                    rep.stem_adapted ? " (first convolution adapted to the input channels)"
                                     : "");
    }
    if (rc) {
        sg_model_free(m);
        return rc;
    }
    char dev[256] = "";
    if (verbose && o->precision != SG_PRECISION_FP32 &&
        sg_model_device(m, dev, sizeof dev) == SG_OK && strncmp(dev, "cuda", 4) != 0)
        fprintf(stderr, "sensorgram %s: note: --mixed-precision needs CUDA; %s trains in float32\n",
                cmd, dev);
    *out = m;
    return SG_OK;
}

int job_config_new(json_t **out, const job_opts *o, const job_data *d, const char *command)
{
    json_t *classes = json_array();
    for (int i = 0; classes && i < d->src.n_classes; i++)
        json_array_append_new(classes, json_string(d->src.class_names[i]));
    json_t *args = json_array();
    for (int i = 0; args && i < o->n_args; i++)
        json_array_append_new(args, json_string(o->args[i]));
    const char *cv = o->cv == JOB_CV_LOSO ? "loso" : o->cv == JOB_CV_KFOLD ? "kfold" : "none";
    json_t *options = json_pack(
        "{s:s?, s:o, s:s?, s:s?, s:s?, s:s?, s:s?, s:f, s:s?, s:s, s:i, s:s, s:s?, s:i, s:s, "
        "s:I, s:i, s:f, s:i, s:f, s:s, s:f, s:i, s:s, s:i, s:s, s:b}",
        "dataset", o->dataset, "data", args, "label_regex", o->label_regex, "units", o->units,
        "sensors", o->sensors, "axes", o->axes, "subjects", o->subjects, "valid_pct",
        o->valid_pct, "valid_subjects", o->valid_subjects, "cv", cv, "cv_k", o->cv_k, "arch",
        sg_arch_name(o->arch), "pretrained", o->pretrained, "image_size", o->image_size,
        "device", o->device ? o->device : "auto", "seed", (json_int_t)o->seed, "epochs",
        o->epochs, "lr", o->lr, "bs", o->batch_size, "wd", o->wd, "opt",
        o->opt == SG_OPTIM_SGD ? "sgd" : "adamw", "label_smoothing", o->label_smoothing,
        "freeze_epochs", o->freeze_epochs, "schedule", o->schedule_fastai ? "fastai" : "onecycle",
        "workers", o->workers, "mixed_precision",
        o->precision == SG_PRECISION_BF16 ? "bf16"
        : o->precision == SG_PRECISION_FP16 ? "fp16"
                                            : "off",
        "resume", o->resume);
    json_t *config = json_pack("{s:s, s:o, s:o, s:I}", "command", command, "options", options,
                               "classes", classes, "n_samples", (json_int_t)d->src.n);
    if (!config)
        return sg_fail(SG_E_NOMEM, "cannot build config.json");
    /* the validation split actually used, and BatchNorm recalibration */
    json_object_set_new(options, "valid_pct_given", json_boolean(o->valid_pct_given));
    /* An ensemble's own config.json keeps what its members resolved by
     * their data (--bs auto, --valid-pct auto, --train-steps: job_budget.h)
     * as asked; each member's says the numbers. */
    if (o->batch_size == 0)
        json_object_set_new(options, "bs", json_string("auto"));
    if (o->valid_pct < 0)
        json_object_set_new(options, "valid_pct", json_string("auto"));
    if (o->train_steps > 0)
        json_object_set_new(options, "train_steps", json_integer(o->train_steps));
    json_object_set_new(options, "bn_recal", json_integer(o->bn_recal));
    json_object_set_new(options, "lr_spread",
                        o->lr_spread < 0 ? json_string("auto") : json_boolean(o->lr_spread));
    json_object_set_new(options, "ema", json_real(o->ema));
    json_object_set_new(options, "swa", json_integer(o->swa));
    json_object_set_new(options, "keep_folds", json_boolean(o->keep_folds));
    /* the command as typed (report.html shows it) */
    json_t *argv = json_array();
    for (int i = 0; argv && i < o->argc; i++) {
        json_t *arg = json_string(o->argv[i] ? o->argv[i] : "");
        json_array_append_new(argv, arg ? arg : json_string("(not UTF-8)"));
    }
    if (!argv || json_object_set_new(config, "argv", argv) != 0) {
        json_decref(config);
        return sg_fail(SG_E_NOMEM, "cannot build config.json");
    }
    /* how CSV recordings were read (the checkpoint keeps it for predict) */
    if (d->is_csv)
        json_object_set_new(options, "csv",
                            json_pack("{s:s?, s:i, s:i, s:s?, s:s?, s:s?}", "columns",
                                      o->csv.columns, "window", o->csv.window, "stride",
                                      o->csv.stride, "label_column", o->csv.label_column,
                                      "subject_column", o->csv.subject_column, "subject_regex",
                                      o->csv.subject_regex));
    *out = config;
    return SG_OK;
}

int job_config_add_model(json_t *config, const sg_transform_spec *spec, const char *pretrained,
                         const job_data *d, const train_meta *meta)
{
    static const char *const resize_names[] = {"none", "squish", "short_crop"};
    json_t *mean = json_array(), *std = json_array();
    for (int c = 0; mean && std && c < (spec->channels > 3 ? spec->channels : 3); c++) {
        json_array_append_new(mean, json_real((double)spec->mean[c]));
        json_array_append_new(std, json_real((double)spec->std[c]));
    }
    json_t *input = json_pack("{s:i, s:i, s:i, s:s, s:o, s:o, s:s}", "channels", spec->channels,
                              "height", spec->height, "width", spec->width, "resize",
                              resize_names[spec->resize], "mean", mean, "std", std,
                              "normalization", pretrained[0] ? "imagenet" : "dataset");
    if (!input || json_object_set_new(config, "input", input) != 0)
        return sg_fail(SG_E_NOMEM, "cannot build config.json");
    json_object_set_new(config, "pretrained_weights",
                        pretrained[0] ? json_string(pretrained) : json_null());
    if (d->is_series) {
        json_t *enc = enc_params_to_json(&meta->enc);
        if (!enc)
            return sg_fail(SG_E_NOMEM, "cannot build config.json");
        json_object_set_new(enc, "segment_channels", json_integer(d->n_segment_channels));
        json_object_set_new(enc, "segment_samples", json_integer(d->src.series.n_samples));
        if (d->max_length > 0)
            json_object_set_new(enc, "max_length", json_integer(d->max_length));
        json_object_set_new(enc, "magnitude",
                            json_string(dsa_magnitude_name((dsa_magnitude)meta->magnitude)));
        if (d->src.stack.n > 1)
            json_object_set_new(enc, "stack", enc_stack_to_json(&d->src.stack));
        json_t *names = json_array();
        const sg_series_set *set = &d->src.series;
        for (int c = 0; names && set->channel_names && c < set->n_channels; c++)
            json_array_append_new(names, json_string(set->channel_names[c]
                                                         ? set->channel_names[c]
                                                         : ""));
        json_object_set_new(enc, "segment_channel_names", names);
        json_object_set_new(config, "encoder", enc);
    }
    return SG_OK;
}

/* The CSV options new recordings are read with at eval and predict: the
 * ones of training, with the columns it picked by name (the header's,
 * or indices without one), so that a label or subject column, present
 * or not at predict, is never taken for data. */
static int meta_csv(train_meta *meta, const job_data *d, const job_opts *o)
{
    const sg_series_set *s = &d->src.series;
    sensor_csv_options *c = &meta->csv;
    free((char *)c->columns);
    free((char *)c->label_column);
    free((char *)c->label_regex);
    *c = o->csv;
    c->columns = c->label_column = c->label_regex = NULL;
    c->subject_column = c->subject_regex = NULL;
    meta->has_csv = 1;
    size_t len = 1;
    int by_name = s->channel_names != NULL;
    for (int k = 0; by_name && k < s->n_channels; k++) {
        by_name = s->channel_names[k] && !strchr(s->channel_names[k], ',');
        len += by_name ? strlen(s->channel_names[k]) + 1 : 0;
    }
    char *columns = NULL;
    if (by_name) {
        columns = malloc(len);
        if (!columns)
            return sg_fail(SG_E_NOMEM, "out of memory");
        columns[0] = '\0';
        for (int k = 0; k < s->n_channels; k++) {
            if (k)
                strcat(columns, ",");
            strcat(columns, s->channel_names[k]);
        }
    } else if (o->csv.columns && !(columns = strdup(o->csv.columns))) {
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    c->columns = columns;
    char *label_column = NULL, *label_regex = NULL;
    int rc = train_meta_set_string(&label_column, o->csv.label_column);
    c->label_column = label_column;
    if (rc == SG_OK)
        rc = train_meta_set_string(&label_regex, o->csv.label_regex);
    c->label_regex = label_regex;
    return rc;
}

int job_meta_sensor(train_meta *meta, const job_data *d, const job_opts *o,
                    const char *tmp_dir)
{
    if (!d->is_series)
        return SG_OK;
    meta->is_series = 1;
    meta->enc = d->src.enc;
    meta->stack = d->src.stack;
    meta->magnitude = (int)o->magnitude;
    meta->segment_channels = d->n_segment_channels;
    meta->max_length = d->max_length;
    int rc = SG_OK;
    if (d->src.fit)
        rc = enc_fit_to_text(&meta->fit_text, d->src.fit, tmp_dir);
    for (int k = 0; rc == SG_OK && d->src.stack.n > 1 && k < d->src.stack.n; k++) {
        free(meta->stack_fit_text[k]);
        meta->stack_fit_text[k] = NULL;
        if (d->src.stack_fit[k])
            rc = enc_fit_to_text(&meta->stack_fit_text[k], d->src.stack_fit[k], tmp_dir);
    }
    if (!rc) rc = train_meta_set_string(&meta->units, o->units);
    if (!rc) rc = train_meta_set_string(&meta->sensors, o->sensors);
    if (!rc) rc = train_meta_set_string(&meta->axes, o->axes);
    if (!rc && d->is_csv)
        rc = meta_csv(meta, d, o);
    return rc;
}

/* Draws what the network saw for sample i (eval geometry, before
 * normalisation) into path. */
static int write_seen_image(const char *path, job_data *d, size_t i,
                            const sg_transform_spec *spec)
{
    sg_image img;
    int rc = sample_source_read(&d->src, i, &img);
    if (rc)
        return rc;
    size_t numel = (size_t)spec->channels * (size_t)spec->height * (size_t)spec->width;
    float *buf = malloc(numel * sizeof *buf);
    if (!buf) {
        sg_image_free(&img);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    sg_transform_spec s = *spec;
    s.normalize = 0;
    sg_rng rng;
    sg_rng_seed(&rng, 0);
    rc = sg_transform_apply(&s, 0, &img, buf, &rng);
    /* A PNG holds 1 or 3 channels: other counts (stacked encoders) are
     * drawn as their channels side by side in gray. */
    if (rc == SG_OK && s.channels != 1 && s.channels != 3) {
        float *row = malloc(numel * sizeof *row);
        size_t W = (size_t)s.width, H = (size_t)s.height, C = (size_t)s.channels;
        if (!row)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        for (size_t c = 0; row && c < C; c++)
            for (size_t y = 0; y < H; y++)
                memcpy(row + y * C * W + c * W, buf + (c * H + y) * W, W * sizeof *row);
        if (rc == SG_OK)
            rc = sg_png_write(path, row, 1, s.height, (int)(C * W), 8);
        free(row);
    } else if (rc == SG_OK) {
        rc = sg_png_write(path, buf, s.channels, s.height, s.width, 8);
    }
    free(buf);
    sg_image_free(&img);
    return rc;
}

static int write_top_losses(const char *run_dir, job_data *d, const size_t *index,
                            const float *probs, const int *labels, const int *preds, size_t n,
                            int n_top, const sg_transform_spec *spec)
{
    int k = d->src.n_classes;
    double *losses = malloc((n ? n : 1) * sizeof *losses);
    size_t *top = malloc((size_t)(n_top > 0 ? n_top : 1) * sizeof *top);
    run_top_loss *rows = calloc((size_t)(n_top > 0 ? n_top : 1), sizeof *rows);
    char(*names)[32] = calloc((size_t)(n_top > 0 ? n_top : 1), sizeof *names);
    int rc = SG_OK;
    if (!losses || !top || !rows || !names)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    size_t m = 0;
    char dir[4096], path[4096];
    if (rc == SG_OK) {
        for (size_t i = 0; i < n; i++)
            losses[i] = sg_sample_log_loss(probs + i * (size_t)k, k, labels[i]);
        m = sg_top_losses(top, losses, n, (size_t)(n_top > 0 ? n_top : 0));
        rc = run_dir_path(dir, sizeof dir, run_dir, "top_losses");
    }
    if (rc == SG_OK && m)
        rc = sg_mkdir_p(dir);
    for (size_t r = 0; rc == SG_OK && r < m; r++) {
        size_t i = top[r];
        snprintf(names[r], sizeof names[r], "top_losses/%02zu.png", r + 1);
        rc = run_dir_path(path, sizeof path, run_dir, names[r]);
        if (rc == SG_OK)
            rc = write_seen_image(path, d, index[i], spec);
        rows[r].image = names[r];
        rows[r].label = labels[i];
        rows[r].pred = preds[i];
        rows[r].prob = probs[i * (size_t)k + (size_t)preds[i]];
        rows[r].loss = losses[i];
    }
    if (rc == SG_OK)
        rc = run_dir_path(path, sizeof path, run_dir, SG_RUN_TOP_LOSSES);
    if (rc == SG_OK)
        rc = run_top_losses_write(path, rows, m, (const char *const *)d->src.class_names);
    free(losses);
    free(top);
    free(rows);
    free(names);
    return rc;
}

int job_write_validation_outputs(const char *run_dir, job_data *d, const size_t *index,
                                 const float *probs, size_t n, int n_top,
                                 const sg_transform_spec *spec, json_t *config)
{
    if (n == 0)
        return SG_OK;
    int k = d->src.n_classes;
    const char **paths = malloc(n * sizeof *paths);
    int *labels = malloc(n * sizeof *labels);
    int *preds = malloc(n * sizeof *preds);
    sg_cm cm = {0};
    int rc = (paths && labels && preds) ? cm_create(&cm, k) : sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < n; i++) {
        paths[i] = d->src.name[index[i]];
        labels[i] = d->src.label[index[i]];
        preds[i] = sg_argmax(probs + i * (size_t)k, k);
        rc = cm_add(&cm, labels[i], preds[i]);
    }
    char path[4096];
    if (rc == SG_OK)
        rc = run_dir_path(path, sizeof path, run_dir, SG_RUN_PREDICTIONS);
    if (rc == SG_OK)
        rc = run_predictions_write(path, n, paths, labels, probs, k,
                                   (const char *const *)d->src.class_names);
    if (rc == SG_OK)
        rc = run_dir_path(path, sizeof path, run_dir, SG_RUN_CONFUSION);
    if (rc == SG_OK)
        rc = cm_write_csv(&cm, (const char *const *)d->src.class_names, path);
    double ll = NAN;
    if (rc == SG_OK)
        rc = sg_log_loss(&ll, probs, labels, n, k);
    if (rc == SG_OK)
        rc = write_top_losses(run_dir, d, index, probs, labels, preds, n, n_top, spec);
    if (rc == SG_OK) {
        json_t *results = json_pack("{s:I, s:f, s:f, s:f}", "n_valid", (json_int_t)n,
                                    "accuracy", cm_accuracy(&cm), "log_loss", ll, "macro_f1",
                                    cm_macro_f1(&cm));
        if (!results || json_object_set_new(config, "results", results) != 0)
            rc = sg_fail(SG_E_NOMEM, "cannot build config.json");
    }
    cm_free(&cm);
    free(paths);
    free(labels);
    free(preds);
    return rc;
}

int job_report_folds(json_t *config, const fold_result *folds, int n_folds, const char *run_dir)
{
    json_t *arr = json_array();
    if (!arr)
        return sg_fail(SG_E_NOMEM, "out of memory");
    double sum = 0.0, sq = 0.0, lsum = 0.0;
    int counted = 0;
    for (int f = 0; f < n_folds; f++) {
        const fold_result *r = &folds[f];
        json_array_append_new(arr, json_pack("{s:i, s:i, s:I, s:I, s:f, s:f, s:f, s:f}", "fold",
                                             r->fold, "subject", r->group,
                                             "n_train", (json_int_t)r->n_train,
                                             "n_valid", (json_int_t)r->n_valid, "accuracy",
                                             isnan(r->r.accuracy) ? -1.0 : r->r.accuracy,
                                             "log_loss", isnan(r->r.log_loss) ? -1.0 : r->r.log_loss,
                                             "seconds", r->r.seconds, "images_per_s",
                                             r->r.images_per_s));
        if (!isnan(r->r.accuracy)) {
            sum += r->r.accuracy;
            sq += r->r.accuracy * r->r.accuracy;
            lsum += r->r.log_loss;
            counted++;
        }
    }
    json_object_set_new(config, "folds", arr);
    if (n_folds == 1) {
        const fold_result *r = &folds[0];
        if (!isnan(r->r.accuracy))
            printf("final: accuracy %.4f  log_loss %.4f  (%.1f images/s training, %.0f s)\n",
                   r->r.accuracy, r->r.log_loss, r->r.images_per_s, r->r.seconds);
        else
            printf("final: no validation set (%.1f images/s training, %.0f s)\n",
                   r->r.images_per_s, r->r.seconds);
        /* before the stderr lines that follow (an ensemble's next member),
         * in a log that holds both */
        fflush(stdout);
        if (r->r.seconds > 0)
            fprintf(stderr, "sensorgram train: waited %.1f s for batches (%.1f%% of the run)\n",
                    r->r.loader_wait_s, 100.0 * r->r.loader_wait_s / r->r.seconds);
        return SG_OK;
    }
    char path[4096];
    int rc = run_dir_path(path, sizeof path, run_dir, SG_RUN_CV_FOLDS);
    sg_atomic_file af;
    if (rc == SG_OK)
        rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    fprintf(af.fp, "fold,subject,n_train,n_valid,accuracy,log_loss\n");
    printf("%-5s %-8s %-8s %-9s %-9s\n", "fold", "subject", "n_valid", "accuracy", "log_loss");
    for (int f = 0; f < n_folds; f++) {
        const fold_result *r = &folds[f];
        fprintf(af.fp, "%d,%d,%zu,%zu,%.9g,%.9g\n", r->fold, r->group, r->n_train, r->n_valid,
                r->r.accuracy, r->r.log_loss);
        printf("%-5d %-8d %-8zu %-9.4f %-9.4f\n", r->fold, r->group, r->n_valid, r->r.accuracy,
               r->r.log_loss);
    }
    double mean = counted ? sum / counted : NAN;
    /* Sample standard deviation over folds (n - 1), as usually reported. */
    double sd = counted > 1 ? sqrt(fmax(0.0, (sq - counted * mean * mean) / (counted - 1))) : 0.0;
    fprintf(af.fp, "mean,,,,%.9g,%.9g\nstd,,,,%.9g,\n", mean, counted ? lsum / counted : NAN, sd);
    rc = sg_atomic_commit(&af);
    printf("cross-validation: accuracy %.4f +- %.4f over %d folds (log_loss %.4f)\n", mean, sd,
           counted, counted ? lsum / counted : NAN);
    /* the number a user of a subject-independent model worries about */
    int worst = -1;
    for (int f = 0; f < n_folds; f++)
        if (!isnan(folds[f].r.accuracy) &&
            (worst < 0 || folds[f].r.accuracy < folds[worst].r.accuracy))
            worst = f;
    if (worst >= 0 && folds[worst].group >= 0) {
        printf("worst subject: %d (accuracy %.4f)\n", folds[worst].group, folds[worst].r.accuracy);
        json_object_set_new(config, "cv_worst_subject", json_integer(folds[worst].group));
    } else if (worst >= 0) {
        printf("worst fold: %d (accuracy %.4f)\n", folds[worst].fold, folds[worst].r.accuracy);
    }
    if (worst >= 0)
        json_object_set_new(config, "cv_accuracy_worst", json_real(folds[worst].r.accuracy));
    json_object_set_new(config, "cv_accuracy_mean", json_real(mean));
    json_object_set_new(config, "cv_accuracy_std", json_real(sd));
    fflush(stdout);
    return rc;
}

void job_print_class_table(FILE *f, const job_data *d, const size_t *index,
                           const float *probs, size_t n)
{
    int k = d->src.n_classes;
    sg_cm cm;
    if (cm_create(&cm, k) != SG_OK)
        return;
    for (size_t i = 0; i < n; i++) {
        int y = d->src.label[index[i]];
        if (y >= 0)
            cm_add(&cm, y, sg_argmax(probs + i * (size_t)k, k));
    }
    fprintf(f, "%-28s %-9s %-9s %-9s %s\n", "class", "precision", "recall", "f1", "support");
    for (int c = 0; c < k; c++) {
        int64_t support = 0;
        for (int j = 0; j < k; j++)
            support += cm.counts[(size_t)c * (size_t)k + (size_t)j];
        fprintf(f, "%-28s %-9.4f %-9.4f %-9.4f %lld\n", d->src.class_names[c], cm_precision(&cm, c),
                cm_recall(&cm, c), cm_f1(&cm, c), (long long)support);
    }
    fprintf(f, "%-28s %-9s %-9s %-9.4f %lld\n", "macro avg", "", "", cm_macro_f1(&cm),
            (long long)cm_total(&cm));
    cm_free(&cm);
}
