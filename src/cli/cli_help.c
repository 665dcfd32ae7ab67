/* cli_help.c - each command's --help and docs/options.md, both generated
 * from the registry's rows (cli_registry.h), so neither can drift from
 * what the parser accepts or from the defaults the code uses.
 */
#include "src/cli/cli_registry.h"

#include <string.h>

static int applies(const cli_opt *o, cli_cmd cmd)
{
    return o->name && !o->alias_of && (o->cmds & CLI_BIT(cmd));
}

/* The value's name: the row's, else its choices, else its type's. */
static void value_name(char *buf, size_t size, const cli_opt *o)
{
    static const char *const by_type[] = {[CLI_INT] = "N", [CLI_DOUBLE] = "X",
                                          [CLI_STRING] = "VALUE", [CLI_LIST] = "LIST"};
    size_t len = (size_t)snprintf(buf, size, "%s", o->value ? o->value : "");
    for (int k = 0; !o->value && o->choices && o->choices[k] && len < size; k++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", k ? "|" : "", o->choices[k]);
    if (!o->value && !o->choices && o->type <= CLI_LIST && by_type[o->type])
        snprintf(buf, size, "%s", by_type[o->type]);
}

/* The default as the code uses it, and the DSA recipe's value. */
static void default_text(char *buf, size_t size, const cli_opt *o, cli_cmd cmd)
{
    char preset[512];
    cli_preset_text(preset, sizeof preset, o->name, cmd);
    const char *d = o->def ? o->def : o->def_text ? o->def_text : "";
    snprintf(buf, size, "%s%s%s", d, *d && *preset ? "; " : "", preset);
}

/* The other spellings of o in cmd, each as fmt formats it. */
static void alias_text(char *buf, size_t size, const cli_opt *o, cli_cmd cmd, const char *fmt,
                       const char *deprecated)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < cli_n_opts && len < size; i++) {
        const cli_opt *a = &cli_opts[i];
        if (a->alias_of && strcmp(a->alias_of, o->name) == 0 && (a->cmds & CLI_BIT(cmd))) {
            len += (size_t)snprintf(buf + len, size - len, len ? ", " : "");
            len += (size_t)snprintf(buf + len, size - len, fmt, a->name);
            if (a->note && len < size)
                len += (size_t)snprintf(buf + len, size - len, "%s", deprecated);
        }
    }
}

/* Prints "  HEAD  text" with text wrapped at 80 columns, from column 30. */
static void print_wrapped(FILE *f, const char *head, const char *text)
{
    enum { INDENT = 30, WIDTH = 80 };
    int col = fprintf(f, "  %s", head);
    if (col > INDENT - 2) {
        fputc('\n', f);
        col = 0;
    }
    for (const char *p = text + strspn(text, " "); *p; p += strspn(p, " ")) {
        int w = (int)strcspn(p, " ");
        if (col < INDENT)
            col += fprintf(f, "%*s", INDENT - col, "");
        else if (col + 1 + w > WIDTH)
            col = fprintf(f, "\n%*s", INDENT, "") - 1;
        else
            col += fprintf(f, " ");
        col += fprintf(f, "%.*s", w, p);
        p += w;
    }
    fputc('\n', f);
}

void cli_help_print(FILE *f, cli_cmd cmd, const char *usage)
{
    fprintf(f, "usage: %s\n", usage);
    const char *heading = NULL;
    for (int i = 0; i < cli_n_opts; i++) {
        const cli_opt *o = &cli_opts[i];
        if (!o->name)
            heading = o->help;
        if (!applies(o, cmd))
            continue;
        if (heading)
            fprintf(f, "\n%s\n", heading);
        heading = NULL;
        char val[96], head[160], def[768], al[160], text[2048];
        value_name(val, sizeof val, o);
        snprintf(head, sizeof head, "%s%.1s%s--%s%s%s", o->short_name ? "-" : "", &o->short_name,
                 o->short_name ? ", " : "", o->name, *val && *val != '[' ? " " : "", val);
        default_text(def, sizeof def, o, cmd);
        alias_text(al, sizeof al, o, cmd, "--%s", "");
        snprintf(text, sizeof text, "%s%s%s%s%s%s%s", o->help, *def ? " (default: " : "", def,
                 *def ? ")" : "", *al ? " (alias: " : "", al, *al ? ")" : "");
        print_wrapped(f, head, text);
    }
}

/* Markdown table text: | would end the cell, * < start markup. */
static void md(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|' || *s == '*')
            fputc('\\', f);
        if (*s == '<')
            fputs("&lt;", f);
        else
            fputc(*s == '\n' ? ' ' : *s, f);
    }
}

void cli_help_markdown(FILE *f)
{
    fputs("# Options\n\n"
          "Every option of every command, generated from the option registry\n"
          "(`src/cli/cli_rows.c`, the DSA recipe in `src/cli/cli_preset.c`) by\n"
          "`make docs-options`; each command's `--help` prints the same rows, and\n"
          "`tests/test_options_doc.c` fails when this file differs from them.\n",
          f);
    for (int c = 0; c < CLI_N_CMDS; c++) {
        fprintf(f, "\n## %s\n\n| option | alias | value | default | meaning |\n"
                   "|---|---|---|---|---|\n",
                cli_cmd_name((cli_cmd)c));
        for (int i = 0; i < cli_n_opts; i++) {
            const cli_opt *o = &cli_opts[i];
            if (!applies(o, (cli_cmd)c))
                continue;
            char val[96], def[768], al[160];
            value_name(val, sizeof val, o);
            default_text(def, sizeof def, o, (cli_cmd)c);
            alias_text(al, sizeof al, o, (cli_cmd)c, "`--%s`", " (deprecated)");
            if (o->short_name)
                fprintf(f, "| `-%c`, `--%s` | ", o->short_name, o->name);
            else
                fprintf(f, "| `--%s` | ", o->name);
            fprintf(f, "%s | %s", al, *val ? "`" : "");
            md(f, val);
            fprintf(f, "%s | ", *val ? "`" : "");
            md(f, def);
            fputs(" | ", f);
            md(f, o->help);
            fputs(" |\n", f);
        }
    }
}
