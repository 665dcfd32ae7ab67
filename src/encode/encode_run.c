/* encode_run.c - the engine of `sensorgram encode`: sensor segments to
 * images.
 *
 * Reads DSA or generic CSV inputs into one sg_series_set, fits the
 * encoder's dataset state (gray's min/max, fitted mtf edges) if it has
 * any, then encodes the segments in parallel (one enc_workspace and one
 * output buffer per thread) and writes OUTDIR/<label>/<name>.png|.npy,
 * each atomically.  OUTDIR/manifest.csv is written last, and only when
 * the run completes, so a folder with a manifest is always whole; a stale
 * manifest from an earlier run is removed before the first image is
 * written.  Messages go to stderr, the summary to stdout.
 *
 * --stack (with --format npy) writes one OUTDIR/X.npy (N, C, H, W)
 * instead: each worker pwrites its image into the segment's slot of a
 * temporary file, so memory stays at one image per thread; skipped
 * inputs' slots are closed up at the end, then manifest.csv (index,
 * label, subject, segment, source) and y.csv are written and X.npy is
 * renamed into place last.  npy output also gets encoding.json (the
 * encoder and its value range), which lets train/eval/predict map the
 * raw floats to [0, 1] exactly as PNGs and in-memory encoding are.
 */
#include "src/encode/encode_run.h"
#include "src/base/clock.h"
#include "src/base/atomic_file.h"
#include "src/encode/encode_shard.h"
#include "src/encode/encode_outdir.h"
#include "datasets/dsa.h"
#include "datasets/dsa_magnitude.h"
#include "datasets/dsa_read.h"
#include "encoders/enc.h"
#include "src/base/npy.h"
#include "src/base/npy_stack.h"
#include "datasets/image_folder.h"
#include "src/encode/enc_json.h"
#include "src/encode/enc_stack.h"
#include "src/base/parallel.h"
#include "src/image/png_io.h"
#include "src/base/progress.h"
#include "src/base/signals.h"
#include "datasets/sensor_csv.h"
#include "datasets/series_file.h"
#include "datasets/series.h"
#include "src/base/sg_error.h"
#include "datasets/skipped.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CMD "sensorgram encode"

/* ---- reading -------------------------------------------------------------- */

/* Reads the inputs: a DSA root, one .ts or numpy file of cases, or CSV
 * files; *kind names which for the summary. */
static int load_inputs(sg_series_set *set, const encode_request *a, char *const *inputs, int n,
                       int subjects_override, sg_skipped *skipped, const char **kind)
{
    *kind = a->dsa ? "dsa" : "csv";
    if (a->dsa) {
        const dsa_request req = {a->units, a->sensors, a->axes,
                                 subjects_override ? NULL : a->subjects, a->magnitude};
        return dsa_read(set, inputs[0], &req, a->jobs, skipped);
    }
    int cases = n == 1 ? series_file_read(set, inputs[0], kind) : 0;
    if (cases)
        return cases < 0 ? cases : SG_OK;
    return sensor_csv_load_skip(set, inputs, n, &a->csv, skipped);
}

/* Fitted state: loaded, or fitted on --fit-on data (default: the inputs). */
static int make_fit(enc_fit **fit, const enc_params *p, const encode_request *a,
                    const sg_series_set *set)
{
    int C = set->n_channels, T = set->n_samples;
    if (a->load_fit)
        return enc_fit_load(fit, a->load_fit, p, C);
    const char *on = a->fit_on ? a->fit_on : "all";
    int rc;
    if (strcmp(on, "all") == 0) {
        rc = enc_fit_create(fit, p, set->data, set->n, C, T);
    } else if (strncmp(on, "subjects=", 9) == 0 || strncmp(on, "subjects:", 9) == 0) {
        dsa_select sel;
        dsa_select_all(&sel);
        rc = dsa_select_parse_subjects(&sel, on + 9);
        if (rc)
            return rc;
        size_t seg = (size_t)C * (size_t)T, k = 0;
        double *x = malloc((set->n ? set->n : 1) * seg * sizeof *x);
        if (!x)
            return sg_fail(SG_E_NOMEM, "out of memory");
        for (size_t i = 0; i < set->n; i++)
            if (set->subject[i] >= 0 && set->subject[i] < 32 &&
                (sel.subjects & (1u << set->subject[i])))
                memcpy(x + k++ * seg, sg_series_at(set, i), seg * sizeof *x);
        if (k == 0)
            rc = sg_fail(SG_E_INVALID, "--fit-on %s: no input segment has those subjects", on);
        else
            rc = enc_fit_create(fit, p, x, k, C, T);
        free(x);
    } else {
        sg_series_set other;
        const char *other_kind;
        char *paths[1] = {(char *)on};
        rc = load_inputs(&other, a, paths, 1, 1, NULL, &other_kind);
        if (rc)
            return sg_fail_context(rc, "--fit-on");
        if (other.n_channels != C || other.n_samples != T)
            rc = sg_fail(SG_E_SHAPE, "--fit-on %s: segments are %d x %d, inputs are %d x %d", on,
                         other.n_channels, other.n_samples, C, T);
        else
            rc = enc_fit_create(fit, p, other.data, other.n, C, T);
        sg_series_set_free(&other);
    }
    if (!rc && a->save_fit)
        rc = enc_fit_save(*fit, a->save_fit);
    return rc;
}

/* ---- writing -------------------------------------------------------------- */

/* A label as a folder name: '/' and leading dots become '_'. */
static char *safe_label(const char *label)
{
    char *s = strdup(*label ? label : "_");
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p == '/' || *p == '\\' || (p == s && *p == '.'))
            *p = '_';
    return s;
}

struct encode_job {
    const sg_series_set *set;
    const enc_params *p;
    const enc_fit *fit;
    const enc_stack *stacked; /* n > 1: encoders stacked as channels, else NULL */
    enc_fit **fits;         /* stacked: one per encoder */
    enc_workspace **ws;     /* per thread (stacked: per thread x encoder) */
    float **out;            /* per thread (oc, oh, ow) */
    char **folder;          /* per class: sanitized label */
    char **rel_path;        /* per segment: written path relative to outdir, or NULL */
    char **failed;          /* per segment: message when skipped */
    const char *outdir;
    int oc, oh, ow;
    int npy, depth, png_level, skip;
    sg_npy_stack *stack;    /* --stack: rows go here, by segment index */
    double lo, hi;
    int bounded;
    int shard_i, shard_n;
    sg_progress *progress;
};

/* This shard's manifest rows, its part file and, when every part is
 * there, the merged manifest. */
static int write_part(const struct encode_job *job, const encode_request *a, int *merged)
{
    const char *outdir = a->outdir;
    const sg_series_set *set = job->set;
    encode_part_row *rows = calloc(set->n ? set->n : 1, sizeof *rows);
    char (*num)[2][24] = calloc(set->n ? set->n : 1, sizeof *num);
    int rc = rows && num ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; rc == SG_OK && i < set->n; i++) {
        if (!job->rel_path[i])
            continue;
        if (set->subject[i] >= 0)
            snprintf(num[i][0], sizeof num[i][0], "%d", set->subject[i]);
        if (set->segment[i] >= 0)
            snprintf(num[i][1], sizeof num[i][1], "%d", set->segment[i]);
        rows[k++] = (encode_part_row){i, job->rel_path[i], set->class_names[set->label[i]],
                                      num[i][0], num[i][1], set->source[i]};
    }
    /* The job's identity: every input's source, the options that choose
     * what is read and how it is encoded (not -j, -o or --shard), and
     * the output shape. */
    const enc_args *ea = &a->enc;
    const char *opts[] = {a->units, a->sensors, a->axes, a->subjects, a->magnitude_arg,
                          a->csv.columns,
                          a->csv.label_column, a->csv.label_regex, a->csv.subject_column,
                          a->csv.subject_regex, a->fit_on, a->load_fit,
                          ea->encoder, ea->image_size, ea->sample_range, ea->n_bins, ea->strategy,
                          ea->dimension, ea->time_delay, ea->threshold, ea->percentage,
                          ea->window_length, ea->hop, ea->stft_window, ea->scope, ea->layout};
    enum { N_OPTS = sizeof opts / sizeof opts[0] };
    const char **ids = calloc(set->n + N_OPTS, sizeof *ids);
    if (rc == SG_OK && !ids)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; ids && i < set->n; i++)
        ids[i] = set->source[i];
    for (size_t i = 0; ids && i < N_OPTS; i++)
        ids[set->n + i] = opts[i] ? opts[i] : "";
    int ints[] = {job->oc, job->oh, job->ow, job->npy, job->depth, (int)set->n, a->dsa,
                  a->csv.window, a->csv.stride, (int)a->csv.header, (int)a->csv.label_from,
                  a->csv.label_first, ea->overlapping, ea->mtf_fitted, ea->no_log};
    uint64_t fp = ids ? encode_fingerprint(ids, set->n + N_OPTS, ints,
                                           (int)(sizeof ints / sizeof ints[0]))
                      : 0;
    free(ids);
    if (rc == SG_OK)
        rc = encode_part_write(outdir, job->shard_i, job->shard_n, set->n, fp, rows, k);
    if (rc == SG_OK)
        rc = encode_merge_if_complete(outdir, job->shard_n, fp, merged);
    free(rows);
    free(num);
    return rc;
}

static int encode_one(void *arg, int thread, size_t i)
{
    struct encode_job *job = arg;
    const sg_series_set *set = job->set;
    if (job->shard_n > 1 && (int)(i % (size_t)job->shard_n) != job->shard_i)
        return SG_OK;
    float *out = job->out[thread];
    size_t numel = (size_t)job->oc * (size_t)job->oh * (size_t)job->ow;
    char *rel = NULL;
    int rc = sg_check_interrupt();
    if (rc)
        return rc;
    if (job->stacked)
        rc = enc_stack_encode(out, sg_series_at(set, i), set->n_channels, set->n_samples,
                              job->stacked, job->fits,
                              job->ws + (size_t)thread * (size_t)job->stacked->n);
    else
        rc = enc_encode(out, sg_series_at(set, i), set->n_channels, set->n_samples, job->p,
                        job->fit, job->ws[thread]);
    if (rc)
        rc = sg_fail_context(rc, "%s", set->source[i]);
    if (job->stack) {
        /* the slot is the segment's index; skipped slots close up at commit */
        if (!rc)
            rc = sg_npy_stack_put(job->stack, i, out);
        if (!rc && !(rel = strdup(SG_STACK_FILE)))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    } else if (!rc && asprintf(&rel, "%s/%s.%s", job->folder[set->label[i]], set->name[i],
                        job->npy ? "npy" : "png") < 0) {
        rel = NULL;
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    char *path = NULL;
    if (!rc && !job->stack && asprintf(&path, "%s/%s", job->outdir, rel) < 0) {
        path = NULL;
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (!rc && !job->stack) {
        if (job->npy) {
            size_t shape[3] = {(size_t)job->oc, (size_t)job->oh, (size_t)job->ow};
            rc = sg_npy_write_ex(path, out, 3, shape, 0);
        } else {
            /* the map training's in-memory images go through, so a PNG
             * holds what the network sees (tests/test_png_map_cli.c) */
            enc_stack_map_unit(out, numel, job->lo, job->hi, job->bounded);
            rc = sg_png_write_level(path, out, job->oc, job->oh, job->ow, job->depth,
                                    job->png_level, 0);
        }
    }
    free(path);
    sg_progress_add(job->progress, 1);
    if (rc) {
        free(rel);
        /* Running out of memory or disk is never a property of one input. */
        if (job->skip && rc != SG_E_NOMEM && rc != SG_E_IO && rc != SG_E_INTERRUPTED) {
            job->failed[i] = strdup(sg_last_error());
            return job->failed[i] ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
        }
        return rc;
    }
    job->rel_path[i] = rel;
    return SG_OK;
}

/* Opens OUTDIR/name for an atomic write (renamed into place on commit). */
static int open_in_outdir(sg_atomic_file *af, const char *outdir, const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", outdir, name) < 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = sg_atomic_open(af, path);
    free(path);
    return rc;
}

/* y.csv of a stacked folder: the row, its class index and name. */
static int write_y(const struct encode_job *job, const char *outdir)
{
    sg_atomic_file af;
    int rc = open_in_outdir(&af, outdir, "y.csv");
    if (rc)
        return rc;
    const sg_series_set *set = job->set;
    fprintf(af.fp, "index,y,label\n");
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (!job->rel_path[i])
            continue;
        fprintf(af.fp, "%zu,%d,", k++, set->label[i]);
        encode_csv_field(af.fp, set->class_names[set->label[i]], 1);
    }
    return sg_atomic_commit(&af);
}

/* encoding.json beside npy output: what made the floats and their range. */
static int write_encoding(const struct encode_job *job, const char *outdir)
{
    json_t *j = json_object();
    json_t *range = json_array();
    json_t *enc = enc_params_to_json(job->p);
    int bad = !j || !range || !enc;
    bad |= json_object_set_new(j, "format", json_string(job->stack ? "stack" : "npy")) != 0;
    bad |= json_array_append_new(range, json_real(job->lo)) != 0;
    bad |= json_array_append_new(range, json_real(job->hi)) != 0;
    bad |= json_object_set_new(j, "value_range", range) != 0;
    range = NULL;
    bad |= json_object_set_new(j, "bounded", json_boolean(job->bounded)) != 0;
    bad |= json_object_set_new(j, "encoder", enc) != 0;
    enc = NULL;
    /* which row is which (norm rows included) */
    json_t *names = json_array();
    for (int c = 0; names && c < job->set->n_channels; c++)
        json_array_append_new(names, json_string(job->set->channel_names[c]
                                                     ? job->set->channel_names[c]
                                                     : ""));
    bad |= json_object_set_new(j, "segment_channel_names", names) != 0;
    if (job->stacked) {
        /* the values are the stack's [0, 1] images, the range says so */
        char name[128];
        enc_stack_name(job->stacked, name, sizeof name);
        bad |= json_object_set_new(j, "stacked_encoders", json_string(name)) != 0;
        bad |= json_object_set_new(j, "stack", enc_stack_to_json(job->stacked)) != 0;
        bad |= json_object_set_new(j, "stack_rule",
                                   json_string("each encoder mapped to [0,1] by its value "
                                               "range, resized bilinearly (antialiased) to "
                                               "the first encoder's HxW, channels "
                                               "concatenated")) != 0;
    }
    char *text = bad ? NULL : json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                                JSON_REAL_PRECISION(17));
    json_decref(range);
    json_decref(enc);
    json_decref(j);
    if (!text)
        return sg_fail(SG_E_NOMEM, "out of memory");
    char *path = NULL;
    int rc = asprintf(&path, "%s/encoding.json", outdir) < 0
                 ? sg_fail(SG_E_NOMEM, "out of memory")
                 : sg_atomic_write(path, text, strlen(text));
    free(path);
    free(text);
    return rc;
}

static int write_manifest(const struct encode_job *job, const char *outdir)
{
    sg_atomic_file af;
    int rc = open_in_outdir(&af, outdir, "manifest.csv");
    if (rc)
        return rc;
    const sg_series_set *set = job->set;
    fprintf(af.fp, "%s,label,subject,segment,source\n", job->stack ? "index" : "path");
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (!job->rel_path[i])
            continue;
        char num[2][24] = {"", ""};
        if (set->subject[i] >= 0)
            snprintf(num[0], sizeof num[0], "%d", set->subject[i]);
        if (set->segment[i] >= 0)
            snprintf(num[1], sizeof num[1], "%d", set->segment[i]);
        if (job->stack) {
            char row[24];
            snprintf(row, sizeof row, "%zu", k++);
            encode_csv_field(af.fp, row, 0);
        } else {
            encode_csv_field(af.fp, job->rel_path[i], 0);
        }
        encode_csv_field(af.fp, set->class_names[set->label[i]], 0);
        encode_csv_field(af.fp, num[0], 0);
        encode_csv_field(af.fp, num[1], 0);
        encode_csv_field(af.fp, set->source[i], 1);
    }
    return sg_atomic_commit(&af);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two segments must not write the same file (e.g. equal CSV stems). */
static int check_unique_names(const sg_series_set *set, char **folder)
{
    char **keys = calloc(set->n, sizeof *keys);
    if (!keys)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK;
    for (size_t i = 0; i < set->n && !rc; i++)
        if (asprintf(&keys[i], "%s/%s", folder[set->label[i]], set->name[i]) < 0) {
            keys[i] = NULL;
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        }
    if (!rc) {
        qsort(keys, set->n, sizeof *keys, cmp_str);
        for (size_t i = 1; i < set->n && !rc; i++)
            if (strcmp(keys[i], keys[i - 1]) == 0)
                rc = sg_fail(SG_E_INVALID,
                             "two inputs would both be written as %s (rename one of them)",
                             keys[i]);
    }
    for (size_t i = 0; i < set->n; i++)
        free(keys[i]);
    free(keys);
    return rc;
}

/* Creates OUTDIR and checks it is writable, before any slow reading. */
static int check_outdir(const char *outdir)
{
    int rc = sg_mkdir_p(outdir);
    if (rc)
        return rc;
    if (access(outdir, W_OK | X_OK) != 0)
        return sg_fail(SG_E_IO, "%s: output folder is not writable: %s", outdir,
                       strerror(errno));
    return SG_OK;
}

/* Removes OUTDIR/name if it exists (our own bookkeeping files only). */
static int remove_own(const char *outdir, const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", outdir, name) < 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK;
    if (unlink(path) != 0 && errno != ENOENT)
        rc = sg_fail(SG_E_IO, "%s: cannot remove the old %s: %s", path, name, strerror(errno));
    free(path);
    return rc;
}

static int prepare_outdir(const char *outdir, char **folder, int n_classes, const int *used,
                          int stack, int overwrite)
{
    /* --overwrite: the old run's files go only now that the inputs are read. */
    int rc = overwrite ? encode_outdir_clear(outdir) : SG_OK;
    if (rc)
        return rc;
    /* The folder is about to change: an old manifest would claim it whole,
     * an old encoding.json would describe other values, an old y.csv
     * other rows. */
    rc = remove_own(outdir, "manifest.csv");
    if (!rc)
        rc = remove_own(outdir, "encoding.json");
    if (!rc)
        rc = remove_own(outdir, "y.csv");
    /* Marks the folder unfinished until the manifest is written. */
    if (!rc)
        rc = encode_mark_start(outdir);
    for (int c = 0; c < n_classes && !rc && !stack; c++) {
        if (!used[c])
            continue;
        char *dir = NULL;
        if (asprintf(&dir, "%s/%s", outdir, folder[c]) < 0)
            return sg_fail(SG_E_NOMEM, "out of memory");
        rc = sg_mkdir_p(dir);
        free(dir);
    }
    return rc;
}

int encode_run(const encode_request *a, const enc_stack *st, sg_skipped *skipped)
{
    double t0 = sg_now_seconds();
    enc_params p = st->p[0];
    int nk = st->n;                         /* encoders per image */
    const enc_stack *stacked = nk > 1 ? st : NULL;
    enc_fit *fits[ENC_STACK_MAX] = {0};
    sg_series_set set;
    const char *kind = "csv";
    sg_npy_stack stack;
    char *stack_path = NULL;
    memset(&stack, 0, sizeof stack);
    int rc = check_outdir(a->outdir);
    if (rc)
        return rc;
    rc = load_inputs(&set, a, a->inputs, a->n_inputs, 0, a->skip ? skipped : NULL, &kind);
    if (rc)
        return rc;
    int C = set.n_channels, T = set.n_samples, oc = 0, oh = 0, ow = 0;
    int nt = sg_parallel_threads(a->jobs);
    if ((size_t)nt > set.n)
        nt = (int)set.n;
    enc_fit *fit = NULL;
    int marked = 0; /* the folder is ours to clean up after a failure */
    struct encode_job job = {0};
    char **folder = calloc((size_t)set.n_classes, sizeof *folder);
    int *used = calloc((size_t)set.n_classes, sizeof *used);
    job.ws = calloc((size_t)nt * (size_t)nk, sizeof *job.ws);
    job.out = calloc((size_t)nt, sizeof *job.out);
    job.rel_path = calloc(set.n, sizeof *job.rel_path);
    job.failed = calloc(set.n, sizeof *job.failed);
    if (!folder || !used || !job.ws || !job.out || !job.rel_path || !job.failed) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    if (stacked) {
        rc = enc_stack_shape(stacked, C, T, &oc, &oh, &ow);
    } else {
        rc = enc_params_check(&p, C, T);
        if (!rc)
            rc = enc_output_shape(&p, C, T, &oc, &oh, &ow);
    }
    /* The settings do not fit these segments: say which input they came from. */
    if (rc && set.n)
        rc = sg_fail_context(rc, "%s (segments of %d samples x %d channels)", set.source[0], T, C);
    /* Three unrelated channels must not pass for RGB: only the rgb layout
     * makes a colour PNG. */
    /* Too big to hold: say which input, how big, and what to change. */
    double img_bytes = 4.0 * oc * (double)oh * (double)ow;
    if (!rc && img_bytes > (double)(1ULL << 31))
        rc = sg_fail(SG_E_INVALID,
                     "%s: a segment of %d samples gives a %d x %d x %d image (%.1f GiB as "
                     "floats, per thread): cut recordings into windows with --window N (e.g. "
                     "--window 128) or shrink the image with --enc-size",
                     set.source[0], T, oc, oh, ow, img_bytes / (double)(1ULL << 30));
    if (!rc && stacked && !a->npy && oc != 3) {
        char name[128];
        enc_stack_name(stacked, name, sizeof name);
        rc = sg_fail(SG_E_INVALID,
                     "PNG holds 1 (gray) or 3 (RGB) channels but --encoder %s stacks %d: use "
                     "--format npy",
                     name, oc);
    }
    if (!rc && !stacked && !a->npy && ((oc != 1 && oc != 3) ||
                                       (oc == 3 && p.layout == ENC_LAYOUT_CHANNELS)))
        rc = sg_fail(SG_E_INVALID,
                     "PNG holds 1 (gray) or 3 (RGB) channels but --layout channels gives %d: "
                     "use --layout mosaic or rgb, or --format npy",
                     oc);
    if (rc)
        goto done;
    for (int c = 0; c < set.n_classes && !rc; c++)
        if (!(folder[c] = safe_label(set.class_names[c])))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < set.n; i++)
        used[set.label[i]] = 1;
    if (!rc && !a->stack)
        rc = check_unique_names(&set, folder);
    if (!rc && !stacked)
        rc = make_fit(&fit, &p, a, &set);
    for (int k = 0; !rc && stacked && k < nk; k++)
        rc = make_fit(&fits[k], &stacked->p[k], a, &set);
    if (!rc)
        rc = prepare_outdir(a->outdir, folder, set.n_classes, used, a->stack, a->overwrite);
    marked = !rc;
    if (!rc && a->stack) {
        size_t row_shape[3] = {(size_t)oc, (size_t)oh, (size_t)ow};
        if (asprintf(&stack_path, "%s/%s", a->outdir, SG_STACK_FILE) < 0) {
            stack_path = NULL;
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        } else {
            rc = sg_npy_stack_open(&stack, stack_path, 3, row_shape);
        }
        if (!rc)
            job.stack = &stack;
    }
    size_t numel = (size_t)oc * (size_t)oh * (size_t)ow;
    for (int t = 0; t < nt && !rc; t++) {
        rc = stacked ? enc_stack_ws_create(job.ws + (size_t)t * (size_t)nk, stacked, C, T)
                     : enc_workspace_create(&job.ws[t], &p, C, T);
        if (rc == SG_E_NOMEM)
            rc = sg_fail(SG_E_NOMEM,
                         "%s: out of memory for the encoder workspace of a %d-sample segment "
                         "(%d x %d x %d image, %.2f GiB as floats, thread %d of %d): cut "
                         "recordings with --window N, shrink with --enc-size, or use fewer "
                         "threads (-j)",
                         set.source[0], T, oc, oh, ow, img_bytes / (double)(1ULL << 30), t + 1,
                         nt);
        if (!rc && !(job.out[t] = malloc(numel * sizeof(float))))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (rc)
        goto done;
    job.set = &set;
    job.p = &p;
    job.fit = fit;
    job.stacked = stacked;
    job.fits = fits;
    job.folder = folder;
    job.outdir = a->outdir;
    job.oc = oc;
    job.oh = oh;
    job.ow = ow;
    job.npy = a->npy;
    job.depth = a->depth;
    job.png_level = a->png_level;
    job.skip = a->skip;
    job.shard_i = a->shard_i;
    job.shard_n = a->shard_n;
    enc_value_range(&p, &job.lo, &job.hi, &job.bounded);
    if (stacked) {
        /* enc_stack_encode maps every encoder to [0, 1] already */
        job.lo = 0.0;
        job.hi = 1.0;
        job.bounded = 1;
    }
    if (!a->quiet)
        rc = sg_progress_create(&job.progress, stderr, "encode", set.n, -1);
    if (!rc)
        rc = sg_parallel_for(set.n, nt, encode_one, &job);
    if (job.progress)
        sg_progress_finish(job.progress);
    size_t written = 0;
    if (rc == SG_E_INTERRUPTED) {
        for (size_t i = 0; i < set.n; i++)
            written += job.rel_path[i] != NULL;
        fprintf(stderr,
                CMD ": interrupted after writing %zu of %zu images; removed them again (no "
                "manifest, nothing half-made left in %s): run the command again to encode\n",
                written, set.n, a->outdir);
    }
    for (size_t i = 0; i < set.n && !rc; i++) {
        if (job.failed[i])
            rc = sg_skipped_add(skipped, set.source[i], job.failed[i]);
        written += job.rel_path[i] != NULL;
    }
    size_t mine = a->shard_n > 1 ? (set.n + (size_t)(a->shard_n - 1 - a->shard_i)) /
                                       (size_t)a->shard_n
                                 : set.n;
    if (!rc && written == 0 && mine > 0)
        rc = sg_fail(SG_E_INVALID, "every input failed; nothing written");
    /* Images skipped their own fsync: one sync, then the manifest. */
    if (!rc)
        rc = sg_sync_folder(a->outdir);
    int merged = 0;
    if (!rc && a->npy)
        rc = write_encoding(&job, a->outdir);
    if (!rc && job.stack)
        rc = write_y(&job, a->outdir);
    if (!rc && a->shard_n > 0)
        rc = write_part(&job, a, &merged);
    else if (!rc)
        rc = write_manifest(&job, a->outdir);
    /* The folder is whole once its manifest is there (a shard: all parts). */
    if (!rc && (a->shard_n == 0 || merged))
        rc = encode_mark_done(a->outdir);
    if (!rc && a->shard_n > 0 && !a->quiet)
        fprintf(stderr, CMD ": shard %d/%d: %s\n", a->shard_i, a->shard_n,
                merged ? "all parts present, manifest.csv written"
                       : "part written; manifest.csv once every part is there (or --merge)");
    if (job.stack) {
        /* X.npy last: until it is renamed into place the folder is not whole */
        unsigned char *keep = rc ? NULL : malloc(set.n ? set.n : 1);
        if (!rc && !keep)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        for (size_t i = 0; keep && i < set.n; i++)
            keep[i] = job.rel_path[i] != NULL;
        if (!rc)
            rc = sg_npy_stack_commit(&stack, set.n, keep);
        else
            sg_npy_stack_abort(&stack);
        job.stack = NULL;
        free(keep);
        if (rc) {
            /* the manifest would pair with an old (or no) X.npy */
            (void)remove_own(a->outdir, "manifest.csv");
            (void)remove_own(a->outdir, "y.csv");
        }
    }
    if (!rc) {
        double s = sg_now_seconds() - t0;
        char skip_note[64] = "";
        if (skipped->n)
            snprintf(skip_note, sizeof skip_note, ", %zu skipped", skipped->n);
        /* Skipped inputs are counted apart: they were read, not encoded. */
        printf("encoded %zu segments (%s, %d x %d each%s) into %zu %s images of %d x %d x %d "
               "in %.2f s (%.1f images/s), %d threads -> %s%s\n",
               written, kind, C, T, skip_note, written,
               a->stack ? "stacked npy" : a->npy ? "npy" : "png", oc, oh, ow, s,
               s > 0 ? (double)written / s : 0.0, nt, a->outdir,
               a->stack ? "/" SG_STACK_FILE : "");
    }
done:
    if (job.stack)
        sg_npy_stack_abort(job.stack);
    free(stack_path);
    /* Failed or interrupted: what this run wrote goes, the marker too. */
    if (rc && marked && job.rel_path)
        encode_outdir_discard(a->outdir, job.rel_path, set.n);
    sg_progress_free(job.progress);
    if (job.ws)
        for (size_t t = 0; t < (size_t)nt * (size_t)nk; t++)
            enc_workspace_free(job.ws[t]);
    if (job.out)
        for (int t = 0; t < nt; t++)
            free(job.out[t]);
    if (job.rel_path)
        for (size_t i = 0; i < set.n; i++)
            free(job.rel_path[i]);
    if (job.failed)
        for (size_t i = 0; i < set.n; i++)
            free(job.failed[i]);
    free(job.ws);
    free(job.out);
    free(job.rel_path);
    free(job.failed);
    if (folder)
        for (int c = 0; c < set.n_classes; c++)
            free(folder[c]);
    free(folder);
    free(used);
    enc_fit_free(fit);
    enc_stack_fits_free(fits, nk);
    sg_series_set_free(&set);
    return rc;
}
