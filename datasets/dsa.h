/* dsa.h - reader for the UCI Daily and Sports Activities layout.
 *
 * ROOT/aNN/pM/sKK.txt: activity 01-19, subject 1-8, segment 01-60; each
 * file is 125 rows (25 Hz, 5 s) x 45 comma-separated values: units T, RA,
 * LA, RL, LL; per unit acc, gyro, mag; per sensor x, y, z.  Column index
 * = unit * 9 + sensor * 3 + axis.  Labels are the 19 activity names of
 * the dataset's documentation; subject and segment ids are kept for
 * subject-wise splits.
 */
#ifndef SG_DSA_H
#define SG_DSA_H

#include "datasets/series.h"

enum { DSA_N_UNITS = 5, DSA_N_SENSORS = 3, DSA_N_AXES = 3, DSA_N_COLUMNS = 45,
       DSA_N_ROWS = 125, DSA_N_ACTIVITIES = 19 };

/* Which columns (and subjects) to read.  Masks are bit sets over
 * unit (T=0 .. LL=4), sensor (acc=0, gyro=1, mag=2) and axis (x, y, z). */
typedef struct dsa_select {
    unsigned units;     /* default all 5 */
    unsigned sensors;   /* default all 3 */
    unsigned axes;      /* default all 3 */
    unsigned subjects;  /* bit s for subject s (1..8); 0 = every subject found */
} dsa_select;

/* Every unit, sensor, axis and subject. */
void dsa_select_all(dsa_select *sel);

/* Parses comma lists such as "T,LL", "acc,gyro", "x,z" (case-insensitive,
 * "all" allowed); any argument may be NULL to keep the current value. */
int dsa_select_parse(dsa_select *sel, const char *units, const char *sensors,
                     const char *axes);

/* Parses a subject list "1,2,7" into sel->subjects. */
int dsa_select_parse_subjects(dsa_select *sel, const char *list);

/* The subjects of ROOT among the selected ones (subjects: a bit mask, 0 =
 * all) as a bit mask: those with a folder ROOT/aNN/pS, found with stat
 * alone, so that a caller can hold one out without opening its files
 * (sensorgram pretrain --cv loso). */
int dsa_subjects_present(const char *root, unsigned subjects, unsigned *present);

/* The name of DSA column col (0..44, unit * 9 + sensor * 3 + axis) as
 * dsa_load names channels ("LL_acc_x"), newly allocated (caller frees);
 * NULL when out of memory or col is out of range. */
char *dsa_column_name(int col);

/* Name of activity a (1..19), e.g. "walking_parking_lot"; NULL otherwise. */
const char *dsa_activity_name(int a);

/* Whether path is a DSA root: a folder holding an activity folder a01 ..
 * a19.  Returns 1 or 0 (a missing or unreadable path is 0). */
int dsa_is_root(const char *path);

/* Reads every segment under root matching sel into out (channels in
 * unit, sensor, axis order; names like "LL_acc_x"; class names for all
 * 19 activities, label = activity - 1).  n_threads parse files in
 * parallel (0 = all cores).  Malformed files fail with a message naming
 * file, line and column.  The caller owns out (sg_series_set_free). */
int dsa_load(sg_series_set *out, const char *root, const dsa_select *sel, int n_threads);

struct sg_skipped;

/* Same as dsa_load, but when skipped is not NULL a segment file that
 * fails to parse is left out and listed in skipped (source, message)
 * instead of failing the load; it still fails if every file is bad. */
int dsa_load_skip(sg_series_set *out, const char *root, const dsa_select *sel, int n_threads,
                  struct sg_skipped *skipped);

/* Reads one segment file into rows, a caller-owned (DSA_N_ROWS,
 * DSA_N_COLUMNS) array in file order.  Fails with "FILE:LINE:COL: ..." on
 * malformed input (ragged rows, non-numbers, NaN/Inf, wrong row count). */
int dsa_segment_read(double *rows, const char *path);

/* Same as dsa_segment_read for text already in memory (size bytes, not
 * NUL-terminated); path is only used in messages. */
int dsa_parse_buffer(double *rows, const char *buf, size_t size, const char *path);

#endif
