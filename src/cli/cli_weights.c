/* cli_weights.c - `sensorgram weights fetch|info|path`.
 *
 *   weights fetch NAME [--dir D] [--sha256 HEX]   download ImageNet weights
 *   weights info FILE                             tensors, dtypes, shapes, metadata
 *   weights path NAME|PATH                        where --pretrained looks
 *
 * The work is in models/weights_fetch.c and models/safetensors.c; this
 * file only parses arguments and prints.
 */
#include "src/cli/commands.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "models/safetensors.h"
#include "src/base/sg_error.h"
#include "models/weights.h"
#include "models/weights_fetch.h"

static const char weights_usage[] =
    "usage: sensorgram weights fetch NAME [--dir D] [--sha256 HEX]\n"
    "       sensorgram weights info FILE.safetensors\n"
    "       sensorgram weights path NAME|PATH\n"
    "\n"
    "fetch   downloads torchvision's ImageNet weights for NAME (resnet18, resnet34,\n"
    "        resnet50) in safetensors form (timm/NAME.tv_in1k on Hugging Face; needs\n"
    "        internet and curl), checks SHA-256 and shapes, and stores them under\n"
    "        ${XDG_DATA_HOME:-~/.local/share}/sensorgram/weights/NAME.safetensors,\n"
    "        where --pretrained NAME finds them.  Offline: tools/convert_pth.py.\n"
    "info    lists a weights file's tensors (dtype, shape) and metadata.\n"
    "path    prints the file --pretrained NAME|PATH resolves to.\n";

static int weights_fetch(int argc, char **argv)
{
    static const struct option opts[] = {
        {"dir", required_argument, 0, 'd'},
        {"sha256", required_argument, 0, 's'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *dir = NULL, *sha = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            dir = optarg;
        else if (c == 's')
            sha = optarg;
        else if (c == 'h') {
            fputs(weights_usage, stdout);
            return 0;
        } else {
            fprintf(stderr, "sensorgram weights fetch: unknown option or missing value '%s'\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "sensorgram weights fetch: give exactly one NAME (resnet18, resnet34, resnet50)\n");
        return 2;
    }
    const char *name = argv[optind];
    const sg_weights_source *src = sg_weights_source_find(name);
    if (src && (sha || src->sha256))
        fprintf(stderr, "sensorgram weights fetch: downloading %s\n", src->url);
    char path[4096];
    int rc = sg_weights_fetch(name, dir, sha, path, sizeof path);
    if (rc != 0) {
        fprintf(stderr, "sensorgram weights fetch: %s\n", sg_last_error());
        return rc == SG_E_INVALID ? 2 : 1;
    }
    printf("%s\n", path);
    return 0;
}

static int weights_info(const char *path)
{
    sg_st_file f;
    int rc = sg_st_open(&f, path);
    if (rc != 0) {
        fprintf(stderr, "sensorgram weights info: %s\n", sg_last_error());
        return 1;
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
    sg_st_close(&f);
    return 0;
}

int cmd_weights(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(weights_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "fetch") == 0)
        return weights_fetch(argc - 1, argv + 1);
    if (strcmp(argv[1], "info") == 0 && argc == 3)
        return weights_info(argv[2]);
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
