/* cli_encode.c - `sensorgram encode`: parses argv into an encode_request,
 * builds the encoder stack, guards the output folder and hands the work to
 * src/encode/encode_run.c (which says what is written where).  Messages go
 * to stderr, the summary to stdout; exit 0, 1 failure, 2 usage, 130
 * interrupted.
 */
#include "src/base/sg_error.h"
#include "src/base/signals.h"
#include "src/cli/cli_enc_opts.h"
#include "src/cli/commands.h"
#include "src/encode/encode_outdir.h"
#include "src/encode/encode_run.h"
#include "src/encode/encode_shard.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
static int build_params(enc_params *p, const enc_args *a, int npy)
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
static int build_stack(enc_stack *st, const encode_request *a)
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

static int parse_args(encode_request *a, int argc, char **argv)
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

static void print_skipped(const sg_skipped *sk)
{
    if (sk->n == 0)
        return;
    fprintf(stderr, CMD ": warning: skipped %zu input%s:\n", sk->n, sk->n == 1 ? "" : "s");
    for (size_t i = 0; i < sk->n; i++)
        fprintf(stderr, "  %s\n", sk->reason[i]);
}

int cmd_encode(int argc, char **argv)
{
    encode_request a;
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
    rc = a.shard_n > 0 || a.merge ? SG_OK : encode_outdir_guard(a.outdir, a.overwrite);
    if (rc) {
        fprintf(stderr, CMD ": %s\n", sg_last_error());
        return rc == SG_E_INVALID ? 2 : 1;
    }
    sg_skipped skipped = {0};
    rc = sg_signals_install();
    if (!rc)
        rc = encode_run(&a, &st, &skipped);
    print_skipped(&skipped);
    sg_skipped_free(&skipped);
    if (rc) {
        fprintf(stderr, CMD ": %s\n", sg_last_error());
        return rc == SG_E_INTERRUPTED ? 130 : 1;
    }
    return 0;
}
