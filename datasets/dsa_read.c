/* dsa_read.c - one DSA selection, read (dsa_read.h). */
#include "datasets/dsa_read.h"

int dsa_read(sg_series_set *out, const char *root, const dsa_request *r, int n_threads,
             struct sg_skipped *skipped)
{
    dsa_select sel;
    dsa_select_all(&sel);
    int rc = dsa_select_parse(&sel, r->units, r->sensors, r->axes);
    if (rc == 0 && r->subjects)
        rc = dsa_select_parse_subjects(&sel, r->subjects);
    if (rc == 0)
        rc = dsa_load_skip(out, root, &sel, n_threads, skipped);
    if (rc == 0) {
        rc = dsa_magnitude_apply(out, &sel, r->magnitude);
        if (rc)
            sg_series_set_free(out);
    }
    return rc;
}
