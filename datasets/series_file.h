/* series_file.h - one file of labelled cases, whatever its format: a
 * UEA/UCR .ts file (uea_ts.h) or numpy segments, X.npy (N, C, T) with its
 * labels, given as the file or its folder (npy_series.h).  train, eval,
 * predict and encode ask here, so the formats they accept are the same.
 */
#ifndef SG_SERIES_FILE_H
#define SG_SERIES_FILE_H

#include "datasets/series.h"

/* Reads path into out when it is such a file: returns 1 (out filled, the
 * caller frees it; *kind, when not NULL, "ts" or "npy"), 0 when path is
 * something else (out untouched), or a negative SG_E_* code with the
 * message set. */
int series_file_read(sg_series_set *out, const char *path, const char **kind);

/* Whether path is such a file, without reading its cases: 1 or 0 (a
 * .npy that cannot be opened counts as 0 here; reading it says why). */
int series_file_probe(const char *path);

/* The series length T of such a file from its header alone (.ts:
 * @seriesLength; X.npy: its last axis), or 0 where it is not such a file
 * or the header does not say. */
int series_file_length(const char *path);

#endif
