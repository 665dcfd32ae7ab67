/* weights.c - load and save a model's weights as safetensors.
 *
 * Files are .safetensors or PyTorch .pth (models/pth_read.c, no pickle
 * code ever runs), told apart by their first bytes.
 *
 * Loading is two passes: first every expected tensor is matched against
 * the file (names, shapes, the stem and head exceptions) and every file
 * tensor against the network, so that a wrong file fails before the model
 * changes; then the values are converted and copied.  It does not guess
 * at other naming schemes (timm's non-torchvision nets, Keras): those
 * files are rejected by name.
 */
#include "models/weights.h"
#include "models/arch_guess.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/pth_read.h"
#include "models/weights_catalog.h"
#include "src/base/sg_error.h"

enum load_action { LOAD_COPY, LOAD_STEM, LOAD_SKIP };

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void shape_text(char *buf, size_t size, const int64_t *shape, int ndim)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%lld", d ? "," : "", (long long)shape[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

void sg_weights_adapt_stem_from(float *dst, const float *src, int out_ch, int src_ch, int in_ch,
                                int kh, int kw)
{
    size_t k = (size_t)kh * (size_t)kw;
    for (int o = 0; o < out_ch; o++) {
        const float *s = src + (size_t)o * (size_t)src_ch * k;
        float *d = dst + (size_t)o * (size_t)in_ch * k;
        if (in_ch == 1) {
            for (size_t j = 0; j < k; j++) {
                float sum = 0.0f;
                for (int c = 0; c < src_ch; c++)
                    sum += s[(size_t)c * k + j];
                d[j] = sum;
            }
            continue;
        }
        float scale = (float)src_ch / (float)in_ch;
        for (int c = 0; c < in_ch; c++)
            for (size_t j = 0; j < k; j++)
                d[(size_t)c * k + j] = s[(size_t)(c % src_ch) * k + j] * scale;
    }
}

void sg_weights_adapt_stem(float *dst, const float *rgb, int out_ch, int in_ch, int kh, int kw)
{
    sg_weights_adapt_stem_from(dst, rgb, out_ch, 3, in_ch, kh, kw);
}

/* A network tensor the file lacks: name the architecture it does hold. */
static int missing_tensor(const sg_st_file *f, const char *name)
{
    const char *held = sg_st_guess_resnet(f);
    if (held)
        return sg_fail(SG_E_CORRUPT,
                       "%s: tensor '%s' is missing: the file holds %s weights (pass --arch %s)",
                       f->path, name, held, held);
    return sg_fail(SG_E_CORRUPT, "%s: tensor '%s' is missing (not torchvision-named weights?)",
                   f->path, name);
}

/* Decides what to do with each model tensor; no model tensor changes. */
static int plan_load(const sg_model *m, const sg_st_file *f, enum load_action *plan,
                     const sg_st_tensor **src, sg_weights_report *rep)
{
    int count = 0, rc = sg_model_tensor_count(m, &count);
    if (rc != 0)
        return rc;
    int64_t fc_shape[4] = {0};
    for (int i = 0; i < count; i++) {
        const char *name;
        int ndim, is_int;
        int64_t shape[4];
        if ((rc = sg_model_tensor_info(m, i, &name, &ndim, shape, &is_int)) != 0)
            return rc;
        if (strcmp(name, "fc.weight") == 0)
            memcpy(fc_shape, shape, sizeof fc_shape);
        const sg_st_tensor *t = sg_st_find(f, name);
        src[i] = t;
        plan[i] = LOAD_COPY;
        if (!t) {
            if (ends_with(name, ".num_batches_tracked")) {
                plan[i] = LOAD_SKIP;
                rep->missing_bn_counters = 1;
                continue;
            }
            return missing_tensor(f, name);
        }
        char want[96], got[96];
        shape_text(want, sizeof want, shape, ndim);
        shape_text(got, sizeof got, t->shape, t->ndim);
        int same = t->ndim == ndim;
        for (int d = 0; same && d < ndim; d++)
            same = t->shape[d] == shape[d];
        if (same)
            continue;
        if (strcmp(name, "conv1.weight") == 0 && t->ndim == 4 && t->shape[0] == shape[0] &&
            (t->shape[1] == 3 || shape[1] == 1 || t->shape[1] <= shape[1]) &&
            t->shape[2] == shape[2] && t->shape[3] == shape[3]) {
            /* ImageNet's 3 colours, or another pretraining's channels
             * (sensorgram pretrain on a different stack) summed into one
             * or repeated over more; never fewer (> 1), which would drop
             * some of the file's channels */
            plan[i] = LOAD_STEM;
            rep->stem_adapted = 1;
            rep->file_in_channels = (int)t->shape[1];
            continue;
        }
        if ((strcmp(name, "fc.weight") == 0 && t->ndim == 2 && t->shape[1] == shape[1]) ||
            (strcmp(name, "fc.bias") == 0 && t->ndim == 1)) {
            plan[i] = LOAD_SKIP;
            rep->head_replaced = 1;
            rep->file_classes = (int)t->shape[0];
            continue;
        }
        const char *held = sg_st_guess_resnet(f);
        if (held)
            return sg_fail(SG_E_SHAPE, "%s: tensor '%s': shape %s expected %s: the file holds %s "
                                       "weights (pass --arch %s)",
                           f->path, name, got, want, held, held);
        return sg_fail(SG_E_SHAPE, "%s: tensor '%s': shape %s expected %s", f->path, name, got, want);
    }
    /* a head replaced by halves (only fc.weight or only fc.bias) is not coherent */
    if (rep->head_replaced) {
        for (int i = 0; i < count; i++) {
            const char *name;
            sg_model_tensor_info(m, i, &name, NULL, NULL, NULL);
            if (strncmp(name, "fc.", 3) == 0 && plan[i] != LOAD_SKIP) {
                const sg_st_tensor *w = sg_st_find(f, "fc.weight");
                return sg_fail(SG_E_SHAPE, "%s: fc.weight and fc.bias disagree (%lld classes vs model %lld)",
                               f->path, w ? (long long)w->shape[0] : -1LL, (long long)fc_shape[0]);
            }
        }
    }
    for (size_t j = 0; j < f->n_tensors; j++) {
        int found = 0;
        for (int i = 0; i < count && !found; i++)
            found = src[i] == &f->tensors[j];
        if (!found)
            return sg_fail(SG_E_CORRUPT, "%s: unexpected tensor '%s' (wrong architecture?)", f->path,
                           f->tensors[j].name);
    }
    return 0;
}

int sg_weights_load_file(sg_model *m, const sg_st_file *f, sg_weights_report *rep)
{
    if (!m || !f)
        return sg_fail(SG_E_INVALID, "sg_weights_load_file: NULL argument");
    sg_weights_report local = {0};
    int count = 0, rc = sg_model_tensor_count(m, &count);
    if (rc != 0)
        return rc;
    enum load_action *plan = calloc((size_t)count, sizeof *plan);
    const sg_st_tensor **src = calloc((size_t)count, sizeof *src);
    float *buf = NULL, *adapted = NULL;
    if (!plan || !src) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    if ((rc = plan_load(m, f, plan, src, &local)) != 0)
        goto done;
    for (int i = 0; i < count && rc == 0; i++) {
        if (plan[i] == LOAD_SKIP)
            continue;
        const char *name;
        int ndim, is_int;
        int64_t shape[4];
        sg_model_tensor_info(m, i, &name, &ndim, shape, &is_int);
        const sg_st_tensor *t = src[i];
        free(buf);
        if (!(buf = malloc((t->numel ? t->numel : 1) * sizeof *buf))) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        if ((rc = sg_st_read_f32(f, t, buf)) != 0)
            break;
        if (plan[i] == LOAD_COPY) {
            rc = sg_model_tensor_set(m, name, buf, t->numel);
            continue;
        }
        size_t numel = (size_t)(shape[0] * shape[1] * shape[2] * shape[3]);
        free(adapted);
        if (!(adapted = malloc(numel * sizeof *adapted))) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        sg_weights_adapt_stem_from(adapted, buf, (int)shape[0], (int)t->shape[1], (int)shape[1],
                                   (int)shape[2], (int)shape[3]);
        rc = sg_model_tensor_set(m, name, adapted, numel);
    }
    if (rc == 0 && rep)
        *rep = local;
done:
    free(plan);
    free(src);
    free(buf);
    free(adapted);
    return rc;
}

int sg_weights_open(sg_st_file *f, const char *path, const char *key)
{
    if (!f || !path)
        return sg_fail(SG_E_INVALID, "sg_weights_open: NULL argument");
    memset(f, 0, sizeof *f);
    unsigned char head[16] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    if (sg_pth_sniff(head, got))
        return sg_pth_open(f, path, key);
    if (key)
        return sg_fail(SG_E_INVALID, "%s: --key applies to .pth checkpoints only", path);
    return sg_st_open(f, path);
}

int sg_weights_load(sg_model *m, const char *path, sg_weights_report *rep)
{
    sg_st_file f;
    int rc = sg_weights_open(&f, path, NULL);
    if (rc != 0)
        return rc;
    rc = sg_weights_load_file(m, &f, rep);
    sg_st_close(&f);
    return rc;
}

static int probe_file(const sg_st_file *f, int *n_classes, int *in_channels)
{
    const sg_st_tensor *fc = sg_st_find(f, "fc.weight"), *c1 = sg_st_find(f, "conv1.weight");
    if (!fc || fc->ndim != 2 || !c1 || c1->ndim != 4)
        return sg_fail(SG_E_CORRUPT, "%s: needs torchvision's fc.weight (2-D) and conv1.weight (4-D)", f->path);
    if (n_classes)
        *n_classes = (int)fc->shape[0];
    if (in_channels)
        *in_channels = (int)c1->shape[1];
    return 0;
}

int sg_weights_probe(const char *path, int *n_classes, int *in_channels)
{
    sg_st_file f;
    int rc = sg_weights_open(&f, path, NULL);
    if (rc != 0)
        return rc;
    rc = probe_file(&f, n_classes, in_channels);
    sg_st_close(&f);
    return rc;
}

int sg_weights_fit(const sg_st_file *f, sg_arch *arch, int *n_classes, int *in_channels)
{
    int classes = 0, in_ch = 0;
    int rc = probe_file(f, &classes, &in_ch);
    if (rc != 0)
        return sg_fail(SG_E_SHAPE, "%s: fits no known architecture (no torchvision fc.weight (2-D) and "
                       "conv1.weight (4-D))", f->path);
    if (!sg_torch_available())
        return sg_fail(SG_E_UNSUPPORTED, "checking an architecture needs libtorch (built with NO_TORCH)");
    char tried[512] = "";
    for (int a = SG_ARCH_RESNET18; a <= SG_ARCH_RESNET50; a++) {
        sg_model_spec spec = {.arch = (sg_arch)a, .in_channels = in_ch, .n_classes = classes,
                              .device = "cpu", .n_threads = 1};
        sg_model *m = NULL;
        if ((rc = sg_model_create(&m, &spec)) != 0)
            return rc;
        int count = 0;
        rc = sg_model_tensor_count(m, &count);
        enum load_action *plan = rc == 0 ? calloc((size_t)count, sizeof *plan) : NULL;
        const sg_st_tensor **src = rc == 0 ? calloc((size_t)count, sizeof *src) : NULL;
        sg_weights_report rep = {0};
        if (rc == 0 && (!plan || !src))
            rc = sg_fail(SG_E_NOMEM, "out of memory");
        if (rc == 0)
            rc = plan_load(m, f, plan, src, &rep);
        free(plan);
        free(src);
        sg_model_free(m);
        if (rc == 0) {
            *arch = (sg_arch)a;
            if (n_classes)
                *n_classes = classes;
            if (in_channels)
                *in_channels = in_ch;
            return 0;
        }
        size_t u = strlen(tried);
        snprintf(tried + u, sizeof tried - u, "%s%s: %s", u ? "; " : "", sg_arch_name((sg_arch)a),
                 sg_last_error());
    }
    return sg_fail(SG_E_SHAPE, "%s: fits no known architecture (%s)", f->path, tried);
}

int sg_weights_import(const char *src, const char *key, const char *dst, const char *source_label)
{
    sg_st_file f;
    int rc = sg_weights_open(&f, src, key);
    if (rc != 0)
        return rc;
    /* without libtorch (NO_TORCH) the architecture cannot be checked */
    sg_arch arch = SG_ARCH_RESNET18;
    int checked = sg_torch_available();
    if (checked && (rc = sg_weights_fit(&f, &arch, NULL, NULL)) != 0) {
        sg_st_close(&f);
        return rc;
    }
    sg_st_entry *entries = calloc(f.n_tensors ? f.n_tensors : 1, sizeof *entries);
    float **data = calloc(f.n_tensors ? f.n_tensors : 1, sizeof *data);
    if (!entries || !data)
        rc = sg_fail(SG_E_NOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < f.n_tensors; i++) {
        const sg_st_tensor *t = &f.tensors[i];
        sg_st_entry *e = &entries[i];
        e->name = t->name;
        e->ndim = t->ndim;
        memcpy(e->shape, t->shape, sizeof e->shape);
        e->as_int = t->dtype == SG_ST_I64;
        if (!(data[i] = malloc((t->numel ? t->numel : 1) * sizeof(float)))) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        rc = sg_st_read_f32(&f, t, data[i]);
        e->data = data[i];
    }
    const char *keys[3] = {"source", "source_format", "architecture"};
    const char *vals[3] = {source_label ? source_label : src, sg_st_meta(&f, "format") ? sg_st_meta(&f, "format") : "safetensors",
                           checked ? sg_arch_name(arch) : "unchecked"};
    if (rc == 0)
        rc = sg_st_write(dst, entries, f.n_tensors, keys, vals, 3);
    for (size_t i = 0; data && i < f.n_tensors; i++)
        free(data[i]);
    free(data);
    free(entries);
    sg_st_close(&f);
    return rc;
}

int sg_weights_save(const sg_model *m, const char *path, const char *const *keys,
                    const char *const *values, size_t n_meta)
{
    int count = 0, rc = sg_model_tensor_count(m, &count);
    if (rc != 0)
        return rc;
    sg_st_entry *entries = calloc((size_t)count, sizeof *entries);
    float **data = calloc((size_t)count, sizeof *data);
    if (!entries || !data) {
        rc = sg_fail(SG_E_NOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < count && rc == 0; i++) {
        sg_st_entry *e = &entries[i];
        int64_t shape[4];
        if ((rc = sg_model_tensor_info(m, i, &e->name, &e->ndim, shape, &e->as_int)) != 0)
            break;
        size_t numel = 1;
        for (int d = 0; d < e->ndim; d++)
            numel *= (size_t)(e->shape[d] = shape[d]);
        if (!(data[i] = malloc(numel * sizeof(float)))) {
            rc = sg_fail(SG_E_NOMEM, "out of memory");
            break;
        }
        rc = sg_model_tensor_get(m, e->name, data[i], numel);
        e->data = data[i];
    }
    if (rc == 0)
        rc = sg_st_write(path, entries, (size_t)count, keys, values, n_meta);
done:
    for (int i = 0; data && i < count; i++)
        free(data[i]);
    free(data);
    free(entries);
    return rc;
}

int sg_weights_dir(char *out, size_t size)
{
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, size, "%s/sensorgram/weights", xdg);
    else if (home && *home)
        n = snprintf(out, size, "%s/.local/share/sensorgram/weights", home);
    else
        return sg_fail(SG_E_INVALID, "neither XDG_DATA_HOME nor HOME is set: cannot locate the weights folder");
    if (n < 0 || (size_t)n >= size)
        return sg_fail(SG_E_INVALID, "weights folder path too long");
    return 0;
}

int sg_weights_resolve(char *out, size_t size, const char *name_or_path)
{
    if (!out || !name_or_path || !*name_or_path)
        return sg_fail(SG_E_INVALID, "--pretrained needs a NAME or a PATH");
    struct stat st;
    if (strchr(name_or_path, '/') || ends_with(name_or_path, ".safetensors") ||
        ends_with(name_or_path, ".pth") || ends_with(name_or_path, ".pt") || stat(name_or_path, &st) == 0) {
        if (stat(name_or_path, &st) != 0)
            return sg_fail(SG_E_IO, "%s: cannot open: %s", name_or_path, strerror(errno));
        if ((size_t)snprintf(out, size, "%s", name_or_path) >= size)
            return sg_fail(SG_E_INVALID, "path too long: %s", name_or_path);
        return 0;
    }
    sg_arch arch;
    if (!sg_weights_source_find(name_or_path) && sg_arch_parse(&arch, name_or_path) != 0)
        return sg_fail(SG_E_INVALID, "--pretrained '%s': neither a file nor a known name (resnet18, resnet34, "
                       "resnet50, resnet50-v2)", name_or_path);
    char dir[3072];
    int rc = sg_weights_dir(dir, sizeof dir);
    if (rc != 0)
        return rc;
    if ((size_t)snprintf(out, size, "%s/%s.safetensors", dir, name_or_path) >= size)
        return sg_fail(SG_E_INVALID, "path too long");
    if (stat(out, &st) != 0)
        return sg_fail(SG_E_IO, "pretrained weights '%s' not found at %s: run 'sensorgram weights fetch %s' "
                       "(needs internet) or pass a .safetensors or .pth path", name_or_path, out, name_or_path);
    return 0;
}
