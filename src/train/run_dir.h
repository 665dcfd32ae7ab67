/* run_dir.h - writers for the files a training run leaves in RUN_DIR.
 *
 * The formats are fixed by src/run_files.h (the contract with
 * `sensorgram figures`).  metrics.csv grows row by row while training
 * (appended and flushed after every row, so a crash loses at most the
 * row being written); every other file is written whole and atomically
 * (src/atomic_file.h).  Nothing here prints.
 */
#ifndef SG_RUN_DIR_H
#define SG_RUN_DIR_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Creates RUN_DIR and RUN_DIR/figures (mkdir -p). */
int run_dir_prepare(const char *dir);

/* Writes "dir/name" into buf; SG_E_INVALID when it does not fit. */
int run_dir_path(char *buf, size_t size, const char *dir, const char *name);

/* An open metrics.csv; owned by the caller, closed by run_metrics_close. */
typedef struct run_metrics run_metrics;

/* Opens dir/metrics.csv: a fresh file with the header (append = 0), or
 * the existing file for appending (append = 1, header written only when
 * the file is empty).  The caller owns *out. */
int run_metrics_open(run_metrics **out, const char *dir, int append);

/* Appends a "step" row (see run_files.h) and flushes. */
int run_metrics_step(run_metrics *m, int phase, int epoch, long step, double lr,
                     double momentum, double train_loss);

/* Appends an "epoch" row (see run_files.h) and flushes. */
int run_metrics_epoch(run_metrics *m, int phase, int epoch, long step, double train_loss,
                      double valid_loss, double accuracy, double log_loss, double seconds);

/* Closes the file, reporting a failed flush (disk full); accepts NULL. */
int run_metrics_close(run_metrics *m);

/* Rewrites dir/metrics.csv atomically, keeping only rows of phases
 * before `phase` and of epochs <= `epoch` within `phase` (so that a
 * resumed run does not repeat the steps of an unfinished epoch). */
int run_metrics_truncate(const char *dir, int phase, int epoch);

/* Writes config (borrowed) as indented JSON to dir/config.json atomically. */
int run_config_write(const char *dir, const json_t *config);

/* Reads dir/config.json; the caller owns *out (json_decref). */
int run_config_read(json_t **out, const char *dir);

/* Writes predictions.csv (run_files.h) atomically.  paths: n strings;
 * labels: n class indices (-1 = unknown, written empty, loss empty);
 * probs: (n, n_classes) softmax probabilities.  All borrowed. */
int run_predictions_write(const char *path, size_t n, const char *const *paths,
                          const int *labels, const float *probs, int n_classes,
                          const char *const *class_names);

/* One row of top_losses.csv. */
typedef struct run_top_loss {
    const char *image;  /* path as it will appear in the file (borrowed) */
    int label, pred;    /* class indices */
    double prob;        /* probability of pred */
    double loss;        /* the sample's cross-entropy */
} run_top_loss;

/* Writes top_losses.csv (rank from 1) atomically; rows borrowed. */
int run_top_losses_write(const char *path, const run_top_loss *rows, size_t n,
                         const char *const *class_names);

/* Writes confusion_matrix.csv atomically; counts is (k, k), rows = true
 * class, columns = predicted class.  Borrowed. */
int run_confusion_write(const char *path, const int64_t *counts, int k,
                        const char *const *class_names);

#endif
