/* ckpt_data.h - inputs prepared the way a checkpoint was trained, for
 * predict and eval: the checkpoint's encoder settings, fit and DSA
 * channel selection for sensor data, its classes for labels.
 *
 * Inputs may be image files, folders of images (class folders, a
 * manifest, or unlabelled files), a DSA root, or sensor segment files
 * (.txt/.csv, e.g. DSA's sKK.txt) and folders of them.  A checkpoint
 * trained on CSV recordings reads them with its own CSV options
 * (windows, columns, header, labels), overridden by the header,
 * delimiter and label options typed (o->csv_given); older checkpoints
 * read them with the defaults.
 */
#ifndef SG_CKPT_DATA_H
#define SG_CKPT_DATA_H

#include "src/train/adapt_bn.h"
#include "src/train/job_data.h"
#include "src/train/train_ckpt.h"

/* Loads inputs[0..n) for the checkpoint described by meta into out.
 * labelled = 1 (eval) requires every sample to carry a label among the
 * checkpoint's classes (matched by name); 0 (predict) keeps labels where
 * they are known and -1 elsewhere.  Class names of out are the
 * checkpoint's.  The caller owns out (job_data_free). */
int ckpt_dataset_load(job_data *out, const train_meta *meta, char *const *inputs, int n,
                      int labelled, const char *label_regex, const job_opts *o);

/* Encodes segments already in memory the way the checkpoint was trained
 * (its encoder or stack, their recorded fits), TAKING OWNERSHIP of *set
 * (freed on failure too): for explain's occluded copies of an input.
 * The set's channels must be the checkpoint's segment channels.  The
 * caller owns out (job_data_free). */
int ckpt_data_from_series(job_data *out, const train_meta *meta, sg_series_set *set,
                          int workers);

/* A checkpoint's class probabilities for every sample of a dataset. */
typedef struct ckpt_predictions {
    sg_model *model;
    train_meta meta;
    job_data data;
    size_t n;      /* samples */
    size_t *idx;   /* (n) 0..n-1, for the run_dir/metrics writers */
    float *probs;  /* (n, meta.n_classes) */
    double loss;   /* mean cross-entropy when every sample is labelled, else NAN */
    int adapted;          /* o->adapt_bn: predicted after adapt_bn.h's adaptation */
    adapt_bn_plan adapt;  /* then its groups (subjects) and where their statistics came from */
} ckpt_predictions;

/* Loads checkpoint ckpt (expect_arch as train_ckpt_load; device,
 * precision and threads from o), its inputs (as ckpt_dataset_load) and
 * predicts every sample with o's batch size, workers and progress; with
 * o->adapt_bn, each group of inputs (adapt_bn.h: per subject, else the
 * input set) after its BatchNorm statistics were recomputed on it.  On
 * success the caller owns r (ckpt_predictions_free); on failure r holds
 * nothing. */
int ckpt_predictions_run(ckpt_predictions *r, const job_opts *o, const char *ckpt,
                         int expect_arch, char *const *inputs, int n, int labelled,
                         const char *label_regex);

/* Frees what r owns. */
void ckpt_predictions_free(ckpt_predictions *r);

#endif
