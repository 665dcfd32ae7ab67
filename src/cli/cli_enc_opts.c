/* cli_enc_opts.c - encoder options shared by every command (see
 * cli_enc_opts.h).
 *
 * Numbers are parsed strictly (the whole argument must be a number);
 * ranges beyond the syntax are checked by enc_params_check, which knows
 * the series length.  Names are case-insensitive.
 */
#include "src/cli/cli_enc_opts.h"

#include "src/base/sg_error.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int cli_enc_option(enc_args *a, int opt, const char *arg)
{
    switch (opt) {
    case CLI_ENC_OPT_ENCODER: a->encoder = arg; return 1;
    case CLI_ENC_OPT_IMAGE_SIZE: a->image_size = arg; return 1;
    case CLI_ENC_OPT_SAMPLE_RANGE: a->sample_range = arg; return 1;
    case CLI_ENC_OPT_OVERLAPPING: a->overlapping = 1; return 1;
    case CLI_ENC_OPT_N_BINS: a->n_bins = arg; return 1;
    case CLI_ENC_OPT_STRATEGY: a->strategy = arg; return 1;
    case CLI_ENC_OPT_MTF_FITTED: a->mtf_fitted = 1; return 1;
    case CLI_ENC_OPT_DIMENSION: a->dimension = arg; return 1;
    case CLI_ENC_OPT_TIME_DELAY: a->time_delay = arg; return 1;
    case CLI_ENC_OPT_THRESHOLD: a->threshold = arg; return 1;
    case CLI_ENC_OPT_PERCENTAGE: a->percentage = arg; return 1;
    case CLI_ENC_OPT_WINDOW_LENGTH: a->window_length = arg; return 1;
    case CLI_ENC_OPT_HOP: a->hop = arg; return 1;
    case CLI_ENC_OPT_STFT_WINDOW: a->stft_window = arg; return 1;
    case CLI_ENC_OPT_NO_LOG: a->no_log = 1; return 1;
    case CLI_ENC_OPT_SCOPE: a->scope = arg; return 1;
    case CLI_ENC_OPT_LAYOUT: a->layout = arg; return 1;
    }
    return 0;
}

int cli_strict_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || errno || v < lo || v > hi)
        return -1;
    *out = (int)v;
    return 0;
}

/* Strict finite number; 0 on success. */
static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
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

static int parse_image_size(enc_params *p, const char *s, const char *name)
{
    double d;
    if (strchr(s, '.') || strchr(s, 'e')) {
        if (parse_double(s, &d) || !(d > 0.0 && d <= 1.0))
            return sg_fail(SG_E_INVALID,
                           "--%s: '%s' is neither a pixel count nor a fraction in (0, 1]", name,
                           s);
        p->image_size = 0;
        p->image_size_frac = d;
    } else if (cli_strict_int(s, 1, 1 << 16, &p->image_size)) {
        long v = strtol(s, NULL, 10);
        if (v > (1 << 16) && strspn(s, "0123456789") == strlen(s))
            return sg_fail(SG_E_INVALID, "--%s: %s pixels is above the limit of %d (an image "
                                         "side of 65536 pixels already takes 16 GiB as floats)",
                           name, s, 1 << 16);
        return sg_fail(SG_E_INVALID, "--%s: '%s' is not a positive integer or fraction", name,
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
    if (a->image_size && (rc = parse_image_size(p, a->image_size,
                                                a->image_size_name ? a->image_size_name
                                                                   : "image-size")))
        return rc;
    if (a->sample_range && (rc = parse_sample_range(p, a->sample_range)))
        return rc;
    if (a->overlapping)
        p->overlapping = 1;
    if (a->n_bins && cli_strict_int(a->n_bins, 2, 1 << 16, &p->n_bins))
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
    if (a->dimension && cli_strict_int(a->dimension, 1, 1 << 20, &p->dimension))
        return sg_fail(SG_E_INVALID, "--dimension: expected a positive integer, got '%s'",
                       a->dimension);
    if (a->time_delay && cli_strict_int(a->time_delay, 1, 1 << 20, &p->time_delay))
        return sg_fail(SG_E_INVALID, "--time-delay: expected a positive integer, got '%s'",
                       a->time_delay);
    if (a->threshold && (rc = parse_threshold(p, a->threshold)))
        return rc;
    if (a->percentage && parse_double(a->percentage, &p->percentage))
        return sg_fail(SG_E_INVALID, "--percentage: expected a number, got '%s'",
                       a->percentage);
    if (a->window_length && cli_strict_int(a->window_length, 2, 1 << 20, &p->window_length))
        return sg_fail(SG_E_INVALID, "--window-length: expected an integer >= 2, got '%s'",
                       a->window_length);
    if (a->hop && cli_strict_int(a->hop, 1, 1 << 20, &p->hop))
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

/* The options a stacked element may set for itself (`gray:scope=axis`),
 * by their long option names; each overrides the shared option of that
 * name for this element only. */
static const struct {
    const char *name;
    size_t field;
} element_options[] = {
    {"scope", offsetof(enc_args, scope)},
    {"layout", offsetof(enc_args, layout)},
    {"enc-size", offsetof(enc_args, image_size)},
    {"sample-range", offsetof(enc_args, sample_range)},
    {"n-bins", offsetof(enc_args, n_bins)},
    {"strategy", offsetof(enc_args, strategy)},
    {"dimension", offsetof(enc_args, dimension)},
    {"time-delay", offsetof(enc_args, time_delay)},
    {"threshold", offsetof(enc_args, threshold)},
    {"percentage", offsetof(enc_args, percentage)},
    {"window-length", offsetof(enc_args, window_length)},
    {"hop", offsetof(enc_args, hop)},
    {"stft-window", offsetof(enc_args, stft_window)},
};

enum { ELEMENT_TEXT_MAX = 128 };

/* Splits one list element "NAME[:KEY=VALUE]..." in text (modified in
 * place: the values stay pointers into it) into its name and the
 * options it sets in *one. */
static int parse_element(char *text, const char **name, enc_args *one, const char *list)
{
    char *save = NULL;
    *name = strtok_r(text, ":", &save);
    for (char *kv; (kv = strtok_r(NULL, ":", &save));) {
        char *eq = strchr(kv, '=');
        size_t i, n = sizeof element_options / sizeof element_options[0];
        if (eq)
            *eq = '\0';
        for (i = 0; i < n && strcmp(kv, element_options[i].name) != 0; i++)
            ;
        if (i == n)
            return sg_fail(SG_E_INVALID,
                           "--encoder '%s': unknown element option '%s' (expected scope, "
                           "layout, enc-size, sample-range, n-bins, strategy, dimension, "
                           "time-delay, threshold, percentage, window-length, hop or "
                           "stft-window)",
                           list, kv);
        if (!eq || eq[1] == '\0')
            return sg_fail(SG_E_INVALID,
                           "--encoder '%s': element option '%s' needs a value (%s:%s=VALUE)",
                           list, kv, *name, kv);
        *(const char **)((char *)one + element_options[i].field) = eq + 1;
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
