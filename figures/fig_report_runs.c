/* fig_report_runs.c - report.html's sections over more than one model
 * or sample: the folds of train --cv (one row per held-out subject),
 * the members of a train --member ensemble side by side (each member's
 * own config.json results and confusion_matrix.csv F1 per class, its
 * figures, its own report.html), and the top losses with the figures of
 * `sensorgram explain` when the run folder holds them in explain/.
 */
#include "figures/fig_report.h"
#include "src/base/sg_error.h"
#include "src/train/run_files.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Explanation figures linked at most. */
#define EXPLAIN_MAX 64

static void num_cell(FILE *f, double v, int digits, int pct)
{
    fputs("<td", f);
    fig_html_sort_key(f, v);
    fputc('>', f);
    if (pct)
        fig_html_pct(f, v);
    else
        fig_html_num(f, v, digits);
    fputs("</td>", f);
}

static void sort_th(FILE *f, const char *name, int left)
{
    fprintf(f, "<th scope=\"col\"%s><button type=\"button\">", left ? " class=\"l\"" : "");
    fig_html_text(f, name);
    fputs("</button></th>", f);
}

void fig_report_cv(fig_report *r)
{
    json_t *opts = r->config ? json_object_get(r->config, "options") : NULL;
    const char *cv = json_string_value(json_object_get(opts, "cv"));
    json_t *folds = r->config ? json_object_get(r->config, "folds") : NULL;
    if (!cv || strcmp(cv, "none") == 0 || json_array_size(folds) == 0)
        return;
    FILE *f = r->f;
    int loso = strcmp(cv, "loso") == 0;
    fprintf(f, "<section id=\"folds\">\n<h2>Per %s</h2>\n<table class=\"sortable\">\n"
               "<caption>Each fold's held-out %s: its results (click a heading to sort)"
               "</caption>\n<thead><tr>",
            loso ? "subject" : "fold", loso ? "subject" : "segments");
    sort_th(f, "fold", 0);
    if (loso)
        sort_th(f, "subject", 0);
    static const char *const heads[] = {"training segments", "validation segments", "accuracy",
                                        "log loss", "seconds"};
    for (int k = 0; k < 5; k++)
        sort_th(f, heads[k], 0);
    fputs("</tr></thead>\n<tbody>\n", f);
    size_t i;
    json_t *fold;
    json_array_foreach(folds, i, fold) {
        fputs("<tr>", f);
        num_cell(f, fig_report_json_num(fold, "fold"), 0, 0);
        if (loso)
            num_cell(f, fig_report_json_num(fold, "subject"), 0, 0);
        num_cell(f, fig_report_json_num(fold, "n_train"), 0, 0);
        num_cell(f, fig_report_json_num(fold, "n_valid"), 0, 0);
        num_cell(f, fig_report_json_num(fold, "accuracy"), 0, 1);
        num_cell(f, fig_report_json_num(fold, "log_loss"), 4, 0);
        num_cell(f, fig_report_json_num(fold, "seconds"), 1, 0);
        fputs("</tr>\n", f);
    }
    fprintf(f, "</tbody>\n<tfoot><tr><th scope=\"row\" class=\"l\" colspan=\"%d\">mean "
               "\xc2\xb1 standard deviation</th><td>",
            loso ? 4 : 3);
    fig_html_pct(f, fig_report_json_num(r->config, "cv_accuracy_mean"));
    fputs(" \xc2\xb1 ", f);
    fig_html_pct(f, fig_report_json_num(r->config, "cv_accuracy_std"));
    fputs("</td><td></td><td></td></tr></tfoot>\n</table>\n", f);
    double worst = fig_report_json_num(r->config, "cv_worst_subject");
    if (loso && isfinite(worst)) {
        fprintf(f, "<p>Worst subject: %.0f (accuracy ", worst);
        fig_html_pct(f, fig_report_json_num(r->config, "cv_accuracy_worst"));
        fputs(").</p>\n", f);
    }
    fputs("</section>\n", f);
}

/* One member's numbers: its results and its F1 per class (NULL when its
 * confusion matrix is missing or has other classes than the ensemble). */
typedef struct member_view {
    const char *dir;        /* relative to the run, from config.json */
    const char *options;
    json_t *config;         /* owned; NULL when absent */
    double *f1;             /* n classes, owned; NULL when not comparable */
} member_view;

/* A member folder name is relative and stays inside the run. */
static int member_dir_ok(const char *dir)
{
    return dir && *dir && dir[0] != '/' && !strstr(dir, "..");
}

static int member_load(fig_report *r, member_view *m)
{
    char rel[1024];
    snprintf(rel, sizeof rel, "%s/%s", m->dir, SG_RUN_CONFIG);
    if (fig_report_exists(r, rel)) {
        json_error_t err;
        if (!(m->config = json_load_file(r->path, 0, &err)))
            return sg_fail(SG_E_PARSE, "%s:%d: %s", r->path, err.line, err.text);
    }
    snprintf(rel, sizeof rel, "%s/%s", m->dir, SG_RUN_CONFUSION);
    if (!r->have_cm || !fig_report_exists(r, rel))
        return SG_OK;
    fig_confusion cm;
    int rc = fig_confusion_read(&cm, r->path);
    if (rc)
        return rc;
    int same = cm.n == r->cm.n;
    for (int i = 0; same && i < cm.n; i++)
        same = strcmp(cm.names[i], r->cm.names[i]) == 0;
    if (same && (m->f1 = malloc((size_t)cm.n * sizeof *m->f1)) != NULL)
        fig_per_class_f1_compute(m->f1, cm.counts, cm.n);
    fig_confusion_free(&cm);
    return SG_OK;
}

static void member_link(fig_report *r, const member_view *m, const char *text)
{
    char rel[1024];
    snprintf(rel, sizeof rel, "%s/%s", m->dir, SG_RUN_REPORT);
    int own = fig_report_exists(r, rel);
    fputs("<a href=\"", r->f);
    fig_html_url(r->f, own ? rel : m->dir);
    fputs(own ? "\">" : "/\">", r->f);
    fig_html_text(r->f, text);
    fputs("</a>", r->f);
}

static void members_table(fig_report *r, const member_view *ms, size_t n)
{
    FILE *f = r->f;
    fputs("<table class=\"sortable\">\n<caption>Each member on the same validation segments, "
          "and the ensemble (click a heading to sort)</caption>\n<thead><tr>", f);
    sort_th(f, "member", 1);
    sort_th(f, "options beyond the command", 1);
    sort_th(f, "validation segments", 0);
    sort_th(f, "accuracy", 0);
    sort_th(f, "log loss", 0);
    sort_th(f, "macro F1", 0);
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i <= n; i++) {
        const json_t *res = json_object_get(i < n ? ms[i].config : r->config, "results");
        fputs("<tr><td class=\"l\">", f);
        if (i < n)
            member_link(r, &ms[i], ms[i].dir);
        else
            fputs("<strong>ensemble</strong> (mean probabilities)", f);
        fputs("</td><td class=\"l\"><code>", f);
        fig_html_text(f, i < n ? (ms[i].options[0] ? ms[i].options : "(none)") : "");
        fputs("</code></td>", f);
        num_cell(f, fig_report_json_num(res, "n_valid"), 0, 0);
        num_cell(f, fig_report_json_num(res, "accuracy"), 0, 1);
        num_cell(f, fig_report_json_num(res, "log_loss"), 4, 0);
        num_cell(f, fig_report_json_num(res, "macro_f1"), 4, 0);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
}

static void members_f1_table(fig_report *r, const member_view *ms, size_t n)
{
    FILE *f = r->f;
    double *f1 = malloc((size_t)r->cm.n * sizeof *f1);
    if (!f1)
        return;
    fig_per_class_f1_compute(f1, r->cm.counts, r->cm.n);
    fputs("<table class=\"sortable\">\n<caption>F1 per class: the ensemble and each member "
          "(click a heading to sort)</caption>\n<thead><tr>", f);
    sort_th(f, "class", 1);
    sort_th(f, "ensemble", 0);
    for (size_t k = 0; k < n; k++)
        sort_th(f, ms[k].dir, 0);
    fputs("</tr></thead>\n<tbody>\n", f);
    for (int i = 0; i < r->cm.n; i++) {
        fputs("<tr><th scope=\"row\" class=\"l\">", f);
        fig_html_text(f, r->cm.names[i]);
        fputs("</th>", f);
        num_cell(f, f1[i], 3, 0);
        for (size_t k = 0; k < n; k++)
            num_cell(f, ms[k].f1 ? ms[k].f1[i] : NAN, 3, 0);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    free(f1);
}

static void member_cards(fig_report *r, const member_view *ms, size_t n)
{
    FILE *f = r->f;
    fputs("<div class=\"members\">\n", f);
    for (size_t k = 0; k < n; k++) {
        const json_t *res = json_object_get(ms[k].config, "results");
        double acc = fig_report_json_num(res, "accuracy");
        double f1 = fig_report_json_num(res, "macro_f1");
        fputs("<div class=\"member\"><h3>", f);
        member_link(r, &ms[k], ms[k].dir);
        fputs("</h3><p>accuracy ", f);
        fig_html_pct(f, acc);
        fputs(", macro F1 ", f);
        fig_html_num(f, f1, 4);
        fputs("</p>\n", f);
        char prefix[1100], alt[1400];
        snprintf(prefix, sizeof prefix, "%s/", ms[k].dir);
        snprintf(alt, sizeof alt, "%s: confusion matrix, accuracy %.2f%%, macro F1 %.4f",
                 ms[k].dir, 100 * acc, f1);
        fig_report_figure(r, prefix, "confusion_matrix", alt, NULL);
        snprintf(alt, sizeof alt, "%s: loss curves, validation log loss %.4f", ms[k].dir,
                 fig_report_json_num(res, "log_loss"));
        fig_report_figure(r, prefix, "loss_curves", alt, NULL);
        fputs("</div>\n", f);
    }
    fputs("</div>\n", f);
}

int fig_report_members(fig_report *r)
{
    json_t *list = r->config ? json_object_get(r->config, "ensemble") : NULL;
    size_t n = json_array_size(list);
    if (n == 0)
        return SG_OK;
    member_view *ms = calloc(n, sizeof *ms);
    if (!ms)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int rc = SG_OK;
    size_t used = 0;
    for (size_t i = 0; rc == SG_OK && i < n; i++) {
        json_t *e = json_array_get(list, i);
        const char *dir = json_string_value(json_object_get(e, "dir"));
        const char *opts = json_string_value(json_object_get(e, "options"));
        if (!member_dir_ok(dir))
            continue;
        ms[used].dir = dir;
        ms[used].options = opts ? opts : "";
        rc = member_load(r, &ms[used++]);
    }
    if (rc == SG_OK) {
        fputs("<section id=\"members\">\n<h2>Members</h2>\n", r->f);
        members_table(r, ms, used);
        if (r->have_cm)
            members_f1_table(r, ms, used);
        member_cards(r, ms, used);
        fputs("</section>\n", r->f);
    }
    for (size_t i = 0; i < used; i++) {
        json_decref(ms[i].config);
        free(ms[i].f1);
    }
    free(ms);
    return rc;
}

/* ------------------------------------------------------------------ */

static int image_name(const struct dirent *e)
{
    const char *dot = strrchr(e->d_name, '.');
    return e->d_name[0] != '.' && dot && (strcmp(dot, ".png") == 0 || strcmp(dot, ".svg") == 0);
}

/* RUN/explain/: its summary figure and links to its per-input figures. */
static void write_explain(fig_report *r)
{
    if (!fig_report_exists(r, SG_RUN_EXPLAIN))
        return;
    FILE *f = r->f;
    fputs("<h3 id=\"explain\">Explanations</h3>\n<p>From <code>sensorgram explain</code>, "
          "written to <a href=\"" SG_RUN_EXPLAIN "/\">" SG_RUN_EXPLAIN "/</a>.</p>\n", f);
    static const char *const summaries[] = {"summary.png", "summary.svg"};
    for (int k = 0; k < 2; k++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/%s", SG_RUN_EXPLAIN, summaries[k]);
        if (!fig_report_exists(r, rel))
            continue;
        fputs("<figure><img src=\"", f);
        fig_html_url(f, rel);
        fputs("\" alt=\"Explanation summary: mean importance of each input channel per true "
              "class\" onerror=\"sgBroken(this)\"></figure>\n", f);
        break;
    }
    static const char *const subs[] = {"figures", "gradcam"};
    for (int k = 0; k < 2; k++) {
        char rel[256];
        snprintf(rel, sizeof rel, "%s/%s", SG_RUN_EXPLAIN, subs[k]);
        struct dirent **names = NULL;
        int n = fig_report_exists(r, rel) ? scandir(r->path, &names, image_name, alphasort) : 0;
        if (n > 0) {
            fputs("<ul>\n", f);
            for (int i = 0; i < n; i++) {
                if (i < EXPLAIN_MAX) {
                    fputs("<li><a href=\"", f);
                    fig_html_url(f, rel);
                    fputc('/', f);
                    fig_html_url(f, names[i]->d_name);
                    fputs("\">", f);
                    fig_html_text(f, names[i]->d_name);
                    fputs("</a></li>\n", f);
                }
                free(names[i]);
            }
            if (n > EXPLAIN_MAX)
                fprintf(f, "<li>\xe2\x80\xa6 and %d more in %s/</li>\n", n - EXPLAIN_MAX, rel);
            fputs("</ul>\n", f);
        }
        free(names);
    }
}

int fig_report_top_losses(fig_report *r)
{
    if (!fig_report_exists(r, SG_RUN_TOP_LOSSES))
        return SG_OK;
    csv_table t;
    int rc = csv_table_read(&t, r->path);
    int c[6];
    static const char *const cols[6] = {"rank", "image", "label", "pred", "prob", "loss"};
    for (int k = 0; rc == SG_OK && k < 6; k++)
        rc = csv_table_require_column(&t, cols[k], &c[k]);
    if (rc) {
        csv_table_free(&t);
        return rc;
    }
    FILE *f = r->f;
    fputs("<section id=\"top-losses\">\n<h2>Top losses</h2>\n<table class=\"sortable\">\n"
          "<caption>The validation segments the model got most wrong: what it saw, the true "
          "and the predicted class, the probability it gave its prediction, the loss"
          "</caption>\n<thead><tr>", f);
    sort_th(f, "rank", 0);
    fputs("<th scope=\"col\">image</th>", f);
    sort_th(f, "true", 1);
    sort_th(f, "predicted", 1);
    sort_th(f, "probability", 0);
    sort_th(f, "loss", 0);
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; rc == SG_OK && i < t.n_rows; i++) {
        double rank, prob, loss;
        if ((rc = csv_table_number(&t, i, c[0], &rank, NULL)) ||
            (rc = csv_table_number(&t, i, c[4], &prob, NULL)) ||
            (rc = csv_table_number(&t, i, c[5], &loss, NULL)))
            break;
        const char *img = csv_table_cell(&t, i, c[1]);
        fputs("<tr>", f);
        num_cell(f, rank, 0, 0);
        fputs("<td>", f);
        /* only images inside the run folder travel with it */
        if (img[0] && img[0] != '/' && !strstr(img, "..") && fig_report_exists(r, img)) {
            fputs("<img class=\"thumb\" src=\"", f);
            fig_html_url(f, img);
            fprintf(f, "\" alt=\"rank %.0f: true ", rank);
            fig_html_text(f, csv_table_cell(&t, i, c[2]));
            fputs(", predicted ", f);
            fig_html_text(f, csv_table_cell(&t, i, c[3]));
            fprintf(f, " with probability %.3f, loss %.3f\" onerror=\"sgBroken(this)\">", prob,
                    loss);
        } else {
            fig_html_text(f, img);
        }
        fputs("</td><td class=\"l\">", f);
        fig_html_text(f, csv_table_cell(&t, i, c[2]));
        fputs("</td><td class=\"l\">", f);
        fig_html_text(f, csv_table_cell(&t, i, c[3]));
        fputs("</td>", f);
        num_cell(f, prob, 3, 0);
        num_cell(f, loss, 3, 0);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n", f);
    char alt[512];
    double loss = NAN;
    if (rc == SG_OK && t.n_rows > 0 && (rc = csv_table_number(&t, 0, c[5], &loss, NULL)) == SG_OK) {
        snprintf(alt, sizeof alt, "Grid of the %zu highest-loss segments; the highest: true %s, "
                 "predicted %s, loss %.3f", t.n_rows, csv_table_cell(&t, 0, c[2]),
                 csv_table_cell(&t, 0, c[3]), loss);
    } else {
        snprintf(alt, sizeof alt, "Top losses: no segments");
    }
    fig_report_figure(r, "", "top_losses", alt, NULL);
    write_explain(r);
    fputs("</section>\n", f);
    csv_table_free(&t);
    return rc;
}
