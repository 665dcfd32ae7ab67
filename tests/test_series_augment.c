/* test_series_augment.c - sensor-aware augmentation of the raw series
 * (datasets/series_augment.h), its place in the loader, test-time
 * augmentation and the augmentation gallery through the binary.
 *
 * Function level, hand-checked: rotation keeps every triad's norm per
 * time step (1e-12) and the angles between a unit's acc, gyro and mag
 * (one matrix per unit), is exactly the identity at angle 0 and leaves
 * channels outside complete triads untouched; the layout parsed from DSA
 * names; roll, crop at F = 1 and warp at sigma 0 against hand values;
 * remount: uniform rotations (mean trace 0, orthonormal, det 1), each
 * unit with probability p, norms and inter-sensor angles kept, other
 * kinds' streams unchanged.
 * Loader level (in-memory segments, no data needed): with every kind off
 * a training epoch's images are bit-identical to an unaugmented read;
 * augmented epochs are identical with 0, 1 and 2 workers and differ from
 * unaugmented ones; train = 0 (validation) is never augmented.
 * Binary (DSA data; skips without): --tta 1 == no --tta; --tta 2 is the
 * mean of the predictions on the segment and on the segment rolled by
 * T/2 (written as its own file); a constant segment (shift-invariant)
 * gets the same probabilities under --tta 5; --tta on image inputs and
 * bad --aug-* values are usage errors (exit 2); the gallery figure is
 * written and a bad value there is exit 2 too.
 */
#include "tests/sg_run.h"

#include <math.h>
#include <sys/stat.h>

#include "datasets/series_augment.h"
#include "encoders/enc.h"
#include "models/sg_model.h"
#include "src/base/rng.h"
#include "src/base/sg_error.h"
#include "src/image/png_io.h"
#include "src/train/loader.h"
#include "src/train/sample_source.h"

static const char *const dsa_names[] = {
    "T_acc_x",  "T_acc_y",  "T_acc_z",  "T_gyro_x",  "T_gyro_y",  "T_gyro_z", "T_mag_x",
    "T_mag_y",  "T_mag_z",  "RA_acc_x", "RA_acc_y",  "RA_acc_z",  "LL_acc_x", /* no y, z */
    "pressure",
};
enum { NC = sizeof dsa_names / sizeof dsa_names[0], NT = 50 };

/* A smooth but irregular (C, T) test segment. */
static void fill_segment(double *x, int C, int T, double seed)
{
    for (int c = 0; c < C; c++)
        for (int t = 0; t < T; t++)
            x[c * T + t] = sin(0.3 * t + c * 1.7 + seed) * (1.0 + 0.1 * c) + 0.05 * c * c -
                           0.2 * cos(0.11 * t * (c + 1));
}

static void test_layout_from_dsa_names(void **state)
{
    (void)state;
    series_aug_layout l;
    assert_int_equal(series_aug_layout_build(&l, (char *const *)dsa_names, NC), 0);
    /* T: acc, gyro, mag; RA: acc; LL_acc has x only; pressure has no axis */
    assert_int_equal(l.n_triads, 4);
    assert_int_equal(l.n_units, 4); /* T, RA, LL, and the unnamed unit of "pressure" */
    int want[4][3] = {{0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9, 10, 11}};
    for (int k = 0; k < 4; k++)
        for (int a = 0; a < 3; a++)
            assert_int_equal(l.triad[3 * k + a], want[k][a]);
    assert_int_equal(l.triad_unit[0], l.triad_unit[1]);
    assert_int_equal(l.triad_unit[0], l.triad_unit[2]);
    assert_int_not_equal(l.triad_unit[0], l.triad_unit[3]);
    assert_int_equal(l.n_sensors, 6); /* T_acc T_gyro T_mag RA_acc LL_acc pressure */
    assert_int_equal(l.sensor[0], l.sensor[2]);
    assert_int_not_equal(l.sensor[2], l.sensor[3]);
    series_aug_layout_free(&l);

    /* A norm row (--magnitude) scales with its triad but is never rotated. */
    const char *with_norm[] = {"T_acc_x", "T_acc_y", "T_acc_z", "T_acc_norm", "T_gyro_norm"};
    assert_int_equal(series_aug_layout_build(&l, (char *const *)with_norm, 5), 0);
    assert_int_equal(l.n_triads, 1);
    assert_int_equal(l.n_sensors, 2);
    assert_int_equal(l.sensor[3], l.sensor[0]);
    assert_int_not_equal(l.sensor[4], l.sensor[0]);
    assert_int_equal(l.n_units, 1);
    series_aug_layout_free(&l);
}

/* Triads from other naming habits, and given by --triads. */
static void test_layout_from_other_names_and_triads(void **state)
{
    (void)state;
    series_aug_layout l;
    /* A watch export: ax..az, gyroX..gyroZ, and "index" (ends in x, no
     * y or z beside it: a channel of its own). */
    const char *watch[] = {"ax", "ay", "az", "gyroX", "gyroY", "gyroZ", "index"};
    assert_int_equal(series_aug_layout_build(&l, (char *const *)watch, 7), 0);
    assert_int_equal(l.n_triads, 2);
    int want[2][3] = {{0, 1, 2}, {3, 4, 5}};
    for (int k = 0; k < 2; k++)
        for (int a = 0; a < 3; a++)
            assert_int_equal(l.triad[3 * k + a], want[k][a]);
    assert_int_equal(l.triad_unit[0], l.triad_unit[1]); /* one device: turned together */
    assert_int_equal(l.n_sensors, 3);
    assert_int_not_equal(l.sensor[6], l.sensor[0]);
    assert_int_not_equal(l.sensor[6], l.sensor[3]);
    series_aug_layout_free(&l);

    /* A second x only: no triad, every channel its own sensor. */
    const char *dup[] = {"ax", "ay", "az", "a-x"};
    assert_int_equal(series_aug_layout_build(&l, (char *const *)dup, 4), 0);
    assert_int_equal(l.n_triads, 0);
    series_aug_layout_free(&l);

    /* Unnamed dimensions (.ts, numpy): none, until --triads names them. */
    const char *dims[] = {"dim_0", "dim_1", "dim_2", "dim_3", "dim_4", "dim_5"};
    assert_int_equal(series_aug_layout_build(&l, (char *const *)dims, 6), 0);
    assert_int_equal(l.n_triads, 0);
    assert_int_equal(series_aug_layout_set_triads(&l, "auto"), 0);
    assert_int_equal(l.n_triads, 0);
    assert_int_equal(series_aug_layout_set_triads(&l, "3,4,5+0,1,2"), 0);
    assert_int_equal(l.n_triads, 2);
    assert_int_equal(l.triad[0], 3);
    assert_int_equal(l.triad[5], 2);
    assert_int_equal(l.n_units, 1);
    assert_int_equal(l.triad_unit[1], 0);
    assert_int_equal(l.sensor[4], l.sensor[3]);
    assert_int_not_equal(l.sensor[0], l.sensor[3]);
    assert_int_equal(series_aug_layout_set_triads(&l, "0,1,2;3,4,5"), 0);
    assert_int_equal(l.n_units, 2);
    assert_int_equal(l.triad_unit[1], 1);
    assert_int_equal(series_aug_layout_set_triads(&l, "none"), 0);
    assert_int_equal(l.n_triads, 0);
    assert_int_equal(series_aug_layout_set_triads(&l, "0,1,6"), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "'6' is not a channel index in 0..5"));
    assert_int_equal(series_aug_layout_set_triads(&l, "0,1,2+2,3,4"), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "channel 2 is in two triads"));
    assert_int_equal(series_aug_layout_set_triads(&l, "0,1"), SG_E_INVALID);
    assert_int_equal(series_aug_layout_set_triads(&l, "0,1,2/3,4,5"), SG_E_INVALID);
    series_aug_layout_free(&l);
}

static double norm3(const double *x, int a, int b, int c, int t)
{
    return sqrt(x[a * NT + t] * x[a * NT + t] + x[b * NT + t] * x[b * NT + t] +
                x[c * NT + t] * x[c * NT + t]);
}

static double dot3(const double *x, int a, int b, int t)
{
    double s = 0;
    for (int k = 0; k < 3; k++)
        s += x[(a + k) * NT + t] * x[(b + k) * NT + t];
    return s;
}

/* Largest change of a triad's norm, or of the angle (dot product)
 * between T's acc and its gyro or mag, at any time step from x to y:
 * 0 (to rounding) where each unit turned by one rotation. */
static double triad_change(const double *x, const double *y, const series_aug_layout *l)
{
    double worst = 0;
    for (int t = 0; t < NT; t++) {
        for (int k = 0; k < 4; k++) {
            int a = l->triad[3 * k];
            worst = fmax(worst,
                         fabs(norm3(y, a, a + 1, a + 2, t) - norm3(x, a, a + 1, a + 2, t)));
        }
        worst = fmax(worst, fabs(dot3(y, 0, 3, t) - dot3(x, 0, 3, t)));
        worst = fmax(worst, fabs(dot3(y, 0, 6, t) - dot3(x, 0, 6, t)));
    }
    return worst;
}

static void test_rotation_keeps_norms(void **state)
{
    (void)state;
    series_aug_layout l;
    assert_int_equal(series_aug_layout_build(&l, (char *const *)dsa_names, NC), 0);
    double x[NC * NT], y[NC * NT];
    fill_segment(x, NC, NT, 0.3);
    for (uint64_t seed = 1; seed <= 20; seed++) {
        memcpy(y, x, sizeof x);
        sg_rng r;
        sg_rng_seed(&r, seed);
        series_aug_rotate(y, NT, &l, 45.0, &r);
        /* one matrix for the unit: angles between acc, gyro, mag kept */
        double worst = triad_change(x, y, &l), moved = 0;
        for (int t = 0; t < NT; t++)
            for (int k = 0; k < 4; k++) {
                int a = l.triad[3 * k];
                moved = fmax(moved, fabs(y[a * NT + t] - x[a * NT + t]));
            }
        if (worst > 1e-12) {
            print_error("seed %llu: a triad norm or angle changed by %g\n",
                        (unsigned long long)seed, worst);
            fail();
        }
        assert_true(moved > 1e-3); /* it did rotate */
        /* LL_acc_x (no y, z) and pressure untouched, bit for bit */
        assert_memory_equal(y + 12 * NT, x + 12 * NT, 2 * NT * sizeof(double));
    }
    /* angle 0: exactly the identity */
    double R[9 * 4], axis[3] = {0.48, -0.6, 0.64};
    for (int u = 0; u < 4; u++)
        series_aug_rotation_matrix(R + 9 * u, axis, 0.0);
    for (int i = 0; i < 9; i++)
        assert_true(R[i] == (i % 4 == 0 ? 1.0 : 0.0));
    memcpy(y, x, sizeof x);
    series_aug_rotate_with(y, NT, &l, R);
    assert_memory_equal(y, x, sizeof x);
    /* a hand case: 90 degrees about z turns (1, 0, 0) into (0, 1, 0) */
    double Rz[9], z[3] = {0, 0, 1};
    series_aug_rotation_matrix(Rz, z, M_PI / 2);
    assert_true(fabs(Rz[0]) < 1e-15 && fabs(Rz[3] - 1.0) < 1e-15 && fabs(Rz[6]) < 1e-15);
    series_aug_layout_free(&l);
}

/* Remount: every unit turned by one uniform rotation (norms and the
 * angles between a unit's sensors kept, other channels untouched), each
 * unit with probability p; uniform on SO(3) means the mean trace of R
 * is 0 (small rotations: near 3) and the angle's cosine has mean -1/2
 * (density (1 - cos a) / pi on [0, pi]). */
static void test_remount(void **state)
{
    (void)state;
    series_aug_layout l;
    assert_int_equal(series_aug_layout_build(&l, (char *const *)dsa_names, NC), 0);
    double x[NC * NT], y[NC * NT];
    fill_segment(x, NC, NT, 0.7);
    /* how often T (unit 0) and RA (unit 1) move, alone and together */
    int draws = 4000, t_moved = 0, ra_moved = 0, both = 0;
    double trace_sum = 0, worst = 0;
    for (int n = 0; n < draws; n++) {
        memcpy(y, x, sizeof x);
        sg_rng r;
        sg_rng_seed(&r, sg_rng_derive(99, (uint64_t)n, 0));
        series_aug_remount(y, NT, &l, 0.5, &r);
        int mt = 0, mr = 0;
        worst = fmax(worst, triad_change(x, y, &l));
        for (int t = 0; t < NT; t++)
            for (int k = 0; k < 4; k++) {
                int a = l.triad[3 * k];
                if (fabs(y[a * NT + t] - x[a * NT + t]) > 1e-9)
                    *(l.triad_unit[k] == 0 ? &mt : &mr) = 1;
            }
        assert_memory_equal(y + 12 * NT, x + 12 * NT, 2 * NT * sizeof(double));
        t_moved += mt;
        ra_moved += mr;
        both += mt && mr;
    }
    if (worst > 1e-9) {
        print_error("remount changed a triad norm or angle by %g\n", worst);
        fail();
    }
    /* p = 0.5 per unit, independently: 2000 +- 3 sigma (95) */
    assert_true(abs(t_moved - draws / 2) < 95 && abs(ra_moved - draws / 2) < 95);
    assert_true(abs(both - draws / 4) < 85);
    /* the rotations: uniform on SO(3).  T's acc, gyro, mag at t = 0 hold
     * e1, e2, e3, so afterwards they hold R's columns. */
    double cos_sum = 0;
    for (int n = 0; n < draws; n++) {
        memset(y, 0, sizeof y);
        y[0 * NT] = y[4 * NT] = y[8 * NT] = 1.0;
        sg_rng r;
        sg_rng_seed(&r, sg_rng_derive(7, (uint64_t)n, 0));
        series_aug_remount(y, NT, &l, 1.0, &r);
        double R[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                R[3 * i + j] = y[(3 * j + i) * NT];
        /* orthonormal with determinant 1 */
        double det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) +
                     R[2] * (R[3] * R[7] - R[4] * R[6]);
        assert_true(fabs(det - 1.0) < 1e-12);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                double d = 0;
                for (int k = 0; k < 3; k++)
                    d += R[3 * i + k] * R[3 * j + k];
                assert_true(fabs(d - (i == j)) < 1e-12);
            }
        double tr = R[0] + R[4] + R[8];
        trace_sum += tr;
        cos_sum += (tr - 1.0) / 2.0;
    }
    /* trace: mean 0, sd 1 over uniform rotations -> 3 sigma of the mean 0.05 */
    assert_true(fabs(trace_sum / draws) < 0.05);
    assert_true(fabs(cos_sum / draws + 0.5) < 0.03);
    /* p = 1 through series_aug_apply: the remount stream alone changes y;
     * the rotate stream is not moved by it (rotate + remount 0 equals
     * rotate alone, bit for bit). */
    series_aug_params p;
    series_aug_params_off(&p);
    p.remount_p = 1.0;
    double scratch[2 * NT];
    memcpy(y, x, sizeof x);
    series_aug_apply(y, NC, NT, &l, &p, 5, scratch);
    assert_true(fabs(y[0] - x[0]) + fabs(y[1] - x[1]) + fabs(y[2] - x[2]) > 1e-6);
    series_aug_params_off(&p);
    p.rotate_deg = 20;
    double z[NC * NT];
    memcpy(y, x, sizeof x);
    memcpy(z, x, sizeof x);
    series_aug_apply(y, NC, NT, &l, &p, 5, scratch);
    p.remount_p = 1e-300; /* on, but never fires */
    series_aug_apply(z, NC, NT, &l, &p, 5, scratch);
    assert_memory_equal(y, z, sizeof y);
    series_aug_layout_free(&l);
}

static void test_time_kinds_hand_checked(void **state)
{
    (void)state;
    double x[2 * 5] = {0, 1, 2, 3, 4, 10, 11, 12, 13, 14}, s[16];
    series_aug_roll(x, 2, 5, 2, s);
    double want[10] = {3, 4, 0, 1, 2, 13, 14, 10, 11, 12};
    assert_memory_equal(x, want, sizeof x);
    series_aug_roll(x, 2, 5, -7, s); /* back: -7 = -2 mod 5 */
    double orig[10] = {0, 1, 2, 3, 4, 10, 11, 12, 13, 14};
    assert_memory_equal(x, orig, sizeof x);

    double a[NC * NT], b[NC * NT], scratch[2 * NT];
    fill_segment(a, NC, NT, 1.1);
    memcpy(b, a, sizeof a);
    sg_rng r;
    sg_rng_seed(&r, 5);
    series_aug_crop(b, NC, NT, 1.0, &r, scratch); /* keeps all of T: identity */
    assert_memory_equal(a, b, sizeof a);
    series_aug_warp(b, NC, NT, 0.0, &r, scratch); /* speed 1 everywhere: identity */
    assert_memory_equal(a, b, sizeof a);
    /* a crop of a ramp is a ramp: linear resampling of a line stays on it */
    double ramp[NT];
    for (int t = 0; t < NT; t++)
        ramp[t] = 2.0 * t + 1.0;
    series_aug_crop(ramp, 1, NT, 0.8, &r, scratch);
    double slope = (ramp[NT - 1] - ramp[0]) / (NT - 1);
    assert_true(slope < 2.0 + 1e-12 && slope >= 2.0 * 0.8 * (NT - 1) / (NT - 1) - 0.1);
    for (int t = 1; t < NT; t++)
        assert_true(fabs(ramp[t] - ramp[t - 1] - slope) < 1e-9);
    /* jitter: noise std close to sigma x the channel's std */
    enum { LONG = 20000 };
    double *j = malloc(2 * LONG * sizeof *j), *j0 = malloc(2 * LONG * sizeof *j0);
    assert_non_null(j);
    assert_non_null(j0);
    for (int t = 0; t < LONG; t++) {
        j[t] = (t % 2) ? 1.0 : -1.0; /* std 1 */
        j[LONG + t] = 5.0;           /* constant: std 0, no noise */
    }
    memcpy(j0, j, 2 * LONG * sizeof *j);
    series_aug_jitter(j, 2, LONG, 0.1, &r);
    double ss = 0;
    for (int t = 0; t < LONG; t++)
        ss += (j[t] - j0[t]) * (j[t] - j0[t]);
    double sd = sqrt(ss / LONG);
    print_message("jitter: noise std %.4f (want 0.1)\n", sd);
    assert_true(fabs(sd - 0.1) < 0.005);
    assert_memory_equal(j + LONG, j0 + LONG, LONG * sizeof *j);
    free(j);
    free(j0);
}

/* A 24-segment in-memory set with DSA-like channel names. */
static void make_set(sg_series_set *s)
{
    memset(s, 0, sizeof *s);
    s->n = 24;
    s->n_channels = NC;
    s->n_samples = NT;
    s->n_classes = 2;
    s->data = malloc(s->n * NC * NT * sizeof *s->data);
    s->channel_names = calloc(NC, sizeof(char *));
    s->label = malloc(s->n * sizeof(int));
    s->subject = malloc(s->n * sizeof(int));
    s->segment = malloc(s->n * sizeof(int));
    s->source = calloc(s->n, sizeof(char *));
    s->name = calloc(s->n, sizeof(char *));
    s->class_names = calloc(2, sizeof(char *));
    assert_non_null(s->data);
    assert_non_null(s->name);
    for (int c = 0; c < NC; c++)
        s->channel_names[c] = strdup(dsa_names[c]);
    s->class_names[0] = strdup("a");
    s->class_names[1] = strdup("b");
    for (size_t i = 0; i < s->n; i++) {
        fill_segment(sg_series_at(s, i), NC, NT, 0.37 * (double)i);
        s->label[i] = (int)(i % 2);
        s->subject[i] = 1 + (int)(i % 3);
        s->segment[i] = (int)i;
        s->source[i] = strdup("mem");
        char buf[32];
        snprintf(buf, sizeof buf, "seg%02zu", i);
        s->name[i] = strdup(buf);
    }
}

static void make_source(sample_source *src, int threads)
{
    sg_series_set set;
    make_set(&set);
    enc_params p;
    enc_params_default(&p, ENC_GRAY);
    p.scope = ENC_SCOPE_SEGMENT; /* no fit needed */
    assert_int_equal(sample_source_series(src, &set, &p, NULL, threads), 0);
}

/* One epoch's images (n_batches x batch floats, concatenated). */
static float *epoch_images(sample_source *src, int train, int workers, int epoch, size_t *len)
{
    sg_sample_source view = sample_source_loader_view(src);
    sg_transform_spec spec;
    sg_transform_spec_sensor(&spec, 1, NC, NT);
    spec.resize = SG_RESIZE_NONE;
    spec.normalize = 0;
    sg_loader_opts o = {.batch_size = 5, .shuffle = 1, .seed = 11, .train = train,
                        .n_workers = workers, .prefetch = 2};
    sg_loader *l;
    assert_int_equal(sg_loader_create(&l, &view, &spec, &o), 0);
    size_t per = (size_t)NC * NT, n = 0;
    float *all = malloc(src->n * per * sizeof *all);
    assert_non_null(all);
    assert_int_equal(sg_loader_start_epoch(l, epoch), 0);
    sg_batch *b;
    int got;
    while ((got = sg_loader_next(l, &b)) == 1) {
        memcpy(all + n * per, b->x, (size_t)b->n * per * sizeof *all);
        n += (size_t)b->n;
    }
    assert_int_equal(got, 0);
    assert_int_equal(n, src->n);
    sg_loader_free(l);
    *len = n * per;
    return all;
}

static void test_loader_augments_training_only(void **state)
{
    (void)state;
    sample_source src;
    make_source(&src, 2);
    size_t len;
    /* today's path: no augmentation installed, train and eval reads */
    float *plain_eval = epoch_images(&src, 0, 2, 0, &len);
    float *plain_train = epoch_images(&src, 1, 2, 0, &len);
    /* every kind off: bit-identical to today */
    series_aug_params off;
    series_aug_params_off(&off);
    assert_int_equal(sample_source_set_augment(&src, &off, NULL), 0);
    assert_int_equal(src.aug_on, 0);
    float *off_train = epoch_images(&src, 1, 2, 0, &len);
    assert_memory_equal(off_train, plain_train, len * sizeof(float));
    /* the defaults plus crop, warp and jitter */
    series_aug_params p;
    series_aug_params_default(&p);
    p.crop_min = 0.9;
    p.warp_sigma = 0.2;
    p.jitter_sigma = 0.05;
    assert_int_equal(sample_source_set_augment(&src, &p, NULL), 0);
    float *w0 = epoch_images(&src, 1, 0, 0, &len);
    float *w1 = epoch_images(&src, 1, 1, 0, &len);
    float *w2 = epoch_images(&src, 1, 2, 0, &len);
    assert_memory_equal(w0, w1, len * sizeof(float));
    assert_memory_equal(w1, w2, len * sizeof(float));
    size_t differ = 0;
    for (size_t i = 0; i < len; i++)
        differ += w2[i] != plain_train[i];
    print_message("augmented epoch: %zu of %zu pixels changed\n", differ, len);
    assert_true(differ > len / 2);
    /* another epoch draws other augmentations */
    float *e1 = epoch_images(&src, 1, 2, 1, &len);
    float *plain_e1 = NULL;
    assert_true(memcmp(e1, w2, len * sizeof(float)) != 0);
    /* validation (train = 0) is never augmented */
    float *valid = epoch_images(&src, 0, 2, 0, &len);
    assert_memory_equal(valid, plain_eval, len * sizeof(float));
    free(plain_e1);
    free(plain_eval);
    free(plain_train);
    free(off_train);
    free(w0);
    free(w1);
    free(w2);
    free(e1);
    free(valid);
    /* a shift as long as the segment is refused, naming the option */
    p.shift_max = NT;
    assert_int_equal(sample_source_set_augment(&src, &p, NULL), SG_E_INVALID);
    SG_ASSERT_CONTAINS(sg_last_error(), "--aug-shift");
    sample_source_free(&src);
}

/* ---- through the binary ---------------------------------------------- */

typedef struct bin_env {
    char *tmp;
    char data[4200]; /* a09 a12 of p1 */
    char run[4300];  /* a checkpoint trained on it, or "" */
} bin_env;

static int setup(void **state)
{
    bin_env *e = calloc(1, sizeof *e);
    assert_non_null(e);
    e->tmp = sg_test_tmpdir();
    snprintf(e->data, sizeof e->data, "%s/dsa", e->tmp);
    if (sg_test_dsa_subset(e->data, "a09 a12", "p1") != 0)
        e->data[0] = '\0';
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    bin_env *e = *state;
    sg_test_rmtree(e->tmp);
    free(e->tmp);
    free(e);
    return 0;
}

#define REQUIRE_DSA(e) SG_REQUIRE_DSA((e)->data)

static void test_bad_values_are_usage_errors(void **state)
{
    bin_env *e = *state;
    char *out = NULL;
    const char *bad[] = {"--aug-rotate 10x", "--aug-rotate 200", "--aug-scale -0.1",
                         "--aug-crop 0",     "--aug-shift -1",   "--aug-warp 2",
                         "--aug-jitter nan", "--aug-remount 1.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = sg_test_run(&out, NULL, "train --dataset dsa '%s' %s --out '%s/bad'",
                             e->tmp, bad[i], e->tmp);
        SG_ASSERT_EXIT(rc, 2, out);
        char opt[32];
        snprintf(opt, sizeof opt, "%.*s", (int)strcspn(bad[i], " "), bad[i]);
        SG_ASSERT_CONTAINS(out, opt);
        free(out);
    }
    int rc = sg_test_run(&out, NULL, "eval x.safetensors '%s' --tta 0", e->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--tta");
    free(out);
    /* bare weights predict image files: nothing to shift in time */
    rc = sg_test_run(&out, NULL,
                     "predict --arch resnet18 --weights w.safetensors --tta 2 -o '%s/p.csv' a.png",
                     e->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "--tta shifts sensor series");
    free(out);
    /* --aug-* on an image folder: the series is gone once it is a PNG */
    char photos[4400];
    snprintf(photos, sizeof photos, "%s/photos", e->tmp);
    mkdir(photos, 0777);
    float px[3 * 8 * 8];
    for (int i = 0; i < 3 * 8 * 8; i++)
        px[i] = (float)(i % 7) / 7.0f;
    for (int c = 0; c < 2; c++)
        for (int i = 0; i < 3; i++) {
            char p[4500];
            snprintf(p, sizeof p, "%s/%s", photos, c ? "dog" : "cat");
            mkdir(p, 0777);
            snprintf(p, sizeof p, "%s/%s/%d.png", photos, c ? "dog" : "cat", i);
            assert_int_equal(sg_png_write(p, px, 3, 8, 8, 8), 0);
        }
    rc = sg_test_run(&out, NULL,
                     "train '%s' --aug-rotate 5 --pretrained none --arch resnet18 --out '%s/p'",
                     photos, e->tmp);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "--aug-rotate augments sensor series before encoding");
    free(out);
    char left[4500];
    snprintf(left, sizeof left, "%s/p/config.json", e->tmp);
    assert_false(sg_test_path_exists(left));
}

static void test_gallery_written(void **state)
{
    bin_env *e = *state;
    REQUIRE_DSA(e);
    char *out = NULL;
    int rc = sg_test_run(&out, NULL, "figures --augment-gallery --dataset dsa '%s' --out '%s/gal'",
                         e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    char p[4400];
    snprintf(p, sizeof p, "%s/gal/augment_gallery.png", e->tmp);
    char *png = sg_test_slurp(p);
    assert_non_null(png);
    assert_memory_equal(png, "\x89PNG", 4);
    free(png);
    rc = sg_test_run(&out, NULL,
                     "figures --augment-gallery --dataset dsa '%s' --out '%s/gal' "
                     "--figure-format svg",
                     e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(p, sizeof p, "%s/gal/augment_gallery.svg", e->tmp);
    char *svg = sg_test_slurp(p);
    assert_non_null(svg);
    SG_ASSERT_CONTAINS(svg, "<svg");
    free(svg);
    /* bad values: exit 2, nothing written */
    rc = sg_test_run(&out, NULL,
                     "figures --augment-gallery --dataset dsa '%s' --out '%s/gal2' "
                     "--figure-format bmp",
                     e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    free(out);
    rc = sg_test_run(&out, NULL, "figures --augment-gallery --dataset nope '%s' --out '%s/gal2'",
                     e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 2, out);
    free(out);
    rc = sg_test_run(&out, NULL, "figures --augment-gallery --dataset dsa '%s'", e->data);
    SG_ASSERT_EXIT(rc, 2, out);
    free(out);
    snprintf(p, sizeof p, "%s/gal2", e->tmp);
    assert_false(sg_test_path_exists(p));
}

/* The probability columns (after path,label,pred,loss) of the data row
 * of a one-row predictions file. */
static int read_probs(const char *path, double *p, int max)
{
    char *text = sg_test_slurp(path);
    assert_non_null(text);
    char *row = strchr(text, '\n');
    assert_non_null(row);
    row++;
    int n = 0, field = 0;
    for (char *f = row; f && *f && *f != '\n'; field++) {
        if (field >= 4 && n < max)
            p[n++] = strtod(f, NULL);
        f = strchr(f, ',');
        f = f ? f + 1 : NULL;
    }
    free(text);
    return n;
}

/* Writes the 125-line DSA segment src rolled by s rows (out[t] =
 * in[(t - s) mod T]), or every line replaced by line 0 when s < 0. */
static void write_rolled(const char *src, const char *dst, int s)
{
    char *text = sg_test_slurp(src);
    assert_non_null(text);
    char *lines[200];
    int n = 0;
    for (char *save = NULL, *l = strtok_r(text, "\n", &save); l && n < 200;
         l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    assert_int_equal(n, 125);
    FILE *f = fopen(dst, "w");
    assert_non_null(f);
    for (int t = 0; t < n; t++)
        fprintf(f, "%s\n", s < 0 ? lines[0] : lines[((t - s) % n + n) % n]);
    fclose(f);
    free(text);
}

static void test_tta(void **state)
{
    bin_env *e = *state;
    REQUIRE_DSA(e);
    if (!sg_torch_available()) {
        print_message("SKIP: built without libtorch (NO_TORCH=1)\n");
        skip();
    }
    char *out = NULL;
    snprintf(e->run, sizeof e->run, "%s/run", e->tmp);
    int rc = sg_test_run(&out, NULL,
                         "train --dataset dsa '%s' --sensors acc --units T --arch resnet18 "
                         "--image-size 16 --bs 16 --epochs 1 --pretrained none --seed 2 -j 2 "
                         "--valid-pct 0.2 --no-progress --out '%s'",
                         e->data, e->run);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    char cfg[4400];
    snprintf(cfg, sizeof cfg, "%s/config.json", e->run);
    char *config = sg_test_slurp(cfg);
    SG_ASSERT_CONTAINS(config, "\"series_augment\": {");
    SG_ASSERT_CONTAINS(config, "\"rotate_deg\": 10.0");
    free(config);

    /* eval: --tta 1 is no --tta, byte for byte */
    char a[4400], b[4400];
    rc = sg_test_run(&out, NULL, "eval '%s/last.safetensors' '%s' -o '%s/e0' --no-progress",
                     e->run, e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    rc = sg_test_run(&out, NULL,
                     "eval '%s/last.safetensors' '%s' -o '%s/e1' --tta 1 --no-progress", e->run,
                     e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    free(out);
    snprintf(a, sizeof a, "%s/e0/predictions.csv", e->tmp);
    snprintf(b, sizeof b, "%s/e1/predictions.csv", e->tmp);
    char *ta = sg_test_slurp(a), *tb = sg_test_slurp(b);
    assert_non_null(ta);
    assert_non_null(tb);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
    rc = sg_test_run(&out, NULL,
                     "eval '%s/last.safetensors' '%s' -o '%s/e4' --tta 4 --no-progress", e->run,
                     e->data, e->tmp);
    SG_ASSERT_EXIT(rc, 0, out);
    SG_ASSERT_CONTAINS(out, "120 samples: accuracy");
    free(out);

    /* --tta 2 = mean of the segment and the segment rolled by T/2 = 62 */
    char seg[4400], rolled[4400], flat[4400];
    snprintf(seg, sizeof seg, "%s/a09/p1/s01.txt", e->data);
    snprintf(rolled, sizeof rolled, "%s/rolled", e->tmp);
    mkdir(rolled, 0777);
    snprintf(rolled, sizeof rolled, "%s/rolled/s01.txt", e->tmp);
    write_rolled(seg, rolled, 62);
    snprintf(flat, sizeof flat, "%s/flat", e->tmp);
    mkdir(flat, 0777);
    snprintf(flat, sizeof flat, "%s/flat/s01.txt", e->tmp);
    write_rolled(seg, flat, -1);
    const char *runs[][2] = {{seg, ""}, {rolled, ""}, {seg, "--tta 2"}, {flat, ""},
                             {flat, "--tta 5"}};
    double p[5][32];
    int k = 0;
    for (int r = 0; r < 5; r++) {
        char csv[4400];
        snprintf(csv, sizeof csv, "%s/p%d.csv", e->tmp, r);
        rc = sg_test_run(&out, NULL, "predict '%s/last.safetensors' '%s' %s -o '%s' --no-progress",
                         e->run, runs[r][0], runs[r][1], csv);
        SG_ASSERT_EXIT(rc, 0, out);
        free(out);
        k = read_probs(csv, p[r], 32);
        assert_int_equal(k, 2);
    }
    double worst = 0, apart = 0;
    for (int c = 0; c < k; c++) {
        worst = fmax(worst, fabs(p[2][c] - 0.5 * (p[0][c] + p[1][c])));
        worst = fmax(worst, fabs(p[4][c] - p[3][c]));
        apart = fmax(apart, fabs(p[0][c] - p[1][c]));
    }
    print_message("tta: P(seg) %.6f, P(rolled) %.6f, P(tta 2) %.6f; worst difference %.2g\n",
                  p[0][0], p[1][0], p[2][0], worst);
    if (worst > 2e-6) {
        print_error("--tta differs from the mean over shifted inputs by %g\n", worst);
        fail();
    }
    (void)apart;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_from_dsa_names),
        cmocka_unit_test(test_layout_from_other_names_and_triads),
        cmocka_unit_test(test_rotation_keeps_norms),
        cmocka_unit_test(test_remount),
        cmocka_unit_test(test_time_kinds_hand_checked),
        cmocka_unit_test(test_loader_augments_training_only),
        cmocka_unit_test(test_bad_values_are_usage_errors),
        cmocka_unit_test(test_gallery_written),
        cmocka_unit_test(test_tta),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
