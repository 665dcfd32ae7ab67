/* explain.h - `sensorgram explain CKPT|RUN INPUT... -o OUTDIR`: what made
 * a model (one checkpoint, or the mean of an ensemble's members) decide
 * as it did, for every input the model commands read.
 *
 * Sensor recordings (explain_occlude.c): occlusion on the raw series, so
 * it works for every encoder and stack.  Each channel, each body unit and
 * unit-sensor triad (where the channel names say: "T_acc_x" is unit T,
 * triad T_acc) and each time window in turn is replaced by a neutral
 * value, the segment is re-encoded the checkpoint's way and re-predicted,
 * and the importance is the drop of the predicted class's probability
 * (negative: hiding it made the prediction surer).  Ensembles: the mean
 * of the members' drops, which is the drop of the ensemble's mean
 * probability; a channel a member does not read drops nothing for it.
 * Files in OUTDIR: inputs.csv (input, label, pred, prob), channels.csv
 * (input, channel, importance: one row per input and channel, most
 * important first), groups.csv (input, group, importance) where channel
 * names give units, windows.csv (input, start, end, importance; samples
 * [start, end), most important first) and figures/NNNN_NAME.png per
 * input; with --summary instead of the per-input figures, summary.csv
 * (class, channel, importance, n) and summary.png, the mean channel
 * importance per true class.
 *
 * Images (explain_gradcam.c): Grad-CAM (Selvaraju et al. 2017) on the
 * last convolutional stage (--layer to choose another), overlaid on the
 * image the network saw: gradcam.csv (input, label, pred, prob, map) and
 * gradcam/NNNN_NAME.png (the overlay) and .npy (the map, (H, W) float32
 * in [0, 1] after division by its maximum, or all zeros).  A sensor
 * model's encoded images get it too with --gradcam.
 *
 * OUTDIR must be empty or missing; --overwrite replaces what is there.
 */
#ifndef SG_EXPLAIN_H
#define SG_EXPLAIN_H

#include <stddef.h>

#include "src/train/ckpt_ensemble.h"
#include "src/train/job.h"

/* One input's explanation, as the figure of explain draws it. */
typedef struct explain_input_fig {
    const char *input;              /* its name */
    const char *pred;               /* the predicted class */
    const char *truth;              /* the true class, or NULL */
    double p_pred;                  /* the predicted class's probability */
    int n_channels, n_samples;
    const double *series;           /* (n_channels, n_samples) raw values */
    const char *const *channel_names;
    const double *importance;       /* (n_channels) */
    const int *order;               /* (n_channels) channel indices, most important first */
    int n_windows;
    const int *win_start, *win_end; /* (n_windows) samples [start, end) */
    const double *win_importance;   /* (n_windows) */
} explain_input_fig;

/* The mean channel importance per true class over a data set. */
typedef struct explain_summary_fig {
    int n_classes;
    const char *const *class_names;
    int n_channels;
    const char *const *channel_names; /* in the data's order (DSA: unit, sensor, axis) */
    const double *mean;               /* (n_classes, n_channels) */
    const size_t *count;              /* (n_classes) inputs of each class */
} explain_summary_fig;

/* Runs explain for o->args = CKPT INPUTS... into o->output (required):
 * occlusion for a sensor checkpoint, Grad-CAM for an image one. */
int explain_run(const job_opts *o);

/* The occlusion explanation of a sensor checkpoint list (explain_occlude.c)
 * into out_dir, which exists and may be written. */
int explain_occlude_run(const job_opts *o, const ckpt_list *l, const char *out_dir);

/* Grad-CAM of a checkpoint list on its (encoded or decoded) input images
 * into out_dir/gradcam/ and out_dir/gradcam.csv (explain_gradcam.c). */
int explain_gradcam_run(const job_opts *o, const ckpt_list *l, const char *out_dir);

/* "0003_a01_p1_s01": a file name for input i of name (its last three
 * path components without the extension, characters other than
 * [A-Za-z0-9._-] as '_') into buf. */
void explain_file_stem(char *buf, size_t size, size_t i, const char *name);

#endif
