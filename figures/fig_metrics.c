/* fig_metrics.c - reads metrics.csv (run_files.h) into arrays for the
 * training-curve figures.  Step rows and epoch rows are separated; fields
 * a row kind leaves empty become NaN.  It does not check that steps are
 * increasing: figures draw them in file order.
 */
#include "figures/fig.h"
#include "src/base/csv_table.h"
#include "src/base/sg_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fig_metrics_free(fig_metrics *m)
{
    if (!m)
        return;
    free(m->step);
    free(m->lr);
    free(m->momentum);
    free(m->loss);
    free(m->step_phase);
    free(m->epoch_step);
    free(m->train_loss);
    free(m->valid_loss);
    free(m->accuracy);
    free(m->epoch_phase);
    free(m->epoch);
    memset(m, 0, sizeof *m);
}

enum { COL_KIND, COL_PHASE, COL_EPOCH, COL_STEP, COL_LR, COL_MOM, COL_TRAIN, COL_VALID, COL_ACC,
       N_COLS };

static const char *const col_names[N_COLS] = {"kind", "phase", "epoch", "step", "lr",
                                             "momentum", "train_loss", "valid_loss", "accuracy"};

int fig_metrics_read(fig_metrics *m, const char *path)
{
    memset(m, 0, sizeof *m);
    csv_table t;
    int rc = csv_table_read(&t, path);
    if (rc)
        return rc;
    int col[N_COLS];
    for (int k = 0; k < N_COLS; k++)
        if ((rc = csv_table_require_column(&t, col_names[k], &col[k])))
            goto done;
    if (t.n_rows == 0) {
        rc = sg_fail(SG_E_PARSE, "%s: no rows after the header (empty metrics file)", path);
        goto done;
    }
    size_t n = t.n_rows;
    m->step = malloc(n * sizeof *m->step);
    m->lr = malloc(n * sizeof *m->lr);
    m->momentum = malloc(n * sizeof *m->momentum);
    m->loss = malloc(n * sizeof *m->loss);
    m->step_phase = malloc(n * sizeof *m->step_phase);
    m->epoch_step = malloc(n * sizeof *m->epoch_step);
    m->train_loss = malloc(n * sizeof *m->train_loss);
    m->valid_loss = malloc(n * sizeof *m->valid_loss);
    m->accuracy = malloc(n * sizeof *m->accuracy);
    m->epoch_phase = malloc(n * sizeof *m->epoch_phase);
    m->epoch = malloc(n * sizeof *m->epoch);
    if (!m->step || !m->lr || !m->momentum || !m->loss || !m->step_phase || !m->epoch_step ||
        !m->train_loss || !m->valid_loss || !m->accuracy || !m->epoch_phase || !m->epoch) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    for (size_t r = 0; r < n; r++) {
        const char *kind = csv_table_cell(&t, r, col[COL_KIND]);
        double phase, epoch, step;
        int present;
        if ((rc = csv_table_number(&t, r, col[COL_PHASE], &phase, NULL)) ||
            (rc = csv_table_number(&t, r, col[COL_EPOCH], &epoch, NULL)) ||
            (rc = csv_table_number(&t, r, col[COL_STEP], &step, NULL)))
            goto done;
        if (strcmp(kind, "step") == 0) {
            size_t i = m->n_steps++;
            m->step[i] = step;
            m->step_phase[i] = (int)phase;
            if ((rc = csv_table_number(&t, r, col[COL_LR], &m->lr[i], &present)) ||
                (rc = csv_table_number(&t, r, col[COL_MOM], &m->momentum[i], &present)) ||
                (rc = csv_table_number(&t, r, col[COL_TRAIN], &m->loss[i], &present)))
                goto done;
        } else if (strcmp(kind, "epoch") == 0) {
            size_t i = m->n_epochs++;
            m->epoch_step[i] = step;
            m->epoch_phase[i] = (int)phase;
            m->epoch[i] = (int)epoch;
            if ((rc = csv_table_number(&t, r, col[COL_TRAIN], &m->train_loss[i], &present)) ||
                (rc = csv_table_number(&t, r, col[COL_VALID], &m->valid_loss[i], &present)) ||
                (rc = csv_table_number(&t, r, col[COL_ACC], &m->accuracy[i], &present)))
                goto done;
        } else {
            rc = sg_fail(SG_E_PARSE, "%s:%ld:%d: unknown kind '%s' (step or epoch)", path,
                         t.line[r], col[COL_KIND] + 1, kind);
            goto done;
        }
    }
done:
    if (rc)
        fig_metrics_free(m);
    csv_table_free(&t);
    return rc;
}
