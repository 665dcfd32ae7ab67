/* cli_encode.c - `sensorgram encode`: parses argv into an encode_request,
 * builds the encoder stack, guards the output folder and hands the work to
 * src/encode/encode_run.c (which says what is written where).  Messages go
 * to stderr, the summary to stdout; exit 0, 1 failure, 2 usage, 130
 * interrupted.
 */
#include "src/base/sg_error.h"
#include "src/base/signals.h"
#include "src/cli/cli_enc_opts.h"
#include "src/cli/cli_registry.h"
#include "src/cli/commands.h"
#include "src/encode/encode_outdir.h"
#include "src/encode/encode_run.h"
#include "src/encode/encode_shard.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD "sensorgram encode"

#define ENCODE_USAGE                                                                    \
    "sensorgram encode [OPTIONS] INPUT... -o OUTDIR\n"                                   \
    "       sensorgram encode --merge OUTDIR PART...\n\n"                                \
    "Turns sensor segments into images with one of the pyts-compatible encoders and\n"    \
    "writes OUTDIR/<label>/<name>.png (or .npy) plus OUTDIR/manifest.csv\n"               \
    "(path,label,subject,segment,source; path relative to OUTDIR, subject and segment\n"  \
    "empty when unknown).  PNG holds 1 (gray) or 3 (RGB) channels: use --layout mosaic\n" \
    "or rgb, or --format npy for C x H x W.  Values map to pixels through the\n"          \
    "encoder's value range: bounded encoders (gasf/gadf [-1,1] or the sample range;\n"   \
    "mtf, thresholded rp/jrp and gray [0,1]) map lo..hi linearly to 0..255 (or 65535);\n" \
    "unbounded ones (unthresholded rp, spectrogram) are min-max scaled per image (a\n"   \
    "constant image becomes 0).\n"                                                       \
    "Exit status: 0 ok (also with skipped inputs), 1 failure, 2 usage error, 130\n"      \
    "interrupted (Ctrl-C or SIGTERM: the images written so far are removed)."

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

/* Builds the encoder stack (one encoder unless --encoder lists several
 * joined by '+'); returns 0 or 2 (usage). */
static int build_stack(enc_stack *st, const encode_request *a)
{
    const char *list = a->enc.encoder ? a->enc.encoder : cli_opt_default("encoder", CLI_ENCODE);
    if (cli_enc_build_stack(st, &a->enc, list) != 0)
        return usage_error("%s", sg_last_error());
    /* A PNG holds 1 or 3 channels: tile them unless told otherwise. */
    for (int k = 0; k < st->n; k++)
        if (!a->enc.layout)
            st->p[k].layout = a->npy ? ENC_LAYOUT_CHANNELS : ENC_LAYOUT_MOSAIC;
    if (!strchr(list, '+') && !strchr(list, ':'))
        return 0;
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
    cli_given given = {0};
    int first = 1, rc = cli_req_init(CLI_ENCODE, a);
    if (rc == SG_OK)
        rc = cli_args_parse(CLI_ENCODE, a, &given, argc, argv, ENCODE_USAGE, &first);
    if (rc == 1)
        return -1;
    if (rc)
        return usage_error("%s", sg_last_error());
    /* a label column or regex says where labels come from, unless --label-from does */
    if (a->csv.label_column && !cli_given_has(&given, "label-from"))
        a->csv.label_from = SENSOR_CSV_LABEL_COLUMN;
    if (a->csv.label_regex && !cli_given_has(&given, "label-from"))
        a->csv.label_from = SENSOR_CSV_LABEL_REGEX;
    a->inputs = argv + first;
    a->n_inputs = argc - first;
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
    if (a->depth != 8 && a->depth != 16)
        return usage_error("--depth: expected 8 or 16, got %d", a->depth);
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
