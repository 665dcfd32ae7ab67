/* sg_preds.h - predictions.csv of two-class runs (path,label,pred,loss,
 * p0,p1) read back by the ensemble tests, and row-wise comparisons. */
#ifndef SG_TEST_PREDS_H
#define SG_TEST_PREDS_H

#include "tests/sg_run.h"

#include <math.h>

#define MAX_ROWS 512

typedef struct preds {
    int n;
    char name[MAX_ROWS][64];
    char label[MAX_ROWS][32];
    double p[MAX_ROWS][2];
} preds;

static inline void read_preds(preds *out, const char *path)
{
    char *text = sg_test_slurp(path);
    if (!text)
        print_error("%s is missing\n", path);
    assert_non_null(text);
    memset(out, 0, sizeof *out);
    char *line = strchr(text, '\n'); /* header */
    assert_non_null(line);
    for (line++; *line; ) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (*line) {
            assert_true(out->n < MAX_ROWS);
            char *c = strchr(line, ',');
            assert_non_null(c);
            snprintf(out->name[out->n], sizeof out->name[0], "%.*s", (int)(c - line), line);
            snprintf(out->label[out->n], sizeof out->label[0], "%.*s",
                     (int)strcspn(c + 1, ","), c + 1);
            /* skip label, pred, loss */
            for (int k = 0; k < 3; k++) {
                c = strchr(c + 1, ',');
                assert_non_null(c);
            }
            assert_int_equal(sscanf(c + 1, "%lf,%lf", &out->p[out->n][0], &out->p[out->n][1]),
                             2);
            out->n++;
        }
        if (!end)
            break;
        line = end + 1;
    }
    free(text);
}

static inline int find_row(const preds *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->name[i], name) == 0)
            return i;
    return -1;
}

/* Every row of `part` equals the same sample's row of `whole` to tol. */
static inline void assert_rows_match(const char *what, const preds *part, const preds *whole, double tol)
{
    assert_true(part->n > 0);
    for (int i = 0; i < part->n; i++) {
        int j = find_row(whole, part->name[i]);
        if (j < 0) {
            print_error("%s: %s missing\n", what, part->name[i]);
            fail();
        }
        for (int k = 0; k < 2; k++)
            if (fabs(part->p[i][k] - whole->p[j][k]) > tol) {
                print_error("%s: %s class %d: %.9g vs %.9g\n", what, part->name[i], k,
                            part->p[i][k], whole->p[j][k]);
                fail();
            }
    }
}

#endif
