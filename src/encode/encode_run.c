/* cli_encode.c - `sensorgram encode`: sensor segments to images.
 *
 * Reads DSA or generic CSV inputs into one sg_series_set, fits the
 * encoder's dataset state (gray's min/max, fitted mtf edges) if it has
 * any, then encodes the segments in parallel (one enc_workspace and one
 * output buffer per thread) and writes OUTDIR/<label>/<name>.png|.npy,
 * each atomically.  OUTDIR/manifest.csv is written last, and only when
 * the run completes, so a folder with a manifest is always whole; a stale
 * manifest from an earlier run is removed before the first image is
 * written.  Messages go to stderr, the summary to stdout.
 *
 * --stack (with --format npy) writes one OUTDIR/X.npy (N, C, H, W)
 * instead: each worker pwrites its image into the segment's slot of a
 * temporary file, so memory stays at one image per thread; skipped
 * inputs' slots are closed up at the end, then manifest.csv (index,
 * label, subject, segment, source) and y.csv are written and X.npy is
 * renamed into place last.  npy output also gets encoding.json (the
 * encoder and its value range), which lets train/eval/predict map the
 * raw floats to [0, 1] exactly as PNGs and in-memory encoding are.
 */
#include "src/base/atomic_file.h"
#include "src/cli/cli_enc_opts.h"
#include "src/cli/cli_encode_shard.h"
#include "src/cli/cli_outdir.h"
#include "src/cli/commands.h"
#include "datasets/dsa.h"
#include "datasets/dsa_magnitude.h"
#include "encoders/enc.h"
#include "src/base/npy.h"
#include "src/base/npy_stack.h"
#include "datasets/image_folder.h"
#include "src/train/enc_json.h"
#include "src/train/enc_stack.h"
#include "src/base/parallel.h"
#include "src/image/png_io.h"
#include "src/base/progress.h"
#include "src/base/signals.h"
#include "datasets/sensor_csv.h"
#include "datasets/series.h"
#include "src/base/sg_error.h"
#include "datasets/skipped.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CMD "sensorgram encode"

static void print_help(FILE *f)
{
    fprintf(f,
"usage: sensorgram encode [OPTIONS] INPUT... -o OUTDIR\n"
"\n"
"Turns sensor segments into images with one of the pyts-compatible encoders\n"
"and writes OUTDIR/<label>/<name>.png (or .npy) plus OUTDIR/manifest.csv.\n"
"\n"
"Inputs:\n"
"  --dataset dsa|csv      dsa: INPUT is a UCI Daily and Sports Activities root\n"
"                         (ROOT/aNN/pM/sKK.txt); csv (default): INPUTs are CSV\n"
"                         files or folders (searched recursively for *.csv, *.txt)\n"
"  --units LIST           dsa: T,RA,LA,RL,LL (default all)\n"
"  --sensors LIST         dsa: acc,gyro,mag (default all)\n"
"  --axes LIST            dsa: x,y,z (default all)\n"
"  --subjects LIST        dsa: e.g. 1,2,7 (default every subject found)\n"
"  --magnitude add|only|off\n"
"                         dsa: rotation-invariant rows sqrt(x^2+y^2+z^2) of each\n"
"                         unit's and sensor's x, y, z (named T_acc_norm, ...),\n"
"                         appended after the axes (add) or instead of them (only;\n"
"                         5 units x 3 sensors = 15 rows); default off\n"
"  --columns LIST         csv: column names or 0-based indices (default: all\n"
"                         but the label column)\n"
"  --delimiter C          csv: field separator ',', ';' or tab (default: found\n"
"                         from the first line: ',', else tab or ';')\n"
"  --header, --no-header  csv: first row is / is not column names (default:\n"
"                         a header if any first-row field is not a number)\n"
"  --window N             csv: cut recordings into windows of N rows (default:\n"
"                         the whole file is one segment; then all files must\n"
"                         have equal length).  The last partial window is dropped.\n"
"  --stride M             csv: rows between window starts (default N)\n"
"  --label-from dir|column|regex\n"
"                         csv: label = parent folder name (default), a column\n"
"                         (--label-column), or a regex on the file name\n"
"  --label-column C       csv: label column (name or index); implies column\n"
"  --label-first          csv: a window's label is its first row's value\n"
"                         (default: the majority value, ties to the first seen)\n"
"  --label-regex RE       csv: POSIX extended regex on the file's base name; the\n"
"                         first capture group (or whole match) is the label\n"
"\n"
"Encoder (pyts names in kebab case; defaults are pyts 0.13's):\n"
"  --encoder gray|rp|jrp|gasf|gadf|mtf|spectrogram   (default gasf)\n"
"                         or several joined by '+' (gray+gasf+rp): each image made\n"
"                         as alone, mapped to [0,1] by its value range, resized\n"
"                         (bilinear, antialiased) to the FIRST one's H x W and\n"
"                         stacked as channels; npy holds these [0,1] values; PNG\n"
"                         only when the stack has 3 channels (RGB), else use npy;\n"
"                         NAME:KEY=VALUE gives one element its own option\n"
"                         (gray+gray:scope=axis; KEY: scope, layout, enc-size,\n"
"                         sample-range, n-bins, strategy, dimension, time-delay,\n"
"                         threshold, percentage, window-length, hop, stft-window)\n"
"  --image-size N|F       gasf/gadf/mtf: pixels, or a fraction of T (e.g. 0.5)\n"
"  --sample-range LO,HI|none   gasf/gadf (default -1,1)\n"
"  --overlapping          gasf/gadf/mtf: overlapping PAA windows\n"
"  --n-bins N             mtf (default 5)\n"
"  --strategy quantile|uniform|normal   mtf (default quantile)\n"
"  --mtf-fitted           mtf: bin edges fitted per channel on the fit data\n"
"  --dimension N, --time-delay N        rp/jrp (default 1, 1)\n"
"  --threshold none|point|distance|FLOAT rp/jrp (default none)\n"
"  --percentage P         rp/jrp with point/distance (default 10)\n"
"  --window-length N, --hop N           spectrogram (default 32, 4)\n"
"  --window hann|hamming|blackman|rect  spectrogram window (also\n"
"                         --stft-window); a number given to --window is the\n"
"                         csv window length instead\n"
"  --no-log               spectrogram: linear magnitude instead of dB\n"
"  --scope dataset|segment|axis         gray min/max scope (default dataset)\n"
"  --layout channels|mosaic|rgb         multi-channel layout (default: mosaic\n"
"                         for png, channels for npy)\n"
"  --fit-on all|subjects=LIST|PATH\n"
"                         data for dataset-fitted state (gray scope dataset,\n"
"                         --mtf-fitted): all = the inputs (default);\n"
"                         subjects=1,2 = those subjects of the inputs; PATH = a\n"
"                         DSA root or CSV files read with the same options\n"
"  --save-fit F, --load-fit F           write / reuse the fitted state (JSON)\n"
"\n"
"Output:\n"
"  -o, --output OUTDIR    output folder (created; must be empty)\n"
"  --overwrite            OUTDIR holds an earlier encode: remove the files its\n"
"                         manifest lists (nothing else) and write the new one\n"
"  --format png|npy       (default png)\n"
"  --stack                npy: one OUTDIR/X.npy (N, C, H, W) float32 plus\n"
"                         manifest.csv (index,label,subject,segment,source) and\n"
"                         y.csv (index,y,label; y = class index), instead of\n"
"                         one file per image; X.npy appears last, when whole\n"
"  --depth 8|16           png bit depth (default 8)\n"
"  --png-level N          compression level 0..9 (default 1: libdeflate, fastest)\n"
"  -j, --jobs N           threads (default: all cores)\n"
"  --on-error fail|skip   fail (default): stop at the first bad input with\n"
"                         'FILE:LINE:COL: message', exit 1, no manifest.\n"
"                         skip: leave bad inputs out, list them with their\n"
"                         reasons at the end, exit 0 (the manifest lists only\n"
"                         what was written)\n"
"  -q, --quiet            no progress output\n"
"  --shard I/N            encode only the segments at positions I, I+N, ... of\n"
"                         the input order (fit still on all inputs) and write\n"
"                         OUTDIR/manifest.part-I-of-N.csv; the shard that finds\n"
"                         all N parts there writes manifest.csv\n"
"  --merge OUTDIR PART... join the parts into OUTDIR/manifest.csv (what one\n"
"                         encode writes, byte for byte); no encoding\n"
"  -h, --help             this text\n"
"\n"
"PNG holds 1 (gray) or 3 (RGB) channels: use --layout mosaic (tiles every\n"
"channel into one gray image) or rgb, or --format npy for C x H x W.\n"
"Values map to pixels through the encoder's value range: bounded encoders\n"
"(gasf/gadf [-1,1] or the sample range, mtf [0,1], thresholded rp/jrp\n"
"[0,1], gray [0,1]) map lo..hi linearly to 0..255 (or 65535); unbounded ones\n"
"(unthresholded rp, spectrogram) are min-max scaled per image (a constant\n"
"image becomes 0).  npy files hold the raw float32 (C, H, W) output.\n"
"\n"
"manifest.csv: path,label,subject,segment,source (path relative to OUTDIR;\n"
"subject/segment empty when unknown).\n"
"Exit status: 0 ok (also with skipped inputs), 1 failure, 2 usage error,\n"
"130 interrupted (Ctrl-C or SIGTERM: the images written so far are removed).\n");
}

enum {
    OPT_DATASET = 256, OPT_UNITS, OPT_SENSORS, OPT_AXES, OPT_SUBJECTS, OPT_COLUMNS,
    OPT_HEADER, OPT_NO_HEADER, OPT_WINDOW, OPT_STRIDE, OPT_LABEL_FROM, OPT_LABEL_COLUMN,
    OPT_LABEL_FIRST, OPT_LABEL_REGEX, OPT_FIT_ON, OPT_SAVE_FIT,
    OPT_LOAD_FIT, OPT_FORMAT, OPT_DEPTH, OPT_PNG_LEVEL, OPT_ON_ERROR, OPT_SHARD, OPT_MERGE,
    OPT_STACK, OPT_OVERWRITE, OPT_DELIMITER, OPT_MAGNITUDE,
};

static const struct option long_options[] = {
    {"dataset", required_argument, NULL, OPT_DATASET},
    {"units", required_argument, NULL, OPT_UNITS},
    {"sensors", required_argument, NULL, OPT_SENSORS},
    {"axes", required_argument, NULL, OPT_AXES},
    {"subjects", required_argument, NULL, OPT_SUBJECTS},
    {"magnitude", required_argument, NULL, OPT_MAGNITUDE},
    {"columns", required_argument, NULL, OPT_COLUMNS},
    {"header", no_argument, NULL, OPT_HEADER},
    {"no-header", no_argument, NULL, OPT_NO_HEADER},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"stride", required_argument, NULL, OPT_STRIDE},
    {"label-from", required_argument, NULL, OPT_LABEL_FROM},
    {"label-column", required_argument, NULL, OPT_LABEL_COLUMN},
    {"label-first", no_argument, NULL, OPT_LABEL_FIRST},
    {"label-regex", required_argument, NULL, OPT_LABEL_REGEX},
    {"encoder", required_argument, NULL, CLI_ENC_OPT_ENCODER},
    {"image-size", required_argument, NULL, CLI_ENC_OPT_IMAGE_SIZE},
    {"sample-range", required_argument, NULL, CLI_ENC_OPT_SAMPLE_RANGE},
    {"overlapping", no_argument, NULL, CLI_ENC_OPT_OVERLAPPING},
    {"n-bins", required_argument, NULL, CLI_ENC_OPT_N_BINS},
    {"strategy", required_argument, NULL, CLI_ENC_OPT_STRATEGY},
    {"mtf-fitted", no_argument, NULL, CLI_ENC_OPT_MTF_FITTED},
    {"dimension", required_argument, NULL, CLI_ENC_OPT_DIMENSION},
    {"time-delay", required_argument, NULL, CLI_ENC_OPT_TIME_DELAY},
    {"threshold", required_argument, NULL, CLI_ENC_OPT_THRESHOLD},
    {"percentage", required_argument, NULL, CLI_ENC_OPT_PERCENTAGE},
    {"window-length", required_argument, NULL, CLI_ENC_OPT_WINDOW_LENGTH},
    {"hop", required_argument, NULL, CLI_ENC_OPT_HOP},
    {"stft-window", required_argument, NULL, CLI_ENC_OPT_STFT_WINDOW},
    {"no-log", no_argument, NULL, CLI_ENC_OPT_NO_LOG},
    {"scope", required_argument, NULL, CLI_ENC_OPT_SCOPE},
    {"layout", required_argument, NULL, CLI_ENC_OPT_LAYOUT},
    {"fit-on", required_argument, NULL, OPT_FIT_ON},
    {"save-fit", required_argument, NULL, OPT_SAVE_FIT},
    {"load-fit", required_argument, NULL, OPT_LOAD_FIT},
    {"format", required_argument, NULL, OPT_FORMAT},
    {"stack", no_argument, NULL, OPT_STACK},
    {"depth", required_argument, NULL, OPT_DEPTH},
    {"png-level", required_argument, NULL, OPT_PNG_LEVEL},
    {"on-error", required_argument, NULL, OPT_ON_ERROR},
    {"shard", required_argument, NULL, OPT_SHARD},
    {"merge", required_argument, NULL, OPT_MERGE},
    {"overwrite", no_argument, NULL, OPT_OVERWRITE},
    {"delimiter", required_argument, NULL, OPT_DELIMITER},
    {"output", required_argument, NULL, 'o'},
    {"jobs", required_argument, NULL, 'j'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct args {
    int dsa;
    const char *units, *sensors, *axes, *subjects;
    const char *magnitude_arg;  /* --magnitude as given (fingerprint) */
    dsa_magnitude magnitude;
    sensor_csv_options csv;
    cli_enc_args enc;
    const char *fit_on, *save_fit, *load_fit;
    const char *outdir;
    int npy, stack, depth, png_level, jobs, skip, quiet, overwrite;
    int shard_i, shard_n;       /* --shard I/N; shard_n 0: none */
    const char *merge;          /* --merge OUTDIR: inputs are parts */
    char **inputs;
    int n_inputs;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, CMD ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see " CMD " --help)\n");
    va_end(ap);
    return 2;
}

/* Builds encoder params from the options; returns 0 or 2 (usage). */
static int build_params(enc_params *p, const cli_enc_args *a, int npy)
{
    if (cli_enc_build(p, a, "gasf") != 0)
        return usage_error("%s", sg_last_error());
    /* A PNG holds 1 or 3 channels: tile them unless told otherwise. */
    if (!a->layout)
        p->layout = npy ? ENC_LAYOUT_CHANNELS : ENC_LAYOUT_MOSAIC;
    return 0;
}

/* Builds the encoder stack (one encoder unless --encoder lists several
 * joined by '+'); returns 0 or 2 (usage). */
static int build_stack(enc_stack *st, const struct args *a)
{
    if (!a->enc.encoder || (!strchr(a->enc.encoder, '+') && !strchr(a->enc.encoder, ':'))) {
        memset(st, 0, sizeof *st);
        st->n = 1;
        return build_params(&st->p[0], &a->enc, a->npy);
    }
    if (cli_enc_build_stack(st, &a->enc, "gasf") != 0)
        return usage_error("%s", sg_last_error());
    for (int k = 0; k < st->n; k++)
        if (!a->enc.layout)
            st->p[k].layout = a->npy ? ENC_LAYOUT_CHANNELS : ENC_LAYOUT_MOSAIC;
    if (a->save_fit || a->load_fit)
        return usage_error("--save-fit and --load-fit take one encoder, not the stack %s",
                           a->enc.encoder);
    /* every layout but channels makes 1 or 3 channels per encoder: a PNG
     * that cannot hold them is known before any reading */
    int known = 1, oc = 0;
    for (int k = 0; k < st->n; k++) {
        if (st->p[k].layout == ENC_LAYOUT_CHANNELS && st->p[k].kind != ENC_GRAY &&
            st->p[k].kind != ENC_JRP)
            known = 0;
        oc += st->p[k].layout == ENC_LAYOUT_RGB ? 3 : 1;
    }
    if (!a->npy && known && oc != 3)
        return usage_error("PNG holds 1 (gray) or 3 (RGB) channels but --encoder %s stacks %d: "
                           "use --format npy",
                           a->enc.encoder, oc);
    return 0;
}

static int parse_args(struct args *a, int argc, char **argv)
{
    memset(a, 0, sizeof *a);
    sensor_csv_options_default(&a->csv);
    a->depth = 8;
    a->png_level = 1;
    int label_from_set = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:j:qh", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_DATASET:
            if (strcasecmp(optarg, "dsa") == 0)
                a->dsa = 1;
            else if (strcasecmp(optarg, "csv") == 0)
                a->dsa = 0;
            else
                return usage_error("--dataset: expected dsa or csv, got '%s'", optarg);
            break;
        case OPT_UNITS: a->units = optarg; break;
        case OPT_SENSORS: a->sensors = optarg; break;
        case OPT_AXES: a->axes = optarg; break;
        case OPT_SUBJECTS: a->subjects = optarg; break;
        case OPT_MAGNITUDE:
            if (dsa_magnitude_parse(&a->magnitude, optarg))
                return usage_error("%s", sg_last_error());
            a->magnitude_arg = optarg;
            break;
        case OPT_COLUMNS: a->csv.columns = optarg; break;
        case OPT_HEADER: a->csv.header = SENSOR_CSV_HEADER_YES; break;
        case OPT_NO_HEADER: a->csv.header = SENSOR_CSV_HEADER_NO; break;
        case OPT_WINDOW:
            /* One option name, two meanings (see --help): rows or a window function. */
            if (optarg[0] >= '0' && optarg[0] <= '9') {
                if (cli_strict_int(optarg, 1, 1 << 30, &a->csv.window))
                    return usage_error("--window: expected a positive row count, got '%s'",
                                       optarg);
            } else {
                a->enc.stft_window = optarg;
            }
            break;
        case OPT_STRIDE:
            if (cli_strict_int(optarg, 1, 1 << 30, &a->csv.stride))
                return usage_error("--stride: expected a positive row count, got '%s'", optarg);
            break;
        case OPT_LABEL_FROM:
            label_from_set = 1;
            if (strcasecmp(optarg, "dir") == 0)
                a->csv.label_from = SENSOR_CSV_LABEL_DIR;
            else if (strcasecmp(optarg, "column") == 0)
                a->csv.label_from = SENSOR_CSV_LABEL_COLUMN;
            else if (strcasecmp(optarg, "regex") == 0)
                a->csv.label_from = SENSOR_CSV_LABEL_REGEX;
            else
                return usage_error("--label-from: expected dir, column or regex, got '%s'",
                                   optarg);
            break;
        case OPT_LABEL_COLUMN: a->csv.label_column = optarg; break;
        case OPT_LABEL_FIRST: a->csv.label_first = 1; break;
        case OPT_LABEL_REGEX: a->csv.label_regex = optarg; break;
        case OPT_FIT_ON: a->fit_on = optarg; break;
        case OPT_SAVE_FIT: a->save_fit = optarg; break;
        case OPT_LOAD_FIT: a->load_fit = optarg; break;
        case OPT_FORMAT:
            if (strcasecmp(optarg, "png") == 0)
                a->npy = 0;
            else if (strcasecmp(optarg, "npy") == 0)
                a->npy = 1;
            else
                return usage_error("--format: expected png or npy, got '%s'", optarg);
            break;
        case OPT_STACK: a->stack = 1; break;
        case OPT_DEPTH:
            if (cli_strict_int(optarg, 8, 16, &a->depth) || (a->depth != 8 && a->depth != 16))
                return usage_error("--depth: expected 8 or 16, got '%s'", optarg);
            break;
        case OPT_PNG_LEVEL:
            if (cli_strict_int(optarg, 0, 9, &a->png_level))
                return usage_error("--png-level: expected 0..9, got '%s'", optarg);
            break;
        case OPT_ON_ERROR:
            if (strcasecmp(optarg, "fail") == 0)
                a->skip = 0;
            else if (strcasecmp(optarg, "skip") == 0)
                a->skip = 1;
            else
                return usage_error("--on-error: expected fail or skip, got '%s'", optarg);
            break;
        case OPT_SHARD:
            if (encode_shard_parse(optarg, &a->shard_i, &a->shard_n))
                return usage_error("%s", sg_last_error());
            break;
        case OPT_MERGE: a->merge = optarg; break;
        case OPT_OVERWRITE: a->overwrite = 1; break;
        case OPT_DELIMITER:
            if (strcmp(optarg, ",") == 0 || strcmp(optarg, ";") == 0)
                a->csv.delimiter = optarg[0];
            else if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\t") == 0 ||
                     strcmp(optarg, "\\t") == 0)
                a->csv.delimiter = '\t';
            else
                return usage_error("--delimiter: expected ',', ';' or tab, got '%s'", optarg);
            break;
        case 'o': a->outdir = optarg; break;
        case 'j':
            if (cli_strict_int(optarg, 1, 4096, &a->jobs))
                return usage_error("-j: expected a positive thread count, got '%s'", optarg);
            break;
        case 'q': a->quiet = 1; break;
        case 'h': print_help(stdout); return -1;
        case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
        default:
            if (cli_enc_option(&a->enc, c, optarg))
                break;
            return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (a->csv.label_column && !label_from_set)
        a->csv.label_from = SENSOR_CSV_LABEL_COLUMN;
    if (a->csv.label_regex && !label_from_set)
        a->csv.label_from = SENSOR_CSV_LABEL_REGEX;
    a->inputs = argv + optind;
    a->n_inputs = argc - optind;
    if (a->merge) {
        if (a->n_inputs == 0)
            return usage_error("--merge OUTDIR needs the PART files");
        if (a->shard_n || a->outdir)
            return usage_error("--merge takes OUTDIR and PARTs only (no --shard, no -o)");
        return 0;
    }
    if (a->n_inputs == 0)
        return usage_error("no INPUT given");
    if (!a->outdir)
        return usage_error("no output folder given (-o OUTDIR)");
    if (a->dsa && a->n_inputs != 1)
        return usage_error("--dataset dsa takes exactly one ROOT, got %d inputs", a->n_inputs);
    if (a->stack && !a->npy)
        return usage_error("--stack writes one float32 X.npy: it needs --format npy");
    if (a->stack && a->shard_n)
        return usage_error("--stack and --shard exclude each other (the parts' X.npy rows "
                           "are not merged): shard per-image npy or PNG output instead");
    if (a->load_fit && a->fit_on)
        return usage_error("--load-fit and --fit-on exclude each other");
    if (a->dsa) {
        /* Check the selection now, so that a typo is a usage error. */
        dsa_select sel;
        dsa_select_all(&sel);
        if (dsa_select_parse(&sel, a->units, a->sensors, a->axes) != 0 ||
            (a->subjects && dsa_select_parse_subjects(&sel, a->subjects) != 0) ||
            dsa_magnitude_check(&sel, a->magnitude) != 0)
            return usage_error("%s", sg_last_error());
    } else if (a->magnitude != DSA_MAGNITUDE_OFF) {
        return usage_error("--magnitude needs --dataset dsa (norms of DSA x, y, z triads)");
    }
    return 0;
}

/* ---- reading -------------------------------------------------------------- */

static int load_inputs(sg_series_set *set, const struct args *a, char *const *inputs, int n,
                       int subjects_override, sg_skipped *skipped)
{
    if (a->dsa) {
        dsa_select sel;
        dsa_select_all(&sel);
        int rc = dsa_select_parse(&sel, a->units, a->sensors, a->axes);
        if (!rc && a->subjects && !subjects_override)
            rc = dsa_select_parse_subjects(&sel, a->subjects);
        if (!rc)
            rc = dsa_load_skip(set, inputs[0], &sel, a->jobs, skipped);
        if (!rc) {
            rc = dsa_magnitude_apply(set, &sel, a->magnitude);
            if (rc)
                sg_series_set_free(set);
        }
        return rc;
    }
    return sensor_csv_load_skip(set, inputs, n, &a->csv, skipped);
}

/* Fitted state: loaded, or fitted on --fit-on data (default: the inputs). */
static int make_fit(enc_fit **fit, const enc_params *p, const struct args *a,
                    const sg_series_set *set)
{
    int C = set->n_channels, T = set->n_samples;
    if (a->load_fit)
        return enc_fit_load(fit, a->load_fit, p, C);
    const char *on = a->fit_on ? a->fit_on : "all";
    int rc;
    if (strcmp(on, "all") == 0) {
        rc = enc_fit_create(fit, p, set->data, set->n, C, T);
    } else if (strncmp(on, "subjects=", 9) == 0 || strncmp(on, "subjects:", 9) == 0) {
        dsa_select sel;
        dsa_select_all(&sel);
        rc = dsa_select_parse_subjects(&sel, on + 9);
        if (rc)
            return rc;
        size_t seg = (size_t)C * (size_t)T, k = 0;
        double *x = malloc((set->n ? set->n : 1) * seg * sizeof *x);
        if (!x)
            return sg_fail(SG_E_NOMEM, "out of memory");
        for (size_t i = 0; i < set->n; i++)
            if (set->subject[i] >= 0 && (sel.subjects & (1u << set->subject[i])))
                memcpy(x + k++ * seg, sg_series_at(set, i), seg * sizeof *x);
        if (k == 0)
            rc = sg_fail(SG_E_INVALID, "--fit-on %s: no input segment has those subjects", on);
        else
            rc = enc_fit_create(fit, p, x, k, C, T);
        free(x);
    } else {
        sg_series_set other;
        char *paths[1] = {(char *)on};
        rc = load_inputs(&other, a, paths, 1, 1, NULL);
        if (rc)
            return sg_fail_context(rc, "--fit-on");
        if (other.n_channels != C || other.n_samples != T)
            rc = sg_fail(SG_E_SHAPE, "--fit-on %s: segments are %d x %d, inputs are %d x %d", on,
                         other.n_channels, other.n_samples, C, T);
        else
            rc = enc_fit_create(fit, p, other.data, other.n, C, T);
        sg_series_set_free(&other);
    }
    if (!rc && a->save_fit)
        rc = enc_fit_save(*fit, a->save_fit);
    return rc;
}

/* ---- writing -------------------------------------------------------------- */

/* A label as a folder name: '/' and leading dots become '_'. */
static char *safe_label(const char *label)
{
    char *s = strdup(*label ? label : "_");
    if (!s)
        return NULL;
    for (char *p = s; *p; p++)
        if (*p == '/' || *p == '\\' || (p == s && *p == '.'))
            *p = '_';
    return s;
}

struct encode_job {
    const sg_series_set *set;
    const enc_params *p;
    const enc_fit *fit;
    const enc_stack *stacked; /* n > 1: encoders stacked as channels, else NULL */
    enc_fit **fits;         /* stacked: one per encoder */
    enc_workspace **ws;     /* per thread (stacked: per thread x encoder) */
    float **out;            /* per thread (oc, oh, ow) */
    char **folder;          /* per class: sanitized label */
    char **rel_path;        /* per segment: written path relative to outdir, or NULL */
    char **failed;          /* per segment: message when skipped */
    const char *outdir;
    int oc, oh, ow;
    int npy, depth, png_level, skip;
    sg_npy_stack *stack;    /* --stack: rows go here, by segment index */
    double lo, hi;
    int bounded;
    int shard_i, shard_n;
    sg_progress *progress;
};

/* This shard's manifest rows, its part file and, when every part is
 * there, the merged manifest. */
static int write_part(const struct encode_job *job, const struct args *a, int *merged)
{
    const char *outdir = a->outdir;
    const sg_series_set *set = job->set;
    encode_part_row *rows = calloc(set->n ? set->n : 1, sizeof *rows);
    char (*num)[2][24] = calloc(set->n ? set->n : 1, sizeof *num);
    int rc = rows && num ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; rc == SG_OK && i < set->n; i++) {
        if (!job->rel_path[i])
            continue;
        if (set->subject[i] >= 0)
            snprintf(num[i][0], sizeof num[i][0], "%d", set->subject[i]);
        if (set->segment[i] >= 0)
            snprintf(num[i][1], sizeof num[i][1], "%d", set->segment[i]);
        rows[k++] = (encode_part_row){i, job->rel_path[i], set->class_names[set->label[i]],
                                      num[i][0], num[i][1], set->source[i]};
    }
    /* The job's identity: every input's source, the options that choose
     * what is read and how it is encoded (not -j, -o or --shard), and
     * the output shape. */
    const cli_enc_args *ea = &a->enc;
    const char *opts[] = {a->units, a->sensors, a->axes, a->subjects, a->magnitude_arg,
                          a->csv.columns,
                          a->csv.label_column, a->csv.label_regex, a->fit_on, a->load_fit,
                          ea->encoder, ea->image_size, ea->sample_range, ea->n_bins, ea->strategy,
                          ea->dimension, ea->time_delay, ea->threshold, ea->percentage,
                          ea->window_length, ea->hop, ea->stft_window, ea->scope, ea->layout};
    enum { N_OPTS = sizeof opts / sizeof opts[0] };
    const char **ids = calloc(set->n + N_OPTS, sizeof *ids);
    if (rc == SG_OK && !ids)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; ids && i < set->n; i++)
        ids[i] = set->source[i];
    for (size_t i = 0; ids && i < N_OPTS; i++)
        ids[set->n + i] = opts[i] ? opts[i] : "";
    int ints[] = {job->oc, job->oh, job->ow, job->npy, job->depth, (int)set->n, a->dsa,
                  a->csv.window, a->csv.stride, (int)a->csv.header, (int)a->csv.label_from,
                  a->csv.label_first, ea->overlapping, ea->mtf_fitted, ea->no_log};
    uint64_t fp = ids ? encode_fingerprint(ids, set->n + N_OPTS, ints,
                                           (int)(sizeof ints / sizeof ints[0]))
                      : 0;
    free(ids);
    if (rc == SG_OK)
        rc = encode_part_write(outdir, job->shard_i, job->shard_n, set->n, fp, rows, k);
    if (rc == SG_OK)
        rc = encode_merge_if_complete(outdir, job->shard_n, fp, merged);
    free(rows);
    free(num);
    return rc;
}

/* Maps an encoder image to [0, 1] for PNG (see --help). */
static void to_unit_range(float *v, size_t n, double lo, double hi, int bounded)
{
    if (!bounded) {
        float mn = v[0], mx = v[0];
        for (size_t i = 1; i < n; i++) {
            mn = v[i] < mn ? v[i] : mn;
            mx = v[i] > mx ? v[i] : mx;
        }
        lo = mn;
        hi = mx;
    }
    double span = hi - lo;
    if (!(span > 0.0)) {
        memset(v, 0, n * sizeof *v);
        return;
    }
    float scale = (float)(1.0 / span), off = (float)lo;
    for (size_t i = 0; i < n; i++)
        v[i] = (v[i] - off) * scale;
}

static int encode_one(void *arg, int thread, size_t i)
{
    struct encode_job *job = arg;
    const sg_series_set *set = job->set;
    if (job->shard_n > 1 && (int)(i % (size_t)job->shard_n) != job->shard_i)
        return SG_OK;
    float *out = job->out[thread];
    size_t numel = (size_t)job->oc * (size_t)job->oh * (size_t)job->ow;
    char *rel = NULL;
    int rc = sg_check_interrupt();
    if (rc)
        return rc;
    if (job->stacked)
        rc = enc_stack_encode(out, sg_series_at(set, i), set->n_channels, set->n_samples,
                              job->stacked, job->fits,
                              job->ws + (size_t)thread * (size_t)job->stacked->n);
    else
        rc = enc_encode(out, sg_series_at(set, i), set->n_channels, set->n_samples, job->p,
                        job->fit, job->ws[thread]);
    if (rc)
        rc = sg_fail_context(rc, "%s", set->source[i]);
    if (job->stack) {
        /* the slot is the segment's index; skipped slots close up at commit */
        if (!rc)
            rc = sg_npy_stack_put(job->stack, i, out);
        if (!rc && !(rel = strdup(SG_STACK_FILE)))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    } else if (!rc && asprintf(&rel, "%s/%s.%s", job->folder[set->label[i]], set->name[i],
                        job->npy ? "npy" : "png") < 0) {
        rel = NULL;
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    char *path = NULL;
    if (!rc && !job->stack && asprintf(&path, "%s/%s", job->outdir, rel) < 0) {
        path = NULL;
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (!rc && !job->stack) {
        if (job->npy) {
            size_t shape[3] = {(size_t)job->oc, (size_t)job->oh, (size_t)job->ow};
            rc = sg_npy_write_ex(path, out, 3, shape, 0);
        } else {
            to_unit_range(out, numel, job->lo, job->hi, job->bounded);
            rc = sg_png_write_level(path, out, job->oc, job->oh, job->ow, job->depth,
                                    job->png_level, 0);
        }
    }
    free(path);
    sg_progress_add(job->progress, 1);
    if (rc) {
        free(rel);
        /* Running out of memory or disk is never a property of one input. */
        if (job->skip && rc != SG_E_NOMEM && rc != SG_E_IO && rc != SG_E_INTERRUPTED) {
            job->failed[i] = strdup(sg_last_error());
            return job->failed[i] ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
        }
        return rc;
    }
    job->rel_path[i] = rel;
    return SG_OK;
}

/* Opens OUTDIR/name for an atomic write (renamed into place on commit). */
static int open_in_outdir(sg_atomic_file *af, const char *outdir, const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", outdir, name) < 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = sg_atomic_open(af, path);
    free(path);
    return rc;
}

/* y.csv of a stacked folder: the row, its class index and name. */
static int write_y(const struct encode_job *job, const char *outdir)
{
    sg_atomic_file af;
    int rc = open_in_outdir(&af, outdir, "y.csv");
    if (rc)
        return rc;
    const sg_series_set *set = job->set;
    fprintf(af.fp, "index,y,label\n");
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (!job->rel_path[i])
            continue;
        fprintf(af.fp, "%zu,%d,", k++, set->label[i]);
        encode_csv_field(af.fp, set->class_names[set->label[i]], 1);
    }
    return sg_atomic_commit(&af);
}

/* encoding.json beside npy output: what made the floats and their range. */
static int write_encoding(const struct encode_job *job, const char *outdir)
{
    json_t *j = json_object();
    json_t *range = json_array();
    json_t *enc = enc_params_to_json(job->p);
    int bad = !j || !range || !enc;
    bad |= json_object_set_new(j, "format", json_string(job->stack ? "stack" : "npy")) != 0;
    bad |= json_array_append_new(range, json_real(job->lo)) != 0;
    bad |= json_array_append_new(range, json_real(job->hi)) != 0;
    bad |= json_object_set_new(j, "value_range", range) != 0;
    range = NULL;
    bad |= json_object_set_new(j, "bounded", json_boolean(job->bounded)) != 0;
    bad |= json_object_set_new(j, "encoder", enc) != 0;
    enc = NULL;
    /* which row is which (norm rows included) */
    json_t *names = json_array();
    for (int c = 0; names && c < job->set->n_channels; c++)
        json_array_append_new(names, json_string(job->set->channel_names[c]
                                                     ? job->set->channel_names[c]
                                                     : ""));
    bad |= json_object_set_new(j, "segment_channel_names", names) != 0;
    if (job->stacked) {
        /* the values are the stack's [0, 1] images, the range says so */
        char name[128];
        enc_stack_name(job->stacked, name, sizeof name);
        bad |= json_object_set_new(j, "stacked_encoders", json_string(name)) != 0;
        bad |= json_object_set_new(j, "stack", enc_stack_to_json(job->stacked)) != 0;
        bad |= json_object_set_new(j, "stack_rule",
                                   json_string("each encoder mapped to [0,1] by its value "
                                               "range, resized bilinearly (antialiased) to "
                                               "the first encoder's HxW, channels "
                                               "concatenated")) != 0;
    }
    char *text = bad ? NULL : json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
                                                JSON_REAL_PRECISION(17));
    json_decref(range);
    json_decref(enc);
    json_decref(j);
    if (!text)
        return sg_fail(SG_E_NOMEM, "out of memory");
    char *path = NULL;
    int rc = asprintf(&path, "%s/encoding.json", outdir) < 0
                 ? sg_fail(SG_E_NOMEM, "out of memory")
                 : sg_atomic_write(path, text, strlen(text));
    free(path);
    free(text);
    return rc;
}

static int write_manifest(const struct encode_job *job, const char *outdir)
{
    sg_atomic_file af;
    int rc = open_in_outdir(&af, outdir, "manifest.csv");
    if (rc)
        return rc;
    const sg_series_set *set = job->set;
    fprintf(af.fp, "%s,label,subject,segment,source\n", job->stack ? "index" : "path");
    size_t k = 0;
    for (size_t i = 0; i < set->n; i++) {
        if (!job->rel_path[i])
            continue;
        char num[2][24] = {"", ""};
        if (set->subject[i] >= 0)
            snprintf(num[0], sizeof num[0], "%d", set->subject[i]);
        if (set->segment[i] >= 0)
            snprintf(num[1], sizeof num[1], "%d", set->segment[i]);
        if (job->stack) {
            char row[24];
            snprintf(row, sizeof row, "%zu", k++);
            encode_csv_field(af.fp, row, 0);
        } else {
            encode_csv_field(af.fp, job->rel_path[i], 0);
        }
        encode_csv_field(af.fp, set->class_names[set->label[i]], 0);
        encode_csv_field(af.fp, num[0], 0);
        encode_csv_field(af.fp, num[1], 0);
        encode_csv_field(af.fp, set->source[i], 1);
    }
    return sg_atomic_commit(&af);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Two segments must not write the same file (e.g. equal CSV stems). */
static int check_unique_names(const sg_series_set *set, char **folder)
{
    char **keys = calloc(set->n, sizeof *keys);
    if (!keys)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK;
    for (size_t i = 0; i < set->n && !rc; i++)
        if (asprintf(&keys[i], "%s/%s", folder[set->label[i]], set->name[i]) < 0) {
            keys[i] = NULL;
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        }
    if (!rc) {
        qsort(keys, set->n, sizeof *keys, cmp_str);
        for (size_t i = 1; i < set->n && !rc; i++)
            if (strcmp(keys[i], keys[i - 1]) == 0)
                rc = sg_fail(SG_E_INVALID,
                             "two inputs would both be written as %s (rename one of them)",
                             keys[i]);
    }
    for (size_t i = 0; i < set->n; i++)
        free(keys[i]);
    free(keys);
    return rc;
}

/* Creates OUTDIR and checks it is writable, before any slow reading. */
static int check_outdir(const char *outdir)
{
    int rc = sg_mkdir_p(outdir);
    if (rc)
        return rc;
    if (access(outdir, W_OK | X_OK) != 0)
        return sg_fail(SG_E_IO, "%s: output folder is not writable: %s", outdir,
                       strerror(errno));
    return SG_OK;
}

/* Removes OUTDIR/name if it exists (our own bookkeeping files only). */
static int remove_own(const char *outdir, const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", outdir, name) < 0)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK;
    if (unlink(path) != 0 && errno != ENOENT)
        rc = sg_fail(SG_E_IO, "%s: cannot remove the old %s: %s", path, name, strerror(errno));
    free(path);
    return rc;
}

static int prepare_outdir(const char *outdir, char **folder, int n_classes, const int *used,
                          int stack, int overwrite)
{
    /* --overwrite: the old run's files go only now that the inputs are read. */
    int rc = overwrite ? cli_encode_outdir_clear(outdir) : SG_OK;
    if (rc)
        return rc;
    /* The folder is about to change: an old manifest would claim it whole,
     * an old encoding.json would describe other values, an old y.csv
     * other rows. */
    rc = remove_own(outdir, "manifest.csv");
    if (!rc)
        rc = remove_own(outdir, "encoding.json");
    if (!rc)
        rc = remove_own(outdir, "y.csv");
    /* Marks the folder unfinished until the manifest is written. */
    if (!rc)
        rc = cli_encode_mark_start(outdir);
    for (int c = 0; c < n_classes && !rc && !stack; c++) {
        if (!used[c])
            continue;
        char *dir = NULL;
        if (asprintf(&dir, "%s/%s", outdir, folder[c]) < 0)
            return sg_fail(SG_E_NOMEM, "out of memory");
        rc = sg_mkdir_p(dir);
        free(dir);
    }
    return rc;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void print_skipped(const sg_skipped *sk)
{
    if (sk->n == 0)
        return;
    fprintf(stderr, CMD ": warning: skipped %zu input%s:\n", sk->n, sk->n == 1 ? "" : "s");
    for (size_t i = 0; i < sk->n; i++)
        fprintf(stderr, "  %s\n", sk->reason[i]);
}

static int run_encode(const struct args *a, const enc_stack *st, sg_skipped *skipped)
{
    double t0 = now_seconds();
    enc_params p = st->p[0];
    int nk = st->n;                         /* encoders per image */
    const enc_stack *stacked = nk > 1 ? st : NULL;
    enc_fit *fits[ENC_STACK_MAX] = {0};
    sg_series_set set;
    sg_npy_stack stack;
    char *stack_path = NULL;
    memset(&stack, 0, sizeof stack);
    int rc = check_outdir(a->outdir);
    if (rc)
        return rc;
    rc = load_inputs(&set, a, a->inputs, a->n_inputs, 0, a->skip ? skipped : NULL);
    if (rc)
        return rc;
    int C = set.n_channels, T = set.n_samples, oc = 0, oh = 0, ow = 0;
    int nt = sg_parallel_threads(a->jobs);
    if ((size_t)nt > set.n)
        nt = (int)set.n;
    enc_fit *fit = NULL;
    int marked = 0; /* the folder is ours to clean up after a failure */
    struct encode_job job = {0};
    char **folder = calloc((size_t)set.n_classes, sizeof *folder);
    int *used = calloc((size_t)set.n_classes, sizeof *used);
    job.ws = calloc((size_t)nt * (size_t)nk, sizeof *job.ws);
    job.out = calloc((size_t)nt, sizeof *job.out);
    job.rel_path = calloc(set.n, sizeof *job.rel_path);
    job.failed = calloc(set.n, sizeof *job.failed);
    if (!folder || !used || !job.ws || !job.out || !job.rel_path || !job.failed) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    if (stacked) {
        rc = enc_stack_shape(stacked, C, T, &oc, &oh, &ow);
    } else {
        rc = enc_params_check(&p, C, T);
        if (!rc)
            rc = enc_output_shape(&p, C, T, &oc, &oh, &ow);
    }
    /* The settings do not fit these segments: say which input they came from. */
    if (rc && set.n)
        rc = sg_fail_context(rc, "%s (segments of %d samples x %d channels)", set.source[0], T, C);
    /* Three unrelated channels must not pass for RGB: only the rgb layout
     * makes a colour PNG. */
    /* Too big to hold: say which input, how big, and what to change. */
    double img_bytes = 4.0 * oc * (double)oh * (double)ow;
    if (!rc && img_bytes > (double)(1ULL << 31))
        rc = sg_fail(SG_E_INVALID,
                     "%s: a segment of %d samples gives a %d x %d x %d image (%.1f GiB as "
                     "floats, per thread): cut recordings into windows with --window N (e.g. "
                     "--window 128) or shrink the image with --image-size",
                     set.source[0], T, oc, oh, ow, img_bytes / (double)(1ULL << 30));
    if (!rc && stacked && !a->npy && oc != 3) {
        char name[128];
        enc_stack_name(stacked, name, sizeof name);
        rc = sg_fail(SG_E_INVALID,
                     "PNG holds 1 (gray) or 3 (RGB) channels but --encoder %s stacks %d: use "
                     "--format npy",
                     name, oc);
    }
    if (!rc && !stacked && !a->npy && ((oc != 1 && oc != 3) ||
                                       (oc == 3 && p.layout == ENC_LAYOUT_CHANNELS)))
        rc = sg_fail(SG_E_INVALID,
                     "PNG holds 1 (gray) or 3 (RGB) channels but --layout channels gives %d: "
                     "use --layout mosaic or rgb, or --format npy",
                     oc);
    if (rc)
        goto done;
    for (int c = 0; c < set.n_classes && !rc; c++)
        if (!(folder[c] = safe_label(set.class_names[c])))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; i < set.n; i++)
        used[set.label[i]] = 1;
    if (!rc && !a->stack)
        rc = check_unique_names(&set, folder);
    if (!rc && !stacked)
        rc = make_fit(&fit, &p, a, &set);
    for (int k = 0; !rc && stacked && k < nk; k++)
        rc = make_fit(&fits[k], &stacked->p[k], a, &set);
    if (!rc)
        rc = prepare_outdir(a->outdir, folder, set.n_classes, used, a->stack, a->overwrite);
    marked = !rc;
    if (!rc && a->stack) {
        size_t row_shape[3] = {(size_t)oc, (size_t)oh, (size_t)ow};
        if (asprintf(&stack_path, "%s/%s", a->outdir, SG_STACK_FILE) < 0) {
            stack_path = NULL;
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        } else {
            rc = sg_npy_stack_open(&stack, stack_path, 3, row_shape);
        }
        if (!rc)
            job.stack = &stack;
    }
    size_t numel = (size_t)oc * (size_t)oh * (size_t)ow;
    for (int t = 0; t < nt && !rc; t++) {
        rc = stacked ? enc_stack_ws_create(job.ws + (size_t)t * (size_t)nk, stacked, C, T)
                     : enc_workspace_create(&job.ws[t], &p, C, T);
        if (rc == SG_E_NOMEM)
            rc = sg_fail(SG_E_NOMEM,
                         "%s: out of memory for the encoder workspace of a %d-sample segment "
                         "(%d x %d x %d image, %.2f GiB as floats, thread %d of %d): cut "
                         "recordings with --window N, shrink with --image-size, or use fewer "
                         "threads (-j)",
                         set.source[0], T, oc, oh, ow, img_bytes / (double)(1ULL << 30), t + 1,
                         nt);
        if (!rc && !(job.out[t] = malloc(numel * sizeof(float))))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (rc)
        goto done;
    job.set = &set;
    job.p = &p;
    job.fit = fit;
    job.stacked = stacked;
    job.fits = fits;
    job.folder = folder;
    job.outdir = a->outdir;
    job.oc = oc;
    job.oh = oh;
    job.ow = ow;
    job.npy = a->npy;
    job.depth = a->depth;
    job.png_level = a->png_level;
    job.skip = a->skip;
    job.shard_i = a->shard_i;
    job.shard_n = a->shard_n;
    enc_value_range(&p, &job.lo, &job.hi, &job.bounded);
    if (stacked) {
        /* enc_stack_encode maps every encoder to [0, 1] already */
        job.lo = 0.0;
        job.hi = 1.0;
        job.bounded = 1;
    }
    if (!a->quiet)
        rc = sg_progress_create(&job.progress, stderr, "encode", set.n, -1);
    if (!rc)
        rc = sg_parallel_for(set.n, nt, encode_one, &job);
    if (job.progress)
        sg_progress_finish(job.progress);
    size_t written = 0;
    if (rc == SG_E_INTERRUPTED) {
        for (size_t i = 0; i < set.n; i++)
            written += job.rel_path[i] != NULL;
        fprintf(stderr,
                CMD ": interrupted after writing %zu of %zu images; removed them again (no "
                "manifest, nothing half-made left in %s): run the command again to encode\n",
                written, set.n, a->outdir);
    }
    for (size_t i = 0; i < set.n && !rc; i++) {
        if (job.failed[i])
            rc = sg_skipped_add(skipped, set.source[i], job.failed[i]);
        written += job.rel_path[i] != NULL;
    }
    size_t mine = a->shard_n > 1 ? (set.n + (size_t)(a->shard_n - 1 - a->shard_i)) /
                                       (size_t)a->shard_n
                                 : set.n;
    if (!rc && written == 0 && mine > 0)
        rc = sg_fail(SG_E_INVALID, "every input failed; nothing written");
    /* Images skipped their own fsync: one sync, then the manifest. */
    if (!rc)
        rc = sg_sync_folder(a->outdir);
    int merged = 0;
    if (!rc && a->npy)
        rc = write_encoding(&job, a->outdir);
    if (!rc && job.stack)
        rc = write_y(&job, a->outdir);
    if (!rc && a->shard_n > 0)
        rc = write_part(&job, a, &merged);
    else if (!rc)
        rc = write_manifest(&job, a->outdir);
    /* The folder is whole once its manifest is there (a shard: all parts). */
    if (!rc && (a->shard_n == 0 || merged))
        rc = cli_encode_mark_done(a->outdir);
    if (!rc && a->shard_n > 0 && !a->quiet)
        fprintf(stderr, CMD ": shard %d/%d: %s\n", a->shard_i, a->shard_n,
                merged ? "all parts present, manifest.csv written"
                       : "part written; manifest.csv once every part is there (or --merge)");
    if (job.stack) {
        /* X.npy last: until it is renamed into place the folder is not whole */
        unsigned char *keep = rc ? NULL : malloc(set.n ? set.n : 1);
        if (!rc && !keep)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        for (size_t i = 0; keep && i < set.n; i++)
            keep[i] = job.rel_path[i] != NULL;
        if (!rc)
            rc = sg_npy_stack_commit(&stack, set.n, keep);
        else
            sg_npy_stack_abort(&stack);
        job.stack = NULL;
        free(keep);
        if (rc) {
            /* the manifest would pair with an old (or no) X.npy */
            (void)remove_own(a->outdir, "manifest.csv");
            (void)remove_own(a->outdir, "y.csv");
        }
    }
    if (!rc) {
        double s = now_seconds() - t0;
        char skip_note[64] = "";
        if (skipped->n)
            snprintf(skip_note, sizeof skip_note, ", %zu skipped", skipped->n);
        /* Skipped inputs are counted apart: they were read, not encoded. */
        printf("encoded %zu segments (%s, %d x %d each%s) into %zu %s images of %d x %d x %d "
               "in %.2f s (%.1f images/s), %d threads -> %s%s\n",
               written, a->dsa ? "dsa" : "csv", C, T, skip_note, written,
               a->stack ? "stacked npy" : a->npy ? "npy" : "png", oc, oh, ow, s,
               s > 0 ? (double)written / s : 0.0, nt, a->outdir,
               a->stack ? "/" SG_STACK_FILE : "");
    }
done:
    if (job.stack)
        sg_npy_stack_abort(job.stack);
    free(stack_path);
    /* Failed or interrupted: what this run wrote goes, the marker too. */
    if (rc && marked && job.rel_path)
        cli_encode_outdir_discard(a->outdir, job.rel_path, set.n);
    sg_progress_free(job.progress);
    if (job.ws)
        for (size_t t = 0; t < (size_t)nt * (size_t)nk; t++)
            enc_workspace_free(job.ws[t]);
    if (job.out)
        for (int t = 0; t < nt; t++)
            free(job.out[t]);
    if (job.rel_path)
        for (size_t i = 0; i < set.n; i++)
            free(job.rel_path[i]);
    if (job.failed)
        for (size_t i = 0; i < set.n; i++)
            free(job.failed[i]);
    free(job.ws);
    free(job.out);
    free(job.rel_path);
    free(job.failed);
    if (folder)
        for (int c = 0; c < set.n_classes; c++)
            free(folder[c]);
    free(folder);
    free(used);
    enc_fit_free(fit);
    enc_stack_fits_free(fits, nk);
    sg_series_set_free(&set);
    return rc;
}

int cmd_encode(int argc, char **argv)
{
    struct args a;
    int rc = parse_args(&a, argc, argv);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (a.merge) {
        size_t rows = 0;
        rc = encode_merge(a.merge, a.inputs, a.n_inputs, &rows);
        if (rc) {
            fprintf(stderr, CMD ": %s\n", sg_last_error());
            return 1;
        }
        printf("merged %d parts, %zu rows -> %s/manifest.csv\n", a.n_inputs, rows, a.merge);
        return 0;
    }
    enc_stack st;
    rc = build_stack(&st, &a);
    if (rc)
        return rc;
    /* Mixing new images with an earlier run's is a usage error. */
    /* (--shard parts share one OUTDIR by design; --merge only adds the manifest.) */
    rc = a.shard_n > 0 || a.merge ? SG_OK : cli_encode_outdir_guard(a.outdir, a.overwrite);
    if (rc) {
        fprintf(stderr, CMD ": %s\n", sg_last_error());
        return rc == SG_E_INVALID ? 2 : 1;
    }
    sg_skipped skipped = {0};
    rc = sg_signals_install();
    if (!rc)
        rc = run_encode(&a, &st, &skipped);
    print_skipped(&skipped);
    sg_skipped_free(&skipped);
    if (rc) {
        fprintf(stderr, CMD ": %s\n", sg_last_error());
        return rc == SG_E_INTERRUPTED ? 130 : 1;
    }
    return 0;
}
