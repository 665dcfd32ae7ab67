/* sg_walkrun.h - the walking vs running fixture of the ensemble tests:
 * DSA activities a09 (walking in a parking lot) and a12 (running on a
 * treadmill) of subjects 1-2, copied into a fresh temporary folder, as
 * one root and as one root per subject (the held-out subject alone). */
#ifndef SG_TEST_WALKRUN_H
#define SG_TEST_WALKRUN_H

#include "tests/sg_run.h"
#include "tests/sg_test_models.h"

typedef struct walkrun {
    char *tmp;
    char data[4200]; /* a09, a12 of p1, p2; "" where no DSA data was found */
    char p1[4200];   /* a09, a12 of p1 */
    char p2[4200];   /* a09, a12 of p2 */
} walkrun;

static inline void walkrun_open(walkrun *w)
{
    w->tmp = sg_test_tmpdir();
    snprintf(w->data, sizeof w->data, "%s/dsa", w->tmp);
    snprintf(w->p1, sizeof w->p1, "%s/p1", w->tmp);
    snprintf(w->p2, sizeof w->p2, "%s/p2", w->tmp);
    if (sg_test_dsa_subset(w->data, "a09 a12", "p1 p2") != 0 ||
        sg_test_dsa_subset(w->p1, "a09 a12", "p1") != 0 ||
        sg_test_dsa_subset(w->p2, "a09 a12", "p2") != 0)
        w->data[0] = '\0';
}

static inline void walkrun_close(walkrun *w)
{
    sg_test_rmtree(w->tmp);
    free(w->tmp);
}

/* Skips the test (with the reason) without libtorch or DSA data. */
#define WALKRUN_REQUIRE(w)                                                               \
    do {                                                                                 \
        SG_REQUIRE_TORCH();                                                              \
        SG_REQUIRE_DSA((w)->data);                                                       \
    } while (0)

#endif
