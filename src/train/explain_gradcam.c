/* explain_gradcam.c - Grad-CAM for explain (see explain.h): the class
 * activation map of one ResNet stage for the predicted class, overlaid on
 * the image the network saw.
 *
 * The predicted class is the ensemble's (mean probabilities, as predict
 * gives them); each member's map is computed for that class on its own
 * preparation of the input (its encoding, size and normalisation), and
 * the maps are averaged (the members must see images of one size).  The
 * network's gradients come from models/gradcam.cpp (sg_model_gradcam).
 *
 * Per input: gradcam/NNNN_NAME.png, the seen image (eval geometry, before
 * normalisation) and beside it the same image under the map in a jet
 * colour scale (blended by the map's value, so irrelevant parts stay
 * readable); gradcam/NNNN_NAME.npy, the mean map (H, W) divided by its
 * maximum (all zeros where the map is zero everywhere); one row of
 * gradcam.csv.
 */
#include "src/train/explain.h"

#include "src/base/atomic_file.h"
#include "src/base/csv_table.h"
#include "src/base/npy.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "src/image/png_io.h"
#include "src/image/transform.h"
#include "src/train/ckpt_data.h"
#include "src/train/train_ckpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Images per Grad-CAM pass: a backward pass keeps every activation. */
#define GRADCAM_BATCH 8

static int parse_layer(sg_stage *out, const char *name)
{
    if (!name) {
        *out = SG_STAGE_LAYER4;
        return SG_OK;
    }
    for (int s = 1; s <= 4; s++) {
        char want[8];
        snprintf(want, sizeof want, "layer%d", s);
        if (strcmp(name, want) == 0) {
            *out = (sg_stage)(SG_STAGE_LAYER1 + s - 1);
            return SG_OK;
        }
    }
    return sg_fail(SG_E_INVALID, "--layer: expected layer1, layer2, layer3 or layer4, got '%s'",
                   name);
}

/* Adds member model's maps of every sample of d (through spec) for class
 * pred[i] to sum (n, h, w). */
static int member_maps(double *sum, sg_model *model, job_data *d, const sg_transform_spec *spec,
                       sg_stage layer, const int *pred)
{
    int C = spec->channels, H = spec->height, W = spec->width;
    size_t per = (size_t)C * (size_t)H * (size_t)W, hw = (size_t)H * (size_t)W;
    float *x = malloc(GRADCAM_BATCH * per * sizeof *x);
    float *cam = malloc(GRADCAM_BATCH * hw * sizeof *cam);
    int cls[GRADCAM_BATCH];
    int rc = x && cam ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    if (rc == SG_OK)
        rc = sg_model_set_train(model, 0);
    sg_rng rng;
    sg_rng_seed(&rng, 0);
    for (size_t first = 0; rc == SG_OK && first < d->src.n; first += GRADCAM_BATCH) {
        size_t nb = d->src.n - first < GRADCAM_BATCH ? d->src.n - first : GRADCAM_BATCH;
        for (size_t b = 0; rc == SG_OK && b < nb; b++) {
            sg_image img;
            rc = sample_source_read(&d->src, first + b, &img);
            if (rc == SG_OK) {
                rc = sg_transform_apply(spec, 0, &img, x + b * per, &rng);
                sg_image_free(&img);
            }
            cls[b] = pred[first + b];
        }
        if (rc == SG_OK)
            rc = sg_model_gradcam(model, x, (int)nb, C, H, W, layer, cls, cam, NULL);
        for (size_t k = 0; rc == SG_OK && k < nb * hw; k++)
            sum[first * hw + k] += (double)cam[k];
    }
    free(x);
    free(cam);
    return rc;
}

/* The jet colour map, t in [0, 1]. */
static void jet(double t, float rgb[3])
{
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double r = 1.5 - fabs(4.0 * t - 3.0), g = 1.5 - fabs(4.0 * t - 2.0),
           b = 1.5 - fabs(4.0 * t - 1.0);
    rgb[0] = (float)(r < 0 ? 0 : r > 1 ? 1 : r);
    rgb[1] = (float)(g < 0 ? 0 : g > 1 ? 1 : g);
    rgb[2] = (float)(b < 0 ? 0 : b > 1 ? 1 : b);
}

/* gradcam/STEM.png: the seen image | the overlay, and STEM.npy: the map. */
static int write_overlay(const char *dir, const char *stem, job_data *d, size_t i,
                         const sg_transform_spec *spec, const float *map)
{
    int C = spec->channels, H = spec->height, W = spec->width;
    size_t hw = (size_t)H * (size_t)W;
    sg_transform_spec s = *spec;
    s.normalize = 0;
    float *seen = malloc((size_t)C * hw * sizeof *seen);
    float *out = malloc(3 * hw * 2 * sizeof *out);
    int rc = seen && out ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    sg_image img = {0};
    if (rc == SG_OK)
        rc = sample_source_read(&d->src, i, &img);
    sg_rng rng;
    sg_rng_seed(&rng, 0);
    if (rc == SG_OK)
        rc = sg_transform_apply(&s, 0, &img, seen, &rng);
    sg_image_free(&img);
    for (size_t p = 0; rc == SG_OK && p < hw; p++) {
        float v[3];
        if (C == 3) {
            for (int c = 0; c < 3; c++)
                v[c] = seen[(size_t)c * hw + p];
        } else { /* one channel, or a stack: their mean in gray */
            double g = 0;
            for (int c = 0; c < C; c++)
                g += seen[(size_t)c * hw + p];
            v[0] = v[1] = v[2] = (float)(g / C);
        }
        float col[3];
        jet(map[p], col);
        float a = 0.6f * map[p];
        size_t y = p / (size_t)W, x = p % (size_t)W, row = 2 * (size_t)W;
        for (int c = 0; c < 3; c++) {
            out[(size_t)c * hw * 2 + y * row + x] = v[c];
            out[(size_t)c * hw * 2 + y * row + (size_t)W + x] = (1 - a) * v[c] + a * col[c];
        }
    }
    char path[4608];
    snprintf(path, sizeof path, "%s/gradcam/%s.png", dir, stem);
    if (rc == SG_OK)
        rc = sg_png_write(path, out, 3, H, 2 * W, 8);
    snprintf(path, sizeof path, "%s/gradcam/%s.npy", dir, stem);
    size_t shape[2] = {(size_t)H, (size_t)W};
    if (rc == SG_OK)
        rc = sg_npy_write(path, map, 2, shape);
    free(seen);
    free(out);
    return rc;
}

int explain_gradcam_run(const job_opts *o, const ckpt_list *l, const char *out_dir)
{
    sg_stage layer = SG_STAGE_LAYER4;
    int rc = parse_layer(&layer, o->layer);
    if (rc)
        return rc;
    /* the ensemble's prediction first: every member's map is for it */
    ckpt_predictions r;
    rc = ckpt_ensemble_run(&r, o, l, o->arch_given ? (int)o->arch : -1, o->args + 1,
                           o->n_args - 1, 0, o->label_regex);
    if (rc)
        return rc;
    size_t n = r.n, K = (size_t)r.meta.n_classes;
    int H = r.meta.spec.height, W = r.meta.spec.width;
    size_t hw = (size_t)H * (size_t)W;
    int *pred = malloc((n ? n : 1) * sizeof *pred);
    double *sum = calloc(n * hw > 0 ? n * hw : 1, sizeof *sum);
    float *map = malloc(hw * sizeof *map);
    if (!pred || !sum || !map)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < n; i++) {
        int best = 0;
        for (size_t k = 1; k < K; k++)
            if (r.probs[i * K + k] > r.probs[i * K + (size_t)best])
                best = (int)k;
        pred[i] = best;
    }
    if (rc == SG_OK)
        rc = member_maps(sum, r.model, &r.data, &r.meta.spec, layer, pred);
    for (int m = 1; rc == SG_OK && m < l->n; m++) {
        sg_model *model = NULL;
        train_meta meta = {0};
        job_data d = {0};
        rc = train_ckpt_load(&model, &meta, l->paths[m], o->device, -1, o->precision,
                             job_torch_threads(o));
        if (rc == SG_OK && (meta.spec.height != H || meta.spec.width != W))
            rc = sg_fail(SG_E_INVALID,
                         "%s sees %dx%d images, %s %dx%d: Grad-CAM averages the maps of "
                         "members that see one size",
                         l->paths[m], meta.spec.height, meta.spec.width, l->paths[0], H, W);
        if (rc == SG_OK)
            rc = ckpt_dataset_load(&d, &meta, o->args + 1, o->n_args - 1, 0, o->label_regex,
                                   o);
        if (rc == SG_OK && d.src.n != n)
            rc = sg_fail(SG_E_INVALID, "%s and %s read %zu and %zu samples from the inputs",
                         l->paths[0], l->paths[m], n, d.src.n);
        if (rc == SG_OK)
            rc = member_maps(sum, model, &d, &meta.spec, layer, pred);
        job_data_free(&d);
        sg_model_free(model);
        train_meta_free(&meta);
    }
    char path[4352];
    snprintf(path, sizeof path, "%s/gradcam", out_dir);
    if (rc == SG_OK)
        rc = sg_mkdir_p(path);
    snprintf(path, sizeof path, "%s/gradcam.csv", out_dir);
    sg_atomic_file af;
    if (rc == SG_OK)
        rc = sg_atomic_open(&af, path);
    if (rc == SG_OK) {
        fputs("input,label,pred,prob,map\n", af.fp);
        for (size_t i = 0; rc == SG_OK && i < n; i++) {
            double mx = 0.0;
            for (size_t p = 0; p < hw; p++)
                mx = fmax(mx, sum[i * hw + p]);
            for (size_t p = 0; p < hw; p++)
                map[p] = mx > 0 ? (float)(sum[i * hw + p] / mx) : 0.0f;
            char stem[128];
            const char *name = r.data.src.name && r.data.src.name[i] ? r.data.src.name[i] : "";
            explain_file_stem(stem, sizeof stem, i, name);
            rc = write_overlay(out_dir, stem, &r.data, i, &r.meta.spec, map);
            int y = r.data.src.label[i];
            sg_csv_write_field(af.fp, name);
            fputc(',', af.fp);
            sg_csv_write_field(af.fp, y >= 0 ? r.meta.class_names[y] : "");
            fputc(',', af.fp);
            sg_csv_write_field(af.fp, r.meta.class_names[pred[i]]);
            fprintf(af.fp, ",%.6f,gradcam/%s.png\n", r.probs[i * K + (size_t)pred[i]], stem);
        }
        if (rc == SG_OK)
            rc = sg_atomic_commit(&af);
        else
            sg_atomic_abort(&af);
    }
    free(pred);
    free(sum);
    free(map);
    ckpt_predictions_free(&r);
    return rc;
}
