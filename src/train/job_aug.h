/* job_aug.h - wiring the augmentation options (src/cli/cli_rows.c) into the
 * commands: series augmentation installed on a training dataset, written
 * to config.json, and --tta checked against a checkpoint before any data
 * is read.
 */
#ifndef SG_JOB_AUG_H
#define SG_JOB_AUG_H

#include <jansson.h>

#include "src/train/job_data.h"

/* Installs o's series augmentation on a training dataset d (sensor
 * series: sample_source_set_augment; --no-augment: none).  For an image
 * dataset an explicitly given --aug-* option is SG_E_INVALID; the
 * defaults are silently not applied there. */
int job_aug_install(job_data *d, const job_opts *o);

/* The series augmentation in effect on d as a new JSON object (null
 * when none; NULL out of memory), for config.json and the run
 * fingerprint (a resumed run must augment as it did). */
json_t *job_aug_json(const job_data *d);

/* Adds options.series_augment (the parameters in effect, or null when
 * none), options.mixup and options.cutmix to config (borrowed). */
int job_aug_config_add(json_t *config, const job_opts *o, const job_data *d);

/* --tta N > 1 with checkpoint ckpt: SG_E_INVALID when the checkpoint was
 * trained on image files rather than sensor series (nothing to shift in
 * time); unreadable checkpoints are left to the command to report. */
int job_tta_check(const job_opts *o, const char *ckpt);

#endif
