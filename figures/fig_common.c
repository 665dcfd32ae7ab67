/* fig_common.c - canvases, colours, text and axes shared by the figures.
 *
 * A canvas is a cairo surface (image for PNG, SVG/PDF stream surfaces
 * writing straight into an sg_atomic_file) plus one cairo context.  Font
 * hinting and hint metrics are off so that text widths, hence layouts,
 * are identical in every format.  This file knows nothing about runs or
 * CSVs.
 */
#include "figures/fig.h"
#include "src/base/sg_error.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FIG_FONT "DejaVu Sans"

int fig_format_parse(fig_format *out, const char *name)
{
    if (!name || strcmp(name, "png") == 0)
        *out = FIG_FORMAT_PNG;
    else if (strcmp(name, "svg") == 0)
        *out = FIG_FORMAT_SVG;
    else if (strcmp(name, "pdf") == 0)
        *out = FIG_FORMAT_PDF;
    else
        return sg_fail(SG_E_INVALID, "unknown figure format '%s' (png, svg, pdf)", name);
    return SG_OK;
}

const char *fig_format_ext(fig_format format)
{
    switch (format) {
    case FIG_FORMAT_SVG:
        return "svg";
    case FIG_FORMAT_PDF:
        return "pdf";
    case FIG_FORMAT_PNG:
    default:
        return "png";
    }
}

/* ------------------------------------------------------------------ */

static cairo_status_t write_to_atomic(void *closure, const unsigned char *data, unsigned int len)
{
    sg_atomic_file *af = closure;
    if (len && fwrite(data, 1, len, af->fp) != len)
        return CAIRO_STATUS_WRITE_ERROR;
    return CAIRO_STATUS_SUCCESS;
}

static void select_font(cairo_t *cr)
{
    cairo_font_options_t *fo = cairo_font_options_create();
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    cairo_font_options_set_hint_metrics(fo, CAIRO_HINT_METRICS_OFF);
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_set_font_options(cr, fo);
    cairo_font_options_destroy(fo);
    cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

int fig_canvas_open(fig_canvas *c, const char *path, fig_format format, int width, int height)
{
    memset(c, 0, sizeof *c);
    if (width <= 0 || height <= 0 || width > 20000 || height > 20000)
        return sg_fail(SG_E_INVALID, "%s: bad figure size %dx%d", path, width, height);
    int rc = sg_atomic_open(&c->af, path);
    if (rc)
        return rc;
    switch (format) {
    case FIG_FORMAT_SVG:
        c->surface = cairo_svg_surface_create_for_stream(write_to_atomic, &c->af, width, height);
        break;
    case FIG_FORMAT_PDF:
        c->surface = cairo_pdf_surface_create_for_stream(write_to_atomic, &c->af, width, height);
        /* A fixed date keeps PDFs byte-identical for identical inputs. */
        if (cairo_surface_status(c->surface) == CAIRO_STATUS_SUCCESS)
            cairo_pdf_surface_set_metadata(c->surface, CAIRO_PDF_METADATA_CREATE_DATE,
                                           "2000-01-01T00:00:00Z");
        break;
    case FIG_FORMAT_PNG:
    default:
        c->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
        break;
    }
    if (cairo_surface_status(c->surface) != CAIRO_STATUS_SUCCESS) {
        rc = sg_fail(SG_E_IO, "%s: cannot create a cairo surface: %s", path,
                     cairo_status_to_string(cairo_surface_status(c->surface)));
        fig_canvas_abort(c);
        return rc;
    }
    c->cr = cairo_create(c->surface);
    if (cairo_status(c->cr) != CAIRO_STATUS_SUCCESS) {
        rc = sg_fail(SG_E_NOMEM, "%s: cannot create a cairo context: %s", path,
                     cairo_status_to_string(cairo_status(c->cr)));
        fig_canvas_abort(c);
        return rc;
    }
    c->width = width;
    c->height = height;
    c->format = format;
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    select_font(c->cr);
    cairo_set_line_join(c->cr, CAIRO_LINE_JOIN_ROUND);
    return SG_OK;
}

void fig_canvas_abort(fig_canvas *c)
{
    if (c->cr)
        cairo_destroy(c->cr);
    if (c->surface) {
        /* Finishing a stream surface writes into the temporary file,
         * which is removed right after. */
        cairo_surface_finish(c->surface);
        cairo_surface_destroy(c->surface);
    }
    sg_atomic_abort(&c->af);
    c->cr = NULL;
    c->surface = NULL;
}

int fig_canvas_commit(fig_canvas *c)
{
    char path[4096];
    snprintf(path, sizeof path, "%s", c->af.path ? c->af.path : "(figure)");
    cairo_status_t st = cairo_status(c->cr);
    if (st != CAIRO_STATUS_SUCCESS) {
        fig_canvas_abort(c);
        return sg_fail(SG_E_IO, "%s: drawing failed: %s", path, cairo_status_to_string(st));
    }
    cairo_destroy(c->cr);
    c->cr = NULL;
    if (c->format == FIG_FORMAT_PNG) {
        cairo_surface_flush(c->surface);
        st = cairo_surface_write_to_png_stream(c->surface, write_to_atomic, &c->af);
    } else {
        cairo_surface_finish(c->surface);
        st = cairo_surface_status(c->surface);
    }
    cairo_surface_destroy(c->surface);
    c->surface = NULL;
    if (st != CAIRO_STATUS_SUCCESS) {
        sg_atomic_abort(&c->af);
        return sg_fail(SG_E_IO, "%s: cannot encode the figure: %s", path,
                       cairo_status_to_string(st));
    }
    return sg_atomic_commit(&c->af);
}

/* ------------------------------------------------------------------ */

/* matplotlib's viridis at t = 0, 1/8, ..., 7/8, 15/16, 1. */
static const double viridis_t[10] = {0.0, 0.125, 0.25, 0.375, 0.5,
                                     0.625, 0.75, 0.875, 0.9375, 1.0};
static const double viridis_rgb[10][3] = {
    {0.267004, 0.004874, 0.329415}, {0.282623, 0.140926, 0.457517},
    {0.253935, 0.265254, 0.529983}, {0.206756, 0.371758, 0.553117},
    {0.163625, 0.471133, 0.558148}, {0.127568, 0.566949, 0.550556},
    {0.134692, 0.658636, 0.517649}, {0.266941, 0.748751, 0.440573},
    {0.595839, 0.848717, 0.243950}, {0.993248, 0.906157, 0.143936},
};

void fig_colormap_viridis(double t, double rgb[3])
{
    if (!(t > 0.0))
        t = 0.0; /* NaN included */
    if (t > 1.0)
        t = 1.0;
    int k = 0;
    while (k < 8 && t > viridis_t[k + 1])
        k++;
    double f = (t - viridis_t[k]) / (viridis_t[k + 1] - viridis_t[k]);
    for (int i = 0; i < 3; i++)
        rgb[i] = viridis_rgb[k][i] + f * (viridis_rgb[k + 1][i] - viridis_rgb[k][i]);
}

int fig_text_dark_on(const double rgb[3])
{
    /* Relative luminance (Rec. 709 weights, no gamma: good enough to pick
     * black or white). */
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2] > 0.5;
}

void fig_palette(int i, double rgb[3])
{
    static const double tab10[10][3] = {
        {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
        {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
        {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
        {0.090, 0.745, 0.812},
    };
    int k = ((i % 10) + 10) % 10;
    memcpy(rgb, tab10[k], sizeof tab10[k]);
}

/* ------------------------------------------------------------------ */

static void set_font(cairo_t *cr, double size, int bold)
{
    cairo_select_font_face(cr, FIG_FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

double fig_text_width(cairo_t *cr, const char *s, double size, int bold)
{
    cairo_text_extents_t e;
    set_font(cr, size, bold);
    cairo_text_extents(cr, s, &e);
    return e.x_advance;
}

void fig_text(cairo_t *cr, double x, double y, const char *s, double size, int bold,
              double ax, double ay, double angle_deg)
{
    /* The text box spans the cap height above the baseline and the
     * descender below it, so that centred numbers look centred. */
    double cap = 0.73 * size, desc = 0.22 * size;
    double w = fig_text_width(cr, s, size, bold);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    if (angle_deg != 0.0)
        cairo_rotate(cr, -angle_deg * M_PI / 180.0);
    cairo_move_to(cr, -ax * w, cap - ay * (cap + desc));
    cairo_show_text(cr, s);
    cairo_new_path(cr);
    cairo_restore(cr);
}

double fig_text_max_width(const char *const *s, int n, double size, int bold)
{
    cairo_surface_t *surf = cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1);
    cairo_t *cr = cairo_create(surf);
    select_font(cr);
    double w = 0;
    for (int i = 0; i < n; i++)
        w = fmax(w, fig_text_width(cr, s[i], size, bold));
    cairo_destroy(cr);
    cairo_surface_destroy(surf);
    return w;
}

void fig_text_fit(cairo_t *cr, char *out, size_t out_size, const char *s, double size,
                  int bold, double max_width)
{
    snprintf(out, out_size, "%s", s);
    if (fig_text_width(cr, out, size, bold) <= max_width)
        return;
    size_t n = strlen(out);
    while (n > 0) {
        n--;
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80)
            n--; /* never cut inside a UTF-8 sequence */
        if (n + 4 > out_size)
            continue;
        memcpy(out + n, "...", 4);
        if (fig_text_width(cr, out, size, bold) <= max_width)
            return;
    }
    snprintf(out, out_size, "...");
}

/* ------------------------------------------------------------------ */

int fig_draw_image(cairo_t *cr, const sg_image *img, double lo, double hi, double x, double y,
                   double w, double h, int stretch)
{
    if (img->c < 1 || img->h < 1 || img->w < 1 || !(hi > lo))
        return sg_fail(SG_E_INVALID, "cannot draw a %dx%dx%d image with range [%g, %g]", img->c,
                       img->h, img->w, lo, hi);
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, img->w, img->h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return sg_fail(SG_E_NOMEM, "cannot allocate a %dx%d image surface", img->w, img->h);
    }
    cairo_surface_flush(s);
    unsigned char *px = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    size_t plane = (size_t)img->h * (size_t)img->w;
    int rgb = img->c == 3;
    for (int r = 0; r < img->h; r++) {
        uint32_t *row = (uint32_t *)(px + (size_t)r * (size_t)stride);
        for (int q = 0; q < img->w; q++) {
            size_t i = (size_t)r * (size_t)img->w + (size_t)q;
            uint32_t v[3];
            for (int k = 0; k < 3; k++) {
                double f = (img->data[(rgb ? (size_t)k * plane : 0) + i] - lo) / (hi - lo);
                f = isfinite(f) ? fmin(1.0, fmax(0.0, f)) : 0.0;
                v[k] = (uint32_t)lround(f * 255.0);
            }
            row[q] = 0xFF000000u | (v[0] << 16) | (v[1] << 8) | v[2];
        }
    }
    cairo_surface_mark_dirty(s);
    double sx = w / img->w, sy = h / img->h;
    if (!stretch)
        sx = sy = fmin(sx, sy);
    double dw = img->w * sx, dh = img->h * sy;
    cairo_save(cr);
    cairo_translate(cr, x + (w - dw) / 2, y + (h - dh) / 2);
    cairo_scale(cr, sx, sy);
    cairo_set_source_surface(cr, s, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), stretch || fmin(sx, sy) >= 2
                                                       ? CAIRO_FILTER_NEAREST
                                                       : CAIRO_FILTER_GOOD);
    cairo_rectangle(cr, 0, 0, img->w, img->h);
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(s);
    return SG_OK;
}

/* ------------------------------------------------------------------ */

void fig_axes_fit(fig_axes *ax, const double *x, const double *y, size_t n, int grow)
{
    double xl = INFINITY, xh = -INFINITY, yl = INFINITY, yh = -INFINITY;
    if (grow) {
        xl = ax->x0;
        xh = ax->x1;
        yl = ax->y0;
        yh = ax->y1;
    }
    for (size_t i = 0; i < n; i++) {
        double xv = x ? x[i] : (double)i, yv = y[i];
        if (!isfinite(xv) || !isfinite(yv))
            continue;
        xl = fmin(xl, xv);
        xh = fmax(xh, xv);
        yl = fmin(yl, yv);
        yh = fmax(yh, yv);
    }
    if (!(xl <= xh)) {
        xl = 0;
        xh = 1;
    }
    if (!(yl <= yh)) {
        yl = 0;
        yh = 1;
    }
    if (xh - xl < 1e-12 * fmax(1.0, fabs(xl))) {
        xl -= 0.5;
        xh += 0.5;
    }
    if (yh - yl < 1e-12 * fmax(1.0, fabs(yl))) {
        double d = fabs(yl) > 0 ? 0.1 * fabs(yl) : 0.5;
        yl -= d;
        yh += d;
    }
    ax->x0 = xl;
    ax->x1 = xh;
    ax->y0 = yl;
    ax->y1 = yh;
}

void fig_axes_pad_y(fig_axes *ax, double frac)
{
    double d = (ax->y1 - ax->y0) * frac;
    ax->y0 -= d;
    ax->y1 += d;
}

double fig_axes_px(const fig_axes *ax, double x)
{
    return ax->x + (x - ax->x0) / (ax->x1 - ax->x0) * ax->w;
}

double fig_axes_py(const fig_axes *ax, double y)
{
    return ax->y + ax->h - (y - ax->y0) / (ax->y1 - ax->y0) * ax->h;
}

/* A 1-2-5 step giving about target ticks over [lo, hi]. */
static double nice_step(double lo, double hi, int target)
{
    double raw = (hi - lo) / target;
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag;
    double nice = f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10;
    return nice * mag;
}

static void format_tick(char *buf, size_t n, double v, double step, int exp10)
{
    if (exp10) {
        snprintf(buf, n, "1e%d", (int)lround(v));
        return;
    }
    if (fabs(v) < step * 1e-6)
        v = 0.0; /* no "-0" or "1e-17" at the origin */
    double a = fmax(fabs(v), step);
    if (a >= 1e5 || step < 1e-4) {
        snprintf(buf, n, "%.2g", v);
        return;
    }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(buf, n, "%.*f", dec, v);
}

static void axis_ticks(double lo, double hi, int exp10, int target, double *first, double *step)
{
    if (exp10) {
        double s = ceil((hi - lo) / target);
        *step = s < 1 ? 1 : s;
    } else {
        *step = nice_step(lo, hi, target);
    }
    *first = ceil(lo / *step - 1e-9) * *step;
}

void fig_axes_draw(cairo_t *cr, const fig_axes *ax, const char *title, const char *xlabel,
                   const char *ylabel)
{
    const double tick_size = 11, label_size = 12.5, title_size = 14;
    double first, step;
    char buf[64];

    cairo_save(cr);
    cairo_set_line_width(cr, 1.0);
    /* grid and tick labels, x */
    axis_ticks(ax->x0, ax->x1, ax->x_exp10, ax->w > 500 ? 8 : 5, &first, &step);
    for (double v = first; v <= ax->x1 + step * 1e-9; v += step) {
        double px = round(fig_axes_px(ax, v)) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, px, ax->y);
        cairo_line_to(cr, px, ax->y + ax->h);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, px, ax->y + ax->h);
        cairo_line_to(cr, px, ax->y + ax->h + 4);
        cairo_stroke(cr);
        format_tick(buf, sizeof buf, v, step, ax->x_exp10);
        fig_text(cr, px, ax->y + ax->h + 7, buf, tick_size, 0, 0.5, 0.0, 0);
    }
    /* grid and tick labels, y */
    if (ax->y_ticks_off)
        goto frame;
    axis_ticks(ax->y0, ax->y1, ax->y_exp10, ax->h > 300 ? 6 : 4, &first, &step);
    for (double v = first; v <= ax->y1 + step * 1e-9; v += step) {
        double py = round(fig_axes_py(ax, v)) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, ax->x, py);
        cairo_line_to(cr, ax->x + ax->w, py);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, ax->x - 4, py);
        cairo_line_to(cr, ax->x, py);
        cairo_stroke(cr);
        format_tick(buf, sizeof buf, v, step, ax->y_exp10);
        fig_text(cr, ax->x - 7, py, buf, tick_size, 0, 1.0, 0.5, 0);
    }
frame:
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, round(ax->x) + 0.5, round(ax->y) + 0.5, round(ax->w), round(ax->h));
    cairo_stroke(cr);
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (title)
        fig_text(cr, ax->x + ax->w / 2, ax->y - 12, title, title_size, 1, 0.5, 1.0, 0);
    if (xlabel)
        fig_text(cr, ax->x + ax->w / 2, ax->y + ax->h + 28, xlabel, label_size, 0, 0.5, 0.0, 0);
    if (ylabel)
        fig_text(cr, ax->x - 52, ax->y + ax->h / 2, ylabel, label_size, 0, 0.5, 1.0, 90);
    cairo_restore(cr);
}

static void clip_to_axes(cairo_t *cr, const fig_axes *ax)
{
    cairo_rectangle(cr, ax->x, ax->y, ax->w, ax->h);
    cairo_clip(cr);
}

void fig_axes_line(cairo_t *cr, const fig_axes *ax, const double *x, const double *y, size_t n,
                   const double rgb[3], double alpha, double width)
{
    cairo_save(cr);
    clip_to_axes(cr, ax);
    cairo_set_source_rgba(cr, rgb[0], rgb[1], rgb[2], alpha);
    cairo_set_line_width(cr, width);
    int pen_down = 0;
    for (size_t i = 0; i < n; i++) {
        double xv = x ? x[i] : (double)i;
        if (!isfinite(xv) || !isfinite(y[i])) {
            pen_down = 0;
            continue;
        }
        double px = fig_axes_px(ax, xv), py = fig_axes_py(ax, y[i]);
        if (pen_down)
            cairo_line_to(cr, px, py);
        else
            cairo_move_to(cr, px, py);
        pen_down = 1;
    }
    cairo_stroke(cr);
    cairo_restore(cr);
}

void fig_axes_dots(cairo_t *cr, const fig_axes *ax, const double *x, const double *y, size_t n,
                   const double rgb[3], double r)
{
    cairo_save(cr);
    clip_to_axes(cr, ax);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    for (size_t i = 0; i < n; i++) {
        double xv = x ? x[i] : (double)i;
        if (!isfinite(xv) || !isfinite(y[i]))
            continue;
        cairo_new_sub_path(cr);
        cairo_arc(cr, fig_axes_px(ax, xv), fig_axes_py(ax, y[i]), r, 0, 2 * M_PI);
    }
    cairo_fill(cr);
    cairo_restore(cr);
}

void fig_axes_vline(cairo_t *cr, const fig_axes *ax, double x, const double rgb[3],
                    const char *label)
{
    if (!isfinite(x) || x < ax->x0 || x > ax->x1)
        return;
    double px = round(fig_axes_px(ax, x)) + 0.5;
    const double dash[2] = {5, 4};
    cairo_save(cr);
    cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
    cairo_set_line_width(cr, 1.2);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, px, ax->y);
    cairo_line_to(cr, px, ax->y + ax->h);
    cairo_stroke(cr);
    if (label)
        fig_text(cr, px + 4, ax->y + 5, label, 10.5, 0, 0.0, 0.0, 0);
    cairo_restore(cr);
}

void fig_axes_legend(cairo_t *cr, const fig_axes *ax, const char *const *names,
                     const double (*rgb)[3], int n, int corner)
{
    const double size = 11, row = 17, swatch = 18, pad = 7;
    double w = 0;
    for (int i = 0; i < n; i++)
        w = fmax(w, fig_text_width(cr, names[i], size, 0));
    double bw = pad * 3 + swatch + w, bh = pad * 2 + row * n - 4;
    double bx = ax->x + ax->w - bw - 8;
    double by = corner == 0 ? ax->y + 8 : ax->y + ax->h - bh - 8;
    cairo_save(cr);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.88);
    cairo_rectangle(cr, bx, by, bw, bh);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.75);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        double cy = by + pad + row * i + 6.5;
        cairo_set_source_rgb(cr, rgb[i][0], rgb[i][1], rgb[i][2]);
        cairo_set_line_width(cr, 2.5);
        cairo_move_to(cr, bx + pad, cy);
        cairo_line_to(cr, bx + pad + swatch, cy);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fig_text(cr, bx + pad * 2 + swatch, cy, names[i], size, 0, 0.0, 0.5, 0);
    }
    cairo_restore(cr);
}

void fig_smooth_ema(double *out, const double *y, size_t n, double beta)
{
    double avg = 0.0, w = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(y[i])) {
            avg = beta * avg + (1 - beta) * y[i];
            w = beta * w + (1 - beta);
        }
        out[i] = w > 0 ? avg / w : NAN;
    }
}
