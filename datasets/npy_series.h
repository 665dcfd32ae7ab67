/* npy_series.h - sensor segments held as numpy arrays, as tsai, sktime and
 * aeon users hold them: X.npy of shape (N, C, T) ('<f4' or '<f8'), the
 * labels beside it in y.npy (N values: integers, integral floats or text)
 * or y.csv (a header; the column "label", else "y", else the only one).
 *
 * DATA is the X file itself (any name ending in .npy whose array has three
 * dimensions; its labels are y.npy / y.csv in the same folder) or a folder
 * holding X.npy.  A folder `encode --stack` wrote (X.npy of four
 * dimensions, with manifest.csv) is images, not this.  Case i becomes
 * segment i: channels "dim_0", ..., names "STEM_NNNNN", classes the
 * sorted distinct labels (numbers in numeric order).  Refused with the
 * file and what to do: another dtype, another number of dimensions, a
 * NaN or infinite value (naming case, channel and sample), labels whose
 * count differs from N.
 */
#ifndef SG_NPY_SERIES_H
#define SG_NPY_SERIES_H

#include <stddef.h>

#include "datasets/series.h"

/* Whether data names numpy segments (see above): its X path into x and
 * its labels' path into y ("" when there are none), both of size bytes.
 * Returns 1, 0 when data is something else, or a negative SG_E_* code
 * (message set) when data is a .npy that cannot be read. */
int npy_series_find(const char *data, char *x, char *y, size_t size);

/* Reads x (and the labels in y, "" for none: every label -1) into out
 * (the caller frees it with sg_series_set_free).  Returns 0 or an SG_E_*
 * code with the message set and out zeroed. */
int npy_series_load(sg_series_set *out, const char *x, const char *y);

#endif
