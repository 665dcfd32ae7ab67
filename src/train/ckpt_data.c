/* ckpt_data.c - predict/eval inputs prepared as the checkpoint was
 * trained (see ckpt_data.h).
 */
#include "src/train/predict_tta.h"
#include "src/base/fs_stat.h"
#include "src/train/ckpt_data.h"
#include "src/train/series_length.h"

#include "src/train/job_input_check.h"
#include "src/base/file_kind.h"
#include "src/base/file_read.h"

#include "datasets/dsa.h"
#include "datasets/dsa_magnitude.h"
#include "datasets/dsa_read.h"
#include "src/encode/enc_json.h"
#include "datasets/image_folder.h"
#include "datasets/sensor_csv.h"
#include "datasets/series_file.h"
#include "src/base/sg_error.h"
#include "src/train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int class_index(const train_meta *meta, const char *name)
{
    for (int c = 0; c < meta->n_classes; c++)
        if (strcmp(meta->class_names[c], name) == 0)
            return c;
    return -1;
}

/* Replaces a label array given over `names` by checkpoint class indices. */
static int relabel(int *labels, size_t n, char *const *names, int n_names, const train_meta *meta,
                   int labelled, char *const *what)
{
    for (size_t i = 0; i < n; i++) {
        int y = labels[i];
        int c = (y >= 0 && y < n_names) ? class_index(meta, names[y]) : -1;
        if (labelled && c < 0)
            return sg_fail(SG_E_INVALID, "%s: label '%s' is not a class of the checkpoint",
                           what[i], (y >= 0 && y < n_names) ? names[y] : "(none)");
        labels[i] = c;
    }
    return SG_OK;
}

static int copy_classes(char ***out, const train_meta *meta)
{
    char **v = calloc((size_t)meta->n_classes, sizeof *v);
    if (!v)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; c < meta->n_classes; c++)
        if (!(v[c] = strdup(meta->class_names[c]))) {
            for (int j = 0; j < c; j++)
                free(v[j]);
            free(v);
            return sg_fail(SG_E_NOMEM, "out of memory");
        }
    *out = v;
    return SG_OK;
}

/* "0,1,2,9,..." : the DSA columns of the checkpoint's selection. */
static int dsa_columns(char *buf, size_t size, const dsa_select *sel)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int u = 0; u < DSA_N_UNITS; u++)
        for (int s = 0; s < DSA_N_SENSORS; s++)
            for (int a = 0; a < DSA_N_AXES; a++) {
                if (!(sel->units >> u & 1u) || !(sel->sensors >> s & 1u) || !(sel->axes >> a & 1u))
                    continue;
                int n = snprintf(buf + len, size - len, "%s%d", len ? "," : "",
                                 u * 9 + s * 3 + a);
                if (n < 0 || (size_t)n >= size - len)
                    return sg_fail(SG_E_INVALID, "column list too long");
                len += (size_t)n;
            }
    return SG_OK;
}

/* Renames the channels of DSA segment files read as bare columns ("0",
 * "9", ...) to the DSA names of the selection's columns ("T_acc_x"). */
static int dsa_name_columns(sg_series_set *set, const dsa_select *sel)
{
    int c = 0;
    for (int u = 0; u < DSA_N_UNITS; u++)
        for (int s = 0; s < DSA_N_SENSORS; s++)
            for (int a = 0; a < DSA_N_AXES; a++) {
                if (!(sel->units >> u & 1u) || !(sel->sensors >> s & 1u) || !(sel->axes >> a & 1u))
                    continue;
                if (c >= set->n_channels)
                    return SG_OK; /* the channel count check below names the mismatch */
                char *name = dsa_column_name(u * 9 + s * 3 + a);
                if (!name)
                    return sg_fail(SG_E_NOMEM, "out of memory");
                free(set->channel_names[c]);
                set->channel_names[c++] = name;
            }
    return SG_OK;
}

/* The checkpoint class of a DSA segment path ".../a19/p4/s34.txt" (the
 * activity folder two levels up), or -1. */
static int dsa_path_label(const char *path, const train_meta *meta)
{
    const char *end = strrchr(path, '/');
    if (!end)
        return -1;
    const char *p = end;
    int slashes = 0;
    while (p > path && slashes < 2)
        if (*--p == '/')
            slashes++;
    if (slashes == 2)
        p++;
    else if (slashes < 1)
        return -1;
    int a = 0;
    char tail;
    if (sscanf(p, "a%2d/p%*d%c", &a, &tail) != 2 || tail != '/')
        return -1;
    const char *name = dsa_activity_name(a);
    return name ? class_index(meta, name) : -1;
}

/* The CSV options new recordings are read with: the checkpoint's (or,
 * before checkpoints kept them, the defaults), then what o typed. */
static void csv_read_options(sensor_csv_options *so, const train_meta *meta, const job_opts *o)
{
    if (meta->has_csv)
        *so = meta->csv;
    else
        sensor_csv_options_default(so);
    so->subject_column = so->subject_regex = NULL;
    if (o->csv_given & JOB_CSV_HEADER)
        so->header = o->csv.header;
    if (o->csv_given & JOB_CSV_DELIMITER)
        so->delimiter = o->csv.delimiter;
    if (o->csv_given & JOB_CSV_LABEL) {
        so->label_from = o->csv.label_from;
        so->label_column = o->csv.label_column;
        so->label_regex = o->csv.label_regex;
        so->label_first = o->csv.label_first;
    }
}

/* Reads CSV recordings; predict (labelled 0) keeps their labels where
 * the labels can be read as in training, and reads them unlabelled where
 * they cannot (no label column, a name the regex does not match). */
static int load_csv_inputs(sg_series_set *set, char *const *inputs, int n,
                           const sensor_csv_options *so, int labelled)
{
    int rc = sensor_csv_load(set, inputs, n, so);
    if (rc != SG_E_INVALID || labelled || so->label_from == SENSOR_CSV_LABEL_NONE)
        return rc;
    sensor_csv_options none = *so;
    none.label_from = SENSOR_CSV_LABEL_NONE;
    return sensor_csv_load(set, inputs, n, &none);
}

static int load_series(job_data *out, const train_meta *meta, char *const *inputs, int n,
                       int labelled, const job_opts *o)
{
    int workers = job_workers(o);
    dsa_select sel;
    dsa_select_all(&sel);
    int rc = dsa_select_parse(&sel, meta->units, meta->sensors, meta->axes);
    if (rc)
        return sg_fail_context(SG_E_CORRUPT, "checkpoint DSA selection");
    sg_series_set set = {0};
    int dsa_files = 0;
    /* one .ts or numpy file of cases (X.npy (N, C, T), not an image array) */
    int from_file = n == 1 ? series_file_read(&set, inputs[0], NULL) : 0;
    if (from_file < 0)
        return from_file;
    /* An image (or array) handed to a sensor checkpoint: say so, rather
     * than a CSV error about its bytes. */
    for (int i = 0; !from_file && i < n; i++) {
        sg_file_kind kind = SG_FILE_UNKNOWN;
        if (sg_is_dir(inputs[i]) || sg_file_kind_read(inputs[i], &kind) != SG_OK)
            continue;
        if (kind != SG_FILE_TEXT && kind != SG_FILE_UNKNOWN)
            return sg_fail(SG_E_INVALID,
                           "%s is %s, but this checkpoint expects sensor recordings (%d axes, "
                           "%s encoder: CSV segment files or a DSA root)",
                           inputs[i], sg_file_kind_name(kind), meta->segment_channels,
                           enc_kind_name(meta->enc.kind));
    }
    if (!from_file && n == 1 && !meta->has_csv && dsa_is_root(inputs[0])) {
        /* the norm rows the checkpoint was trained with, from the same axes */
        const dsa_request req = {meta->units, meta->sensors, meta->axes, NULL,
                                 (dsa_magnitude)meta->magnitude};
        rc = dsa_read(&set, inputs[0], &req, workers, NULL);
    } else if (!from_file) {
        sensor_csv_options so;
        csv_read_options(&so, meta, o);
        char columns[512];
        /* DSA segment files carry all 45 columns; pick the trained ones. */
        int from_dsa = !meta->has_csv &&
                       (meta->units || meta->sensors || meta->axes ||
                        meta->segment_channels == DSA_N_COLUMNS ||
                        meta->magnitude != DSA_MAGNITUDE_OFF);
        if (from_dsa) {
            if (!(o->csv_given & JOB_CSV_HEADER))
                so.header = SENSOR_CSV_HEADER_NO;
            rc = dsa_columns(columns, sizeof columns, &sel);
            so.columns = columns;
        }
        if (rc == SG_OK)
            rc = load_csv_inputs(&set, inputs, n, &so, labelled);
        /* Name DSA columns as a DSA root read names them (explain groups
         * channels by unit and sensor from these names). */
        if (rc == SG_OK && from_dsa)
            rc = dsa_name_columns(&set, &sel);
        dsa_files = from_dsa;
        /* Name each prediction by its file, not the bare stem (s01), and
         * by its window where recordings are cut into windows. */
        for (size_t i = 0; rc == SG_OK && i < set.n; i++) {
            char *p = !set.source || !set.source[i] ? NULL
                      : so.window > 0 ? sg_str_printf("%s#w%04d", set.source[i], set.segment[i])
                                      : strdup(set.source[i]);
            if (!p)
                continue;
            free(set.name[i]);
            set.name[i] = p;
        }
        /* the norm rows the checkpoint was trained with, from the same axes */
        if (rc == SG_OK && set.n > 0)
            rc = dsa_magnitude_apply(&set, &sel, (dsa_magnitude)meta->magnitude);
    }
    if (rc == SG_OK && set.n == 0)
        rc = sg_fail(SG_E_INVALID,
                     "%s: no segments found (this checkpoint expects sensor recordings: "
                     "*.csv/*.txt segments or a DSA root)",
                     inputs[0]);
    if (rc == SG_OK && set.n_channels != meta->segment_channels)
        rc = sg_fail(SG_E_SHAPE, "%s: segments have %d channels, the checkpoint was trained on %d",
                     inputs[0], set.n_channels, meta->segment_channels);
    if (rc == SG_OK)
        rc = relabel(set.label, set.n, set.class_names, set.n_classes, meta, labelled, set.name);
    /* DSA segment files in their folders (.../aNN/pM/sKK.txt) say their
     * activity; predict and explain show it as the true label. */
    for (size_t i = 0; rc == SG_OK && dsa_files && i < set.n; i++)
        if (set.label[i] < 0 && set.source && set.source[i])
            set.label[i] = dsa_path_label(set.source[i], meta);
    char **classes = NULL;
    if (rc == SG_OK)
        rc = copy_classes(&classes, meta);
    if (rc) {
        sg_series_set_free(&set);
        return rc;
    }
    for (int c = 0; c < set.n_classes; c++)
        free(set.class_names[c]);
    free(set.class_names);
    set.class_names = classes;
    set.n_classes = meta->n_classes;
    return ckpt_data_from_series(out, meta, &set, workers);
}

int ckpt_data_from_series(job_data *out, const train_meta *meta, sg_series_set *set,
                          int workers)
{
    memset(out, 0, sizeof *out);
    /* as long as the checkpoint's training series, where it shortened them */
    int rc = series_length_apply(set, meta->max_length, NULL);
    if (rc) {
        sg_series_set_free(set);
        return rc;
    }
    if (meta->stack.n > 1) {
        enc_fit *fits[ENC_STACK_MAX] = {0};
        for (int k = 0; k < meta->stack.n && rc == SG_OK; k++)
            if (meta->stack_fit_text[k])
                rc = enc_fit_from_text(&fits[k], meta->stack_fit_text[k], &meta->stack.p[k],
                                       meta->segment_channels, "/tmp");
        if (rc) {
            enc_stack_fits_free(fits, meta->stack.n);
            sg_series_set_free(set);
            return sg_fail_context(SG_E_CORRUPT, "checkpoint encoder fit");
        }
        return job_data_from_series_stack(out, set, &meta->stack, fits, workers);
    }
    enc_fit *fit = NULL;
    if (meta->fit_text) {
        rc = enc_fit_from_text(&fit, meta->fit_text, &meta->enc, meta->segment_channels, "/tmp");
        if (rc) {
            sg_series_set_free(set);
            return sg_fail_context(SG_E_CORRUPT, "checkpoint encoder fit");
        }
    }
    return job_data_from_series(out, set, &meta->enc, fit, workers);
}

/* The encoding.json of an input: in the folder itself, or for a file in
 * its folder or that folder's parent (OUT/<label>/x.npy). */
static int input_encoding(const char *input, int *found, double *lo, double *hi, int *bounded)
{
    *found = 0;
    if (sg_is_dir(input))
        return sample_source_read_encoding(input, found, lo, hi, bounded);
    char *dir = strdup(input);
    if (!dir)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK;
    for (int up = 0; up < 2 && !*found && rc == SG_OK; up++) {
        char *slash = strrchr(dir, '/');
        if (!slash) {
            if (up == 0)
                rc = sample_source_read_encoding(".", found, lo, hi, bounded);
            break;
        }
        *slash = '\0';
        rc = sample_source_read_encoding(*dir ? dir : "/", found, lo, hi, bounded);
    }
    free(dir);
    return rc;
}

/* Raw encoder floats from .npy inputs are mapped to [0, 1] as in
 * training; inputs encoded with different ranges cannot share one map. */
static int inputs_value_map(sample_source *src, char *const *inputs, int n)
{
    int have = 0, bounded = 0;
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++) {
        int f = 0, b = 0;
        double l = 0, h = 0;
        int rc = input_encoding(inputs[i], &f, &l, &h, &b);
        if (rc)
            return rc;
        if (i > 0 && f != have)
            return sg_fail(SG_E_INVALID,
                           "%s: %s encoding.json but %s %s: give inputs encoded the same way",
                           inputs[i], f ? "has an" : "has no", inputs[0],
                           have ? "has one" : "has none");
        if (f && have && (l != lo || h != hi || b != bounded))
            return sg_fail(SG_E_INVALID, "%s: encoded with another value range than %s",
                           inputs[i], inputs[0]);
        have = f;
        lo = l;
        hi = h;
        bounded = b;
    }
    if (have)
        sample_source_set_value_map(src, lo, hi, bounded);
    return SG_OK;
}

/* Appends the images of one input (file or folder) to the list. */
static int collect_images(sg_image_list *all, const char *input, const char *label_regex,
                          const train_meta *meta, int labelled)
{
    sg_image_list l = {0};
    int rc;
    if (sg_is_dir(input)) {
        rc = sg_image_folder_open(&l, input, label_regex);
        if (!labelled && (rc || l.n == 0)) {
            sg_image_list_free(&l);
            rc = sg_image_folder_unlabeled(&l, input);
        }
    } else {
        l.n = 1;
        l.paths = calloc(1, sizeof *l.paths);
        l.labels = malloc(sizeof *l.labels);
        rc = (l.paths && l.labels && (l.paths[0] = strdup(input)))
                 ? SG_OK
                 : sg_fail(SG_E_NOMEM, "out of memory");
        if (rc == SG_OK)
            l.labels[0] = -1;
    }
    if (rc == SG_OK)
        rc = relabel(l.labels, l.n, l.class_names, l.n_classes, meta, labelled, l.paths);
    /* stacked rows (SIZE_MAX: an image file), kept beside the paths */
    size_t n = all->n + l.n;
    if (rc == SG_OK && (l.rows || all->rows)) {
        size_t *r = realloc(all->rows, (n ? n : 1) * sizeof *r);
        if (!r) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        } else {
            if (!all->rows)
                for (size_t i = 0; i < all->n; i++)
                    r[i] = SIZE_MAX;
            for (size_t i = 0; i < l.n; i++)
                r[all->n + i] = l.rows ? l.rows[i] : SIZE_MAX;
            all->rows = r;
        }
    }
    char **np = rc == SG_OK ? realloc(all->paths, (n ? n : 1) * sizeof *np) : NULL;
    if (np)
        all->paths = np;
    int *nl = rc == SG_OK ? realloc(all->labels, (n ? n : 1) * sizeof *nl) : NULL;
    if (nl)
        all->labels = nl;
    if (rc == SG_OK && (!np || !nl))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    if (rc == SG_OK) {
        for (size_t i = 0; i < l.n; i++) {
            all->paths[all->n + i] = l.paths[i];
            all->labels[all->n + i] = l.labels[i];
            l.paths[i] = NULL;
        }
        all->n = n;
    }
    sg_image_list_free(&l);
    return rc;
}

int ckpt_dataset_load(job_data *out, const train_meta *meta, char *const *inputs, int n,
                      int labelled, const char *label_regex, const job_opts *o)
{
    memset(out, 0, sizeof *out);
    if (n < 1)
        return sg_fail(SG_E_INVALID, "no inputs given");
    if (meta->is_series)
        return load_series(out, meta, inputs, n, labelled, o);
    sg_image_list all = {0};
    int rc = SG_OK;
    for (int i = 0; rc == SG_OK && i < n; i++)
        rc = collect_images(&all, inputs[i], label_regex, meta, labelled);
    if (rc == SG_OK && all.n == 0)
        rc = sg_fail(SG_E_INVALID, "%s: no PNG or JPEG files found", inputs[0]);
    if (rc == SG_OK)
        rc = sample_source_images(&out->src, all.n, (const char *const *)all.paths, all.labels,
                                  NULL, meta->n_classes, (const char *const *)meta->class_names);
    if (rc == SG_OK && all.rows)
        rc = sample_source_set_rows(&out->src, all.rows);
    if (rc == SG_OK)
        rc = inputs_value_map(&out->src, inputs, n);
    out->c = meta->in_channels;
    out->h = meta->spec.height;
    out->w = meta->spec.width;
    sg_image_list_free(&all);
    if (rc)
        job_data_free(out);
    return rc;
}

int ckpt_predictions_run(ckpt_predictions *r, const job_opts *o, const char *ckpt,
                         int expect_arch, char *const *inputs, int n, int labelled,
                         const char *label_regex)
{
    memset(r, 0, sizeof *r);
    int rc = train_ckpt_load(&r->model, &r->meta, ckpt, o->device, expect_arch, o->precision,
                             job_torch_threads(o));
    if (rc)
        return rc;
    rc = ckpt_dataset_load(&r->data, &r->meta, inputs, n, labelled, label_regex, o);
    /* All inputs decoded once up front: every bad one listed, or skipped. */
    if (rc == SG_OK)
        rc = job_check_images(&r->data.src, r->data.is_valid, o);
    if (rc == SG_OK && r->data.src.n == 0)
        rc = sg_fail(SG_E_INVALID, "no inputs left to predict");
    if (rc) {
        job_data_free(&r->data);
        sg_model_free(r->model);
        train_meta_free(&r->meta);
        memset(r, 0, sizeof *r);
        return rc;
    }
    size_t k = (size_t)r->meta.n_classes;
    r->n = r->data.src.n;
    r->loss = NAN;
    r->idx = malloc(r->n * sizeof *r->idx);
    r->probs = malloc(r->n * k * sizeof *r->probs);
    if (!r->idx || !r->probs)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < r->n; i++)
        r->idx[i] = i;
    if (rc == SG_OK && o->adapt_bn) {
        r->adapted = 1;
        rc = adapt_bn_plan_make(&r->adapt, r->data.src.group, r->n);
        r->adapt.tent_epochs = o->tent;
        if (rc == SG_OK)
            rc = adapt_bn_predict(r->probs, &r->loss, r->model, &r->data.src, &r->adapt,
                                  &r->meta.spec, (int)k, o->batch_size, o->workers, o->progress,
                                  o->aug.tta);
    } else if (rc == SG_OK) {
        rc = train_predict_tta(r->probs, &r->loss, r->model, &r->data.src, r->idx, r->n,
                               &r->meta.spec, (int)k, o->batch_size, o->workers, o->progress,
                               o->aug.tta);
    }
    if (rc)
        ckpt_predictions_free(r);
    return rc;
}

void ckpt_predictions_free(ckpt_predictions *r)
{
    free(r->idx);
    free(r->probs);
    adapt_bn_plan_free(&r->adapt);
    job_data_free(&r->data);
    sg_model_free(r->model);
    train_meta_free(&r->meta);
    memset(r, 0, sizeof *r);
}
