/* cli_weights.c - `sensorgram weights import|inspect|fetch|path`.
 *
 *   weights import FILE.pth -o OUT.safetensors [--key NAME]
 *   weights inspect FILE [--key NAME]       tensors and the architecture they fit
 *   weights fetch NAME [--dir D]            torchvision's ImageNet weights
 *   weights path NAME|PATH                  where --pretrained looks
 *
 * The work is in models/ (pth_read.c, weights.c, weights_fetch.c); this
 * file only parses arguments and prints.
 */
#include "src/cli/cli_registry.h"
#include "src/cli/commands.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "models/safetensors.h"
#include "models/sg_model.h"
#include "src/base/progress.h"
#include "src/base/sg_error.h"
#include "models/weights.h"
#include "models/weights_fetch.h"

static const char weights_usage[] =
    "sensorgram weights import FILE.pth -o OUT.safetensors [--key NAME]\n"
    "       sensorgram weights inspect FILE [--key NAME]\n"
    "       sensorgram weights fetch NAME [--dir D]\n"
    "       sensorgram weights path NAME|PATH\n"
    "\n"
    "import  converts a PyTorch .pth (torch.save, zip or legacy format: torchvision's\n"
    "        files or a checkpoint of your own) into safetensors.  The pickle inside\n"
    "        is read by an allowlisting interpreter: no code in the file ever runs.\n"
    "        A checkpoint's state dict is found under state_dict, model,\n"
    "        model_state_dict or net (or --key NAME); DataParallel's 'module.' prefix\n"
    "        is removed.  --pretrained FILE.pth also loads a .pth directly.\n"
    "inspect lists a .pth or .safetensors file's tensors (name, dtype, shape), its\n"
    "        metadata and the architecture they fit.\n"
    "fetch   downloads torchvision's ImageNet weights for NAME (resnet18, resnet34,\n"
    "        resnet50, resnet50-v2) from download.pytorch.org, checks the pinned\n"
    "        SHA-256 while it streams, converts and validates them and installs\n"
    "        ${XDG_DATA_HOME:-~/.local/share}/sensorgram/weights/NAME.safetensors,\n"
    "        where --pretrained NAME finds them.  Honours https_proxy/http_proxy.\n"
    "path    prints the file --pretrained NAME|PATH resolves to.";

/* Parses the registry's weights options around one positional argument;
 * `takes` lists those this sub-command reads ("key out"). */
static int parse(int argc, char **argv, const char *takes, cli_weights_req *w, const char **arg)
{
    cli_given given = {0};
    int first = 1, rc = cli_req_init(CLI_WEIGHTS, w);
    if (rc == SG_OK)
        rc = cli_args_parse(CLI_WEIGHTS, w, &given, argc, argv, weights_usage, &first);
    if (rc == 1)
        return 1;
    for (const char *const *o = (const char *const[]){"key", "out", "dir", NULL}; !rc && *o; o++)
        if (cli_given_has(&given, *o) && !strstr(takes, *o))
            rc = sg_fail(SG_E_INVALID, "--%s does not apply to weights %s", *o, argv[0]);
    if (rc) {
        fprintf(stderr, "sensorgram weights %s: %s (see --help)\n", argv[0], sg_last_error());
        return 2;
    }
    if (first != argc - 1) {
        fprintf(stderr, "sensorgram weights %s: give exactly one %s (see --help)\n", argv[0],
                strcmp(argv[0], "fetch") == 0 ? "NAME" : "FILE");
        return 2;
    }
    *arg = argv[first];
    return 0;
}

static int exit_code(int rc)
{
    return rc == SG_E_INVALID ? 2 : 1;
}

/* The download's bar, made when the size is known, on a terminal only. */
typedef struct fetch_bar {
    sg_progress *bar;
    uint64_t shown;
    int tty;
} fetch_bar;

static void fetch_progress(void *ctx, uint64_t done, uint64_t total)
{
    fetch_bar *b = ctx;
    if (!b->tty || total == 0)
        return;
    if (!b->bar && sg_progress_create(&b->bar, stderr, "download", (size_t)(total >> 10), 1) != 0)
        return;
    if (done > b->shown && b->bar) {
        sg_progress_add(b->bar, (size_t)((done >> 10) - (b->shown >> 10)));
        b->shown = done;
    }
}

static int weights_fetch(int argc, char **argv)
{
    cli_weights_req w;
    const char *name = NULL;
    int p = parse(argc, argv, "dir", &w, &name);
    if (p)
        return p == 1 ? 0 : p;
    const sg_weights_source *src = sg_weights_source_find(name);
    if (src)
        fprintf(stderr, "sensorgram weights fetch: downloading %s\n", src->url);
    char path[4096];
    fetch_bar bar = {.tty = !w.quiet && isatty(fileno(stderr))};
    int rc = sg_weights_fetch(name, w.dir, path, sizeof path, fetch_progress, &bar);
    sg_progress_free(bar.bar);
    if (rc != 0) {
        fprintf(stderr, "sensorgram weights fetch: %s\n", sg_last_error());
        return exit_code(rc);
    }
    printf("%s\n", path);
    return 0;
}

static int weights_import(int argc, char **argv)
{
    cli_weights_req w;
    const char *src = NULL;
    int p = parse(argc, argv, "key out", &w, &src);
    if (p)
        return p == 1 ? 0 : p;
    if (!w.out) {
        fprintf(stderr, "sensorgram weights import: -o OUT.safetensors is required\n");
        return 2;
    }
    int rc = sg_weights_import(src, w.key, w.out, NULL);
    if (rc != 0) {
        fprintf(stderr, "sensorgram weights import: %s\n", sg_last_error());
        return exit_code(rc);
    }
    printf("%s\n", w.out);
    return 0;
}

static int weights_inspect(int argc, char **argv)
{
    cli_weights_req w;
    const char *path = NULL;
    int p = parse(argc, argv, "key", &w, &path);
    if (p)
        return p == 1 ? 0 : p;
    sg_st_file f;
    int rc = sg_weights_open(&f, path, w.key);
    if (rc != 0) {
        fprintf(stderr, "sensorgram weights inspect: %s\n", sg_last_error());
        return exit_code(rc);
    }
    size_t total = 0;
    for (size_t i = 0; i < f.n_tensors; i++)
        total += f.tensors[i].numel;
    printf("%s: %zu tensors, %zu values\n", path, f.n_tensors, total);
    for (size_t i = 0; i < f.n_meta; i++)
        printf("metadata %s = %s\n", f.meta_keys[i], f.meta_values[i]);
    for (size_t i = 0; i < f.n_tensors; i++) {
        const sg_st_tensor *t = &f.tensors[i];
        printf("%-40s %-4s [", t->name, sg_st_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++)
            printf("%s%lld", d ? ", " : "", (long long)t->shape[d]);
        printf("]\n");
    }
    sg_arch arch;
    int classes = 0, in_ch = 0;
    if (sg_weights_fit(&f, &arch, &classes, &in_ch) == 0)
        printf("architecture: %s (%d classes, %d input channels)\n", sg_arch_name(arch), classes, in_ch);
    else
        printf("architecture: none known (%s)\n", sg_last_error());
    sg_st_close(&f);
    return 0;
}

int cmd_weights(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        cli_help_print(argc < 2 ? stderr : stdout, CLI_WEIGHTS, weights_usage);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "fetch") == 0)
        return weights_fetch(argc - 1, argv + 1);
    if (strcmp(argv[1], "import") == 0)
        return weights_import(argc - 1, argv + 1);
    if (strcmp(argv[1], "inspect") == 0 || strcmp(argv[1], "info") == 0)
        return weights_inspect(argc - 1, argv + 1);
    if (strcmp(argv[1], "path") == 0 && argc == 3) {
        char path[4096];
        if (sg_weights_resolve(path, sizeof path, argv[2]) != 0) {
            fprintf(stderr, "sensorgram weights path: %s\n", sg_last_error());
            return 1;
        }
        printf("%s\n", path);
        return 0;
    }
    fprintf(stderr, "sensorgram weights: unknown sub-command or arguments (see --help)\n");
    return 2;
}
