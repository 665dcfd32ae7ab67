/* predict_bare.c - `sensorgram predict --weights`: class probabilities
 * for images from a bare model: --arch A --weights FILE.safetensors
 * (torchvision names; class count from fc.weight, input channels from
 * conv1.weight) on images whose size already matches the network's input
 * (pixels / 255, no resize), ImageNet-normalised unless --no-normalize.
 * Output: CSV rows `path,pred,p0,p1,...` (softmax), written atomically.
 *
 * Without --weights the first argument is a training checkpoint, handled
 * by predict_ckpt_run() (predict_ckpt.c: sensor segments, stored
 * normalisation and classes).
 */
#include "src/train/predict_bare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/atomic_file.h"
#include "src/image/image.h"
#include "src/image/image_read.h"
#include "src/image/transform.h"
#include "src/train/metrics.h"
#include "src/base/csv_table.h"
#include "src/base/sg_error.h"
#include "models/sg_model.h"
#include "models/weights.h"

/* A loaded network plus how to feed it. */
typedef struct predict_model {
    sg_model *model;
    int in_channels;
    int n_classes;
    const float *mean, *std; /* 3 entries, cycled; NULL = no normalization */
} predict_model;

/* Reads one image as the network's input (n = 1): gray images feed a
 * 3-channel network by repetition; anything else must match. */
static int load_input(const predict_model *pm, const char *path, sg_image *out)
{
    sg_image img = {0};
    int rc = sg_image_read(path, &img);
    if (rc != 0)
        return rc;
    if (img.c == pm->in_channels) {
        *out = img;
    } else if (img.c == 1) {
        rc = sg_image_alloc(out, pm->in_channels, img.h, img.w);
        size_t plane = (size_t)img.h * (size_t)img.w;
        for (int c = 0; rc == 0 && c < pm->in_channels; c++)
            memcpy(out->data + (size_t)c * plane, img.data, plane * sizeof(float));
        sg_image_free(&img);
    } else {
        rc = sg_fail(SG_E_SHAPE, "%s: %d channels, the network takes %d", path, img.c, pm->in_channels);
        sg_image_free(&img);
    }
    if (rc == 0 && pm->mean) {
        size_t plane = (size_t)out->h * (size_t)out->w;
        for (int c = 0; c < out->c; c++) {
            float m = pm->mean[c % 3], s = pm->std[c % 3];
            float *p = out->data + (size_t)c * plane;
            for (size_t i = 0; i < plane; i++)
                p[i] = (p[i] - m) / s;
        }
    }
    return rc;
}

/* Runs every image through pm and writes the CSV to out atomically. */
static int predict_images(const predict_model *pm, char **paths, int n, const char *out)
{
    sg_atomic_file af = {0};
    int rc = sg_atomic_open(&af, out);
    if (rc != 0)
        return rc;
    fputs("path,pred", af.fp);
    for (int k = 0; k < pm->n_classes; k++)
        fprintf(af.fp, ",p%d", k);
    fputc('\n', af.fp);
    float *logits = malloc((size_t)pm->n_classes * sizeof *logits);
    float *probs = malloc((size_t)pm->n_classes * sizeof *probs);
    if (!logits || !probs)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        sg_image img = {0};
        if ((rc = load_input(pm, paths[i], &img)) != 0)
            break;
        rc = sg_model_forward(pm->model, img.data, 1, img.c, img.h, img.w, logits);
        if (rc != 0)
            sg_fail_context(rc, "%s", paths[i]);
        sg_image_free(&img);
        for (int k = 0; rc == 0 && k < pm->n_classes; k++)
            if (!isfinite(logits[k]))
                rc = sg_fail(SG_E_NUMERIC, "%s: the model's output is not finite (NaN/Inf): "
                                           "the weights are broken", paths[i]);
        if (rc != 0)
            break;
        sg_softmax(probs, logits, pm->n_classes);
        int pred = sg_argmax(probs, pm->n_classes);
        sg_csv_write_field(af.fp, paths[i]);
        fprintf(af.fp, ",%d", pred);
        for (int k = 0; k < pm->n_classes; k++)
            fprintf(af.fp, ",%.8g", probs[k]);
        fputc('\n', af.fp);
    }
    free(logits);
    free(probs);
    if (rc != 0) {
        sg_atomic_abort(&af);
        return rc;
    }
    return sg_atomic_commit(&af);
}

int predict_bare(const job_opts *o)
{
    predict_model pm = {0};
    int rc = sg_weights_probe(o->weights, &pm.n_classes, &pm.in_channels);
    if (rc != 0)
        return rc;
    sg_model_spec spec = {.arch = o->arch, .in_channels = pm.in_channels, .n_classes = pm.n_classes,
                          .device = o->device, .n_threads = job_torch_threads(o)};
    if ((rc = sg_model_create(&pm.model, &spec)) != 0)
        return rc;
    if ((rc = sg_weights_load(pm.model, o->weights, NULL)) == 0) {
        if (!o->no_normalize) {
            pm.mean = sg_imagenet_mean;
            pm.std = sg_imagenet_std;
        }
        rc = predict_images(&pm, o->args, o->n_args, o->output);
    }
    sg_model_free(pm.model);
    return rc;
}
