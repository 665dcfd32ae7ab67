/* signals.h - stopping cleanly on Ctrl-C (SIGINT) and SIGTERM.
 *
 * The handlers only set a flag (a volatile sig_atomic_t: the one global
 * the program allows, since a handler can reach nothing else).  Long
 * loops (training steps, prediction batches, encoding) poll
 * sg_interrupted() and return SG_E_INTERRUPTED, so the ordinary error
 * paths close and remove their temporary files; the command then says
 * what was finished and exits 130, as shells do for SIGINT.  A second
 * signal while stopping falls back to the default action (kills).
 */
#ifndef SG_SIGNALS_H
#define SG_SIGNALS_H

/* Installs the SIGINT and SIGTERM handlers (idempotent). */
int sg_signals_install(void);

/* The signal number received (SIGINT, SIGTERM), or 0. */
int sg_interrupted(void);

/* SG_E_INTERRUPTED with the message "interrupted by SIGINT" (or
 * SIGTERM) when a signal arrived, else SG_OK: for polling in loops. */
int sg_check_interrupt(void);

#endif
