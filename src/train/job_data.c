/* job_data.c - DATA arguments to sample sources, splits and transform
 * specs (see job_data.h).
 */
#include "src/train/job_data.h"
#include "src/base/fs_stat.h"
#include "src/train/series_length.h"
#include "src/train/job_input_check.h"
#include "src/encode/encode_outdir.h"

#include "datasets/dsa_read.h"
#include "datasets/image_folder.h"
#include "datasets/sensor_csv.h"
#include "datasets/series_file.h"
#include "src/base/sg_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Picks a layout the image path accepts (1 or 3 channels) when the user
 * gave none: x, y, z triples as RGB, otherwise a gray mosaic. */
static int choose_layout(enc_params *enc, int layout_given, int C, int T)
{
    int oc, oh, ow;
    int rc = enc_output_shape(enc, C, T, &oc, &oh, &ow);
    if (rc)
        return rc;
    if (oc == 1 || oc == 3)
        return SG_OK;
    if (layout_given)
        return sg_fail(SG_E_INVALID,
                       "--layout %s gives %d image channels; the network takes 1 or 3 "
                       "(use --layout mosaic or rgb)",
                       enc->layout == ENC_LAYOUT_CHANNELS ? "channels" : "rgb", oc);
    enc->layout = C % 3 == 0 ? ENC_LAYOUT_RGB : ENC_LAYOUT_MOSAIC;
    rc = enc_output_shape(enc, C, T, &oc, &oh, &ow);
    if (rc == SG_OK && oc != 1 && oc != 3) {
        enc->layout = ENC_LAYOUT_MOSAIC;
        rc = enc_output_shape(enc, C, T, &oc, &oh, &ow);
    }
    return rc;
}

static int finish_series(job_data *out, sg_series_set *set, const enc_stack *stack_in,
                         int layout_given, enc_fit **fits, int workers)
{
    enc_stack stack = *stack_in;
    out->n_segment_channels = set->n_channels;
    int rc = SG_OK;
    /* Each stacked encoder gets a layout of 1 or 3 channels, as alone. */
    for (int k = 0; k < stack.n && rc == SG_OK; k++)
        rc = choose_layout(&stack.p[k], layout_given, set->n_channels, set->n_samples);
    if (rc) {
        if (fits)
            enc_stack_fits_free(fits, stack.n);
        sg_series_set_free(set);
        return rc;
    }
    rc = sample_source_series_stack(&out->src, set, &stack, fits, workers > 0 ? workers : 1);
    sg_series_set_free(set);
    if (rc)
        return rc;
    out->is_series = 1;
    out->c = out->src.oc;
    out->h = out->src.oh;
    out->w = out->src.ow;
    return SG_OK;
}

/* Keeps only the classes that occur (a DSA subset names all 19
 * activities), so the head, the confusion matrix and the figures are
 * sized to the data.  Class order stays the activity order. */
static int compact_classes(sg_series_set *set)
{
    int k = set->n_classes, kept = 0;
    int *map = malloc((size_t)(k > 0 ? k : 1) * sizeof *map);
    if (!map)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; c < k; c++)
        map[c] = -1;
    for (size_t i = 0; i < set->n; i++)
        map[set->label[i]] = 0;
    for (int c = 0; c < k; c++) {
        if (map[c] < 0) {
            free(set->class_names[c]);
            continue;
        }
        map[c] = kept;
        set->class_names[kept++] = set->class_names[c];
    }
    for (size_t i = 0; i < set->n; i++)
        set->label[i] = map[set->label[i]];
    set->n_classes = kept;
    free(map);
    return SG_OK;
}

static int read_dsa(sg_series_set *set, const job_opts *o, const char *root, int labelled)
{
    const dsa_request req = {o->units, o->sensors, o->axes, o->subjects, o->magnitude};
    int rc = dsa_read(set, root, &req, job_workers(o), NULL);
    if (rc)
        return rc;
    if (set->n == 0) {
        sg_series_set_free(set);
        return sg_fail(SG_E_INVALID, "%s: dataset is empty (no segments match)", root);
    }
    rc = compact_classes(set);
    if (rc == SG_OK && labelled && set->n_classes < 2)
        rc = sg_fail(SG_E_INVALID, "%s: only one class (%s) found; training needs at least two",
                     root, set->class_names[0]);
    if (rc)
        sg_series_set_free(set);
    return rc;
}

/* A UEA/UCR .ts file or numpy segments (series_file.h): their cases,
 * encoded in memory like DSA segments.  Returns 0 when path is neither. */
static int read_cases(sg_series_set *set, const char *path, int labelled)
{
    const char *kind = NULL;
    int rc = series_file_read(set, path, &kind);
    if (rc <= 0)
        return rc;
    if (labelled && set->n_classes < 2) {
        rc = sg_fail(SG_E_INVALID,
                     "%s: %s; training needs labelled cases of at least two classes", path,
                     set->n_classes             ? "one class"
                     : strcmp(kind, "npy") == 0 ? "no labels (y.npy or y.csv beside X.npy)"
                                                : "@classLabel false");
        sg_series_set_free(set);
        return rc;
    }
    return 1;
}

/* Says how subject names were numbered, so that --valid-subjects can
 * name them. */
static void print_subject_names(const sg_series_set *set)
{
    char list[512] = "";
    size_t len = 0;
    for (int k = 0; k < set->n_subject_names && len < sizeof list - 32; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%d=%s", k ? ", " : "", k + 1,
                                set->subject_names[k]);
    if (len >= sizeof list - 32)
        snprintf(list + len, sizeof list - len, ", ...");
    fprintf(stderr, "sensorgram: subjects numbered from their names in sorted order: %s\n",
            list);
}

/* CSV recordings (a file, or a folder of them and no images): read with
 * the CSV options into the series set DSA becomes, then encoded alike. */
static int read_csv(sg_series_set *set, const job_opts *o, const char *path, int labelled)
{
    if (o->units || o->sensors || o->axes || o->subjects)
        return sg_fail(SG_E_INVALID,
                       "--units, --sensors, --axes and --subjects select DSA channels and "
                       "subjects (--dataset dsa); %s is CSV recordings: pick its columns with "
                       "--columns",
                       path);
    sensor_csv_options opt = o->csv;
    if (!labelled && !(o->csv_given & JOB_CSV_LABEL))
        opt.label_from = SENSOR_CSV_LABEL_NONE;
    char *paths[1] = {(char *)path};
    int rc = sensor_csv_load(set, paths, 1, &opt);
    if (rc)
        return rc;
    if (labelled && set->n_classes < 2)
        rc = sg_fail(SG_E_INVALID,
                     "%s: only one class (%s) found; training needs at least two (labels come "
                     "from %s)",
                     path, set->n_classes ? set->class_names[0] : "none",
                     opt.label_from == SENSOR_CSV_LABEL_COLUMN ? "--label-column"
                     : opt.label_from == SENSOR_CSV_LABEL_REGEX ? "--label-regex"
                                                                : "each file's parent folder");
    if (rc) {
        sg_series_set_free(set);
        return rc;
    }
    if (set->n_subject_names > 0)
        print_subject_names(set);
    return SG_OK;
}

/* The CSV options that only CSV recordings take, refused elsewhere
 * rather than ignored. */
static int check_no_csv_options(const job_opts *o, const char *path)
{
    const char *opt = o->csv.window          ? "--window"
                      : o->csv.stride        ? "--stride"
                      : o->csv.columns       ? "--columns"
                      : o->csv.label_column  ? "--label-column"
                      : o->csv.subject_column ? "--subject-column"
                      : o->csv.subject_regex ? "--subject-regex"
                                             : NULL;
    if (!opt)
        return SG_OK;
    return sg_fail(SG_E_INVALID, "%s reads CSV recordings, but %s is %s", opt, path,
                   o->dataset ? "a DSA root (--dataset dsa)"
                              : "not a CSV file nor a folder of them without images");
}

/* Reads sample 0 to learn the images' shape (and fail early on a bad file). */
static int probe_shape(job_data *out)
{
    if (out->src.n == 0)
        return SG_OK;
    sg_image img;
    int rc = sample_source_read(&out->src, 0, &img);
    if (rc)
        return rc;
    out->c = img.c;
    out->h = img.h;
    out->w = img.w;
    sg_image_free(&img);
    return SG_OK;
}

static int load_folder(job_data *out, const job_opts *o, const char *root, int labelled)
{
    sg_image_list list = {0};
    int rc;
    if (!labelled && !o->label_regex && !sg_is_dir(root))
        return sg_fail(SG_E_IO, "%s: not a folder", root);
    /* A folder encode left without its manifest is not photos. */
    rc = sg_is_dir(root) ? encode_check_unfinished(root, o->photos) : SG_OK;
    if (rc)
        return rc;
    rc = sg_image_folder_open(&list, root, o->label_regex);
    /* Files but no class folders: labels may be in the names. */
    if (rc == SG_E_INVALID && labelled && !o->label_regex &&
        strstr(sg_last_error(), "no class folders")) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", sg_last_error());
        sg_fail(rc, "%s; for a flat folder with labels in file names (cat.1.jpg) use "
                    "--label-regex '^([a-z]+)\\.'", msg);
    }
    /* An unlabelled test folder holds files but no class folders. */
    if (!labelled && (rc || list.n == 0)) {
        sg_image_list_free(&list);
        rc = sg_image_folder_unlabeled(&list, root);
    }
    if (rc == SG_OK && labelled)
        rc = sg_image_list_check_trainable(&list, root);
    if (rc == SG_OK && list.n == 0)
        rc = sg_fail(SG_E_INVALID, "%s: dataset is empty (no PNG or JPEG files found)", root);
    if (rc == SG_OK)
        rc = sample_source_images(&out->src, list.n, (const char *const *)list.paths,
                                  list.labels, list.subjects, list.n_classes,
                                  (const char *const *)list.class_names);
    if (rc == SG_OK && list.rows)
        rc = sample_source_set_rows(&out->src, list.rows);
    /* raw encoder floats (.npy, stacked or not) meet PNGs in [0, 1] */
    int has_range = 0, bounded = 0;
    double lo = 0, hi = 0;
    if (rc == SG_OK)
        rc = sample_source_read_encoding(root, &has_range, &lo, &hi, &bounded);
    if (rc == SG_OK && has_range)
        sample_source_set_value_map(&out->src, lo, hi, bounded);
    if (rc == SG_OK && list.is_valid) {
        out->is_valid = malloc(list.n);
        if (!out->is_valid)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        else
            memcpy(out->is_valid, list.is_valid, list.n);
    }
    if (rc == SG_OK) {
        char manifest[4096];
        snprintf(manifest, sizeof manifest, "%s/manifest.csv", root);
        struct stat st;
        /* Encoded sensor images keep their geometry; photos get crops. */
        out->is_photo = stat(manifest, &st) != 0;
    }
    sg_image_list_free(&list);
    /* Every image decoded once now, not a failure inside epoch 0. */
    if (rc == SG_OK)
        rc = job_check_images(&out->src, out->is_valid, o);
    if (rc == SG_OK)
        rc = probe_shape(out);
    return rc;
}

int job_series_read(sg_series_set *set, const job_opts *o, const char *path, int labelled,
                    int *is_csv)
{
    memset(set, 0, sizeof *set);
    int csv = !o->dataset && sensor_csv_is_recordings(path);
    if (is_csv)
        *is_csv = csv;
    int rc = csv ? SG_OK : check_no_csv_options(o, path);
    if (rc == SG_OK)
        rc = o->dataset ? read_dsa(set, o, path, labelled)
             : csv      ? read_csv(set, o, path, labelled)
                        : read_cases(set, path, labelled);
    if (rc < 0)
        return rc;
    if (rc == 0 && !o->dataset && !csv)
        return 0;
    int from = 0, cap = series_length_cap(o->max_length, set->n_channels);
    rc = series_length_apply(set, cap, &from);
    if (rc) {
        sg_series_set_free(set);
        return rc;
    }
    if (from && o->max_length == SERIES_LENGTH_AUTO)
        fprintf(stderr,
                "sensorgram %s: %s: series of %d samples shortened to %d by averaging windows "
                "(--max-length auto: samples x max(channels, %d) up to %d)\n",
                o->cmd ? o->cmd : "train", path, from, cap, SERIES_LENGTH_AUTO_ROWS,
                SERIES_LENGTH_AUTO_VALUES);
    else if (from)
        fprintf(stderr,
                "sensorgram %s: %s: series of %d samples shortened to %d by averaging windows "
                "(--max-length %d)\n",
                o->cmd ? o->cmd : "train", path, from, cap, cap);
    return 1;
}

int job_data_load(job_data *out, const job_opts *o, const char *path, int labelled)
{
    memset(out, 0, sizeof *out);
    sg_series_set set;
    int csv = 0;
    int rc = job_series_read(&set, o, path, labelled, &csv);
    if (rc > 0) {
        out->is_csv = csv;
        out->max_length = series_length_cap(o->max_length, set.n_channels);
        rc = finish_series(out, &set, &o->stack, o->layout_given, NULL, job_workers(o));
    } else if (rc == 0) { /* neither .ts nor numpy cases: image files */
        rc = load_folder(out, o, path, labelled);
    }
    if (rc) {
        job_data_free(out);
        return rc;
    }
    return SG_OK;
}

int job_data_from_series(job_data *out, sg_series_set *set, const enc_params *enc,
                            enc_fit *fit, int workers)
{
    enc_stack one;
    enc_stack_single(&one, enc);
    return job_data_from_series_stack(out, set, &one, &fit, workers);
}

int job_data_from_series_stack(job_data *out, sg_series_set *set, const enc_stack *stack,
                                  enc_fit **fits, int workers)
{
    memset(out, 0, sizeof *out);
    int rc = finish_series(out, set, stack, 1, fits, workers);
    if (rc)
        job_data_free(out);
    return rc;
}

int job_data_fit(job_data *d, const size_t *idx, size_t n)
{
    if (!d->is_series)
        return SG_OK;
    const sg_series_set *s = &d->src.series;
    size_t seg = (size_t)s->n_channels * (size_t)s->n_samples;
    double *x = malloc((n ? n : 1) * seg * sizeof *x);
    if (!x)
        return sg_fail(SG_E_NOMEM, "out of memory for the encoder fit");
    for (size_t i = 0; i < n; i++)
        memcpy(x + i * seg, sg_series_at(s, idx[i]), seg * sizeof *x);
    int rc;
    if (d->src.stack.n > 1) {
        enc_fit *fits[ENC_STACK_MAX] = {0};
        rc = enc_stack_fit_create(fits, &d->src.stack, x, n, s->n_channels, s->n_samples);
        free(x);
        if (rc == SG_OK)
            sample_source_set_stack_fits(&d->src, fits);
        return rc;
    }
    enc_fit *fit = NULL;
    rc = enc_fit_create(&fit, &d->src.enc, x, n, s->n_channels, s->n_samples);
    free(x);
    if (rc)
        return rc;
    sample_source_set_fit(&d->src, fit);
    return SG_OK;
}

int job_n_folds(const job_data *d, const job_opts *o, int *n_folds)
{
    *n_folds = 1;
    if (o->cv == JOB_CV_KFOLD) {
        *n_folds = o->cv_k;
    } else if (o->cv == JOB_CV_LOSO) {
        int *subjects = NULL;
        size_t n = 0;
        int rc = sg_subjects_distinct(&subjects, &n, d->src.group, d->src.n);
        free(subjects);
        if (rc)
            return sg_fail_context(rc, "--cv loso needs subject ids");
        if (n < 2)
            return sg_fail(SG_E_INVALID, "--cv loso needs at least two subjects (found %zu)", n);
        *n_folds = (int)n;
    }
    return SG_OK;
}

/* Whether every sample carries a subject id and there are at least two
 * subjects: then the default validation holds out whole subjects. */
int job_data_has_subjects(const job_data *d)
{
    if (!d->src.group || d->src.n == 0)
        return 0;
    int first = d->src.group[0], other = 0;
    for (size_t i = 0; i < d->src.n; i++) {
        if (d->src.group[i] < 0)
            return 0;
        other |= d->src.group[i] != first;
    }
    return other;
}

/* The default split where samples carry subjects: a seeded choice of
 * about --valid-pct (0.2) of the subjects held out whole, because
 * segments of one person's recording are near copies of each other and
 * a random split would measure people already seen. */
static int split_subjects_default(sg_split *out, const job_data *d, const job_opts *o,
                                  int talk)
{
    int *held = NULL;
    size_t n_held = 0;
    int rc = sg_split_subjects_holdout(out, &held, &n_held, d->src.group, d->src.n, o->valid_pct,
                                       o->seed);
    if (rc || !talk) {
        free(held);
        return rc;
    }
    /* printed once per run: without CV, train and lr-find split once */
    char list[256] = "";
    size_t len = 0;
    for (size_t k = 0; k < n_held && len < sizeof list - 16; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%d", k ? "," : "", held[k]);
    fprintf(stderr,
            "sensorgram: validation holds out subject%s %s (%zu of the %zu segments): people "
            "the model never sees in training (--valid-subjects to choose, --valid-pct for "
            "a random split of segments)\n",
            n_held > 1 ? "s" : "", list, out->n_valid, d->src.n);
    free(held);
    return SG_OK;
}

int job_split_make_ex(sg_split *out, const job_data *d, const job_opts *o, int fold, int talk)
{
    size_t n = d->src.n;
    if (o->cv == JOB_CV_KFOLD)
        return sg_split_kfold(out, n, o->cv_k, fold, o->seed);
    if (o->cv == JOB_CV_LOSO)
        return sg_split_loso(out, d->src.group, n, (size_t)fold);
    if (d->is_valid)
        return sg_split_flags(out, d->is_valid, n);
    if (o->valid_subjects) {
        int *subjects = NULL;
        size_t k = 0;
        int rc = sg_parse_int_list(&subjects, &k, o->valid_subjects);
        if (rc)
            return sg_fail_context(rc, "--valid-subjects");
        rc = sg_split_subjects(out, d->src.group, n, subjects, k);
        free(subjects);
        return rc;
    }
    if (o->valid_pct > 0.0 && job_data_has_subjects(d)) {
        if (!o->valid_pct_given)
            return split_subjects_default(out, d, o, talk);
        fprintf(stderr, "sensorgram: note: --valid-pct splits segments at random, so validation "
                        "holds people also seen in training: it measures known people, not new "
                        "ones (without --valid-pct, whole subjects are held out)\n");
    }
    int rc = sg_split_random(out, n, o->valid_pct, o->seed);
    /* Asked for a validation set but got none: say so before training. */
    if (rc == SG_OK && o->valid_pct > 0 && out->n_valid == 0) {
        sg_split_free(out);
        return sg_fail(SG_E_INVALID,
                       "--valid-pct %g of %zu samples gives no validation sample: raise it "
                       "(to at least 1/%zu) or pass --valid-pct 0 to train without validation",
                       o->valid_pct, n, n);
    }
    return rc;
}

void job_input_hw(const job_data *d, const job_opts *o, int *h, int *w)
{
    int side = o->image_size > 0 ? o->image_size : d->is_photo ? 224 : 0;
    *h = side ? side : d->h;
    *w = side ? side : d->w;
}

int job_transform_spec(sg_transform_spec *spec, const job_data *d, const job_opts *o)
{
    int c = d->c, h, w;
    job_input_hw(d, o, &h, &w);
    if (d->is_photo) {
        /* Gray photos are expanded to RGB: pretrained stems expect colour. */
        sg_transform_spec_photo(spec, h, w);
        if (o->augment == 0) {
            spec->train_random_crop = 0;
            spec->hflip_p = 0.0;
        }
        spec->normalize = 0;
        return sg_transform_spec_check(spec);
    }
    /* Stacked encoders give any channel count, in memory or as encode's
     * npy arrays (an encoding.json maps them); other images 1 or 3. */
    int any_count = (d->is_series && d->src.stack.n > 1) || (!d->is_photo && d->src.value_map);
    if (c != 1 && c != 3 && !(any_count && c <= SG_TRANSFORM_MAX_CHANNELS))
        return sg_fail(SG_E_SHAPE, "images have %d channels; the network takes 1 or 3", c);
    sg_transform_spec_sensor(spec, c, h, w);
    /* Squish to --image-size: cropping would cut away channels or time. */
    spec->resize = o->image_size > 0 ? SG_RESIZE_SQUISH : SG_RESIZE_NONE;
    /* Sensor images: only small shifts, never flips (time has a direction). */
    if (o->augment == 1)
        spec->max_translate = 0.1;
    spec->normalize = 0;
    return sg_transform_spec_check(spec);
}

void job_data_free(job_data *d)
{
    if (!d)
        return;
    sample_source_free(&d->src);
    free(d->is_valid);
    memset(d, 0, sizeof *d);
}

int job_split_make(sg_split *out, const job_data *d, const job_opts *o, int fold)
{
    return job_split_make_ex(out, d, o, fold, 1);
}
