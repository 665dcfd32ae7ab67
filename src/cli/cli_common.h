/* cli_common.h - option parsing and data loading shared by train, eval,
 * predict, lr-find and features.
 *
 * One table of long options serves every model command; each command
 * says which groups it accepts (CLI_G_*), so an option given to the
 * wrong command is a usage error rather than silently ignored.  Values
 * are checked while parsing; errors come back through sg_fail as one
 * line naming the option.
 *
 * Data inputs (positional DATA):
 *   --dataset dsa ROOT    DSA segments, encoded in memory (--encoder ...)
 *   ROOT/manifest.csv     an encoded folder (`sensorgram encode`)
 *   ROOT/train, ROOT/valid  a given split of class folders
 *   ROOT/<class>/...      class folders; --label-regex for labels in names
 */
#ifndef SG_CLI_COMMON_H
#define SG_CLI_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "src/cli/cli_aug_opts.h"
#include "src/cli/cli_enc_opts.h"
#include "datasets/dsa.h"
#include "datasets/dsa_magnitude.h"
#include "encoders/enc.h"
#include "models/sg_model.h"

enum {
    CLI_G_DATA = 1 << 0,   /* --dataset, --label-regex, DSA selection, encoder */
    CLI_G_SPLIT = 1 << 1,  /* --valid-pct, --valid-subjects, --cv */
    CLI_G_MODEL = 1 << 2,  /* --arch, --pretrained, --image-size, --device, -j, --seed */
    CLI_G_TRAIN = 1 << 3,  /* --epochs, --lr, --bs, ... */
    CLI_G_OUTPUT = 1 << 4, /* -o, --kaggle, --clip, --top-losses */
    CLI_G_LRFIND = 1 << 5, /* --start-lr, --end-lr, --steps */
};

typedef enum cli_cv {
    CLI_CV_NONE,
    CLI_CV_LOSO,
    CLI_CV_KFOLD,
} cli_cv;

/* Members of one `train --member` ensemble, at most. */
#define CLI_MEMBERS_MAX 8

typedef struct cli_opts {
    /* data */
    const char *dataset;        /* "dsa" or NULL */
    const char *label_regex;
    int photos;                 /* read a manifest-less encode folder as photos */
    int on_error_skip;          /* --on-error skip: leave unreadable images out */
    const char *cmd;            /* the command's name (argv[0]), for messages */
    const char *units, *sensors, *axes, *subjects;
    int encoder_given;
    int layout_given;
    cli_enc_args enc_args;      /* raw encoder options; enc is built from them */
    enc_params enc;             /* the (first) encoder */
    enc_stack stack;            /* --encoder A+B+...: stacked as channels (n = 1: enc) */
    dsa_magnitude magnitude;    /* --magnitude add|only|off (DSA norm rows) */
    int magnitude_given;
    /* split */
    double valid_pct;           /* default 0.2: of the subjects, or of the samples */
    int valid_pct_given;        /* --valid-pct given: a random split of samples */
    const char *valid_subjects; /* "7,8" */
    cli_cv cv;
    int cv_k;
    /* model */
    sg_arch arch;
    int arch_given;
    int epochs_given;
    const char *pretrained;     /* NULL = default resolution, "none" = random */
    int image_size;             /* model input side; 0 = the data's own size */
    const char *device;
    sg_precision precision;
    sg_cuda_graphs cuda_graphs;  /* --cuda-graphs (default auto) */
    int workers;                /* loader workers; default 2 */
    int threads;                /* libtorch CPU threads; 0 = one per core */
    uint64_t seed;
    int seed_given;
    /* train */
    int epochs;
    double lr;
    int batch_size;
    double wd;
    sg_optim_kind opt;
    double label_smoothing;
    int bn_recal;               /* batches for BatchNorm recalibration; 0 off */
    int freeze_epochs;          /* -1: 1 with pretrained weights, else 0 */
    int schedule_fastai;        /* 0: OneCycleLR, 1: fastai's variant */
    int augment;                /* -1 auto (photos on, sensors off), 0 off, 1 on */
    cli_aug_args aug;           /* --aug-* (sensor series) and --tta (cli_aug_opts.h) */
    const char *out_dir;
    int resume;
    int overwrite;              /* replace an earlier run in out_dir */
    const char *figure_format;
    const char *features;       /* "a.npy,b.npy": linear head on cached features */
    int progress;               /* 1 bar on a terminal, 0 off, -1 auto */
    int accumulate;             /* micro-batches per step (default 1) */
    /* data parallelism (src/cli/cli_dist.c); -1: from the environment */
    const char *dist_url;       /* tcp://HOST:PORT */
    int rank, world_size;
    const char *dist_backend;
    double dist_timeout;        /* seconds */
    int dist_hash_log;
    int cv_parallel;            /* --cv-parallel: whole folds per rank */
    int sync_bn;                /* --sync-bn: SyncBatchNorm under a process group */
    int dist_overlap;           /* --dist-overlap: 1 on (default), 0 off */
    double ema;                 /* --ema decay; 0 off */
    int swa;                    /* --swa epochs; 0 off */
    int keep_folds;             /* --keep-folds: fold_N/model.safetensors */
    const char *members[CLI_MEMBERS_MAX]; /* --member OPTS: an ensemble (cli_ensemble.h) */
    int n_members;
    int single;                 /* --single: no default ensemble */
    /* output */
    const char *output;
    int kaggle;
    double clip;
    int top_losses;
    const char *weights;        /* predict: bare weights file (models' path) */
    int no_normalize;
    /* lr-find */
    double start_lr, end_lr;
    int steps;
    /* positional arguments left after the options (borrowed from argv) */
    int n_args;
    char **args;
} cli_opts;

/* Fills o with the documented defaults. */
void cli_opts_default(cli_opts *o);

/* The encoder stack `train` and `lr-find` use for DSA series when neither
 * --encoder nor --scope is given: the rows scaled over the dataset (the
 * gravity direction postures need) and the same rows min-max scaled per
 * segment and axis (small motions such as an elevator starting, lost
 * under the range running sets). */
#define CLI_SENSOR_ENCODER "gray+gray:scope=axis"

/* The defaults of `train` and `lr-find` for DSA sensor series, where the
 * user left them open: accelerometers and gyroscopes (30 axes), ResNet18,
 * 3 epochs and CLI_SENSOR_ENCODER.  The README's subject-wise ablation is the measurement behind
 * each; photos keep ResNet34 and 5 epochs.  Returns 0 or an
 * SG_E_* code with the message set. */
int cli_sensor_defaults(cli_opts *o);

/* Parses argv (argv[0] is the command's name) accepting the option
 * groups in `groups`.  Returns 0, 1 when --help was asked (usage has
 * been printed to stdout), or SG_E_INVALID with a message.  o borrows
 * strings from argv. */
int cli_parse(cli_opts *o, int argc, char **argv, unsigned groups, const char *usage);

/* A model command's exit status after a step that returned rc: 0 when rc
 * is 0, else `status` after printing "sensorgram CMD: <last error>" to
 * stderr. */
int cli_report(const char *cmd, int rc, int status);

/* Prints the option help of the given groups to f. */
void cli_print_options(FILE *f, unsigned groups);

/* The number of loader workers and encoder workspaces to use. */
int cli_workers(const cli_opts *o);

/* libtorch CPU threads: --threads, else the cores left beside the loader
 * workers (at least 1).  OpenMP threads spin while they wait, so sharing
 * cores with the loader or other processes can cost 10x in speed. */
int cli_torch_threads(const cli_opts *o);

#endif
