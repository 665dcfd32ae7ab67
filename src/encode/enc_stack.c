/* enc_stack.c - encoders stacked as channels (see enc_stack.h).
 *
 * Lives above encoders/ because the common size needs the image path's
 * resize (src/image/transform.c), which encoders/ may not include.
 * Temporary images are allocated per call: the single-encoder path
 * already allocates its output image per sample.
 */
#include "src/encode/enc_stack.h"

#include "src/base/sg_error.h"
#include "src/image/transform.h"
#include "src/encode/enc_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void enc_stack_single(enc_stack *s, const enc_params *p)
{
    memset(s, 0, sizeof *s);
    s->n = 1;
    s->p[0] = *p;
}

void enc_stack_name(const enc_stack *s, char *buf, size_t size)
{
    size_t len = 0;
    if (size)
        buf[0] = '\0';
    /* gray's scope named where it is not the default, so that the name of
     * gray+gray:scope=axis (fingerprints, encoding.json) tells it apart */
    static const char *const scope_suffix[] = {
        [ENC_SCOPE_DATASET] = "", [ENC_SCOPE_SEGMENT] = ":scope=segment", [ENC_SCOPE_AXIS] = ":scope=axis"};
    for (int k = 0; k < s->n && len < size; k++) {
        const enc_params *p = &s->p[k];
        const char *suffix =
            p->kind == ENC_GRAY && (unsigned)p->scope < 3 ? scope_suffix[p->scope] : "";
        int w = snprintf(buf + len, size - len, "%s%s%s", k ? "+" : "", enc_kind_name(p->kind),
                         suffix);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

int enc_stack_shape(const enc_stack *s, int C, int T, int *oc, int *oh, int *ow)
{
    if (s->n < 1 || s->n > ENC_STACK_MAX)
        return sg_fail(SG_E_INVALID, "an encoder stack holds 1 to %d encoders (got %d)",
                       ENC_STACK_MAX, s->n);
    *oc = 0;
    for (int k = 0; k < s->n; k++) {
        int c, h, w;
        int rc = enc_params_check(&s->p[k], C, T);
        if (rc == SG_OK)
            rc = enc_output_shape(&s->p[k], C, T, &c, &h, &w);
        if (rc)
            return rc;
        if (k == 0) {
            *oh = h;
            *ow = w;
        }
        *oc += c;
    }
    return SG_OK;
}

void enc_stack_fits_free(enc_fit **fits, int n)
{
    for (int k = 0; k < n; k++) {
        enc_fit_free(fits[k]);
        fits[k] = NULL;
    }
}

int enc_stack_fit_create(enc_fit **fits, const enc_stack *s, const double *x, size_t n, int C,
                         int T)
{
    for (int k = 0; k < s->n; k++)
        fits[k] = NULL;
    for (int k = 0; k < s->n; k++) {
        int rc = enc_fit_create(&fits[k], &s->p[k], x, n, C, T);
        if (rc) {
            enc_stack_fits_free(fits, s->n);
            return rc;
        }
    }
    return SG_OK;
}

void enc_stack_ws_free(enc_workspace **ws, int n)
{
    for (int k = 0; k < n; k++) {
        enc_workspace_free(ws[k]);
        ws[k] = NULL;
    }
}

int enc_stack_ws_create(enc_workspace **ws, const enc_stack *s, int C, int T)
{
    for (int k = 0; k < s->n; k++)
        ws[k] = NULL;
    for (int k = 0; k < s->n; k++) {
        int rc = enc_workspace_create(&ws[k], &s->p[k], C, T);
        if (rc) {
            enc_stack_ws_free(ws, s->n);
            return rc;
        }
    }
    return SG_OK;
}

void enc_stack_map_unit(float *v, size_t n, double lo, double hi, int bounded)
{
    if (!bounded) {
        lo = INFINITY;
        hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            if (v[i] < lo)
                lo = v[i];
            if (v[i] > hi)
                hi = v[i];
        }
    }
    double span = hi - lo;
    /* A constant image maps to 0, like a constant gray channel. */
    double scale = span > 0.0 ? 1.0 / span : 0.0;
    for (size_t i = 0; i < n; i++) {
        double y = ((double)v[i] - lo) * scale;
        v[i] = (float)(y < 0.0 ? 0.0 : y > 1.0 ? 1.0 : y);
    }
}

int enc_stack_encode(float *out, const double *x, int C, int T, const enc_stack *s,
                     enc_fit *const *fits, enc_workspace *const *ws)
{
    int oc, oh, ow;
    int rc = enc_stack_shape(s, C, T, &oc, &oh, &ow);
    if (rc)
        return rc;
    size_t plane = (size_t)oh * (size_t)ow;
    float *dst = out;
    for (int k = 0; k < s->n && rc == SG_OK; k++) {
        sg_image img = {0}, sized = {0};
        int c, h, w;
        rc = enc_output_shape(&s->p[k], C, T, &c, &h, &w);
        if (rc == SG_OK)
            rc = sg_image_alloc(&img, c, h, w);
        if (rc == SG_OK)
            rc = enc_encode(img.data, x, C, T, &s->p[k], fits[k], ws[k]);
        if (rc == SG_OK) {
            double lo, hi;
            int bounded;
            enc_value_range(&s->p[k], &lo, &hi, &bounded);
            enc_stack_map_unit(img.data, sg_image_numel(&img), lo, hi, bounded);
            if (h != oh || w != ow)
                rc = sg_image_resize(&sized, &img, oh, ow);
        }
        if (rc == SG_OK) {
            const float *src = sized.data ? sized.data : img.data;
            memcpy(dst, src, (size_t)c * plane * sizeof *dst);
            dst += (size_t)c * plane;
        }
        if (rc)
            rc = sg_fail_context(rc, "stacked encoder %d (%s)", k + 1,
                                 enc_kind_name(s->p[k].kind));
        sg_image_free(&sized);
        sg_image_free(&img);
    }
    return rc;
}

json_t *enc_stack_to_json(const enc_stack *s)
{
    json_t *arr = json_array();
    for (int k = 0; arr && k < s->n; k++) {
        json_t *e = enc_params_to_json(&s->p[k]);
        if (!e || json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

int enc_stack_from_json(enc_stack *s, const json_t *arr)
{
    memset(s, 0, sizeof *s);
    if (!json_is_array(arr) || json_array_size(arr) < 1 || json_array_size(arr) > ENC_STACK_MAX)
        return sg_fail(SG_E_PARSE, "encoder stack: expected an array of 1 to %d encoders",
                       ENC_STACK_MAX);
    s->n = (int)json_array_size(arr);
    for (int k = 0; k < s->n; k++) {
        int rc = enc_params_from_json(&s->p[k], json_array_get(arr, (size_t)k));
        if (rc)
            return sg_fail_context(rc, "encoder stack entry %d", k + 1);
    }
    return SG_OK;
}
