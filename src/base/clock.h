/* clock.h - elapsed time for progress, throughput and time limits. */
#ifndef SG_CLOCK_H
#define SG_CLOCK_H

/* Seconds on the monotonic clock (never steps back with the wall clock). */
double sg_now_seconds(void);

#endif
