/* pretrain.h - `sensorgram pretrain DATA --out DIR`: self-supervised
 * pretraining of a ResNet on unlabelled sensor recordings, for
 * `train --pretrained DIR`.
 *
 * The default objective is SimCLR's (Chen et al. 2020; TS-TCC's contrastive
 * part for sensor data): two series augmentations of one segment
 * (rotations per body unit, scaling, shifts, crops, warps, jitter: the
 * --aug-* options, applied to the raw series before encoding) are a
 * positive pair, every other segment of the batch a negative; the
 * network's fc is the linear projection head, NT-Xent the loss.  Labels
 * are never read into the loss.  --objective masked instead hides time
 * spans of one view and fits their means (pretrain_mask.h).  Every sensor source works (--dataset
 * dsa, .ts, numpy, CSV), encoded with the --encoder stack the data will
 * be trained with.
 *
 * DIR holds weights.safetensors, or with --cv loso one file per subject,
 * without_S.safetensors, pretrained on every subject but S; pretrain.json
 * says what each file saw and how the loss went.  The held-out subject
 * is never seen: for --dataset dsa its folders are not even opened (the
 * fold's selection leaves them out, dsa_subjects_present lists subjects
 * with stat alone); for other sources its segments are dropped after
 * reading, before any encoder fit, normalisation or step.  Each file's
 * metadata lists the subjects it saw ("sensorgram.subjects"), and
 * `train` refuses a validation subject the weights saw
 * (job_pretrained_pick).
 */
#ifndef SG_PRETRAIN_H
#define SG_PRETRAIN_H

#include <stddef.h>

#include "src/train/job.h"
#include "src/train/job_data.h"
#include "src/train/split.h"

/* Files of a pretraining folder. */
#define SG_PRETRAIN_WEIGHTS "weights.safetensors"
#define SG_PRETRAIN_JSON "pretrain.json"
#define SG_PRETRAIN_METRICS "pretrain_metrics.csv"
/* The metadata key listing the subjects a file was pretrained on. */
#define SG_PRETRAIN_META_SUBJECTS "sensorgram.subjects"

/* --objective: job_opts.pretrain_objective (the CLI's choice order). */
enum { PRETRAIN_SIMCLR, PRETRAIN_MASKED };

/* The projection's size (the fc's outputs during pretraining). */
#define SG_PRETRAIN_PROJ_DIM 128

/* Runs the pretraining described above into o->out_dir.  Refuses a
 * folder that holds files unless o->overwrite; on failure removes what
 * it wrote. */
int job_pretrain(const job_opts *o);

/* The pretrained weights a training on d with split (NULL: no split)
 * starts from, given path as --pretrained resolved it: a pretraining
 * folder becomes its weights.safetensors or, for a fold that validates
 * on one subject S, its without_S.safetensors; then, where validation
 * holds out subjects (--cv loso, --valid-subjects), a file whose
 * metadata says it saw one of them is refused.  path is rewritten in
 * place; *sensor (may be NULL) says whether `pretrain` wrote the file. */
int job_pretrained_pick(char *path, size_t size, const job_data *d, const sg_split *split,
                        const job_opts *o, int *sensor);

#endif
