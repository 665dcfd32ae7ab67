/* job_input_check.h - every input image decoded once before training or
 * prediction starts, so that one unreadable file is reported up front
 * (all of them, not only the first) instead of failing inside epoch 0.
 *
 * --on-error fail (default): each bad file is listed on stderr and the
 * command stops with one summary error.  --on-error skip: the bad files
 * are listed as skipped and left out of the dataset.  The decode is the
 * full one the loader does (so truncated files are caught too), spread
 * over the loader's worker threads.
 */
#ifndef SG_JOB_INPUT_CHECK_H
#define SG_JOB_INPUT_CHECK_H

#include "src/train/job.h"
#include "src/train/sample_source.h"

/* Checks (and with o->on_error_skip prunes, together with the parallel
 * is_valid flags of a given split, which may be NULL) the images of s;
 * no-op for sensor data.  Prints the list under "sensorgram CMD:". */
int job_check_images(sample_source *s, unsigned char *is_valid, const job_opts *o);

#endif
