/* series_augment.c - rotations, scaling, crops, warps, shifts and jitter
 * of one raw segment (see series_augment.h).
 *
 * Resampling (crop, warp) is linear interpolation between neighbouring
 * samples: the segments are 25 Hz body motion, smooth at the scale of a
 * sample, and linear interpolation never overshoots the recorded range.
 */
#include "datasets/series_augment.h"

#include "src/base/sg_error.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Stream numbers: one per kind, so kinds do not share draws. */
/* Appended kinds get new numbers: the others' streams stay as they were. */
enum {
    STREAM_ROTATE = 1, STREAM_SCALE, STREAM_CROP, STREAM_WARP, STREAM_SHIFT, STREAM_JITTER,
    STREAM_REMOUNT,
};

enum { WARP_KNOTS = 4 };

static const double PI = 3.14159265358979323846;

void series_aug_params_default(series_aug_params *p)
{
    p->rotate_deg = SERIES_AUG_ROTATE_DEG_DEFAULT;
    p->scale_sigma = SERIES_AUG_SCALE_DEFAULT;
    p->shift_max = SERIES_AUG_SHIFT_DEFAULT;
    p->crop_min = SERIES_AUG_CROP_DEFAULT;
    p->warp_sigma = SERIES_AUG_WARP_DEFAULT;
    p->jitter_sigma = SERIES_AUG_JITTER_DEFAULT;
    p->remount_p = SERIES_AUG_REMOUNT_DEFAULT;
}

void series_aug_params_off(series_aug_params *p)
{
    memset(p, 0, sizeof *p);
    p->crop_min = 1.0;
}

int series_aug_active(const series_aug_params *p)
{
    return p->rotate_deg > 0 || p->scale_sigma > 0 || p->shift_max > 0 || p->crop_min < 1.0 ||
           p->warp_sigma > 0 || p->jitter_sigma > 0 || p->remount_p > 0;
}

int series_aug_params_check(const series_aug_params *p, int T)
{
    if (!(p->rotate_deg >= 0 && p->rotate_deg <= 180))
        return sg_fail(SG_E_INVALID, "--aug-rotate: %g is not an angle in [0, 180] degrees",
                       p->rotate_deg);
    if (!(p->scale_sigma >= 0 && p->scale_sigma <= 1))
        return sg_fail(SG_E_INVALID, "--aug-scale: %g is not a sigma in [0, 1]", p->scale_sigma);
    if (p->shift_max < 0 || (T > 0 && p->shift_max >= T))
        return sg_fail(SG_E_INVALID, "--aug-shift: %d is not in [0, %d) (the segments' length)",
                       p->shift_max, T);
    if (!(p->crop_min > 0 && p->crop_min <= 1))
        return sg_fail(SG_E_INVALID, "--aug-crop: %g is not a fraction in (0, 1]", p->crop_min);
    if (!(p->warp_sigma >= 0 && p->warp_sigma <= 1))
        return sg_fail(SG_E_INVALID, "--aug-warp: %g is not a sigma in [0, 1]", p->warp_sigma);
    if (!(p->jitter_sigma >= 0 && p->jitter_sigma <= 1))
        return sg_fail(SG_E_INVALID, "--aug-jitter: %g is not a sigma in [0, 1]",
                       p->jitter_sigma);
    if (!(p->remount_p >= 0 && p->remount_p <= 1))
        return sg_fail(SG_E_INVALID, "--aug-remount: %g is not a probability in [0, 1]",
                       p->remount_p);
    return SG_OK;
}

/* Standard normal draw (Box-Muller; one of the pair is dropped so that
 * the stream position does not depend on an odd/even count). */
static double gauss(sg_rng *r)
{
    double u1 = 1.0 - sg_rng_uniform(r); /* (0, 1]: log is finite */
    double u2 = sg_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * PI * u2);
}

/* ---- layout ---------------------------------------------------------- */

/* Index of key in keys[0..n), appending it when new; -1 out of memory. */
static int intern(char **keys, int *n, const char *key, size_t len)
{
    for (int i = 0; i < *n; i++)
        if (strlen(keys[i]) == len && strncmp(keys[i], key, len) == 0)
            return i;
    keys[*n] = strndup(key, len);
    if (!keys[*n])
        return -1;
    return (*n)++;
}

static void keys_free(char **keys, int n)
{
    if (!keys)
        return;
    for (int i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* The axis a name ends in (x, y or z, either case) and the length of
 * its sensor key: "LL_acc_x" -> LL_acc, "acc_x" -> acc.  -1 for none. */
static int axis_underscore(const char *name, size_t *klen)
{
    const char *us = strrchr(name, '_');
    if (!us || !us[1] || us[2] || !strchr("xyzXYZ", us[1]))
        return -1;
    *klen = (size_t)(us - name);
    return (us[1] | 0x20) - 'x';
}

/* Names that end in x, y or z after a common prefix without '_' before
 * the axis ("ax", "gyroX", "wrist.acc-z"): the prefix, less trailing
 * separators, is the key.  Counted only where the same prefix has all
 * three axes, so "index" alone is a channel of its own. */
static int axis_suffix(const char *name, size_t *klen)
{
    size_t len = strlen(name);
    if (len < 2 || !strchr("xyzXYZ", name[len - 1]))
        return -1;
    size_t k = len - 1;
    while (k > 0 && strchr("_-. ", name[k - 1]))
        k--;
    if (k == 0)
        return -1;
    *klen = k;
    return (name[len - 1] | 0x20) - 'x';
}

/* Whether names[c]'s suffix key has exactly one x, one y and one z. */
static int suffix_triad_complete(char *const *names, int C, int c)
{
    size_t klen, kl2;
    if (axis_suffix(names[c], &klen) < 0)
        return 0;
    int count[3] = {0, 0, 0};
    for (int j = 0; j < C; j++) {
        const char *o = names[j] ? names[j] : "";
        int a = axis_suffix(o, &kl2);
        if (a >= 0 && kl2 == klen && strncmp(o, names[c], klen) == 0)
            count[a]++;
    }
    return count[0] == 1 && count[1] == 1 && count[2] == 1;
}

int series_aug_layout_build(series_aug_layout *out, char *const *names, int C)
{
    memset(out, 0, sizeof *out);
    out->n_channels = C;
    size_t nc = C > 0 ? (size_t)C : 1;
    out->sensor = malloc(nc * sizeof *out->sensor);
    out->triad = malloc(nc * 3 * sizeof *out->triad);
    out->triad_unit = malloc(nc * sizeof *out->triad_unit);
    char **sensor_keys = calloc(nc, sizeof *sensor_keys);
    char **unit_keys = calloc(nc, sizeof *unit_keys);
    int *axis = malloc(nc * sizeof *axis);
    int *unit_of_sensor = malloc(nc * sizeof *unit_of_sensor);
    int n_units = 0, n_sensors = 0, rc = SG_OK;
    if (!out->sensor || !out->triad || !out->triad_unit || !sensor_keys || !unit_keys || !axis ||
        !unit_of_sensor)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (int c = 0; rc == SG_OK && c < C; c++) {
        const char *name = names && names[c] ? names[c] : "";
        const char *us = strrchr(name, '_');
        size_t klen = 0;
        axis[c] = axis_underscore(name, &klen);
        if (axis[c] < 0 && names && suffix_triad_complete(names, C, c))
            axis[c] = axis_suffix(name, &klen);
        /* A norm row ("T_acc_norm", dsa_magnitude.h) belongs to its
         * sensor, so that scaling the triad scales its norm too, but never
         * joins the triad (a rotation leaves a norm as it is).  Any other
         * channel without an axis is a sensor of its own: its whole name is
         * the key. */
        int is_norm = axis[c] < 0 && us && strcmp(us + 1, "norm") == 0;
        if (is_norm)
            klen = (size_t)(us - name);
        int grouped = axis[c] >= 0 || is_norm;
        if (!grouped)
            klen = strlen(name);
        int before = n_sensors;
        int s = grouped ? intern(sensor_keys, &n_sensors, name, klen) : n_sensors;
        if (!grouped) {
            sensor_keys[n_sensors] = strdup(name);
            s = sensor_keys[n_sensors] ? n_sensors++ : -1;
        }
        if (s < 0) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        out->sensor[c] = s;
        if (n_sensors > before) {
            /* UNIT_SENSOR: the unit is what comes before the first '_';
             * a key without one belongs to the one unnamed unit (a
             * watch's acc and gyro turn together). */
            const char *key = sensor_keys[s];
            const char *u = grouped ? memchr(key, '_', klen) : NULL;
            int ui = intern(unit_keys, &n_units, key, u ? (size_t)(u - key) : 0);
            if (ui < 0) {
                rc = sg_fail(SG_E_NOMEM, "out of memory");
                break;
            }
            unit_of_sensor[s] = ui;
        }
    }
    /* Complete triads: exactly one x, one y and one z of a sensor. */
    for (int s = 0; rc == SG_OK && s < n_sensors; s++) {
        int idx[3] = {-1, -1, -1}, dup = 0;
        for (int c = 0; c < C; c++)
            if (out->sensor[c] == s && axis[c] >= 0) {
                if (idx[axis[c]] >= 0)
                    dup = 1;
                idx[axis[c]] = c;
            }
        if (dup || idx[0] < 0 || idx[1] < 0 || idx[2] < 0)
            continue;
        memcpy(out->triad + 3 * out->n_triads, idx, sizeof idx);
        out->triad_unit[out->n_triads++] = unit_of_sensor[s];
    }
    out->n_units = n_units;
    out->n_sensors = n_sensors;
    keys_free(sensor_keys, n_sensors);
    keys_free(unit_keys, n_units);
    free(axis);
    free(unit_of_sensor);
    if (rc)
        series_aug_layout_free(out);
    return rc;
}

/* One 0-based channel index of --triads at *p, advancing it. */
static int triad_index(int *out, const char **p, int C, const char *spec)
{
    char *end;
    errno = 0;
    long v = strtol(*p, &end, 10);
    if (end == *p || errno || v < 0 || v >= C)
        return sg_fail(SG_E_INVALID,
                       "--triads '%s': '%.*s' is not a channel index in 0..%d", spec,
                       (int)strcspn(*p, ",;+"), *p, C - 1);
    *out = (int)v;
    *p = end;
    return SG_OK;
}

int series_aug_layout_set_triads(series_aug_layout *l, const char *spec)
{
    if (!spec || strcasecmp(spec, "auto") == 0)
        return SG_OK;
    int C = l->n_channels;
    l->n_triads = 0;
    l->n_units = 0;
    /* Every channel a sensor of its own until a triad groups it. */
    for (int c = 0; c < C; c++)
        l->sensor[c] = c;
    l->n_sensors = C;
    if (strcasecmp(spec, "none") == 0)
        return SG_OK;
    int *used = calloc((size_t)(C > 0 ? C : 1), sizeof *used);
    if (!used)
        return sg_fail(SG_E_NOMEM, "out of memory");
    const char *p = spec;
    int rc = SG_OK, unit = 0;
    while (rc == SG_OK && *p) {
        int idx[3];
        for (int k = 0; k < 3 && rc == SG_OK; k++) {
            rc = triad_index(&idx[k], &p, C, spec);
            if (rc == SG_OK && k < 2 && *p++ != ',')
                rc = sg_fail(SG_E_INVALID, "--triads '%s': a triad is three channel indices "
                                           "x,y,z (0,1,2)", spec);
        }
        for (int k = 0; k < 3 && rc == SG_OK; k++)
            if (used[idx[k]]++)
                rc = sg_fail(SG_E_INVALID, "--triads '%s': channel %d is in two triads", spec,
                             idx[k]);
        if (rc)
            break;
        memcpy(l->triad + 3 * l->n_triads, idx, sizeof idx);
        l->triad_unit[l->n_triads++] = unit;
        for (int k = 1; k < 3; k++)
            l->sensor[idx[k]] = idx[0]; /* a triad scales as one sensor */
        if (*p == '+') {
            p++;
        } else if (*p == ';') {
            p++;
            unit++;
        } else if (*p) {
            rc = sg_fail(SG_E_INVALID, "--triads '%s': triads are joined by '+' (one body unit) "
                                       "or ';' (another unit)", spec);
        }
    }
    l->n_units = l->n_triads ? unit + 1 : 0;
    free(used);
    return rc;
}

void series_aug_layout_free(series_aug_layout *l)
{
    if (!l)
        return;
    free(l->triad);
    free(l->triad_unit);
    free(l->sensor);
    memset(l, 0, sizeof *l);
}

size_t series_aug_scratch_len(int C, int T)
{
    (void)C;
    return 2 * (size_t)(T > 0 ? T : 1);
}

/* ---- rotation and scaling -------------------------------------------- */

void series_aug_rotation_matrix(double R[9], const double axis[3], double angle)
{
    double c = cos(angle), s = sin(angle), v = 1.0 - c;
    double x = axis[0], y = axis[1], z = axis[2];
    R[0] = c + x * x * v;
    R[1] = x * y * v - z * s;
    R[2] = x * z * v + y * s;
    R[3] = y * x * v + z * s;
    R[4] = c + y * y * v;
    R[5] = y * z * v - x * s;
    R[6] = z * x * v - y * s;
    R[7] = z * y * v + x * s;
    R[8] = c + z * z * v;
}

/* Rotates the complete triads of unit u by the 3x3 matrix M. */
static void rotate_unit(double *x, int T, const series_aug_layout *l, int u, const double *M)
{
    for (int k = 0; k < l->n_triads; k++) {
        if (l->triad_unit[k] != u)
            continue;
        double *a = x + (size_t)l->triad[3 * k] * (size_t)T;
        double *b = x + (size_t)l->triad[3 * k + 1] * (size_t)T;
        double *c = x + (size_t)l->triad[3 * k + 2] * (size_t)T;
        for (int t = 0; t < T; t++) {
            double p = a[t], q = b[t], w = c[t];
            a[t] = M[0] * p + M[1] * q + M[2] * w;
            b[t] = M[3] * p + M[4] * q + M[5] * w;
            c[t] = M[6] * p + M[7] * q + M[8] * w;
        }
    }
}

void series_aug_rotate_with(double *x, int T, const series_aug_layout *l, const double *R)
{
    for (int u = 0; u < l->n_units; u++)
        rotate_unit(x, T, l, u, R + 9 * u);
}

void series_aug_rotate(double *x, int T, const series_aug_layout *l, double max_deg, sg_rng *r)
{
    double amax = max_deg * PI / 180.0;
    /* One draw per unit, triads or not, so a unit's rotation does not
     * depend on which other units carry complete triads. */
    for (int u = 0; u < l->n_units; u++) {
        /* axis uniform on the sphere: z uniform in [-1, 1], azimuth uniform */
        double z = sg_rng_range(r, -1.0, 1.0);
        double phi = sg_rng_range(r, 0.0, 2.0 * PI);
        double rho = sqrt(fmax(0.0, 1.0 - z * z));
        double axis[3] = {rho * cos(phi), rho * sin(phi), z};
        double angle = sg_rng_range(r, -amax, amax);
        double R[9];
        series_aug_rotation_matrix(R, axis, angle);
        rotate_unit(x, T, l, u, R);
    }
}

void series_aug_quaternion_matrix(double R[9], const double q[4])
{
    double w = q[0], x = q[1], y = q[2], z = q[3];
    R[0] = 1 - 2 * (y * y + z * z);
    R[1] = 2 * (x * y - z * w);
    R[2] = 2 * (x * z + y * w);
    R[3] = 2 * (x * y + z * w);
    R[4] = 1 - 2 * (x * x + z * z);
    R[5] = 2 * (y * z - x * w);
    R[6] = 2 * (x * z - y * w);
    R[7] = 2 * (y * z + x * w);
    R[8] = 1 - 2 * (x * x + y * y);
}

void series_aug_remount(double *x, int T, const series_aug_layout *l, double p, sg_rng *r)
{
    /* Four draws per unit whether it is remounted or not, so one unit's
     * outcome does not move another's. */
    for (int u = 0; u < l->n_units; u++) {
        double coin = sg_rng_uniform(r);
        double u1 = sg_rng_uniform(r), u2 = sg_rng_uniform(r), u3 = sg_rng_uniform(r);
        if (!(coin < p))
            continue;
        /* Shoemake's uniform unit quaternion: a uniform rotation. */
        double a = sqrt(1.0 - u1), b = sqrt(u1);
        double q[4] = {b * cos(2.0 * PI * u3), a * sin(2.0 * PI * u2), a * cos(2.0 * PI * u2),
                       b * sin(2.0 * PI * u3)};
        double R[9];
        series_aug_quaternion_matrix(R, q);
        rotate_unit(x, T, l, u, R);
    }
}

void series_aug_scale(double *x, int T, const series_aug_layout *l, double sigma, sg_rng *r)
{
    for (int s = 0; s < l->n_sensors; s++) {
        double f = 1.0 + sigma * gauss(r);
        for (int c = 0; c < l->n_channels; c++)
            if (l->sensor[c] == s)
                for (int t = 0; t < T; t++)
                    x[(size_t)c * (size_t)T + t] *= f;
    }
}

/* ---- resampling in time ---------------------------------------------- */

/* row at fractional position p in [0, T-1], linearly interpolated. */
static double interp(const double *row, int T, double p)
{
    if (p <= 0)
        return row[0];
    int i = (int)p;
    if (i >= T - 1)
        return row[T - 1];
    double f = p - i;
    return f == 0.0 ? row[i] : row[i] + f * (row[i + 1] - row[i]);
}

/* Every channel resampled at positions pos (T values): x[c][t] = x[c](pos[t]). */
static void resample(double *x, int C, int T, const double *pos, double *row)
{
    for (int c = 0; c < C; c++) {
        double *xc = x + (size_t)c * (size_t)T;
        memcpy(row, xc, (size_t)T * sizeof *row);
        for (int t = 0; t < T; t++)
            xc[t] = interp(row, T, pos[t]);
    }
}

void series_aug_crop(double *x, int C, int T, double min_frac, sg_rng *r, double *scratch)
{
    if (T < 2)
        return;
    int lo = (int)ceil(min_frac * T - 1e-9);
    if (lo < 2)
        lo = 2;
    if (lo > T)
        lo = T;
    int L = lo + (int)sg_rng_below(r, (uint64_t)(T - lo + 1));
    int start = (int)sg_rng_below(r, (uint64_t)(T - L + 1));
    double *pos = scratch, *row = scratch + T;
    for (int t = 0; t < T; t++)
        pos[t] = start + (double)t * (double)(L - 1) / (double)(T - 1);
    resample(x, C, T, pos, row);
}

void series_aug_warp(double *x, int C, int T, double sigma, sg_rng *r, double *scratch)
{
    if (T < 2)
        return;
    double speed[WARP_KNOTS];
    for (int k = 0; k < WARP_KNOTS; k++)
        speed[k] = fmax(0.1, 1.0 + sigma * gauss(r)); /* never stop or run backwards */
    double *pos = scratch, *row = scratch + T;
    double prev = speed[0];
    pos[0] = 0.0;
    for (int t = 1; t < T; t++) {
        double q = (double)t * (WARP_KNOTS - 1) / (double)(T - 1);
        int k = (int)q;
        double v = k >= WARP_KNOTS - 1 ? speed[WARP_KNOTS - 1]
                                       : speed[k] + (q - k) * (speed[k + 1] - speed[k]);
        pos[t] = pos[t - 1] + 0.5 * (prev + v);
        prev = v;
    }
    double scale = (double)(T - 1) / pos[T - 1];
    for (int t = 0; t < T; t++)
        pos[t] *= scale;
    pos[T - 1] = T - 1;
    resample(x, C, T, pos, row);
}

void series_aug_roll(double *x, int C, int T, int s, double *scratch)
{
    if (T < 1)
        return;
    int k = s % T;
    if (k < 0)
        k += T;
    if (k == 0)
        return;
    for (int c = 0; c < C; c++) {
        double *xc = x + (size_t)c * (size_t)T;
        memcpy(scratch, xc, (size_t)T * sizeof *scratch);
        /* out[t] = in[(t - k) mod T] */
        memcpy(xc + k, scratch, (size_t)(T - k) * sizeof *xc);
        memcpy(xc, scratch + (T - k), (size_t)k * sizeof *xc);
    }
}

void series_aug_shift(double *x, int C, int T, int max_shift, sg_rng *r, double *scratch)
{
    int s = (int)sg_rng_below(r, (uint64_t)(2 * max_shift + 1)) - max_shift;
    series_aug_roll(x, C, T, s, scratch);
}

void series_aug_jitter(double *x, int C, int T, double sigma, sg_rng *r)
{
    for (int c = 0; c < C; c++) {
        double *xc = x + (size_t)c * (size_t)T;
        double mean = 0.0, var = 0.0;
        for (int t = 0; t < T; t++)
            mean += xc[t];
        mean /= T;
        for (int t = 0; t < T; t++)
            var += (xc[t] - mean) * (xc[t] - mean);
        double sd = sqrt(var / T);
        for (int t = 0; t < T; t++) {
            double e = gauss(r); /* drawn even for a constant channel: one stream layout */
            xc[t] += sigma * sd * e;
        }
    }
}

void series_aug_apply(double *x, int C, int T, const series_aug_layout *l,
                      const series_aug_params *p, uint64_t seed, double *scratch)
{
    sg_rng r;
    if (p->rotate_deg > 0) {
        sg_rng_seed(&r, sg_rng_derive(seed, STREAM_ROTATE, 0));
        series_aug_rotate(x, T, l, p->rotate_deg, &r);
    }
    if (p->remount_p > 0) {
        sg_rng_seed(&r, sg_rng_derive(seed, STREAM_REMOUNT, 0));
        series_aug_remount(x, T, l, p->remount_p, &r);
    }
    if (p->scale_sigma > 0) {
        sg_rng_seed(&r, sg_rng_derive(seed, STREAM_SCALE, 0));
        series_aug_scale(x, T, l, p->scale_sigma, &r);
    }
    if (p->crop_min < 1.0) {
        sg_rng_seed(&r, sg_rng_derive(seed, STREAM_CROP, 0));
        series_aug_crop(x, C, T, p->crop_min, &r, scratch);
    }
    if (p->warp_sigma > 0) {
        sg_rng_seed(&r, sg_rng_derive(seed, STREAM_WARP, 0));
        series_aug_warp(x, C, T, p->warp_sigma, &r, scratch);
    }
    if (p->shift_max > 0) {
        sg_rng_seed(&r, sg_rng_derive(seed, STREAM_SHIFT, 0));
        series_aug_shift(x, C, T, p->shift_max, &r, scratch);
    }
    if (p->jitter_sigma > 0) {
        sg_rng_seed(&r, sg_rng_derive(seed, STREAM_JITTER, 0));
        series_aug_jitter(x, C, T, p->jitter_sigma, &r);
    }
}
