/* skipped.h - inputs left out under --on-error skip, with their reasons.
 *
 * Readers and the encode loop append here instead of failing when the
 * caller asked to skip bad inputs; the CLI lists them at the end.
 */
#ifndef SG_SKIPPED_H
#define SG_SKIPPED_H

#include <stddef.h>

typedef struct sg_skipped {
    size_t n;
    char **source;   /* n input names (file paths or segment names), owned */
    char **reason;   /* n one-line messages, owned */
} sg_skipped;

/* Appends copies of source and reason.  Not thread-safe: callers that
 * skip from worker threads collect per item and append afterwards. */
int sg_skipped_add(sg_skipped *s, const char *source, const char *reason);

/* Frees the strings and zeroes s; accepts NULL. */
void sg_skipped_free(sg_skipped *s);

#endif
