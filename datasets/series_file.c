/* series_file.c - .ts or numpy cases by the path's form (series_file.h). */
#include "datasets/series_file.h"

#include "datasets/npy_series.h"
#include "datasets/uea_ts.h"

#include "src/base/sg_error.h"

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
