/* sensor_csv.h - generic sensor recordings in CSV files (through libcsv).
 *
 * Each file is one recording: rows are time steps, columns are channels
 * (plus, optionally, a label column).  A long recording is cut into
 * windows of `window` rows every `stride` rows (the last, partial window
 * is dropped); with window 0 the whole file is one segment, and then all
 * files must have the same number of rows.
 *
 * Labels come from a column (per window: the majority value, ties going
 * to the value seen first in the window; or the window's first value),
 * from the name of the file's parent folder, or from a POSIX extended
 * regex on the file's path under the folder given (for a file given
 * directly, or one directly in the folder: its name; first capture group,
 * or the whole match when the regex has no group).  Class names are the
 * sorted distinct labels over all files, so class indices do not depend
 * on file order.
 *
 * Subjects (who wore the sensor, for subject-wise splits) come likewise
 * from a column (per window: the majority value) or from a regex on the
 * path under the folder given ('/p([0-9]+)/' for the DSA layout).  When
 * every subject is an integer it is the id; otherwise the distinct names
 * are sorted and numbered from 1 (subject_names keeps them).
 *
 * Errors name "FILE:LINE:COLUMN" (COLUMN counts bytes from 1): ragged
 * rows, non-numbers, NaN/Inf, empty files, unknown column names (the
 * message lists the available ones).
 */
#ifndef SG_SENSOR_CSV_H
#define SG_SENSOR_CSV_H

#include "datasets/series.h"

typedef enum sensor_csv_label_from {
    SENSOR_CSV_LABEL_DIR,     /* parent folder name (default) */
    SENSOR_CSV_LABEL_COLUMN,  /* label_column */
    SENSOR_CSV_LABEL_REGEX,   /* label_regex on the file's path under the folder given */
    SENSOR_CSV_LABEL_NONE,    /* unlabelled (predict): label -1, no classes */
} sensor_csv_label_from;

typedef enum sensor_csv_header {
    SENSOR_CSV_HEADER_AUTO,   /* header if any first-row field is not a number */
    SENSOR_CSV_HEADER_YES,
    SENSOR_CSV_HEADER_NO,
} sensor_csv_header;

typedef struct sensor_csv_options {
    sensor_csv_header header;
    const char *columns;       /* "ax,ay,az" or "0,1,2" (0-based); NULL: all but the label column */
    int window;                /* rows per segment; 0 = whole file */
    int stride;                /* rows between window starts; 0 = window */
    sensor_csv_label_from label_from;
    const char *label_column;  /* name or 0-based index, for LABEL_COLUMN */
    int label_first;           /* 1: window's first value; 0: majority (default) */
    const char *label_regex;   /* for LABEL_REGEX */
    char delimiter;            /* ',', ';' or '\t'; 0 = found from the first line */
    const char *subject_column; /* name or 0-based index; NULL: none */
    const char *subject_regex;  /* on the path under the folder given; NULL: none */
} sensor_csv_options;

/* More fields than this in a row is refused with a message (a file
 * without line breaks), not read until memory runs out. */
#define SENSOR_CSV_MAX_COLUMNS 10000

/* Defaults: auto header, all columns, whole file, labels from folders. */
void sensor_csv_options_default(sensor_csv_options *opt);

/* Reads the CSV files in paths (folders are searched recursively for
 * *.csv and *.txt, in sorted order) into out, which the caller owns
 * (sg_series_set_free).  Segments keep the file order, then window order;
 * name is the file stem (plus "_wNNNN", the 1-based window number, when
 * windowing), segment the window number, subject -1 without a subject
 * column or regex. */
int sensor_csv_load(sg_series_set *out, char *const *paths, int n_paths,
                    const sensor_csv_options *opt);

struct sg_skipped;

/* Same as sensor_csv_load, but when skipped is not NULL a file that fails
 * to read or parse (or does not match the first file's shape) is left out
 * and listed in skipped with its message instead of failing the load. */
int sensor_csv_load_skip(sg_series_set *out, char *const *paths, int n_paths,
                         const sensor_csv_options *opt, struct sg_skipped *skipped);

/* Reads one recording held in memory (size bytes, need not end in NUL or
 * a newline) as if it were the file `path` (used for messages, folder
 * and regex labels).  Same ownership as sensor_csv_load.  This is the
 * fuzz target's entry point. */
int sensor_csv_read_buffer(sg_series_set *out, const char *buf, size_t size, const char *path,
                           const sensor_csv_options *opt);

/* Whether path holds sensor recordings: a .csv or .txt file, or a folder
 * with such files (searched recursively) but no images (PNG, JPEG, .npy)
 * and no manifest.csv (an encode output folder stays what it is).
 * Returns 1 or 0; an unreadable path is 0 (its reader says why). */
int sensor_csv_is_recordings(const char *path);

#endif
