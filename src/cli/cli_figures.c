/* cli_figures.c - `sensorgram figures`: redraw a run folder's figures,
 * or draw an encoder gallery from a dataset.
 *
 *   sensorgram figures RUN_DIR [--figure-format png|svg|pdf]
 *   sensorgram figures --gallery DATA --encoder rp,gasf,mtf [--dataset dsa]
 *                      [--units LL --sensors acc --axes x,y,z --subjects 1]
 *                      -o FILE.png
 *     (DATA: a DSA root, CSV recordings with --columns/--window/--label-*,
 *     a .ts file or X.npy: read as train reads it, job_series_read)
 *   sensorgram figures --augment-gallery --dataset dsa ROOT -o DIR
 *                      (DIR/augment_gallery.png: one segment under each --aug-*)
 */
#include "src/cli/cli_registry.h"
#include "src/cli/commands.h"
#include "figures/fig.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define FIGURES_USAGE                                                                \
    "sensorgram figures RUN_DIR [--figure-format png|svg|pdf]\n"                        \
    "       sensorgram figures --gallery DATA --encoder LIST [--dataset dsa]\n"          \
    "                          [--units LIST] [--sensors LIST] [--axes LIST]\n"          \
    "                          [--subjects LIST] [--magnitude M] -o FILE\n"              \
    "       sensorgram figures --gallery CSV|FILE.ts|X.npy --encoder LIST [--columns LIST]\n" \
    "                          [--window N] [--stride N] [--label-column C] -o FILE\n"    \
    "       sensorgram figures --augment-gallery [--dataset dsa] ROOT -o DIR\n"          \
    "                          [--units LIST] [--sensors LIST] [--subjects LIST]\n\n"    \
    "Redraws every figure whose inputs exist in RUN_DIR (metrics.csv,\n"                 \
    "confusion_matrix.csv or predictions.csv, top_losses.csv, lr_find.csv)\n"            \
    "into RUN_DIR/figures/, then RUN_DIR/report.html (one page over the run),\n"         \
    "and lists what it wrote; or draws one example per class of sensor data\n"           \
    "(a DSA root, CSV recordings, a .ts file or X.npy: read as train reads\n"            \
    "it) with its raw signal and encoder images."

static void print_written(const char *path, void *ctx)
{
    (void)ctx;
    printf("%s\n", path);
}

static const char *extension(const char *path)
{
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    return dot && (!slash || dot > slash) ? dot + 1 : NULL;
}

/* figures --augment-gallery [--dataset dsa] ROOT -o DIR. */
static int augment_gallery_cmd(cli_figures_req *r, fig_format format, int n_args, char **args)
{
    const sensor_csv_options *csv = &r->g.csv;
    if (r->g.data || r->g.encoders || n_args != 1 || !r->out || csv->columns || csv->window ||
        csv->stride || csv->label_column || csv->label_regex) {
        fprintf(stderr, "sensorgram figures: --augment-gallery needs one DSA ROOT and -o DIR "
                        "(no --gallery, --encoder or CSV options); see --help\n");
        return 2;
    }
    if (mkdir(r->out, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "sensorgram figures: %s: cannot create the folder: %s\n", r->out,
                strerror(errno));
        return 1;
    }
    char path[4096];
    if (snprintf(path, sizeof path, "%s/augment_gallery.%s", r->out, fig_format_ext(format)) >=
        (int)sizeof path) {
        fprintf(stderr, "sensorgram figures: %s: path too long\n", r->out);
        return 2;
    }
    r->g.data = args[0];
    int rc = fig_augment_gallery_write(path, format, &r->g);
    if (rc) {
        fprintf(stderr, "sensorgram figures: %s\n", sg_last_error());
        return rc == SG_E_INVALID ? 2 : 1;
    }
    printf("%s\n", path);
    return 0;
}

int cmd_figures(int argc, char **argv)
{
    cli_figures_req r;
    cli_given given = {0};
    int first = 1, rc = cli_req_init(CLI_FIGURES, &r);
    if (rc == SG_OK)
        rc = cli_args_parse(CLI_FIGURES, &r, &given, argc, argv, FIGURES_USAGE, &first);
    if (rc == 1)
        return 0;
    if (rc) {
        fprintf(stderr, "sensorgram figures: %s (see --help)\n", sg_last_error());
        return 2;
    }
    /* a label column or regex says where CSV labels come from, unless
     * --label-from does (as in train and encode) */
    if (r.g.csv.label_column && !cli_given_has(&given, "label-from"))
        r.g.csv.label_from = SENSOR_CSV_LABEL_COLUMN;
    if (r.g.csv.label_regex && !cli_given_has(&given, "label-from"))
        r.g.csv.label_from = SENSOR_CSV_LABEL_REGEX;
    const char *format_name = r.format;
    if (!format_name && r.out && r.g.data) {
        const char *ext = extension(r.out);
        if (ext && (strcmp(ext, "svg") == 0 || strcmp(ext, "pdf") == 0))
            format_name = ext;
    }
    fig_format format;
    if (fig_format_parse(&format, format_name) != 0) {
        fprintf(stderr, "sensorgram figures: %s\n", sg_last_error());
        return 2;
    }
    if (r.augment_gallery)
        return augment_gallery_cmd(&r, format, argc - first, argv + first);
    if (r.g.data) {
        if (!r.out || first != argc) {
            fprintf(stderr, "sensorgram figures: --gallery needs -o FILE and no RUN_DIR\n");
            return 2;
        }
        rc = fig_gallery_write(r.out, format, &r.g);
        if (!rc)
            printf("%s\n", r.out);
    } else {
        if (first + 1 != argc || r.out) {
            fprintf(stderr, "sensorgram figures: expected one RUN_DIR (or --gallery DATA -o "
                            "FILE); see --help\n");
            return 2;
        }
        rc = fig_run_dir_draw_ex(argv[first], format, print_written, NULL);
    }
    if (rc) {
        fprintf(stderr, "sensorgram figures: %s\n", sg_last_error());
        return 1;
    }
    return 0;
}
