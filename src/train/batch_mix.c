/* batch_mix.c - mixup and cutmix (see batch_mix.h).
 *
 * Beta(a, a) is drawn as X / (X + Y) of two Gamma(a) draws (Marsaglia
 * and Tsang's method; for a < 1 a Gamma(a + 1) draw times U^(1/a)).
 */
#include "src/train/batch_mix.h"

#include "src/base/rng.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static double normal(sg_rng *r)
{
    double u1 = 1.0 - sg_rng_uniform(r), u2 = sg_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

static double gamma_draw(sg_rng *r, double a)
{
    if (a < 1.0) {
        double u = 1.0 - sg_rng_uniform(r);
        return gamma_draw(r, a + 1.0) * pow(u, 1.0 / a);
    }
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double z = normal(r), v = 1.0 + c * z;
        if (v <= 0)
            continue;
        v = v * v * v;
        double u = 1.0 - sg_rng_uniform(r);
        if (log(u) < 0.5 * z * z + d - d * v + d * log(v))
            return d * v;
    }
}

static double beta_draw(sg_rng *r, double a)
{
    double x = gamma_draw(r, a), y = gamma_draw(r, a);
    return x + y > 0 ? x / (x + y) : 0.5;
}

void batch_mix_apply(float *x, float *targets, int *perm, float *scratch, const int64_t *labels,
                     int n, int c, int h, int w, int k, batch_mix_kind kind, double alpha,
                     double label_smoothing, uint64_t seed, batch_mix_draw *draw)
{
    sg_rng r;
    sg_rng_seed(&r, seed);
    double lam = kind == BATCH_MIX_NONE ? 1.0 : beta_draw(&r, alpha);
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sg_rng_below(&r, (uint64_t)i + 1);
        int t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    size_t per = (size_t)c * (size_t)h * (size_t)w;
    batch_mix_draw d = {.lam = lam};
    if (kind != BATCH_MIX_NONE)
        memcpy(scratch, x, (size_t)n * per * sizeof *x);
    if (kind == BATCH_MIX_MIXUP) {
        float a = (float)lam, b = (float)(1.0 - lam);
        for (int i = 0; i < n; i++) {
            float *xi = x + (size_t)i * per;
            const float *xo = scratch + (size_t)i * per, *xp = scratch + (size_t)perm[i] * per;
            for (size_t p = 0; p < per; p++)
                xi[p] = a * xo[p] + b * xp[p];
        }
    } else if (kind == BATCH_MIX_CUTMIX) {
        double cut = sqrt(1.0 - lam);
        int ch = (int)(h * cut), cw = (int)(w * cut);
        int cy = (int)sg_rng_below(&r, (uint64_t)h), cx = (int)sg_rng_below(&r, (uint64_t)w);
        d.y0 = cy - ch / 2 < 0 ? 0 : cy - ch / 2;
        d.y1 = cy + ch / 2 > h ? h : cy + ch / 2;
        d.x0 = cx - cw / 2 < 0 ? 0 : cx - cw / 2;
        d.x1 = cx + cw / 2 > w ? w : cx + cw / 2;
        for (int i = 0; i < n; i++)
            for (int ci = 0; ci < c; ci++)
                for (int y = d.y0; y < d.y1; y++) {
                    size_t off = ((size_t)ci * h + y) * w + d.x0;
                    memcpy(x + (size_t)i * per + off, scratch + (size_t)perm[i] * per + off,
                           (size_t)(d.x1 - d.x0) * sizeof *x);
                }
        d.lam = 1.0 - (double)(d.y1 - d.y0) * (d.x1 - d.x0) / ((double)h * w);
    }
    double eps = label_smoothing;
    for (int i = 0; i < n; i++) {
        float *t = targets + (size_t)i * k;
        for (int j = 0; j < k; j++)
            t[j] = 0.0f;
        double own = kind == BATCH_MIX_NONE ? 1.0 : d.lam;
        double tw[2] = {own, 1.0 - own};
        int64_t ys[2] = {labels[i], labels[perm[i]]};
        for (int s = 0; s < 2; s++)
            if (ys[s] >= 0 && ys[s] < k)
                t[ys[s]] += (float)((1.0 - eps) * tw[s]);
        for (int j = 0; j < k; j++)
            t[j] += (float)(eps / k);
    }
    if (draw)
        *draw = d;
}

int batch_mix_train_step(sg_model *m, sg_optim *o, sg_batch *b, int k, batch_mix_kind kind,
                         double alpha, double label_smoothing, uint64_t seed, double *loss)
{
    size_t numel = (size_t)b->n * (size_t)b->c * (size_t)b->h * (size_t)b->w;
    float *targets = malloc((size_t)b->n * (size_t)k * sizeof *targets);
    float *scratch = malloc((numel ? numel : 1) * sizeof *scratch);
    int *perm = malloc((size_t)(b->n > 0 ? b->n : 1) * sizeof *perm);
    int rc = SG_OK;
    if (!targets || !scratch || !perm)
        rc = sg_fail(SG_E_NOMEM, "out of memory for a mixed batch of %d", b->n);
    if (rc == SG_OK) {
        batch_mix_apply(b->x, targets, perm, scratch, b->labels, b->n, b->c, b->h, b->w, k, kind,
                        alpha, label_smoothing, seed, NULL);
        rc = sg_model_train_step_soft(m, o, b->x, b->n, b->c, b->h, b->w, targets, k, loss,
                                      NULL);
    }
    free(targets);
    free(scratch);
    free(perm);
    return rc;
}
