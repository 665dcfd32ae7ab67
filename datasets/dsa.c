/* dsa.c - the UCI Daily and Sports Activities reader (see dsa.h).
 *
 * 6,840 files x 125 x 45 numbers must load in about a second, so files
 * are read whole and parsed by a hand-written number scanner for this
 * fixed layout instead of strtod.  The scanner accepts what the dataset
 * uses (optional sign, digits, optional fraction, optional exponent) and
 * keeps the value in double, as numpy.loadtxt does, so that the encoders
 * see what pyts sees.  Up to 15 significant digits and exponents within
 * 1e+-22 are exact (one correctly rounded multiply or divide); longer
 * numbers (17-digit round trips) go through strtod.
 * Anything else (ragged rows, words, NaN/Inf, wrong row count, empty
 * file) fails with "FILE:LINE:COLUMN: message".
 *
 * What it does not do: resampling, subsets of segments within a subject,
 * or reading the zip archive directly (tools/data.sh unpacks it).
 */
#include "datasets/dsa.h"
#include "src/base/parallel.h"
#include "src/base/file_read.h"
#include "src/base/sg_error.h"
#include "datasets/skipped.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { DSA_N_SUBJECTS_MAX = 8, DSA_N_SEGMENTS_MAX = 60 };

static const char *const activity_names[DSA_N_ACTIVITIES] = {
    "sitting",
    "standing",
    "lying_on_back",
    "lying_on_right_side",
    "ascending_stairs",
    "descending_stairs",
    "standing_in_elevator",
    "moving_in_elevator",
    "walking_parking_lot",
    "walking_treadmill_flat",
    "walking_treadmill_inclined",
    "running_treadmill",
    "exercising_stepper",
    "exercising_cross_trainer",
    "cycling_horizontal",
    "cycling_vertical",
    "rowing",
    "jumping",
    "playing_basketball",
};

static const char *const unit_names[DSA_N_UNITS] = {"T", "RA", "LA", "RL", "LL"};
static const char *const sensor_names[DSA_N_SENSORS] = {"acc", "gyro", "mag"};
static const char *const axis_names[DSA_N_AXES] = {"x", "y", "z"};

char *dsa_column_name(int col)
{
    if (col < 0 || col >= DSA_N_COLUMNS)
        return NULL;
    return sg_str_printf("%s_%s_%s", unit_names[col / 9], sensor_names[(col / 3) % 3],
                         axis_names[col % 3]);
}

void dsa_select_all(dsa_select *sel)
{
    sel->units = (1u << DSA_N_UNITS) - 1;
    sel->sensors = (1u << DSA_N_SENSORS) - 1;
    sel->axes = (1u << DSA_N_AXES) - 1;
    sel->subjects = 0;
}

const char *dsa_activity_name(int a)
{
    return (a >= 1 && a <= DSA_N_ACTIVITIES) ? activity_names[a - 1] : NULL;
}

/* Parses a comma list of names from names[0..n) into a bit mask. */
static int parse_mask(unsigned *mask, const char *list, const char *const *names, int n,
                      const char *what)
{
    if (!list)
        return SG_OK;
    unsigned m = 0;
    const char *s = list;
    for (;;) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        int found = 0;
        if (len == 3 && strncasecmp(s, "all", 3) == 0) {
            m |= (1u << n) - 1;
            found = 1;
        }
        for (int i = 0; i < n && !found; i++) {
            if (strlen(names[i]) == len && strncasecmp(s, names[i], len) == 0) {
                m |= 1u << i;
                found = 1;
            }
        }
        if (!found) {
            char avail[128] = "";
            for (int i = 0; i < n; i++) {
                strncat(avail, names[i], sizeof avail - strlen(avail) - 1);
                strncat(avail, i + 1 < n ? ", " : "", sizeof avail - strlen(avail) - 1);
            }
            return sg_fail(SG_E_INVALID, "unknown %s '%.*s' in '%s' (choose from %s, all)", what,
                           (int)len, s, list, avail);
        }
        if (!e)
            break;
        s = e + 1;
    }
    *mask = m;
    return SG_OK;
}

int dsa_select_parse(dsa_select *sel, const char *units, const char *sensors, const char *axes)
{
    dsa_select next = *sel;
    int rc = parse_mask(&next.units, units, unit_names, DSA_N_UNITS, "unit");
    if (!rc)
        rc = parse_mask(&next.sensors, sensors, sensor_names, DSA_N_SENSORS, "sensor");
    if (!rc)
        rc = parse_mask(&next.axes, axes, axis_names, DSA_N_AXES, "axis");
    if (rc)
        return rc;
    *sel = next;
    return SG_OK;
}

int dsa_select_parse_subjects(dsa_select *sel, const char *list)
{
    unsigned m = 0;
    const char *s = list;
    if (!s || !*s)
        return sg_fail(SG_E_INVALID, "empty subject list (expected e.g. 1,2,7)");
    if (strcasecmp(s, "all") == 0) {
        sel->subjects = 0;
        return SG_OK;
    }
    for (;;) {
        while (*s == ' ')
            s++;
        if (*s == 'p' || *s == 'P')
            s++;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 1 || v > DSA_N_SUBJECTS_MAX ||
            (*end != ',' && *end != '\0' && *end != ' '))
            return sg_fail(SG_E_INVALID, "bad subject in '%s' at column %d (expected 1..%d)",
                           list, (int)(s - list) + 1, DSA_N_SUBJECTS_MAX);
        m |= 1u << v;
        while (*end == ' ')
            end++;
        if (*end == '\0')
            break;
        if (*end != ',')
            return sg_fail(SG_E_INVALID, "bad subject list '%s'", list);
        s = end + 1;
    }
    sel->subjects = m;
    return SG_OK;
}

/* ---- the number scanner ------------------------------------------------ */

static const double pow10_table[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static double scale10(double m, int e)
{
    /* Exact powers up to 1e22 keep the common case correctly rounded. */
    if (e >= 0)
        return e <= 22 ? m * pow10_table[e] : m * pow(10.0, e);
    return e >= -22 ? m / pow10_table[-e] : m * pow(10.0, e);
}

/* Scans one number at *pp (bounded by end).  Returns 0 and advances *pp,
 * or -1 when no number starts there. */
static int scan_number(const char **pp, const char *end, double *out)
{
    const char *p = *pp;
    int neg = 0;
    if (p < end && (*p == '-' || *p == '+')) {
        neg = *p == '-';
        p++;
    }
    uint64_t mant = 0;
    int digits = 0, exp10 = 0, any = 0;
    while (p < end && *p >= '0' && *p <= '9') {
        if (digits < 19) {
            mant = mant * 10 + (uint64_t)(*p - '0');
            if (mant)
                digits++;
        } else {
            exp10++;
        }
        any = 1;
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && *p >= '0' && *p <= '9') {
            if (digits < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                if (mant)
                    digits++;
                exp10--;
            }
            any = 1;
            p++;
        }
    }
    if (!any)
        return -1;
    if (p < end && (*p == 'e' || *p == 'E')) {
        const char *q = p + 1;
        int eneg = 0;
        if (q < end && (*q == '-' || *q == '+')) {
            eneg = *q == '-';
            q++;
        }
        if (q < end && *q >= '0' && *q <= '9') {
            int e = 0;
            while (q < end && *q >= '0' && *q <= '9') {
                if (e < 100000)
                    e = e * 10 + (*q - '0');
                q++;
            }
            exp10 += eneg ? -e : e;
            p = q;
        } else {
            return -1;
        }
    }
    if (digits <= 15 && exp10 >= -22 && exp10 <= 22) {
        double v = scale10((double)mant, exp10);
        *out = neg ? -v : v;
    } else {
        /* mant may exceed 2^53 or the power be inexact: let strtod round */
        size_t len = (size_t)(p - *pp);
        char small[128];
        char *tok = len < sizeof small ? small : malloc(len + 1);
        if (!tok)
            return -2;
        memcpy(tok, *pp, len);
        tok[len] = '\0';
        *out = strtod(tok, NULL);
        if (tok != small)
            free(tok);
    }
    *pp = p;
    return 0;
}

/* ---- one file ---------------------------------------------------------- */

static void describe_token(char *out, size_t n, const char *p, const char *end)
{
    size_t len = 0;
    while (p + len < end && p[len] != ',' && p[len] != '\n' && p[len] != '\r' && len < 24)
        len++;
    snprintf(out, n, "%.*s", (int)len, p);
}

/* Parses a DSA text file held in buf into rows (DSA_N_ROWS, DSA_N_COLUMNS). */
int dsa_parse_buffer(double *rows, const char *buf, size_t size, const char *path)
{
    const char *p = buf, *end = buf + size;
    int line = 1;
    const char *line_start = p;
    int row = 0;
    if (size == 0)
        return sg_fail(SG_E_PARSE, "%s:1:1: empty file (expected %d rows of %d values)", path,
                       DSA_N_ROWS, DSA_N_COLUMNS);
    while (p < end) {
        /* Blank lines (including trailing ones) are skipped. */
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < end && *q == '\n') {
            p = q + 1;
            line++;
            line_start = p;
            continue;
        }
        if (q == end)
            break;
        if (row == DSA_N_ROWS)
            return sg_fail(SG_E_PARSE, "%s:%d:1: extra row (expected %d rows)", path, line,
                           DSA_N_ROWS);
        double *r = rows + (size_t)row * DSA_N_COLUMNS;
        for (int c = 0; c < DSA_N_COLUMNS; c++) {
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            int col = (int)(p - line_start) + 1;
            if (p == end || *p == '\n' || *p == '\r')
                return sg_fail(SG_E_PARSE, "%s:%d:%d: row has %d values, expected %d", path, line,
                               col, c, DSA_N_COLUMNS);
            double v;
            int scanned = scan_number(&p, end, &v);
            if (scanned == -2)
                return sg_fail(SG_E_NOMEM, "%s:%d:%d: out of memory", path, line, col);
            if (scanned != 0 ||
                (p < end && *p != ',' && *p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')) {
                char tok[32];
                const char *t = line_start + col - 1;
                describe_token(tok, sizeof tok, t, end);
                if (strncasecmp(tok, "nan", 3) == 0 || strncasecmp(tok, "inf", 3) == 0 ||
                    strncasecmp(tok, "-inf", 4) == 0 || strncasecmp(tok, "+inf", 4) == 0 ||
                    strncasecmp(tok, "-nan", 4) == 0)
                    return sg_fail(SG_E_PARSE, "%s:%d:%d: non-finite value '%s'", path, line,
                                   col, tok);
                return sg_fail(SG_E_PARSE, "%s:%d:%d: expected a number, got '%s'", path, line,
                               col, tok);
            }
            /* kept in double, but the image is float32 (and so is the
             * spectrogram's FFT): beyond its range nothing is meaningful */
            if (!(fabs(v) <= FLT_MAX))
                return sg_fail(SG_E_PARSE, "%s:%d:%d: value out of float range", path, line,
                               col);
            r[c] = v;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++;
            if (c + 1 < DSA_N_COLUMNS) {
                if (p < end && *p == ',') {
                    p++;
                } else {
                    return sg_fail(SG_E_PARSE, "%s:%d:%d: row has %d values, expected %d", path,
                                   line, (int)(p - line_start) + 1, c + 1, DSA_N_COLUMNS);
                }
            }
        }
        if (p < end && *p == '\r')
            p++;
        if (p < end && *p != '\n')
            return sg_fail(SG_E_PARSE, "%s:%d:%d: row has more than %d values", path, line,
                           (int)(p - line_start) + 1, DSA_N_COLUMNS);
        row++;
        if (p < end) {
            p++;
            line++;
            line_start = p;
        }
    }
    if (row == 0)
        return sg_fail(SG_E_PARSE, "%s:1:1: empty file (expected %d rows of %d values)", path,
                       DSA_N_ROWS, DSA_N_COLUMNS);
    if (row < DSA_N_ROWS)
        return sg_fail(SG_E_PARSE, "%s:%d:1: file ends after %d rows, expected %d", path, line,
                       row, DSA_N_ROWS);
    return SG_OK;
}

int dsa_segment_read(double *rows, const char *path)
{
    char *buf = NULL;
    size_t size = 0;
    int rc = sg_file_read(path, &buf, &size);
    if (rc)
        return rc;
    rc = dsa_parse_buffer(rows, buf, size, path);
    free(buf);
    return rc;
}

/* ---- the tree ---------------------------------------------------------- */

struct entry {
    int activity, subject, segment;
};

static int entry_cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    if (x->activity != y->activity)
        return x->activity - y->activity;
    if (x->subject != y->subject)
        return x->subject - y->subject;
    return x->segment - y->segment;
}

int dsa_subjects_present(const char *root, unsigned subjects, unsigned *present)
{
    *present = 0;
    size_t plen = strlen(root) + 64;
    char *dir = malloc(plen);
    if (!dir)
        return sg_fail(SG_E_NOMEM, "out of memory");
    for (int s = 1; s <= DSA_N_SUBJECTS_MAX; s++) {
        if (subjects && !(subjects & (1u << s)))
            continue;
        for (int a = 1; a <= DSA_N_ACTIVITIES; a++) {
            struct stat st;
            snprintf(dir, plen, "%s/a%02d/p%d", root, a, s);
            if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
                *present |= 1u << s;
                break;
            }
        }
    }
    free(dir);
    return SG_OK;
}

/* Lists ROOT/aNN/pM/sKK.txt for the selected subjects, sorted. */
static int list_segments(struct entry **out, size_t *n_out, const char *root,
                         unsigned subjects)
{
    size_t n = 0, cap = 1024;
    struct entry *v = malloc(cap * sizeof *v);
    if (!v)
        return sg_fail(SG_E_NOMEM, "out of memory");
    size_t plen = strlen(root) + 64;
    char *dir = malloc(plen);
    if (!dir) {
        free(v);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (int a = 1; a <= DSA_N_ACTIVITIES; a++) {
        for (int s = 1; s <= DSA_N_SUBJECTS_MAX; s++) {
            if (subjects && !(subjects & (1u << s)))
                continue;
            snprintf(dir, plen, "%s/a%02d/p%d", root, a, s);
            DIR *d = opendir(dir);
            if (!d)
                continue;
            struct dirent *de;
            while ((de = readdir(d)) != NULL) {
                int k, used = 0;
                if (sscanf(de->d_name, "s%d.txt%n", &k, &used) != 1 ||
                    used != (int)strlen(de->d_name) || de->d_name[1] < '0' ||
                    de->d_name[1] > '9' || k < 1)
                    continue;
                if (n == cap) {
                    struct entry *nv = realloc(v, cap * 2 * sizeof *v);
                    if (!nv) {
                        closedir(d);
                        free(v);
                        free(dir);
                        return sg_fail(SG_E_NOMEM, "out of memory");
                    }
                    v = nv;
                    cap *= 2;
                }
                v[n++] = (struct entry){a, s, k};
            }
            closedir(d);
        }
    }
    free(dir);
    qsort(v, n, sizeof *v, entry_cmp);
    *out = v;
    *n_out = n;
    return SG_OK;
}

struct load_job {
    sg_series_set *set;
    const struct entry *entries;
    const int *columns;     /* C file columns in output order */
    const char *root;
    double **scratch;        /* per thread (DSA_N_ROWS, DSA_N_COLUMNS) */
    char **failed;          /* n messages when skipping bad files, else NULL */
};

static int load_one(void *arg, int thread, size_t i)
{
    struct load_job *job = arg;
    sg_series_set *set = job->set;
    double *rows = job->scratch[thread];
    int rc = dsa_segment_read(rows, set->source[i]);
    if (rc && job->failed && rc != SG_E_NOMEM) {
        job->failed[i] = strdup(sg_last_error());
        return job->failed[i] ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (rc)
        return rc;
    /* file rows are (T, 45); the segment is (C, T) */
    double *x = sg_series_at(set, i);
    for (int c = 0; c < set->n_channels; c++) {
        int col = job->columns[c];
        for (int t = 0; t < DSA_N_ROWS; t++)
            x[(size_t)c * DSA_N_ROWS + (size_t)t] = rows[(size_t)t * DSA_N_COLUMNS + (size_t)col];
    }
    return SG_OK;
}

/* Moves the segments that failed to parse from set into skipped. */
static int drop_failed(sg_series_set *set, char **failed, sg_skipped *skipped)
{
    size_t seg = (size_t)set->n_channels * (size_t)set->n_samples;
    size_t k = 0;
    int rc = SG_OK;
    for (size_t i = 0; i < set->n; i++) {
        if (failed[i]) {
            if (!rc)
                rc = sg_skipped_add(skipped, set->source[i], failed[i]);
            free(set->source[i]);
            free(set->name[i]);
            continue;
        }
        if (k != i) {
            memmove(sg_series_at(set, k), sg_series_at(set, i), seg * sizeof(double));
            set->label[k] = set->label[i];
            set->subject[k] = set->subject[i];
            set->segment[k] = set->segment[i];
            set->source[k] = set->source[i];
            set->name[k] = set->name[i];
        }
        k++;
    }
    set->n = k;
    if (!rc && k == 0)
        rc = sg_fail(SG_E_PARSE, "every segment file failed to parse (first: %s)", failed[0]);
    return rc;
}

int dsa_is_root(const char *path)
{
    char sub[4096];
    struct stat st;
    for (int a = 1; a <= DSA_N_ACTIVITIES; a++) {
        snprintf(sub, sizeof sub, "%s/a%02d", path, a);
        if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode))
            return 1;
    }
    return 0;
}

int dsa_load(sg_series_set *out, const char *root, const dsa_select *sel, int n_threads)
{
    return dsa_load_skip(out, root, sel, n_threads, NULL);
}

int dsa_load_skip(sg_series_set *out, const char *root, const dsa_select *sel, int n_threads,
                  sg_skipped *skipped)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    if (stat(root, &st) != 0)
        return sg_fail(SG_E_IO, "%s: cannot open DSA root: %s", root, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sg_fail(SG_E_IO, "%s: DSA root is not a folder", root);

    int columns[DSA_N_COLUMNS];
    int C = 0;
    for (int u = 0; u < DSA_N_UNITS; u++)
        for (int s = 0; s < DSA_N_SENSORS; s++)
            for (int a = 0; a < DSA_N_AXES; a++)
                if ((sel->units & (1u << u)) && (sel->sensors & (1u << s)) &&
                    (sel->axes & (1u << a)))
                    columns[C++] = u * 9 + s * 3 + a;
    if (C == 0)
        return sg_fail(SG_E_INVALID, "the unit/sensor/axis selection is empty");

    struct entry *entries = NULL;
    size_t n = 0;
    int rc = list_segments(&entries, &n, root, sel->subjects);
    if (rc)
        return rc;
    if (n == 0) {
        free(entries);
        return sg_fail(SG_E_IO,
                       "%s: no segments found for the selected subjects (expected "
                       "%s/a01/p1/s01.txt; run make data)",
                       root, root);
    }

    sg_series_set *set = out;
    set->n = n;
    set->n_channels = C;
    set->n_samples = DSA_N_ROWS;
    set->n_classes = DSA_N_ACTIVITIES;
    set->data = malloc(n * (size_t)C * DSA_N_ROWS * sizeof(double));
    set->channel_names = calloc((size_t)C, sizeof(char *));
    set->label = malloc(n * sizeof(int));
    set->subject = malloc(n * sizeof(int));
    set->segment = malloc(n * sizeof(int));
    set->source = calloc(n, sizeof(char *));
    set->name = calloc(n, sizeof(char *));
    set->class_names = calloc(DSA_N_ACTIVITIES, sizeof(char *));
    if (!set->data || !set->channel_names || !set->label || !set->subject || !set->segment ||
        !set->source || !set->name || !set->class_names) {
        rc = sg_fail(SG_E_NOMEM, "out of memory (%zu segments)", n);
        goto fail;
    }
    for (int c = 0; c < C; c++) {
        int col = columns[c];
        set->channel_names[c] = dsa_column_name(col);
        if (!set->channel_names[c]) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            goto fail;
        }
    }
    for (int a = 0; a < DSA_N_ACTIVITIES; a++) {
        set->class_names[a] = strdup(activity_names[a]);
        if (!set->class_names[a]) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            goto fail;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct entry *e = &entries[i];
        set->label[i] = e->activity - 1;
        set->subject[i] = e->subject;
        set->segment[i] = e->segment;
        set->source[i] = sg_str_printf("%s/a%02d/p%d/s%02d.txt", root, e->activity, e->subject,
                                    e->segment);
        set->name[i] = sg_str_printf("a%02d_p%d_s%02d", e->activity, e->subject, e->segment);
        if (!set->source[i] || !set->name[i]) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            goto fail;
        }
    }

    int nt = sg_parallel_threads(n_threads);
    double **scratch = calloc((size_t)nt, sizeof *scratch);
    if (!scratch) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto fail;
    }
    for (int t = 0; t < nt && !rc; t++) {
        scratch[t] = malloc(sizeof(double) * DSA_N_ROWS * DSA_N_COLUMNS);
        if (!scratch[t])
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    char **failed = NULL;
    if (!rc && skipped) {
        failed = calloc(n, sizeof *failed);
        if (!failed)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (!rc) {
        struct load_job job = {set, entries, columns, root, scratch, failed};
        rc = sg_parallel_for(n, nt, load_one, &job);
    }
    if (!rc && failed)
        rc = drop_failed(set, failed, skipped);
    if (failed)
        for (size_t i = 0; i < n; i++)
            free(failed[i]);
    free(failed);
    for (int t = 0; t < nt; t++)
        free(scratch[t]);
    free(scratch);
    if (rc)
        goto fail;
    free(entries);
    return SG_OK;

fail:
    free(entries);
    sg_series_set_free(set);
    return rc;
}
