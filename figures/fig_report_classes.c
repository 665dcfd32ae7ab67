/* fig_report_classes.c - report.html's per-class section: precision,
 * recall and F1 per class (a sortable table), and the confusion matrix
 * as a table of counts coloured by the row's fraction (the viridis map
 * of the figures).  A cell's title lists the first segments behind it;
 * clicking it shows all of them (up to a cap) through CSS :target, so it
 * works without the script.  Segments come from predictions.csv (path,
 * label, pred); a folder without it shows the counts alone.
 */
#include "figures/fig_report.h"
#include "src/train/run_files.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Segment names listed per cell at most, and in a cell's hover title. */
#define CELL_LIST_MAX 200
#define CELL_TITLE_MAX 8

static void write_per_class(fig_report *r)
{
    FILE *f = r->f;
    const fig_confusion *cm = &r->cm;
    double sum_p = 0, sum_r = 0, sum_f1 = 0, total = 0;
    fputs("<section id=\"classes\">\n<h2>Per class</h2>\n<table class=\"sortable\">\n"
          "<caption>Precision, recall and F1 per class (click a heading to sort)</caption>\n"
          "<thead><tr><th scope=\"col\" class=\"l\"><button type=\"button\">class</button></th>"
          "<th scope=\"col\"><button type=\"button\">segments</button></th>"
          "<th scope=\"col\"><button type=\"button\">precision</button></th>"
          "<th scope=\"col\"><button type=\"button\">recall</button></th>"
          "<th scope=\"col\"><button type=\"button\">F1</button></th></tr></thead>\n<tbody>\n",
          f);
    for (int i = 0; i < cm->n; i++) {
        double p, rc, f1, support;
        fig_report_prf(cm->counts, cm->n, i, &p, &rc, &f1, &support);
        sum_p += p;
        sum_r += rc;
        sum_f1 += f1;
        total += support;
        fputs("<tr><th scope=\"row\" class=\"l\">", f);
        fig_html_text(f, cm->names[i]);
        fputs("</th><td", f);
        fig_html_sort_key(f, support);
        fprintf(f, ">%.0f</td><td", support);
        fig_html_sort_key(f, p);
        fputc('>', f);
        fig_html_num(f, p, 3);
        fputs("</td><td", f);
        fig_html_sort_key(f, rc);
        fputc('>', f);
        fig_html_num(f, rc, 3);
        fputs("</td><td", f);
        fig_html_sort_key(f, f1);
        fputc('>', f);
        fig_html_num(f, f1, 3);
        fputs("</td></tr>\n", f);
    }
    int n = cm->n > 0 ? cm->n : 1;
    fprintf(f, "</tbody>\n<tfoot><tr><th scope=\"row\" class=\"l\">macro average</th>"
               "<td>%.0f</td><td>%.3f</td><td>%.3f</td><td>%.3f</td></tr></tfoot>\n</table>\n",
            total, sum_p / n, sum_r / n, sum_f1 / n);
    char alt[256];
    snprintf(alt, sizeof alt, "Per-class F1 as bars, %d classes: macro F1 %.3f", cm->n,
             sum_f1 / n);
    fig_report_figure(r, "", "per_class_f1", alt, NULL);
    fputs("</section>\n", f);
}

/* The segments of each cell in predictions.csv order: start[c] ..
 * start[c + 1] index rows (c = true * n + predicted).  Rows whose classes
 * are not the matrix's are left out.  Returns 0, or -1 without memory
 * (then no lists are shown). */
typedef struct cell_rows {
    size_t *start;  /* n * n + 1 */
    size_t *rows;   /* predictions rows, grouped by cell */
    int col_path;
} cell_rows;

static int class_index(const fig_confusion *cm, const char *s)
{
    for (int i = 0; i < cm->n; i++)
        if (strcmp(cm->names[i], s) == 0)
            return i;
    return -1;
}

static int cell_rows_build(cell_rows *c, const fig_report *r)
{
    memset(c, 0, sizeof *c);
    const csv_table *t = &r->preds;
    int cl = csv_table_column(t, "label"), cp = csv_table_column(t, "pred");
    c->col_path = csv_table_column(t, "path");
    if (!r->have_preds || cl < 0 || cp < 0 || c->col_path < 0)
        return -1;
    size_t nn = (size_t)r->cm.n * r->cm.n;
    int *cell = malloc((t->n_rows ? t->n_rows : 1) * sizeof *cell);
    c->start = calloc(nn + 1, sizeof *c->start);
    c->rows = malloc((t->n_rows ? t->n_rows : 1) * sizeof *c->rows);
    if (!cell || !c->start || !c->rows) {
        free(cell);
        free(c->start);
        free(c->rows);
        memset(c, 0, sizeof *c);
        return -1;
    }
    for (size_t i = 0; i < t->n_rows; i++) {
        int a = class_index(&r->cm, csv_table_cell(t, i, cl));
        int b = class_index(&r->cm, csv_table_cell(t, i, cp));
        cell[i] = a < 0 || b < 0 ? -1 : a * r->cm.n + b;
        if (cell[i] >= 0)
            c->start[cell[i] + 1]++;
    }
    for (size_t k = 0; k < nn; k++)
        c->start[k + 1] += c->start[k];
    size_t *fill = calloc(nn ? nn : 1, sizeof *fill);
    if (!fill) {
        free(cell);
        free(c->start);
        free(c->rows);
        memset(c, 0, sizeof *c);
        return -1;
    }
    for (size_t i = 0; i < t->n_rows; i++)
        if (cell[i] >= 0)
            c->rows[c->start[cell[i]] + fill[cell[i]]++] = i;
    free(fill);
    free(cell);
    return 0;
}

static void cell_rows_free(cell_rows *c)
{
    free(c->start);
    free(c->rows);
}

static void write_cell(fig_report *r, const cell_rows *c, int i, int j, double row_total)
{
    FILE *f = r->f;
    const fig_confusion *cm = &r->cm;
    double v = cm->counts[(size_t)i * cm->n + j], frac = row_total > 0 ? v / row_total : 0;
    double rgb[3];
    char bg[8];
    fig_colormap_viridis(frac, rgb);
    fig_html_colour(bg, rgb);
    fprintf(f, "<td style=\"background:%s;color:%s\" title=\"true ", bg,
            fig_text_dark_on(rgb) ? "#000" : "#fff");
    fig_html_text(f, cm->names[i]);
    fputs(", predicted ", f);
    fig_html_text(f, cm->names[j]);
    fprintf(f, ": %.0f (%.1f%% of the class)", v, 100 * frac);
    size_t k = (size_t)i * cm->n + j, listed = c->start ? c->start[k + 1] - c->start[k] : 0;
    for (size_t s = 0; s < listed && s < CELL_TITLE_MAX; s++) {
        fputs(s ? ", " : ":\n", f);
        fig_html_text(f, csv_table_cell(&r->preds, c->rows[c->start[k] + s], c->col_path));
    }
    if (listed > CELL_TITLE_MAX)
        fprintf(f, ", \xe2\x80\xa6 (%zu in all)", listed);
    if (listed)
        fprintf(f, "\"><a href=\"#cm-%d-%d\">%.0f</a></td>", i, j, v);
    else
        fprintf(f, "\">%.0f</td>", v);
}

static void write_cell_lists(fig_report *r, const cell_rows *c)
{
    FILE *f = r->f;
    const fig_confusion *cm = &r->cm;
    for (int i = 0; i < cm->n; i++)
        for (int j = 0; j < cm->n; j++) {
            size_t k = (size_t)i * cm->n + j, listed = c->start[k + 1] - c->start[k];
            if (!listed)
                continue;
            fprintf(f, "<div class=\"cell-list\" id=\"cm-%d-%d\"><h3>True ", i, j);
            fig_html_text(f, cm->names[i]);
            fputs(", predicted ", f);
            fig_html_text(f, cm->names[j]);
            fprintf(f, ": %zu segment%s</h3>\n<p>", listed, listed == 1 ? "" : "s");
            for (size_t s = 0; s < listed && s < CELL_LIST_MAX; s++) {
                if (s)
                    fputs(", ", f);
                fig_html_text(f, csv_table_cell(&r->preds, c->rows[c->start[k] + s], c->col_path));
            }
            if (listed > CELL_LIST_MAX)
                fprintf(f, ", \xe2\x80\xa6 and %zu more (%s)", listed - CELL_LIST_MAX,
                        SG_RUN_PREDICTIONS);
            fputs("</p></div>\n", f);
        }
}

static void write_confusion(fig_report *r)
{
    FILE *f = r->f;
    const fig_confusion *cm = &r->cm;
    cell_rows c;
    int have_lists = cell_rows_build(&c, r) == 0;
    double diag = 0, total = 0;
    for (int i = 0; i < cm->n; i++)
        for (int j = 0; j < cm->n; j++) {
            total += cm->counts[(size_t)i * cm->n + j];
            diag += i == j ? cm->counts[(size_t)i * cm->n + j] : 0;
        }
    fputs("<section id=\"confusion\">\n<h2>Confusion matrix</h2>\n<p>Rows are the true "
          "classes, columns the predicted ones; the colour is the fraction of the row", f);
    fputs(have_lists ? ". Hover over a cell for its first segments, click it for all of them."
                     : ".", f);
    fputs("</p>\n<div class=\"scroll\"><table class=\"cm\">\n<caption>Confusion matrix "
          "(counts)</caption>\n<thead><tr><th scope=\"col\" class=\"l\">true \\ predicted</th>", f);
    for (int j = 0; j < cm->n; j++) {
        fputs("<th scope=\"col\" class=\"col\">", f);
        fig_html_text(f, cm->names[j]);
        fputs("</th>", f);
    }
    fputs("<th scope=\"col\">total</th></tr></thead>\n<tbody>\n", f);
    for (int i = 0; i < cm->n; i++) {
        double row_total = 0;
        for (int j = 0; j < cm->n; j++)
            row_total += cm->counts[(size_t)i * cm->n + j];
        fputs("<tr><th scope=\"row\" class=\"row\">", f);
        fig_html_text(f, cm->names[i]);
        fputs("</th>", f);
        for (int j = 0; j < cm->n; j++)
            write_cell(r, have_lists ? &c : &(cell_rows){0}, i, j, row_total);
        fprintf(f, "<td>%.0f</td></tr>\n", row_total);
    }
    fputs("</tbody>\n</table></div>\n", f);
    if (have_lists) {
        write_cell_lists(r, &c);
        cell_rows_free(&c);
    }
    char alt[256];
    double acc = total > 0 ? diag / total : NAN;
    snprintf(alt, sizeof alt, "Confusion matrix figure, counts, %d classes: accuracy %.2f%% "
             "(%.0f of %.0f segments on the diagonal)", cm->n, 100 * acc, diag, total);
    fputs("<div class=\"figs\">\n", f);
    fig_report_figure(r, "", "confusion_matrix", alt, NULL);
    snprintf(alt, sizeof alt, "Confusion matrix figure, each row normalised to 1, %d classes: "
             "accuracy %.2f%%", cm->n, 100 * acc);
    fig_report_figure(r, "", "confusion_matrix_normalized", alt, NULL);
    fputs("</div>\n</section>\n", f);
}

void fig_report_classes(fig_report *r)
{
    if (!r->have_cm)
        return;
    write_per_class(r);
    write_confusion(r);
}
