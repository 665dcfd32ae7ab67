/* signals.c - SIGINT/SIGTERM set a flag that loops poll (see signals.h). */
#include "src/base/signals.h"

#include "src/base/sg_error.h"

#include <signal.h>
#include <string.h>

/* Written only by the handler, read by every thread: the one global. */
static volatile sig_atomic_t sg_signal_seen;

static void on_signal(int sig)
{
    sg_signal_seen = sig;
}

int sg_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* Restart reads and writes: the loops poll the flag themselves.  A
     * second Ctrl-C while we stop cleanly kills at once (SA_RESETHAND). */
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
        return sg_fail(SG_E_IO, "cannot install the signal handlers");
    return SG_OK;
}

int sg_interrupted(void)
{
    return (int)sg_signal_seen;
}

int sg_check_interrupt(void)
{
    int sig = (int)sg_signal_seen;
    if (!sig)
        return SG_OK;
    return sg_fail(SG_E_INTERRUPTED, "interrupted by %s", sig == SIGTERM ? "SIGTERM" : "SIGINT");
}
