/* cli_enc_opts.c - encoder options shared by every command (see
 * cli_enc_opts.h).
 *
 * Numbers are parsed strictly (the whole argument must be a number);
 * ranges beyond the syntax are checked by enc_params_check, which knows
 * the series length.  Names are case-insensitive.
 */
#include "src/cli/cli_enc_opts.h"
#include "src/cli/cli_number.h"
#include "src/cli/cli_registry.h"

#include "src/base/sg_error.h"
#include "src/train/job.h"

#include <float.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Numbers go through the one strict parser (cli_number.h), silently:
 * the messages here say more than a range. */
static int parse_double(const char *s, double *out)
{
    return cli_parse_double(out, NULL, s, -DBL_MAX, DBL_MAX, 0);
}

/* Picks the index of s in names[0..n), case-insensitive; -1 if absent. */
static int pick(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(s, names[i]) == 0)
            return i;
    return -1;
}

static const char *const strategy_names[] = {"quantile", "uniform", "normal"};
static const char *const window_names[] = {"hann", "hamming", "blackman", "rect"};
static const char *const scope_names[] = {"dataset", "segment", "axis"};
static const char *const layout_names[] = {"channels", "mosaic", "rgb"};

static int parse_image_size(enc_params *p, const char *s)
{
    double d;
    if (strchr(s, '.') || strchr(s, 'e')) {
        if (cli_parse_double(&d, NULL, s, 0.0, 1.0, 1))
            return sg_fail(SG_E_INVALID,
                           "--enc-size: '%s' is neither a pixel count nor a fraction in (0, 1]",
                           s);
        p->image_size = 0;
        p->image_size_frac = d;
    } else if (cli_parse_int(&p->image_size, NULL, s, 1, 1 << 16)) {
        long v = strtol(s, NULL, 10);
        if (v > (1 << 16) && strspn(s, "0123456789") == strlen(s))
            return sg_fail(SG_E_INVALID, "--enc-size: %s pixels is above the limit of %d (an "
                                         "image side of 65536 pixels already takes 16 GiB as "
                                         "floats)",
                           s, 1 << 16);
        return sg_fail(SG_E_INVALID, "--enc-size: '%s' is not a positive integer or fraction",
                       s);
    }
    return SG_OK;
}

static int parse_sample_range(enc_params *p, const char *s)
{
    if (strcasecmp(s, "none") == 0) {
        p->sample_range_none = 1;
        return SG_OK;
    }
    char lo[64], hi[64];
    const char *comma = strchr(s, ',');
    if (!comma || (size_t)(comma - s) >= sizeof lo || strlen(comma + 1) >= sizeof hi)
        return sg_fail(SG_E_INVALID, "--sample-range: expected LO,HI or none, got '%s'", s);
    snprintf(lo, sizeof lo, "%.*s", (int)(comma - s), s);
    snprintf(hi, sizeof hi, "%s", comma + 1);
    if (parse_double(lo, &p->sample_range[0]) || parse_double(hi, &p->sample_range[1]))
        return sg_fail(SG_E_INVALID, "--sample-range: expected LO,HI or none, got '%s'", s);
    p->sample_range_none = 0;
    return SG_OK;
}

static int parse_threshold(enc_params *p, const char *s)
{
    if (strcasecmp(s, "none") == 0)
        p->threshold = ENC_THRESHOLD_NONE;
    else if (strcasecmp(s, "point") == 0)
        p->threshold = ENC_THRESHOLD_POINT;
    else if (strcasecmp(s, "distance") == 0)
        p->threshold = ENC_THRESHOLD_DISTANCE;
    else if (parse_double(s, &p->threshold_value) == 0)
        p->threshold = ENC_THRESHOLD_VALUE;
    else
        return sg_fail(SG_E_INVALID,
                       "--threshold: expected none, point, distance or a number, got '%s'", s);
    return SG_OK;
}

int cli_enc_build(enc_params *p, const enc_args *a, const char *default_encoder)
{
    enc_kind kind;
    int rc = enc_kind_parse(&kind, a->encoder ? a->encoder : default_encoder);
    if (rc)
        return sg_fail_context(rc, "--encoder");
    enc_params_default(p, kind);
    int k;
    if (a->image_size && (rc = parse_image_size(p, a->image_size)))
        return rc;
    if (a->sample_range && (rc = parse_sample_range(p, a->sample_range)))
        return rc;
    if (a->overlapping)
        p->overlapping = 1;
    if (a->n_bins && cli_parse_int(&p->n_bins, NULL, a->n_bins, 2, 1 << 16))
        return sg_fail(SG_E_INVALID, "--n-bins: expected an integer >= 2, got '%s'", a->n_bins);
    if (a->strategy) {
        if ((k = pick(a->strategy, strategy_names, 3)) < 0)
            return sg_fail(SG_E_INVALID,
                           "--strategy: expected quantile, uniform or normal, got '%s'",
                           a->strategy);
        p->strategy = (enc_strategy)k;
    }
    if (a->mtf_fitted)
        p->mtf_fitted = 1;
    if (a->dimension && cli_parse_int(&p->dimension, NULL, a->dimension, 1, 1 << 20))
        return sg_fail(SG_E_INVALID, "--dimension: expected a positive integer, got '%s'",
                       a->dimension);
    if (a->time_delay && cli_parse_int(&p->time_delay, NULL, a->time_delay, 1, 1 << 20))
        return sg_fail(SG_E_INVALID, "--time-delay: expected a positive integer, got '%s'",
                       a->time_delay);
    if (a->threshold && (rc = parse_threshold(p, a->threshold)))
        return rc;
    if (a->percentage && parse_double(a->percentage, &p->percentage))
        return sg_fail(SG_E_INVALID, "--percentage: expected a number, got '%s'",
                       a->percentage);
    if (a->window_length && cli_parse_int(&p->window_length, NULL, a->window_length, 2, 1 << 20))
        return sg_fail(SG_E_INVALID, "--window-length: expected an integer >= 2, got '%s'",
                       a->window_length);
    if (a->hop && cli_parse_int(&p->hop, NULL, a->hop, 1, 1 << 20))
        return sg_fail(SG_E_INVALID, "--hop: expected a positive integer, got '%s'", a->hop);
    if (a->stft_window) {
        if ((k = pick(a->stft_window, window_names, 4)) < 0 &&
            strcasecmp(a->stft_window, "rectangular") != 0)
            return sg_fail(SG_E_INVALID,
                           "--stft-window: expected hann, hamming, blackman or rect, got '%s'",
                           a->stft_window);
        p->window = k < 0 ? ENC_WINDOW_RECTANGULAR : (enc_window)k;
    }
    if (a->no_log)
        p->log_db = 0;
    if (a->scope) {
        if ((k = pick(a->scope, scope_names, 3)) < 0)
            return sg_fail(SG_E_INVALID, "--scope: expected dataset, segment or axis, got '%s'",
                           a->scope);
        p->scope = (enc_scope)k;
    }
    if (a->layout) {
        if ((k = pick(a->layout, layout_names, 3)) < 0)
            return sg_fail(SG_E_INVALID, "--layout: expected channels, mosaic or rgb, got '%s'",
                           a->layout);
        p->layout = (enc_layout)k;
    }
    return SG_OK;
}

/* Where a stacked element's own option (`gray:scope=axis`, by the long
 * option's name) goes in enc_args: the registry's raw encoder options but
 * --encoder; -1 for another name.  It overrides the shared option of
 * that name for this element only. */
static long element_field(const char *name)
{
    const cli_opt *o = cli_opt_find(name, CLI_TRAIN);
    size_t base = offsetof(job_opts, enc_args) + 1, at = o ? o->at[CLI_REQ_JOB] : 0;
    if (!o || strcmp(o->name, name) != 0 || o->type != CLI_STRING || at < base ||
        at >= base + sizeof(enc_args) || strcmp(name, "encoder") == 0)
        return -1;
    return (long)(at - base);
}

enum { ELEMENT_TEXT_MAX = 128 };

/* Splits one list element "NAME[:KEY=VALUE]..." in text (modified in
 * place: the values stay pointers into it) into its name and the
 * options it sets in *one. */
static int parse_element(char *text, const char **name, enc_args *one, const char *list)
{
    char *save = NULL;
    *name = strtok_r(text, ":", &save);
    for (char *kv; (kv = strtok_r(NULL, ":", &save));) {
        char *eq = strchr(kv, '='), names[512] = "";
        if (eq)
            *eq = '\0';
        long field = element_field(kv);
        for (int i = 0; field < 0 && i < cli_n_opts; i++)
            if (cli_opts[i].name && element_field(cli_opts[i].name) >= 0 &&
                !strstr(names, cli_opts[i].name))
                snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s",
                         names[0] ? ", " : "", cli_opts[i].name);
        if (field < 0)
            return sg_fail(SG_E_INVALID,
                           "--encoder '%s': unknown element option '%s' (expected %s)", list, kv,
                           names);
        if (!eq || eq[1] == '\0')
            return sg_fail(SG_E_INVALID,
                           "--encoder '%s': element option '%s' needs a value (%s:%s=VALUE)",
                           list, kv, *name, kv);
        *(const char **)((char *)one + field) = eq + 1;
    }
    return SG_OK;
}

int cli_enc_build_stack(enc_stack *s, const enc_args *a, const char *default_encoder)
{
    memset(s, 0, sizeof *s);
    const char *list = a->encoder ? a->encoder : default_encoder;
    if (!strchr(list, '+') && !strchr(list, ':')) {
        s->n = 1;
        return cli_enc_build(&s->p[0], a, default_encoder);
    }
    char seen[ENC_STACK_MAX][ELEMENT_TEXT_MAX];
    const char *start = list;
    for (;;) {
        const char *plus = strchr(start, '+');
        size_t len = plus ? (size_t)(plus - start) : strlen(start);
        char text[ELEMENT_TEXT_MAX];
        if (len == 0 || start[0] == ':')
            return sg_fail(SG_E_INVALID,
                           "--encoder '%s': empty encoder name in the list (expected names "
                           "joined by '+', e.g. gray+gasf+rp)",
                           list);
        if (s->n == ENC_STACK_MAX)
            return sg_fail(SG_E_INVALID, "--encoder '%s': at most %d stacked encoders", list,
                           ENC_STACK_MAX);
        if (len >= sizeof text)
            return sg_fail(SG_E_INVALID, "--encoder '%s': element '%.*s' is too long", list,
                           (int)len, start);
        snprintf(text, sizeof text, "%.*s", (int)len, start);
        for (int k = 0; k < s->n; k++)
            if (strcmp(seen[k], text) == 0)
                return sg_fail(SG_E_INVALID, "--encoder '%s': %s is listed twice", list, text);
        snprintf(seen[s->n], sizeof seen[s->n], "%s", text);
        enc_args one = *a;
        const char *name;
        int rc = parse_element(text, &name, &one, list);
        if (rc)
            return rc;
        enc_kind kind;
        if (enc_kind_parse(&kind, name) != SG_OK)
            return sg_fail(SG_E_INVALID,
                           "--encoder '%s': unknown encoder '%s' (expected gray, rp, jrp, "
                           "gasf, gadf, mtf or spectrogram, joined by '+')",
                           list, name);
        one.encoder = name;
        rc = cli_enc_build(&s->p[s->n], &one, default_encoder);
        if (rc)
            return rc;
        s->n++;
        if (!plus)
            break;
        start = plus + 1;
    }
    return SG_OK;
}
