/* sg_cases.h - the pyts conformance cases (SHARED/testvectors/encoders and
 * encoders-static): listing a set, reading a case (params, input series,
 * expected image), turning its params into enc_params and into
 * `sensorgram encode` options, and comparing an image with pyts's.
 *
 * Shared by test_encoders.c (the encoder API) and test_pyts_cli.c (the
 * binary on CSV and DSA files), so both paths are held to one rule:
 * 1e-5 absolute for float images, exact for thresholded ones.  An
 * unthresholded joint plot reaches values in the thousands, beyond what a
 * float holds to 1e-5, so it also allows one float rounding (rtol 2^-23).
 */
#ifndef SG_CASES_H
#define SG_CASES_H

#include "tests/sg_test.h"

#include "encoders/enc.h"

#include <dirent.h>

/* The number of cases each set must hold: a shortfall (a missing or
 * unreadable file) fails the test instead of passing on fewer. */
#define SG_CASES_ENCODERS 81
#define SG_CASES_STATIC 85
#define SG_CASES_MAX 256

typedef struct {
    double *v;
    int rows, cols;
} sg_table;

static inline void sg_table_free(sg_table *t)
{
    free(t->v);
    t->v = NULL;
}

/* Reads a CSV of numbers; every row must have the same length. */
static inline int sg_table_read(sg_table *t, const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    size_t cap = 1024, n = 0;
    t->v = malloc(cap * sizeof(double));
    t->rows = 0;
    t->cols = 0;
    int col = 0, c;
    char buf[64];
    int len = 0;
    int ok = t->v != NULL;
    while (ok) {
        c = fgetc(fp);
        if (c == ',' || c == '\n' || c == EOF) {
            if (len > 0) {
                buf[len] = '\0';
                if (n == cap) {
                    cap *= 2;
                    double *nv = realloc(t->v, cap * sizeof(double));
                    if (!nv) {
                        ok = 0;
                        break;
                    }
                    t->v = nv;
                }
                t->v[n++] = strtod(buf, NULL);
                col++;
                len = 0;
            }
            if ((c == '\n' || c == EOF) && col > 0) {
                if (t->rows == 0)
                    t->cols = col;
                else if (col != t->cols)
                    ok = 0;
                t->rows++;
                col = 0;
            }
            if (c == EOF)
                break;
        } else if (len < (int)sizeof buf - 1) {
            buf[len++] = (char)c;
        }
    }
    fclose(fp);
    if (!ok)
        sg_table_free(t);
    return ok ? 0 : -1;
}

/* Finds key in a params file's text; copies its value to val. */
static inline const char *sg_param_get(const char *text, const char *key, char *val, size_t vlen)
{
    size_t klen = strlen(key);
    const char *s = text;
    while (*s) {
        if (strncmp(s, key, klen) == 0 && s[klen] == '=') {
            const char *v = s + klen + 1;
            size_t i = 0;
            while (v[i] && v[i] != '\n' && i + 1 < vlen) {
                val[i] = v[i];
                i++;
            }
            val[i] = '\0';
            return val;
        }
        s = strchr(s, '\n');
        if (!s)
            break;
        s++;
    }
    val[0] = '\0';
    return NULL;
}

static inline char *sg_case_slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *buf = calloc(1, 4096);
    if (buf)
        (void)!fread(buf, 1, 4095, fp);
    fclose(fp);
    return buf;
}

/* Fills p from a case's params text; returns 0 or -1 on an unknown value. */
static inline int sg_case_params(enc_params *p, const char *text)
{
    char v[128];
    const char *enc = sg_param_get(text, "encoder", v, sizeof v);
    if (!enc)
        return -1;
    if (strcmp(enc, "gaf") == 0) {
        char m[32];
        sg_param_get(text, "method", m, sizeof m);
        enc_params_default(p, strcmp(m, "difference") == 0 ? ENC_GADF : ENC_GASF);
        p->image_size = atoi(sg_param_get(text, "image_size", v, sizeof v) ? v : "0");
        sg_param_get(text, "sample_range", v, sizeof v);
        if (sscanf(v, "%lf,%lf", &p->sample_range[0], &p->sample_range[1]) != 2)
            return -1;
        p->overlapping = atoi(sg_param_get(text, "overlapping", v, sizeof v) ? v : "0");
        return 0;
    }
    if (strcmp(enc, "mtf") == 0) {
        enc_params_default(p, ENC_MTF);
        p->n_bins = atoi(sg_param_get(text, "n_bins", v, sizeof v) ? v : "0");
        p->image_size = atoi(sg_param_get(text, "image_size", v, sizeof v) ? v : "0");
        p->overlapping = atoi(sg_param_get(text, "overlapping", v, sizeof v) ? v : "0");
        sg_param_get(text, "strategy", v, sizeof v);
        if (strcmp(v, "quantile") == 0)
            p->strategy = ENC_STRATEGY_QUANTILE;
        else if (strcmp(v, "uniform") == 0)
            p->strategy = ENC_STRATEGY_UNIFORM;
        else if (strcmp(v, "normal") == 0)
            p->strategy = ENC_STRATEGY_NORMAL;
        else
            return -1;
        return 0;
    }
    if (strcmp(enc, "rp") != 0 && strcmp(enc, "jrp") != 0)
        return -1;
    enc_params_default(p, strcmp(enc, "jrp") == 0 ? ENC_JRP : ENC_RP);
    p->dimension = atoi(sg_param_get(text, "dimension", v, sizeof v) ? v : "0");
    p->time_delay = atoi(sg_param_get(text, "time_delay", v, sizeof v) ? v : "0");
    p->percentage = atof(sg_param_get(text, "percentage", v, sizeof v) ? v : "0");
    sg_param_get(text, "threshold", v, sizeof v);
    if (strcmp(v, "none") == 0) {
        p->threshold = ENC_THRESHOLD_NONE;
    } else if (strcmp(v, "point") == 0) {
        p->threshold = ENC_THRESHOLD_POINT;
    } else if (strcmp(v, "distance") == 0) {
        p->threshold = ENC_THRESHOLD_DISTANCE;
    } else {
        p->threshold = ENC_THRESHOLD_VALUE;
        p->threshold_value = atof(v);
    }
    return 0;
}

/* The `sensorgram encode` options for a case's params (pyts names in
 * kebab case), into buf. */
static inline int sg_case_cli_args(char *buf, size_t n, const char *text)
{
    char enc[32], a[64], b[64], c[64], d[64];
    sg_param_get(text, "encoder", enc, sizeof enc);
    if (strcmp(enc, "gaf") == 0) {
        sg_param_get(text, "method", a, sizeof a);
        sg_param_get(text, "image_size", b, sizeof b);
        sg_param_get(text, "sample_range", c, sizeof c);
        sg_param_get(text, "overlapping", d, sizeof d);
        return snprintf(buf, n, "--encoder %s --enc-size %s --sample-range %s%s",
                        strcmp(a, "difference") == 0 ? "gadf" : "gasf", b, c,
                        atoi(d) ? " --overlapping" : "");
    }
    if (strcmp(enc, "mtf") == 0) {
        sg_param_get(text, "n_bins", a, sizeof a);
        sg_param_get(text, "strategy", b, sizeof b);
        sg_param_get(text, "image_size", c, sizeof c);
        sg_param_get(text, "overlapping", d, sizeof d);
        return snprintf(buf, n, "--encoder mtf --n-bins %s --strategy %s --enc-size %s%s", a,
                        b, c, atoi(d) ? " --overlapping" : "");
    }
    sg_param_get(text, "dimension", a, sizeof a);
    sg_param_get(text, "time_delay", b, sizeof b);
    sg_param_get(text, "threshold", c, sizeof c);
    sg_param_get(text, "percentage", d, sizeof d);
    return snprintf(buf, n, "--encoder %s --dimension %s --time-delay %s --threshold %s "
                    "--percentage %s", enc, a, b, c, d);
}

/* A case, read whole: its params (text and parsed), the input series
 * (C rows of T) and the expected image. */
typedef struct {
    char name[256];
    char *params_text;
    enc_params p;
    sg_table in, want;
} sg_case;

static inline void sg_case_free(sg_case *c)
{
    free(c->params_text);
    c->params_text = NULL;
    sg_table_free(&c->in);
    sg_table_free(&c->want);
}

/* Reads case name of dir; fails the test on a missing or bad file. */
static inline void sg_case_read(sg_case *c, const char *dir, const char *name)
{
    char path[1024];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(path, sizeof path, "%s/%s.params", dir, name);
    c->params_text = sg_case_slurp(path);
    if (!c->params_text)
        fail_msg("cannot read %s", path);
    if (sg_case_params(&c->p, c->params_text) != 0)
        fail_msg("%s: unknown encoder or parameter value", path);
    snprintf(path, sizeof path, "%s/%s.input.csv", dir, name);
    if (sg_table_read(&c->in, path) != 0)
        fail_msg("cannot read %s", path);
    snprintf(path, sizeof path, "%s/%s.expected.csv", dir, name);
    if (sg_table_read(&c->want, path) != 0)
        fail_msg("cannot read %s", path);
}

static inline int sg_cases_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the case names of dir (sorted, malloc'd, at most SG_CASES_MAX);
 * returns how many. */
static inline int sg_cases_list(char **names, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len > 7 && strcmp(e->d_name + len - 7, ".params") == 0) {
            if (n == SG_CASES_MAX)
                fail_msg("%s: more than %d cases", dir, SG_CASES_MAX);
            names[n] = strndup(e->d_name, len - 7);
            assert_non_null(names[n]);
            n++;
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], sg_cases_cmp_str);
    return n;
}

/* Compares out (h x w, as the encoder made it) with the case's expected
 * image; returns 1 on a match, else 0 after printing where it differs
 * (what names the path, e.g. "api" or "cli csv"). */
static inline int sg_case_compare(const sg_case *c, const char *what, const float *out, int h,
                                  int w)
{
    if (h != c->want.rows || w != c->want.cols) {
        print_error("%s [%s]: shape %dx%d, expected %dx%d\n", c->name, what, h, w, c->want.rows,
                    c->want.cols);
        return 0;
    }
    const enc_params *p = &c->p;
    int thresholded = (p->kind == ENC_RP || p->kind == ENC_JRP) &&
                      p->threshold != ENC_THRESHOLD_NONE;
    double rtol = p->kind == ENC_JRP && !thresholded ? 1.0 / (1 << 23) : 0.0;
    size_t n = (size_t)h * (size_t)w, worst = 0, mismatched = 0;
    double worst_excess = -1.0;
    const double *want = c->want.v;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)out[i] - want[i]);
        double excess = thresholded ? (out[i] != (float)want[i] ? 1.0 : -1.0)
                                    : d - (1e-5 + rtol * fabs(want[i]));
        if (d != d)
            excess = INFINITY;
        if (excess > 0)
            mismatched++;
        if (excess > worst_excess) {
            worst_excess = excess;
            worst = i;
        }
    }
    if (worst_excess > 0)
        print_error("%s [%s]: %zu of %zu pixels differ; worst at (%zu, %zu): expected %.17g, "
                    "got %.9g\n",
                    c->name, what, mismatched, n, worst / (size_t)w, worst % (size_t)w,
                    want[worst], (double)out[worst]);
    return worst_excess <= 0;
}

#endif
