/* fig_top_losses.c - a grid of the validation samples with the highest
 * loss (top_losses.csv), each titled "label / predicted / probability"
 * with its loss below.  Images are read with sg_image_read (PNG or JPEG)
 * and shown as they are stored ([0, 1]); it does not re-encode sensor
 * segments.
 */
#include "fig.h"
#include "csv_table.h"
#include "image_read.h"
#include "sg_error.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TILE 200
#define GAP 18
#define TITLE_H 40

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
    int cols = n <= 3 ? n : n <= 4 ? 2 : n <= 9 ? 3 : n <= 16 ? 4 : 5;
    int rows = (n + cols - 1) / cols;
    int width = cols * (TILE + GAP) + GAP, height = 56 + rows * (TILE + TITLE_H + GAP);
    fig_canvas c;
    if ((rc = fig_canvas_open(&c, path, format, width, height))) {
        csv_table_free(&t);
        return rc;
    }
    cairo_t *cr = c.cr;
    char buf[1024], fit[1024];
    snprintf(buf, sizeof buf, "Top %d losses: label / predicted / probability", n);
    fig_text(cr, width / 2.0, 26, buf, 15, 1, 0.5, 0.5, 0);
    for (int k = 0; k < n && !rc; k++) {
        double prob, loss;
        if ((rc = csv_table_number(&t, (size_t)k, c_prob, &prob, NULL)) ||
            (rc = csv_table_number(&t, (size_t)k, c_loss, &loss, NULL)))
            break;
        const char *img_path = csv_table_cell(&t, (size_t)k, c_img);
        if (img_path[0] == '/')
            snprintf(buf, sizeof buf, "%s", img_path);
        else
            snprintf(buf, sizeof buf, "%s/%s", run_dir, img_path);
        sg_image img = {0};
        if ((rc = sg_image_read(buf, &img))) {
            sg_fail_context(rc, "%s:%ld", t.path, t.line[k]);
            break;
        }
        double x = GAP + (k % cols) * (TILE + GAP), y = 56 + (k / cols) * (TILE + TITLE_H + GAP);
        rc = fig_draw_image(cr, &img, 0.0, 1.0, x, y + TITLE_H, TILE, TILE, 0);
        sg_image_free(&img);
        if (rc)
            break;
        const char *label = csv_table_cell(&t, (size_t)k, c_label);
        const char *pred = csv_table_cell(&t, (size_t)k, c_pred);
        snprintf(buf, sizeof buf, "%s / %s / %.2f", label, pred, prob);
        fig_text_fit(cr, fit, sizeof fit, buf, 11.5, 0, TILE);
        if (strcmp(label, pred) != 0)
            cairo_set_source_rgb(cr, 0.75, 0.1, 0.1);
        else
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        fig_text(cr, x + TILE / 2.0, y + 10, fit, 11.5, 0, 0.5, 0.5, 0);
        cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        snprintf(buf, sizeof buf, "loss %.3f", loss);
        fig_text(cr, x + TILE / 2.0, y + 28, buf, 10.5, 0, 0.5, 0.5, 0);
    }
    csv_table_free(&t);
    if (rc) {
        fig_canvas_abort(&c);
        return rc;
    }
    return fig_canvas_commit(&c);
}
