/* test_figures.c - figures: known pixels of confusion matrices, sizes and
 * non-blankness of the curves, determinism, SVG/PDF magic, the run-folder
 * redraw, the gallery on a synthetic DSA folder and, through the binary,
 * on a .ts file, a CSV folder and an unlabelled X.npy (the image's size
 * from the encoders and the tiles), and one clear error for each kind of
 * bad input.
 */
#include "tests/sg_run.h"

#include "src/base/csv_table.h"
#include "src/base/npy.h"
#include "figures/fig.h"
#include "src/image/png_io.h"
#include "src/base/sg_error.h"

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *read_bytes(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    buf[len] = '\0';
    *n = (size_t)len;
    return buf;
}

/* Checks the RGB pixel (x, y) of img against rgb (0..1) within 2/255. */
static void assert_pixel_tol(const sg_image *img, int x, int y, const double rgb[3],
                             double tol, const char *what)
{
    assert_int_equal(img->c, 3);
    for (int k = 0; k < 3; k++) {
        double got = img->data[((size_t)k * img->h + y) * img->w + x] * 255.0;
        double want = rgb[k] * 255.0;
        if (fabs(got - want) > tol) {
            print_error("%s: pixel (%d, %d) channel %d: expected %.1f, got %.1f\n", what, x, y,
                        k, want, got);
            fail();
        }
    }
}

static void assert_pixel(const sg_image *img, int x, int y, const double rgb[3], const char *what)
{
    assert_pixel_tol(img, x, y, rgb, 2.01, what);
}

/* Fraction of pixels that are not white. */
static double ink_fraction(const sg_image *img)
{
    size_t plane = (size_t)img->h * img->w, ink = 0;
    for (size_t i = 0; i < plane; i++) {
        int white = 1;
        for (int k = 0; k < img->c; k++)
            white &= img->data[k * plane + i] > 0.99f;
        ink += !white;
    }
    return (double)ink / (double)plane;
}

static void check_confusion_pixels(int n, const char *const *names, int normalized)
{
    char *dir = sg_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/cm.png", dir);
    double *counts = calloc((size_t)n * n, sizeof *counts);
    assert_non_null(counts);
    for (int i = 0; i < n; i++)
        counts[i * n + i] = 10 + i; /* perfect diagonal, uneven rows */
    assert_int_equal(fig_confusion_write(path, FIG_FORMAT_PNG, counts, n, names, normalized), 0);
    fig_confusion_geom g;
    fig_confusion_geometry(&g, n, names);
    sg_image img = {0};
    assert_int_equal(sg_png_read(path, &img), 0);
    assert_int_equal(img.w, g.width);
    assert_int_equal(img.h, g.height);
    double hi[3], lo[3], top[3];
    fig_colormap_viridis(1.0, hi);
    fig_colormap_viridis(0.0, lo);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            /* a cell's corner region is clear of the centred number */
            int x = (int)(g.x0 + j * g.cell + 0.15 * g.cell);
            int y = (int)(g.y0 + i * g.cell + 0.15 * g.cell);
            double want[3];
            if (i != j)
                memcpy(want, lo, sizeof want);
            else if (normalized)
                memcpy(want, hi, sizeof want);
            else /* counts: the cell's share of the largest count */
                fig_colormap_viridis((10.0 + i) / (10.0 + n - 1), want);
            assert_pixel(&img, x, y, want, i == j ? "diagonal cell" : "off-diagonal cell");
        }
    /* the colour bar: maximum at its top, minimum at its bottom */
    int bx = (int)(g.bar_x + g.bar_w / 2);
    fig_colormap_viridis(1.0 - 2.0 / (g.cell * n), top);
    /* cairo dithers gradients slightly: a looser tolerance */
    assert_pixel_tol(&img, bx, (int)g.y0 + 2, top, 6.01, "colour bar top");
    fig_colormap_viridis(2.0 / (g.cell * n), top);
    assert_pixel_tol(&img, bx, (int)(g.y0 + g.cell * n) - 3, top, 6.01, "colour bar bottom");
    sg_image_free(&img);
    free(counts);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_confusion_two_classes(void **state)
{
    (void)state;
    const char *names[2] = {"cat", "dog"};
    check_confusion_pixels(2, names, 0);
    check_confusion_pixels(2, names, 1);
}

static void test_confusion_nineteen_classes(void **state)
{
    (void)state;
    const char *names[19] = {
        "sitting", "standing", "lying_on_back", "lying_on_right_side", "ascending_stairs",
        "descending_stairs", "standing_in_elevator", "moving_in_elevator",
        "walking_parking_lot", "walking_treadmill_flat", "walking_treadmill_inclined",
        "running_treadmill", "exercising_stepper", "exercising_cross_trainer",
        "cycling_horizontal", "cycling_vertical", "rowing", "jumping", "playing_basketball"};
    check_confusion_pixels(19, names, 1);
}

static void test_colormap_ends_and_text_colour(void **state)
{
    (void)state;
    double rgb[3];
    fig_colormap_viridis(0.0, rgb);
    assert_true(fabs(rgb[0] - 0.267004) < 1e-6 && fabs(rgb[2] - 0.329415) < 1e-6);
    assert_false(fig_text_dark_on(rgb)); /* white text on dark purple */
    fig_colormap_viridis(1.0, rgb);
    assert_true(fabs(rgb[1] - 0.906157) < 1e-6);
    assert_true(fig_text_dark_on(rgb)); /* black text on yellow */
    fig_colormap_viridis(-3.0, rgb); /* clamped */
    assert_true(fabs(rgb[0] - 0.267004) < 1e-6);
    /* monotone lightness: green channel rises across the map */
    double prev = -1;
    for (int k = 0; k <= 20; k++) {
        fig_colormap_viridis(k / 20.0, rgb);
        assert_true(rgb[1] > prev);
        prev = rgb[1];
    }
}

static const char *metrics_csv =
    "kind,phase,epoch,step,lr,momentum,train_loss,valid_loss,accuracy,log_loss,seconds\n"
    "step,0,0,0,0.0001,0.95,2.5,,,,\n"
    "step,0,0,1,0.001,0.90,2.1,,,,\n"
    "step,0,0,2,0.0005,0.92,1.9,,,,\n"
    "epoch,0,0,2,,,2.2,1.8,0.40,1.8,1.5\n"
    "step,1,1,3,0.00005,0.95,1.7,,,,\n"
    "step,1,1,4,0.0003,0.88,1.2,,,,\n"
    "step,1,1,5,0.00001,0.94,0.9,,,,\n"
    "epoch,1,1,5,,,1.3,1.0,0.75,1.0,1.5\n";

static void test_metrics_read_values(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    write_text(dir, "metrics.csv", metrics_csv);
    char path[4096];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    fig_metrics m;
    assert_int_equal(fig_metrics_read(&m, path), 0);
    assert_int_equal(m.n_steps, 6);
    assert_int_equal(m.n_epochs, 2);
    assert_true(m.lr[1] == 0.001 && m.momentum[4] == 0.88 && m.loss[5] == 0.9);
    assert_int_equal(m.step_phase[3], 1);
    assert_true(m.valid_loss[1] == 1.0 && m.accuracy[0] == 0.40 && m.epoch_step[1] == 5);
    fig_metrics_free(&m);
    sg_test_rmtree(dir);
    free(dir);
}

static void write_run(const char *dir)
{
    write_text(dir, "metrics.csv", metrics_csv);
    write_text(dir, "confusion_matrix.csv", "label,cat,dog\ncat,9,1\ndog,2,8\n");
    write_text(dir, "lr_find.csv", "step,lr,loss,smoothed_loss\n0,1e-6,2.3,2.3\n1,1e-5,2.2,2.25\n"
                                   "2,1e-4,1.9,2.1\n3,1e-3,1.5,1.8\n4,1e-2,2.5,2.0\n");
    write_text(dir, "lr_find_suggestions.csv", "name,lr\nminimum_div10,1e-4\nsteepest,3e-4\n");
}

static void count_written(const char *path, void *ctx)
{
    (void)path;
    (*(int *)ctx)++;
}

static void test_run_dir_all_figures(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    write_run(dir);
    int written = 0;
    assert_int_equal(fig_run_dir_draw_ex(dir, FIG_FORMAT_PNG, count_written, &written), 0);
    assert_int_equal(written, 8); /* seven figures and report.html */
    char page[4096];
    snprintf(page, sizeof page, "%s/report.html", dir);
    assert_true(sg_test_path_exists(page));
    static const char *const files[] = {"confusion_matrix", "confusion_matrix_normalized",
                                        "per_class_f1", "loss_curves", "accuracy",
                                        "lr_schedule", "lr_find"};
    static const int sizes[][2] = {{0, 0}, {0, 0}, {0, 0}, {900, 540}, {900, 540},
                                   {900, 640}, {900, 540}};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/figures/%s.png", dir, files[k]);
        sg_image img = {0};
        if (sg_png_read(path, &img) != 0) {
            print_error("%s: %s\n", path, sg_last_error());
            fail();
        }
        if (sizes[k][0])
            assert_true(img.w == sizes[k][0] && img.h == sizes[k][1]);
        double ink = ink_fraction(&img);
        if (ink < 0.02) {
            print_error("%s looks blank: %.4f of the pixels are not white\n", path, ink);
            fail();
        }
        sg_image_free(&img);
    }
    sg_test_rmtree(dir);
    free(dir);
}

static void test_deterministic_and_vector_magic(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    write_run(dir);
    /* SVG is checked across two processes in test_cli_lists_figures:
     * cairo numbers SVG surfaces with a per-process counter, so only a
     * fresh process gives identical SVG bytes. */
    static const fig_format formats[2] = {FIG_FORMAT_PNG, FIG_FORMAT_PDF};
    static const char *const magic[2] = {"\x89PNG", "%PDF-"};
    for (int f = 0; f < 2; f++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/figures/loss_curves.%s", dir, fig_format_ext(formats[f]));
        assert_int_equal(fig_run_dir_draw_ex(dir, formats[f], NULL, NULL), 0);
        size_t n1, n2;
        char *a = read_bytes(path, &n1);
        assert_non_null(a);
        assert_int_equal(fig_run_dir_draw_ex(dir, formats[f], NULL, NULL), 0);
        char *b = read_bytes(path, &n2);
        assert_non_null(b);
        if (strncmp(a, magic[f], strlen(magic[f])) != 0) {
            print_error("%s: does not start with %s\n", path, magic[f] + (f == 0));
            fail();
        }
        if (n1 != n2 || memcmp(a, b, n1) != 0) {
            print_error("%s: two draws differ (%zu vs %zu bytes)\n", path, n1, n2);
            fail();
        }
        free(a);
        free(b);
    }
    /* the page holds no date: the same files give the same bytes (the
     * loop above left PDF links; PNG ones now, twice) */
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", dir);
    size_t n1, n2;
    assert_int_equal(fig_run_dir_draw_ex(dir, FIG_FORMAT_PNG, NULL, NULL), 0);
    char *a = read_bytes(path, &n1);
    assert_non_null(a);
    assert_int_equal(fig_run_dir_draw_ex(dir, FIG_FORMAT_PNG, NULL, NULL), 0);
    char *b = read_bytes(path, &n2);
    assert_non_null(b);
    assert_true(n1 == n2 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);
    sg_test_rmtree(dir);
    free(dir);
}

/* Runs fig_run_dir_draw on dir and checks it fails with a message
 * containing every one of want (NULL-terminated) and writes nothing. */
static void expect_run_error(const char *dir, const char *const *want)
{
    int rc = fig_run_dir_draw(dir, "png");
    if (rc == 0) {
        print_error("expected an error for %s\n", dir);
        fail();
    }
    const char *msg = sg_last_error();
    for (int k = 0; want[k]; k++)
        if (!strstr(msg, want[k])) {
            print_error("error '%s' lacks '%s'\n", msg, want[k]);
            fail();
        }
}

static void test_bad_inputs(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char path[4096];

    write_text(dir, "metrics.csv", "");
    expect_run_error(dir, (const char *const[]){"metrics.csv:1", "empty", NULL});
    write_text(dir, "metrics.csv", "kind,phase,epoch,step,lr,momentum,train_loss,valid_loss,"
                                   "accuracy,log_loss,seconds\n");
    expect_run_error(dir, (const char *const[]){"metrics.csv", "no rows", NULL});
    write_text(dir, "metrics.csv", "kind,phase,epoch,step,lr,momentum,train_loss\n"
                                   "step,0,0,0,0.1,0.9,2.0\n");
    expect_run_error(dir, (const char *const[]){"metrics.csv:1", "missing column 'valid_loss'",
                                                NULL});
    write_text(dir, "metrics.csv", "kind,phase,epoch,step,lr,momentum,train_loss,valid_loss,"
                                   "accuracy,log_loss,seconds\nstep,0,0,0,0.1,0.9,2.0,,,,\n"
                                   "step,0,0,1,0.1,0.9,oops,,,,\n");
    expect_run_error(dir, (const char *const[]){"metrics.csv:3:7", "train_loss", "oops", NULL});
    write_text(dir, "metrics.csv", "kind,phase,epoch,step\nstep,0,0\n");
    expect_run_error(dir, (const char *const[]){"metrics.csv:2", "expected 4 fields", NULL});
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    assert_int_equal(unlink(path), 0);

    write_text(dir, "predictions.csv", "path,label,pred,loss,cat,dog\n"
                                       "a.png,cat,cat,0.1,0.9,0.1\n"
                                       "b.png,dog,cow,2.3,0.1,0.9\n");
    expect_run_error(dir, (const char *const[]){"predictions.csv:3:3", "unknown class 'cow'",
                                                NULL});
    /* a good predictions file draws; its matrix is counted right */
    write_text(dir, "predictions.csv", "path,label,pred,loss,cat,dog\n"
                                       "a.png,cat,cat,0.1,0.9,0.1\n"
                                       "b.png,dog,cat,2.3,0.9,0.1\n"
                                       "c.png,dog,dog,0.2,0.2,0.8\n");
    fig_confusion cm;
    snprintf(path, sizeof path, "%s/predictions.csv", dir);
    assert_int_equal(fig_confusion_from_predictions(&cm, path), 0);
    assert_true(cm.n == 2 && cm.counts[0] == 1 && cm.counts[1] == 0 && cm.counts[2] == 1 &&
                cm.counts[3] == 1);
    fig_confusion_free(&cm);

    /* unwritable: figures/ is a regular file, so nothing can go in it */
    write_text(dir, "figures", "not a folder");
    expect_run_error(dir, (const char *const[]){"figures", NULL});
    snprintf(path, sizeof path, "%s/figures", dir);
    assert_int_equal(unlink(path), 0);

    /* nothing to draw from */
    snprintf(path, sizeof path, "%s/predictions.csv", dir);
    assert_int_equal(unlink(path), 0);
    expect_run_error(dir, (const char *const[]){"no run files", NULL});
    sg_test_rmtree(dir);
    free(dir);
}

static void test_unwritable_leaves_nothing(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/missing/sub/cm.png", dir);
    const char *names[2] = {"a", "b"};
    const double counts[4] = {1, 0, 0, 1};
    int rc = fig_confusion_write(path, FIG_FORMAT_PNG, counts, 2, names, 0);
    assert_int_equal(rc, SG_E_IO);
    assert_non_null(strstr(sg_last_error(), "cm.png"));
    assert_false(sg_test_path_exists(path));
    assert_int_equal(fig_format_parse(&(fig_format){0}, "gif"), SG_E_INVALID);
    sg_test_rmtree(dir);
    free(dir);
}

static void test_top_losses_grid(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/top_losses", dir);
    assert_int_equal(sg_mkdir_p(path), 0);
    float px[3 * 8 * 8];
    for (int i = 0; i < 3 * 64; i++)
        px[i] = (float)(i % 64) / 63.0f;
    snprintf(path, sizeof path, "%s/top_losses/00.png", dir);
    assert_int_equal(sg_png_write(path, px, 3, 8, 8, 8), 0);
    snprintf(path, sizeof path, "%s/top_losses/01.png", dir);
    assert_int_equal(sg_png_write(path, px, 1, 8, 8, 8), 0);
    write_text(dir, "top_losses.csv", "rank,image,label,pred,prob,loss\n"
                                      "0,top_losses/00.png,walking,running,0.93,3.1\n"
                                      "1,top_losses/01.png,sitting,standing,0.71,1.4\n");
    snprintf(path, sizeof path, "%s/tl.png", dir);
    assert_int_equal(fig_top_losses_write(path, FIG_FORMAT_PNG, dir, 16), 0);
    sg_image img = {0};
    assert_int_equal(sg_png_read(path, &img), 0);
    assert_int_equal(img.w, 2 * (200 + 18) + 18);
    assert_true(ink_fraction(&img) > 0.1);
    sg_image_free(&img);
    /* a missing image names the CSV line */
    write_text(dir, "top_losses.csv", "rank,image,label,pred,prob,loss\n"
                                      "0,top_losses/nope.png,a,b,0.5,1\n");
    assert_int_not_equal(fig_top_losses_write(path, FIG_FORMAT_PNG, dir, 16), 0);
    assert_non_null(strstr(sg_last_error(), "top_losses.csv:2"));
    sg_test_rmtree(dir);
    free(dir);
}

static void test_csv_table_quoting(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    write_text(dir, "t.csv", "a,b\n\"x,1\",2\n\n\"say \"\"hi\"\"\",\n");
    char path[4096];
    snprintf(path, sizeof path, "%s/t.csv", dir);
    csv_table t;
    assert_int_equal(csv_table_read(&t, path), 0);
    assert_int_equal(t.n_rows, 2);
    assert_string_equal(csv_table_cell(&t, 0, 0), "x,1");
    assert_string_equal(csv_table_cell(&t, 1, 0), "say \"hi\"");
    assert_int_equal(t.line[1], 4);
    double v;
    int present = -1;
    assert_int_equal(csv_table_number(&t, 1, 1, &v, &present), 0);
    assert_true(present == 0 && isnan(v));
    assert_int_equal(csv_table_number(&t, 1, 1, &v, NULL), SG_E_PARSE);
    assert_non_null(strstr(sg_last_error(), "t.csv:4:2"));
    csv_table_free(&t);
    write_text(dir, "t.csv", "a,b\n\"open,2\n");
    assert_int_equal(csv_table_read(&t, path), SG_E_PARSE);
    assert_non_null(strstr(sg_last_error(), "t.csv:2"));
    sg_test_rmtree(dir);
    free(dir);
}

/* A tiny DSA tree: activities 1 and 2, subject 1, one segment each. */
static void write_dsa(const char *root)
{
    for (int a = 1; a <= 2; a++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/a%02d/p1", root, a);
        assert_int_equal(sg_mkdir_p(path), 0);
        snprintf(path, sizeof path, "%s/a%02d/p1/s01.txt", root, a);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        for (int r = 0; r < 125; r++)
            for (int c = 0; c < 45; c++)
                fprintf(f, "%.4f%c", sin(0.1 * a * r + c) + 0.01 * c, c == 44 ? '\n' : ',');
        assert_int_equal(fclose(f), 0);
    }
}

static void test_gallery_synthetic_dsa(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir();
    write_dsa(dir);
    char out[4096];
    snprintf(out, sizeof out, "%s/gallery.png", dir);
    fig_gallery_opts o = {.data = dir, .encoders = "rp,gasf,mtf,gray,spectrogram"};
    if (fig_gallery_write(out, FIG_FORMAT_PNG, &o) != 0) {
        print_error("gallery: %s\n", sg_last_error());
        fail();
    }
    sg_image img = {0};
    assert_int_equal(sg_png_read(out, &img), 0);
    assert_true(img.w > 600 && img.h > 200);
    assert_true(ink_fraction(&img) > 0.2);
    sg_image_free(&img);
    o.encoders = "rp,nope";
    assert_int_equal(fig_gallery_write(out, FIG_FORMAT_PNG, &o), SG_E_INVALID);
    sg_test_rmtree(dir);
    free(dir);
}

/* The gallery's size for n_tiles tiles of n_enc encoders (fig_gallery.c:
 * 120-pixel images 10 apart, tiles 30 apart, as many to a row as fit in
 * 1,900 pixels; 78 pixels of titles, 254 per row of tiles). */
static void gallery_size(int n_enc, int n_tiles, int *w, int *h)
{
    int tile_w = n_enc * 120 + (n_enc - 1) * 10;
    int per_row = 1900 / (tile_w + 30);
    if (per_row > n_tiles)
        per_row = n_tiles;
    int rows = (n_tiles + per_row - 1) / per_row;
    *w = per_row * (tile_w + 30) + 30;
    *h = 78 + rows * (22 + 64 + 10 + 120 + 18 + 20);
}

/* Runs `figures ARGS -o OUT` and checks the PNG's size and ink. */
static void check_gallery(const char *out, int n_enc, int n_tiles, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void check_gallery(const char *out, int n_enc, int n_tiles, const char *fmt, ...)
{
    char args[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    char *log = NULL;
    int st = sg_test_run(&log, NULL, "figures %s -o '%s'", args, out);
    SG_ASSERT_EXIT(st, 0, log);
    free(log);
    sg_image img = {0};
    assert_int_equal(sg_png_read(out, &img), 0);
    int w, h;
    gallery_size(n_enc, n_tiles, &w, &h);
    if (img.w != w || img.h != h) {
        print_error("figures %s: %dx%d, expected %dx%d (%d encoders x %d tiles)\n", args, img.w,
                    img.h, w, h, n_enc, n_tiles);
        fail();
    }
    assert_true(ink_fraction(&img) > 0.1);
    sg_image_free(&img);
}

/* A .ts file: classes a, b, c, 2 cases each, 6 dimensions x 32 samples. */
static void write_ts(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("@problemName G\n@timeStamps false\n@univariate false\n@dimensions 6\n"
          "@equalLength true\n@seriesLength 32\n@classLabel true a b c\n@data\n",
          f);
    for (int i = 0; i < 6; i++) {
        for (int d = 0; d < 6; d++)
            for (int t = 0; t < 32; t++)
                fprintf(f, "%.4f%c", sin(0.2 * (i % 3 + 1) * t + d), t == 31 ? ':' : ',');
        fprintf(f, "%c\n", "abc"[i % 3]);
    }
    assert_int_equal(fclose(f), 0);
}

/* CSV recordings: 5 class folders of 2 files, header ax,ay,az,temp, 40 rows. */
static void write_csv_folder(const char *root)
{
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < 2; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/class%d", root, k);
            assert_int_equal(sg_mkdir_p(path), 0);
            snprintf(path, sizeof path, "%s/class%d/r%d.csv", root, k, i);
            FILE *f = fopen(path, "w");
            assert_non_null(f);
            fputs("ax,ay,az,temp\n", f);
            for (int t = 0; t < 40; t++)
                fprintf(f, "%.4f,%.4f,%.4f,21.5\n", sin(0.1 * (k + 1) * t),
                        cos(0.15 * (k + 1) * t + i), 0.01 * t);
            assert_int_equal(fclose(f), 0);
        }
}

/* The gallery through the binary on every series source but DSA (which
 * the test above draws): its size is the encoders times the tiles, one
 * per class (or the first four unlabelled cases); failures are one line,
 * exit 1 (2 for a bad number) and leave no file. */
static void test_gallery_cli_sources(void **state)
{
    (void)state;
    SG_REQUIRE_PATH(sg_test_bin());
    char *dir = sg_test_tmpdir();
    char ts[4200], csv[4200], npy[4200], out[4200];
    snprintf(ts, sizeof ts, "%s/g.ts", dir);
    write_ts(ts);
    snprintf(csv, sizeof csv, "%s/csv", dir);
    write_csv_folder(csv);
    snprintf(npy, sizeof npy, "%s/npy", dir);
    assert_int_equal(sg_mkdir_p(npy), 0);
    snprintf(out, sizeof out, "%s/npy/X.npy", dir);
    float x[6 * 2 * 24];
    for (int i = 0; i < 6 * 2 * 24; i++)
        x[i] = (float)sin(0.3 * i);
    assert_int_equal(sg_npy_write(out, x, 3, (const size_t[]){6, 2, 24}), 0);

    snprintf(out, sizeof out, "%s/ts.png", dir);
    check_gallery(out, 3, 3, "--gallery '%s' --encoder rp,gasf,mtf", ts);
    /* five classes, three encoders: two rows of four and one */
    snprintf(out, sizeof out, "%s/csv.png", dir);
    check_gallery(out, 3, 5, "--gallery '%s' --columns ax,ay,az --window 20 --stride 10", csv);
    /* labels from a regex on the file's path: one class per file name */
    snprintf(out, sizeof out, "%s/csv_regex.png", dir);
    check_gallery(out, 3, 2, "--gallery '%s' --label-regex '(r[0-9])\\.csv' "
                  "--columns 0,1,2 --encoder gray,mtf,rp", csv);
    /* no labels: the first four cases, by name */
    snprintf(out, sizeof out, "%s/npy.png", dir);
    check_gallery(out, 2, 4, "--gallery '%s/npy/X.npy' --encoder gasf,gadf", dir);

    /* one-line failures, and no file */
    static const struct {
        const char *args, *says;
        int status;
    } bad[] = {
        {"--gallery '%s/csv' --units LL", "--units selects DSA channels", 1},
        {"--gallery '%s/csv' --columns nope", "unknown column 'nope'", 1},
        {"--gallery '%s/g.ts' --window 20", "--window reads CSV recordings", 1},
        {"--gallery '%s/missing'", "missing: cannot open", 1},
        {"--gallery '%s/csv' --window abc", "--window: 'abc' is not an integer", 2},
        {"--gallery '%s/csv' --encoder rp,nope", "unknown encoder 'nope'", 1},
    };
    snprintf(out, sizeof out, "%s/bad.png", dir);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char args[4400], *log = NULL;
        snprintf(args, sizeof args, bad[k].args, dir);
        int st = sg_test_run(&log, NULL, "figures %s -o '%s'", args, out);
        SG_ASSERT_EXIT(st, bad[k].status, log);
        SG_ASSERT_CONTAINS(log, bad[k].says);
        SG_ASSERT_CONTAINS(log, "sensorgram figures: ");
        if (strchr(log, '\n') != log + strlen(log) - 1) {
            print_error("figures %s: expected one line, got:\n%s", args, log);
            fail();
        }
        free(log);
        if (sg_test_path_exists(out)) {
            print_error("figures %s: failed but wrote %s\n", args, out);
            fail();
        }
    }
    sg_test_rmtree(dir);
    free(dir);
}

static void test_cli_lists_figures(void **state)
{
    (void)state;
    SG_REQUIRE_PATH(sg_test_bin());
    char *dir = sg_test_tmpdir();
    write_run(dir);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "%s figures '%s' --figure-format svg > '%s/out.txt' 2>&1",
             sg_test_bin(), dir, dir);
    assert_int_equal(system(cmd), 0);
    char path[4200];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    size_t n;
    char *out = read_bytes(path, &n);
    assert_non_null(out);
    assert_non_null(strstr(out, "figures/confusion_matrix.svg"));
    assert_non_null(strstr(out, "figures/lr_find.svg"));
    free(out);
    /* a second process draws byte-identical SVG */
    snprintf(path, sizeof path, "%s/figures/loss_curves.svg", dir);
    size_t n1, n2;
    char *a = read_bytes(path, &n1);
    assert_non_null(a);
    assert_int_equal(strncmp(a, "<?xml", 5), 0);
    snprintf(cmd, sizeof cmd, "%s figures '%s' --figure-format svg > /dev/null", sg_test_bin(),
             dir);
    assert_int_equal(system(cmd), 0);
    char *b = read_bytes(path, &n2);
    assert_non_null(b);
    if (n1 != n2 || memcmp(a, b, n1) != 0) {
        print_error("%s: two runs differ (%zu vs %zu bytes)\n", path, n1, n2);
        fail();
    }
    free(a);
    free(b);
    snprintf(cmd, sizeof cmd, "%s figures '%s' --figure-format gif > /dev/null 2>&1",
             sg_test_bin(), dir);
    assert_int_equal(WEXITSTATUS(system(cmd)), 2);
    sg_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_colormap_ends_and_text_colour),
        cmocka_unit_test(test_confusion_two_classes),
        cmocka_unit_test(test_confusion_nineteen_classes),
        cmocka_unit_test(test_metrics_read_values),
        cmocka_unit_test(test_run_dir_all_figures),
        cmocka_unit_test(test_deterministic_and_vector_magic),
        cmocka_unit_test(test_bad_inputs),
        cmocka_unit_test(test_unwritable_leaves_nothing),
        cmocka_unit_test(test_top_losses_grid),
        cmocka_unit_test(test_csv_table_quoting),
        cmocka_unit_test(test_gallery_synthetic_dsa),
        cmocka_unit_test(test_gallery_cli_sources),
        cmocka_unit_test(test_cli_lists_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
