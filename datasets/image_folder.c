/* image_folder.c - folder layouts -> sg_image_list (see image_folder.h).
 *
 * Every listing is sorted before use, so the same folder gives the same
 * list (and the same seeded splits) on every machine, whatever order
 * readdir returns.
 */
#include "datasets/image_folder.h"
#include "src/base/fs_stat.h"
#include "src/image/image_read.h"
#include "src/base/sg_error.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

enum { MAX_DEPTH = 32 };

/* ---- string vectors ---------------------------------------------------- */

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

static void strvec_free(strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* Takes ownership of str (freed on failure). */
static int strvec_push(strvec *s, char *str)
{
    if (!str)
        return sg_fail(SG_E_NOMEM, "out of memory");
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        char **v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            free(str);
            return sg_fail(SG_E_NOMEM, "out of memory");
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    return SG_OK;
}

static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int slash = la > 0 && a[la - 1] != '/';
    char *p = malloc(la + lb + 2);
    if (!p)
        return NULL;
    memcpy(p, a, la);
    if (slash)
        p[la++] = '/';
    memcpy(p + la, b, lb + 1);
    return p;
}

int sg_natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0')
                a++;
            while (*b == '0')
                b++;
            size_t na = 0, nb = 0;
            while (isdigit((unsigned char)a[na]))
                na++;
            while (isdigit((unsigned char)b[nb]))
                nb++;
            if (na != nb)
                return na < nb ? -1 : 1;
            int c = strncmp(a, b, na);
            if (c != 0)
                return c;
            a += na;
            b += nb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return (unsigned char)*a - (unsigned char)*b;
}

static int natural_qsort(const void *x, const void *y)
{
    return sg_natural_cmp(*(char *const *)x, *(char *const *)y);
}

static int plain_qsort(const void *x, const void *y)
{
    return strcmp(*(char *const *)x, *(char *const *)y);
}

static int has_image_ext(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (!strcasecmp(dot, ".png") || !strcasecmp(dot, ".jpg") ||
                   !strcasecmp(dot, ".jpeg"));
}

/* Appends the image files under dir (recursively) to out, natural-sorted. */
static int walk_images(strvec *out, const char *dir, int depth)
{
    if (depth > MAX_DEPTH)
        return sg_fail(SG_E_INVALID, "%s: folders nested too deeply (symlink loop?)", dir);
    DIR *d = opendir(dir);
    if (!d)
        return sg_fail(SG_E_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    strvec names = {0};
    int rc = SG_OK;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        rc = strvec_push(&names, strdup(e->d_name));
    }
    closedir(d);
    if (rc < 0) {
        strvec_free(&names);
        return rc;
    }
    if (names.n > 1)
        qsort(names.v, names.n, sizeof *names.v, natural_qsort);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        char *p = join_path(dir, names.v[i]);
        if (!p) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        if (sg_is_dir(p)) {
            rc = walk_images(out, p, depth + 1);
            free(p);
        } else if (has_image_ext(names.v[i])) {
            rc = strvec_push(out, p);
        } else {
            free(p);
        }
    }
    strvec_free(&names);
    return rc;
}

/* Sorted (strcmp) names of the visible sub-folders of dir. */
static int list_subdirs(strvec *out, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return sg_fail(SG_E_IO, "%s: cannot open folder: %s", dir, strerror(errno));
    int rc = SG_OK;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *p = join_path(dir, e->d_name);
        if (!p) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        int sub = sg_is_dir(p);
        free(p);
        if (sub)
            rc = strvec_push(out, strdup(e->d_name));
    }
    closedir(d);
    if (rc == 0 && out->n > 1)
        qsort(out->v, out->n, sizeof *out->v, plain_qsort);
    return rc;
}

/* ---- list building ----------------------------------------------------- */

void sg_image_list_free(sg_image_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free(l->paths[i]);
        if (l->sources)
            free(l->sources[i]);
    }
    for (int c = 0; c < l->n_classes; c++)
        free(l->class_names[c]);
    free(l->paths);
    free(l->labels);
    free(l->subjects);
    free(l->segments);
    free(l->sources);
    free(l->is_valid);
    free(l->class_names);
    free(l->rows);
    memset(l, 0, sizeof *l);
}

/* Allocates the per-sample arrays for n entries, taking ownership of the
 * paths vector (left empty). */
static int list_init(sg_image_list *l, strvec *paths)
{
    memset(l, 0, sizeof *l);
    size_t n = paths->n, m = n ? n : 1;
    l->labels = malloc(m * sizeof(int));
    l->subjects = malloc(m * sizeof(int));
    l->segments = malloc(m * sizeof(int));
    l->sources = calloc(m, sizeof(char *));
    if (!l->labels || !l->subjects || !l->segments || !l->sources) {
        sg_image_list_free(l);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    l->paths = paths->v;
    l->n = n;
    memset(paths, 0, sizeof *paths);
    for (size_t i = 0; i < n; i++) {
        l->labels[i] = -1;
        l->subjects[i] = -1;
        l->segments[i] = -1;
    }
    return SG_OK;
}

/* Moves class names into the list. */
static void list_set_classes(sg_image_list *l, strvec *classes)
{
    l->class_names = classes->v;
    l->n_classes = (int)classes->n;
    memset(classes, 0, sizeof *classes);
}

static int class_index(const strvec *classes, const char *name)
{
    /* classes are sorted (strcmp): binary search */
    size_t lo = 0, hi = classes->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(classes->v[mid], name);
        if (c == 0)
            return (int)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* Sorted unique copy of names. */
static int unique_sorted(strvec *out, char *const *names, size_t n)
{
    strvec all = {0};
    int rc = SG_OK;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = strvec_push(&all, strdup(names[i]));
    if (rc < 0) {
        strvec_free(&all);
        return rc;
    }
    if (all.n > 1)
        qsort(all.v, all.n, sizeof *all.v, plain_qsort);
    for (size_t i = 0; i < all.n; i++) {
        if (out->n > 0 && strcmp(out->v[out->n - 1], all.v[i]) == 0) {
            free(all.v[i]);
            continue;
        }
        if (strvec_push(out, all.v[i]) < 0) {
            for (size_t j = i + 1; j < all.n; j++)
                free(all.v[j]);
            free(all.v);
            return SG_E_NOMEM;
        }
    }
    free(all.v);
    return SG_OK;
}

/* Collects ROOT/<class>/... for the given classes into paths + labels. */
static int collect_classes(strvec *paths, int **labels, size_t *cap_labels, const char *root,
                           const strvec *classes, int require_files)
{
    int rc = SG_OK;
    for (size_t c = 0; rc == 0 && c < classes->n; c++) {
        char *dir = join_path(root, classes->v[c]);
        if (!dir)
            return sg_fail(SG_E_NOMEM, "out of memory");
        size_t before = paths->n;
        if (sg_is_dir(dir))
            rc = walk_images(paths, dir, 0);
        if (rc == 0 && require_files && paths->n == before)
            rc = sg_fail(SG_E_INVALID, "%s: class folder has no PNG or JPEG files", dir);
        free(dir);
        if (rc < 0)
            break;
        if (paths->n > *cap_labels) {
            size_t cap = paths->n * 2;
            int *bigger = realloc(*labels, cap * sizeof(int));
            if (!bigger)
                return sg_fail(SG_E_NOMEM, "out of memory");
            *labels = bigger;
            *cap_labels = cap;
        }
        for (size_t i = before; i < paths->n; i++)
            (*labels)[i] = (int)c;
    }
    return rc;
}

int sg_image_folder_classes(sg_image_list *out, const char *root)
{
    memset(out, 0, sizeof *out);
    strvec classes = {0}, paths = {0};
    int *labels = NULL;
    size_t cap = 0;
    int rc = list_subdirs(&classes, root);
    if (rc == 0 && classes.n == 0)
        rc = sg_fail(SG_E_INVALID, "%s: no class folders (expected ROOT/<class>/*.png|jpg)", root);
    if (rc == 0)
        rc = collect_classes(&paths, &labels, &cap, root, &classes, 1);
    if (rc == 0)
        rc = list_init(out, &paths);
    if (rc == 0) {
        if (out->n > 0)
            memcpy(out->labels, labels, out->n * sizeof(int));
        list_set_classes(out, &classes);
    }
    free(labels);
    strvec_free(&paths);
    strvec_free(&classes);
    return rc;
}

static const char *valid_dir_name(const char *root)
{
    static const char *const names[] = {"valid", "val"};
    for (int i = 0; i < 2; i++) {
        char *p = join_path(root, names[i]);
        int ok = p && sg_is_dir(p);
        free(p);
        if (ok)
            return names[i];
    }
    return NULL;
}

int sg_image_folder_train_valid(sg_image_list *out, const char *root)
{
    memset(out, 0, sizeof *out);
    const char *vname = valid_dir_name(root);
    char *tdir = join_path(root, "train");
    char *vdir = vname ? join_path(root, vname) : NULL;
    strvec both = {0}, classes = {0}, paths = {0};
    int *labels = NULL;
    size_t cap = 0, n_train = 0;
    int rc = SG_OK;
    if (!tdir || (vname && !vdir))
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    else if (!vname || !sg_is_dir(tdir))
        rc = sg_fail(SG_E_INVALID, "%s: expected train/ and valid/ sub-folders", root);
    if (rc == 0)
        rc = list_subdirs(&both, tdir);
    if (rc == 0)
        rc = list_subdirs(&both, vdir);
    if (rc == 0)
        rc = unique_sorted(&classes, both.v, both.n);
    if (rc == 0 && classes.n == 0)
        rc = sg_fail(SG_E_INVALID, "%s: no class folders under train/ and %s/", root, vname);
    if (rc == 0)
        rc = collect_classes(&paths, &labels, &cap, tdir, &classes, 0);
    n_train = paths.n;
    if (rc == 0)
        rc = collect_classes(&paths, &labels, &cap, vdir, &classes, 0);
    if (rc == 0)
        rc = list_init(out, &paths);
    if (rc == 0) {
        out->is_valid = calloc(out->n ? out->n : 1, 1);
        if (!out->is_valid) {
            sg_image_list_free(out);
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        }
    }
    if (rc == 0) {
        if (out->n > 0)
            memcpy(out->labels, labels, out->n * sizeof(int));
        for (size_t i = n_train; i < out->n; i++)
            out->is_valid[i] = 1;
        list_set_classes(out, &classes);
    }
    free(labels);
    free(tdir);
    free(vdir);
    strvec_free(&both);
    strvec_free(&classes);
    strvec_free(&paths);
    return rc;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int sg_image_folder_regex(sg_image_list *out, const char *root, const char *regex)
{
    memset(out, 0, sizeof *out);
    regex_t re;
    int err = regcomp(&re, regex, REG_EXTENDED);
    if (err != 0) {
        char msg[256];
        regerror(err, &re, msg, sizeof msg);
        return sg_fail(SG_E_INVALID, "--label-regex '%s': %s", regex, msg);
    }
    strvec paths = {0}, names = {0}, classes = {0};
    int rc = walk_images(&paths, root, 0);
    for (size_t i = 0; rc == 0 && i < paths.n; i++) {
        regmatch_t m[2];
        const char *b = base_name(paths.v[i]);
        if (regexec(&re, b, 2, m, 0) != 0) {
            rc = sg_fail(SG_E_INVALID, "%s: file name does not match --label-regex '%s'",
                         paths.v[i], regex);
            break;
        }
        /* Group 1 when the pattern has one, else the whole match. */
        regmatch_t g = (re.re_nsub >= 1 && m[1].rm_so >= 0) ? m[1] : m[0];
        if (g.rm_eo <= g.rm_so) {
            rc = sg_fail(SG_E_INVALID, "%s: --label-regex '%s' captured an empty label",
                         paths.v[i], regex);
            break;
        }
        rc = strvec_push(&names, strndup(b + g.rm_so, (size_t)(g.rm_eo - g.rm_so)));
    }
    regfree(&re);
    if (rc == 0)
        rc = unique_sorted(&classes, names.v, names.n);
    if (rc == 0)
        rc = list_init(out, &paths);
    if (rc == 0) {
        for (size_t i = 0; i < out->n; i++)
            out->labels[i] = class_index(&classes, names.v[i]);
        list_set_classes(out, &classes);
    }
    strvec_free(&paths);
    strvec_free(&names);
    strvec_free(&classes);
    return rc;
}

int sg_image_folder_unlabeled(sg_image_list *out, const char *root)
{
    memset(out, 0, sizeof *out);
    strvec paths = {0};
    int rc = walk_images(&paths, root, 0);
    if (rc == 0)
        rc = list_init(out, &paths);
    strvec_free(&paths);
    return rc;
}

/* ---- manifest.csv ------------------------------------------------------ */

/* Splits one CSV record (RFC 4180 quoting, no embedded newlines) into
 * fields; fields point into line, which is modified in place.  Returns
 * the field count, or -1 with *bad_col set on a quoting error. */
static int csv_split(char *line, char **fields, int max_fields, int *bad_col)
{
    int n = 0;
    char *r = line, *w;
    for (;;) {
        if (n == max_fields)
            return n + 1;   /* too many: caller reports */
        fields[n++] = w = r;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0') {
                    *bad_col = (int)(r - line) + 1;
                    return -1;
                }
                if (*r == '"') {
                    if (r[1] == '"') {
                        *w++ = '"';
                        r += 2;
                        continue;
                    }
                    r++;
                    break;
                }
                *w++ = *r++;
            }
            if (*r != ',' && *r != '\0') {
                *bad_col = (int)(r - line) + 1;
                return -1;
            }
        } else {
            while (*r != ',' && *r != '\0')
                *w++ = *r++;
        }
        int end = (*r == '\0');
        r++;
        *w = '\0';
        if (end)
            return n;
    }
}

static int parse_int_field(const char *s, int *out)
{
    if (*s == '\0') {
        *out = -1;
        return 0;
    }
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < -1 || v > 1000000000L)
        return -1;
    *out = (int)v;
    return 0;
}

enum { MF_PATH, MF_LABEL, MF_SUBJECT, MF_SEGMENT, MF_SOURCE, MF_INDEX, MF_COLS, MAX_FIELDS = 64 };

typedef struct manifest_rows {
    strvec paths, labels, sources;
    int *subjects, *segments;
    size_t *rows;          /* stacked (index column): row of X.npy */
    size_t cap;
} manifest_rows;

static void manifest_rows_free(manifest_rows *m)
{
    strvec_free(&m->paths);
    strvec_free(&m->labels);
    strvec_free(&m->sources);
    free(m->subjects);
    free(m->segments);
    free(m->rows);
}

static int manifest_header(char *line, int *col, const char *file)
{
    char *fields[MAX_FIELDS];
    int bad = 0;
    int nf = csv_split(line, fields, MAX_FIELDS, &bad);
    if (nf < 0)
        return sg_fail(SG_E_PARSE, "%s:1:%d: unterminated quote in header", file, bad);
    static const char *const names[MF_COLS] = {"path",    "label",  "subject",
                                               "segment", "source", "index"};
    for (int c = 0; c < MF_COLS; c++)
        col[c] = -1;
    for (int f = 0; f < nf && f < MAX_FIELDS; f++)
        for (int c = 0; c < MF_COLS; c++)
            if (strcmp(fields[f], names[c]) == 0)
                col[c] = f;
    /* index instead of path: a stacked folder (encode --stack), rows of X.npy */
    if ((col[MF_PATH] < 0 && col[MF_INDEX] < 0) || col[MF_LABEL] < 0)
        return sg_fail(SG_E_PARSE,
                       "%s:1:1: header must name the columns path (or index, for a stacked "
                       "X.npy) and label",
                       file);
    if (col[MF_PATH] >= 0)
        col[MF_INDEX] = -1;
    return SG_OK;
}

static int manifest_row(manifest_rows *m, char *line, const int *col, const char *root,
                        const char *file, long lineno)
{
    char *fields[MAX_FIELDS];
    int bad = 0;
    int nf = csv_split(line, fields, MAX_FIELDS, &bad);
    if (nf < 0)
        return sg_fail(SG_E_PARSE, "%s:%ld:%d: unterminated quoted field", file, lineno, bad);
    for (int c = 0; c < MF_COLS; c++)
        if (col[c] >= nf)
            return sg_fail(SG_E_PARSE, "%s:%ld:%zu: expected at least %d fields, found %d", file,
                           lineno, strlen(line) + 1, col[c] + 1, nf);
    int stacked = col[MF_INDEX] >= 0;
    const char *path = stacked ? SG_STACK_FILE : fields[col[MF_PATH]];
    const char *label = fields[col[MF_LABEL]];
    if (*path == '\0' || *label == '\0')
        return sg_fail(SG_E_PARSE, "%s:%ld:1: empty path or label", file, lineno);
    long long row = -1;
    if (stacked) {
        const char *f = fields[col[MF_INDEX]];
        char *end;
        errno = 0;
        row = strtoll(f, &end, 10);
        if (*f == '\0' || *end != '\0' || errno || row < 0)
            return sg_fail(SG_E_PARSE, "%s:%ld:%ld: index '%s' is not a row number", file,
                           lineno, (long)(f - line) + 1, f);
    }
    if (m->paths.n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 256;
        int *s = realloc(m->subjects, cap * sizeof(int));
        if (!s)
            return sg_fail(SG_E_NOMEM, "out of memory");
        m->subjects = s;
        int *g = realloc(m->segments, cap * sizeof(int));
        if (!g)
            return sg_fail(SG_E_NOMEM, "out of memory");
        m->segments = g;
        size_t *r = realloc(m->rows, cap * sizeof(size_t));
        if (!r)
            return sg_fail(SG_E_NOMEM, "out of memory");
        m->rows = r;
        m->cap = cap;
    }
    size_t i = m->paths.n;
    int ints[2] = {-1, -1};
    const int which[2] = {MF_SUBJECT, MF_SEGMENT};
    for (int k = 0; k < 2; k++)
        if (col[which[k]] >= 0 && parse_int_field(fields[col[which[k]]], &ints[k]) < 0) {
            long column = (long)(fields[col[which[k]]] - line) + 1;
            return sg_fail(SG_E_PARSE, "%s:%ld:%ld: '%s' is not an integer id", file, lineno,
                           column, fields[col[which[k]]]);
        }
    m->subjects[i] = ints[0];
    m->segments[i] = ints[1];
    m->rows[i] = stacked ? (size_t)row : SIZE_MAX;
    int rc = strvec_push(&m->paths, path[0] == '/' ? strdup(path) : join_path(root, path));
    if (rc == 0)
        rc = strvec_push(&m->labels, strdup(label));
    if (rc == 0)
        rc = strvec_push(&m->sources, strdup(col[MF_SOURCE] >= 0 ? fields[col[MF_SOURCE]] : ""));
    return rc;
}

int sg_image_folder_manifest(sg_image_list *out, const char *root)
{
    memset(out, 0, sizeof *out);
    char *file = join_path(root, "manifest.csv");
    if (!file)
        return sg_fail(SG_E_NOMEM, "out of memory");
    FILE *fp = fopen(file, "r");
    if (!fp) {
        int rc = sg_fail(SG_E_IO, "%s: cannot open: %s", file, strerror(errno));
        free(file);
        return rc;
    }
    manifest_rows m;
    memset(&m, 0, sizeof m);
    strvec classes = {0};
    char *line = NULL;
    size_t linecap = 0;
    long lineno = 0;
    int col[MF_COLS];
    int rc = SG_OK, have_header = 0;
    ssize_t len;
    while (rc == 0 && (len = getline(&line, &linecap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;   /* blank lines (e.g. a trailing one) are harmless */
        if (!have_header) {
            rc = manifest_header(line, col, file);
            have_header = 1;
        } else {
            rc = manifest_row(&m, line, col, root, file, lineno);
        }
    }
    if (rc == 0 && ferror(fp))
        rc = sg_fail(SG_E_IO, "%s: read error", file);
    if (rc == 0 && !have_header)
        rc = sg_fail(SG_E_PARSE, "%s:1:1: empty manifest (no header)", file);
    fclose(fp);
    free(line);
    if (rc == 0)
        rc = unique_sorted(&classes, m.labels.v, m.labels.n);
    if (rc == 0)
        rc = list_init(out, &m.paths);
    if (rc == 0) {
        for (size_t i = 0; i < out->n; i++) {
            out->labels[i] = class_index(&classes, m.labels.v[i]);
            out->subjects[i] = m.subjects[i];
            out->segments[i] = m.segments[i];
            out->sources[i] = m.sources.v[i];
            m.sources.v[i] = NULL;
        }
        if (out->n && col[MF_INDEX] >= 0) {
            out->rows = m.rows;
            m.rows = NULL;
        }
        list_set_classes(out, &classes);
    }
    strvec_free(&classes);
    manifest_rows_free(&m);
    free(file);
    return rc;
}

int sg_image_folder_open(sg_image_list *out, const char *root, const char *label_regex)
{
    memset(out, 0, sizeof *out);
    if (!sg_is_dir(root))
        return sg_fail(SG_E_IO, "%s: not a folder", root);
    char *manifest = join_path(root, "manifest.csv");
    char *train = join_path(root, "train");
    if (!manifest || !train) {
        free(manifest);
        free(train);
        return sg_fail(SG_E_NOMEM, "out of memory");
    }
    struct stat st;
    int has_manifest = stat(manifest, &st) == 0 && S_ISREG(st.st_mode);
    int has_split = sg_is_dir(train) && valid_dir_name(root) != NULL;
    free(manifest);
    free(train);
    if (has_manifest)
        return sg_image_folder_manifest(out, root);
    if (has_split)
        return sg_image_folder_train_valid(out, root);
    if (label_regex)
        return sg_image_folder_regex(out, root, label_regex);
    return sg_image_folder_classes(out, root);
}

int sg_image_list_check_trainable(const sg_image_list *l, const char *root)
{
    if (l->n == 0)
        return sg_fail(SG_E_INVALID, "%s: dataset is empty (no PNG or JPEG files found)", root);
    size_t n_labels = (size_t)(l->n_classes > 0 ? l->n_classes : 0);
    unsigned char *seen = calloc(n_labels ? n_labels : 1, 1);
    if (!seen)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int distinct = 0;
    for (size_t i = 0; i < l->n; i++) {
        int y = l->labels[i];
        if (y < 0 || y >= l->n_classes) {
            free(seen);
            return sg_fail(SG_E_INVALID, "%s: unlabelled file, cannot train on it", l->paths[i]);
        }
        if (!seen[y]) {
            seen[y] = 1;
            distinct++;
        }
    }
    free(seen);
    if (distinct < 2)
        return sg_fail(SG_E_INVALID, "%s: only one class (%s) found; training needs at least two",
                       root, l->class_names[l->labels[0]]);
    return SG_OK;
}

int sg_image_list_sample(void *ctx, size_t index, int train, uint64_t aug_seed, sg_image *out,
                        int *label)
{
    (void)train; /* photos are augmented later, by the transform (transform.h) */
    (void)aug_seed;
    const sg_image_list *l = ctx;
    if (index >= l->n)
        return sg_fail(SG_E_INVALID, "sample index %zu out of range (n = %zu)", index, l->n);
    *label = l->labels[index];
    return sg_image_read(l->paths[index], out);
}

const char *sg_image_list_name(void *ctx, size_t index)
{
    const sg_image_list *l = ctx;
    return index < l->n ? l->paths[index] : NULL;
}
