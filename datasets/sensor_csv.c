/* sensor_csv.c - generic sensor CSV reader over libcsv (see sensor_csv.h).
 *
 * libcsv does the quoting rules; it reports fields and row ends but not
 * where they are in the file, so bytes are fed to it one at a time and
 * this file keeps the line and column of each field's first byte for the
 * error messages.  That costs a function call per byte, which is fine for
 * the generic path (the DSA reader has its own fast parser).
 *
 * Pipeline per file: parse into a recording (rows x C floats plus an
 * optional label string per row), then cut it into windows appended to a
 * builder; at the end distinct labels are sorted into class names.
 */
#include "datasets/sensor_csv.h"
#include "src/base/file_read.h"
#include "src/base/sg_error.h"
#include "datasets/skipped.h"

#include <csv.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <float.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { FIELD_MAX = 256 };

void sensor_csv_options_default(sensor_csv_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->header = SENSOR_CSV_HEADER_AUTO;
    opt->label_from = SENSOR_CSV_LABEL_DIR;
}

/* Parses a whole field as a finite double; 0 on success. */
static int parse_number(const char *s, size_t len, double *out)
{
    char tmp[FIELD_MAX];
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t'))
        len--;
    if (len == 0 || len >= sizeof tmp)
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (*end != '\0' || end == tmp)
        return -1;
    /* beyond float32 the image (and the spectrogram's float FFT) would
     * overflow, so such values count as non-finite, as strtof made them */
    if (!(fabs(v) <= FLT_MAX))
        return -2;
    *out = v;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- one recording ------------------------------------------------------ */

struct recording {
    size_t rows, cap;
    int C;
    double *x;              /* (rows, C) */
    char **row_label;      /* rows strings, or NULL without a label column */
    char **row_subject;    /* rows strings, or NULL without a subject column */
    char **channel_names;  /* C */
};

static void recording_free(struct recording *r)
{
    free(r->x);
    if (r->row_label)
        for (size_t i = 0; i < r->rows; i++)
            free(r->row_label[i]);
    free(r->row_label);
    if (r->row_subject)
        for (size_t i = 0; i < r->rows; i++)
            free(r->row_subject[i]);
    free(r->row_subject);
    if (r->channel_names)
        for (int c = 0; c < r->C; c++)
            free(r->channel_names[c]);
    free(r->channel_names);
    memset(r, 0, sizeof *r);
}

struct field_pos {
    int line, col;
};

struct pstate {
    const char *path;
    const sensor_csv_options *opt;
    unsigned char delim;        /* field separator (detect_delimiter) */
    int err;                    /* first error; later callbacks are ignored */
    int line, col;              /* position of the byte being fed */
    int at_field_start;         /* 1: next byte starts a field; 2: the next
                                 * non-newline byte does (after a row end) */
    struct field_pos fstart;    /* first byte of the current field */
    size_t row_index;           /* rows seen, header included */

    /* first row, kept as text until the header question is settled */
    char **first;
    struct field_pos *first_pos;
    size_t n_first, cap_first;

    int n_fields;               /* fields per row (from the first row) */
    int *channel_of;            /* n_fields: channel index or -1 */
    int label_idx;              /* -1 without a label column */
    int subject_idx;            /* -1 without a subject column */
    size_t field_idx;           /* in the current row */
    double *rowbuf;              /* C */
    char *row_label;
    char *row_subject;

    struct recording *rec;
};

static int pfail(struct pstate *st, struct field_pos at, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int pfail(struct pstate *st, struct field_pos at, int code, const char *fmt, ...)
{
    if (st->err)
        return st->err;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    st->err = sg_fail(code, "%s:%d:%d: %s", st->path, at.line, at.col, msg);
    return st->err;
}

/* Resolves a column given by name or 0-based index; -1 if unknown. */
static int find_column(char **names, int n, const char *key, size_t len)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(names[i], key, len) == 0)
            return i;
    char *end;
    char tmp[32];
    if (len == 0 || len >= sizeof tmp)
        return -1;
    memcpy(tmp, key, len);
    tmp[len] = '\0';
    long v = strtol(tmp, &end, 10);
    if (*end == '\0' && v >= 0 && v < n)
        return (int)v;
    return -1;
}

static int unknown_column(struct pstate *st, char **names, int n, const char *key, size_t len,
                          const char *what)
{
    char avail[400] = "";
    for (int i = 0; i < n && strlen(avail) < sizeof avail - 40; i++) {
        strncat(avail, names[i], sizeof avail - strlen(avail) - 1);
        strncat(avail, i + 1 < n ? ", " : "", sizeof avail - strlen(avail) - 1);
    }
    if (strlen(avail) >= sizeof avail - 40)
        strncat(avail, "...", sizeof avail - strlen(avail) - 1);
    struct field_pos at = {1, 1};
    return pfail(st, at, SG_E_INVALID, "unknown %s '%.*s' (available: %s; or a 0-based index)",
                 what, (int)len, key, avail);
}

static int process_data_field(struct pstate *st, const char *s, size_t len, struct field_pos at);
static int end_data_row(struct pstate *st, struct field_pos at);

/* The first row ended: decide on the header and pick the columns. */
static int settle_header(struct pstate *st)
{
    int n = (int)st->n_first;
    const sensor_csv_options *opt = st->opt;
    int header = opt->header == SENSOR_CSV_HEADER_YES;
    if (opt->header == SENSOR_CSV_HEADER_AUTO) {
        for (int i = 0; i < n && !header; i++) {
            double v;
            if (parse_number(st->first[i], strlen(st->first[i]), &v) == -1)
                header = 1;
        }
    }
    char **names = calloc((size_t)n, sizeof *names);
    st->channel_of = malloc((size_t)n * sizeof(int));
    if (!names || !st->channel_of) {
        free(names);
        return st->err = sg_fail(SG_E_NOMEM, "out of memory");
    }
    int rc = SG_OK;
    for (int i = 0; i < n && !rc; i++) {
        names[i] = header ? strdup(st->first[i]) : sg_str_printf("%d", i);
        if (!names[i])
            rc = st->err = sg_fail(SG_E_NOMEM, "out of memory");
        st->channel_of[i] = -1;
    }
    st->n_fields = n;
    st->label_idx = -1;
    if (!rc && opt->label_from == SENSOR_CSV_LABEL_COLUMN) {
        const char *key = opt->label_column ? opt->label_column : "";
        st->label_idx = find_column(names, n, key, strlen(key));
        if (st->label_idx < 0)
            rc = unknown_column(st, names, n, key, strlen(key), "label column");
    }
    st->subject_idx = -1;
    if (!rc && opt->subject_column) {
        const char *key = opt->subject_column;
        st->subject_idx = find_column(names, n, key, strlen(key));
        if (st->subject_idx < 0)
            rc = unknown_column(st, names, n, key, strlen(key), "subject column");
        else if (st->subject_idx == st->label_idx)
            rc = pfail(st, (struct field_pos){1, 1}, SG_E_INVALID,
                       "column '%s' is both the label and the subject column",
                       names[st->subject_idx]);
    }
    int C = 0;
    int *order = malloc((size_t)n * sizeof(int));
    if (!order && !rc)
        rc = st->err = sg_fail(SG_E_NOMEM, "out of memory");
    if (!rc && opt->columns && *opt->columns) {
        const char *s = opt->columns;
        for (;;) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            int k = find_column(names, n, s, len);
            if (k < 0) {
                rc = unknown_column(st, names, n, s, len, "column");
                break;
            }
            if (st->channel_of[k] >= 0) {
                struct field_pos at = {1, 1};
                rc = pfail(st, at, SG_E_INVALID, "column '%.*s' selected twice", (int)len, s);
                break;
            }
            st->channel_of[k] = C;
            order[C++] = k;
            if (!e)
                break;
            s = e + 1;
        }
    } else if (!rc) {
        for (int i = 0; i < n; i++)
            if (i != st->label_idx && i != st->subject_idx) {
                st->channel_of[i] = C;
                order[C++] = i;
            }
    }
    if (!rc && C == 0) {
        struct field_pos at = {1, 1};
        rc = pfail(st, at, SG_E_INVALID, "no data columns selected");
    }
    if (!rc && st->label_idx >= 0 && st->channel_of[st->label_idx] >= 0) {
        struct field_pos at = {1, 1};
        rc = pfail(st, at, SG_E_INVALID, "column '%s' is both the label and a data column",
                   names[st->label_idx]);
    }
    if (!rc && st->subject_idx >= 0 && st->channel_of[st->subject_idx] >= 0) {
        struct field_pos at = {1, 1};
        rc = pfail(st, at, SG_E_INVALID, "column '%s' is both the subject and a data column",
                   names[st->subject_idx]);
    }
    struct recording *r = st->rec;
    if (!rc) {
        r->C = C;
        r->channel_names = calloc((size_t)C, sizeof(char *));
        st->rowbuf = malloc((size_t)C * sizeof(double));
        if (!r->channel_names || !st->rowbuf)
            rc = st->err = sg_fail(SG_E_NOMEM, "out of memory");
        for (int c = 0; c < C && !rc; c++) {
            r->channel_names[c] = strdup(names[order[c]]);
            if (!r->channel_names[c])
                rc = st->err = sg_fail(SG_E_NOMEM, "out of memory");
        }
    }
    free(order);
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    if (rc)
        return rc;
    if (!header) {
        for (int i = 0; i < n && !st->err; i++)
            process_data_field(st, st->first[i], strlen(st->first[i]), st->first_pos[i]);
        if (!st->err)
            end_data_row(st, st->first_pos[n - 1]);
    }
    return st->err;
}

static int process_data_field(struct pstate *st, const char *s, size_t len, struct field_pos at)
{
    if ((int)st->field_idx >= st->n_fields)
        return pfail(st, at, SG_E_PARSE, "row has more than %d fields", st->n_fields);
    int k = (int)st->field_idx++;
    int c = st->channel_of[k];
    if (c >= 0) {
        double v;
        int r = parse_number(s, len, &v);
        if (r == -2)
            return pfail(st, at, SG_E_PARSE, "non-finite value '%.*s'", (int)(len > 32 ? 32 : len),
                         s);
        /* A field holding another separator: say which one we split on. */
        if (r != 0 && (memchr(s, ';', len) || memchr(s, '\t', len) || memchr(s, ',', len)))
            return pfail(st, at, SG_E_PARSE,
                         "expected a number, got '%.*s' (fields split at '%s', %s; do all "
                         "lines use the same separator?)",
                         (int)(len > 32 ? 32 : len), s,
                         st->delim == '\t' ? "\\t" : st->delim == ';' ? ";" : ",",
                         st->opt->delimiter ? "as --delimiter says" : "found from the first line");
        if (r != 0)
            return pfail(st, at, SG_E_PARSE, "expected a number, got '%.*s'",
                         (int)(len > 32 ? 32 : len), s);
        st->rowbuf[c] = v;
    } else if (k == st->label_idx) {
        if (len == 0)
            return pfail(st, at, SG_E_PARSE, "empty label");
        free(st->row_label);
        st->row_label = strndup(s, len);
        if (!st->row_label)
            return st->err = sg_fail(SG_E_NOMEM, "out of memory");
    } else if (k == st->subject_idx) {
        if (len == 0)
            return pfail(st, at, SG_E_PARSE, "empty subject");
        free(st->row_subject);
        st->row_subject = strndup(s, len);
        if (!st->row_subject)
            return st->err = sg_fail(SG_E_NOMEM, "out of memory");
    }
    return SG_OK;
}

static int end_data_row(struct pstate *st, struct field_pos at)
{
    if ((int)st->field_idx != st->n_fields)
        return pfail(st, at, SG_E_PARSE, "row has %zu fields, expected %d", st->field_idx,
                     st->n_fields);
    struct recording *r = st->rec;
    if (r->rows == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 256;
        double *x = realloc(r->x, cap * (size_t)r->C * sizeof(double));
        if (!x)
            return st->err = sg_fail(SG_E_NOMEM, "out of memory");
        r->x = x;
        if (st->label_idx >= 0) {
            char **l = realloc(r->row_label, cap * sizeof(char *));
            if (!l)
                return st->err = sg_fail(SG_E_NOMEM, "out of memory");
            r->row_label = l;
        }
        if (st->subject_idx >= 0) {
            char **v = realloc(r->row_subject, cap * sizeof(char *));
            if (!v)
                return st->err = sg_fail(SG_E_NOMEM, "out of memory");
            r->row_subject = v;
        }
        r->cap = cap;
    }
    memcpy(r->x + r->rows * (size_t)r->C, st->rowbuf, (size_t)r->C * sizeof(double));
    if (st->label_idx >= 0) {
        r->row_label[r->rows] = st->row_label;
        st->row_label = NULL;
    }
    if (st->subject_idx >= 0) {
        r->row_subject[r->rows] = st->row_subject;
        st->row_subject = NULL;
    }
    r->rows++;
    st->field_idx = 0;
    return SG_OK;
}

static void on_field(void *s, size_t len, void *data)
{
    struct pstate *st = data;
    st->at_field_start = 1;
    if (st->err)
        return;
    const char *f = s ? s : "";
    if (st->row_index == 0) {
        /* A sensor recording has a few dozen columns; a first row of tens
         * of thousands is a file without line breaks (or the wrong
         * separator), and would only end in "out of memory". */
        if (st->n_first >= SENSOR_CSV_MAX_COLUMNS) {
            st->err = pfail(st, st->fstart, SG_E_PARSE,
                            "the first row has more than %d fields: is the file one long line "
                            "(rows must end in a newline) or split at the wrong separator "
                            "(--delimiter)?",
                            SENSOR_CSV_MAX_COLUMNS);
            return;
        }
        if (st->n_first == st->cap_first) {
            size_t cap = st->cap_first ? st->cap_first * 2 : 16;
            char **v = realloc(st->first, cap * sizeof *v);
            if (!v) {
                st->err = sg_fail(SG_E_NOMEM, "out of memory");
                return;
            }
            st->first = v;
            struct field_pos *p = realloc(st->first_pos, cap * sizeof *p);
            if (!p) {
                st->err = sg_fail(SG_E_NOMEM, "out of memory");
                return;
            }
            st->first_pos = p;
            st->cap_first = cap;
        }
        char *copy = strndup(f, len);
        if (!copy) {
            st->err = sg_fail(SG_E_NOMEM, "out of memory");
            return;
        }
        st->first[st->n_first] = copy;
        st->first_pos[st->n_first] = st->fstart;
        st->n_first++;
        return;
    }
    process_data_field(st, f, len, st->fstart);
}

static void on_row(int c, void *data)
{
    (void)c;
    struct pstate *st = data;
    st->at_field_start = 2;
    if (st->err)
        return;
    struct field_pos at = {st->line, st->col};
    if (st->row_index++ == 0)
        settle_header(st);
    else
        end_data_row(st, at);
}

static void pstate_free(struct pstate *st)
{
    for (size_t i = 0; i < st->n_first; i++)
        free(st->first[i]);
    free(st->first);
    free(st->first_pos);
    free(st->channel_of);
    free(st->rowbuf);
    free(st->row_label);
    free(st->row_subject);
}

/* libcsv's error codes in our words. */
static const char *csv_message(int code)
{
    switch (code) {
    case CSV_EPARSE: return "malformed quoted field (unterminated quote or text after a quote)";
    case CSV_ENOMEM: return "out of memory";
    case CSV_ETOOBIG: return "field too large";
    default: return csv_strerror(code);
    }
}

/* The field delimiter, from the first line: ',' when it has one, else a
 * tab or ';' (spreadsheets in many locales write "0,5;1,2"), outside
 * double quotes.  Runs of spaces are not a delimiter libcsv can take. */
static unsigned char detect_delimiter(const char *buf, size_t size)
{
    size_t comma = 0, semi = 0, tab = 0;
    int quoted = 0;
    for (size_t i = 0; i < size && buf[i] != '\n'; i++) {
        char c = buf[i];
        if (c == '"')
            quoted = !quoted;
        else if (!quoted)
            comma += c == ',', semi += c == ';', tab += c == '\t';
    }
    if (comma)
        return ',';
    if (tab >= semi && tab)
        return '\t';
    return semi ? ';' : ',';
}

/* Parses buf into rec (which the caller frees with recording_free). */
static int parse_recording(struct recording *rec, const char *buf, size_t size, const char *path,
                           const sensor_csv_options *opt)
{
    memset(rec, 0, sizeof *rec);
    struct pstate st = {.path = path, .opt = opt, .line = 1, .col = 1, .at_field_start = 2,
                        .rec = rec, .label_idx = -1, .subject_idx = -1};
    st.fstart = (struct field_pos){1, 1};
    struct csv_parser parser;
    if (csv_init(&parser, CSV_APPEND_NULL | CSV_STRICT | CSV_STRICT_FINI) != 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    st.delim = opt->delimiter ? (unsigned char)opt->delimiter : detect_delimiter(buf, size);
    csv_set_delim(&parser, st.delim);
    for (size_t i = 0; i < size && !st.err; i++) {
        unsigned char b = (unsigned char)buf[i];
        if (st.at_field_start == 1 || (st.at_field_start == 2 && b != '\n' && b != '\r')) {
            st.fstart = (struct field_pos){st.line, st.col};
            st.at_field_start = 0;
        }
        if (csv_parse(&parser, &buf[i], 1, on_field, on_row, &st) != 1 && !st.err) {
            struct field_pos at = {st.line, st.col};
            pfail(&st, at, SG_E_PARSE, "%s", csv_message(csv_error(&parser)));
        }
        if (b == '\n') {
            st.line++;
            st.col = 1;
        } else {
            st.col++;
        }
    }
    if (!st.err && csv_fini(&parser, on_field, on_row, &st) != 0) {
        struct field_pos at = {st.line, st.col};
        pfail(&st, at, SG_E_PARSE, "%s", csv_message(csv_error(&parser)));
    }
    csv_free(&parser);
    int rc = st.err;
    if (!rc && st.row_index == 0)
        rc = sg_fail(SG_E_PARSE, "%s:1:1: empty file", path);
    else if (!rc && rec->rows == 0)
        rc = sg_fail(SG_E_PARSE, "%s:%d:1: no data rows after the header", path, st.line);
    pstate_free(&st);
    return rc;
}

/* ---- the set builder -------------------------------------------------- */

struct builder {
    sg_series_set *set;
    size_t cap;
    char **labels;          /* n label strings (NULL unlabelled), owned until classes are made */
    char **subjects;        /* n subject strings or NULL, owned until ids are made */
};

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The first capture group (or the whole match) of the regex of option
 * `what` on rel, the file's path under the folder given; newly allocated. */
static int regex_capture(char **out, const char *regex, const char *what, const char *path,
                         const char *rel)
{
    *out = NULL;
    regex_t re;
    int e = regcomp(&re, regex ? regex : "", REG_EXTENDED);
    if (e != 0) {
        char msg[128];
        regerror(e, &re, msg, sizeof msg);
        return sg_fail(SG_E_INVALID, "bad --%s '%s': %s", what, regex ? regex : "", msg);
    }
    regmatch_t m[2];
    int group = re.re_nsub >= 1 ? 1 : 0;
    e = regexec(&re, rel, 2, m, 0);
    regfree(&re);
    if ((e != 0 || m[group].rm_so < 0 || m[group].rm_eo <= m[group].rm_so) && !strchr(rel, '/'))
        return sg_fail(SG_E_INVALID, "%s: file name does not match --%s '%s'", path, what, regex);
    if (e != 0 || m[group].rm_so < 0 || m[group].rm_eo <= m[group].rm_so)
        return sg_fail(SG_E_INVALID, "%s: its path under the folder given, '%s', does not match "
                       "--%s '%s'", path, rel, what, regex);
    *out = strndup(rel + m[group].rm_so, (size_t)(m[group].rm_eo - m[group].rm_so));
    return *out ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
}

/* The label of a whole file (folder or regex), newly allocated. */
static int file_label(char **out, const char *path, const char *rel,
                      const sensor_csv_options *opt)
{
    *out = NULL;
    if (opt->label_from == SENSOR_CSV_LABEL_DIR) {
        const char *slash = strrchr(path, '/');
        if (!slash) {
            *out = NULL;
            return sg_fail(SG_E_INVALID,
                           "%s: no parent folder to take the label from (use a path like "
                           "LABEL/file.csv or --label-from column|regex)",
                           path);
        }
        const char *start = slash;
        while (start > path && start[-1] != '/')
            start--;
        size_t len = (size_t)(slash - start);
        if (len == 0 || (len == 1 && start[0] == '.') || (len == 2 && start[0] == '.'))
            return sg_fail(SG_E_INVALID, "%s: the parent folder name '%.*s' is not a label", path,
                           (int)len, start);
        *out = strndup(start, len);
        return *out ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    }
    return regex_capture(out, opt->label_regex, "label-regex", path, rel);
}

/* Gives each row's label a small integer id (ids[rows]), so that window
 * majorities are counted in O(window) instead of comparing strings. */
static int label_ids(int **out, char **row_label, size_t rows)
{
    int *ids = malloc(rows * sizeof *ids);
    char **sorted = malloc(rows * sizeof *sorted);
    if (!ids || !sorted) {
        free(ids);
        free(sorted);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    memcpy(sorted, row_label, rows * sizeof *sorted);
    qsort(sorted, rows, sizeof *sorted, cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < rows; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
            sorted[k++] = sorted[i];
    for (size_t i = 0; i < rows; i++) {
        char **hit = bsearch(&row_label[i], sorted, k, sizeof *sorted, cmp_str);
        ids[i] = (int)(hit - sorted);
    }
    free(sorted);
    *out = ids;
    return SG_OK;
}

/* The majority label id of rows [start, start + w), ties to the label
 * seen first; counts (n_ids zeros) is scratch and left zeroed. */
static size_t window_majority(const int *ids, size_t start, size_t w, size_t *counts)
{
    for (size_t t = start; t < start + w; t++)
        counts[ids[t]]++;
    size_t best_row = start, best = 0;
    for (size_t t = start; t < start + w; t++)
        if (counts[ids[t]] > best) {
            best = counts[ids[t]];
            best_row = t;
        }
    for (size_t t = start; t < start + w; t++)
        counts[ids[t]] = 0;
    return best_row;
}

static int builder_grow(struct builder *b, size_t need)
{
    sg_series_set *s = b->set;
    if (need <= b->cap)
        return SG_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    size_t seg = (size_t)s->n_channels * (size_t)s->n_samples;
    double *data = realloc(s->data, cap * seg * sizeof(double));
    if (data)
        s->data = data;
    int *label = realloc(s->label, cap * sizeof(int));
    if (label)
        s->label = label;
    int *subject = realloc(s->subject, cap * sizeof(int));
    if (subject)
        s->subject = subject;
    int *segment = realloc(s->segment, cap * sizeof(int));
    if (segment)
        s->segment = segment;
    char **source = realloc(s->source, cap * sizeof(char *));
    if (source)
        s->source = source;
    char **name = realloc(s->name, cap * sizeof(char *));
    if (name)
        s->name = name;
    char **labels = realloc(b->labels, cap * sizeof(char *));
    if (labels)
        b->labels = labels;
    char **subjects = realloc(b->subjects, cap * sizeof(char *));
    if (subjects)
        b->subjects = subjects;
    if (!data || !label || !subject || !segment || !source || !name || !labels || !subjects)
        return sg_fail(SG_E_NOMEM, "out of memory");
    b->cap = cap;
    return SG_OK;
}

static int builder_add(struct builder *b, struct recording *rec, const char *path,
                       const char *rel, const sensor_csv_options *opt)
{
    sg_series_set *s = b->set;
    size_t w = opt->window > 0 ? (size_t)opt->window : rec->rows;
    size_t stride = opt->stride > 0 ? (size_t)opt->stride : w;
    if (s->n_channels == 0 && s->n == 0) {
        s->n_channels = rec->C;
        s->n_samples = (int)w;
        s->channel_names = rec->channel_names;
        rec->channel_names = NULL;
    } else if (rec->C != s->n_channels) {
        return sg_fail(SG_E_SHAPE, "%s: %d data columns, but the first file has %d", path,
                       rec->C, s->n_channels);
    } else if ((size_t)s->n_samples != w) {
        return sg_fail(SG_E_SHAPE,
                       "%s: %zu rows, but the first file has %d (cut files into equal "
                       "segments with --window)",
                       path, rec->rows, s->n_samples);
    }
    if (rec->rows < w)
        return sg_fail(SG_E_SHAPE, "%s: %zu rows, fewer than the window of %zu", path, rec->rows,
                       w);
    if (rec->rows > (size_t)INT_MAX || w > (size_t)INT_MAX)
        return sg_fail(SG_E_SHAPE, "%s: too many rows", path);
    int from_column = opt->label_from == SENSOR_CSV_LABEL_COLUMN;
    char *flabel = NULL, *fsubject = NULL;
    int rc = SG_OK;
    if (opt->label_from == SENSOR_CSV_LABEL_DIR || opt->label_from == SENSOR_CSV_LABEL_REGEX)
        rc = file_label(&flabel, path, rel, opt);
    if (rc == SG_OK && opt->subject_regex)
        rc = regex_capture(&fsubject, opt->subject_regex, "subject-regex", path, rel);
    /* row strings as small ids, for window majorities */
    int *ids = NULL, *subject_ids = NULL;
    size_t *counts = NULL;
    if (rc == SG_OK && from_column && !opt->label_first)
        rc = label_ids(&ids, rec->row_label, rec->rows);
    if (rc == SG_OK && rec->row_subject)
        rc = label_ids(&subject_ids, rec->row_subject, rec->rows);
    if (rc == SG_OK && (ids || subject_ids) && !(counts = calloc(rec->rows, sizeof *counts)))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    if (rc) {
        free(flabel);
        free(fsubject);
        free(ids);
        free(subject_ids);
        return rc;
    }
    const char *base = base_name(path);
    const char *dot = strrchr(base, '.');
    int stem_len = (int)(dot && dot != base ? (size_t)(dot - base) : strlen(base));
    size_t k = 0;
    for (size_t start = 0; start + w <= rec->rows && !rc; start += stride, k++) {
        rc = builder_grow(b, s->n + 1);
        if (rc)
            break;
        size_t i = s->n;
        double *x = sg_series_at(s, i);
        /* rec->x is (rows, C); the segment is (C, w) */
        for (int c = 0; c < rec->C; c++)
            for (size_t t = 0; t < w; t++)
                x[(size_t)c * w + t] = rec->x[(start + t) * (size_t)rec->C + (size_t)c];
        const char *lab = !from_column       ? flabel
                          : opt->label_first ? rec->row_label[start]
                                             : rec->row_label[window_majority(ids, start, w, counts)];
        const char *sub = subject_ids ? rec->row_subject[window_majority(subject_ids, start, w,
                                                                         counts)]
                                      : fsubject;
        b->labels[i] = lab ? strdup(lab) : NULL;
        b->subjects[i] = sub ? strdup(sub) : NULL;
        s->source[i] = strdup(path);
        s->name[i] = opt->window > 0 ? sg_str_printf("%.*s_w%04zu", stem_len, base, k + 1)
                                     : strndup(base, (size_t)stem_len);
        s->subject[i] = -1;
        s->segment[i] = (int)(k + 1);
        s->label[i] = -1;
        s->n++;
        if ((lab && !b->labels[i]) || (sub && !b->subjects[i]) || !s->source[i] || !s->name[i])
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    free(flabel);
    free(fsubject);
    free(ids);
    free(subject_ids);
    free(counts);
    return rc;
}


/* Whether s is a whole non-negative int (a subject id as it stands). */
static int subject_as_int(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < 0 || v > INT_MAX || s[0] == '-' || s[0] == '+')
        return 0;
    *out = (int)v;
    return 1;
}

/* Turns the builder's subject strings into ids: integers as they are,
 * else the sorted distinct names numbered from 1 (kept in subject_names). */
static int builder_finish_subjects(struct builder *b)
{
    sg_series_set *s = b->set;
    int all_int = 1, any = 0;
    for (size_t i = 0; i < s->n; i++) {
        int v = -1;
        any |= b->subjects[i] != NULL;
        if (b->subjects[i] && !subject_as_int(b->subjects[i], &v))
            all_int = 0;
        s->subject[i] = v;
    }
    if (!any || all_int)
        return SG_OK;
    char **sorted = malloc(s->n * sizeof(char *));
    if (!sorted)
        return sg_fail(SG_E_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (b->subjects[i])
            sorted[k++] = b->subjects[i];
    qsort(sorted, k, sizeof(char *), cmp_str);
    size_t d = 0;
    for (size_t i = 0; i < k; i++)
        if (i == 0 || strcmp(sorted[i], sorted[d - 1]) != 0)
            sorted[d++] = sorted[i];
    int rc = SG_OK;
    s->subject_names = calloc(d ? d : 1, sizeof(char *));
    if (!s->subject_names)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    else
        s->n_subject_names = (int)d;
    for (size_t c = 0; c < d && rc == SG_OK; c++)
        if (!(s->subject_names[c] = strdup(sorted[c])))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < s->n && rc == SG_OK; i++) {
        char **hit = b->subjects[i] ? bsearch(&b->subjects[i], sorted, d, sizeof(char *), cmp_str)
                                    : NULL;
        s->subject[i] = hit ? (int)(hit - sorted) + 1 : -1;
    }
    free(sorted);
    return rc;
}

/* Turns the builder's label strings into sorted class names + indices. */
static int builder_finish(struct builder *b)
{
    sg_series_set *s = b->set;
    if (s->n == 0)
        return sg_fail(SG_E_INVALID, "no segments read");
    int rc = builder_finish_subjects(b);
    if (rc)
        return rc;
    if (!b->labels[0]) /* unlabelled: no classes */
        return SG_OK;
    char **sorted = malloc(s->n * sizeof(char *));
    if (!sorted)
        return sg_fail(SG_E_NOMEM, "out of memory");
    memcpy(sorted, b->labels, s->n * sizeof(char *));
    qsort(sorted, s->n, sizeof(char *), cmp_str);
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        if (i == 0 || strcmp(sorted[i], sorted[i - 1]) != 0)
            sorted[k++] = sorted[i];
    s->class_names = calloc(k, sizeof(char *));
    if (!s->class_names) {
        free(sorted);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    s->n_classes = (int)k;
    for (size_t c = 0; c < k && !rc; c++) {
        s->class_names[c] = strdup(sorted[c]);
        if (!s->class_names[c])
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < s->n && !rc; i++) {
        char **hit = bsearch(&b->labels[i], sorted, k, sizeof(char *), cmp_str);
        s->label[i] = (int)(hit - sorted);
    }
    free(sorted);
    return rc;
}

static void builder_free_labels(struct builder *b)
{
    for (size_t i = 0; i < b->set->n; i++) {
        free(b->labels ? b->labels[i] : NULL);
        free(b->subjects ? b->subjects[i] : NULL);
    }
    free(b->labels);
    free(b->subjects);
    b->labels = NULL;
    b->subjects = NULL;
}

static int check_options(const sensor_csv_options *opt)
{
    if (opt->window < 0 || opt->stride < 0)
        return sg_fail(SG_E_INVALID, "--window and --stride must be positive");
    if (opt->stride > 0 && opt->window == 0)
        return sg_fail(SG_E_INVALID, "--stride needs --window");
    if (opt->label_from == SENSOR_CSV_LABEL_COLUMN && (!opt->label_column || !*opt->label_column))
        return sg_fail(SG_E_INVALID, "labels from a column need --label-column");
    if (opt->label_from == SENSOR_CSV_LABEL_REGEX && (!opt->label_regex || !*opt->label_regex))
        return sg_fail(SG_E_INVALID, "labels from a regex need --label-regex");
    if (opt->subject_column && opt->subject_regex)
        return sg_fail(SG_E_INVALID, "--subject-column and --subject-regex exclude each other");
    if ((opt->subject_column && !*opt->subject_column) ||
        (opt->subject_regex && !*opt->subject_regex))
        return sg_fail(SG_E_INVALID, "--subject-column and --subject-regex need a value");
    return SG_OK;
}

static int add_buffer(struct builder *b, const char *buf, size_t size, const char *path,
                      const char *rel, const sensor_csv_options *opt)
{
    struct recording rec;
    int rc = parse_recording(&rec, buf, size, path, opt);
    if (!rc)
        rc = builder_add(b, &rec, path, rel, opt);
    recording_free(&rec);
    return rc;
}

int sensor_csv_read_buffer(sg_series_set *out, const char *buf, size_t size, const char *path,
                           const sensor_csv_options *opt)
{
    memset(out, 0, sizeof *out);
    int rc = check_options(opt);
    if (rc)
        return rc;
    struct builder b = {.set = out};
    rc = add_buffer(&b, buf, size, path, base_name(path), opt);
    if (!rc)
        rc = builder_finish(&b);
    builder_free_labels(&b);
    if (rc)
        sg_series_set_free(out);
    return rc;
}

/* ---- files and folders ------------------------------------------------- */

struct path_list {
    char **v;
    size_t *rel;   /* v[i] + rel[i]: the path under the folder given */
    size_t n, cap;
};

static int path_list_add(struct path_list *l, char *p, size_t rel)
{
    if (!p)
        return sg_fail(SG_E_NOMEM, "out of memory");
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (v)
            l->v = v;
        size_t *r = realloc(l->rel, cap * sizeof *r);
        if (r)
            l->rel = r;
        if (!v || !r) {
            free(p);
            return sg_fail(SG_E_NOMEM, "out of memory");
        }
        l->cap = cap;
    }
    l->rel[l->n] = rel;
    l->v[l->n++] = p;
    return SG_OK;
}

static void path_list_free(struct path_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    free(l->rel);
    memset(l, 0, sizeof *l);
}

static int has_data_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".csv") == 0 || strcasecmp(dot, ".txt") == 0);
}

/* Appends path, or the data files under it (sorted, recursive); root_len
 * is the length of the folder given plus its slash (0 at the top). */
static int expand_path(struct path_list *l, const char *path, size_t root_len, int depth)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return path_list_add(l, strdup(path), (size_t)(base_name(path) - path));
    if (depth == 0)
        root_len = strlen(path) + (path[strlen(path) - 1] == '/' ? 0 : 1);
    if (depth > 32)
        return sg_fail(SG_E_IO, "%s: folders nested too deeply", path);
    DIR *d = opendir(path);
    if (!d)
        return sg_fail(SG_E_IO, "%s: cannot open folder: %s", path, strerror(errno));
    struct path_list here = {0};
    int rc = SG_OK;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;   /* also skips our own temporary files */
        rc = path_list_add(&here,
                           sg_str_printf("%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                                         de->d_name),
                           root_len);
    }
    closedir(d);
    if (!rc)
        qsort(here.v, here.n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < here.n && !rc; i++) {
        struct stat sub;
        if (stat(here.v[i], &sub) != 0)
            rc = sg_fail(SG_E_IO, "%s: cannot open: %s", here.v[i], strerror(errno));
        else if (S_ISDIR(sub.st_mode))
            rc = expand_path(l, here.v[i], root_len, depth + 1);
        else if (has_data_ext(here.v[i]))
            rc = path_list_add(l, strdup(here.v[i]), root_len);
    }
    path_list_free(&here);
    return rc;
}

int sensor_csv_load(sg_series_set *out, char *const *paths, int n_paths,
                    const sensor_csv_options *opt)
{
    return sensor_csv_load_skip(out, paths, n_paths, opt, NULL);
}

int sensor_csv_load_skip(sg_series_set *out, char *const *paths, int n_paths,
                         const sensor_csv_options *opt, struct sg_skipped *skipped)
{
    memset(out, 0, sizeof *out);
    int rc = check_options(opt);
    if (rc)
        return rc;
    struct path_list files = {0};
    for (int i = 0; i < n_paths && !rc; i++)
        rc = expand_path(&files, paths[i], 0, 0);
    if (!rc && files.n == 0)
        rc = sg_fail(SG_E_IO, "no .csv or .txt files found in the given inputs");
    struct builder b = {.set = out};
    for (size_t i = 0; i < files.n && !rc; i++) {
        char *buf = NULL;
        size_t size = 0;
        rc = sg_file_read(files.v[i], &buf, &size);
        if (!rc)
            rc = add_buffer(&b, buf, size, files.v[i], files.v[i] + files.rel[i], opt);
        free(buf);
        if (rc && rc != SG_E_NOMEM && skipped)
            rc = sg_skipped_add(skipped, files.v[i], sg_last_error());
    }
    if (!rc)
        rc = builder_finish(&b);
    builder_free_labels(&b);
    path_list_free(&files);
    if (rc)
        sg_series_set_free(out);
    return rc;
}

/* ---- what a path holds --------------------------------------------------- */

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                   strcasecmp(dot, ".jpeg") == 0 || strcasecmp(dot, ".npy") == 0);
}

/* Counts data files into *n_data; 1 as soon as an image turns up. */
static int find_images(const char *dir, int depth, size_t *n_data)
{
    if (depth > 32)
        return 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int images = 0;
    struct dirent *de;
    while (!images && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *p = sg_str_printf("%s/%s", dir, de->d_name);
        struct stat st;
        if (p && stat(p, &st) == 0) {
            if (S_ISDIR(st.st_mode))
                images = find_images(p, depth + 1, n_data);
            else if (has_image_ext(de->d_name))
                images = 1;
            else if (has_data_ext(de->d_name))
                (*n_data)++;
        }
        free(p);
    }
    closedir(d);
    return images;
}

int sensor_csv_is_recordings(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) && has_data_ext(path);
    char *manifest = sg_str_printf("%s/manifest.csv", path);
    int has_manifest = manifest && stat(manifest, &st) == 0;
    free(manifest);
    if (has_manifest)
        return 0;
    size_t n_data = 0;
    return !find_images(path, 0, &n_data) && n_data > 0;
}
