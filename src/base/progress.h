/* progress.h - a progress bar for long loops (encoding, training).
 *
 * On a terminal the bar is redrawn in place (at most ten times a second):
 *   encode  [#########.........]  4520/6840  1532.1/s  ETA 0:02  loss 0.53
 * Elsewhere (a log file, CI) it prints a plain line at every tenth of
 * the total, so logs stay short.  Updates may come from several threads.
 */
#ifndef SG_PROGRESS_H
#define SG_PROGRESS_H

#include <stddef.h>
#include <stdio.h>

typedef struct sg_progress sg_progress;

/* Creates a bar for total items written to stream (borrowed; usually
 * stderr); label is copied.  interactive: 1 bar, 0 plain lines, -1 pick
 * from isatty(stream).  The caller owns the bar (sg_progress_free). */
int sg_progress_create(sg_progress **out, FILE *stream, const char *label,
                       size_t total, int interactive);

/* Counts k more items done and redraws when due.  Thread-safe. */
void sg_progress_add(sg_progress *p, size_t k);

/* Sets the free text shown after the ETA (e.g. "loss 0.531"); copied;
 * NULL clears it.  Thread-safe. */
void sg_progress_set_text(sg_progress *p, const char *text);

/* Draws the final state and ends the line (once). */
void sg_progress_finish(sg_progress *p);

/* Seconds since the bar was created. */
double sg_progress_elapsed(const sg_progress *p);

/* Frees the bar (finishing it first if needed); accepts NULL. */
void sg_progress_free(sg_progress *p);

#endif
