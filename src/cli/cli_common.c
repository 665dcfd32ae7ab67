/* cli_common.c - the model commands' shared options (see cli_common.h).
 *
 * Numbers are parsed strictly (the whole argument must be a number in
 * range), because a typo such as `--lr 1e-3x` silently training with a
 * different rate costs hours.
 */
#include "src/cli/cli_common.h"
#include "src/cli/cli_number.h"

#include "figures/fig.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_DATASET = 1000, OPT_MAGNITUDE, OPT_LABEL_REGEX, OPT_UNITS, OPT_SENSORS, OPT_AXES, OPT_SUBJECTS,
    OPT_VALID_PCT, OPT_VALID_SUBJECTS, OPT_CV,
    OPT_ARCH, OPT_PRETRAINED, OPT_IMAGE_SIZE, OPT_DEVICE, OPT_MIXED, OPT_CUDA_GRAPHS, OPT_WORKERS,
    OPT_THREADS, OPT_SEED,
    OPT_EPOCHS, OPT_LR, OPT_BS, OPT_WD, OPT_OPT, OPT_LABEL_SMOOTHING, OPT_BN_RECAL, OPT_FREEZE_EPOCHS,
    OPT_SCHEDULE, OPT_AUGMENT, OPT_NO_AUGMENT, OPT_OUT, OPT_RESUME, OPT_OVERWRITE, OPT_PHOTOS, OPT_ON_ERROR,
    OPT_FIGURE_FORMAT, OPT_FEATURES,
    OPT_NO_PROGRESS, OPT_ACCUMULATE, OPT_DIST_URL, OPT_RANK, OPT_WORLD_SIZE, OPT_DIST_BACKEND,
    OPT_DIST_TIMEOUT, OPT_DIST_HASH_LOG, OPT_CV_PARALLEL, OPT_SYNC_BN, OPT_DIST_OVERLAP,
    OPT_OUTPUT, OPT_KAGGLE, OPT_CLIP, OPT_TOP_LOSSES, OPT_WEIGHTS, OPT_NO_NORMALIZE,
    OPT_START_LR, OPT_END_LR, OPT_STEPS,
    OPT_EMA, OPT_SWA, OPT_KEEP_FOLDS, OPT_MEMBER, OPT_SINGLE,
    OPT_HELP,
};

struct opt_def {
    struct option opt;
    unsigned group;
    const char *help;
    const char *not_for; /* commands of the group it does not apply to ("eval") */
};

static const struct opt_def opt_defs[] = {
    {{"dataset", required_argument, 0, OPT_DATASET}, CLI_G_DATA,
     "NAME      'dsa': DATA is a Daily and Sports Activities root, encoded in memory", "eval"},
    {{"label-regex", required_argument, 0, OPT_LABEL_REGEX}, CLI_G_DATA,
     "RE    labels = first capture group of RE on file names ('^([a-z]+)\\.')", NULL},
    {{"photos", no_argument, 0, OPT_PHOTOS}, CLI_G_DATA,
     "           read DATA as photo class folders even if an unfinished encode left it", NULL},
    {{"units", required_argument, 0, OPT_UNITS}, CLI_G_DATA,
     "LIST        DSA units: T,RA,LA,RL,LL (default all)", "eval"},
    {{"sensors", required_argument, 0, OPT_SENSORS}, CLI_G_DATA,
     "LIST      DSA sensors: acc,gyro,mag (default all; train --dataset dsa:\n"
     "                     acc,gyro)", "eval"},
    {{"axes", required_argument, 0, OPT_AXES}, CLI_G_DATA,
     "LIST         DSA axes: x,y,z (default all)", "eval"},
    {{"subjects", required_argument, 0, OPT_SUBJECTS}, CLI_G_DATA,
     "LIST     DSA subjects to read (default all found)", "eval"},
    {{"magnitude", required_argument, 0, OPT_MAGNITUDE}, CLI_G_DATA,
     "M       DSA: add|only|off rotation-invariant norm rows sqrt(x^2+y^2+z^2) per\n"
     "                     unit and sensor, after the axes (add), instead of them (only)\n"
     "                     (default off)", "eval"},
    {{"encoder", required_argument, 0, CLI_ENC_OPT_ENCODER}, CLI_G_DATA,
     "NAME      gray|rp|jrp|gasf|gadf|mtf|spectrogram (default gray; train\n"
     "                     --dataset dsa: gray+gray:scope=axis), or several\n"
     "                     joined by '+' (gray+gasf+rp): stacked as channels at the first\n"
     "                     one's size (others resized bilinearly), each mapped to [0,1];\n"
     "                     an element may set its own options: gray+gray:scope=axis", "eval"},
    {{"layout", required_argument, 0, CLI_ENC_OPT_LAYOUT}, CLI_G_DATA,
     "NAME       channels|mosaic|rgb (default: rgb for x,y,z triples, else mosaic)", "eval"},
    {{"enc-size", required_argument, 0, CLI_ENC_OPT_IMAGE_SIZE}, CLI_G_DATA,
     "N|F      gasf/gadf/mtf image side: pixels or a fraction of T (encode's --image-size)",
     "eval"},
    {{"sample-range", required_argument, 0, CLI_ENC_OPT_SAMPLE_RANGE}, CLI_G_DATA,
     "LO,HI|none  gasf/gadf (default -1,1)", "eval"},
    {{"overlapping", no_argument, 0, CLI_ENC_OPT_OVERLAPPING}, CLI_G_DATA,
     "        gasf/gadf/mtf: overlapping PAA windows", "eval"},
    {{"n-bins", required_argument, 0, CLI_ENC_OPT_N_BINS}, CLI_G_DATA,
     "N            mtf bins (default 5; also --bins)", "eval"},
    {{"bins", required_argument, 0, CLI_ENC_OPT_N_BINS}, CLI_G_DATA,
     "N              same as --n-bins", "eval"},
    {{"strategy", required_argument, 0, CLI_ENC_OPT_STRATEGY}, CLI_G_DATA,
     "NAME     mtf: quantile|uniform|normal (default quantile)", "eval"},
    {{"mtf-fitted", no_argument, 0, CLI_ENC_OPT_MTF_FITTED}, CLI_G_DATA,
     "         mtf: bin edges fitted per channel on the training data", "eval"},
    {{"dimension", required_argument, 0, CLI_ENC_OPT_DIMENSION}, CLI_G_DATA,
     "N         rp/jrp embedding dimension (default 1)", "eval"},
    {{"time-delay", required_argument, 0, CLI_ENC_OPT_TIME_DELAY}, CLI_G_DATA,
     "N        rp/jrp time delay (default 1)", "eval"},
    {{"threshold", required_argument, 0, CLI_ENC_OPT_THRESHOLD}, CLI_G_DATA,
     "T         rp/jrp: none|point|distance|VALUE (default none)", "eval"},
    {{"percentage", required_argument, 0, CLI_ENC_OPT_PERCENTAGE}, CLI_G_DATA,
     "P        rp/jrp percentage (default 10)", "eval"},
    {{"window-length", required_argument, 0, CLI_ENC_OPT_WINDOW_LENGTH}, CLI_G_DATA,
     "N     spectrogram window (samples, default 32)", "eval"},
    {{"hop", required_argument, 0, CLI_ENC_OPT_HOP}, CLI_G_DATA,
     "N               spectrogram hop (samples, default 4)", "eval"},
    {{"stft-window", required_argument, 0, CLI_ENC_OPT_STFT_WINDOW}, CLI_G_DATA,
     "NAME  spectrogram window: hann|hamming|blackman|rect (also --window)", "eval"},
    {{"window", required_argument, 0, CLI_ENC_OPT_STFT_WINDOW}, CLI_G_DATA,
     "NAME       same as --stft-window", "eval"},
    {{"no-log", no_argument, 0, CLI_ENC_OPT_NO_LOG}, CLI_G_DATA,
     "             spectrogram: linear magnitude instead of dB", "eval"},
    {{"scope", required_argument, 0, CLI_ENC_OPT_SCOPE}, CLI_G_DATA,
     "NAME        gray scaling: dataset|segment|axis (default dataset)", "eval"},
    {{"valid-pct", required_argument, 0, OPT_VALID_PCT}, CLI_G_SPLIT,
     "F       random validation fraction of the samples (default: whole\n"
     "                     subjects held out, about 0.2 of them, where samples carry subjects)", NULL},
    {{"valid-subjects", required_argument, 0, OPT_VALID_SUBJECTS}, CLI_G_SPLIT,
     "LIST  subjects held out for validation ('7,8')", NULL},
    {{"cv", required_argument, 0, OPT_CV}, CLI_G_SPLIT,
     "loso|kfold:K     cross-validation: every fold trained and evaluated", NULL},
    {{"arch", required_argument, 0, OPT_ARCH}, CLI_G_MODEL,
     "NAME         resnet18|resnet34|resnet50 (default resnet34; sensor\n"
     "                     series: resnet18)", NULL},
    {{"pretrained", required_argument, 0, OPT_PRETRAINED}, CLI_G_MODEL,
     "W      weights NAME, PATH or none (default: stored resnet weights, else none)",
     "eval predict"},
    {{"image-size", required_argument, 0, OPT_IMAGE_SIZE}, CLI_G_MODEL,
     "N      model input side (default: the images' own size)", "eval predict"},
    {{"device", required_argument, 0, OPT_DEVICE}, CLI_G_MODEL,
     "D          auto|cpu|cuda|cuda:N (default auto)", NULL},
    {{"mixed-precision", optional_argument, 0, OPT_MIXED}, CLI_G_MODEL,
     "[=bf16|fp16]  CUDA autocast", NULL},
    {{"cuda-graphs", required_argument, 0, OPT_CUDA_GRAPHS}, CLI_G_MODEL,
     "M     auto|on|off: training steps as CUDA graph replays (default auto: on CUDA)",
     "eval predict"},
    {{"workers", required_argument, 0, OPT_WORKERS}, CLI_G_MODEL,
     "N, -j N    loader threads (default 2)", NULL},
    {{"threads", required_argument, 0, OPT_THREADS}, CLI_G_MODEL,
     "N  libtorch CPU threads (default: cores left beside the loader workers)", NULL},
    {{"on-error", required_argument, 0, OPT_ON_ERROR}, CLI_G_MODEL,
     "fail|skip  unreadable images: stop listing them (default) or leave them out", NULL},
    {{"seed", required_argument, 0, OPT_SEED}, CLI_G_MODEL,
     "S            random seed (default 42): same seed, same run on CPU", "eval predict"},
    {{"epochs", required_argument, 0, OPT_EPOCHS}, CLI_G_TRAIN,
     "N          epochs after the frozen phase (default 5; sensor series: 3)", NULL},
    {{"lr", required_argument, 0, OPT_LR}, CLI_G_TRAIN,
     "LR             peak learning rate (default 1e-3)", NULL},
    {{"bs", required_argument, 0, OPT_BS}, CLI_G_TRAIN,
     "N              batch size (default 64)", NULL},
    {{"wd", required_argument, 0, OPT_WD}, CLI_G_TRAIN,
     "W              weight decay (default 0.01)", NULL},
    {{"opt", required_argument, 0, OPT_OPT}, CLI_G_TRAIN,
     "NAME          adamw|sgd (default adamw)", NULL},
    {{"label-smoothing", required_argument, 0, OPT_LABEL_SMOOTHING}, CLI_G_TRAIN,
     "E  label smoothing of the training loss (default 0)", NULL},
    {{"bn-recal", required_argument, 0, OPT_BN_RECAL}, CLI_G_TRAIN,
     "N         BatchNorm statistics recomputed from N training batches before\n"
     "                     each validation (default 20; 0: off, the running averages)", NULL},
    {{"freeze-epochs", required_argument, 0, OPT_FREEZE_EPOCHS}, CLI_G_TRAIN,
     "N   head-only epochs first (default 1 with pretrained weights, else 0)", NULL},
    {{"schedule", required_argument, 0, OPT_SCHEDULE}, CLI_G_TRAIN,
     "NAME     onecycle|fastai (default onecycle)", NULL},
    {{"augment", no_argument, 0, OPT_AUGMENT}, CLI_G_TRAIN,
     "            augmentation also for sensor images (small shifts; never flips)", NULL},
    {{"no-augment", no_argument, 0, OPT_NO_AUGMENT}, CLI_G_TRAIN,
     "         no random crops/flips for photos, no --aug-* for sensor series", NULL},
    {{"aug-rotate", required_argument, 0, CLI_AUG_OPT_ROTATE}, CLI_G_TRAIN,
     "DEG   sensor series: random rotation per body unit, max angle (default 10; 0 off)",
     NULL},
    {{"aug-scale", required_argument, 0, CLI_AUG_OPT_SCALE}, CLI_G_TRAIN,
     "S      sensor series: one factor N(1, S) per sensor (default 0.1; 0 off)", NULL},
    {{"aug-shift", required_argument, 0, CLI_AUG_OPT_SHIFT}, CLI_G_TRAIN,
     "N      sensor series: circular time shift by up to N samples (default 8; 0 off)", NULL},
    {{"aug-crop", required_argument, 0, CLI_AUG_OPT_CROP}, CLI_G_TRAIN,
     "F       sensor series: random crop of >= F of T, resized back (default 1: off)", NULL},
    {{"aug-warp", required_argument, 0, CLI_AUG_OPT_WARP}, CLI_G_TRAIN,
     "S       sensor series: smooth time warp, speed sigma S (default 0: off; try 0.2)", NULL},
    {{"aug-jitter", required_argument, 0, CLI_AUG_OPT_JITTER}, CLI_G_TRAIN,
     "S     sensor series: noise of S x each channel's std (default 0: off)", NULL},
    {{"aug-remount", required_argument, 0, CLI_AUG_OPT_REMOUNT}, CLI_G_TRAIN,
     "P    sensor series: with probability P per body unit, any orientation of\n"
     "                     the unit (worn the other way round; default 0.1; 0 off)", NULL},
    {{"mixup", required_argument, 0, CLI_AUG_OPT_MIXUP}, CLI_G_TRAIN,
     "ALPHA      mix training images and labels, Beta(ALPHA, ALPHA) (default 0: off; try 0.4)",
     "lr-find"},
    {{"cutmix", required_argument, 0, CLI_AUG_OPT_CUTMIX}, CLI_G_TRAIN,
     "ALPHA     paste a box of another training image, labels by area (default 0: off)",
     "lr-find"},
    {{"tta", required_argument, 0, CLI_AUG_OPT_TTA}, CLI_G_OUTPUT,
     "N            sensor series: mean probabilities over N time shifts (default 1: none)",
     NULL},
    {{"out", required_argument, 0, OPT_OUT}, CLI_G_TRAIN,
     "RUN_DIR       where the run's files go (default runs/last)", NULL},
    {{"resume", no_argument, 0, OPT_RESUME}, CLI_G_TRAIN,
     "             continue RUN_DIR from last.safetensors", NULL},
    {{"overwrite", no_argument, 0, OPT_OVERWRITE}, CLI_G_TRAIN,
     "          replace the earlier run in RUN_DIR (only its own files)", NULL},
    {{"figure-format", required_argument, 0, OPT_FIGURE_FORMAT}, CLI_G_TRAIN | CLI_G_OUTPUT,
     "F  png|svg|pdf (default png)", "predict"},
    {{"accumulate", required_argument, 0, OPT_ACCUMULATE}, CLI_G_TRAIN,
     "K      one step = K micro-batches of --bs (one process; = K ranks of --bs)", NULL},
    {{"dist-url", required_argument, 0, OPT_DIST_URL}, CLI_G_TRAIN,
     "URL      tcp://HOST:PORT of rank 0 (default: MASTER_ADDR/MASTER_PORT)", NULL},
    {{"rank", required_argument, 0, OPT_RANK}, CLI_G_TRAIN,
     "R            this process's rank (default: RANK or SLURM_PROCID)", NULL},
    {{"world-size", required_argument, 0, OPT_WORLD_SIZE}, CLI_G_TRAIN,
     "N      ranks in all (default: WORLD_SIZE or SLURM_NTASKS)", NULL},
    {{"dist-backend", required_argument, 0, OPT_DIST_BACKEND}, CLI_G_TRAIN,
     "B    gloo|nccl|auto (default auto: nccl on CUDA when built with it, else gloo)", NULL},
    {{"dist-timeout", required_argument, 0, OPT_DIST_TIMEOUT}, CLI_G_TRAIN,
     "S    seconds a collective may wait for a rank (default 300)", NULL},
    {{"sync-bn", no_argument, 0, OPT_SYNC_BN}, CLI_G_TRAIN,
     "           with several ranks: BatchNorm statistics over the whole batch of all\n"
     "                     ranks (SyncBatchNorm; default: each rank's own, as DDP)", NULL},
    {{"dist-overlap", required_argument, 0, OPT_DIST_OVERLAP}, CLI_G_TRAIN,
     "on|off  gradient all-reduce during backward (on, default) or after it", NULL},
    {{"cv-parallel", no_argument, 0, OPT_CV_PARALLEL}, CLI_G_TRAIN,
     "       with --cv and several ranks: fold f on rank f mod world size", NULL},
    {{"ema", required_argument, 0, OPT_EMA}, CLI_G_TRAIN,
     "D              validate and keep the exponential moving average of the weights,\n"
     "                     updated after every step with decay D in (0, 1] (e.g. 0.999)",
     "lr-find features"},
    {{"swa", required_argument, 0, OPT_SWA}, CLI_G_TRAIN,
     "E              validate and keep the mean weights of the last E epochs",
     "lr-find features"},
    {{"keep-folds", no_argument, 0, OPT_KEEP_FOLDS}, CLI_G_TRAIN,
     "        with --cv: each fold's final model in RUN_DIR/fold_N/model.safetensors\n"
     "                     (an ensemble for eval/predict RUN_DIR)", "lr-find features"},
    {{"member", required_argument, 0, OPT_MEMBER}, CLI_G_TRAIN,
     "OPTS        train an ensemble: one member per --member, each the other options\n"
     "                     plus OPTS (e.g. --member '' --member '--encoder gasf'), in\n"
     "                     RUN_DIR/member_N/; RUN_DIR gets their mean probabilities (default\n"
     "                     for --dataset dsa with --sensors, --encoder, --scope, --layout and\n"
     "                     --magnitude left open: '', '--sensors acc,gyro,mag --layout rgb',\n"
     "                     '--encoder gray', '--encoder spectrogram')", "lr-find features"},
    {{"single", no_argument, 0, OPT_SINGLE}, CLI_G_TRAIN,
     "            --dataset dsa: train the default ensemble's first member alone", "lr-find features"},
    {{"dist-hash-log", no_argument, 0, OPT_DIST_HASH_LOG}, CLI_G_TRAIN,
     "     every rank prints its weights' hash after each epoch", NULL},
    {{"features", required_argument, 0, OPT_FEATURES}, CLI_G_TRAIN,
     "A.npy,B.npy  train a linear head on cached features", NULL},
    {{"no-progress", no_argument, 0, OPT_NO_PROGRESS}, CLI_G_TRAIN | CLI_G_OUTPUT | CLI_G_LRFIND,
     "        no progress bar", NULL},
    {{"output", required_argument, 0, OPT_OUTPUT}, CLI_G_OUTPUT,
     "PATH, -o PATH  output file or folder", NULL},
    {{"kaggle", no_argument, 0, OPT_KAGGLE}, CLI_G_OUTPUT,
     "             predict: id,label with P(class 1) (dog)", "eval"},
    {{"clip", required_argument, 0, OPT_CLIP}, CLI_G_OUTPUT,
     "P            --kaggle clipping to [P, 1-P] (default 0.005)", "eval"},
    {{"top-losses", required_argument, 0, OPT_TOP_LOSSES}, CLI_G_OUTPUT | CLI_G_TRAIN,
     "N      highest-loss samples kept (default 16)", "predict"},
    {{"weights", required_argument, 0, OPT_WEIGHTS}, CLI_G_OUTPUT,
     "PATH      predict with bare weights", "eval"},
    {{"no-normalize", no_argument, 0, OPT_NO_NORMALIZE}, CLI_G_OUTPUT,
     "       predict --weights: skip ImageNet normalisation", "eval"},
    {{"start-lr", required_argument, 0, OPT_START_LR}, CLI_G_LRFIND,
     "LR       range start (default 1e-7)", NULL},
    {{"end-lr", required_argument, 0, OPT_END_LR}, CLI_G_LRFIND,
     "LR         range end (default 10)", NULL},
    {{"steps", required_argument, 0, OPT_STEPS}, CLI_G_LRFIND,
     "N           range steps (default 100)", NULL},
};

enum { N_OPT_DEFS = sizeof opt_defs / sizeof opt_defs[0] };

void cli_opts_default(job_opts *o)
{
    memset(o, 0, sizeof *o);
    o->draw_figures = fig_run_dir_draw;
    enc_params_default(&o->enc, ENC_GRAY);
    enc_stack_single(&o->stack, &o->enc);
    o->valid_pct = 0.2;
    o->arch = SG_ARCH_RESNET34;
    o->device = "auto";
    o->precision = SG_PRECISION_FP32;
    o->cuda_graphs = SG_CUDA_GRAPHS_AUTO;
    o->workers = 2;
    o->seed = 42;
    o->epochs = 5;
    o->lr = 1e-3;
    o->batch_size = 64;
    o->wd = 0.01;
    o->bn_recal = 20;
    o->opt = SG_OPTIM_ADAMW;
    o->freeze_epochs = -1;
    o->augment = -1;
    aug_args_default(&o->aug);
    o->out_dir = "runs/last";
    o->figure_format = "png";
    o->progress = -1;
    o->clip = 0.005;
    o->top_losses = 16;
    o->start_lr = 1e-7;
    o->end_lr = 10.0;
    o->steps = 100;
    o->accumulate = 1;
    o->rank = -1;
    o->world_size = -1;
    o->dist_timeout = 300.0;
    o->dist_overlap = 1;
}

/* Whether option def applies to command cmd (NULL: any) of its groups. */
static int applies(const struct opt_def *def, unsigned groups, const char *cmd)
{
    if (!(def->group & groups))
        return 0;
    if (!cmd || !def->not_for)
        return 1;
    size_t len = strlen(cmd);
    for (const char *p = def->not_for; (p = strstr(p, cmd)) != NULL; p += len)
        if ((p == def->not_for || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
            return 0;
    return 1;
}

static void print_options(FILE *f, unsigned groups, const char *cmd)
{
    for (int i = 0; i < N_OPT_DEFS; i++) {
        if (!applies(&opt_defs[i], groups, cmd))
            continue;
        /* help is "ARG   description" (ARG may be empty): align the columns. */
        const char *h = opt_defs[i].help;
        const char *gap = strstr(h, "  ");
        int arg_len = gap ? (int)(gap - h) : 0;
        const char *desc = gap ? gap : h;
        while (*desc == ' ')
            desc++;
        char head[64];
        snprintf(head, sizeof head, "--%s%s%.*s", opt_defs[i].opt.name, arg_len ? " " : "",
                 arg_len, h);
        fprintf(f, "  %-28s %s\n", head, desc);
    }
    fprintf(f, "  --help\n");
}

void cli_print_options(FILE *f, unsigned groups)
{
    print_options(f, groups, NULL);
}

int cli_report(const char *cmd, int rc, int status)
{
    if (rc == SG_OK)
        return 0;
    fprintf(stderr, "sensorgram %s: %s\n", cmd, sg_last_error());
    /* 128 + SIGINT, as a shell reports a command stopped by Ctrl-C. */
    return rc == SG_E_INTERRUPTED ? 130 : status;
}

static int parse_double(double *out, const char *name, const char *s, double lo, double hi)
{
    return cli_parse_double(out, name, s, lo, hi, 0);
}

/* Matches s against a NULL-terminated list of names; index or -1. */
static int pick(const char *s, const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

static int parse_choice(int *out, const char *name, const char *s, const char *const *names,
                        const char *list)
{
    int k = pick(s, names);
    if (k < 0)
        return sg_fail(SG_E_INVALID, "--%s: unknown value '%s' (expected %s)", name, s, list);
    *out = k;
    return SG_OK;
}

static int parse_cv(job_opts *o, const char *arg)
{
    if (strcmp(arg, "loso") == 0) {
        o->cv = JOB_CV_LOSO;
        return SG_OK;
    }
    if (strncmp(arg, "kfold:", 6) == 0) {
        o->cv = JOB_CV_KFOLD;
        return cli_parse_int(&o->cv_k, "cv", arg + 6, 2, 1000);
    }
    if (strcmp(arg, "none") == 0) {
        o->cv = JOB_CV_NONE;
        return SG_OK;
    }
    return sg_fail(SG_E_INVALID, "--cv: unknown value '%s' (expected loso, kfold:K or none)",
                   arg);
}

static int parse_one(job_opts *o, int id, const char *name, const char *arg)
{
    int k = 0, rc;
    switch (id) {
    case OPT_MAGNITUDE:
        o->magnitude_given = 1;
        return dsa_magnitude_parse(&o->magnitude, arg);
    case OPT_DATASET:
        if (strcmp(arg, "dsa") != 0)
            return sg_fail(SG_E_INVALID, "--dataset: unknown dataset '%s' (expected dsa)", arg);
        o->dataset = arg;
        return SG_OK;
    case OPT_LABEL_REGEX: {
        /* A typo in the pattern is a usage error, found before any reading. */
        regex_t re;
        int err = regcomp(&re, arg, REG_EXTENDED);
        if (err) {
            char msg[256];
            regerror(err, &re, msg, sizeof msg);
            return sg_fail(SG_E_INVALID, "--label-regex: '%s' is not a valid regular expression: %s",
                           arg, msg);
        }
        regfree(&re);
        o->label_regex = arg;
        return SG_OK;
    }
    case OPT_PHOTOS: o->photos = 1; return SG_OK;
    case OPT_ON_ERROR: {
        static const char *const names[] = {"fail", "skip", NULL};
        return parse_choice(&o->on_error_skip, name, arg, names, "fail or skip");
    }
    case OPT_UNITS: o->units = arg; return SG_OK;
    case OPT_SENSORS: o->sensors = arg; return SG_OK;
    case OPT_AXES: o->axes = arg; return SG_OK;
    case OPT_SUBJECTS: o->subjects = arg; return SG_OK;
    case OPT_VALID_PCT:
        o->valid_pct_given = 1;
        return parse_double(&o->valid_pct, name, arg, 0.0, 0.99);
    case OPT_VALID_SUBJECTS: o->valid_subjects = arg; return SG_OK;
    case OPT_CV: return parse_cv(o, arg);
    case OPT_ACCUMULATE: return cli_parse_int(&o->accumulate, name, arg, 1, 4096);
    case OPT_DIST_URL: o->dist_url = arg; return SG_OK;
    case OPT_RANK: return cli_parse_int(&o->rank, name, arg, 0, 1 << 20);
    case OPT_WORLD_SIZE: return cli_parse_int(&o->world_size, name, arg, 1, 1 << 20);
    case OPT_DIST_BACKEND: {
        static const char *const names[] = {"auto", "gloo", "nccl", NULL};
        rc = parse_choice(&k, name, arg, names, "auto, gloo or nccl");
        if (rc == SG_OK)
            o->dist_backend = names[k];
        return rc;
    }
    case OPT_DIST_TIMEOUT: return parse_double(&o->dist_timeout, name, arg, 0.1, 86400.0);
    case OPT_DIST_HASH_LOG: o->dist_hash_log = 1; return SG_OK;
    case OPT_CV_PARALLEL: o->cv_parallel = 1; return SG_OK;
    case OPT_SYNC_BN: o->sync_bn = 1; return SG_OK;
    case OPT_DIST_OVERLAP: {
        static const char *const names[] = {"off", "on", NULL};
        return parse_choice(&o->dist_overlap, name, arg, names, "on or off");
    }
    case OPT_EMA: return parse_double(&o->ema, name, arg, 1e-9, 1.0);
    case OPT_SWA: return cli_parse_int(&o->swa, name, arg, 1, 100000);
    case OPT_KEEP_FOLDS: o->keep_folds = 1; return SG_OK;
    case OPT_MEMBER:
        if (o->n_members == JOB_MEMBERS_MAX)
            return sg_fail(SG_E_INVALID, "--member: at most %d members", JOB_MEMBERS_MAX);
        o->members[o->n_members++] = arg;
        return SG_OK;
    case OPT_SINGLE: o->single = 1; return SG_OK;
    case OPT_ARCH:
        rc = sg_arch_parse(&o->arch, arg);
        o->arch_given = 1;
        return rc ? sg_fail_context(rc, "--arch") : SG_OK;
    case OPT_PRETRAINED: o->pretrained = arg; return SG_OK;
    case OPT_IMAGE_SIZE: return cli_parse_int(&o->image_size, name, arg, 8, 4096);
    case OPT_DEVICE: o->device = arg; return SG_OK;
    case OPT_MIXED:
        if (!arg || strcmp(arg, "bf16") == 0)
            o->precision = SG_PRECISION_BF16;
        else if (strcmp(arg, "fp16") == 0)
            o->precision = SG_PRECISION_FP16;
        else
            return sg_fail(SG_E_INVALID, "--mixed-precision: '%s' (expected bf16 or fp16)", arg);
        return SG_OK;
    case OPT_CUDA_GRAPHS:
        rc = sg_cuda_graphs_parse(&o->cuda_graphs, arg);
        return rc ? sg_fail_context(rc, "--cuda-graphs") : SG_OK;
    case OPT_WORKERS: return cli_parse_int(&o->workers, "workers", arg, 0, 256);
    case OPT_THREADS: return cli_parse_int(&o->threads, name, arg, 0, 1024);
    case OPT_SEED: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(arg, &end, 10);
        if (errno || end == arg || *end != '\0' || arg[0] == '-')
            return sg_fail(SG_E_INVALID, "--seed: '%s' is not a non-negative integer", arg);
        o->seed = v;
        o->seed_given = 1;
        return SG_OK;
    }
    case OPT_EPOCHS:
        o->epochs_given = 1;
        return cli_parse_int(&o->epochs, name, arg, 0, 100000);
    case OPT_LR: return parse_double(&o->lr, name, arg, 1e-12, 100.0);
    case OPT_BS: return cli_parse_int(&o->batch_size, name, arg, 1, 1 << 16);
    case OPT_WD: return parse_double(&o->wd, name, arg, 0.0, 10.0);
    case OPT_OPT: {
        static const char *const names[] = {"sgd", "adamw", NULL};
        rc = parse_choice(&k, name, arg, names, "adamw or sgd");
        o->opt = k == 0 ? SG_OPTIM_SGD : SG_OPTIM_ADAMW;
        return rc;
    }
    case OPT_BN_RECAL: return cli_parse_int(&o->bn_recal, name, arg, 0, 100000);
    case OPT_LABEL_SMOOTHING: return parse_double(&o->label_smoothing, name, arg, 0.0, 0.99);
    case OPT_FREEZE_EPOCHS: return cli_parse_int(&o->freeze_epochs, name, arg, 0, 100000);
    case OPT_SCHEDULE: {
        static const char *const names[] = {"onecycle", "fastai", NULL};
        rc = parse_choice(&k, name, arg, names, "onecycle or fastai");
        o->schedule_fastai = k;
        return rc;
    }
    case OPT_AUGMENT: o->augment = 1; return SG_OK;
    case OPT_NO_AUGMENT: o->augment = 0; return SG_OK;
    case OPT_OUT: o->out_dir = arg; return SG_OK;
    case OPT_RESUME: o->resume = 1; return SG_OK;
    case OPT_OVERWRITE: o->overwrite = 1; return SG_OK;
    case OPT_FIGURE_FORMAT: {
        static const char *const names[] = {"png", "svg", "pdf", NULL};
        rc = parse_choice(&k, name, arg, names, "png, svg or pdf");
        o->figure_format = arg;
        return rc;
    }
    case OPT_FEATURES: o->features = arg; return SG_OK;
    case OPT_NO_PROGRESS: o->progress = 0; return SG_OK;
    case OPT_OUTPUT: o->output = arg; return SG_OK;
    case OPT_KAGGLE: o->kaggle = 1; return SG_OK;
    case OPT_CLIP: return parse_double(&o->clip, name, arg, 0.0, 0.5);
    case OPT_TOP_LOSSES: return cli_parse_int(&o->top_losses, name, arg, 0, 10000);
    case OPT_WEIGHTS: o->weights = arg; return SG_OK;
    case OPT_NO_NORMALIZE: o->no_normalize = 1; return SG_OK;
    case OPT_START_LR: return parse_double(&o->start_lr, name, arg, 1e-12, 1e3);
    case OPT_END_LR: return parse_double(&o->end_lr, name, arg, 1e-12, 1e3);
    case OPT_STEPS: return cli_parse_int(&o->steps, name, arg, 2, 100000);
    }
    if (cli_enc_option(&o->enc_args, id, arg))
        return SG_OK;
    rc = cli_aug_option(&o->aug, id, name, arg);
    if (rc)
        return rc < 0 ? rc : SG_OK;
    return sg_fail(SG_E_INVALID, "--%s: unknown option", name);
}

int cli_sensor_defaults(job_opts *o)
{
    if (!o->dataset || strcmp(o->dataset, "dsa") != 0)
        return SG_OK;
    if (!o->sensors)
        o->sensors = "acc,gyro";
    if (!o->arch_given)
        o->arch = SG_ARCH_RESNET18;
    if (!o->epochs_given)
        o->epochs = 3;
    if (o->encoder_given || o->enc_args.scope)
        return SG_OK;
    /* Not a literal in cli_parse: encode and the photo path keep gray. */
    enc_args stacked = o->enc_args;
    stacked.encoder = CLI_SENSOR_ENCODER;
    int rc = cli_enc_build_stack(&o->stack, &stacked, "gray");
    if (rc == SG_OK)
        o->enc = o->stack.p[0];
    return rc;
}

int cli_parse(job_opts *o, int argc, char **argv, unsigned groups, const char *usage)
{
    struct option longopts[N_OPT_DEFS + 2];
    int n = 0;
    for (int i = 0; i < N_OPT_DEFS; i++)
        longopts[n++] = opt_defs[i].opt;
    longopts[n++] = (struct option){"help", no_argument, 0, OPT_HELP};
    longopts[n] = (struct option){0, 0, 0, 0};

    o->cmd = argv[0];
    optind = 1;
    opterr = 0;
    for (;;) {
        int idx = -1;
        int c = getopt_long(argc, argv, "j:o:h", longopts, &idx);
        if (c == -1)
            break;
        if (c == 'h' || c == OPT_HELP) {
            printf("usage: %s\n\noptions:\n", usage);
            print_options(stdout, groups, argv[0]);
            return 1;
        }
        if (c == '?' || c == ':') {
            const char *bad = argv[optind - 1];
            if (optopt && optopt < 256)
                return sg_fail(SG_E_INVALID, "option -%c needs a value or is unknown", optopt);
            return sg_fail(SG_E_INVALID, "unknown option or missing value: '%s' (see --help)",
                           bad);
        }
        if (c == 'j')
            c = OPT_WORKERS;
        if (c == 'o')
            c = OPT_OUTPUT;
        const struct opt_def *def = NULL;
        for (int i = 0; i < N_OPT_DEFS; i++)
            if (opt_defs[i].opt.val == c)
                def = &opt_defs[i];
        if (!def)
            return sg_fail(SG_E_INVALID, "unknown option (see --help)");
        if (!applies(def, groups, argv[0]))
            return sg_fail(SG_E_INVALID, "option --%s does not apply to %s", def->opt.name,
                           argv[0]);
        int rc = parse_one(o, c, def->opt.name, optarg);
        if (rc)
            return rc;
    }
    o->n_args = argc - optind;
    o->args = argv + optind;
    o->enc_args.image_size_name = "enc-size";
    int rc = cli_enc_build_stack(&o->stack, &o->enc_args, "gray");
    if (rc)
        return rc;
    o->enc = o->stack.p[0];
    if (o->magnitude_given && !o->dataset)
        return sg_fail(SG_E_INVALID, "--magnitude needs --dataset dsa (norms of DSA x, y, z "
                                     "triads)");
    if (o->magnitude != DSA_MAGNITUDE_OFF) {
        dsa_select sel;
        dsa_select_all(&sel);
        rc = dsa_select_parse(&sel, o->units, o->sensors, o->axes);
        if (rc == SG_OK)
            rc = dsa_magnitude_check(&sel, o->magnitude);
        if (rc)
            return rc;
    }
    o->encoder_given = o->enc_args.encoder != NULL;
    o->layout_given = o->enc_args.layout != NULL;
    if (o->start_lr >= o->end_lr)
        return sg_fail(SG_E_INVALID, "--start-lr %g must be below --end-lr %g", o->start_lr,
                       o->end_lr);
    return SG_OK;
}
