/* fig_report.c - RUN/report.html: one page over a run folder, opened
 * from the folder itself (no server, no network).  It shows the command
 * and configuration, the final results, and then the sections of
 * fig_report_classes.c and fig_report_runs.c; figures are the files
 * fig_run.c has just drawn into RUN/figures/, referenced relatively, so
 * the folder can be copied or zipped whole.
 *
 * The page is plain HTML and CSS; one small inline script sorts tables
 * and marks images that fail to load (console.error, class "broken"),
 * which is what tools/report_check.py looks for in a headless browser.
 * It holds no date or absolute path: the same run gives the same bytes.
 */
#include "figures/fig_report.h"
#include "src/base/sg_error.h"
#include "src/train/run_files.h"

#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char page_style[] =
    "body{font:15px/1.45 system-ui,'DejaVu Sans',sans-serif;margin:0 auto;max-width:1200px;"
    "padding:0 16px 40px;color:#1b1b1b}\n"
    "h1{font-size:1.6em;margin:.6em 0 .2em}h2{margin-top:1.6em;border-bottom:1px solid #ccc}\n"
    "nav a{margin-right:1em}pre{background:#f4f4f4;padding:8px;overflow-x:auto;"
    "white-space:pre-wrap;word-break:break-all}\n"
    "table{border-collapse:collapse;margin:.5em 0}table.results{min-width:30em}th,td{border:1px solid #ccc;"
    "padding:3px 7px;text-align:right}th{background:#f0f0f0}td.l,th.l{text-align:left}\n"
    "caption{text-align:left;font-weight:bold;padding:4px 0}\n"
    "th button{font:inherit;font-weight:bold;border:0;background:none;cursor:pointer;padding:0}\n"
    "th[aria-sort=ascending] button::after{content:' \\25B2'}"
    "th[aria-sort=descending] button::after{content:' \\25BC'}\n"
    ".scroll{overflow-x:auto}.cm td{min-width:2.2em;text-align:center}"
    ".cm td a{color:inherit;text-decoration:none;display:block}\n"
    ".cm th.col{writing-mode:vertical-rl;transform:rotate(180deg);text-align:left;"
    "font-weight:normal;white-space:nowrap}.cm th.row{font-weight:normal;text-align:left}\n"
    ".cell-list{display:none;border:1px solid #888;padding:6px 10px;margin:8px 0}"
    ".cell-list:target{display:block}\n"
    "figure{display:inline-block;margin:8px 8px 8px 0;vertical-align:top}"
    "figure img{max-width:100%;height:auto;border:1px solid #ddd}"
    "figcaption{font-size:.9em;color:#444;max-width:600px}\n"
    ".figs figure{max-width:48%}.members{display:flex;flex-wrap:wrap;gap:12px}"
    ".member{border:1px solid #ddd;padding:6px;flex:1 1 260px}.member img{max-width:100%}\n"
    "img.thumb{height:48px;image-rendering:pixelated}img.broken{outline:3px solid red}\n"
    "dl.kv{columns:3 260px;margin:.5em 0}dl.kv div{break-inside:avoid;display:flex;gap:.5em}"
    "dl.kv dt{font-weight:bold}dl.kv dd{margin:0;word-break:break-all}\n"
    ".note{color:#555;font-size:.9em}\n";

/* Sorting (th buttons of table.sortable: numbers by data-v, else text)
 * and the mark on images that did not load. */
static const char page_script[] =
    "function sgBroken(i){if(i.classList.contains('broken'))return;i.classList.add('broken');"
    "console.error('report.html: image did not load: '+i.getAttribute('src'));}\n"
    "document.addEventListener('DOMContentLoaded',function(){\n"
    " document.querySelectorAll('table.sortable th button').forEach(function(b){\n"
    "  b.addEventListener('click',function(){\n"
    "   var th=b.parentNode,row=th.parentNode,t=th.closest('table');\n"
    "   var col=Array.prototype.indexOf.call(row.children,th);\n"
    "   var up=th.getAttribute('aria-sort')!=='ascending';\n"
    "   row.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort');});\n"
    "   th.setAttribute('aria-sort',up?'ascending':'descending');\n"
    "   var body=t.tBodies[0],rows=Array.prototype.slice.call(body.rows);\n"
    "   function key(r){var c=r.cells[col],v=c.getAttribute('data-v');\n"
    "    return v!==null?parseFloat(v):c.textContent.trim().toLowerCase();}\n"
    "   rows.sort(function(a,c){var x=key(a),y=key(c),s=x<y?-1:x>y?1:0;return up?s:-s;});\n"
    "   rows.forEach(function(r){body.appendChild(r);});\n"
    "  });});\n"
    "});\n"
    "window.addEventListener('load',function(){\n"
    " document.querySelectorAll('img').forEach(function(i){\n"
    "  if(!i.complete||i.naturalWidth===0)sgBroken(i);});\n"
    " document.body.setAttribute('data-loaded','1');\n"
    "});\n";

int fig_report_exists(fig_report *r, const char *rel)
{
    snprintf(r->path, sizeof r->path, "%s/%s", r->run_dir, rel);
    return access(r->path, F_OK) == 0;
}

int fig_report_figure(fig_report *r, const char *prefix, const char *name, const char *alt,
                      const char *caption)
{
    char rel[1024];
    snprintf(rel, sizeof rel, "%s%s/%s.%s", prefix, SG_RUN_FIGURES, name,
             fig_format_ext(r->format));
    if (!fig_report_exists(r, rel))
        return 0;
    FILE *f = r->f;
    fputs("<figure>", f);
    if (r->format == FIG_FORMAT_PDF) { /* browsers show PDF files, not PDF images */
        fputs("<a href=\"", f);
        fig_html_url(f, rel);
        fputs("\">", f);
        fig_html_text(f, alt);
        fputs(" (PDF)</a>", f);
    } else {
        fputs("<img src=\"", f);
        fig_html_url(f, rel);
        fputs("\" alt=\"", f);
        fig_html_text(f, alt);
        fputs("\" onerror=\"sgBroken(this)\">", f);
    }
    if (caption) {
        fputs("<figcaption>", f);
        fig_html_text(f, caption);
        fputs("</figcaption>", f);
    }
    fputs("</figure>\n", f);
    return 1;
}

void fig_report_prf(const double *counts, int n, int i, double *precision, double *recall,
                    double *f1, double *support)
{
    double tp = counts[(size_t)i * n + i], row = 0, col = 0;
    for (int j = 0; j < n; j++) {
        row += counts[(size_t)i * n + j];
        col += counts[(size_t)j * n + i];
    }
    double p = col > 0 ? tp / col : 0, rc = row > 0 ? tp / row : 0;
    *precision = p;
    *recall = rc;
    *f1 = p + rc > 0 ? 2 * p * rc / (p + rc) : 0;
    *support = row;
}

double fig_report_json_num(const json_t *obj, const char *key)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* ------------------------------------------------------------------ */

static int load(fig_report *r)
{
    int rc = SG_OK;
    if (fig_report_exists(r, SG_RUN_CONFIG)) {
        json_error_t err;
        r->config = json_load_file(r->path, 0, &err);
        if (!r->config)
            return sg_fail(SG_E_PARSE, "%s:%d: %s", r->path, err.line, err.text);
        if (!json_is_object(r->config))
            return sg_fail(SG_E_PARSE, "%s: not a JSON object", r->path);
    }
    if (fig_report_exists(r, SG_RUN_PREDICTIONS)) {
        if ((rc = csv_table_read(&r->preds, r->path)))
            return rc;
        r->have_preds = 1;
    }
    if (fig_report_exists(r, SG_RUN_CONFUSION))
        rc = fig_confusion_read(&r->cm, r->path);
    else if (fig_report_exists(r, SG_RUN_PREDICTIONS))
        rc = fig_confusion_from_predictions(&r->cm, r->path);
    else
        return SG_OK;
    r->have_cm = rc == SG_OK;
    return rc;
}

static const char *cv_kind(const fig_report *r)
{
    json_t *opts = r->config ? json_object_get(r->config, "options") : NULL;
    const char *cv = json_string_value(json_object_get(opts, "cv"));
    return cv && strcmp(cv, "none") != 0 ? cv : NULL;
}

static size_t n_members(const fig_report *r)
{
    return r->config ? json_array_size(json_object_get(r->config, "ensemble")) : 0;
}

/* One argument as a POSIX shell would need it typed. */
static void shell_word(FILE *f, const char *s)
{
    if (*s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "-_./=,:+@%") == strlen(s)) {
        fig_html_text(f, s);
        return;
    }
    fputc('\'', f);
    for (const char *p = s; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", f);
        else {
            char c[2] = {*p, 0};
            fig_html_text(f, c);
        }
    }
    fputc('\'', f);
}

static void write_head(fig_report *r, const char *name)
{
    FILE *f = r->f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>sensorgram run ", f);
    fig_html_text(f, name);
    fprintf(f, "</title>\n<style>\n%s</style>\n<script>\n%s</script>\n</head>\n<body>\n",
            page_style, page_script);
}

static void write_title(fig_report *r, const char *name)
{
    FILE *f = r->f;
    fputs("<header>\n<h1>sensorgram run ", f);
    fig_html_text(f, name);
    fputs("</h1>\n<p>", f);
    const char *cv = cv_kind(r);
    size_t members = n_members(r);
    if (members)
        fprintf(f, "An ensemble of %zu members (their mean probabilities)", members);
    else if (cv)
        fprintf(f, "Cross-validation (%s) over %zu folds",
                cv, json_array_size(json_object_get(r->config, "folds")));
    else if (r->config)
        fputs("One training run", f);
    else
        fputs("A folder of predictions (no config.json: an eval or lr-find folder)", f);
    if (r->have_cm)
        fprintf(f, "; %d classes", r->cm.n);
    double n = fig_report_json_num(r->config, "n_samples");
    if (isfinite(n))
        fprintf(f, ", %.0f samples", n);
    fputs(".</p>\n<nav aria-label=\"sections\">", f);
    if (r->config)
        fputs("<a href=\"#command\">Command</a><a href=\"#results\">Results</a>", f);
    if (cv)
        fputs("<a href=\"#folds\">Per subject</a>", f);
    if (members)
        fputs("<a href=\"#members\">Members</a>", f);
    if (r->have_cm)
        fputs("<a href=\"#classes\">Per class</a><a href=\"#confusion\">Confusion matrix</a>", f);
    if (fig_report_exists(r, SG_RUN_METRICS) || fig_report_exists(r, SG_RUN_LR_FIND))
        fputs("<a href=\"#curves\">Curves</a>", f);
    if (fig_report_exists(r, SG_RUN_TOP_LOSSES))
        fputs("<a href=\"#top-losses\">Top losses</a>", f);
    fputs("<a href=\"#files\">Files</a></nav>\n</header>\n", f);
}

/* A JSON value as text: strings, numbers, booleans, arrays joined by
 * ", ", null and objects as an em dash / compact JSON. */
static void json_value_text(FILE *f, const json_t *v)
{
    if (json_is_string(v))
        fig_html_text(f, json_string_value(v));
    else if (json_is_integer(v))
        fprintf(f, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        fprintf(f, "%g", json_real_value(v));
    else if (json_is_boolean(v))
        fputs(json_is_true(v) ? "yes" : "no", f);
    else if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e) {
            if (i)
                fputs(", ", f);
            json_value_text(f, e);
        }
    } else if (json_is_object(v)) {
        char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(6));
        fig_html_text(f, s);
        free(s);
    } else
        fputs("\xe2\x80\x94", f);
}

static void key_value(FILE *f, const char *key, const json_t *v)
{
    fputs("<div><dt>", f);
    fig_html_text(f, key);
    fputs("</dt><dd>", f);
    json_value_text(f, v);
    fputs("</dd></div>\n", f);
}

static void write_command(fig_report *r)
{
    if (!r->config)
        return;
    FILE *f = r->f;
    fputs("<section id=\"command\">\n<h2>Command</h2>\n<pre><code>sensorgram", f);
    json_t *argv = json_object_get(r->config, "argv");
    size_t i;
    json_t *a;
    if (json_array_size(argv) > 0) {
        json_array_foreach(argv, i, a) {
            fputc(' ', f);
            shell_word(f, json_is_string(a) ? json_string_value(a) : "");
        }
        fputs("</code></pre>\n", f);
    } else {
        const char *cmd = json_string_value(json_object_get(r->config, "command"));
        fputc(' ', f);
        fig_html_text(f, cmd ? cmd : "train");
        fputs(" \xe2\x80\xa6</code></pre>\n<p class=\"note\">This run's config.json predates the "
              "recorded command line; its options are under Configuration.</p>\n", f);
    }
    json_t *input = json_object_get(r->config, "input");
    if (input) {
        fputs("<p>Input to the network: ", f);
        fig_html_num(f, fig_report_json_num(input, "channels"), 0);
        fputs(" channels \xc3\x97 ", f);
        fig_html_num(f, fig_report_json_num(input, "height"), 0);
        fputs(" \xc3\x97 ", f);
        fig_html_num(f, fig_report_json_num(input, "width"), 0);
        fputs(" pixels, resize ", f);
        json_value_text(f, json_object_get(input, "resize"));
        fputs(", normalisation ", f);
        json_value_text(f, json_object_get(input, "normalization"));
        fputs(".</p>\n", f);
    }
    json_t *classes = json_object_get(r->config, "classes");
    if (json_array_size(classes)) {
        fprintf(f, "<p>Classes (%zu): ", json_array_size(classes));
        json_value_text(f, classes);
        fputs(".</p>\n", f);
    }
    fputs("<details>\n<summary>Configuration: every option and the encoder (config.json)"
          "</summary>\n<dl class=\"kv\">\n", f);
    const char *key;
    json_t *v, *opts = json_object_get(r->config, "options");
    json_object_foreach(opts, key, v)
        key_value(f, key, v);
    static const char *const extra[] = {"world_size", "accumulate", "global_batch",
                                        "pretrained_weights"};
    for (size_t k = 0; k < sizeof extra / sizeof extra[0]; k++)
        if ((v = json_object_get(r->config, extra[k])))
            key_value(f, extra[k], v);
    fputs("</dl>\n", f);
    json_t *enc = json_object_get(r->config, "encoder");
    if (enc) {
        char *s = json_dumps(enc, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        fputs("<p>Encoder settings:</p>\n<pre>", f);
        fig_html_text(f, s);
        fputs("</pre>\n", f);
        free(s);
    }
    fputs("</details>\n</section>\n", f);
}

static void result_row(FILE *f, const char *name, double v, int pct, int digits)
{
    fputs("<tr><th scope=\"row\" class=\"l\">", f);
    fig_html_text(f, name);
    fputs("</th><td>", f);
    if (pct)
        fig_html_pct(f, v);
    else
        fig_html_num(f, v, digits);
    fputs("</td></tr>\n", f);
}

static void write_results(fig_report *r)
{
    json_t *res = r->config ? json_object_get(r->config, "results") : NULL;
    if (!res && !r->have_cm)
        return;
    FILE *f = r->f;
    double acc = fig_report_json_num(res, "accuracy"), f1 = fig_report_json_num(res, "macro_f1");
    double n_valid = fig_report_json_num(res, "n_valid");
    if (r->have_cm && (!isfinite(acc) || !isfinite(f1) || !isfinite(n_valid))) {
        double diag = 0, total = 0, sum_f1 = 0, p, rc, c1, s;
        for (int i = 0; i < r->cm.n; i++) {
            fig_report_prf(r->cm.counts, r->cm.n, i, &p, &rc, &c1, &s);
            diag += r->cm.counts[(size_t)i * r->cm.n + i];
            total += s;
            sum_f1 += c1;
        }
        acc = isfinite(acc) ? acc : total > 0 ? diag / total : NAN;
        f1 = isfinite(f1) ? f1 : r->cm.n > 0 ? sum_f1 / r->cm.n : NAN;
        n_valid = isfinite(n_valid) ? n_valid : total;
    }
    fputs("<section id=\"results\">\n<h2>Results</h2>\n<table class=\"results\">\n<caption>Final results on the "
          "validation segments", f);
    fputs(cv_kind(r) ? " (every fold's held-out segments together)" : "", f);
    fputs("</caption>\n<thead><tr><th scope=\"col\" class=\"l\">measure</th>"
          "<th scope=\"col\">value</th></tr></thead>\n<tbody>\n", f);
    result_row(f, "validation segments", n_valid, 0, 0);
    result_row(f, "accuracy", acc, 1, 0);
    result_row(f, "log loss", fig_report_json_num(res, "log_loss"), 0, 4);
    result_row(f, "macro F1", f1, 0, 4);
    if (cv_kind(r)) {
        result_row(f, "fold accuracy: mean", fig_report_json_num(r->config, "cv_accuracy_mean"),
                   1, 0);
        result_row(f, "fold accuracy: standard deviation",
                   fig_report_json_num(r->config, "cv_accuracy_std"), 1, 0);
        result_row(f, "worst fold's accuracy", fig_report_json_num(r->config, "cv_accuracy_worst"),
                   1, 0);
    } else if (!n_members(r) && json_array_size(json_object_get(r->config, "folds")) == 1) {
        json_t *fold = json_array_get(json_object_get(r->config, "folds"), 0);
        result_row(f, "training segments", fig_report_json_num(fold, "n_train"), 0, 0);
        result_row(f, "training time (s)", fig_report_json_num(fold, "seconds"), 0, 1);
        result_row(f, "images per second", fig_report_json_num(fold, "images_per_s"), 0, 1);
    }
    fputs("</tbody>\n</table>\n</section>\n", f);
}

static int write_curves(fig_report *r)
{
    int have_metrics = fig_report_exists(r, SG_RUN_METRICS);
    int have_lr_find = fig_report_exists(r, SG_RUN_LR_FIND);
    if (!have_metrics && !have_lr_find)
        return SG_OK;
    FILE *f = r->f;
    fputs("<section id=\"curves\">\n<h2>Curves</h2>\n<div class=\"figs\">\n", f);
    char alt[512];
    if (have_metrics) {
        fig_metrics m;
        fig_report_exists(r, SG_RUN_METRICS);
        int rc = fig_metrics_read(&m, r->path);
        if (rc)
            return rc;
        size_t e = m.n_epochs;
        double tl = e ? m.train_loss[e - 1] : NAN, vl = e ? m.valid_loss[e - 1] : NAN;
        double best = NAN, last = e ? m.accuracy[e - 1] : NAN, peak_lr = NAN;
        for (size_t i = 0; i < e; i++)
            if (isfinite(m.accuracy[i]) && !(m.accuracy[i] <= best))
                best = m.accuracy[i];
        for (size_t i = 0; i < m.n_steps; i++)
            if (isfinite(m.lr[i]) && !(m.lr[i] <= peak_lr))
                peak_lr = m.lr[i];
        snprintf(alt, sizeof alt,
                 "Loss curves over %zu steps and %zu epoch rows: last epoch's training loss "
                 "%.4f, validation loss %.4f",
                 m.n_steps, e, tl, vl);
        fig_report_figure(r, "", "loss_curves", alt, "Training loss per step (smoothed) and "
                          "validation loss per epoch; dashed lines mark phases or folds.");
        snprintf(alt, sizeof alt, "Validation accuracy per epoch: last %.2f%%, best %.2f%%",
                 100 * last, 100 * best);
        fig_report_figure(r, "", "accuracy", alt, NULL);
        snprintf(alt, sizeof alt, "Learning rate and momentum per step: peak learning rate %.3g",
                 peak_lr);
        fig_report_figure(r, "", "lr_schedule", alt, NULL);
        fig_metrics_free(&m);
    }
    if (have_lr_find) {
        snprintf(alt, sizeof alt, "Learning-rate finder: smoothed loss against learning rate");
        csv_table s = {0};
        if (fig_report_exists(r, SG_RUN_LR_FIND_SUGGESTIONS) &&
            csv_table_read(&s, r->path) == SG_OK) {
            int cn = csv_table_column(&s, "name"), cl = csv_table_column(&s, "lr");
            for (size_t i = 0; cn >= 0 && cl >= 0 && i < s.n_rows; i++) {
                size_t len = strlen(alt);
                snprintf(alt + len, sizeof alt - len, "%s %s %s", i ? "," : "; suggested:",
                         csv_table_cell(&s, i, cn), csv_table_cell(&s, i, cl));
            }
        }
        csv_table_free(&s);
        fig_report_figure(r, "", "lr_find", alt, NULL);
    }
    fputs("</div>\n</section>\n", f);
    return SG_OK;
}

static void file_link(fig_report *r, const char *rel, const char *what)
{
    if (!fig_report_exists(r, rel))
        return;
    fputs("<li><a href=\"", r->f);
    fig_html_url(r->f, rel);
    fputs("\">", r->f);
    fig_html_text(r->f, rel);
    fputs("</a>: ", r->f);
    fig_html_text(r->f, what);
    fputs("</li>\n", r->f);
}

static void write_files(fig_report *r)
{
    fputs("<section id=\"files\">\n<h2>Files</h2>\n<ul>\n", r->f);
    file_link(r, SG_RUN_CONFIG, "options, classes, encoder, results");
    file_link(r, SG_RUN_METRICS, "loss, accuracy and learning rate per step and epoch");
    file_link(r, SG_RUN_PREDICTIONS, "validation predictions with class probabilities");
    file_link(r, SG_RUN_CONFUSION, "confusion matrix counts");
    file_link(r, SG_RUN_CV_FOLDS, "per-fold results");
    file_link(r, SG_RUN_TOP_LOSSES, "the highest-loss validation segments");
    file_link(r, SG_RUN_LR_FIND, "learning-rate finder losses");
    file_link(r, SG_RUN_CKPT_BEST, "the final model (checkpoint)");
    fputs("</ul>\n<p class=\"note\">Written by sensorgram with the figures; "
          "<code>sensorgram figures RUN</code> redraws both.</p>\n</section>\n", r->f);
}

/* The run folder's own name, for the title ("." becomes its real name). */
static void run_name(char *out, size_t size, const char *run_dir)
{
    char buf[PATH_MAX];
    if (!realpath(run_dir, buf))
        snprintf(buf, sizeof buf, "%s", run_dir);
    snprintf(out, size, "%s", basename(buf));
}

int fig_report_write(const char *run_dir, fig_format format)
{
    fig_report r = {.run_dir = run_dir, .format = format};
    char name[256];
    run_name(name, sizeof name, run_dir);
    sg_atomic_file af = {0};
    int rc = load(&r);
    if (rc == SG_OK && (size_t)snprintf(r.path, sizeof r.path, "%s/%s", run_dir,
                                        SG_RUN_REPORT) >= sizeof r.path)
        rc = sg_fail(SG_E_INVALID, "%s: path too long", run_dir);
    if (rc == SG_OK)
        rc = sg_atomic_open(&af, r.path);
    if (rc == SG_OK) {
        r.f = af.fp;
        write_head(&r, name);
        write_title(&r, name);
        write_command(&r);
        write_results(&r);
        fig_report_cv(&r);
        rc = fig_report_members(&r);
    }
    if (rc == SG_OK) {
        fig_report_classes(&r);
        rc = write_curves(&r);
    }
    if (rc == SG_OK)
        rc = fig_report_top_losses(&r);
    if (rc == SG_OK) {
        write_files(&r);
        fputs("</body>\n</html>\n", r.f);
        rc = sg_atomic_commit(&af);
    } else {
        sg_atomic_abort(&af);
    }
    json_decref(r.config);
    csv_table_free(&r.preds);
    if (r.have_cm)
        fig_confusion_free(&r.cm);
    return rc;
}
