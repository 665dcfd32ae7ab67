/* fig_gallery.c - encoder gallery: one example segment per class (the
 * first one of each class in load order), its raw signal on top and the
 * image each chosen encoder makes of it below, side by side.
 *
 * Three channels (x, y, z of one sensor, the default LL acc) are encoded
 * with the rgb layout and shown in colour; any other count uses the mosaic
 * layout (channel images tiled into one gray image), exactly as `encode
 * --layout rgb|mosaic` writes them.  gray is fitted dataset-wide on the loaded data, mtf uses
 * pyts's per-segment bins.  The gray encoder's (C, T) strip is stretched
 * to the square box so that it is visible.  DATA is read by the model
 * commands' reader (job_series_read): a DSA root, CSV recordings, a .ts
 * file or numpy cases, with their channel names; no reading of its own.
 */
#include "figures/fig.h"
#include "datasets/dsa.h"
#include "datasets/dsa_magnitude.h"
#include "encoders/enc.h"
#include "src/base/sg_error.h"
#include "src/train/job.h"
#include "src/train/job_data.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ENC 8
#define IMG 120        /* side of each encoder image */
#define GAP 10
#define SIGNAL_H 64
#define TITLE_H 22
#define CAPTION_H 18

typedef struct gallery_enc {
    enc_params p;
    enc_fit *fit;
    enc_workspace *ws;
    int oc, oh, ow;
    float *out;        /* (oc, oh, ow) */
} gallery_enc;

static int parse_encoders(gallery_enc *e, int *n, const char *list, enc_layout layout)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list ? list : "rp,gasf,mtf");
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_ENC)
            return sg_fail(SG_E_INVALID, "at most %d encoders in a gallery", MAX_ENC);
        enc_kind kind;
        int rc = enc_kind_parse(&kind, tok);
        if (rc)
            return rc;
        enc_params_default(&e[*n].p, kind);
        e[*n].p.layout = layout;
        (*n)++;
    }
    if (*n == 0)
        return sg_fail(SG_E_INVALID, "--encoder needs at least one encoder name");
    return SG_OK;
}

/* Draws the C channels of x (C, T) as lines in the box, each channel
 * scaled to the box's height over the segment's overall range. */
static void draw_signal(cairo_t *cr, const double *x, int C, int T, double bx, double by,
                        double bw, double bh)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < (size_t)C * (size_t)T; i++) {
        lo = fmin(lo, x[i]);
        hi = fmax(hi, x[i]);
    }
    if (!(hi > lo)) {
        lo -= 1;
        hi += 1;
    }
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.97, 0.97, 0.97);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill(cr);
    for (int c = 0; c < C; c++) {
        /* x, y, z in red, green, blue when they are shown as R, G, B */
        static const int rgb_order[3] = {3, 2, 0};
        double rgb[3];
        fig_palette(C == 3 ? rgb_order[c] : c, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 1.0);
        for (int t = 0; t < T; t++) {
            double px = bx + (T > 1 ? t * bw / (T - 1) : 0);
            double py = by + bh - 2 - (x[(size_t)c * T + t] - lo) / (hi - lo) * (bh - 4);
            if (t == 0)
                cairo_move_to(cr, px, py);
            else
                cairo_line_to(cr, px, py);
        }
        cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_rectangle(cr, bx + 0.5, by + 0.5, bw - 1, bh - 1);
    cairo_stroke(cr);
    cairo_restore(cr);
}

static void free_encoders(gallery_enc *e, int n)
{
    for (int k = 0; k < n; k++) {
        enc_fit_free(e[k].fit);
        enc_workspace_free(e[k].ws);
        free(e[k].out);
    }
}

/* Reads opts->data into set as the model commands read it: a DSA root
 * with the gallery's DSA defaults (LL acc of subject 1), else CSV
 * recordings, a .ts file or numpy cases (labels where they have them). */
static int gallery_read(sg_series_set *set, const fig_gallery_opts *opts)
{
    struct stat st;
    if (stat(opts->data, &st) != 0)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", opts->data, strerror(errno));
    int dsa = opts->dataset ? strcmp(opts->dataset, "dsa") == 0 : dsa_is_root(opts->data);
    job_opts o;
    memset(&o, 0, sizeof o);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o.workers = cpus > 0 ? (int)cpus : 1;
    int rc;
    if (dsa) {
        o.dataset = "dsa";
        o.units = opts->units ? opts->units : "LL";
        o.sensors = opts->sensors ? opts->sensors : "acc";
        o.axes = opts->axes;
        o.subjects = opts->subjects ? opts->subjects : "1";
        /* a bad selection or --magnitude is said before any reading */
        dsa_select sel;
        dsa_select_all(&sel);
        if ((rc = dsa_select_parse(&sel, o.units, o.sensors, o.axes)) ||
            (rc = dsa_select_parse_subjects(&sel, o.subjects)))
            return rc;
        if (opts->magnitude && ((rc = dsa_magnitude_parse(&o.magnitude, opts->magnitude)) ||
                                (rc = dsa_magnitude_check(&sel, o.magnitude))))
            return rc;
    } else {
        const char *dsa_opt = opts->units      ? "--units"
                              : opts->sensors  ? "--sensors"
                              : opts->axes     ? "--axes"
                              : opts->subjects ? "--subjects"
                              : opts->magnitude ? "--magnitude"
                                                : NULL;
        if (dsa_opt)
            return sg_fail(SG_E_INVALID,
                           "%s selects DSA channels or subjects, but %s is not a DSA root "
                           "(aNN/pM/sKK.txt); pick CSV columns with --columns",
                           dsa_opt, opts->data);
        o.csv_given = JOB_CSV_LABEL; /* labels as the options say: parent folders by default */
    }
    o.csv = opts->csv; /* on other data, a CSV option is refused rather than ignored */
    rc = job_series_read(set, &o, opts->data, 0, NULL);
    if (rc == 0)
        rc = sg_fail(SG_E_INVALID,
                     "%s: not sensor recordings (a DSA root, CSV files or a folder of them, "
                     "a .ts file, X.npy)",
                     opts->data);
    return rc < 0 ? rc : SG_OK;
}

/* The segments shown: the first of each class, or without labels the
 * first FIG_GALLERY_UNLABELLED.  Returns how many went into example. */
static int gallery_pick(size_t *example, const sg_series_set *set)
{
    int n_shown = 0;
    if (set->n_classes == 0) {
        for (size_t i = 0; i < set->n && n_shown < FIG_GALLERY_UNLABELLED; i++)
            example[n_shown++] = i;
        return n_shown;
    }
    for (int cl = 0; cl < set->n_classes; cl++)
        for (size_t i = 0; i < set->n; i++)
            if (set->label[i] == cl) {
                example[n_shown++] = i;
                break;
            }
    return n_shown;
}

int fig_gallery_write(const char *path, fig_format format, const fig_gallery_opts *opts)
{
    if (!opts->data)
        return sg_fail(SG_E_INVALID, "the gallery needs a dataset (--gallery DATA)");
    if (opts->dataset && strcmp(opts->dataset, "dsa") != 0)
        return sg_fail(SG_E_INVALID, "gallery: unknown dataset '%s' (dsa)", opts->dataset);
    gallery_enc e[MAX_ENC];
    memset(e, 0, sizeof e);
    int n_enc = 0;
    sg_series_set set = {0};
    int rc = gallery_read(&set, opts);
    if (rc)
        return rc;
    int C = set.n_channels, T = set.n_samples;
    size_t *example = NULL;
    fig_canvas c = {0};
    int opened = 0;
    if ((rc = parse_encoders(e, &n_enc, opts->encoders,
                             C == 3 ? ENC_LAYOUT_RGB : ENC_LAYOUT_MOSAIC)))
        goto done;
    for (int k = 0; k < n_enc && !rc; k++) {
        if ((rc = enc_params_check(&e[k].p, C, T)) ||
            (rc = enc_output_shape(&e[k].p, C, T, &e[k].oc, &e[k].oh, &e[k].ow)) ||
            (rc = enc_fit_create(&e[k].fit, &e[k].p, set.data, set.n, C, T)) ||
            (rc = enc_workspace_create(&e[k].ws, &e[k].p, C, T)))
            break;
        e[k].out = malloc((size_t)e[k].oc * e[k].oh * e[k].ow * sizeof *e[k].out);
        if (!e[k].out)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    if (rc)
        goto done;
    /* first segment of each class; classes without one are left out */
    size_t n_slots = (size_t)set.n_classes > FIG_GALLERY_UNLABELLED ? (size_t)set.n_classes
                                                                    : FIG_GALLERY_UNLABELLED;
    example = malloc(n_slots * sizeof *example);
    if (!example) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    int n_shown = gallery_pick(example, &set);
    if (n_shown == 0) {
        rc = sg_fail(SG_E_INVALID, "%s: no segments to show", opts->data);
        goto done;
    }
    double tile_w = n_enc * IMG + (n_enc - 1) * GAP;
    double tile_h = TITLE_H + SIGNAL_H + GAP + IMG + CAPTION_H;
    int per_row = (int)fmax(1, floor(1900 / (tile_w + 3 * GAP)));
    if (per_row > n_shown)
        per_row = n_shown;
    int rows = (n_shown + per_row - 1) / per_row;
    char buf[512];
    {
        int len = snprintf(buf, sizeof buf, "Encoder gallery: %d channel%s", C, C > 1 ? "s" : "");
        for (int ch = 0; ch < C && ch < 6 && len < (int)sizeof buf; ch++)
            len += snprintf(buf + len, sizeof buf - (size_t)len, "%s%s", ch ? ", " : " (",
                            set.channel_names[ch]);
        if (len < (int)sizeof buf)
            snprintf(buf + len, sizeof buf - (size_t)len, "%s)%s", C > 6 ? ", ..." : "",
                     C == 3 ? " as R, G, B" : C > 1 ? ", images tiled as a mosaic" : "");
    }
    static const char subtitle[] =
        "raw signal (top), then each encoder's image as the network sees it";
    /* a row of few tiles (a few classes, one encoder) is widened to its
     * titles, the tiles centred */
    const char *title = buf;
    int tiles_w = (int)ceil(per_row * (tile_w + 3 * GAP) + 3 * GAP);
    double titles_w = fmax(fig_text_max_width(&title, 1, 15, 1),
                           fig_text_max_width((const char *const[]){subtitle}, 1, 11.5, 0));
    int width = (int)fmax(tiles_w, ceil(titles_w + 6 * GAP));
    double x0 = (width - tiles_w) / 2.0;
    int height = (int)ceil(78 + rows * (tile_h + 2 * GAP));
    if ((rc = fig_canvas_open(&c, path, format, width, height)))
        goto done;
    opened = 1;
    cairo_t *cr = c.cr;
    cairo_set_source_rgb(cr, 0, 0, 0);
    fig_text(cr, width / 2.0, 24, buf, 15, 1, 0.5, 0.5, 0);
    cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
    fig_text(cr, width / 2.0, 48, subtitle, 11.5, 0, 0.5, 0.5, 0);
    for (int s = 0; s < n_shown && !rc; s++) {
        size_t i = example[s];
        const double *x = sg_series_at(&set, i);
        double tx = x0 + 3 * GAP + (s % per_row) * (tile_w + 3 * GAP);
        double ty = 70 + (s / per_row) * (tile_h + 2 * GAP);
        cairo_set_source_rgb(cr, 0, 0, 0);
        const char *title = set.n_classes > 0 && set.label[i] >= 0 ? set.class_names[set.label[i]]
                            : set.name && set.name[i]              ? set.name[i]
                                                                   : "";
        fig_text_fit(cr, buf, sizeof buf, title, 12.5, 1, tile_w);
        fig_text(cr, tx + tile_w / 2, ty + TITLE_H / 2, buf, 12.5, 1, 0.5, 0.5, 0);
        draw_signal(cr, x, C, T, tx, ty + TITLE_H, tile_w, SIGNAL_H);
        for (int k = 0; k < n_enc && !rc; k++) {
            if ((rc = enc_encode(e[k].out, x, C, T, &e[k].p, e[k].fit, e[k].ws)))
                break;
            double lo, hi;
            int bounded;
            enc_value_range(&e[k].p, &lo, &hi, &bounded);
            size_t np = (size_t)e[k].oc * e[k].oh * e[k].ow;
            if (!bounded) {
                lo = INFINITY;
                hi = -INFINITY;
                for (size_t j = 0; j < np; j++) {
                    lo = fmin(lo, e[k].out[j]);
                    hi = fmax(hi, e[k].out[j]);
                }
                if (!(hi > lo))
                    hi = lo + 1;
            }
            /* rgb gives 3 channels (shown as colour), mosaic one */
            sg_image img = {.c = e[k].oc, .h = e[k].oh, .w = e[k].ow, .data = e[k].out};
            double ix = tx + k * (IMG + GAP), iy = ty + TITLE_H + SIGNAL_H + GAP;
            if ((rc = fig_draw_image(cr, &img, lo, hi, ix, iy, IMG, IMG,
                                     e[k].p.kind == ENC_GRAY)))
                break;
            cairo_set_source_rgb(cr, 0.25, 0.25, 0.25);
            fig_text(cr, ix + IMG / 2.0, iy + IMG + 4, enc_kind_name(e[k].p.kind), 11, 0, 0.5,
                     0.0, 0);
        }
    }
    if (!rc) {
        opened = 0;
        rc = fig_canvas_commit(&c);
    }
done:
    if (opened)
        fig_canvas_abort(&c);
    free(example);
    free_encoders(e, n_enc);
    sg_series_set_free(&set);
    return rc;
}
