/* cli_rows.c - the option registry: one row per option (cli_registry.h).
 *
 * Rows are in --help order; a row whose name is NULL is a heading.  The
 * encoder's own options (--n-bins, ...) stay raw strings in enc_args:
 * cli_enc_build applies them over each encoder's pyts defaults once the
 * encoder is known, so their defaults here are words (def_text), checked
 * against enc_params_default by tests/test_options_doc.c.
 */
#include "src/cli/cli_registry.h"
#include "src/cli/cli_number.h"

#include "datasets/series_augment.h"
#include "src/base/sg_error.h"
#include "src/encode/encode_run.h"
#include "src/encode/encode_shard.h"
#include "src/train/adapt_bn.h"
#include "src/train/job.h"
#include "src/train/job_budget.h"
#include "src/train/series_length.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A custom handler (cli_parse_fn); few need every argument. */
#define HANDLER(fn)                                                                       \
    static int fn(void *req __attribute__((unused)), cli_cmd cmd __attribute__((unused)), \
                  void *field __attribute__((unused)), const char *arg)

/* --label-regex of the model commands: a typo is found before any reading. */
HANDLER(parse_label_regex)
{
    regex_t re;
    int err = regcomp(&re, arg, REG_EXTENDED);
    if (err) {
        char msg[256];
        regerror(err, &re, msg, sizeof msg);
        return sg_fail(SG_E_INVALID, "--label-regex: '%s' is not a valid regular expression: %s",
                       arg, msg);
    }
    regfree(&re);
    *(const char **)field = arg;
    return SG_OK;
}

/* --magnitude: checked everywhere; encode keeps the words for its
 * fingerprint, figures passes them on. */
HANDLER(parse_magnitude)
{
    dsa_magnitude m;
    int rc = dsa_magnitude_parse(&m, arg);
    if (rc == SG_OK && cmd == CLI_FIGURES)
        *(const char **)field = arg;
    else if (rc == SG_OK)
        *(dsa_magnitude *)field = m;
    if (rc == SG_OK && cmd == CLI_ENCODE)
        ((encode_request *)req)->magnitude_arg = arg;
    return rc;
}

HANDLER(parse_cv)
{
    job_opts *o = req;
    if (strncasecmp(arg, "kfold:", 6) == 0) {
        o->cv = JOB_CV_KFOLD;
        return cli_parse_int(&o->cv_k, "cv", arg + 6, 2, 1000);
    }
    static const char *const names[] = {"none", "loso"};
    for (int i = 0; i < 2; i++)
        if (strcasecmp(arg, names[i]) == 0) {
            o->cv = i ? JOB_CV_LOSO : JOB_CV_NONE;
            return SG_OK;
        }
    return sg_fail(SG_E_INVALID, "--cv: unknown value '%s' (expected loso, kfold:K or none)",
                   arg);
}

HANDLER(parse_member)
{
    job_opts *o = req;
    if (o->n_members == JOB_MEMBERS_MAX)
        return sg_fail(SG_E_INVALID, "--member: at most %d members", JOB_MEMBERS_MAX);
    o->members[o->n_members++] = arg;
    return SG_OK;
}

/* --tent N: N > 0 adapts the statistics first, so it sets --adapt-bn
 * (one flag says an input set is adapted, wherever it is read). */
HANDLER(parse_tent)
{
    int rc = cli_parse_int(field, "tent", arg, 0, 100);
    if (rc == SG_OK && *(int *)field > 0)
        ((job_opts *)req)->adapt_bn = 1;
    return rc;
}

HANDLER(parse_precision)
{
    if (!arg || strcasecmp(arg, "bf16") == 0)
        *(sg_precision *)field = SG_PRECISION_BF16;
    else if (strcasecmp(arg, "fp16") == 0)
        *(sg_precision *)field = SG_PRECISION_FP16;
    else
        return sg_fail(SG_E_INVALID, "--mixed-precision: '%s' (expected bf16 or fp16)", arg);
    return SG_OK;
}

HANDLER(parse_cuda_graphs)
{
    int rc = sg_cuda_graphs_parse(field, arg);
    return rc ? sg_fail_context(rc, "--cuda-graphs") : SG_OK;
}

/* A 64-bit seed: wider than cli_parse_int's int. */
HANDLER(parse_seed)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno || end == arg || *end != '\0' || arg[0] == '-')
        return sg_fail(SG_E_INVALID, "--seed: '%s' is not a non-negative integer", arg);
    *(uint64_t *)field = v;
    return SG_OK;
}

/* --window: rows per CSV window; a window function's name is the old
 * spelling of --stft-window (a note says so). */
HANDLER(parse_window)
{
    /* figures has no spectrogram option to take the old spelling */
    if ((arg[0] >= '0' && arg[0] <= '9') || cmd == CLI_FIGURES)
        return cli_parse_int(field, "window", arg, 1, 1 << 30);
    fprintf(stderr, "sensorgram %s: --window NAME is now --stft-window NAME (--window N is rows "
                    "per CSV window)\n", cli_cmd_name(cmd));
    if (cmd == CLI_ENCODE)
        ((encode_request *)req)->enc.stft_window = arg;
    else
        ((job_opts *)req)->enc_args.stft_window = arg;
    return SG_OK;
}

/* --valid-pct F, or auto: by the set's size (src/train/job_budget.h). */
HANDLER(parse_valid_pct)
{
    if (strcasecmp(arg, "auto") == 0) {
        *(double *)field = JOB_VALID_AUTO;
        return SG_OK;
    }
    return cli_parse_double(field, "valid-pct", arg, 0.0, 0.99, 0);
}

/* --max-length N, auto or off (src/train/series_length.h). */
HANDLER(parse_max_length)
{
    if (strcasecmp(arg, "auto") == 0) {
        *(int *)field = SERIES_LENGTH_AUTO;
        return SG_OK;
    }
    if (strcasecmp(arg, "off") == 0) {
        *(int *)field = 0;
        return SG_OK;
    }
    return cli_parse_int(field, "max-length", arg, 2, 1 << 30);
}

/* --bs N, or auto: sized to the training split (src/train/job_budget.h). */
HANDLER(parse_bs)
{
    if (strcasecmp(arg, "auto") == 0) {
        *(int *)field = 0;
        return SG_OK;
    }
    return cli_parse_int(field, "bs", arg, 1, 1 << 16);
}

HANDLER(parse_shard)
{
    encode_request *a = req;
    return encode_shard_parse(arg, &a->shard_i, &a->shard_n);
}

HANDLER(parse_delimiter)
{
    if (strcmp(arg, ",") == 0 || strcmp(arg, ";") == 0)
        *(char *)field = arg[0];
    else if (strcasecmp(arg, "tab") == 0 || strcmp(arg, "\t") == 0 || strcmp(arg, "\\t") == 0)
        *(char *)field = '\t';
    else
        return sg_fail(SG_E_INVALID, "--delimiter: expected ',', ';' or tab, got '%s'", arg);
    return SG_OK;
}

#define ENC CLI_BIT(CLI_ENCODE)
#define TRN CLI_BIT(CLI_TRAIN)
#define EVL CLI_BIT(CLI_EVAL)
#define PRD CLI_BIT(CLI_PREDICT)
#define LRF CLI_BIT(CLI_LR_FIND)
#define FEA CLI_BIT(CLI_FEATURES)
#define FIG CLI_BIT(CLI_FIGURES)
#define WTS CLI_BIT(CLI_WEIGHTS)
#define EXP CLI_BIT(CLI_EXPLAIN)
#define PRE CLI_BIT(CLI_PRETRAIN)
#define MODEL (TRN | EVL | PRD | LRF | FEA | EXP)
#define FIT (TRN | LRF | FEA) /* read and encode the data themselves */
#define OUTPUT (EVL | PRD | FEA)
#define ALL (ENC | MODEL | FIG | WTS | PRE)

#define J(f) [CLI_REQ_JOB] = offsetof(job_opts, f) + 1
#define E(f) [CLI_REQ_ENCODE] = offsetof(encode_request, f) + 1
#define F(f) [CLI_REQ_FIGURES] = offsetof(cli_figures_req, f) + 1
#define W(f) [CLI_REQ_WEIGHTS] = offsetof(cli_weights_req, f) + 1
#define EA(f) J(enc_args.f), E(enc.f)
#define CH(...) ((const char *const[]){__VA_ARGS__, NULL})
#define STR_(x) #x
#define STR(x) STR_(x)

const cli_opt cli_opts[] = {
    {NULL, .help = "Data:"},
    {"dataset", .cmds = ENC, .type = CLI_CHOICE, .at = {E(dsa)}, .choices = CH("csv", "dsa"),
     .def = "csv", .help = "dsa: INPUT is a UCI Daily and Sports Activities root (ROOT/aNN/pM/"
     "sKK.txt); csv: INPUTs are CSV files or folders (searched for *.csv, *.txt), or one "
     "UEA/UCR .ts file"},
    {"dataset", .cmds = FIT | PRE, .type = CLI_CHOICE, .at = {J(dataset)}, .choices = CH("dsa"),
     .flags = CLI_F_NAME | CLI_F_SHARED,
     .help = "DATA is a Daily and Sports Activities root, encoded in memory"},
    {"dataset", .cmds = FIG, .type = CLI_CHOICE, .at = {F(g.dataset)}, .choices = CH("dsa"),
     .flags = CLI_F_NAME, .def_text = "dsa for a folder with aNN activity folders; else CSV "
     "recordings, a .ts file or X.npy, found from DATA", .help = "the --gallery DATA's layout"},
    {"label-regex", .cmds = TRN | EVL | LRF | FEA | EXP | PRE, .type = CLI_CUSTOM, .at = {J(label_regex)},
     .parse = parse_label_regex, .value = "RE", .flags = CLI_F_SHARED,
     .help = "labels = first capture group (or whole match) of RE on image file names "
     "('^([a-z]+)\\.'); on CSV recordings, on their path under the folder given (the file "
     "name when directly in it); implies --label-from regex"},
    {"photos", .cmds = TRN | EVL | LRF | FEA, .type = CLI_FLAG, .at = {J(photos)},
     .flags = CLI_F_SHARED,
     .help = "read DATA as photo class folders even if an unfinished encode left it"},
    {"units", .cmds = ENC | FIT | PRE, .type = CLI_LIST, .at = {J(units), E(units)}, .def_text = "all",
     .help = "DSA units: T,RA,LA,RL,LL"},
    {"units", .cmds = FIG, .type = CLI_LIST, .at = {F(g.units)}, .def_text = "LL",
     .help = "DSA units: T,RA,LA,RL,LL"},
    {"sensors", .cmds = ENC | FIT | PRE, .type = CLI_LIST, .at = {J(sensors), E(sensors)},
     .def_text = "all", .help = "DSA sensors: acc,gyro,mag"},
    {"sensors", .cmds = FIG, .type = CLI_LIST, .at = {F(g.sensors)}, .def_text = "acc",
     .help = "DSA sensors: acc,gyro,mag"},
    {"axes", .cmds = ENC | FIT | FIG | PRE, .type = CLI_LIST, .at = {J(axes), E(axes), F(g.axes)},
     .def_text = "all", .help = "DSA axes: x,y,z"},
    {"subjects", .cmds = ENC | FIT | PRE, .type = CLI_LIST, .at = {J(subjects), E(subjects)},
     .def_text = "all found", .flags = CLI_F_SHARED, .help = "DSA subjects to read (1,2,7)"},
    {"subjects", .cmds = FIG, .type = CLI_LIST, .at = {F(g.subjects)}, .def_text = "1",
     .help = "DSA subjects to draw from"},
    {"magnitude", .cmds = ENC | FIT | FIG | PRE, .type = CLI_CUSTOM, .parse = parse_magnitude,
     .at = {J(magnitude), E(magnitude), F(g.magnitude)}, .value = "add|only|off",
     .def_text = "off", .help = "DSA: rotation-invariant rows sqrt(x^2+y^2+z^2) per unit and "
     "sensor (T_acc_norm, ...), after the axes (add) or instead of them (only; 5 units x 3 "
     "sensors = 15 rows)"},
    {"max-length", .cmds = FIT | PRE, .type = CLI_CUSTOM, .at = {J(max_length)},
     .parse = parse_max_length, .value = "N|auto|off", .def_text = "off",
     .help = "series longer than N samples are shortened to N by averaging windows (PAA) "
     "before augmentation and encoding; auto: samples x max(channels, 16) up to 16384 (1024 "
     "samples up to 16 channels), at least 64; eval and predict shorten as the checkpoint did"},
    {"columns", .cmds = ENC | FIT | FIG | PRE, .type = CLI_LIST,
     .at = {J(csv.columns), E(csv.columns), F(g.csv.columns)},
     .def_text = "all but the label and subject columns",
     .help = "csv: column names or 0-based indices"},
    {"delimiter", .cmds = ENC | MODEL | FIG | PRE, .type = CLI_CUSTOM,
     .at = {J(csv.delimiter), E(csv.delimiter), F(g.csv.delimiter)}, .parse = parse_delimiter, .value = "C",
     .def_text = "found from the first line: ',', else tab or ';'", .flags = CLI_F_SHARED,
     .help = "csv: field separator ',', ';' or tab"},
    {"header", .cmds = ENC | MODEL | FIG | PRE, .type = CLI_SET,
     .at = {J(csv.header), E(csv.header), F(g.csv.header)},
     .lo = SENSOR_CSV_HEADER_YES, .def_text = "a header if any first-row field is not a number",
     .flags = CLI_F_SHARED, .help = "csv: the first row is column names"},
    {"no-header", .cmds = ENC | MODEL | FIG | PRE, .type = CLI_SET,
     .at = {J(csv.header), E(csv.header), F(g.csv.header)},
     .lo = SENSOR_CSV_HEADER_NO, .flags = CLI_F_SHARED, .help = "csv: the first row is data"},
    {"window", .cmds = ENC | FIT | FIG | PRE, .type = CLI_CUSTOM,
     .at = {J(csv.window), E(csv.window), F(g.csv.window)},
     .parse = parse_window, .value = "N", .def_text = "the whole file is one segment; then all "
     "files must have equal length", .flags = CLI_F_SHARED, .help = "csv: cut recordings into "
     "windows of N rows (the last partial one is dropped)"},
    {"stride", .cmds = ENC | FIT | FIG | PRE, .type = CLI_INT,
     .at = {J(csv.stride), E(csv.stride), F(g.csv.stride)}, .lo = 1,
     .hi = 1 << 30, .def_text = "N of --window", .flags = CLI_F_SHARED,
     .help = "csv: rows between window starts"},
    {"label-from", .cmds = ENC | TRN | EVL | LRF | FEA | FIG | PRE, .type = CLI_CHOICE,
     .at = {J(csv.label_from), E(csv.label_from), F(g.csv.label_from)}, .choices = CH("dir", "column", "regex"),
     .def = "dir", .flags = CLI_F_SHARED, .help = "csv: label = parent folder name, a column "
     "(--label-column) or a regex on the file's path (--label-regex)"},
    {"label-column", .cmds = ENC | TRN | EVL | LRF | FEA | FIG | PRE, .type = CLI_STRING,
     .at = {J(csv.label_column), E(csv.label_column), F(g.csv.label_column)}, .value = "C", .flags = CLI_F_SHARED,
     .help = "csv: label column (name or index); implies --label-from column"},
    {"label-first", .cmds = ENC | TRN | EVL | LRF | FEA | FIG | PRE, .type = CLI_FLAG,
     .at = {J(csv.label_first), E(csv.label_first), F(g.csv.label_first)},
     .def_text = "the majority value, ties to the first seen", .flags = CLI_F_SHARED,
     .help = "csv: a window's label is its first row's value"},
    {"label-regex", .cmds = ENC | FIG, .type = CLI_STRING,
     .at = {E(csv.label_regex), F(g.csv.label_regex)}, .value = "RE",
     .help = "csv: POSIX extended regex on the file's path under the folder given (the file "
     "name when directly in it); the first capture group (or whole match) is the label; "
     "implies --label-from regex"},
    {"subject-column", .cmds = ENC | FIT | PRE, .type = CLI_STRING,
     .at = {J(csv.subject_column), E(csv.subject_column)}, .value = "C", .flags = CLI_F_SHARED,
     .help = "csv: the subject (who wore the sensors) from a column (name or index; per window "
     "the majority value), for subject-wise validation, --valid-subjects and --cv loso; integer "
     "ids, or names numbered from 1 in sorted order"},
    {"subject-regex", .cmds = ENC | FIT | PRE, .type = CLI_STRING,
     .at = {J(csv.subject_regex), E(csv.subject_regex)}, .value = "RE", .flags = CLI_F_SHARED,
     .help = "csv: the subject from the first capture group of RE on each file's path under the "
     "folder given ('/p([0-9]+)/' for ROOT/a01/p1/s01.txt)"},

    {NULL, .help = "Encoder (pyts names in kebab case; defaults are pyts "
     "0.13's):"},
    {"encoder", .cmds = ENC, .type = CLI_STRING, .at = {EA(encoder)}, .def = "gasf",
     .value = "NAME", .help = "gray|rp|jrp|gasf|gadf|mtf|spectrogram, or several joined by '+' "
     "(gray+gasf+rp): each made as alone, mapped to [0,1], resized (bilinear) to the first "
     "one's size and stacked as channels (PNG only for 3 channels, else --format npy); "
     "NAME:KEY=VALUE gives one element its own option (gray+gray:scope=axis; KEY: any option "
     "below but --overlapping, --mtf-fitted, --no-log)"},
    {"encoder", .cmds = FIT | PRE, .type = CLI_STRING, .at = {EA(encoder)}, .def = "gray",
     .value = "NAME", .help = "gray|rp|jrp|gasf|gadf|mtf|spectrogram, or several joined by '+' "
     "(gray+gasf+rp): stacked as channels at the first one's size (others resized "
     "bilinearly), each mapped to [0,1]; an element may set its own options: "
     "gray+gray:scope=axis"},
    {"encoder", .cmds = FIG, .type = CLI_LIST, .at = {F(g.encoders)}, .def_text = "rp,gasf,mtf",
     .help = "encoders side by side in the gallery (gray, rp, jrp, gasf, gadf, mtf, "
     "spectrogram)"},
    {"enc-size", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(image_size)}, .value = "N|F",
     .def_text = "1.0", .help = "gasf/gadf/mtf image side: pixels, or a fraction of the series "
     "length T (pyts's image_size)"},
    {"image-size", .cmds = ENC, .alias_of = "enc-size", .note = "--image-size is now --enc-size "
     "(the encoder's side; --image-size is the model input in train)"},
    {"sample-range", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(sample_range)},
     .value = "LO,HI|none", .def_text = "-1,1", .help = "gasf/gadf"},
    {"overlapping", .cmds = ENC | FIT | PRE, .type = CLI_FLAG, .at = {EA(overlapping)},
     .help = "gasf/gadf/mtf: overlapping PAA windows"},
    {"n-bins", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(n_bins)}, .value = "N",
     .def_text = "5", .help = "mtf bins"},
    {"bins", .cmds = FIT | PRE, .alias_of = "n-bins"},
    {"strategy", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(strategy)},
     .value = "quantile|uniform|normal", .def_text = "quantile", .help = "mtf bin edges"},
    {"mtf-fitted", .cmds = ENC | FIT | PRE, .type = CLI_FLAG, .at = {EA(mtf_fitted)},
     .help = "mtf: bin edges fitted per channel on the training (fit) data"},
    {"dimension", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(dimension)}, .value = "N",
     .def_text = "1", .help = "rp/jrp embedding dimension"},
    {"time-delay", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(time_delay)}, .value = "N",
     .def_text = "1", .help = "rp/jrp time delay"},
    {"threshold", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(threshold)},
     .value = "none|point|distance|X", .def_text = "none", .help = "rp/jrp"},
    {"percentage", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(percentage)}, .value = "P",
     .def_text = "10", .help = "rp/jrp with --threshold point or distance"},
    {"window-length", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(window_length)},
     .value = "N", .def_text = "32", .help = "spectrogram window (samples)"},
    {"hop", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(hop)}, .value = "N",
     .def_text = "4", .help = "spectrogram hop (samples)"},
    {"stft-window", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(stft_window)},
     .value = "hann|hamming|blackman|rect", .def_text = "hann",
     .help = "spectrogram window function"},
    {"no-log", .cmds = ENC | FIT | PRE, .type = CLI_FLAG, .at = {EA(no_log)},
     .help = "spectrogram: linear magnitude instead of dB"},
    {"scope", .cmds = ENC | FIT | PRE, .type = CLI_STRING, .at = {EA(scope)},
     .value = "dataset|segment|axis", .def_text = "dataset", .help = "gray min/max scope"},
    {"layout", .cmds = ENC, .type = CLI_STRING, .at = {EA(layout)},
     .value = "channels|mosaic|rgb", .def_text = "mosaic for png, channels for npy",
     .help = "multi-channel layout (mosaic tiles every channel into one gray image)"},
    {"layout", .cmds = FIT | PRE, .type = CLI_STRING, .at = {EA(layout)},
     .value = "channels|mosaic|rgb", .def_text = "rgb for x,y,z triples, else mosaic",
     .help = "multi-channel layout"},
    {"fit-on", .cmds = ENC, .type = CLI_STRING, .at = {E(fit_on)}, .value = "all|subjects=L|PATH",
     .def_text = "all", .help = "data for dataset-fitted state (gray scope dataset, "
     "--mtf-fitted): all = the inputs; subjects=1,2 = those subjects of the inputs; PATH = a "
     "DSA root or CSV files read with the same options"},
    {"save-fit", .cmds = ENC, .type = CLI_STRING, .at = {E(save_fit)}, .value = "F",
     .help = "write the fitted state (JSON)"},
    {"load-fit", .cmds = ENC, .type = CLI_STRING, .at = {E(load_fit)}, .value = "F",
     .help = "reuse a fitted state (JSON)"},

    {NULL, .help = "Split:"},
    {"valid-pct", .cmds = TRN | LRF, .type = CLI_CUSTOM, .at = {J(valid_pct)},
     .parse = parse_valid_pct, .def = "0.2", .value = "F|auto", .flags = CLI_F_SHARED,
     .help = "given: a random validation fraction of the samples; else whole subjects held out, "
     "about this fraction of them, where samples carry subjects; auto: none up to 2,000 "
     "samples without subjects (all train: measure on a test set, or ask for --cv kfold:5), "
     "else 0.2"},
    {"valid-subjects", .cmds = TRN | LRF, .type = CLI_LIST, .at = {J(valid_subjects)},
     .flags = CLI_F_SHARED, .help = "subjects held out for validation ('7,8')"},
    {"cv", .cmds = TRN | LRF | PRE, .type = CLI_CUSTOM, .at = {J(cv)}, .parse = parse_cv,
     .value = "loso|kfold:K", .def_text = "none", .flags = CLI_F_SHARED,
     .help = "cross-validation: every fold trained and evaluated"},

    {NULL, .help = "Model:"},
    {"arch", .cmds = MODEL | PRE, .type = CLI_CHOICE, .at = {J(arch)},
     .choices = CH("resnet18", "resnet34", "resnet50"), .def = "resnet34", .help = "network"},
    {"pretrained", .cmds = FIT, .type = CLI_STRING, .at = {J(pretrained)}, .value = "W",
     .def_text = "stored resnet weights, else none", .help = "weights NAME, PATH or none"},
    {"image-size", .cmds = FIT | PRE, .type = CLI_INT, .at = {J(image_size)}, .lo = 8, .hi = 4096,
     .def_text = "the images' own size", .help = "model input side"},
    {"device", .cmds = MODEL | PRE, .type = CLI_STRING, .at = {J(device)}, .def = "auto",
     .value = "auto|cpu|cuda|cuda:N", .help = "where the model runs"},
    {"mixed-precision", .cmds = MODEL | PRE, .type = CLI_CUSTOM, .at = {J(precision)},
     .parse = parse_precision, .value = "[=bf16|fp16]", .def_text = "fp32",
     .flags = CLI_F_OPT_ARG, .help = "CUDA autocast"},
    {"cuda-graphs", .cmds = FIT, .type = CLI_CUSTOM, .at = {J(cuda_graphs)},
     .parse = parse_cuda_graphs, .value = "auto|on|off", .def = "auto",
     .help = "training steps as CUDA graph replays (auto: on CUDA)"},
    {"jobs", 'j', .cmds = MODEL | PRE, .type = CLI_INT, .at = {J(workers)}, .hi = 256, .def = "2",
     .help = "loader threads that prepare the images"},
    {"workers", .cmds = MODEL | PRE, .alias_of = "jobs"},
    {"threads", .cmds = MODEL | PRE, .type = CLI_INT, .at = {J(threads)}, .hi = 1024,
     .def_text = "all cores, shared by the ranks on one machine", .help = "libtorch CPU threads"},
    {"on-error", .cmds = MODEL, .type = CLI_CHOICE, .at = {J(on_error_skip)},
     .choices = CH("fail", "skip"), .def = "fail", .flags = CLI_F_SHARED,
     .help = "unreadable images: stop, listing them, or leave them out"},
    {"seed", .cmds = FIT | PRE, .type = CLI_CUSTOM, .at = {J(seed)}, .parse = parse_seed, .def = "42",
     .value = "S", .help = "random seed: same seed, same run on CPU"},

    {NULL, .help = "Training:"},
    {"epochs", .cmds = FIT, .type = CLI_INT, .at = {J(epochs)}, .hi = 100000, .def = "5",
     .help = "epochs after the frozen phase"},
    {"lr", .cmds = FIT | PRE, .type = CLI_DOUBLE, .at = {J(lr)}, .lo = 1e-12, .hi = 100, .def = "1e-3",
     .value = "LR", .help = "peak learning rate"},
    {"bs", .cmds = FIT | EXP | PRE, .type = CLI_CUSTOM, .at = {J(batch_size)}, .parse = parse_bs,
     .def = "64", .value = "N|auto", .help = "batch size; auto: a tenth of the training "
     "samples, as a power of two in [8, 64], lower for images that cost more than DSA's 30 x "
     "125 (45 x 364: 8)"},
    {"epochs", .cmds = PRE, .type = CLI_INT, .at = {J(epochs)}, .lo = 1, .hi = 100000, .def = "20",
     .help = "passes over the unlabelled segments"},
    {"objective", .cmds = PRE, .type = CLI_CHOICE, .at = {J(pretrain_objective)},
     .choices = CH("simclr", "masked"), .def = "simclr", .help = "simclr: find each segment's "
     "other augmented view among the batch; masked: give the means of hidden time spans"},
    {"train-steps", .cmds = TRN | PRE, .type = CLI_INT, .at = {J(train_steps)}, .hi = 10000000,
     .def_text = "off", .help = "train for at least N optimizer steps: epochs = N / steps per "
     "epoch, and no fewer than --epochs"},
    {"wd", .cmds = FIT | PRE, .type = CLI_DOUBLE, .at = {J(wd)}, .hi = 10, .def = "0.01", .value = "W",
     .help = "weight decay"},
    {"opt", .cmds = FIT | PRE, .type = CLI_CHOICE, .at = {J(opt)}, .choices = CH("sgd", "adamw"),
     .def = "adamw", .help = "optimizer"},
    {"label-smoothing", .cmds = FIT, .type = CLI_DOUBLE, .at = {J(label_smoothing)}, .hi = 0.99,
     .def = "0", .value = "E", .help = "label smoothing of the training loss"},
    {"bn-recal", .cmds = FIT, .type = CLI_INT, .at = {J(bn_recal)}, .hi = 100000, .def = "20",
     .help = "BatchNorm statistics recomputed from N training batches before each validation "
     "(0: off, the running averages)"},
    {"freeze-epochs", .cmds = FIT, .type = CLI_INT, .at = {J(freeze_epochs)}, .hi = 100000,
     .unset = -1, .def_text = "1 with ImageNet weights, else 0 (random init, pretrain's "
     "weights)", .help = "head-only epochs "
     "first"},
    {"lr-spread", .cmds = TRN, .type = CLI_CHOICE, .at = {J(lr_spread)},
     .choices = CH("off", "on"), .unset = -1, .value = "on|off",
     .def_text = "on with ImageNet weights, else off (random init, pretrain's weights)",
     .help = "stage learning rates spread from lr/100 (stem) to lr (head), fastai's "
     "discriminative fine-tuning; off: every stage at lr"},
    {"schedule", .cmds = FIT, .type = CLI_CHOICE, .at = {J(schedule_fastai)},
     .choices = CH("onecycle", "fastai"), .def = "onecycle", .help = "learning-rate schedule"},
    {"augment", .cmds = FIT | PRE, .type = CLI_SET, .at = {J(augment)}, .lo = 1, .unset = -1,
     .help = "augmentation also for sensor images (small shifts; never flips)"},
    {"no-augment", .cmds = FIT | PRE, .type = CLI_SET, .at = {J(augment)}, .lo = 0,
     .help = "no random crops/flips for photos, no --aug-* for sensor series"},
    {"aug-rotate", .cmds = FIT | PRE, .type = CLI_DOUBLE, .at = {J(aug.p.rotate_deg)}, .hi = 180,
     .def = STR(SERIES_AUG_ROTATE_DEG_DEFAULT), .value = "DEG",
     .help = "sensor series: random rotation per body unit, max angle (0 off)"},
    {"aug-scale", .cmds = FIT | PRE, .type = CLI_DOUBLE, .at = {J(aug.p.scale_sigma)}, .hi = 1,
     .def = STR(SERIES_AUG_SCALE_DEFAULT), .value = "S",
     .help = "sensor series: one factor N(1, S) per sensor (0 off)"},
    {"aug-shift", .cmds = FIT | PRE, .type = CLI_INT, .at = {J(aug.p.shift_max)}, .hi = 1 << 20,
     .def = STR(SERIES_AUG_SHIFT_DEFAULT),
     .help = "sensor series: circular time shift by up to N samples (0 off)"},
    {"aug-crop", .cmds = FIT | PRE, .type = CLI_DOUBLE, .at = {J(aug.p.crop_min)}, .hi = 1,
     .flags = CLI_F_OPEN_LO, .def = STR(SERIES_AUG_CROP_DEFAULT), .value = "F",
     .help = "sensor series: random crop of >= F of T, resized back (1: off)"},
    {"aug-warp", .cmds = FIT | PRE, .type = CLI_DOUBLE, .at = {J(aug.p.warp_sigma)}, .hi = 1,
     .def = STR(SERIES_AUG_WARP_DEFAULT), .value = "S",
     .help = "sensor series: smooth time warp, speed sigma S (0: off; try 0.2)"},
    {"aug-jitter", .cmds = FIT | PRE, .type = CLI_DOUBLE, .at = {J(aug.p.jitter_sigma)}, .hi = 1,
     .def = STR(SERIES_AUG_JITTER_DEFAULT), .value = "S",
     .help = "sensor series: noise of S x each channel's std (0: off)"},
    {"triads", .cmds = TRN | LRF | PRE, .type = CLI_STRING, .at = {J(triads)}, .value = "auto|none|LIST",
     .def = "auto", .help = "sensor series: the x,y,z channel triads that --aug-rotate and "
     "--aug-remount turn; auto: from channel names (LL_acc_x; ax, ay, az; gyroX...); a LIST of "
     "0-based indices, one unit's triads joined by '+', units by ';' ('0,1,2+3,4,5')"},
    {"aug-remount", .cmds = FIT | PRE, .type = CLI_DOUBLE, .at = {J(aug.p.remount_p)}, .hi = 1,
     .def = STR(SERIES_AUG_REMOUNT_DEFAULT), .value = "P", .help = "sensor series: with "
     "probability P per body unit, any orientation of the unit (worn the other way round; 0 off)"},
    {"mixup", .cmds = TRN | FEA, .type = CLI_DOUBLE, .at = {J(aug.mixup)}, .hi = 100, .def = "0",
     .value = "ALPHA", .help = "mix training images and labels, Beta(ALPHA, ALPHA) (0: off; try "
     "0.4)"},
    {"cutmix", .cmds = TRN | FEA, .type = CLI_DOUBLE, .at = {J(aug.cutmix)}, .hi = 100,
     .def = "0", .value = "ALPHA", .help = "paste a box of another training image, labels by "
     "area (0: off)"},
    {"accumulate", .cmds = FIT, .type = CLI_INT, .at = {J(accumulate)}, .lo = 1, .hi = 4096,
     .def = "1", .help = "micro-batches per optimizer step"},
    {"ema", .cmds = TRN, .type = CLI_DOUBLE, .at = {J(ema)}, .lo = 1e-9, .hi = 1, .value = "D",
     .def_text = "off", .help = "validate and keep the exponential moving average of the "
     "weights, updated after every step with decay D in (0, 1] (e.g. 0.999)"},
    {"swa", .cmds = TRN, .type = CLI_INT, .at = {J(swa)}, .lo = 1, .hi = 100000, .value = "E",
     .def_text = "off", .help = "validate and keep the mean weights of the last E epochs"},
    {"keep-folds", .cmds = TRN, .type = CLI_FLAG, .at = {J(keep_folds)}, .flags = CLI_F_SHARED,
     .help = "with --cv: each fold's final model in RUN_DIR/fold_N/model.safetensors (an "
     "ensemble for eval/predict RUN_DIR)"},
    {"member", .cmds = TRN, .type = CLI_CUSTOM, .parse = parse_member, .value = "OPTS",
     .flags = CLI_F_SHARED, .help = "train an ensemble: one member per --member, each the other "
     "options plus OPTS (e.g. --member '' --member '--encoder gasf'), in RUN_DIR/member_N/; "
     "RUN_DIR gets their mean probabilities (--dataset dsa with --encoder, --scope, --layout "
     "and --magnitude left open, and --sensors too or given as acc: the defaults below)"},
    {"single", .cmds = TRN, .type = CLI_FLAG, .at = {J(single)}, .flags = CLI_F_SHARED,
     .help = "one model: the default ensemble's first member alone (--dataset dsa; with "
     "--sensors acc the stack without norm rows; .ts/numpy of 128 samples or more: the gray "
     "one)"},
    {"features", .cmds = FIT, .type = CLI_LIST, .at = {J(features)}, .value = "A.npy,B.npy",
     .flags = CLI_F_SHARED, .help = "train a linear head on cached features"},

    {NULL, .help = "Data parallelism:"},
    {"dist-url", .cmds = FIT, .type = CLI_STRING, .at = {J(dist_url)}, .value = "URL",
     .def_text = "MASTER_ADDR/MASTER_PORT", .flags = CLI_F_SHARED,
     .help = "tcp://HOST:PORT of rank 0"},
    {"rank", .cmds = FIT, .type = CLI_INT, .at = {J(rank)}, .hi = 1 << 20, .unset = -1,
     .value = "R", .def_text = "RANK or SLURM_PROCID", .flags = CLI_F_SHARED,
     .help = "this process's rank"},
    {"world-size", .cmds = FIT, .type = CLI_INT, .at = {J(world_size)}, .lo = 1, .hi = 1 << 20,
     .unset = -1, .def_text = "WORLD_SIZE or SLURM_NTASKS", .flags = CLI_F_SHARED,
     .help = "ranks in all"},
    {"dist-backend", .cmds = FIT, .type = CLI_CHOICE, .at = {J(dist_backend)},
     .choices = CH("auto", "gloo", "nccl"), .flags = CLI_F_NAME | CLI_F_SHARED, .def = "auto",
     .help = "process group (auto: nccl on CUDA when built with it, else gloo)"},
    {"dist-timeout", .cmds = FIT, .type = CLI_DOUBLE, .at = {J(dist_timeout)}, .lo = 0.1,
     .hi = 86400, .def = "300", .value = "S", .flags = CLI_F_SHARED,
     .help = "seconds a collective may wait for a rank"},
    {"sync-bn", .cmds = FIT, .type = CLI_FLAG, .at = {J(sync_bn)}, .help = "with several ranks: "
     "BatchNorm statistics over the whole batch of all ranks (SyncBatchNorm; default: each "
     "rank's own, as DDP)"},
    {"dist-overlap", .cmds = FIT, .type = CLI_CHOICE, .at = {J(dist_overlap)},
     .choices = CH("off", "on"), .def = "on",
     .help = "gradient all-reduce during backward (on) or after it"},
    {"cv-parallel", .cmds = FIT, .type = CLI_FLAG, .at = {J(cv_parallel)}, .flags = CLI_F_SHARED,
     .help = "with --cv and several ranks: fold f on rank f mod world size"},
    {"dist-hash-log", .cmds = FIT, .type = CLI_FLAG, .at = {J(dist_hash_log)},
     .help = "every rank prints its weights' hash after each epoch"},

    {NULL, .help = "Range test:"},
    {"start-lr", .cmds = LRF, .type = CLI_DOUBLE, .at = {J(start_lr)}, .lo = 1e-12, .hi = 1e3,
     .def = "1e-7", .value = "LR", .help = "range start"},
    {"end-lr", .cmds = LRF, .type = CLI_DOUBLE, .at = {J(end_lr)}, .lo = 1e-12, .hi = 1e3,
     .def = "10", .value = "LR", .help = "range end"},
    {"steps", .cmds = LRF, .type = CLI_INT, .at = {J(steps)}, .lo = 2, .hi = 100000, .def = "100",
     .help = "range steps"},

    {NULL, .help = "Output:"},
    {"out", 'o', .cmds = ENC, .type = CLI_STRING, .at = {E(outdir)}, .value = "OUTDIR",
     .help = "output folder (created; must be empty)"},
    {"out", 'o', .cmds = TRN, .type = CLI_STRING, .at = {J(out_dir)}, .def = "runs/last",
     .value = "RUN_DIR", .flags = CLI_F_SHARED, .help = "where the run's files go"},
    {"out", 'o', .cmds = PRE, .type = CLI_STRING, .at = {J(out_dir)}, .value = "DIR",
     .help = "where the weights go (weights.safetensors, or without_S.safetensors per subject "
     "with --cv loso) and pretrain.json"},
    {"out", 'o', .cmds = LRF, .type = CLI_STRING, .at = {J(out_dir)}, .def = "runs/lr_find",
     .value = "DIR", .help = "where lr_find.csv and figures/ go"},
    {"out", 'o', .cmds = OUTPUT, .type = CLI_STRING, .at = {J(output)}, .value = "PATH",
     .help = "output file or folder"},
    {"out", 'o', .cmds = EXP, .type = CLI_STRING, .at = {J(output)}, .value = "OUTDIR",
     .help = "where the explanation's files go (an empty or new folder, or --overwrite)"},
    {"out", 'o', .cmds = FIG, .type = CLI_STRING, .at = {F(out)}, .value = "PATH",
     .help = "--gallery: the FILE; --augment-gallery: the DIR of augment_gallery.png"},
    {"out", 'o', .cmds = WTS, .type = CLI_STRING, .at = {W(out)}, .value = "OUT.safetensors",
     .help = "import: the file written"},
    {"output", .cmds = ALL, .alias_of = "out"},
    {"overwrite", .cmds = ENC | FIT | EXP | PRE, .type = CLI_FLAG, .at = {J(overwrite), E(overwrite)},
     .flags = CLI_F_SHARED, .help = "the output folder holds an earlier run or encode: remove "
     "the files it wrote (nothing else) and write the new one"},
    {"resume", .cmds = FIT, .type = CLI_FLAG, .at = {J(resume)}, .flags = CLI_F_SHARED,
     .help = "continue RUN_DIR from last.safetensors"},
    {"format", .cmds = ENC, .type = CLI_CHOICE, .at = {E(npy)}, .choices = CH("png", "npy"),
     .def = "png", .help = "image files: PNG, or the raw float32 (C, H, W) as npy"},
    {"stack", .cmds = ENC, .type = CLI_FLAG, .at = {E(stack)}, .help = "npy: one OUTDIR/X.npy "
     "(N, C, H, W) float32 plus manifest.csv and y.csv (index,y,label), instead of one file per "
     "image; X.npy appears last, when whole"},
    {"depth", .cmds = ENC, .type = CLI_INT, .at = {E(depth)}, .lo = 8, .hi = 16, .def = "8",
     .value = "8|16", .help = "png bit depth"},
    {"png-level", .cmds = ENC, .type = CLI_INT, .at = {E(png_level)}, .hi = 9, .def = "1",
     .help = "PNG compression level (1: libdeflate's fastest)"},
    {"figure-format", .cmds = TRN | EVL | LRF | FEA | EXP, .type = CLI_CHOICE, .at = {J(figure_format)},
     .choices = CH("png", "svg", "pdf"), .flags = CLI_F_NAME, .def = "png",
     .help = "figures' file format"},
    {"figure-format", .cmds = FIG, .type = CLI_CHOICE, .at = {F(format)},
     .choices = CH("png", "svg", "pdf"), .flags = CLI_F_NAME,
     .def_text = "png; with --gallery, FILE's extension", .help = "figures' file format"},
    {"gallery", .cmds = FIG, .type = CLI_STRING, .at = {F(g.data)}, .value = "DATA",
     .help = "one example per class of DATA (a DSA root aNN/pM/sKK.txt, CSV recordings, a "
     ".ts file or X.npy, read as train reads it), raw and encoded"},
    {"augment-gallery", .cmds = FIG, .type = CLI_FLAG, .at = {F(augment_gallery)},
     .help = "one segment of ROOT under each series augmentation (rotate, scale, shift, crop, "
     "warp, jitter, remount, all)"},
    {"top-losses", .cmds = TRN | EVL | LRF | FEA, .type = CLI_INT, .at = {J(top_losses)},
     .hi = 10000, .def = "16", .help = "highest-loss samples kept"},
    {"adapt-bn", .cmds = EVL | PRD, .type = CLI_FLAG, .at = {J(adapt_bn)},
     .help = "a new wearer: BatchNorm statistics recomputed on the inputs themselves (no labels "
     "needed) before they are predicted, per subject of a DSA root (one of under "
     STR(ADAPT_BN_MIN_SAMPLES) " inputs takes all inputs'), else over all inputs; weights "
     "unchanged (AdaBN). Off: eval stays a plain measurement"},
    {"tent", .cmds = EVL | PRD, .type = CLI_CUSTOM, .at = {J(tent)}, .parse = parse_tent,
     .value = "N", .def = "0",
     .help = "--adapt-bn, then N passes over each group's inputs of test-time entropy "
     "minimisation on the BatchNorm scales and shifts alone (TENT; Adam, lr 1e-3), the "
     "statistics recomputed after; the checkpoint is not changed (0: off)"},
    {"tta", .cmds = OUTPUT, .type = CLI_INT, .at = {J(aug.tta)}, .lo = 1, .hi = 1024, .def = "1",
     .help = "sensor series: mean probabilities over N time shifts (1: none)"},
    {"kaggle", .cmds = PRD | FEA, .type = CLI_FLAG, .at = {J(kaggle)},
     .help = "predict: id,label with P(class 1) (dog)"},
    {"clip", .cmds = PRD | FEA, .type = CLI_DOUBLE, .at = {J(clip)}, .hi = 0.5, .def = "0.005",
     .value = "P", .help = "--kaggle clipping to [P, 1-P]"},
    {"weights", .cmds = PRD | FEA, .type = CLI_STRING, .at = {J(weights)}, .value = "PATH",
     .help = "predict with bare weights"},
    {"no-normalize", .cmds = PRD | FEA, .type = CLI_FLAG, .at = {J(no_normalize)},
     .help = "predict --weights: skip ImageNet normalisation"},
    {"windows", .cmds = EXP, .type = CLI_INT, .at = {J(windows)}, .lo = 1, .hi = 1024,
     .def = "8", .help = "explain: occluded time windows of T/N samples, every T/(2N) "
     "(half-overlapping)"},
    {"summary", .cmds = EXP, .type = CLI_FLAG, .at = {J(summary)},
     .help = "explain: the mean channel importance per true class over DATA (summary.csv, "
     "summary.png) instead of one figure per input"},
    {"layer", .cmds = EXP, .type = CLI_CHOICE, .at = {J(layer)},
     .choices = CH("layer1", "layer2", "layer3", "layer4"), .flags = CLI_F_NAME,
     .def_text = "layer4, the last convolutional stage", .help = "explain: Grad-CAM's layer"},
    {"gradcam", .cmds = EXP, .type = CLI_FLAG, .at = {J(gradcam)},
     .help = "explain: Grad-CAM on a sensor model's encoded images too"},
    {"key", .cmds = WTS, .type = CLI_STRING, .at = {W(key)}, .value = "NAME",
     .def_text = "state_dict, model, model_state_dict or net",
     .help = "import, inspect: the checkpoint's state dict"},
    {"dir", .cmds = WTS, .type = CLI_STRING, .at = {W(dir)}, .value = "D",
     .def_text = "${XDG_DATA_HOME:-~/.local/share}/sensorgram/weights",
     .help = "fetch: where the weights go"},
    {"on-error", .cmds = ENC, .type = CLI_CHOICE, .at = {E(skip)}, .choices = CH("fail", "skip"),
     .def = "fail", .help = "fail: stop at the first bad input with 'FILE:LINE:COL: message', "
     "exit 1, no manifest; skip: leave bad inputs out, list them with their reasons at the end, "
     "exit 0 (the manifest lists only what was written)"},
    {"shard", .cmds = ENC, .type = CLI_CUSTOM, .parse = parse_shard, .value = "I/N",
     .help = "encode only the segments at positions I, I+N, ... of the input order (fit still "
     "on all inputs) and write OUTDIR/manifest.part-I-of-N.csv; the shard that finds all N "
     "parts there writes manifest.csv"},
    {"merge", .cmds = ENC, .type = CLI_STRING, .at = {E(merge)}, .value = "OUTDIR",
     .help = "INPUTs are the parts: join them into OUTDIR/manifest.csv (what one encode "
     "writes, byte for byte); no encoding"},
    {"jobs", 'j', .cmds = ENC, .type = CLI_INT, .at = {E(jobs)}, .lo = 1, .hi = 4096,
     .def_text = "all cores", .help = "encoder threads"},
    {"quiet", 'q', .cmds = ENC | WTS, .type = CLI_FLAG, .at = {E(quiet), W(quiet)},
     .help = "no progress output"},
    {"quiet", 'q', .cmds = MODEL | PRE, .type = CLI_SET, .at = {J(progress)}, .lo = 0, .unset = -1,
     .def_text = "a bar on a terminal", .help = "no progress output"},
    {"no-progress", .cmds = ENC | MODEL | WTS | PRE, .alias_of = "quiet"},
    {"help", 'h', .cmds = ALL, .type = CLI_HELP, .flags = CLI_F_SHARED, .help = "this text"},
};

const int cli_n_opts = (int)(sizeof cli_opts / sizeof cli_opts[0]);
_Static_assert(sizeof cli_opts / sizeof cli_opts[0] <= CLI_ROWS_MAX, "raise CLI_ROWS_MAX");
