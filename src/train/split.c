/* split.c - seeded random, stratified, subject-wise, LOSO and k-fold
 * splits (see split.h).  Every split is built by marking each index as
 * train or valid and then collecting both sides in index order, so the
 * two sides always partition 0..n-1. */
#include "src/train/split.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void sg_split_free(sg_split *s)
{
    if (!s)
        return;
    free(s->train);
    free(s->valid);
    memset(s, 0, sizeof *s);
}

/* Builds out from flags (1 = valid). */
int sg_split_flags(sg_split *out, const unsigned char *is_valid, size_t n)
{
    memset(out, 0, sizeof *out);
    size_t nv = 0;
    for (size_t i = 0; i < n; i++)
        nv += is_valid[i] != 0;
    out->train = malloc(sizeof(size_t) * ((n - nv) ? (n - nv) : 1));
    out->valid = malloc(sizeof(size_t) * (nv ? nv : 1));
    if (!out->train || !out->valid) {
        sg_split_free(out);
        return sg_fail(SG_E_NOMEM, "split: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (is_valid[i])
            out->valid[out->n_valid++] = i;
        else
            out->train[out->n_train++] = i;
    }
    return SG_OK;
}

static int check_pct(double pct)
{
    if (!(pct >= 0.0 && pct < 1.0))
        return sg_fail(SG_E_INVALID, "--valid-pct must be in [0, 1) (got %g)", pct);
    return SG_OK;
}

static size_t *identity(size_t n)
{
    size_t *v = malloc(sizeof(size_t) * (n ? n : 1));
    if (v)
        for (size_t i = 0; i < n; i++)
            v[i] = i;
    return v;
}

/* Shuffles each class's members (labels NULL: one class of all samples)
 * with one rng stream, class by class, and sends the first valid_pct of
 * each to validation. */
static int split_shuffled(sg_split *out, const int *labels, size_t n, double valid_pct,
                          uint64_t seed)
{
    memset(out, 0, sizeof *out);
    int rc = check_pct(valid_pct);
    if (rc < 0)
        return rc;
    int max_label = labels ? -1 : 0;
    for (size_t i = 0; labels && i < n; i++) {
        if (labels[i] < 0)
            return sg_fail(SG_E_INVALID, "split: sample %zu has no label", i);
        if (labels[i] > max_label)
            max_label = labels[i];
    }
    size_t *members = malloc(sizeof(size_t) * (n ? n : 1));
    unsigned char *flags = calloc(n ? n : 1, 1);
    if (!members || !flags) {
        free(members);
        free(flags);
        return sg_fail(SG_E_NOMEM, "split: out of memory");
    }
    sg_rng rng;
    sg_rng_seed(&rng, seed);
    for (int c = 0; c <= max_label; c++) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (!labels || labels[i] == c)
                members[m++] = i;
        sg_rng_shuffle(&rng, members, m);
        size_t cut = (size_t)(valid_pct * (double)m);
        for (size_t i = 0; i < cut; i++)
            flags[members[i]] = 1;
    }
    rc = sg_split_flags(out, flags, n);
    free(members);
    free(flags);
    return rc;
}

int sg_split_random(sg_split *out, size_t n, double valid_pct, uint64_t seed)
{
    return split_shuffled(out, NULL, n, valid_pct, seed);
}

int sg_split_random_stratified(sg_split *out, const int *labels, size_t n, double valid_pct,
                               uint64_t seed)
{
    return split_shuffled(out, labels, n, valid_pct, seed);
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int sg_subjects_distinct(int **out, size_t *n_out, const int *subjects, size_t n)
{
    *out = NULL;
    *n_out = 0;
    int *v = malloc(sizeof(int) * (n ? n : 1));
    if (!v)
        return sg_fail(SG_E_NOMEM, "split: out of memory");
    for (size_t i = 0; i < n; i++) {
        if (subjects[i] < 0) {
            free(v);
            return sg_fail(SG_E_INVALID,
                           "split: sample %zu has no subject id (a subject-wise split needs "
                           "a manifest with a subject column)",
                           i);
        }
        v[i] = subjects[i];
    }
    qsort(v, n, sizeof(int), int_cmp);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || v[m - 1] != v[i])
            v[m++] = v[i];
    *out = v;
    *n_out = m;
    return SG_OK;
}

int sg_split_subjects(sg_split *out, const int *subjects, size_t n, const int *valid_subjects,
                      size_t n_valid_subjects)
{
    memset(out, 0, sizeof *out);
    int *distinct;
    size_t nd;
    int rc = sg_subjects_distinct(&distinct, &nd, subjects, n);
    if (rc < 0)
        return rc;
    for (size_t k = 0; k < n_valid_subjects; k++)
        if (!bsearch(&valid_subjects[k], distinct, nd, sizeof(int), int_cmp)) {
            free(distinct);
            return sg_fail(SG_E_INVALID, "--valid-subjects: subject %d does not occur in the data",
                           valid_subjects[k]);
        }
    free(distinct);
    unsigned char *flags = calloc(n ? n : 1, 1);
    if (!flags)
        return sg_fail(SG_E_NOMEM, "split: out of memory");
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < n_valid_subjects; k++)
            if (subjects[i] == valid_subjects[k])
                flags[i] = 1;
    rc = sg_split_flags(out, flags, n);
    free(flags);
    return rc;
}

int sg_split_loso(sg_split *out, const int *subjects, size_t n, size_t fold)
{
    memset(out, 0, sizeof *out);
    int *distinct;
    size_t nd;
    int rc = sg_subjects_distinct(&distinct, &nd, subjects, n);
    if (rc < 0)
        return rc;
    if (nd < 2 || fold >= nd) {
        free(distinct);
        return sg_fail(SG_E_INVALID,
                       "leave-one-subject-out: fold %zu invalid with %zu distinct subjects", fold,
                       nd);
    }
    int subject = distinct[fold];
    free(distinct);
    return sg_split_subjects(out, subjects, n, &subject, 1);
}

int sg_split_subjects_holdout(sg_split *out, int **held, size_t *n_held, const int *subjects,
                              size_t n, double valid_frac, uint64_t seed)
{
    memset(out, 0, sizeof *out);
    *held = NULL;
    *n_held = 0;
    int *distinct;
    size_t nd;
    int rc = sg_subjects_distinct(&distinct, &nd, subjects, n);
    if (rc < 0)
        return rc;
    if (nd < 2) {
        free(distinct);
        return sg_fail(SG_E_INVALID, "a subject-wise split needs at least two subjects (found %zu)",
                       nd);
    }
    /* round(frac * subjects), at least one held out and at least one left
     * to train on: 6 subjects at 0.2 hold out 1, 8 hold out 2 */
    size_t k = (size_t)(valid_frac * (double)nd + 0.5);
    if (k < 1)
        k = 1;
    if (k > nd - 1)
        k = nd - 1;
    size_t *perm = identity(nd);
    int *chosen = malloc(k * sizeof *chosen);
    if (!perm || !chosen) {
        free(perm);
        free(chosen);
        free(distinct);
        return sg_fail(SG_E_NOMEM, "split: out of memory");
    }
    sg_rng rng;
    sg_rng_seed(&rng, seed);
    sg_rng_shuffle(&rng, perm, nd);
    for (size_t i = 0; i < k; i++)
        chosen[i] = distinct[perm[i]];
    free(perm);
    free(distinct);
    qsort(chosen, k, sizeof *chosen, int_cmp);
    rc = sg_split_subjects(out, subjects, n, chosen, k);
    if (rc < 0) {
        free(chosen);
        return rc;
    }
    *held = chosen;
    *n_held = k;
    return SG_OK;
}

int sg_split_kfold(sg_split *out, size_t n, int k, int fold, uint64_t seed)
{
    memset(out, 0, sizeof *out);
    if (k < 2 || (size_t)k > n || fold < 0 || fold >= k)
        return sg_fail(SG_E_INVALID, "kfold:%d: need 2 <= k <= %zu samples and 0 <= fold < k (got fold %d)",
                       k, n, fold);
    size_t *perm = identity(n);
    unsigned char *flags = calloc(n, 1);
    if (!perm || !flags) {
        free(perm);
        free(flags);
        return sg_fail(SG_E_NOMEM, "split: out of memory");
    }
    sg_rng rng;
    sg_rng_seed(&rng, seed);
    sg_rng_shuffle(&rng, perm, n);
    /* The first n % k parts get one extra sample (sklearn KFold sizes). */
    size_t base = n / (size_t)k, extra = n % (size_t)k, start = 0;
    for (int f = 0; f < fold; f++)
        start += base + ((size_t)f < extra);
    size_t len = base + ((size_t)fold < extra);
    for (size_t i = start; i < start + len; i++)
        flags[perm[i]] = 1;
    int rc = sg_split_flags(out, flags, n);
    free(perm);
    free(flags);
    return rc;
}

int sg_parse_int_list(int **out, size_t *n_out, const char *text)
{
    *out = NULL;
    *n_out = 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    int *v = malloc(sizeof(int) * cap);
    if (!v)
        return sg_fail(SG_E_NOMEM, "out of memory");
    size_t n = 0;
    const char *p = text;
    for (;;) {
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < -2147483647L || x > 2147483647L ||
            (*end != ',' && *end != '\0')) {
            free(v);
            return sg_fail(SG_E_INVALID, "'%s': column %ld: expected a comma-separated integer list",
                           text, (long)(p - text) + 1);
        }
        v[n++] = (int)x;
        if (*end == '\0')
            break;
        p = end + 1;
    }
    *out = v;
    *n_out = n;
    return SG_OK;
}
