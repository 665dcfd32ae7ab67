/* ckpt_data.h - inputs prepared the way a checkpoint was trained, for
 * predict and eval: the checkpoint's encoder settings, fit and DSA
 * channel selection for sensor data, its classes for labels.
 *
 * Inputs may be image files, folders of images (class folders, a
 * manifest, or unlabelled files), a DSA root, or sensor segment files
 * (.txt/.csv, e.g. DSA's sKK.txt) and folders of them.
 */
#ifndef SG_CKPT_DATA_H
#define SG_CKPT_DATA_H

#include "cli_data.h"
#include "train_ckpt.h"

/* Loads inputs[0..n) for the checkpoint described by meta into out.
 * labelled = 1 (eval) requires every sample to carry a label among the
 * checkpoint's classes (matched by name); 0 (predict) keeps labels where
 * they are known and -1 elsewhere.  Class names of out are the
 * checkpoint's.  The caller owns out (cli_dataset_free). */
int ckpt_dataset_load(cli_dataset *out, const train_meta *meta, char *const *inputs, int n,
                      int labelled, const char *label_regex, int workers);

#endif
