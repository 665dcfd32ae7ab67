/* job_fingerprint.c - the run fingerprint for --resume (see job_fingerprint.h). */
#include "src/train/job_fingerprint.h"

#include "src/base/sg_error.h"
#include "src/train/job_aug.h"

#include <nettle/sha2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name\tclass" per sample, names relative to root, sorted, hashed. */
static int samples_hash(char hex[65], const sample_source *s, const char *root)
{
    char **rows = calloc(s->n ? s->n : 1, sizeof *rows);
    if (!rows)
        return sg_fail(SG_E_NOMEM, "out of memory");
    size_t rl = root ? strlen(root) : 0;
    while (rl > 1 && root[rl - 1] == '/')
        rl--;
    int rc = SG_OK;
    for (size_t i = 0; rc == SG_OK && i < s->n; i++) {
        const char *name = s->name[i] ? s->name[i] : "";
        if (rl && strncmp(name, root, rl) == 0 && name[rl] == '/')
            name += rl + 1;
        int y = s->label[i];
        const char *cls = y >= 0 && y < s->n_classes ? s->class_names[y] : "";
        if (asprintf(&rows[i], "%s\t%s", name, cls) < 0) {
            rows[i] = NULL;
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        }
    }
    if (rc == SG_OK) {
        qsort(rows, s->n, sizeof *rows, cmp_str);
        struct sha256_ctx ctx;
        sha256_init(&ctx);
        for (size_t i = 0; i < s->n; i++)
            sha256_update(&ctx, strlen(rows[i]) + 1, (const uint8_t *)rows[i]);
        uint8_t d[SHA256_DIGEST_SIZE];
        sha256_digest(&ctx, sizeof d, d);
        for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
    }
    for (size_t i = 0; i < s->n; i++)
        free(rows[i]);
    free(rows);
    return rc;
}

int job_fingerprint(char **out, const job_data *d, const job_opts *o,
                        const sg_transform_spec *spec, int freeze_epochs)
{
    *out = NULL;
    const char *root = o->n_args > 0 ? o->args[0] : "";
    char hex[65];
    int rc = samples_hash(hex, &d->src, root);
    if (rc)
        return rc;
    json_t *classes = json_array();
    for (int i = 0; classes && i < d->src.n_classes; i++)
        json_array_append_new(classes, json_string(d->src.class_names[i]));
    char input[64];
    snprintf(input, sizeof input, "%dx%dx%d", spec->channels, spec->height, spec->width);
    char encoder[128] = "";
    if (d->is_series)
        enc_stack_name(&d->src.stack, encoder, sizeof encoder);
    json_t *j = json_pack(
        "{s:s, s:s, s:o, s:I, s:s, s:s, s:s, s:s?, s:f, s:f, s:s, s:i, s:I, s:i, s:i, s:s, "
        "s:f, s:i}",
        "data", root, "dataset", o->dataset ? o->dataset : "folder", "classes", classes,
        "samples", (json_int_t)d->src.n, "samples_sha256", hex, "input", input,
        "arch", sg_arch_name(o->arch), "encoder",
        d->is_series ? encoder : NULL, "lr", o->lr, "wd", o->wd, "opt",
        o->opt == SG_OPTIM_SGD ? "sgd" : "adamw", "bs", o->batch_size, "seed",
        (json_int_t)o->seed, "epochs", o->epochs, "freeze_epochs", freeze_epochs, "schedule",
        o->schedule_fastai ? "fastai" : "onecycle", "label_smoothing", o->label_smoothing,
        "augment", o->augment);
    /* Absent from fingerprints written before it existed: compare skips it there. */
    if (j && (json_object_set_new(j, "series_augment", job_aug_json(d)) != 0 ||
              json_object_set_new(j, "mixup", json_real(o->aug.mixup)) != 0 ||
              json_object_set_new(j, "cutmix", json_real(o->aug.cutmix)) != 0)) {
        json_decref(j);
        j = NULL;
    }
    /* only when used, so that earlier runs' fingerprints stay equal */
    if (j && d->is_csv)
        json_object_set_new(j, "csv",
                            json_pack("{s:i, s:i, s:s?, s:s?, s:s?}", "window", o->csv.window,
                                      "stride", o->csv.stride, "columns", o->csv.columns,
                                      "subject_column", o->csv.subject_column, "subject_regex",
                                      o->csv.subject_regex));
    if (j && o->magnitude != DSA_MAGNITUDE_OFF)
        json_object_set_new(j, "magnitude", json_string(dsa_magnitude_name(o->magnitude)));
    if (j && d->max_length > 0)
        json_object_set_new(j, "max_length", json_integer(d->max_length));
    /* Weight averaging changes what last.safetensors holds (train_ckpt.h). */
    if (j) {
        json_object_set_new(j, "ema", json_real(o->ema));
        json_object_set_new(j, "swa", json_integer(o->swa));
    }
    if (j)
        *out = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(j);
    return *out ? SG_OK : sg_fail(SG_E_NOMEM, "cannot build the run fingerprint");
}

/* The field as short text for the message. */
static char *show(const json_t *v)
{
    if (!v)
        return strdup("(none)");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
}

int job_fingerprint_compare(const char *stored, const char *now, const char *ckpt)
{
    if (!stored || !now)
        return SG_OK;
    json_error_t err;
    json_t *a = json_loads(stored, 0, &err), *b = json_loads(now, 0, &err);
    int rc = SG_OK;
    if (!a || !b) {
        rc = sg_fail(SG_E_CORRUPT, "%s: unreadable run fingerprint", ckpt);
        goto out;
    }
    /* "data" is where the files were; the samples hash says what they are. */
    const char *key;
    json_t *va;
    json_object_foreach(a, key, va)
    {
        if (strcmp(key, "data") == 0)
            continue;
        json_t *vb = json_object_get(b, key);
        if (vb && json_equal(va, vb))
            continue;
        char *sa = show(va), *sb = show(vb);
        const char *what = strcmp(key, "samples_sha256") == 0 ? "the sample list (names or "
                                                                 "labels)"
                                                              : key;
        if (strcmp(key, "samples_sha256") == 0)
            rc = sg_fail(SG_E_INVALID,
                         "--resume: %s differs from the run in %s (same count, other files "
                         "or labels): resume with the data it was trained on, or train anew",
                         what, ckpt);
        else
            rc = sg_fail(SG_E_INVALID,
                         "--resume: %s is %s in %s but %s now: resume with the same data and "
                         "options, or train anew with --overwrite or another --out",
                         what, sa ? sa : "?", ckpt, sb ? sb : "?");
        free(sa);
        free(sb);
        break;
    }
out:
    json_decref(a);
    json_decref(b);
    return rc;
}
