/* series_augment.h - sensor-aware augmentation of one raw segment before
 * it is encoded.
 *
 * Straps sit differently on different people, so a model that is to
 * work on the next person should see each training segment slightly
 * rotated, scaled, shifted and warped.  These are pure functions over a
 * caller-owned (C, T) double segment (row-major: channel c's T samples
 * at x + c * T) and the segment set's channel metadata, parsed once into
 * a series_aug_layout from channel names of the form UNIT_SENSOR_AXIS
 * ("LL_acc_x", as dsa.c names them), SENSOR_AXIS ("acc_x"; one unnamed
 * unit), a norm row UNIT_SENSOR_norm (dsa_magnitude.h: part of its
 * sensor for scaling, never of a triad) or anything else (a channel of its
 * own).
 *
 *   rotate  one random rotation per body unit (axis uniform on the
 *           sphere, angle uniform in [-A, A] degrees), applied to every
 *           complete x,y,z triad of that unit (acc, gyro, mag together,
 *           as a strap turned on the limb turns all three); channels
 *           that are not part of a complete triad are left as they are
 *   remount with probability P per body unit, a uniformly random
 *           orientation (any angle, uniform on SO(3)) of all its triads:
 *           a unit strapped on the other way round or turned far on the
 *           limb, which small rotations do not cover (subject 4 of the
 *           DSA data wears the torso unit upside down while exercising
 *           on the stepper and cross trainer); the model then has to read
 *           posture and motion from the other units as well
 *   scale   one factor ~ N(1, sigma) per sensor (all axes of one
 *           UNIT_SENSOR together, so a triad's direction is kept)
 *   crop    a random window of L samples, L uniform in [ceil(F T), T],
 *           linearly resampled back to T (a slower or faster movement)
 *   warp    a smooth monotone time warp: the local speed is N(1, sigma)
 *           at 4 evenly spaced knots, linearly interpolated, integrated
 *           and rescaled to [0, T-1] (Um et al. 2017)
 *   shift   a circular roll by s samples, s uniform in [-N, N]
 *   jitter  additive Gaussian noise, sigma times each channel's own
 *           standard deviation in this segment (constant channels get none)
 *
 * Order: rotate, remount, scale, crop, warp, shift, jitter.  Each kind draws from
 * its own stream derived from the segment's seed, so switching one on or
 * off does not change what the others do (ablations compare like with
 * like), and the same seed gives the same segment on any thread.
 * What this does not do: encode, know about epochs or splits (the loader
 * derives the seed), or augment images (transform.h does).
 */
#ifndef SG_SERIES_AUGMENT_H
#define SG_SERIES_AUGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "src/base/rng.h"

/* The defaults of `train` on sensor series: small rotations, scaling,
 * shifts and a remount of one unit in ten on (docs/accuracy.md's LOSO rows
 * measure them); crop, warp and jitter off until measured otherwise.  One
 * named constant each so that the recipe is tuned in one place. */
#define SERIES_AUG_ROTATE_DEG_DEFAULT 10.0 /* max angle, degrees */
#define SERIES_AUG_SCALE_DEFAULT 0.1       /* sigma of the N(1, sigma) factor */
#define SERIES_AUG_SHIFT_DEFAULT 8         /* max roll, samples (DSA: 0.32 s of 5 s) */
#define SERIES_AUG_CROP_DEFAULT 1.0        /* min kept fraction; 1 = off */
#define SERIES_AUG_WARP_DEFAULT 0.0        /* sigma of the knot speeds; 0 = off */
#define SERIES_AUG_JITTER_DEFAULT 0.0      /* noise sigma / channel std; 0 = off */
#define SERIES_AUG_REMOUNT_DEFAULT 0.1     /* per-unit probability; 0 = off */

/* What to do; a zero (or crop 1) field switches that kind off. */
typedef struct series_aug_params {
    double rotate_deg;   /* [0, 180] */
    double scale_sigma;  /* [0, 1] */
    int shift_max;       /* [0, T) samples */
    double crop_min;     /* (0, 1]; 1 = off */
    double warp_sigma;   /* [0, 1] */
    double jitter_sigma; /* [0, 1] */
    double remount_p;    /* [0, 1] */
} series_aug_params;

/* Fills p with the SERIES_AUG_*_DEFAULT values. */
void series_aug_params_default(series_aug_params *p);

/* Fills p with every kind off. */
void series_aug_params_off(series_aug_params *p);

/* Whether p changes anything at all. */
int series_aug_active(const series_aug_params *p);

/* Checks p's ranges for segments of T samples; SG_E_INVALID naming the
 * option (--aug-rotate, ...) otherwise. */
int series_aug_params_check(const series_aug_params *p, int T);

/* The channel metadata the augmentations need, parsed from names. */
typedef struct series_aug_layout {
    int n_channels;
    int n_units;
    int n_triads;
    int *triad;        /* (n_triads, 3) channel indices of x, y, z, owned */
    int *triad_unit;   /* (n_triads) unit index 0..n_units-1, owned */
    int n_sensors;
    int *sensor;       /* (n_channels) sensor group of each channel, owned */
} series_aug_layout;

/* Parses C channel names (borrowed) into *out (caller-owned, free with
 * series_aug_layout_free). */
int series_aug_layout_build(series_aug_layout *out, char *const *names, int C);

/* Replaces the triads the names gave with spec (--triads): "auto" or
 * NULL keeps them; "none" drops them; otherwise x,y,z channel indices
 * (0-based), triads of one body unit joined by '+', units by ';':
 * "0,1,2+3,4,5" is a watch's accelerometer and gyroscope turned together,
 * "0,1,2;3,4,5" two markers turned apart.  A triad scales as one sensor.
 * SG_E_INVALID naming spec for a bad index, a reused channel or a
 * malformed list. */
int series_aug_layout_set_triads(series_aug_layout *l, const char *spec);

/* Frees what the layout owns and zeroes it; accepts NULL. */
void series_aug_layout_free(series_aug_layout *l);

/* Doubles of scratch that series_aug_apply and the single kinds need for
 * a (C, T) segment. */
size_t series_aug_scratch_len(int C, int T);

/* Applies every enabled kind of p to x (C, T) in place, drawing from
 * streams derived from seed; scratch has series_aug_scratch_len doubles.
 * x is untouched when nothing is enabled. */
void series_aug_apply(double *x, int C, int T, const series_aug_layout *l,
                      const series_aug_params *p, uint64_t seed, double *scratch);

/* The rotation by `angle` radians about the unit vector axis (Rodrigues'
 * formula) into R (3x3 row-major).  angle 0 gives exactly the identity. */
void series_aug_rotation_matrix(double R[9], const double axis[3], double angle);

/* The rotation of the unit quaternion (w, x, y, z) into R (3x3
 * row-major). */
void series_aug_quaternion_matrix(double R[9], const double q[4]);

/* Rotates every complete triad of unit u by R + 9u (n_units matrices). */
void series_aug_rotate_with(double *x, int T, const series_aug_layout *l, const double *R);

/* The single kinds, each drawing from r (see the top of this file). */
void series_aug_rotate(double *x, int T, const series_aug_layout *l, double max_deg, sg_rng *r);
void series_aug_remount(double *x, int T, const series_aug_layout *l, double p, sg_rng *r);
void series_aug_scale(double *x, int T, const series_aug_layout *l, double sigma, sg_rng *r);
void series_aug_crop(double *x, int C, int T, double min_frac, sg_rng *r, double *scratch);
void series_aug_warp(double *x, int C, int T, double sigma, sg_rng *r, double *scratch);
void series_aug_shift(double *x, int C, int T, int max_shift, sg_rng *r, double *scratch);
void series_aug_jitter(double *x, int C, int T, double sigma, sg_rng *r);

/* Rolls every channel of x (C, T) circularly by s samples (out[t] =
 * x[(t - s) mod T]; any s); scratch has T doubles.  Test-time
 * augmentation uses it with s = k T / N. */
void series_aug_roll(double *x, int C, int T, int s, double *scratch);

#endif
