/* rng.h - small explicit random number generator (xoshiro256**).
 *
 * There is no global RNG in sensorgram: every function that draws random
 * numbers takes an sg_rng it may advance.  Streams for (seed, epoch,
 * index) are derived with splitmix64 so that a sample's augmentation is
 * the same whichever thread computes it and in whatever order.
 */
#ifndef SG_RNG_H
#define SG_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct sg_rng {
    uint64_t s[4];
} sg_rng;

/* Seeds r from one 64-bit value (splitmix64 expansion; any seed is fine). */
void sg_rng_seed(sg_rng *r, uint64_t seed);

/* Mixes a seed with up to two stream coordinates (e.g. epoch, index) into
 * a new well-spread seed; pure function. */
uint64_t sg_rng_derive(uint64_t seed, uint64_t a, uint64_t b);

/* Next raw 64-bit value; advances r. */
uint64_t sg_rng_next(sg_rng *r);

/* Uniform double in [0, 1) with 53 random bits; advances r. */
double sg_rng_uniform(sg_rng *r);

/* Uniform double in [lo, hi); advances r. */
double sg_rng_range(sg_rng *r, double lo, double hi);

/* Uniform integer in [0, n) without modulo bias (n > 0); advances r. */
uint64_t sg_rng_below(sg_rng *r, uint64_t n);

/* Fisher-Yates shuffle of n size_t values in place; advances r. */
void sg_rng_shuffle(sg_rng *r, size_t *v, size_t n);

#endif
