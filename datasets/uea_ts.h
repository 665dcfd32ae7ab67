/* uea_ts.h - UEA/UCR time-series classification files (`.ts`, the text
 * format of sktime, aeon and tsai; the UEA multivariate archive ships its
 * problems as PROBLEM_TRAIN.ts and PROBLEM_TEST.ts).
 *
 * The format: `#` comment lines, a header of `@key value` lines
 * (@problemName, @timeStamps, @missing, @univariate, @dimensions,
 * @equalLength, @seriesLength, @classLabel true|false LABELS..., keys in
 * any case), `@data`, then one case per line: the dimensions separated by
 * `:`, the values of one dimension by `,`, the class label last when
 * @classLabel is true.
 *
 * A case becomes one segment of C = dimensions channels ("dim_0",
 * "dim_1", ..., sktime's names) and T = series length samples.  Classes
 * are @classLabel's, in its order, so TRAIN and TEST files index them
 * alike.  What the images and the network cannot take is refused, never
 * padded or guessed: time stamps, unequal lengths, missing values (`?`,
 * NaN), a case whose dimension count differs from @dimensions, a label
 * @classLabel does not declare.  Errors name the file, the line, the case
 * and the dimension.
 */
#ifndef SG_UEA_TS_H
#define SG_UEA_TS_H

#include "datasets/series.h"

/* Whether path names a .ts file (by its extension, any case). */
int uea_ts_is_ts_path(const char *path);

/* Reads path into out (the caller frees it with sg_series_set_free).
 * Names are "STEM_NNNN" (the 1-based case number), segment the case
 * number, subject -1, source the file; labels index @classLabel's list
 * (-1 for every case when @classLabel is false).  Returns 0, or SG_E_IO /
 * SG_E_PARSE / SG_E_SHAPE / SG_E_NOMEM with "FILE:LINE: ..." set and out
 * zeroed. */
int uea_ts_load(sg_series_set *out, const char *path);

#endif
