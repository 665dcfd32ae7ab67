/* adapt_bn.h - `eval`/`predict --adapt-bn`: a trained model's BatchNorm
 * statistics recomputed on the unlabelled inputs of a new wearer before
 * they are predicted (AdaBN, Li et al. 2016).
 *
 * A network trained on some people meets another person's recordings
 * shifted (a sensor worn rotated or looser, another gait): the features
 * its BatchNorm layers normalise no longer have the means and variances
 * stored in training.  AdaBN replaces those running statistics by the
 * ones of the new person's inputs, which are there at prediction time
 * without labels, and leaves every weight as trained.
 *
 * Groups: per subject when every input carries one (a DSA root), else the
 * whole input set of the command is one group.  A subject with fewer than
 * ADAPT_BN_MIN_SAMPLES inputs takes the statistics of the whole input set
 * instead (statistics of a handful of segments, often of one or two
 * activities, are noise); fewer than that in all, the checkpoint's own
 * statistics stay (no adaptation).  Each group starts from the trained
 * statistics, never from the previous group's.
 *
 * With --tent N (plan->tent_epochs), each group's statistics are followed
 * by N passes of test-time entropy minimisation on the BatchNorm scales
 * and shifts (adapt_tent.h) and then recomputed; everything the model
 * had is back when the command's predictions are made.
 */
#ifndef SG_ADAPT_BN_H
#define SG_ADAPT_BN_H

#include <stddef.h>
#include <stdio.h>

#include "models/sg_model.h"
#include "src/image/transform.h"
#include "src/train/loader.h"
#include "src/train/sample_source.h"

/* The fewest inputs whose statistics a group gets on its own: one batch
 * of the default --bs, and more than the 19 DSA activities. */
#define ADAPT_BN_MIN_SAMPLES 64

typedef enum adapt_bn_source {
    ADAPT_BN_SUBJECT,   /* the statistics of the subject's own inputs */
    ADAPT_BN_INPUT_SET, /* of every input (subjects unknown, or a subject too small) */
    ADAPT_BN_TRAINED,   /* the checkpoint's: fewer than ADAPT_BN_MIN_SAMPLES inputs in all */
} adapt_bn_source;

typedef struct adapt_bn_group {
    int subject;            /* -1: not known */
    adapt_bn_source source;
    size_t n;               /* inputs predicted with these statistics */
    size_t *idx;            /* (n) their sample indices, ascending, owned */
    double entropy_first;   /* --tent: mean entropy over the first pass, NAN without */
    double entropy_last;    /* and over the last */
} adapt_bn_group;

typedef struct adapt_bn_plan {
    int n_groups;
    adapt_bn_group *groups; /* subjects ascending; owned */
    size_t n_samples;       /* inputs in all */
    int tent_epochs;        /* --tent passes after the statistics; 0: AdaBN alone */
} adapt_bn_plan;

/* Groups samples 0..n-1 by group[i] (subject ids; NULL or any id < 0:
 * one group of every sample) into out, as the header says.  The caller
 * owns out (adapt_bn_plan_free). */
int adapt_bn_plan_make(adapt_bn_plan *out, const int *group, size_t n);

/* Frees what p owns; accepts a zeroed plan. */
void adapt_bn_plan_free(adapt_bn_plan *p);

/* "subject", "input_set", "trained": the words of eval's config.json. */
const char *adapt_bn_source_name(adapt_bn_source s);

/* Says on fp, in a line per group after "CMD: --adapt-bn: ", where each
 * group's BatchNorm statistics came from. */
void adapt_bn_plan_print(FILE *fp, const char *cmd, const adapt_bn_plan *p);

/* The loader both adaptations read a group with: samples idx[0..n) of
 * src, unaugmented through spec, shuffled by seed (the same order on
 * every run), batches of batch_size, the last dropped when drop_last.
 * The caller owns *out (sg_loader_free). */
int adapt_loader_create(sg_loader **out, sample_source *src, const size_t *idx, size_t n,
                        const sg_transform_spec *spec, size_t batch_size, int drop_last,
                        uint64_t seed, int workers);

/* Recomputes the running statistics of every BatchNorm layer of m from
 * samples idx[0..n) of src, read unaugmented through spec, shuffled
 * (deterministically) into near-equal batches of at most batch_size, in
 * training mode without gradients (sg_model_bn_recalibrate_begin/_end:
 * a plain average over the batches).  Only running_mean, running_var and
 * num_batches_tracked change; m is left in eval mode. */
int adapt_bn_stats(sg_model *m, sample_source *src, const size_t *idx, size_t n,
                   const sg_transform_spec *spec, int batch_size, int workers);

/* The BatchNorm buffers of a model (running_mean, running_var,
 * num_batches_tracked), to put the trained statistics back. */
typedef struct adapt_bn_saved {
    int n;
    char **names;   /* (n) owned copies */
    float **values; /* (n) owned */
    size_t *numel;  /* (n) */
} adapt_bn_saved;

/* Copies m's BatchNorm buffers into out (caller owns: adapt_bn_saved_free). */
int adapt_bn_save(adapt_bn_saved *out, const sg_model *m);

/* Writes the saved buffers back into m. */
int adapt_bn_restore(sg_model *m, const adapt_bn_saved *s);

/* Frees what s owns; accepts a zeroed one. */
void adapt_bn_saved_free(adapt_bn_saved *s);

/* train_predict_tta (predict_tta.h) over every sample of src, each group
 * of plan predicted after adapt_bn_stats on its statistics' samples (its
 * own, or the whole input set) and, with plan->tent_epochs, adapt_tent
 * and the statistics again (the groups' entropies are written to plan);
 * m's trained tensors are back when it returns.  probs is (src->n,
 * n_classes) in sample order; *mean_loss as train_predict_tta's. */
int adapt_bn_predict(float *probs, double *mean_loss, sg_model *m, sample_source *src,
                     adapt_bn_plan *plan, const sg_transform_spec *spec, int n_classes,
                     int batch_size, int workers, int progress, int n_shifts);

#endif
