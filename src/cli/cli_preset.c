/* cli_preset.c - the recipes as data: what `train`, `lr-find` and `pretrain` use
 * for --dataset dsa where the user left an option open (cli_registry.h).
 *
 * Each value is set as if typed, unless the option itself or one of the
 * options in `unless` was given: parsing records what was given, so the
 * order of options, defaults and recipe no longer matters.  The README's
 * subject-wise ablation (docs/accuracy.md) is the measurement behind each
 * value; photos keep the registry's defaults (ResNet34, 5 epochs, gray).
 */
#include "src/cli/cli_registry.h"

#include "datasets/sensor_csv.h"
#include "datasets/series_file.h"
#include "src/base/sg_error.h"
#include "src/train/job.h"

#include <string.h>

typedef struct preset_value {
    const char *name, *value;
    const char *unless[8]; /* options that leave this one to the user */
} preset_value;

/* One recipe: where it applies, and its values. */
typedef struct recipe {
    const char *when;                 /* for --help: "--dataset dsa" */
    int (*applies)(const job_opts *o);
    preset_value v[10];
    unsigned cmds;                    /* CLI_BIT(...) of the commands it is for */
} recipe;

#define TRAIN_CMDS (CLI_BIT(CLI_TRAIN) | CLI_BIT(CLI_LR_FIND))

static int is_dsa(const job_opts *o)
{
    return o->dataset && strcmp(o->dataset, "dsa") == 0;
}

/* DSA read by its accelerometers alone (--sensors acc as typed). */
static int is_dsa_acc(const job_opts *o)
{
    return is_dsa(o) && o->sensors && strcmp(o->sensors, "acc") == 0;
}

/* Cases in a .ts or numpy file (datasets/series_file.h) or CSV
 * recordings (datasets/sensor_csv.h), not DSA. */
static int is_series_file(const job_opts *o)
{
    return !o->dataset && !o->features && o->n_args == 1 &&
           (series_file_probe(o->args[0]) || sensor_csv_is_recordings(o->args[0]));
}

/* The series length where the data says it before reading: a .ts
 * header, an X.npy shape, CSV --window; 0 where it does not. */
static int series_length(const job_opts *o)
{
    int T = series_file_length(o->args[0]);
    return T > 0 ? T : o->csv.window;
}

/* Series at least this long get a spectrogram member (see below). */
#define SERIES_LONG 128

static int is_long_series(const job_opts *o)
{
    return is_series_file(o) && series_length(o) >= SERIES_LONG;
}

/* Recordings that say who wore the sensors (CSV --subject-column or
 * --subject-regex): the model must work on people it has not seen. */
static int is_series_with_subjects(const job_opts *o)
{
    return is_series_file(o) && (o->csv.subject_column || o->csv.subject_regex);
}

/* What leaves the representation of the default ensemble open. */
#define ENSEMBLE_UNLESS {"single", "features", "sensors", "encoder", "scope", "layout", "magnitude"}
/* The same for the accelerometer recipe, which --sensors acc chooses. */
#define ACC_ENSEMBLE_UNLESS {"single", "features", "encoder", "scope", "layout", "magnitude", "epochs"}
/* What chooses the validation instead of the recipe's folds. */
#define SPLIT_UNLESS {"cv", "valid-pct", "valid-subjects"}

/* The views of contrastive pretraining (pretrain.h): the training
 * augmentations plus what SimCLR's ablations found contrastive learning
 * needs, harder views (crops, warps, noise), since a pair of nearly equal
 * images teaches nothing. */
#define PRETRAIN_VIEWS                                                                             \
    {"aug-crop", "0.8", {NULL}}, {"aug-warp", "0.2", {NULL}}, {"aug-jitter", "0.05", {NULL}}

static const recipe recipes[] = {
    {
        /* the representation the DSA recipe trains, so that its weights
         * fit the default model as they are */
        "--dataset dsa",
        is_dsa,
        {
            {"sensors", "acc,gyro", {NULL}},
            {"arch", "resnet18", {NULL}},
            {"encoder", "gray+gray:scope=axis", {"scope"}},
            PRETRAIN_VIEWS,
        },
        CLI_BIT(CLI_PRETRAIN),
    },
    {
        ".ts/numpy/CSV",
        is_series_file,
        {
            {"arch", "resnet18", {NULL}},
            {"bs", "auto", {NULL}},
            {"max-length", "auto", {NULL}},
            PRETRAIN_VIEWS,
        },
        CLI_BIT(CLI_PRETRAIN),
    },
    {
        /* The article's input, accelerometers alone (15 axes): the stack
         * with the five units' norm rows |acc| (an orientation-free
         * reading of effort, +3.1 points LOSO on this input, -2.2 on
         * acc+gyro, so here only) and the plain stack at 5 epochs; their
         * mean, 90.4% LOSO against the one model's 86.1%
         * (docs/accuracy.md). */
        "--dataset dsa --sensors acc",
        is_dsa_acc,
        {
            {"arch", "resnet18", {NULL}},
            {"epochs", "3", {NULL}},
            {"encoder", "gray+gray:scope=axis", {"scope"}},
            /* --single (and any run that sets one of ACC_ENSEMBLE_UNLESS)
             * trains the stack alone, as before this recipe */
            {"member", "--magnitude add", ACC_ENSEMBLE_UNLESS},
            {"member", "--epochs 5", ACC_ENSEMBLE_UNLESS},
        },
        TRAIN_CMDS,
    },
    {
        "--dataset dsa",
        is_dsa,
        {
            /* accelerometers and gyroscopes: 30 axes */
            {"sensors", "acc,gyro", {NULL}},
            {"arch", "resnet18", {NULL}},
            {"epochs", "3", {NULL}},
            /* the rows scaled over the dataset (the gravity direction
             * postures need) and the same rows min-max scaled per segment
             * and axis (small motions such as an elevator starting, lost
             * under the range running sets) */
            {"encoder", "gray+gray:scope=axis", {"scope"}},
            /* train: an ensemble of five members (src/train/job_ensemble.h):
             * the single default above; the same stack over all 45 axes
             * with x, y, z as colours (the magnetometers tell the elevator
             * and treadmill classes apart, which acc+gyro confuse; rgb
             * trains 2.3x faster than 45 rows and scored as well); acc+gyro
             * gray (other errors again: it does not take some people's
             * sitting for lying); acc+gyro spectrograms (the frequency
             * content, blind to where in the 5 s a stride falls); the
             * spectrograms of all 45 axes (the best single model and the
             * best calibrated measured subject-wise, right on whole
             * person x activity blocks the others miss: the five 95.2%
             * LOSO against the four's 93.9%, for 28% more time). */
            {"member", "", ENSEMBLE_UNLESS},
            {"member", "--sensors acc,gyro,mag --layout rgb", ENSEMBLE_UNLESS},
            {"member", "--encoder gray", ENSEMBLE_UNLESS},
            {"member", "--encoder spectrogram", ENSEMBLE_UNLESS},
            {"member", "--sensors acc,gyro,mag --encoder spectrogram", ENSEMBLE_UNLESS},
        },
        TRAIN_CMDS,
    },
    {
        /* Anyone's recordings with subjects, for new people: DSA's lesson
         * rather than the archive's.  The step budget that suits a UEA
         * problem (whose test cases come from the same people) overfits
         * the training people: DSA read as CSV with the UEA values,
         * 22 epochs, scored 78.4% on a new subject, its validation loss
         * lowest after the first epoch (docs/accuracy.md).  So few passes
         * (3, as the DSA recipe; at least 200 steps, so a small set is
         * not starved) and the rows also scaled per segment and channel
         * (scope=axis: a new person's range differs); validation holds
         * out a fifth of the subjects. */
        "CSV with --subject-column/--subject-regex",
        is_series_with_subjects,
        {
            {"arch", "resnet18", {NULL}},
            {"bs", "auto", {NULL}},
            {"epochs", "3", {NULL}},
            {"train-steps", "200", {"epochs"}},
            {"valid-pct", "auto", SPLIT_UNLESS},
            {"encoder", "gray+gray:scope=axis", {"scope"}},
            {"max-length", "auto", {NULL}},
        },
        TRAIN_CMDS,
    },
    {
        /* Anyone's cases of at least SERIES_LONG samples, else as below:
         * the gray member and a spectrogram member, their mean.  A
         * spectrogram sees the rhythm of a long recording wherever it
         * falls (Epilepsy's wrist: 100% alone, against the rows' 94.9%);
         * in a short one it has a handful of frames and loses what the
         * rows show (NATOPS' 51 samples: 79.4% against 97.2%). */
        ".ts/numpy/CSV of T >= 128",
        is_long_series,
        {
            {"arch", "resnet18", {NULL}},
            {"bs", "auto", {NULL}},
            {"train-steps", "1500", {"epochs"}},
            {"valid-pct", "auto", SPLIT_UNLESS},
            {"max-length", "auto", {NULL}},
            {"member", "", ENSEMBLE_UNLESS},
            {"member", "--encoder spectrogram", ENSEMBLE_UNLESS},
        },
        TRAIN_CMDS,
    },
    {
        /* Anyone's cases, 40 of them or 40,000 (docs/accuracy.md, "UEA
         * problems read from .ts files"): a budget of optimizer steps
         * instead of epochs, batches sized to the set, and, up to 2,000
         * cases, all of them trained on (such a set comes with its test
         * set and cannot spare a fifth; five folds would not fit in
         * minutes); above, a validation split. */
        ".ts/numpy/CSV",
        is_series_file,
        {
            {"arch", "resnet18", {NULL}},
            {"bs", "auto", {NULL}},
            {"train-steps", "1500", {"epochs"}},
            {"valid-pct", "auto", SPLIT_UNLESS},
            {"max-length", "auto", {NULL}},
        },
        TRAIN_CMDS,
    },
};

enum { N_RECIPES = sizeof recipes / sizeof recipes[0] };
enum { N_VALUES = sizeof recipes[0].v / sizeof recipes[0].v[0] };


/* Recipes are for train, lr-find and pretrain, whose request is job_opts. */
static int recipe_cmd(cli_cmd cmd)
{
    return cmd == CLI_TRAIN || cmd == CLI_LR_FIND || cmd == CLI_PRETRAIN;
}

static int recipe_for(const recipe *r, cli_cmd cmd)
{
    return (r->cmds & CLI_BIT(cmd)) != 0;
}

int cli_preset_apply(cli_cmd cmd, void *req, const cli_given *g)
{
    if (!recipe_cmd(cmd))
        return SG_OK;
    for (int r = 0; r < N_RECIPES; r++) {
        if (!recipe_for(&recipes[r], cmd) || !recipes[r].applies(req))
            continue;
        for (int i = 0; i < N_VALUES && recipes[r].v[i].name; i++) {
            const preset_value *v = &recipes[r].v[i];
            const cli_opt *o = cli_opt_find(v->name, cmd);
            int open = o && !cli_given_has(g, v->name);
            for (int u = 0; open && v->unless[u]; u++)
                open = !cli_given_has(g, v->unless[u]);
            if (!open)
                continue;
            int rc = cli_opt_set(o, cmd, req, v->value);
            if (rc)
                return rc;
        }
        return SG_OK;
    }
    return SG_OK;
}

void cli_preset_text(char *buf, size_t size, const char *name, cli_cmd cmd)
{
    size_t len = 0;
    buf[0] = '\0';
    if (!recipe_cmd(cmd) || !cli_opt_find(name, cmd))
        return;
    for (int r = 0; r < N_RECIPES; r++) {
        const recipe *rp = &recipes[r];
        int n = 0, k = 0;
        if (!recipe_for(rp, cmd))
            continue;
        for (int i = 0; i < N_VALUES && rp->v[i].name; i++)
            n += strcmp(rp->v[i].name, name) == 0;
        for (int i = 0; i < N_VALUES && rp->v[i].name && len < size; i++) {
            if (strcmp(rp->v[i].name, name) != 0)
                continue;
            if (k++)
                len += (size_t)snprintf(buf + len, size - len, ", ");
            else
                len += (size_t)snprintf(buf + len, size - len, "%s%s: ", len ? "; " : "",
                                        rp->when);
            /* several values (the members) are quoted as typed; a flag
             * shows as on */
            if (len < size)
                len += (size_t)snprintf(buf + len, size - len, n > 1 ? "'%s'" : "%s",
                                        rp->v[i].value[0] || n > 1 ? rp->v[i].value : "on");
        }
    }
}
