/* fig_top_losses.c - a grid of the validation samples with the highest
 * loss (top_losses.csv), each titled on two lines: "label / predicted"
 * and "p=<probability of predicted>  loss <loss>".  Images are read with
 * sg_image_read (PNG or JPEG) and shown as they are stored ([0, 1]); it
 * does not re-encode sensor segments.
 *
 * Cells follow the images' aspect ratio: every image is scaled to the
 * cell width, and a row is as tall as its tallest image.  Wide sensor
 * strips (15 x 125 gray stacks) would be a few pixels tall that way, so
 * an image is never drawn less than IMG_MIN_H tall (stretched
 * vertically, nearest-neighbour, so each sensor row stays a sharp band);
 * tall images are capped at a square box.  The cell width grows with
 * the longest "label / predicted" line, between CELL_MIN_W and
 * CELL_MAX_W, so that titles are ellipsized only when they are long.
 */
#include "figures/fig.h"
#include "src/base/csv_table.h"
#include "src/image/image_read.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MIN_W 200
#define CELL_MAX_W 320
#define IMG_MIN_H 60
#define GAP 18
#define HEADER_H 56
#define TITLE_H 40
#define TITLE_SIZE 11.5

/* Where one image goes inside its cell: a cell_w x box_h box below the
 * title, filled (stretch = 1) or fitted with its aspect kept. */
typedef struct tl_box {
    int box_h;
    int stretch;
} tl_box;

static tl_box tl_box_for(const sg_image *img, int cell_w)
{
    tl_box b;
    double h = (double)cell_w * img->h / img->w;   /* aspect-true height */
    if (h < IMG_MIN_H) {
        b.box_h = IMG_MIN_H;
        b.stretch = 1;
    } else {
        b.box_h = h > cell_w ? cell_w : (int)lround(h);
        b.stretch = 0;
    }
    return b;
}

/* Reads the n images named in column c_img (relative to run_dir unless
 * absolute) into imgs; a failure names the CSV line. */
static int tl_read_images(sg_image *imgs, const csv_table *t, int c_img, const char *run_dir,
                          int n)
{
    char buf[4096];
    for (int k = 0; k < n; k++) {
        const char *img_path = csv_table_cell(t, (size_t)k, c_img);
        int len = img_path[0] == '/' ? snprintf(buf, sizeof buf, "%s", img_path)
                                     : snprintf(buf, sizeof buf, "%s/%s", run_dir, img_path);
        if (len < 0 || (size_t)len >= sizeof buf)
            return sg_fail(SG_E_INVALID, "%s:%ld: image path too long", t->path, t->line[k]);
        int rc = sg_image_read(buf, &imgs[k]);
        if (rc)
            return sg_fail_context(rc, "%s:%ld", t->path, t->line[k]);
    }
    return SG_OK;
}

/* The cell width that shows the longest "label / predicted" line whole,
 * clamped to [CELL_MIN_W, CELL_MAX_W]. */
static int tl_cell_width(const csv_table *t, int c_label, int c_pred, int n)
{
    double widest = 0;
    char buf[1024];
    for (int k = 0; k < n; k++) {
        snprintf(buf, sizeof buf, "%s / %s", csv_table_cell(t, (size_t)k, c_label),
                 csv_table_cell(t, (size_t)k, c_pred));
        const char *one[1] = {buf};
        widest = fmax(widest, fig_text_max_width(one, 1, TITLE_SIZE, 0));
    }
    int w = (int)ceil(widest) + 8;
    return w < CELL_MIN_W ? CELL_MIN_W : w > CELL_MAX_W ? CELL_MAX_W : w;
}

static int tl_draw(const char *path, fig_format format, const csv_table *t, const sg_image *imgs,
                   int n, int c_label, int c_pred, int c_prob, int c_loss)
{
    int cols = n <= 3 ? n : n <= 4 ? 2 : n <= 9 ? 3 : n <= 16 ? 4 : 5;
    int rows = (n + cols - 1) / cols;
    int cell_w = tl_cell_width(t, c_label, c_pred, n);
    int *row_h = calloc((size_t)rows, sizeof *row_h);   /* image height per row */
    if (!row_h)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int width = cols * (cell_w + GAP) + GAP, height = HEADER_H;
    for (int k = 0; k < n; k++) {
        tl_box b = tl_box_for(&imgs[k], cell_w);
        if (b.box_h > row_h[k / cols])
            row_h[k / cols] = b.box_h;
    }
    for (int r = 0; r < rows; r++)
        height += TITLE_H + row_h[r] + GAP;
    fig_canvas c;
    int rc = fig_canvas_open(&c, path, format, width, height);
    if (rc) {
        free(row_h);
        return rc;
    }
    cairo_t *cr = c.cr;
    char buf[1024], fit[1024];
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    snprintf(buf, sizeof buf, "Top %d losses: label / predicted, p = probability of predicted", n);
    fig_text(cr, width / 2.0, 26, buf, 15, 1, 0.5, 0.5, 0);
    double y = HEADER_H;
    for (int k = 0; k < n && !rc; k++) {
        double prob, loss;
        if ((rc = csv_table_number(t, (size_t)k, c_prob, &prob, NULL)) ||
            (rc = csv_table_number(t, (size_t)k, c_loss, &loss, NULL)))
            break;
        if (k > 0 && k % cols == 0)
            y += TITLE_H + row_h[k / cols - 1] + GAP;
        double x = GAP + (k % cols) * (cell_w + GAP);
        tl_box b = tl_box_for(&imgs[k], cell_w);
        if ((rc = fig_draw_image(cr, &imgs[k], 0.0, 1.0, x, y + TITLE_H, cell_w, b.box_h,
                                 b.stretch)))
            break;
        const char *label = csv_table_cell(t, (size_t)k, c_label);
        const char *pred = csv_table_cell(t, (size_t)k, c_pred);
        snprintf(buf, sizeof buf, "%s / %s", label, pred);
        fig_text_fit(cr, fit, sizeof fit, buf, TITLE_SIZE, 0, cell_w);
        if (strcmp(label, pred) != 0)
            cairo_set_source_rgb(cr, 0.75, 0.1, 0.1);
        else
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fig_text(cr, x + cell_w / 2.0, y + 10, fit, TITLE_SIZE, 0, 0.5, 0.5, 0);
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        snprintf(buf, sizeof buf, "p=%.2f  loss %.2f", prob, loss);
        fig_text(cr, x + cell_w / 2.0, y + 28, buf, 10.5, 0, 0.5, 0.5, 0);
    }
    free(row_h);
    if (rc) {
        fig_canvas_abort(&c);
        return rc;
    }
    return fig_canvas_commit(&c);
}

int fig_top_losses_write(const char *path, fig_format format, const char *run_dir, int max_n)
{
    char *csv = NULL;
    csv_table t;
    size_t n_csv = strlen(run_dir) + 32;
    if (!(csv = malloc(n_csv)))
        return sg_fail(SG_E_NOMEM, "out of memory");
    snprintf(csv, n_csv, "%s/top_losses.csv", run_dir);
    int rc = csv_table_read(&t, csv);
    free(csv);
    if (rc)
        return rc;
    int c_img, c_label, c_pred, c_prob, c_loss;
    if ((rc = csv_table_require_column(&t, "image", &c_img)) ||
        (rc = csv_table_require_column(&t, "label", &c_label)) ||
        (rc = csv_table_require_column(&t, "pred", &c_pred)) ||
        (rc = csv_table_require_column(&t, "prob", &c_prob)) ||
        (rc = csv_table_require_column(&t, "loss", &c_loss))) {
        csv_table_free(&t);
        return rc;
    }
    int n = (int)(t.n_rows < (size_t)max_n ? t.n_rows : (size_t)max_n);
    if (n < 1) {
        rc = sg_fail(SG_E_PARSE, "%s: no rows to draw", t.path);
        csv_table_free(&t);
        return rc;
    }
    sg_image *imgs = calloc((size_t)n, sizeof *imgs);
    if (!imgs) {
        csv_table_free(&t);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    rc = tl_read_images(imgs, &t, c_img, run_dir, n);
    if (!rc)
        rc = tl_draw(path, format, &t, imgs, n, c_label, c_pred, c_prob, c_loss);
    for (int k = 0; k < n; k++)
        sg_image_free(&imgs[k]);
    free(imgs);
    csv_table_free(&t);
    return rc;
}
