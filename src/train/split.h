/* split.h - train/validation splits and cross-validation folds.
 *
 * A split is two sorted arrays of dataset indices.  Random splits are
 * drawn from an explicit seed (rng.h), so the same seed gives the same
 * split on every machine.  sg_split_random follows fastai's
 * RandomSplitter: a random permutation, the first trunc(pct * n) indices
 * go to validation; it is NOT stratified (a class may be missing from a
 * small validation set).  sg_split_random_stratified applies the same
 * rule within each class instead.
 */
#ifndef SG_SPLIT_H
#define SG_SPLIT_H

#include <stddef.h>
#include <stdint.h>

typedef struct sg_split {
    size_t n_train, n_valid;
    size_t *train;   /* n_train sorted indices, owned */
    size_t *valid;   /* n_valid sorted indices, owned */
} sg_split;

/* Unstratified random split of 0..n-1 (fastai RandomSplitter); out is
 * owned by the caller (sg_split_free). */
int sg_split_random(sg_split *out, size_t n, double valid_pct, uint64_t seed);

/* Per-class random split: within each class (labels[i] >= 0),
 * trunc(pct * count) random members go to validation. */
int sg_split_random_stratified(sg_split *out, const int *labels, size_t n, double valid_pct,
                               uint64_t seed);

/* Subject-wise split: indices whose subject is in valid_subjects go to
 * validation; naming a subject that does not occur is an error. */
int sg_split_subjects(sg_split *out, const int *subjects, size_t n, const int *valid_subjects,
                      size_t n_valid_subjects);

/* Seeded subject-wise holdout: round(valid_frac * distinct subjects)
 * whole subjects (at least 1, at most all but one) go to validation, so
 * validation measures people the model has never seen.  *held receives
 * the sorted held-out subject ids (malloc'd, caller frees), *n_held their
 * count; out is owned by the caller. */
int sg_split_subjects_holdout(sg_split *out, int **held, size_t *n_held, const int *subjects,
                              size_t n, double valid_frac, uint64_t seed);

/* Sorted distinct subject ids (>= 0) into *out (malloc'd, caller frees);
 * *n_out receives the count.  Entries of -1 are an error (unknown). */
int sg_subjects_distinct(int **out, size_t *n_out, const int *subjects, size_t n);

/* Leave-one-subject-out fold `fold` (0-based, over the sorted distinct
 * subjects): that subject is validation, the rest train. */
int sg_split_loso(sg_split *out, const int *subjects, size_t n, size_t fold);

/* k-fold cross-validation: a seeded permutation of 0..n-1 cut into k
 * near-equal parts (sizes differ by at most 1, larger first like
 * sklearn's KFold); part `fold` is validation. */
int sg_split_kfold(sg_split *out, size_t n, int k, int fold, uint64_t seed);

/* From per-index flags (1 = validation), e.g. given train/valid folders. */
int sg_split_flags(sg_split *out, const unsigned char *is_valid, size_t n);

/* Parses "7,8" into a malloc'd int array (caller frees); the error names
 * the column of a bad entry. */
int sg_parse_int_list(int **out, size_t *n_out, const char *text);

/* Frees the split's arrays and zeroes it; accepts NULL. */
void sg_split_free(sg_split *s);

#endif
