/* series_length.c - --max-length (see series_length.h). */
#include "src/train/series_length.h"

#include "encoders/enc.h"
#include "src/base/sg_error.h"

#include <stdlib.h>

int series_length_cap(int opt, int n_channels)
{
    if (opt != SERIES_LENGTH_AUTO)
        return opt > 0 ? opt : 0;
    int rows = n_channels > SERIES_LENGTH_AUTO_ROWS ? n_channels : SERIES_LENGTH_AUTO_ROWS;
    int cap = SERIES_LENGTH_AUTO_VALUES / rows;
    return cap > SERIES_LENGTH_AUTO_MIN ? cap : SERIES_LENGTH_AUTO_MIN;
}

int series_length_apply(sg_series_set *set, int cap, int *shortened_from)
{
    if (shortened_from)
        *shortened_from = 0;
    int T = set->n_samples;
    if (cap <= 0 || T <= cap || set->n == 0)
        return SG_OK;
    size_t rows = set->n * (size_t)set->n_channels;
    double *data = malloc(rows * (size_t)cap * sizeof *data);
    if (!data)
        return sg_fail(SG_E_NOMEM, "out of memory shortening %zu series to %d samples", rows, cap);
    int rc = enc_paa_rows(data, set->data, rows, T, cap);
    if (rc) {
        free(data);
        return rc;
    }
    free(set->data);
    set->data = data;
    set->n_samples = cap;
    if (shortened_from)
        *shortened_from = T;
    return SG_OK;
}
