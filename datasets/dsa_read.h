/* dsa_read.h - the DSA series a command asks for: one selection (units,
 * sensors, axes, subjects) read from a DSA root, with the norm rows of
 * --magnitude added.  encode, training and prediction from a checkpoint
 * all read DSA roots through it, so the same options select the same
 * channels in the same order everywhere.
 */
#ifndef SG_DSA_READ_H
#define SG_DSA_READ_H

#include "datasets/dsa.h"
#include "datasets/dsa_magnitude.h"
#include "datasets/series.h"

struct sg_skipped;

typedef struct dsa_request {
    const char *units, *sensors, *axes; /* lists as --units etc. take them; NULL: all */
    const char *subjects;               /* "1,2,7"; NULL: every subject found */
    dsa_magnitude magnitude;            /* norm rows (DSA_MAGNITUDE_OFF: none) */
} dsa_request;

/* Reads root's segments selected by r into out with n_threads readers.
 * skipped as dsa_load_skip takes it (NULL: a bad file fails the read).
 * Returns 0, or an SG_E_* code with the message set and out empty. */
int dsa_read(sg_series_set *out, const char *root, const dsa_request *r, int n_threads,
             struct sg_skipped *skipped);

#endif
