/* job.h - what one model command (train, eval, predict, lr-find,
 * features) asks of the engine: the request src/cli/ parses from argv and
 * the src/train/job_*.c stages read.
 *
 * The command line fills it (src/cli/: the option registry's defaults
 * and parser, the DSA recipe); nothing below src/cli/ parses argv.  The
 * *_given flags say what the user typed; src/cli/cli_common.c sets them
 * from the parser's record, in one place.  The raw encoder
 * options are kept as given (enc_args) because the engine builds the
 * encoders from them once it knows the data.
 */
#ifndef SG_JOB_H
#define SG_JOB_H

#include <stdint.h>

#include "datasets/dsa.h"
#include "datasets/dsa_magnitude.h"
#include "datasets/sensor_csv.h"
#include "datasets/series_augment.h"
#include "encoders/enc.h"
#include "models/sg_model.h"
#include "src/encode/enc_args.h"
#include "src/encode/enc_stack.h"

typedef struct aug_args {
    series_aug_params p;   /* starts at the defaults */
    const char *given;     /* the first --aug-* option given, or NULL */
    int tta;               /* --tta N (default 1: none) */
    double mixup, cutmix;  /* Beta alphas; 0: off (at most one of them is set) */
} aug_args;

typedef enum job_cv {
    JOB_CV_NONE,
    JOB_CV_LOSO,
    JOB_CV_KFOLD,
} job_cv;

/* Which CSV reading options were typed (job_opts.csv_given): eval and
 * predict read with the checkpoint's, overridden by these. */
enum {
    JOB_CSV_HEADER = 1 << 0,     /* --header / --no-header */
    JOB_CSV_DELIMITER = 1 << 1,
    JOB_CSV_LABEL = 1 << 2,      /* --label-from, --label-column, --label-regex, --label-first */
};

/* Members of one `train --member` ensemble, at most. */
#define JOB_MEMBERS_MAX 8

struct explain_input_fig;   /* src/train/explain.h */
struct explain_summary_fig;

typedef struct job_opts {
    /* data */
    const char *dataset;        /* "dsa" or NULL */
    const char *label_regex;
    int photos;                 /* read a manifest-less encode folder as photos */
    int on_error_skip;          /* --on-error skip: leave unreadable images out */
    const char *cmd;            /* the command's name (argv[0]), for messages */
    const char *units, *sensors, *axes, *subjects;
    sensor_csv_options csv;     /* CSV recordings (label_regex: the one above) */
    unsigned csv_given;         /* JOB_CSV_*: what of csv was typed */
    int layout_given;           /* --layout given: else chosen from the channels */
    enc_args enc_args;      /* raw encoder options; enc is built from them */
    enc_params enc;             /* the (first) encoder */
    enc_stack stack;            /* --encoder A+B+...: stacked as channels (n = 1: enc) */
    dsa_magnitude magnitude;    /* --magnitude add|only|off (DSA norm rows) */
    int max_length;             /* --max-length: 0 off, N, or SERIES_LENGTH_AUTO
                                 * (src/train/series_length.h) */
    /* split */
    double valid_pct;           /* default 0.2: of the subjects, or of the samples;
                                 * JOB_VALID_AUTO: by the set's size (job_budget.h) */
    int valid_pct_given;        /* --valid-pct given: a random split of samples */
    const char *valid_subjects; /* "7,8" */
    job_cv cv;
    int cv_k;
    /* model */
    sg_arch arch;
    int arch_given;             /* --arch given: eval/predict check the checkpoint's */
    const char *pretrained;     /* NULL = default resolution, "none" = random */
    int image_size;             /* model input side; 0 = the data's own size */
    const char *device;
    sg_precision precision;
    sg_cuda_graphs cuda_graphs;  /* --cuda-graphs (default auto) */
    int workers;                /* loader workers; default 2 */
    int threads;                /* libtorch CPU threads; 0 = job_torch_threads decides */
    uint64_t seed;
    /* train */
    int epochs;
    double lr;
    int batch_size;             /* 0: --bs auto (job_budget.h) */
    int train_steps;            /* --train-steps N: epochs from N optimizer steps; 0 off */
    double wd;
    sg_optim_kind opt;
    int pretrain_objective;     /* pretrain: PRETRAIN_SIMCLR or PRETRAIN_MASKED */
    double label_smoothing;
    int bn_recal;               /* batches for BatchNorm recalibration; 0 off */
    int freeze_epochs;          /* -1: 1 with pretrained weights, else 0 */
    int lr_spread;              /* -1: on with pretrained weights; 0 off, 1 on */
    int schedule_fastai;        /* 0: OneCycleLR, 1: fastai's variant */
    int augment;                /* -1 auto (photos on, sensors off), 0 off, 1 on */
    aug_args aug;           /* --aug-* (sensor series) and --tta (src/cli/cli_rows.c) */
    const char *triads;         /* --triads: NULL/"auto" from channel names, "none", or a list */
    const char *out_dir;
    int resume;
    int overwrite;              /* replace an earlier run in out_dir */
    const char *figure_format;
    /* Draws a run folder's figures (the command sets it to
     * fig_run_dir_draw: figures/ sits above the engine); NULL: none. */
    int (*draw_figures)(const char *run_dir, const char *format);
    const char *features;       /* "a.npy,b.npy": linear head on cached features */
    int progress;               /* 1 bar on a terminal, 0 off, -1 auto */
    int accumulate;             /* micro-batches per step (default 1) */
    /* data parallelism (job_dist.c); -1: from the environment */
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
    const char *members[JOB_MEMBERS_MAX]; /* --member OPTS: an ensemble (job_ensemble.h) */
    int n_members;
    int single;                 /* --single: no default ensemble */
    /* output */
    const char *output;
    int kaggle;
    double clip;
    int top_losses;
    int adapt_bn;               /* eval/predict --adapt-bn: BatchNorm statistics of the inputs */
    int tent;                   /* eval/predict --tent N: N entropy passes; N > 0 sets adapt_bn */
    const char *weights;        /* predict: bare weights file (models' path) */
    int no_normalize;
    /* explain (src/train/explain.h) */
    const char *layer;          /* --layer: Grad-CAM's layer; NULL: the last stage */
    int summary;                /* --summary: mean channel importance per true class */
    int gradcam;                /* --gradcam: Grad-CAM on a sensor model's encoded images too */
    int windows;                /* --windows N: time windows of the occlusion */
    /* explain's figures (the command sets them to figures/' fig_explain_*;
     * figures/ sits above the engine); NULL: none drawn. */
    int (*draw_explain_input)(const char *path, const char *format,
                              const struct explain_input_fig *f);
    int (*draw_explain_summary)(const char *path, const char *format,
                                const struct explain_summary_fig *f);
    /* lr-find */
    double start_lr, end_lr;
    int steps;
    /* positional arguments left after the options (borrowed from argv) */
    int n_args;
    char **args;
    /* the whole command line after "sensorgram" (argv[0] is the command;
     * borrowed): config.json's "argv", which RUN/report.html shows */
    int argc;
    char **argv;
} job_opts;

/* The number of loader workers and encoder workspaces to use. */
int job_workers(const job_opts *o);

/* libtorch CPU threads: --threads, else every core, divided among the
 * ranks a process group starts on this machine (torchrun's
 * LOCAL_WORLD_SIZE, else the group's size), at least 1.  The loader's
 * workers sleep while the network computes: on 2 cores with 2 workers,
 * 2 threads train the DSA single model at 202 images/s against 110 with
 * 1 (and the spectrogram member, the costliest to encode, at 145 against
 * 77), the loader waited for 0.2% of the run (docs/benchmarks.md). */
int job_torch_threads(const job_opts *o);

/* Draws run_dir's figures through o->draw_figures; a failure is a
 * warning on stderr (the run itself is whole), never an error. */
void job_draw_figures(const job_opts *o, const char *run_dir);

#endif
