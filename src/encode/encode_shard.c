/* encode_shard.c - manifest parts and their merge (encode_shard.h). */
#include "src/encode/encode_shard.h"

#include "src/base/atomic_file.h"
#include "src/base/file_read.h"
#include "src/base/csv_table.h"
#include "src/base/sg_error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PART_MAGIC "sensorgram-manifest-part"
#define MANIFEST_HEADER "path,label,subject,segment,source\n"

int encode_shard_parse(const char *arg, int *i, int *n)
{
    char *end;
    errno = 0;
    long a = strtol(arg, &end, 10);
    if (errno || end == arg || *end != '/')
        return sg_fail(SG_E_INVALID, "--shard: expected I/N (e.g. 0/4), got '%s'", arg);
    const char *q = end + 1;
    long b = strtol(q, &end, 10);
    if (errno || end == q || *end != '\0' || b < 1 || b > 100000 || a < 0 || a >= b)
        return sg_fail(SG_E_INVALID, "--shard: expected I/N with 0 <= I < N, got '%s'", arg);
    *i = (int)a;
    *n = (int)b;
    return SG_OK;
}

void encode_csv_field(FILE *f, const char *s, int last)
{
    sg_csv_write_field(f, s);
    fputc(last ? '\n' : ',', f);
}

uint64_t encode_fingerprint(const char *const *sources, size_t n, const int *ints, int n_ints)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        for (const unsigned char *p = (const unsigned char *)sources[i]; *p; p++) {
            h ^= *p;
            h *= 1099511628211ull;
        }
        h ^= 0xff; /* separator: "ab","c" != "a","bc" */
        h *= 1099511628211ull;
    }
    for (int i = 0; i < n_ints; i++) {
        uint32_t v = (uint32_t)ints[i];
        for (int b = 0; b < 4; b++) {
            h ^= (v >> (8 * b)) & 0xff;
            h *= 1099511628211ull;
        }
    }
    return h;
}

static void part_path(char *buf, size_t size, const char *outdir, int i, int n)
{
    snprintf(buf, size, "%s/manifest.part-%d-of-%d.csv", outdir, i, n);
}

int encode_part_write(const char *outdir, int i, int n, size_t total, uint64_t fingerprint,
                      const encode_part_row *rows, size_t n_rows)
{
    char path[4096];
    part_path(path, sizeof path, outdir, i, n);
    sg_atomic_file af;
    int rc = sg_atomic_open(&af, path);
    if (rc)
        return rc;
    fprintf(af.fp, PART_MAGIC ",%d,%d,%zu,%016llx\n", i, n, total,
            (unsigned long long)fingerprint);
    fprintf(af.fp, "index," MANIFEST_HEADER);
    for (size_t r = 0; r < n_rows; r++) {
        fprintf(af.fp, "%zu,", rows[r].index);
        encode_csv_field(af.fp, rows[r].path, 0);
        encode_csv_field(af.fp, rows[r].label, 0);
        encode_csv_field(af.fp, rows[r].subject, 0);
        encode_csv_field(af.fp, rows[r].segment, 0);
        encode_csv_field(af.fp, rows[r].source, 1);
    }
    return sg_atomic_commit(&af);
}

/* One parsed part: its rows as (index, verbatim record text). */
typedef struct part_row {
    size_t index;
    const char *text; /* the manifest record, through its '\n' */
    size_t len;
    const char *part;
    int line;
} part_row;

typedef struct part_file {
    char *buf;
    size_t size;
    int i, n;
    size_t total;
    unsigned long long fp;
} part_file;

/* End of the CSV record starting at p (just past its newline). */
static const char *record_end(const char *p, const char *end)
{
    int quoted = 0;
    for (; p < end; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\n' && !quoted)
            return p + 1;
    }
    return NULL;
}

/* The first field of a manifest record (the image path), unquoted. */
static int record_path(char *out, size_t size, const char *rec, size_t len)
{
    size_t k = 0;
    if (len && rec[0] == '"') {
        for (size_t j = 1; j < len; j++) {
            if (rec[j] == '"') {
                if (j + 1 < len && rec[j + 1] == '"')
                    j++;
                else
                    break;
            }
            if (k + 1 >= size)
                return -1;
            out[k++] = rec[j];
        }
    } else {
        for (size_t j = 0; j < len && rec[j] != ',' && rec[j] != '\n'; j++) {
            if (k + 1 >= size)
                return -1;
            out[k++] = rec[j];
        }
    }
    out[k] = '\0';
    return 0;
}

static int parse_part(part_file *pf, part_row **rows, size_t *n_rows, size_t *cap,
                      const char *path)
{
    int rc = sg_file_read(path, &pf->buf, &pf->size);
    if (rc)
        return rc;
    const char *p = pf->buf, *end = pf->buf + pf->size;
    const char *nl = memchr(p, '\n', pf->size);
    if (!nl || sscanf(p, PART_MAGIC ",%d,%d,%zu,%llx", &pf->i, &pf->n, &pf->total, &pf->fp) != 4)
        return sg_fail(SG_E_CORRUPT, "%s:1: not a manifest part (expected '" PART_MAGIC
                       ",I,N,TOTAL,FINGERPRINT')", path);
    p = nl + 1;
    size_t hl = strlen("index," MANIFEST_HEADER);
    if ((size_t)(end - p) < hl || memcmp(p, "index," MANIFEST_HEADER, hl) != 0)
        return sg_fail(SG_E_CORRUPT, "%s:2: expected the header 'index,%.*s'", path,
                       (int)strlen(MANIFEST_HEADER) - 1, MANIFEST_HEADER);
    p += hl;
    int line = 3;
    while (p < end) {
        char *num_end;
        errno = 0;
        unsigned long long idx = strtoull(p, &num_end, 10);
        if (errno || num_end == p || *num_end != ',' || idx >= pf->total)
            return sg_fail(SG_E_CORRUPT, "%s:%d:1: expected a segment index below %zu", path,
                           line, pf->total);
        const char *rec = num_end + 1;
        const char *re = record_end(rec, end);
        if (!re)
            return sg_fail(SG_E_CORRUPT, "%s:%d: the last row is cut off", path, line);
        if (*n_rows == *cap) {
            size_t nc = *cap ? *cap * 2 : 1024;
            part_row *nr = realloc(*rows, nc * sizeof *nr);
            if (!nr)
                return sg_fail(SG_E_NOMEM, "out of memory");
            *rows = nr;
            *cap = nc;
        }
        (*rows)[(*n_rows)++] = (part_row){(size_t)idx, rec, (size_t)(re - rec), path, line};
        for (const char *q = p; q < re; q++)
            line += *q == '\n';
        p = re;
    }
    return SG_OK;
}

static int by_index(const void *a, const void *b)
{
    size_t x = ((const part_row *)a)->index, y = ((const part_row *)b)->index;
    return (x > y) - (x < y);
}

int encode_merge(const char *out, char *const *parts, int n_parts, size_t *n_written)
{
    *n_written = 0;
    if (n_parts < 1)
        return sg_fail(SG_E_INVALID, "--merge: no PART files given");
    part_file *pf = calloc((size_t)n_parts, sizeof *pf);
    part_row *rows = NULL;
    size_t n_rows = 0, cap = 0;
    int rc = pf ? SG_OK : sg_fail(SG_E_NOMEM, "out of memory");
    for (int k = 0; rc == SG_OK && k < n_parts; k++)
        rc = parse_part(&pf[k], &rows, &n_rows, &cap, parts[k]);
    /* One job: the same N, TOTAL and fingerprint; shards 0..N-1 once. */
    int *seen = NULL;
    if (rc == SG_OK) {
        if (pf[0].n != n_parts)
            rc = sg_fail(SG_E_INVALID, "%s: part of %d shards, but %d parts were given",
                         parts[0], pf[0].n, n_parts);
        seen = calloc((size_t)pf[0].n, sizeof *seen);
        if (rc == SG_OK && !seen)
            rc = sg_fail(SG_E_NOMEM, "out of memory");
    }
    for (int k = 0; rc == SG_OK && k < n_parts; k++) {
        if (pf[k].n != pf[0].n || pf[k].total != pf[0].total || pf[k].fp != pf[0].fp)
            rc = sg_fail(SG_E_INVALID,
                         "%s: shard %d/%d of another job than %s (inputs or encoder differ)",
                         parts[k], pf[k].i, pf[k].n, parts[0]);
        else if (seen[pf[k].i]++)
            rc = sg_fail(SG_E_INVALID, "%s: shard %d/%d given twice", parts[k], pf[k].i,
                         pf[k].n);
    }
    if (rc == SG_OK) {
        qsort(rows, n_rows, sizeof *rows, by_index);
        for (size_t r = 1; rc == SG_OK && r < n_rows; r++)
            if (rows[r].index == rows[r - 1].index)
                rc = sg_fail(SG_E_INVALID, "%s:%d: segment %zu is also in %s:%d", rows[r].part,
                             rows[r].line, rows[r].index, rows[r - 1].part, rows[r - 1].line);
    }
    /* Every image the manifest will name must be there. */
    for (size_t r = 0; rc == SG_OK && r < n_rows; r++) {
        char rel[4096], full[8300];
        struct stat st;
        if (record_path(rel, sizeof rel, rows[r].text, rows[r].len) != 0)
            rc = sg_fail(SG_E_INVALID, "%s:%d: image path too long", rows[r].part, rows[r].line);
        else if (snprintf(full, sizeof full, "%s/%s", out, rel) >= (int)sizeof full ||
                 stat(full, &st) != 0)
            rc = sg_fail(SG_E_INVALID, "%s:%d: image %s is not under %s", rows[r].part,
                         rows[r].line, rel, out);
    }
    if (rc == SG_OK) {
        char path[4096];
        snprintf(path, sizeof path, "%s/manifest.csv", out);
        sg_atomic_file af;
        rc = sg_atomic_open(&af, path);
        if (rc == SG_OK) {
            fputs(MANIFEST_HEADER, af.fp);
            for (size_t r = 0; r < n_rows; r++)
                fwrite(rows[r].text, 1, rows[r].len, af.fp);
            rc = sg_atomic_commit(&af);
        }
    }
    if (rc == SG_OK)
        *n_written = n_rows;
    free(seen);
    free(rows);
    for (int k = 0; pf && k < n_parts; k++)
        free(pf[k].buf);
    free(pf);
    return rc;
}

int encode_merge_if_complete(const char *outdir, int n, uint64_t fingerprint, int *merged)
{
    *merged = 0;
    char **paths = calloc((size_t)n, sizeof *paths);
    if (!paths)
        return sg_fail(SG_E_NOMEM, "out of memory");
    int all = 1, rc = SG_OK;
    for (int i = 0; i < n && all; i++) {
        char p[4096];
        part_path(p, sizeof p, outdir, i, n);
        FILE *f = fopen(p, "rb");
        if (!f) {
            all = 0;
            break;
        }
        /* Only parts of this job (a stale part of another is left alone). */
        char line[256] = "";
        int pi, pn;
        size_t total;
        unsigned long long fp = 0;
        if (!fgets(line, sizeof line, f) ||
            sscanf(line, PART_MAGIC ",%d,%d,%zu,%llx", &pi, &pn, &total, &fp) != 4 ||
            fp != fingerprint)
            all = 0;
        fclose(f);
        paths[i] = strdup(p);
        if (!paths[i])
            rc = sg_fail(SG_E_NOMEM, "out of memory"), all = 0;
    }
    size_t rows = 0;
    if (rc == SG_OK && all) {
        rc = encode_merge(outdir, paths, n, &rows);
        *merged = rc == SG_OK;
    }
    for (int i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return rc;
}
