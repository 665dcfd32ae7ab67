/* series.c - freeing an sg_series_set (see series.h). */
#include "datasets/series.h"

#include <stdlib.h>
#include <string.h>

static void free_strings(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void sg_series_set_free(sg_series_set *s)
{
    if (!s)
        return;
    free(s->data);
    free_strings(s->channel_names, (size_t)(s->n_channels > 0 ? s->n_channels : 0));
    free(s->label);
    free(s->subject);
    free(s->segment);
    free_strings(s->source, s->n);
    free_strings(s->name, s->n);
    free_strings(s->class_names, (size_t)(s->n_classes > 0 ? s->n_classes : 0));
    free_strings(s->subject_names, (size_t)(s->n_subject_names > 0 ? s->n_subject_names : 0));
    memset(s, 0, sizeof *s);
}
