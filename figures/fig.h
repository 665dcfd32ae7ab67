/* fig.h - figures drawn with cairo: confusion matrices, training curves,
 * lr-find, per-class F1, top losses, encoder galleries.
 *
 * Every figure is written atomically (atomic_file.h) as PNG, SVG or PDF
 * (fig_format).  Text goes through cairo's text API with "DejaVu Sans",
 * hinting off, so that layout is the same in every format and the same
 * inputs always give the same bytes (PDF's creation date is pinned for
 * that reason).  Drawing functions take plain arrays; the fig_*_draw
 * functions read the run-folder files described in run_files.h.
 *
 * Coordinates are device units: pixels for PNG, points for SVG/PDF.
 * Nothing here prints; errors go through sg_fail like everywhere else.
 */
#ifndef SG_FIG_H
#define SG_FIG_H

#include "datasets/sensor_csv.h"
#include "src/base/atomic_file.h"
#include "src/image/image.h"

#include <cairo.h>
#include <stddef.h>

/* ------------------------------------------------------------------ */
/* Formats and canvases                                                */

typedef enum fig_format {
    FIG_FORMAT_PNG,
    FIG_FORMAT_SVG,
    FIG_FORMAT_PDF,
} fig_format;

/* Parses "png", "svg" or "pdf" (NULL means png); SG_E_INVALID otherwise. */
int fig_format_parse(fig_format *out, const char *name);

/* The file extension of format without the dot ("png"; static string). */
const char *fig_format_ext(fig_format format);

/* One figure being drawn.  cr is valid between open and commit/abort;
 * everything else is private to fig_common.c. */
typedef struct fig_canvas {
    cairo_t *cr;
    cairo_surface_t *surface;
    double width, height;   /* device units */
    fig_format format;
    sg_atomic_file af;      /* the temporary output file */
} fig_canvas;

/* Opens a width x height canvas that will be written to path, with a
 * white background and the figure font selected.  The output file is
 * created under a temporary name now (so an unwritable folder fails
 * here) and appears under path only at fig_canvas_commit. */
int fig_canvas_open(fig_canvas *c, const char *path, fig_format format, int width, int height);

/* Finishes drawing, encodes, and atomically renames into place.  Frees
 * the canvas in every case; on failure no file appears under path. */
int fig_canvas_commit(fig_canvas *c);

/* Drops the canvas and its temporary file; safe on a zeroed canvas. */
void fig_canvas_abort(fig_canvas *c);

/* ------------------------------------------------------------------ */
/* Colours and text                                                    */

/* The colour map of every heat map here: a viridis approximation (dark
 * purple -> blue -> green -> yellow; perceptually ordered and readable
 * in grey scale), piecewise linear through 10 stops of matplotlib's
 * viridis.  t is clamped to [0, 1]; rgb receives components in [0, 1]. */
void fig_colormap_viridis(double t, double rgb[3]);

/* 1 when black text is more readable than white on colour rgb. */
int fig_text_dark_on(const double rgb[3]);

/* The categorical line colours (tab10-like); i wraps around. */
void fig_palette(int i, double rgb[3]);

/* Draws UTF-8 text s at (x, y) with font size px: ax, ay in [0, 1] say
 * which point of the text box lies at (x, y) (0 left/top, 0.5 centre,
 * 1 right/bottom), angle_deg rotates counter-clockwise about it. */
void fig_text(cairo_t *cr, double x, double y, const char *s, double size, int bold,
              double ax, double ay, double angle_deg);

/* Advance width of s at the given size. */
double fig_text_width(cairo_t *cr, const char *s, double size, int bold);

/* The widest of n strings at the given size, measured with the same
 * font options as a canvas (no canvas needed: used to plan layouts). */
double fig_text_max_width(const char *const *s, int n, double size, int bold);

/* Copies s into out (out_size bytes), shortened with a trailing "..."
 * so that it is at most max_width wide; never splits a UTF-8 sequence. */
void fig_text_fit(cairo_t *cr, char *out, size_t out_size, const char *s, double size,
                  int bold, double max_width);

/* Draws img into the box (x, y, w, h), scaled to fit with its aspect
 * ratio kept and centred (stretch = 1: filling the box instead).  Values map lo -> black, hi -> white (clamped);
 * 3 channels are RGB, any other count shows channel 0 only.  Enlarged
 * images use nearest-neighbour so that sensor-image pixels stay sharp. */
int fig_draw_image(cairo_t *cr, const sg_image *img, double lo, double hi, double x, double y,
                   double w, double h, int stretch);

/* ------------------------------------------------------------------ */
/* Axes: a plot area mapping data (x0..x1, y0..y1) to a device rect.    */

typedef struct fig_axes {
    double x, y, w, h;         /* plot area in device units (y down) */
    double x0, x1, y0, y1;     /* data limits */
    int x_exp10, y_exp10;      /* 1: values are log10 exponents; ticks
                                  are labelled 1e-3 style */
    int y_ticks_off;           /* 1: no y grid, ticks or tick labels */
} fig_axes;

/* Sets the limits to the finite range of n (x, y) points (x may be NULL
 * for 0..n-1), keeping limits already widened by earlier calls when
 * grow is 1.  Empty or constant ranges are widened to something drawable. */
void fig_axes_fit(fig_axes *ax, const double *x, const double *y, size_t n, int grow);

/* Pads the y limits by frac of their span on both sides. */
void fig_axes_pad_y(fig_axes *ax, double frac);

/* Device x/y of data x/y. */
double fig_axes_px(const fig_axes *ax, double x);
double fig_axes_py(const fig_axes *ax, double y);

/* Draws the frame, grid, ticks with "nice" labels, and the optional
 * title (above) and axis labels (NULL for none). */
void fig_axes_draw(cairo_t *cr, const fig_axes *ax, const char *title, const char *xlabel,
                   const char *ylabel);

/* Draws a polyline through the finite points (a NaN breaks the line),
 * clipped to the plot area; x may be NULL for 0..n-1. */
void fig_axes_line(cairo_t *cr, const fig_axes *ax, const double *x, const double *y, size_t n,
                   const double rgb[3], double alpha, double width);

/* Draws dots of radius r at the finite points. */
void fig_axes_dots(cairo_t *cr, const fig_axes *ax, const double *x, const double *y, size_t n,
                   const double rgb[3], double r);

/* A dashed vertical line at data x, with an optional label at its top. */
void fig_axes_vline(cairo_t *cr, const fig_axes *ax, double x, const double rgb[3],
                    const char *label);

/* A legend box in the top-right (corner 0) or bottom-right (corner 1)
 * of the plot area listing n names with their colours. */
void fig_axes_legend(cairo_t *cr, const fig_axes *ax, const char *const *names,
                     const double (*rgb)[3], int n, int corner);

/* Exponential moving average with bias correction (fastai's smoothing
 * of per-batch losses): out[i] over y[0..i], NaNs skipped. */
void fig_smooth_ema(double *out, const double *y, size_t n, double beta);

/* ------------------------------------------------------------------ */
/* Confusion matrix                                                    */

/* Where the matrix lies on the canvas; depends only on n and names, so
 * tests can compute where to sample pixels. */
typedef struct fig_confusion_geom {
    int width, height;       /* canvas size */
    double x0, y0;           /* top-left of cell (0, 0) */
    double cell;             /* cell side */
    double value_size;       /* font size of the numbers in cells */
    double bar_x, bar_w;     /* colour bar */
} fig_confusion_geom;

/* Computes the layout for n classes named names. */
void fig_confusion_geometry(fig_confusion_geom *g, int n, const char *const *names);

/* Draws counts (n, n) (rows true class, columns predicted) to path:
 * normalized = 0 shows counts, 1 row-normalized fractions; the colour of
 * a cell is fig_colormap_viridis(value / max) (max = largest count, or 1
 * for fractions).  The title gives the accuracy. */
int fig_confusion_write(const char *path, fig_format format, const double *counts, int n,
                        const char *const *names, int normalized);

/* A confusion matrix read from a run folder. */
typedef struct fig_confusion {
    int n;
    char **names;      /* n class names, owned */
    double *counts;    /* (n, n), owned */
} fig_confusion;

/* Reads confusion_matrix.csv (run_files.h format) into cm (caller frees
 * with fig_confusion_free). */
int fig_confusion_read(fig_confusion *cm, const char *path);

/* Builds the matrix from predictions.csv (label, pred and one column per
 * class after loss); unknown class names fail with file:line:column. */
int fig_confusion_from_predictions(fig_confusion *cm, const char *path);

/* Frees cm's arrays; accepts NULL. */
void fig_confusion_free(fig_confusion *cm);

/* ------------------------------------------------------------------ */
/* Per-class F1                                                         */

/* f1[i] for each class from counts (n, n); precision or recall with a
 * zero denominator count as 0. */
void fig_per_class_f1_compute(double *f1, const double *counts, int n);

/* Horizontal bars of per-class F1 (with macro F1 in the title). */
int fig_per_class_f1_write(const char *path, fig_format format, const double *counts, int n,
                           const char *const *names);

/* ------------------------------------------------------------------ */
/* Training curves (metrics.csv)                                       */

typedef struct fig_metrics {
    size_t n_steps;
    double *step, *lr, *momentum, *loss;   /* n_steps each, owned */
    int *step_phase;                       /* n_steps, owned */
    size_t n_epochs;
    double *epoch_step, *train_loss, *valid_loss, *accuracy; /* n_epochs each */
    int *epoch_phase, *epoch;              /* n_epochs, owned */
} fig_metrics;

/* Reads metrics.csv (run_files.h) into m (caller frees with
 * fig_metrics_free).  An empty file, missing columns, an unknown kind or
 * a bad number fail with file:line:column. */
int fig_metrics_read(fig_metrics *m, const char *path);

/* Frees m's arrays; accepts NULL. */
void fig_metrics_free(fig_metrics *m);

/* loss_curves: train loss per step (light) + smoothed, valid loss per
 * epoch, phase boundaries dashed. */
int fig_loss_curves_write(const char *path, fig_format format, const fig_metrics *m);

/* accuracy per epoch (x = step at the epoch's end). */
int fig_accuracy_write(const char *path, fig_format format, const fig_metrics *m);

/* Two panels: learning rate and momentum per step. */
int fig_lr_schedule_write(const char *path, fig_format format, const fig_metrics *m);

/* ------------------------------------------------------------------ */
/* lr-find                                                             */

/* Smoothed loss vs lr (log axis) with n_sugg suggested rates marked;
 * smoothed may be NULL (then computed from loss). */
int fig_lr_find_write(const char *path, fig_format format, const double *lr, const double *loss,
                      const double *smoothed, size_t n, const char *const *sugg_names,
                      const double *sugg_lr, int n_sugg);

/* Reads RUN_DIR/lr_find.csv (and lr_find_suggestions.csv when present)
 * and writes RUN_DIR/figures/lr_find.<ext>. */
int fig_lr_find_draw(const char *run_dir, fig_format format);

/* ------------------------------------------------------------------ */
/* Top losses                                                          */

/* Reads RUN_DIR/top_losses.csv and draws the first max_n rows as a grid
 * of images titled "label / predicted" over "p=<prob>  loss <loss>" to
 * path; cells follow the images' aspect ratio (wide strips are stretched
 * to a visible minimum height).  Image paths are relative to run_dir
 * unless absolute. */
int fig_top_losses_write(const char *path, fig_format format, const char *run_dir, int max_n);

/* ------------------------------------------------------------------ */
/* Run folders                                                         */

/* Called with each figure written (its path). */
typedef void (*fig_written_fn)(const char *path, void *ctx);

/* Redraws every figure whose inputs exist in run_dir into
 * run_dir/figures/ in format, then run_dir/report.html over them;
 * written (may be NULL) hears of each file.  Fails on the first input
 * that exists but is bad. */
int fig_run_dir_draw_ex(const char *run_dir, fig_format format, fig_written_fn written, void *ctx);

/* Writes run_dir/report.html (atomically): one page over the run's
 * files and the figures of format already drawn into run_dir/figures/
 * (figures/fig_report.c).  Fails when a file it reads exists but is
 * bad; missing files leave their section out. */
int fig_report_write(const char *run_dir, fig_format format);

/* ------------------------------------------------------------------ */
/* sensorgram explain (fig_explain.c; the structs in src/train/explain.h) */

struct explain_input_fig;
struct explain_summary_fig;

/* One input's explanation: its raw channels as lines ordered by
 * importance, the time relevance shaded behind them, the predicted and
 * true labels in the title; written to path in format ("png", "svg",
 * "pdf"; NULL = png).  Everything borrowed. */
int fig_explain_input_write(const char *path, const char *format,
                            const struct explain_input_fig *f);

/* The mean channel importance per true class as a heat map (classes x
 * channels, grouped by unit and sensor); as fig_explain_input_write. */
int fig_explain_summary_write(const char *path, const char *format,
                              const struct explain_summary_fig *f);

/* fig_run_dir_draw_ex with format "png", "svg" or "pdf" (NULL = png)
 * and no listing: what the training loop calls after each run. */
int fig_run_dir_draw(const char *run_dir, const char *format);

/* ------------------------------------------------------------------ */
/* Encoder gallery                                                     */

typedef struct fig_gallery_opts {
    const char *data;       /* a DSA root, CSV recordings, a .ts file or X.npy (or its folder) */
    const char *dataset;    /* "dsa": data is a DSA root; NULL: found from data */
    const char *encoders;   /* comma list, e.g. "rp,gasf,mtf" */
    const char *units;      /* DSA units (NULL = LL) */
    const char *sensors;    /* DSA sensors (NULL = acc) */
    const char *axes;       /* DSA axes (NULL = all) */
    const char *subjects;   /* DSA subjects (NULL = 1) */
    const char *magnitude;  /* add|only|off norm rows (NULL = off; dsa_magnitude.h) */
    sensor_csv_options csv; /* CSV recordings: columns, windows, labels (all zero: defaults) */
} fig_gallery_opts;

/* The most cases an unlabelled gallery shows (the first ones). */
#define FIG_GALLERY_UNLABELLED 4

/* One example per class (the first segment of each), raw signal on top
 * and each encoder's image below, written to path.  DATA is read as the
 * model commands read it (src/train/job_data.h: job_series_read): a DSA
 * root (the DSA options; found by its aNN folders unless dataset says
 * "dsa"), CSV recordings (the csv options; labels from parent folders by
 * default), a .ts file or numpy cases; cases without labels show the
 * first FIG_GALLERY_UNLABELLED, titled by name.  The DSA options on other
 * data fail with SG_E_INVALID, as does data that is none of these. */
int fig_gallery_write(const char *path, fig_format format, const fig_gallery_opts *opts);

/* ------------------------------------------------------------------ */
/* Augmentation gallery (fig_augment.c)                                */

/* One DSA segment (the first walking one of the selection, else the
 * first: default LL acc x,y,z of subject 1) under each series augmentation, one row each: original,
 * rotate, scale, shift, crop, warp, jitter, remount, all; the original in gray
 * behind every changed curve.  opts' encoders field is not used. */
int fig_augment_gallery_write(const char *path, fig_format format, const fig_gallery_opts *opts);

#endif
