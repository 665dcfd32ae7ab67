/* explain_occlude.c - occlusion attributions on raw sensor series (see
 * explain.h): which channels, units, triads and time windows the
 * predicted class depends on.
 *
 * Per member, per input, V = 1 + C + G + W copies of the segment are
 * encoded and predicted as one batched pass (train_predict): the segment
 * itself, each of its C channels occluded, each of its G unit/triad
 * groups occluded (all their channels), each of W time windows occluded
 * (all channels over the window).
 *
 * The neutral values.  A checkpoint records no raw training mean (its
 * fit is the encoder's: gray's min/max, mtf's bins), so they come from
 * the segment itself, from its background: the channel's median m and
 * scaled median absolute deviation s (1.4826 MAD), which a pattern over
 * part of the segment (a plateau, a burst) does not move as it moves the
 * mean and the standard deviation.
 *
 *   a channel (unit, triad) becomes the channel at rest: m plus a faint
 *     noise, 0.01 s times standard normal draws (the same draws for every
 *     input).  The level stays (gravity on an accelerometer axis, which
 *     says the posture), so encoders that scale by the data set's range
 *     (gray) see an in-range flat row, not a step to an unusual value.
 *     The faint noise is for the encoders that scale each segment on its
 *     own (gasf, gadf, mtf's quantiles): they stretch it to the full
 *     range, which is how they show a resting sensor in training,
 *     whereas an exact constant is an image they never saw (gasf draws
 *     it as one flat colour) and hiding any channel that way collapses
 *     the prediction, whatever the channel carried;
 *   a time window becomes background: m + s times the draws, clamped to
 *     the channel's own [min, max] over the segment.  A resting stretch
 *     inside a moving segment would itself be a pattern (a flat block,
 *     which gasf draws as a conspicuous band), and a value outside the
 *     segment's range would rescale the whole segment for the
 *     per-segment encoders; background noise within the range is
 *     neither.
 *
 * What occlusion removes is then a channel's movement, or a stretch's
 * pattern, the information a classifier of activities should use.
 *
 * Windows: W windows of L = max(1, T / windows) samples every
 * max(1, L / 2) samples (half-overlapping), the last one ending at T;
 * DSA's T = 125 with 8 gives 16 windows of 15 samples.
 *
 * Not done here: the figures (figures/fig_explain.c through the job_opts
 * hooks) and Grad-CAM (explain_gradcam.c).
 */
#include "src/train/explain.h"

#include "src/base/atomic_file.h"
#include "src/base/csv_table.h"
#include "src/base/progress.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "src/train/ckpt_data.h"
#include "src/train/train.h"
#include "src/train/train_ckpt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Occluded copies encoded and predicted at once, at most (about 46 MB of
 * raw DSA segments). */
#define OCCL_CHUNK 1024

/* One kind of occlusion of the union over members: a channel or group by
 * name, or a window by number. */
typedef struct occl_item {
    char *name;
    double *p;      /* (n, K): sum over the members so far of the probabilities */
    double *series; /* channels: (n, T) raw values from the first member that reads it */
} occl_item;

typedef struct occl_list {
    int n, cap;
    occl_item *v;
} occl_list;

/* What the members add up to. */
typedef struct occl_acc {
    size_t n;        /* inputs */
    int T, K, W;
    char **name;     /* (n) input names, owned */
    int *label;      /* (n) true class or -1 */
    char **classes;  /* (K), owned */
    double *base;    /* (n, K) sum of the members' probabilities */
    occl_list ch, grp, win;
    int *ws, *we;    /* (W) window bounds */
    int members;
} occl_acc;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void occl_list_free(occl_list *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].name);
        free(l->v[i].p);
        free(l->v[i].series);
    }
    free(l->v);
    memset(l, 0, sizeof *l);
}

static void occl_acc_free(occl_acc *a)
{
    for (size_t i = 0; a->name && i < a->n; i++)
        free(a->name[i]);
    free(a->name);
    free(a->label);
    for (int k = 0; a->classes && k < a->K; k++)
        free(a->classes[k]);
    free(a->classes);
    free(a->base);
    occl_list_free(&a->ch);
    occl_list_free(&a->grp);
    occl_list_free(&a->win);
    free(a->ws);
    free(a->we);
    memset(a, 0, sizeof *a);
}

/* The item named name (windows: by number), added when missing with the
 * members so far counted as unchanged (their base probabilities). */
static int occl_list_get(occl_list *l, const occl_acc *a, const char *name, int *out)
{
    for (int i = 0; i < l->n; i++)
        if (strcmp(l->v[i].name, name) == 0) {
            *out = i;
            return SG_OK;
        }
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        occl_item *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v)
            return sg_fail(SG_E_NOMEM, "out of memory");
        l->v = v;
        l->cap = cap;
    }
    occl_item *it = &l->v[l->n];
    memset(it, 0, sizeof *it);
    size_t nk = a->n * (size_t)a->K;
    it->name = strdup(name);
    it->p = malloc((nk ? nk : 1) * sizeof *it->p);
    if (!it->name || !it->p) {
        free(it->name);
        free(it->p);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    memcpy(it->p, a->base, nk * sizeof *it->p);
    *out = l->n++;
    return SG_OK;
}

/* Windows of L = T / n_windows samples every L / 2 (see the top). */
static int make_windows(occl_acc *a, int n_windows)
{
    int T = a->T;
    int L = T / (n_windows > 0 ? n_windows : 8);
    if (L < 1)
        L = 1;
    int stride = L / 2 > 0 ? L / 2 : 1;
    int W = 0;
    for (int s = 0; s + L <= T; s += stride)
        W++;
    int tail = (T - L) % stride != 0; /* one more, ending at T */
    W += tail;
    a->ws = malloc((size_t)W * sizeof *a->ws);
    a->we = malloc((size_t)W * sizeof *a->we);
    if (!a->ws || !a->we)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int w = 0;
    for (int s = 0; s + L <= T; s += stride, w++) {
        a->ws[w] = s;
        a->we[w] = s + L;
    }
    if (tail) {
        a->ws[w] = T - L;
        a->we[w] = T;
    }
    a->W = W;
    return SG_OK;
}

/* Unit and triad of a channel name "UNIT_SENSOR_AXIS" (at least two
 * underscores): *unit_len and *triad_len prefix lengths, 0 when the name
 * says none. */
static void name_groups(const char *name, size_t *unit_len, size_t *triad_len)
{
    const char *first = strchr(name, '_');
    const char *last = strrchr(name, '_');
    *unit_len = *triad_len = 0;
    if (!first || first == last || first == name)
        return;
    *unit_len = (size_t)(first - name);
    *triad_len = (size_t)(last - name);
}

/* A member's groups: names and, per group, which of its channels. */
typedef struct member_groups {
    int n;
    char **name;          /* (n) */
    unsigned char *mask;  /* (n, C) */
} member_groups;

static void member_groups_free(member_groups *g)
{
    for (int i = 0; i < g->n; i++)
        free(g->name[i]);
    free(g->name);
    free(g->mask);
    memset(g, 0, sizeof *g);
}

static int groups_add(member_groups *g, const char *name, size_t len, int C, int c)
{
    int i = 0;
    while (i < g->n && !(strlen(g->name[i]) == len && strncmp(g->name[i], name, len) == 0))
        i++;
    if (i == g->n) {
        char **nn = realloc(g->name, (size_t)(g->n + 1) * sizeof *nn);
        if (nn)
            g->name = nn;
        unsigned char *nm = realloc(g->mask, (size_t)(g->n + 1) * (size_t)C);
        if (nm)
            g->mask = nm;
        if (!nn || !nm || !(g->name[g->n] = strndup(name, len)))
            return sg_fail(SG_E_NOMEM, "out of memory");
        memset(g->mask + (size_t)g->n * (size_t)C, 0, (size_t)C);
        g->n++;
    }
    g->mask[(size_t)i * (size_t)C + (size_t)c] = 1;
    return SG_OK;
}

/* Units, then unit-sensor triads, of a member's channels; groups of one
 * channel are that channel and left out. */
static int member_groups_make(member_groups *g, const sg_series_set *set)
{
    memset(g, 0, sizeof *g);
    int C = set->n_channels, rc = SG_OK;
    for (int pass = 0; pass < 2 && rc == SG_OK; pass++)
        for (int c = 0; c < C && rc == SG_OK; c++) {
            const char *nm = set->channel_names ? set->channel_names[c] : NULL;
            size_t ul, tl;
            if (!nm)
                continue;
            name_groups(nm, &ul, &tl);
            if (ul)
                rc = groups_add(g, nm, pass == 0 ? ul : tl, C, c);
        }
    /* drop the groups of one channel */
    int kept = 0;
    for (int i = 0; rc == SG_OK && i < g->n; i++) {
        int count = 0;
        for (int c = 0; c < C; c++)
            count += g->mask[(size_t)i * (size_t)C + (size_t)c];
        if (count < 2) {
            free(g->name[i]);
            continue;
        }
        g->name[kept] = g->name[i];
        memmove(g->mask + (size_t)kept * (size_t)C, g->mask + (size_t)i * (size_t)C, (size_t)C);
        kept++;
    }
    if (rc == SG_OK)
        g->n = kept;
    else
        member_groups_free(g);
    return rc;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

static double median_sorted(const double *v, int n)
{
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* A new set of nv = n_inputs * V copies of the inputs first..first+n_inputs
 * of src, occluded as described at the top.  Labels -1; names the input's. */
static int occluded_set(sg_series_set *out, const sg_series_set *src, size_t first,
                        size_t n_inputs, const member_groups *g, const occl_acc *a, int V)
{
    memset(out, 0, sizeof *out);
    int C = src->n_channels, T = src->n_samples;
    size_t nv = n_inputs * (size_t)V, seg = (size_t)C * (size_t)T;
    out->n = nv;
    out->n_channels = C;
    out->n_samples = T;
    out->n_classes = src->n_classes;
    out->data = malloc(nv * seg * sizeof *out->data);
    out->channel_names = calloc((size_t)C, sizeof *out->channel_names);
    out->label = malloc(nv * sizeof *out->label);
    out->subject = malloc(nv * sizeof *out->subject);
    out->segment = malloc(nv * sizeof *out->segment);
    out->source = calloc(nv, sizeof *out->source);
    out->name = calloc(nv, sizeof *out->name);
    out->class_names = calloc((size_t)(src->n_classes > 0 ? src->n_classes : 1),
                              sizeof *out->class_names);
    double *level = malloc((size_t)C * sizeof *level);
    double *spread = malloc((size_t)C * sizeof *spread);
    double *lo = malloc((size_t)C * sizeof *lo), *hi = malloc((size_t)C * sizeof *hi);
    /* (C, T) a channel at rest: level + 0.01 spread * noise, per input */
    double *rest = malloc(seg * sizeof *rest);
    double *noise = malloc(seg * sizeof *noise);
    double *sorted = malloc((size_t)T * sizeof *sorted);
    int rc = SG_OK;
    if (!out->data || !out->channel_names || !out->label || !out->subject || !out->segment ||
        !out->source || !out->name || !out->class_names || !level || !spread || !lo || !hi ||
        !rest || !noise || !sorted)
        rc = sg_fail(SG_E_NOMEM, "out of memory for %zu occluded segments", nv);
    for (int c = 0; rc == SG_OK && c < C; c++)
        if (src->channel_names && src->channel_names[c] &&
            !(out->channel_names[c] = strdup(src->channel_names[c])))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (int k = 0; rc == SG_OK && k < src->n_classes; k++)
        if (!(out->class_names[k] = dup_or_null(src->class_names[k])) && src->class_names[k])
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    if (rc == SG_OK) {
        /* standard normal draws (Box-Muller), the same for every input */
        sg_rng rng;
        sg_rng_seed(&rng, 0x5eedu);
        for (size_t k = 0; k < seg; k++) {
            double u = sg_rng_uniform(&rng), v = sg_rng_uniform(&rng);
            noise[k] = sqrt(-2.0 * log(u > 0 ? u : 1e-300)) * cos(6.283185307179586 * v);
        }
    }
    for (size_t i = 0; rc == SG_OK && i < n_inputs; i++) {
        const double *x = sg_series_at(src, first + i);
        for (int c = 0; c < C; c++) {
            const double *xc = x + (size_t)c * (size_t)T;
            /* the median and the scaled median absolute deviation: the
             * level and spread of the channel's background, which a
             * pattern over part of the segment (a plateau, a burst)
             * does not move as it moves the mean and the standard deviation */
            memcpy(sorted, xc, (size_t)T * sizeof *sorted);
            qsort(sorted, (size_t)T, sizeof *sorted, cmp_double);
            level[c] = median_sorted(sorted, T);
            for (int t = 0; t < T; t++)
                sorted[t] = fabs(xc[t] - level[c]);
            qsort(sorted, (size_t)T, sizeof *sorted, cmp_double);
            spread[c] = 1.4826 * median_sorted(sorted, T);
            lo[c] = hi[c] = xc[0];
            for (int t = 1; t < T; t++) {
                lo[c] = xc[t] < lo[c] ? xc[t] : lo[c];
                hi[c] = xc[t] > hi[c] ? xc[t] : hi[c];
            }
            for (int t = 0; t < T; t++)
                rest[(size_t)c * (size_t)T + (size_t)t] =
                    level[c] + 0.01 * spread[c] * noise[(size_t)c * (size_t)T + (size_t)t];
        }
        for (int v = 0; v < V && rc == SG_OK; v++) {
            size_t j = i * (size_t)V + (size_t)v;
            double *y = out->data + j * seg;
            memcpy(y, x, seg * sizeof *y);
            out->label[j] = -1;
            out->subject[j] = -1;
            out->segment[j] = -1;
            if (!(out->name[j] = strdup(src->name && src->name[first + i] ? src->name[first + i]
                                                                          : "segment")))
                rc = sg_fail(SG_E_NOMEM, "out of memory");
            int u = v - 1;
            if (v == 0)
                continue;
            if (u < C) { /* one channel */
                memcpy(y + (size_t)u * (size_t)T, rest + (size_t)u * (size_t)T,
                       (size_t)T * sizeof *y);
                continue;
            }
            u -= C;
            if (u < g->n) { /* a unit or triad */
                for (int c = 0; c < C; c++)
                    if (g->mask[(size_t)u * (size_t)C + (size_t)c])
                        memcpy(y + (size_t)c * (size_t)T, rest + (size_t)c * (size_t)T,
                               (size_t)T * sizeof *y);
                continue;
            }
            u -= g->n; /* a time window, every channel */
            for (int c = 0; c < C; c++)
                for (int t = a->ws[u]; t < a->we[u]; t++) {
                    double v = level[c] + spread[c] * noise[(size_t)c * (size_t)T + (size_t)t];
                    y[(size_t)c * (size_t)T + (size_t)t] = v < lo[c] ? lo[c] : v > hi[c] ? hi[c] : v;
                }
        }
    }
    free(level);
    free(spread);
    free(lo);
    free(hi);
    free(rest);
    free(noise);
    free(sorted);
    if (rc)
        sg_series_set_free(out);
    return rc;
}

/* The first member fixes the inputs; the others must read the same. */
static int acc_start(occl_acc *a, const job_data *d, const train_meta *meta, int n_windows)
{
    const sg_series_set *s = &d->src.series;
    a->n = s->n;
    a->T = s->n_samples;
    a->K = meta->n_classes;
    size_t nk = a->n * (size_t)a->K;
    a->name = calloc(a->n ? a->n : 1, sizeof *a->name);
    a->label = malloc((a->n ? a->n : 1) * sizeof *a->label);
    a->classes = calloc((size_t)a->K, sizeof *a->classes);
    a->base = calloc(nk ? nk : 1, sizeof *a->base);
    if (!a->name || !a->label || !a->classes || !a->base)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < a->n; i++) {
        a->label[i] = d->src.label[i];
        if (!(a->name[i] = strdup(d->src.name && d->src.name[i] ? d->src.name[i] : "segment")))
            return sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (int k = 0; k < a->K; k++)
        if (!(a->classes[k] = strdup(meta->class_names[k])))
            return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = make_windows(a, n_windows);
    char wname[32];
    for (int w = 0; rc == SG_OK && w < a->W; w++) {
        int at;
        snprintf(wname, sizeof wname, "%d", w);
        rc = occl_list_get(&a->win, a, wname, &at);
    }
    return rc;
}

static int acc_same_inputs(const occl_acc *a, const job_data *d, const char *first,
                           const char *member)
{
    const sg_series_set *s = &d->src.series;
    if (s->n != a->n)
        return sg_fail(SG_E_INVALID, "%s and %s read %zu and %zu segments from the inputs",
                       first, member, a->n, s->n);
    if (s->n_samples != a->T)
        return sg_fail(SG_E_INVALID, "%s and %s read segments of %d and %d samples: the time "
                                     "windows of an ensemble's explanation must be the same",
                       first, member, a->T, s->n_samples);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->name[i], d->src.name && d->src.name[i] ? d->src.name[i] : "segment") != 0)
            return sg_fail(SG_E_INVALID, "%s and %s read the inputs differently (segment %zu)",
                           first, member, i);
    return SG_OK;
}

/* Adds probabilities p (K) to sum (K). */
static void add_probs(double *sum, const float *p, int K)
{
    for (int k = 0; k < K; k++)
        sum[k] += (double)p[k];
}

/* One member: load, occlude, predict, add to a. */
static int occlude_member(occl_acc *a, const job_opts *o, const ckpt_list *l, int m)
{
    sg_progress *bar = NULL;
    sg_model *model = NULL;
    train_meta meta = {0};
    job_data d = {0};
    member_groups g = {0};
    int rc = train_ckpt_load(&model, &meta, l->paths[m], o->device, -1, o->precision,
                             job_torch_threads(o));
    if (rc == SG_OK && !meta.is_series)
        rc = sg_fail(SG_E_INVALID, "%s reads images, %s sensor recordings: explain one kind "
                                   "at a time", l->paths[m], l->paths[0]);
    if (rc == SG_OK)
        rc = ckpt_dataset_load(&d, &meta, o->args + 1, o->n_args - 1, 0, o->label_regex,
                               o);
    if (rc == SG_OK && d.src.n == 0)
        rc = sg_fail(SG_E_INVALID, "no segments in the inputs");
    if (rc == SG_OK && m == 0)
        rc = acc_start(a, &d, &meta, o->windows);
    else if (rc == SG_OK)
        rc = acc_same_inputs(a, &d, l->paths[0], l->paths[m]);
    if (rc == SG_OK)
        rc = member_groups_make(&g, &d.src.series);
    const sg_series_set *s = &d.src.series;
    int C = s->n_channels, K = a->K, V = 1 + C + g.n + a->W;
    /* the union's items for this member's channels and groups (they
     * start at the base of the members before it) */
    int *ch_at = malloc((size_t)(C > 0 ? C : 1) * sizeof *ch_at);
    int *grp_at = malloc((size_t)(g.n > 0 ? g.n : 1) * sizeof *grp_at);
    if (rc == SG_OK && (!ch_at || !grp_at))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; rc == SG_OK && c < C; c++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "channel_%d", c);
        const char *nm = s->channel_names && s->channel_names[c] ? s->channel_names[c] : fallback;
        rc = occl_list_get(&a->ch, a, nm, &ch_at[c]);
        occl_item *it = rc == SG_OK ? &a->ch.v[ch_at[c]] : NULL;
        if (it && !it->series) {
            it->series = malloc(a->n * (size_t)a->T * sizeof *it->series);
            if (!it->series)
                rc = sg_fail(SG_E_NOMEM, "out of memory");
            for (size_t i = 0; rc == SG_OK && i < a->n; i++)
                memcpy(it->series + i * (size_t)a->T,
                       sg_series_at(s, i) + (size_t)c * (size_t)a->T,
                       (size_t)a->T * sizeof *it->series);
        }
    }
    for (int j = 0; rc == SG_OK && j < g.n; j++)
        rc = occl_list_get(&a->grp, a, g.name[j], &grp_at[j]);
    /* which union items this member reads */
    unsigned char *has_ch = calloc((size_t)(a->ch.n > 0 ? a->ch.n : 1), 1);
    unsigned char *has_grp = calloc((size_t)(a->grp.n > 0 ? a->grp.n : 1), 1);
    if (rc == SG_OK && (!has_ch || !has_grp))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; rc == SG_OK && c < C; c++)
        has_ch[ch_at[c]] = 1;
    for (int j = 0; rc == SG_OK && j < g.n; j++)
        has_grp[grp_at[j]] = 1;

    size_t per = (size_t)(OCCL_CHUNK / V > 0 ? OCCL_CHUNK / V : 1);
    size_t cap = per * (size_t)V;
    float *probs = malloc(cap * (size_t)K * sizeof *probs);
    size_t *idx = malloc(cap * sizeof *idx);
    if (rc == SG_OK && (!probs || !idx))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < cap; i++)
        idx[i] = i;
    char label[64];
    snprintf(label, sizeof label, l->n > 1 ? "explain %d/%d" : "explain", m + 1, l->n);
    if (rc == SG_OK && o->progress != 0)
        rc = sg_progress_create(&bar, stderr, label, a->n, o->progress);
    for (size_t first = 0; rc == SG_OK && first < a->n; first += per) {
        size_t ni = a->n - first < per ? a->n - first : per, nv = ni * (size_t)V;
        sg_series_set vs;
        job_data vd = {0};
        rc = occluded_set(&vs, s, first, ni, &g, a, V);
        if (rc == SG_OK)
            rc = ckpt_data_from_series(&vd, &meta, &vs, job_workers(o));
        double loss;
        if (rc == SG_OK)
            rc = train_predict(probs, &loss, model, &vd.src, idx, nv, &meta.spec, K,
                               o->batch_size > 0 ? o->batch_size : 64, o->workers, 0);
        job_data_free(&vd);
        for (size_t i = 0; rc == SG_OK && i < ni; i++) {
            size_t row = first + i;
            const float *pv = probs + i * (size_t)V * (size_t)K;
            add_probs(a->base + row * (size_t)K, pv, K);
            /* a union item this member lacks: its probabilities unchanged */
            for (int u = 0; u < a->ch.n; u++)
                if (!has_ch[u])
                    add_probs(a->ch.v[u].p + row * (size_t)K, pv, K);
            for (int u = 0; u < a->grp.n; u++)
                if (!has_grp[u])
                    add_probs(a->grp.v[u].p + row * (size_t)K, pv, K);
            for (int c = 0; c < C; c++)
                add_probs(a->ch.v[ch_at[c]].p + row * (size_t)K, pv + (size_t)(1 + c) * K, K);
            for (int j = 0; j < g.n; j++)
                add_probs(a->grp.v[grp_at[j]].p + row * (size_t)K,
                          pv + (size_t)(1 + C + j) * K, K);
            for (int w = 0; w < a->W; w++)
                add_probs(a->win.v[w].p + row * (size_t)K,
                          pv + (size_t)(1 + C + g.n + w) * K, K);
        }
        if (rc == SG_OK && bar)
            sg_progress_add(bar, ni);
    }
    if (rc == SG_OK)
        a->members++;
    sg_progress_free(bar);
    free(probs);
    free(idx);
    free(has_ch);
    free(has_grp);
    free(ch_at);
    free(grp_at);
    member_groups_free(&g);
    job_data_free(&d);
    sg_model_free(model);
    train_meta_free(&meta);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */

typedef struct ranked {
    int i;
    double v;
} ranked;

static int ranked_desc(const void *x, const void *y)
{
    const ranked *a = x, *b = y;
    if (a->v != b->v)
        return a->v < b->v ? 1 : -1;
    return (a->i > b->i) - (a->i < b->i);
}

/* Importance of item u for input i: the drop of the predicted class's
 * mean probability. */
static double importance(const occl_acc *a, const occl_item *it, size_t i, int pred)
{
    size_t at = i * (size_t)a->K + (size_t)pred;
    return (a->base[at] - it->p[at]) / (double)a->members;
}

static int argmax_row(const double *p, int K)
{
    int best = 0;
    for (int k = 1; k < K; k++)
        if (p[k] > p[best])
            best = k;
    return best;
}

static int write_inputs_csv(const occl_acc *a, const int *pred, const char *dir)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/inputs.csv", dir);
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    fputs("input,label,pred,prob\n", af.fp);
    for (size_t i = 0; i < a->n; i++) {
        sg_csv_write_field(af.fp, a->name[i]);
        fputc(',', af.fp);
        sg_csv_write_field(af.fp, a->label[i] >= 0 ? a->classes[a->label[i]] : "");
        fputc(',', af.fp);
        sg_csv_write_field(af.fp, a->classes[pred[i]]);
        fprintf(af.fp, ",%.6f\n",
                a->base[i * (size_t)a->K + (size_t)pred[i]] / (double)a->members);
    }
    return sg_atomic_commit(&af);
}

/* channels.csv or groups.csv: one row per input and item, most important
 * first. */
/* Per input, the items of l ranked by importance, one row each; column
 * names the item ("channel", "group"), or NULL for the windows list,
 * whose rows give each window's start and end sample. */
static int write_ranked_csv(const occl_acc *a, const occl_list *l, const int *pred,
                            const char *dir, const char *file, const char *column)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    ranked *r = malloc((size_t)(l->n > 0 ? l->n : 1) * sizeof *r);
    if (!r)
        return sg_fail(SG_E_NOMEM, "out of memory");
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc) {
        free(r);
        return rc;
    }
    if (column)
        fprintf(af.fp, "input,%s,importance\n", column);
    else
        fputs("input,start,end,importance\n", af.fp);
    for (size_t i = 0; i < a->n; i++) {
        for (int u = 0; u < l->n; u++) {
            r[u].i = u;
            r[u].v = importance(a, &l->v[u], i, pred[i]);
        }
        qsort(r, (size_t)l->n, sizeof *r, ranked_desc);
        for (int u = 0; u < l->n; u++) {
            sg_csv_write_field(af.fp, a->name[i]);
            fputc(',', af.fp);
            if (column)
                sg_csv_write_field(af.fp, l->v[r[u].i].name);
            else /* the windows list holds window w at index w */
                fprintf(af.fp, "%d,%d", a->ws[r[u].i], a->we[r[u].i]);
            fprintf(af.fp, ",%.6f\n", r[u].v);
        }
    }
    free(r);
    return sg_atomic_commit(&af);
}

/* The figure of input i through the hook. */
static int draw_input(const occl_acc *a, const job_opts *o, const int *pred, size_t i,
                      const char *dir)
{
    int C = a->ch.n, T = a->T, W = a->W;
    double *series = malloc((size_t)C * (size_t)T * sizeof *series);
    double *imp = malloc((size_t)C * sizeof *imp);
    double *wimp = malloc((size_t)W * sizeof *wimp);
    int *order = malloc((size_t)C * sizeof *order);
    const char **names = malloc((size_t)C * sizeof *names);
    ranked *r = malloc((size_t)C * sizeof *r);
    int rc = SG_OK;
    if (!series || !imp || !wimp || !order || !names || !r)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; rc == SG_OK && c < C; c++) {
        memcpy(series + (size_t)c * (size_t)T, a->ch.v[c].series + i * (size_t)T,
               (size_t)T * sizeof *series);
        imp[c] = importance(a, &a->ch.v[c], i, pred[i]);
        names[c] = a->ch.v[c].name;
        r[c].i = c;
        r[c].v = imp[c];
    }
    if (rc == SG_OK) {
        qsort(r, (size_t)C, sizeof *r, ranked_desc);
        for (int c = 0; c < C; c++)
            order[c] = r[c].i;
        for (int w = 0; w < W; w++)
            wimp[w] = importance(a, &a->win.v[w], i, pred[i]);
    }
    char stem[128], path[4608];
    explain_file_stem(stem, sizeof stem, i, a->name[i]);
    const char *fmt = o->figure_format ? o->figure_format : "png";
    snprintf(path, sizeof path, "%s/figures/%s.%s", dir, stem, fmt);
    explain_input_fig f = {
        .input = a->name[i],
        .pred = a->classes[pred[i]],
        .truth = a->label[i] >= 0 ? a->classes[a->label[i]] : NULL,
        .p_pred = a->base[i * (size_t)a->K + (size_t)pred[i]] / (double)a->members,
        .n_channels = C,
        .n_samples = T,
        .series = series,
        .channel_names = names,
        .importance = imp,
        .order = order,
        .n_windows = W,
        .win_start = a->ws,
        .win_end = a->we,
        .win_importance = wimp,
    };
    if (rc == SG_OK)
        rc = o->draw_explain_input(path, fmt, &f);
    free(series);
    free(imp);
    free(wimp);
    free(order);
    free(names);
    free(r);
    return rc;
}

/* The channels in groups: by the first appearance of their unit, then of
 * their triad, then as they came (an ensemble's members add channels in
 * turn: the demo's magnetometers would otherwise trail after every
 * unit's acc and gyro).  order receives C channel indices. */
typedef struct group_key {
    int unit, triad, i;
} group_key;

static int group_key_cmp(const void *x, const void *y)
{
    const group_key *a = x, *b = y;
    if (a->unit != b->unit)
        return a->unit - b->unit;
    if (a->triad != b->triad)
        return a->triad - b->triad;
    return a->i - b->i;
}

static int first_with_prefix(const occl_list *l, int upto, const char *name, size_t len, int unit)
{
    for (int j = 0; j < upto; j++) {
        size_t ul, tl;
        name_groups(l->v[j].name, &ul, &tl);
        size_t lj = unit ? ul : tl;
        if (lj == len && strncmp(l->v[j].name, name, len) == 0)
            return j;
    }
    return upto;
}

static int channels_grouped(int *order, const occl_list *l)
{
    group_key *k = malloc((size_t)(l->n > 0 ? l->n : 1) * sizeof *k);
    if (!k)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; c < l->n; c++) {
        size_t ul, tl;
        name_groups(l->v[c].name, &ul, &tl);
        k[c].i = c;
        k[c].unit = ul ? first_with_prefix(l, c, l->v[c].name, ul, 1) : c;
        k[c].triad = tl ? first_with_prefix(l, c, l->v[c].name, tl, 0) : c;
    }
    qsort(k, (size_t)l->n, sizeof *k, group_key_cmp);
    for (int c = 0; c < l->n; c++)
        order[c] = k[c].i;
    free(k);
    return SG_OK;
}

/* summary.csv and the figure: mean channel importance per true class. */
static int write_summary(const occl_acc *a, const job_opts *o, const int *pred,
                         const char *dir)
{
    int K = a->K, C = a->ch.n;
    double *mean = calloc((size_t)K * (size_t)C, sizeof *mean);
    size_t *count = calloc((size_t)K, sizeof *count);
    const char **names = malloc((size_t)(C > 0 ? C : 1) * sizeof *names);
    if (!mean || !count || !names) {
        free(mean);
        free(count);
        free(names);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    size_t labelled = 0;
    for (size_t i = 0; i < a->n; i++) {
        int y = a->label[i];
        if (y < 0)
            continue;
        labelled++;
        count[y]++;
        for (int c = 0; c < C; c++)
            mean[(size_t)y * (size_t)C + (size_t)c] += importance(a, &a->ch.v[c], i, pred[i]);
    }
    for (int k = 0; k < K; k++)
        for (int c = 0; c < C && count[k]; c++)
            mean[(size_t)k * (size_t)C + (size_t)c] /= (double)count[k];
    /* columns grouped by unit and triad */
    int *order = malloc((size_t)(C > 0 ? C : 1) * sizeof *order);
    double *row = malloc((size_t)(C > 0 ? C : 1) * sizeof *row);
    int rc = order && row ? channels_grouped(order, &a->ch) : sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; rc == SG_OK && c < C; c++)
        names[c] = a->ch.v[order[c]].name;
    for (int k = 0; rc == SG_OK && k < K; k++) {
        double *m = mean + (size_t)k * (size_t)C;
        for (int c = 0; c < C; c++)
            row[c] = m[order[c]];
        memcpy(m, row, (size_t)C * sizeof *m);
    }
    free(order);
    free(row);
    if (rc == SG_OK && !labelled)
        rc = sg_fail(SG_E_INVALID, "--summary averages per true class, and no input carries a "
                                   "label (give labelled data: a DSA root, DSA segment files in "
                                   "their aNN/pM/ folders, X.npy with y.npy, a .ts file)");
    char path[4352];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    sg_atomic_file af;
    if (rc == SG_OK)
        rc = sg_atomic_open(&af, path);
    if (rc == SG_OK) {
        fputs("class,channel,importance,n\n", af.fp);
        for (int k = 0; k < K; k++)
            for (int c = 0; c < C && count[k]; c++) {
                sg_csv_write_field(af.fp, a->classes[k]);
                fputc(',', af.fp);
                sg_csv_write_field(af.fp, names[c]);
                fprintf(af.fp, ",%.6f,%zu\n", mean[(size_t)k * (size_t)C + (size_t)c],
                        count[k]);
            }
        rc = sg_atomic_commit(&af);
    }
    if (rc == SG_OK && o->draw_explain_summary) {
        const char *fmt = o->figure_format ? o->figure_format : "png";
        explain_summary_fig f = {K, (const char *const *)a->classes, C, names, mean, count};
        snprintf(path, sizeof path, "%s/summary.%s", dir, fmt);
        rc = o->draw_explain_summary(path, fmt, &f);
    }
    free(mean);
    free(count);
    free(names);
    return rc;
}

int explain_occlude_run(const job_opts *o, const ckpt_list *l, const char *out_dir)
{
    occl_acc a = {0};
    int rc = SG_OK;
    for (int m = 0; rc == SG_OK && m < l->n; m++) {
        rc = occlude_member(&a, o, l, m);
        if (rc == SG_OK && o->progress != 0)
            fprintf(stderr, "sensorgram explain: %s: %zu segments; %d channels, %d groups, %d "
                            "windows occluded in turn\n",
                    l->paths[m], a.n, a.ch.n, a.grp.n, a.W);
    }
    int *pred = rc == SG_OK ? malloc((a.n ? a.n : 1) * sizeof *pred) : NULL;
    if (rc == SG_OK && !pred)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == SG_OK && i < a.n; i++)
        pred[i] = argmax_row(a.base + i * (size_t)a.K, a.K);
    if (rc == SG_OK)
        rc = write_inputs_csv(&a, pred, out_dir);
    if (rc == SG_OK)
        rc = write_ranked_csv(&a, &a.ch, pred, out_dir, "channels.csv", "channel");
    if (rc == SG_OK && a.grp.n > 0)
        rc = write_ranked_csv(&a, &a.grp, pred, out_dir, "groups.csv", "group");
    if (rc == SG_OK)
        rc = write_ranked_csv(&a, &a.win, pred, out_dir, "windows.csv", NULL);
    if (rc == SG_OK && o->summary)
        rc = write_summary(&a, o, pred, out_dir);
    if (rc == SG_OK && !o->summary && o->draw_explain_input) {
        char figs[4352];
        snprintf(figs, sizeof figs, "%s/figures", out_dir);
        rc = sg_mkdir_p(figs);
        for (size_t i = 0; rc == SG_OK && i < a.n; i++)
            rc = draw_input(&a, o, pred, i, out_dir);
    }
    free(pred);
    occl_acc_free(&a);
    return rc;
}
