/* job_setup.h - the run-folder side of train/eval shared by the
 * commands: config.json contents, checkpoint metadata for sensor data,
 * validation outputs (predictions, confusion matrix, top losses with the
 * images the network saw) and the fold summary.
 */
#ifndef SG_JOB_SETUP_H
#define SG_JOB_SETUP_H

#include <jansson.h>
#include <stddef.h>

#include "src/train/job.h"
#include "src/train/job_data.h"
#include "src/train/train.h"
#include "src/train/train_ckpt.h"

typedef struct fold_result {
    int fold;
    int group;          /* LOSO: the held-out subject, else -1 */
    size_t n_train, n_valid;
    train_result r;
} fold_result;

/* Resolves --pretrained into path ("" = random init): NULL picks the
 * stored weights of --arch when `weights fetch` stored them, else random
 * init with a note on stderr (printed once: *noted). */
int job_resolve_pretrained(char *path, size_t size, const job_opts *o, const char *cmd,
                           int *noted);

/* Normalisation of spec: ImageNet statistics (the spec's defaults) with
 * pretrained weights, else the mean/std of (a sample of) idx; turns
 * spec->normalize on. */
int job_normalization(sg_transform_spec *spec, job_data *d, const size_t *idx, size_t n,
                      int pretrained, const job_opts *o);

/* Creates the network for the data (--arch, channels of spec, classes of
 * d) seeded with seed, loading pretrained weights when path is not "".
 * verbose: say what was loaded.  The caller owns *out. */
int job_model_create(sg_model **out, const job_opts *o, const sg_transform_spec *spec,
                     int n_classes, const char *pretrained, uint64_t seed, const char *cmd,
                     int verbose);

/* A new config.json object with the command, options and class names;
 * the caller owns *out (json_decref). */
int job_config_new(json_t **out, const job_opts *o, const job_data *d, const char *command);

/* Adds the model input (size, normalisation), pretrained weights and
 * encoder settings to config (borrowed). */
int job_config_add_model(json_t *config, const sg_transform_spec *spec, const char *pretrained,
                         const job_data *d, const train_meta *meta);

/* Fills meta's sensor part (encoder, fit as text, DSA selection) from a
 * series dataset; no-op for images.  tmp_dir: a writable folder. */
int job_meta_sensor(train_meta *meta, const job_data *d, const job_opts *o,
                    const char *tmp_dir);

/* Writes predictions.csv, confusion_matrix.csv and top_losses.csv (with
 * RUN_DIR/top_losses/NN.png drawn through spec, unnormalised) for the n
 * labelled samples index[] with probabilities probs (n, k), and adds
 * accuracy / log loss / macro F1 to config["results"]. */
int job_write_validation_outputs(const char *run_dir, job_data *d, const size_t *index,
                                 const float *probs, size_t n, int n_top,
                                 const sg_transform_spec *spec, json_t *config);

/* Prints per-fold rows and mean +- std (cross-validation) or the final
 * result, writes RUN_DIR/cv_folds.csv for CV, and adds "folds" to config. */
int job_report_folds(json_t *config, const fold_result *folds, int n_folds, const char *run_dir);

/* Prints the per-class precision / recall / F1 table of the n samples. */
void job_print_class_table(FILE *f, const job_data *d, const size_t *index,
                           const float *probs, size_t n);

#endif
