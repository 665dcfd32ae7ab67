/* fig_html.c - escaping and number formats for report.html (see
 * fig_report.h).  Byte-wise: UTF-8 passes through unchanged. */
#include "figures/fig_report.h"

#include <math.h>
#include <string.h>

void fig_html_text(FILE *f, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            fputc(*p < 0x20 && *p != '\t' && *p != '\n' ? ' ' : *p == 0x7f ? ' ' : *p, f);
        }
    }
}

void fig_html_url(FILE *f, const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)path; p && *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/", *p))
            fputc(*p, f);
        else
            fprintf(f, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    }
}

void fig_html_num(FILE *f, double v, int digits)
{
    if (isfinite(v))
        fprintf(f, "%.*f", digits, v);
    else
        fputs("\xe2\x80\x94", f); /* em dash */
}

void fig_html_pct(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.2f%%", 100.0 * v);
    else
        fputs("\xe2\x80\x94", f);
}

void fig_html_sort_key(FILE *f, double v)
{
    fprintf(f, " data-v=\"%.9g\"", isfinite(v) ? v : -1e308);
}

void fig_html_colour(char out[8], const double rgb[3])
{
    int c[3];
    for (int k = 0; k < 3; k++) {
        double x = rgb[k] < 0 ? 0 : rgb[k] > 1 ? 1 : rgb[k];
        c[k] = (int)lround(255.0 * x);
    }
    snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}
