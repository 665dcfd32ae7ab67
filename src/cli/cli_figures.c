/* cli_figures.c - `sensorgram figures`: redraw a run folder's figures,
 * or draw an encoder gallery from a dataset.
 *
 *   sensorgram figures RUN_DIR [--figure-format png|svg|pdf]
 *   sensorgram figures --gallery DATA --encoder rp,gasf,mtf [--dataset dsa]
 *                      [--units LL --sensors acc --axes x,y,z --subjects 1]
 *                      -o FILE.png
 *   sensorgram figures --augment-gallery --dataset dsa ROOT --out DIR
 *                      (DIR/augment_gallery.png: one segment under each --aug-*)
 */
#include "src/cli/commands.h"
#include "figures/fig.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sensorgram figures RUN_DIR [--figure-format png|svg|pdf]\n"
            "       sensorgram figures --gallery DATA --encoder LIST [--dataset dsa]\n"
            "                          [--units LIST] [--sensors LIST] [--axes LIST]\n"
            "                          [--subjects LIST] [--magnitude M] -o FILE\n"
            "       sensorgram figures --augment-gallery [--dataset dsa] ROOT --out DIR\n"
            "                          [--units LIST] [--sensors LIST] [--subjects LIST]\n\n"
            "Redraws every figure whose inputs exist in RUN_DIR (metrics.csv,\n"
            "confusion_matrix.csv or predictions.csv, top_losses.csv, lr_find.csv)\n"
            "into RUN_DIR/figures/ and lists what it wrote; or draws one example per\n"
            "class of a dataset with its raw signal and encoder images.\n\n"
            "  --figure-format F  png (default), svg or pdf; for -o the default is\n"
            "                     taken from FILE's extension\n"
            "  --gallery DATA     dataset folder (DSA layout: aNN/pM/sKK.txt)\n"
            "  --encoder LIST     encoders side by side (gray, rp, jrp, gasf, gadf, mtf,\n"
            "                     spectrogram); default rp,gasf,mtf\n"
            "  --dataset NAME     dsa (default)\n"
            "  --units, --sensors, --axes, --subjects  DSA selection\n"
            "                     (defaults LL, acc, x,y,z, subject 1)\n"
            "  --magnitude M      add|only|off: norm rows sqrt(x^2+y^2+z^2) per sensor\n"
            "                     (T_acc_norm, ...) after the axes, or alone\n"
            "  -o, --output FILE  gallery output file\n"
            "  --augment-gallery  one segment of ROOT under each series augmentation\n"
            "                     (rotate, scale, shift, crop, warp, jitter, remount, all)\n"
            "  --out DIR          where augment_gallery.png (or .svg/.pdf) goes\n");
}

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

/* figures --augment-gallery [--dataset dsa] ROOT --out DIR. */
static int augment_gallery_cmd(fig_gallery_opts *g, fig_format format, const char *out_dir,
                               int n_args, char **args, const char *output)
{
    if (g->data || g->encoders || output || n_args != 1 || !out_dir) {
        fprintf(stderr, "sensorgram figures: --augment-gallery needs one DSA ROOT and --out DIR "
                        "(no --gallery, --encoder or -o); see --help\n");
        return 2;
    }
    if (g->dataset && strcmp(g->dataset, "dsa") != 0) {
        fprintf(stderr, "sensorgram figures: --dataset: unknown dataset '%s' (expected dsa)\n",
                g->dataset);
        return 2;
    }
    if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "sensorgram figures: %s: cannot create the folder: %s\n", out_dir,
                strerror(errno));
        return 1;
    }
    char path[4096];
    if (snprintf(path, sizeof path, "%s/augment_gallery.%s", out_dir, fig_format_ext(format)) >=
        (int)sizeof path) {
        fprintf(stderr, "sensorgram figures: %s: path too long\n", out_dir);
        return 2;
    }
    g->data = args[0];
    int rc = fig_augment_gallery_write(path, format, g);
    if (rc) {
        fprintf(stderr, "sensorgram figures: %s\n", sg_last_error());
        return rc == SG_E_INVALID ? 2 : 1;
    }
    printf("%s\n", path);
    return 0;
}

int cmd_figures(int argc, char **argv)
{
    enum { OPT_FORMAT = 256, OPT_GALLERY, OPT_ENCODER, OPT_DATASET, OPT_UNITS, OPT_SENSORS,
           OPT_AXES, OPT_SUBJECTS, OPT_AUGMENT_GALLERY, OPT_OUT, OPT_MAGNITUDE };
    static const struct option longopts[] = {
        {"figure-format", required_argument, NULL, OPT_FORMAT},
        {"gallery", required_argument, NULL, OPT_GALLERY},
        {"encoder", required_argument, NULL, OPT_ENCODER},
        {"dataset", required_argument, NULL, OPT_DATASET},
        {"units", required_argument, NULL, OPT_UNITS},
        {"sensors", required_argument, NULL, OPT_SENSORS},
        {"axes", required_argument, NULL, OPT_AXES},
        {"subjects", required_argument, NULL, OPT_SUBJECTS},
        {"magnitude", required_argument, NULL, OPT_MAGNITUDE},
        {"output", required_argument, NULL, 'o'},
        {"augment-gallery", no_argument, NULL, OPT_AUGMENT_GALLERY},
        {"out", required_argument, NULL, OPT_OUT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format_name = NULL, *output = NULL, *out_dir = NULL;
    int augment_gallery = 0;
    fig_gallery_opts g = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (opt) {
        case OPT_FORMAT: format_name = optarg; break;
        case OPT_GALLERY: g.data = optarg; break;
        case OPT_ENCODER: g.encoders = optarg; break;
        case OPT_DATASET: g.dataset = optarg; break;
        case OPT_UNITS: g.units = optarg; break;
        case OPT_SENSORS: g.sensors = optarg; break;
        case OPT_AXES: g.axes = optarg; break;
        case OPT_SUBJECTS: g.subjects = optarg; break;
        case OPT_MAGNITUDE: g.magnitude = optarg; break;
        case 'o': output = optarg; break;
        case OPT_AUGMENT_GALLERY: augment_gallery = 1; break;
        case OPT_OUT: out_dir = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!format_name && output && g.data) {
        const char *ext = extension(output);
        if (ext && (strcmp(ext, "svg") == 0 || strcmp(ext, "pdf") == 0))
            format_name = ext;
    }
    fig_format format;
    if (fig_format_parse(&format, format_name) != 0) {
        fprintf(stderr, "sensorgram figures: %s\n", sg_last_error());
        return 2;
    }
    int rc;
    if (augment_gallery)
        return augment_gallery_cmd(&g, format, out_dir, argc - optind, argv + optind, output);
    if (out_dir) {
        fprintf(stderr, "sensorgram figures: --out DIR goes with --augment-gallery\n");
        return 2;
    }
    if (g.data) {
        if (!output || optind != argc) {
            fprintf(stderr, "sensorgram figures: --gallery needs -o FILE and no RUN_DIR\n");
            return 2;
        }
        rc = fig_gallery_write(output, format, &g);
        if (!rc)
            printf("%s\n", output);
    } else {
        if (optind + 1 != argc || output) {
            fprintf(stderr, "sensorgram figures: expected one RUN_DIR (or --gallery DATA -o "
                            "FILE); see --help\n");
            return 2;
        }
        rc = fig_run_dir_draw_ex(argv[optind], format, print_written, NULL);
    }
    if (rc) {
        fprintf(stderr, "sensorgram figures: %s\n", sg_last_error());
        return 1;
    }
    return 0;
}
