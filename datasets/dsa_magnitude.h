/* dsa_magnitude.h - rotation-invariant magnitude rows for DSA segments.
 *
 * A sensor strapped on slightly differently on the next person rotates
 * its x, y, z axes; the Euclidean norm sqrt(x^2 + y^2 + z^2) of one
 * sensor's triad does not change.  For every unit and sensor whose three
 * axes are all selected, the norm per time step becomes one more channel
 * of the series set, computed in double from the values as read, before
 * any encoder sees them (so every encoder treats it like any other axis).
 *
 * Placement: the norms are appended AFTER all axis channels, in the
 * selection's unit, sensor order ("T_acc_norm", "T_gyro_norm",
 * "T_mag_norm", "RA_acc_norm", ...).  The axis channels keep their
 * positions, so the rgb layout still takes each sensor's x, y, z as R,
 * G, B, and the appended norms come three at a time as one unit's acc,
 * gyro, mag norms (R, G, B) when all three sensors are selected; a gray
 * or mosaic image gets the norms as extra rows / tiles at the bottom.
 */
#ifndef SG_DSA_MAGNITUDE_H
#define SG_DSA_MAGNITUDE_H

#include "datasets/dsa.h"
#include "datasets/series.h"

typedef enum dsa_magnitude {
    DSA_MAGNITUDE_OFF,  /* the selected axes only (default) */
    DSA_MAGNITUDE_ADD,  /* the axes, then one norm per complete triad */
    DSA_MAGNITUDE_ONLY, /* only the norms (5 units x 3 sensors: 15 channels) */
} dsa_magnitude;

/* Parses "add", "only" or "off" (case-insensitive); SG_E_INVALID with a
 * message naming --magnitude otherwise. */
int dsa_magnitude_parse(dsa_magnitude *out, const char *s);

/* "add", "only" or "off" (static string). */
const char *dsa_magnitude_name(dsa_magnitude m);

/* The number of complete x, y, z triads in sel (units x sensors when all
 * three axes are selected, else 0). */
int dsa_magnitude_triads(const dsa_select *sel);

/* Checks that mode can be applied to sel: add and only need at least one
 * complete triad.  SG_E_INVALID with a one-line message otherwise. */
int dsa_magnitude_check(const dsa_select *sel, dsa_magnitude mode);

/* Adds (or, for only, substitutes) the norm channels of set, whose
 * channels must be sel's in dsa_load order (unit, sensor, axis).  Data
 * and channel names are reallocated; on failure set is unchanged.  off
 * is a no-op. */
int dsa_magnitude_apply(sg_series_set *set, const dsa_select *sel, dsa_magnitude mode);

#endif
