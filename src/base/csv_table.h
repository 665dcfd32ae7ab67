/* csv_table.h - a small, strict reader for the run-folder CSVs.
 *
 * Reads a whole comma-separated file with a header line into memory
 * through libcsv (RFC 4180 quoting).  Every data row must have exactly
 * as many fields as the header; empty fields are allowed and kept as "".
 * Numeric access parses on demand and reports "file:line:column" with
 * the column's name when a field is not a number.  Meant for the small
 * files a run leaves (metrics, predictions, confusion matrix, ...), not
 * for sensor data.
 */
#ifndef SG_CSV_TABLE_H
#define SG_CSV_TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef struct csv_table {
    char *path;      /* the file read, owned */
    size_t n_cols;   /* fields per row (from the header) */
    char **header;   /* n_cols column names, owned */
    size_t n_rows;   /* data rows (header excluded) */
    char **cells;    /* (n_rows, n_cols) field strings, owned, never NULL */
    long *line;      /* n_rows 1-based line numbers where each row starts */
} csv_table;

/* Reads path into t (which the caller later frees with csv_table_free).
 * Fails with SG_E_IO if the file cannot be read, SG_E_PARSE with
 * file:line when it is empty, badly quoted or a row has the wrong number
 * of fields.  On failure t is left zeroed. */
int csv_table_read(csv_table *t, const char *path);

/* Frees everything t owns and zeroes it; accepts NULL. */
void csv_table_free(csv_table *t);

/* Index of the column named name, or -1 when the header lacks it. */
int csv_table_column(const csv_table *t, const char *name);

/* Like csv_table_column, but a missing column is an SG_E_PARSE error
 * naming the file and the column; *col receives the index. */
int csv_table_require_column(const csv_table *t, const char *name, int *col);

/* The field at (row, col); a pointer into t, valid until csv_table_free. */
const char *csv_table_cell(const csv_table *t, size_t row, int col);

/* Parses field (row, col) as a finite double.  An empty field stores NAN
 * and sets *present to 0 (present may be NULL only when the field must
 * not be empty, which is then an error).  Anything else that is not a
 * number fails with SG_E_PARSE naming file:line:column and the column. */
int csv_table_number(const csv_table *t, size_t row, int col, double *out, int *present);

/* Writes s as one CSV field (RFC 4180: quoted, with quotes doubled, when
 * it holds a comma, a quote or a line break; NULL writes nothing): the
 * one quoting rule of every CSV the project writes, so csv_table_read
 * and Python's csv module read back what was written. */
void sg_csv_write_field(FILE *f, const char *s);

#endif
