/* job_fingerprint.h - what defines a training run, so that --resume
 * continues the same run and nothing else.
 *
 * The fingerprint is a JSON object stored in the checkpoint's metadata
 * ("run"): the data source and its fingerprint (sample count and the
 * SHA-256 of the sorted "name<TAB>class" list, names relative to DATA),
 * the classes, the model input (channels, height, width), architecture,
 * encoder, and the optimizer and schedule settings (lr, wd, opt, bs,
 * seed, epochs, freeze epochs, schedule, label smoothing, augmentation).
 * --resume compares the stored one with today's, before any step, and
 * refuses a mismatch naming the field.
 */
#ifndef SG_JOB_FINGERPRINT_H
#define SG_JOB_FINGERPRINT_H

#include <jansson.h>

#include "src/train/job.h"
#include "src/train/job_data.h"
#include "src/image/transform.h"

/* The fingerprint of training d with o into spec's input, as compact
 * JSON text; the caller frees *out. */
int job_fingerprint(char **out, const job_data *d, const job_opts *o,
                        const sg_transform_spec *spec, int freeze_epochs);

/* SG_E_INVALID naming the first field where the checkpoint's stored
 * fingerprint (text, may be NULL for checkpoints without one: passes)
 * differs from today's. */
int job_fingerprint_compare(const char *stored, const char *now, const char *ckpt);

#endif
