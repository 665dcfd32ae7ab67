/* series_file.c - .ts or numpy cases by the path's form (series_file.h). */
#include "datasets/series_file.h"

#include "datasets/npy_series.h"
#include "datasets/uea_ts.h"

#include "src/base/npy.h"
#include "src/base/sg_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

int series_file_read(sg_series_set *out, const char *path, const char **kind)
{
    char x[4096], y[4096];
    int npy = uea_ts_is_ts_path(path) ? 0 : npy_series_find(path, x, y, sizeof x);
    if (npy < 0)
        return npy;
    if (!npy && !uea_ts_is_ts_path(path))
        return 0;
    if (kind)
        *kind = npy ? "npy" : "ts";
    int rc = npy ? npy_series_load(out, x, y) : uea_ts_load(out, path);
    return rc ? rc : 1;
}

int series_file_probe(const char *path)
{
    char x[4096], y[4096];
    if (uea_ts_is_ts_path(path))
        return 1;
    int npy = npy_series_find(path, x, y, sizeof x);
    if (npy < 0)
        sg_error_clear();
    return npy > 0;
}

/* @seriesLength of a .ts header (keys in any case), 0 when absent. */
static int ts_header_length(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    char line[4096];
    int T = 0;
    while (fgets(line, sizeof line, f)) {
        if (strncasecmp(line, "@data", 5) == 0)
            break;
        if (strncasecmp(line, "@serieslength", 13) == 0) {
            long v = strtol(line + 13, NULL, 10);
            T = v > 0 && v < (1L << 30) ? (int)v : 0;
        }
    }
    fclose(f);
    return T;
}

int series_file_length(const char *path)
{
    if (uea_ts_is_ts_path(path))
        return ts_header_length(path);
    char x[4096], y[4096];
    sg_npy_info info;
    int npy = npy_series_find(path, x, y, sizeof x);
    if (npy <= 0 || sg_npy_read_header(x, &info) != SG_OK || info.ndim != 3) {
        sg_error_clear();
        return 0;
    }
    return info.shape[2] < (1u << 30) ? (int)info.shape[2] : 0;
}
