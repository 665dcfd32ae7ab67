/* fig_report.h - the parts of RUN/report.html shared by its files:
 * fig_report.c (the page, the command, results and curves),
 * fig_report_classes.c (per-class table, confusion matrix as a table),
 * fig_report_runs.c (cross-validation folds, ensemble members, top
 * losses and explanations), fig_html.c (escaping).  The public entry is
 * fig_report_write in fig.h.
 *
 * Every string that comes from a file goes through fig_html_text or
 * fig_html_url before it reaches the page; nothing else writes file
 * content.  Writers only fprintf to r->f: a write error shows at the
 * atomic commit, so the section functions return only read errors.
 */
#ifndef SG_FIG_REPORT_H
#define SG_FIG_REPORT_H

#include "figures/fig.h"
#include "src/base/csv_table.h"

#include <jansson.h>
#include <stdio.h>

typedef struct fig_report {
    FILE *f;                 /* the page being written */
    const char *run_dir;
    fig_format format;       /* of the figures to show */
    json_t *config;          /* RUN/config.json, or NULL where the run has none */
    int have_cm;
    fig_confusion cm;        /* confusion_matrix.csv, else from predictions.csv */
    int have_preds;
    csv_table preds;         /* predictions.csv */
    char path[4608];         /* scratch: a path under run_dir */
} fig_report;

/* ------------------------------------------------------------------ */
/* HTML (fig_html.c)                                                   */

/* Writes s escaped for HTML text and attribute values (& < > " ');
 * control characters other than tab and newline become spaces.  NULL
 * writes nothing. */
void fig_html_text(FILE *f, const char *s);

/* Writes a relative path as a URL (bytes outside A-Z a-z 0-9 -._~/
 * percent-encoded), so that file names with spaces, '#' or '?' still
 * load. */
void fig_html_url(FILE *f, const char *path);

/* v with digits decimals, or an em dash when v is not finite. */
void fig_html_num(FILE *f, double v, int digits);

/* 100 v with two decimals and "%", or an em dash when v is not finite. */
void fig_html_pct(FILE *f, double v);

/* ` data-v="v"`: the key the page's script sorts a cell by (-1e308 when
 * v is not finite, so missing numbers sort first). */
void fig_html_sort_key(FILE *f, double v);

/* The #rrggbb of rgb components in [0, 1]. */
void fig_html_colour(char out[8], const double rgb[3]);

/* ------------------------------------------------------------------ */
/* Shared by the sections                                              */

/* Sets r->path to RUN_DIR/rel; 1 when that file or folder exists. */
int fig_report_exists(fig_report *r, const char *rel);

/* Shows PREFIXfigures/NAME.<ext> (prefix "" or "member_0/") when it
 * exists: a <figure> with the image (a link for PDF), alt text alt and
 * caption caption (NULL: none).  Returns 1 when shown, else 0. */
int fig_report_figure(fig_report *r, const char *prefix, const char *name, const char *alt,
                      const char *caption);

/* Precision, recall, F1 and support of class i of counts (n, n) (rows
 * true, columns predicted); a zero denominator gives 0, as in
 * fig_per_class_f1_compute. */
void fig_report_prf(const double *counts, int n, int i, double *precision, double *recall,
                    double *f1, double *support);

/* The number of a results field of config (json object obj, key), or
 * NAN when absent or not a number. */
double fig_report_json_num(const json_t *obj, const char *key);

/* ------------------------------------------------------------------ */
/* Sections                                                            */

/* Per-class precision/recall/F1 (sortable) and the confusion matrix as
 * a coloured table whose cells link to the segments behind them. */
void fig_report_classes(fig_report *r);

/* train --cv: the per-fold (per-subject) table from config.json. */
void fig_report_cv(fig_report *r);

/* train --member: the members side by side (config.json "ensemble");
 * reads each member's config.json and confusion_matrix.csv. */
int fig_report_members(fig_report *r);

/* top_losses.csv as a table with the images, the top-losses figure, and
 * RUN/explain/'s figures when present. */
int fig_report_top_losses(fig_report *r);

#endif
