/* skipped.c - the list of skipped inputs (see skipped.h). */
#include "datasets/skipped.h"
#include "src/base/sg_error.h"

#include <stdlib.h>
#include <string.h>

int sg_skipped_add(sg_skipped *s, const char *source, const char *reason)
{
    char **src = realloc(s->source, (s->n + 1) * sizeof(char *));
    if (!src)
        return sg_fail(SG_E_NOMEM, "out of memory");
    s->source = src;
    char **why = realloc(s->reason, (s->n + 1) * sizeof(char *));
    if (!why)
        return sg_fail(SG_E_NOMEM, "out of memory");
    s->reason = why;
    char *a = strdup(source ? source : "");
    char *b = strdup(reason ? reason : "");
    if (!a || !b) {
        free(a);
        free(b);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    s->source[s->n] = a;
    s->reason[s->n] = b;
    s->n++;
    return 0;
}

void sg_skipped_free(sg_skipped *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->source[i]);
        free(s->reason[i]);
    }
    free(s->source);
    free(s->reason);
    memset(s, 0, sizeof *s);
}
