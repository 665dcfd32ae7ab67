/* job_cv.h - `train --cv ... --cv-parallel`: whole folds per
 * rank (fold f on rank f mod world size), results gathered on every rank
 * so that rank 0 writes the usual cv table, predictions and figures.
 *
 * Each rank trains its folds as one process (no gradient all-reduce) and
 * writes that fold's folder, RUN/fold_F/ (checkpoints, and its own
 * metrics.csv); rank 0 then joins the folds' metrics.csv files in fold
 * order into RUN/metrics.csv.  So the run folder must be on a file
 * system every rank sees (one machine, or NFS/Lustre across machines).
 */
#ifndef SG_JOB_CV_H
#define SG_JOB_CV_H

#include <stddef.h>

#include "src/train/job_setup.h"
#include "models/sg_dist.h"

/* The rank that trains fold f. */
int job_cv_owner(const sg_dist *d, int fold);

/* Waits for every rank's folds (however long), then sums the fold
 * results over the ranks: each rank filled only the folds it owns. */
int job_cv_gather_folds(sg_dist *d, fold_result *folds, int n_folds);

/* The out-of-fold rows of all ranks, in fold order and, within a fold,
 * in the order its rank appended them (as one process would).  In:
 * this rank's *n rows (index, probs (n, k), fold); out: all rows, newly
 * allocated in place of the inputs (which are freed).  n_src: dataset
 * size (every sample is validated in at most one fold). */
int job_cv_gather_oof(sg_dist *d, size_t n_src, int k, size_t *n, size_t **index, float **probs,
                      int **fold);

/* RUN/metrics.csv from RUN/fold_F/metrics.csv, F = 0..n_folds-1 (header
 * once, rows in fold order), written atomically. */
int job_cv_merge_metrics(const char *run_dir, int n_folds);

#endif
