/* dsa_magnitude.c - norm channels of complete sensor triads (see
 * dsa_magnitude.h).
 *
 * Works from the selection, not from channel names, so that segment
 * files read as plain CSV columns (eval/predict on sKK.txt) get the same
 * rows as a DSA root.
 */
#include "datasets/dsa_magnitude.h"

#include "src/base/file_read.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Unit and sensor names in dsa.c's column order. */
static const char *const unit_names[DSA_N_UNITS] = {"T", "RA", "LA", "RL", "LL"};
static const char *const sensor_names[DSA_N_SENSORS] = {"acc", "gyro", "mag"};
static const char *const mode_names[] = {"off", "add", "only"};

int dsa_magnitude_parse(dsa_magnitude *out, const char *s)
{
    for (int m = 0; m < 3; m++)
        if (s && strcasecmp(s, mode_names[m]) == 0) {
            *out = (dsa_magnitude)m;
            return SG_OK;
        }
    return sg_fail(SG_E_INVALID, "--magnitude: expected add, only or off, got '%s'",
                   s ? s : "(null)");
}

const char *dsa_magnitude_name(dsa_magnitude m)
{
    return (int)m >= 0 && (int)m < 3 ? mode_names[m] : "off";
}

static int popcount(unsigned v, int bits)
{
    int n = 0;
    for (int b = 0; b < bits; b++)
        n += (int)(v >> b & 1u);
    return n;
}

int dsa_magnitude_triads(const dsa_select *sel)
{
    if ((sel->axes & 7u) != 7u)
        return 0;
    return popcount(sel->units, DSA_N_UNITS) * popcount(sel->sensors, DSA_N_SENSORS);
}

int dsa_magnitude_check(const dsa_select *sel, dsa_magnitude mode)
{
    if (mode == DSA_MAGNITUDE_OFF || dsa_magnitude_triads(sel) > 0)
        return SG_OK;
    return sg_fail(SG_E_INVALID,
                   "--magnitude %s needs the x, y and z axes of a sensor (--axes x,y,z), "
                   "or --magnitude off",
                   dsa_magnitude_name(mode));
}

int dsa_magnitude_apply(sg_series_set *set, const dsa_select *sel, dsa_magnitude mode)
{
    if (mode == DSA_MAGNITUDE_OFF)
        return SG_OK;
    int rc = dsa_magnitude_check(sel, mode);
    if (rc)
        return rc;
    int G = dsa_magnitude_triads(sel);
    int C = set->n_channels, T = set->n_samples;
    if (C != 3 * G)
        return sg_fail(SG_E_SHAPE,
                       "magnitude rows: segments have %d channels, the selection %d (3 x %d "
                       "sensors)",
                       C, 3 * G, G);
    int keep = mode == DSA_MAGNITUDE_ADD ? C : 0, NC = keep + G;
    double *data = malloc((set->n ? set->n : 1) * (size_t)NC * (size_t)T * sizeof *data);
    char **names = calloc((size_t)NC, sizeof *names);
    if (!data || !names) {
        free(data);
        free(names);
        return sg_fail(SG_E_NOMEM, "out of memory for %d magnitude rows", G);
    }
    int g = 0;
    for (int u = 0; u < DSA_N_UNITS; u++)
        for (int s = 0; s < DSA_N_SENSORS; s++)
            if ((sel->units >> u & 1u) && (sel->sensors >> s & 1u)) {
                names[keep + g] = sg_str_printf("%s_%s_norm", unit_names[u], sensor_names[s]);
                if (!names[keep + g])
                    rc = SG_E_NOMEM;
                g++;
            }
    for (int c = 0; c < keep && rc == SG_OK; c++)
        if (!(names[c] = strdup(set->channel_names[c] ? set->channel_names[c] : "")))
            rc = SG_E_NOMEM;
    if (rc) {
        for (int c = 0; c < NC; c++)
            free(names[c]);
        free(names);
        free(data);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < set->n; i++) {
        const double *x = sg_series_at(set, i);
        double *y = data + i * (size_t)NC * (size_t)T;
        memcpy(y, x, (size_t)keep * (size_t)T * sizeof *y);
        for (int k = 0; k < G; k++) {
            const double *ax = x + (size_t)(3 * k) * (size_t)T;
            double *out = y + (size_t)(keep + k) * (size_t)T;
            for (int t = 0; t < T; t++) {
                double a = ax[t], b = ax[T + t], c = ax[2 * T + t];
                out[t] = sqrt(a * a + b * b + c * c);
            }
        }
    }
    for (int c = 0; c < C; c++)
        free(set->channel_names[c]);
    free(set->channel_names);
    free(set->data);
    set->channel_names = names;
    set->data = data;
    set->n_channels = NC;
    return SG_OK;
}
