/* csv_table.c - whole-file CSV reader on libcsv (see csv_table.h).
 *
 * The file is fed to libcsv one line at a time so that the callbacks know
 * the current line number; a record's line is the line where its first
 * field ended (the same as where it starts, unless a quoted first field
 * spans lines).  Blank lines are skipped by libcsv.  It does not guess
 * delimiters, strip BOMs or convert encodings.
 */
#include "src/base/csv_table.h"
#include "src/base/sg_error.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct csv_builder {
    csv_table *t;
    long cur_line;       /* 1-based line being fed */
    long record_line;    /* line of the current record's first field */
    char **fields;       /* current record's fields, owned */
    size_t n_fields, cap_fields;
    size_t cap_rows;     /* capacity of t->cells in rows */
    int status;          /* first error seen in a callback */
} csv_builder;

static void free_strings(char **s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        free(s[i]);
    free(s);
}

static void on_field(void *data, size_t len, void *ctx)
{
    csv_builder *b = ctx;
    if (b->status)
        return;
    if (b->n_fields == 0)
        b->record_line = b->cur_line;
    if (b->n_fields == b->cap_fields) {
        size_t cap = b->cap_fields ? 2 * b->cap_fields : 16;
        char **f = realloc(b->fields, cap * sizeof *f);
        if (!f) {
            b->status = sg_fail(SG_E_NOMEM, "out of memory");
            return;
        }
        b->fields = f;
        b->cap_fields = cap;
    }
    char *s = malloc(len + 1);
    if (!s) {
        b->status = sg_fail(SG_E_NOMEM, "out of memory");
        return;
    }
    if (len)
        memcpy(s, data, len);
    s[len] = '\0';
    b->fields[b->n_fields++] = s;
}

static int append_row(csv_builder *b)
{
    csv_table *t = b->t;
    if (t->n_rows == b->cap_rows) {
        size_t cap = b->cap_rows ? 2 * b->cap_rows : 64;
        char **cells = realloc(t->cells, cap * t->n_cols * sizeof *cells);
        if (!cells)
            return sg_fail(SG_E_NOMEM, "out of memory");
        t->cells = cells;
        long *line = realloc(t->line, cap * sizeof *line);
        if (!line)
            return sg_fail(SG_E_NOMEM, "out of memory");
        t->line = line;
        b->cap_rows = cap;
    }
    memcpy(t->cells + t->n_rows * t->n_cols, b->fields, t->n_cols * sizeof *b->fields);
    t->line[t->n_rows] = b->record_line;
    t->n_rows++;
    b->n_fields = 0; /* the strings now belong to t */
    return SG_OK;
}

static void on_record(int term, void *ctx)
{
    (void)term;
    csv_builder *b = ctx;
    if (b->status)
        return;
    csv_table *t = b->t;
    if (!t->header) {
        t->header = b->fields;
        t->n_cols = b->n_fields;
        b->fields = NULL;
        b->n_fields = b->cap_fields = 0;
        return;
    }
    if (b->n_fields != t->n_cols) {
        b->status = sg_fail(SG_E_PARSE, "%s:%ld: expected %zu fields as in the header, got %zu",
                            t->path, b->record_line, t->n_cols, b->n_fields);
        return;
    }
    b->status = append_row(b);
}

void csv_table_free(csv_table *t)
{
    if (!t)
        return;
    free_strings(t->header, t->n_cols);
    if (t->cells)
        for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
            free(t->cells[i]);
    free(t->cells);
    free(t->line);
    free(t->path);
    memset(t, 0, sizeof *t);
}

int csv_table_read(csv_table *t, const char *path)
{
    memset(t, 0, sizeof *t);
    t->path = strdup(path);
    if (!t->path)
        return sg_fail(SG_E_NOMEM, "out of memory");
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        int e = errno;
        csv_table_free(t);
        return sg_fail(SG_E_IO, "%s: cannot read: %s", path, strerror(e));
    }
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        fclose(fp);
        csv_table_free(t);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    csv_builder b = {.t = t};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!b.status && (len = getline(&line, &cap, fp)) >= 0) {
        b.cur_line++;
        if (csv_parse(&p, line, (size_t)len, on_field, on_record, &b) != (size_t)len && !b.status)
            b.status = sg_fail(SG_E_PARSE, "%s:%ld: %s", path, b.cur_line,
                               csv_strerror(csv_error(&p)));
    }
    if (!b.status && ferror(fp)) {
        int e = errno;
        b.status = sg_fail(SG_E_IO, "%s: read failed: %s", path, strerror(e));
    }
    if (!b.status && csv_fini(&p, on_field, on_record, &b) != 0 && !b.status)
        b.status = sg_fail(SG_E_PARSE, "%s:%ld: unterminated quoted field", path, b.cur_line);
    if (!b.status && !t->header)
        b.status = sg_fail(SG_E_PARSE, "%s:1: empty file (no header line)", path);
    free(line);
    csv_free(&p);
    fclose(fp);
    free_strings(b.fields, b.n_fields);
    if (b.status) {
        csv_table_free(t);
        return b.status;
    }
    return SG_OK;
}

int csv_table_column(const csv_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_cols; i++)
        if (strcmp(t->header[i], name) == 0)
            return (int)i;
    return -1;
}

int csv_table_require_column(const csv_table *t, const char *name, int *col)
{
    *col = csv_table_column(t, name);
    if (*col < 0)
        return sg_fail(SG_E_PARSE, "%s:1: missing column '%s' in the header", t->path, name);
    return SG_OK;
}

const char *csv_table_cell(const csv_table *t, size_t row, int col)
{
    return t->cells[row * t->n_cols + (size_t)col];
}

int csv_table_number(const csv_table *t, size_t row, int col, double *out, int *present)
{
    const char *s = csv_table_cell(t, row, col);
    *out = NAN;
    if (*s == '\0') {
        if (present) {
            *present = 0;
            return SG_OK;
        }
        return sg_fail(SG_E_PARSE, "%s:%ld:%d: empty field in column '%s'", t->path,
                       t->line[row], col + 1, t->header[col]);
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    while (end && (*end == ' ' || *end == '\t'))
        end++;
    if (end == s || *end != '\0' || !isfinite(v))
        return sg_fail(SG_E_PARSE, "%s:%ld:%d: column '%s': '%s' is not a finite number",
                       t->path, t->line[row], col + 1, t->header[col], s);
    *out = v;
    if (present)
        *present = 1;
    return SG_OK;
}

void sg_csv_write_field(FILE *f, const char *s)
{
    if (!s)
        return;
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}
