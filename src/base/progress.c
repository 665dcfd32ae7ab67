/* progress.c - terminal bar or plain progress lines (see progress.h). */
#include "src/base/progress.h"
#include "src/base/clock.h"
#include "src/base/sg_error.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { BAR_WIDTH = 24, TEXT_MAX = 128, LABEL_MAX = 32 };

struct sg_progress {
    FILE *stream;
    char label[LABEL_MAX];
    char text[TEXT_MAX];
    size_t total;
    size_t done;
    int interactive;
    int finished;
    int next_tenth;       /* plain mode: next tenth to report */
    double start;
    double last_draw;
    pthread_mutex_t lock;
};

static void format_duration(char *buf, size_t n, double s)
{
    if (!(s >= 0.0) || s > 359999.0) {
        snprintf(buf, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* Caller holds the lock. */
static void draw(sg_progress *p, double t, int final)
{
    double el = t - p->start;
    double rate = el > 0.0 ? (double)p->done / el : 0.0;
    char eta[32];
    if (final)
        format_duration(eta, sizeof eta, el);
    else
        format_duration(eta, sizeof eta,
                        rate > 0.0 ? (double)(p->total - p->done) / rate : -1.0);
    const char *eta_label = final ? "in" : "ETA";
    if (p->interactive) {
        char bar[BAR_WIDTH + 1];
        size_t fill = p->total ? p->done * BAR_WIDTH / p->total : BAR_WIDTH;
        for (size_t i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        /* \r + clear-to-end keeps the bar on one line as it shrinks. */
        fprintf(p->stream, "\r%s [%s] %zu/%zu %.1f/s %s %s%s%s\033[K%s", p->label, bar,
                p->done, p->total, rate, eta_label, eta, p->text[0] ? "  " : "", p->text,
                final ? "\n" : "");
    } else {
        fprintf(p->stream, "%s: %zu/%zu (%.1f/s, %s %s)%s%s\n", p->label, p->done, p->total,
                rate, eta_label, eta, p->text[0] ? " " : "", p->text);
    }
    fflush(p->stream);
    p->last_draw = t;
}

int sg_progress_create(sg_progress **out, FILE *stream, const char *label, size_t total,
                       int interactive)
{
    *out = NULL;
    sg_progress *p = calloc(1, sizeof *p);
    if (!p)
        return sg_fail(SG_E_NOMEM, "out of memory");
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return sg_fail(SG_E_NOMEM, "cannot create a mutex");
    }
    p->stream = stream;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total;
    p->interactive = interactive < 0 ? isatty(fileno(stream)) : interactive != 0;
    p->next_tenth = 1;
    p->start = sg_now_seconds();
    p->last_draw = 0.0;
    *out = p;
    return SG_OK;
}

void sg_progress_add(sg_progress *p, size_t k)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->done += k;
    if (p->done > p->total)
        p->total = p->done;
    if (!p->finished) {
        double t = sg_now_seconds();
        if (p->interactive) {
            if (t - p->last_draw >= 0.1)
                draw(p, t, 0);
        } else if (p->total > 0 && p->done < p->total &&
                   p->done * 10 >= (size_t)p->next_tenth * p->total) {
            while (p->next_tenth <= 9 && p->done * 10 >= (size_t)p->next_tenth * p->total)
                p->next_tenth++;
            draw(p, t, 0);
        }
    }
    pthread_mutex_unlock(&p->lock);
}

void sg_progress_set_text(sg_progress *p, const char *text)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    snprintf(p->text, sizeof p->text, "%s", text ? text : "");
    pthread_mutex_unlock(&p->lock);
}

void sg_progress_finish(sg_progress *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    if (!p->finished) {
        p->finished = 1;
        draw(p, sg_now_seconds(), 1);
    }
    pthread_mutex_unlock(&p->lock);
}

double sg_progress_elapsed(const sg_progress *p)
{
    return p ? sg_now_seconds() - p->start : 0.0;
}

void sg_progress_free(sg_progress *p)
{
    if (!p)
        return;
    sg_progress_finish(p);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
