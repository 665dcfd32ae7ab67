/* weights_fetch.c - `sensorgram weights fetch`: download, hash, validate.
 *
 * curl runs as a child process (posix_spawnp, argv only: no shell) that
 * writes the body to a pipe; we hash every byte with nettle's SHA-256 as
 * we copy it into an atomic temporary file, and commit only when the
 * hash matches and the file loads as the architecture's weights.  It
 * deliberately has no resume, mirrors or proxies of its own (curl honours
 * the usual https_proxy variables).
 */
#include "models/weights_fetch.h"

#include <ctype.h>
#include <errno.h>
#include <nettle/sha2.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/base/atomic_file.h"
#include "models/safetensors.h"
#include "src/base/sg_error.h"
#include "models/sg_model.h"
#include "models/weights.h"

extern char **environ;

/* Hashes from the "Git LFS Details" of each file's Hugging Face page.
 * resnet34's could not be confirmed when this was written: pass
 * --sha256 HEX copied from its page (printed in the error). */
static const sg_weights_source sources[] = {
    {"resnet18", "https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors",
     "694f673df6520a3158624e8a89af086f59923ee4cd7436fe5bc3bc71d295ad81",
     "https://huggingface.co/timm/resnet18.tv_in1k/blob/main/model.safetensors"},
    {"resnet34", "https://huggingface.co/timm/resnet34.tv_in1k/resolve/main/model.safetensors", NULL,
     "https://huggingface.co/timm/resnet34.tv_in1k/blob/main/model.safetensors"},
    {"resnet50", "https://huggingface.co/timm/resnet50.tv_in1k/resolve/main/model.safetensors",
     "5d061a3c593d795bfe682d9b152bafbcf550579873492def3515b46db1189888",
     "https://huggingface.co/timm/resnet50.tv_in1k/blob/main/model.safetensors"},
};

const sg_weights_source *sg_weights_source_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof sources / sizeof sources[0]; i++)
        if (strcmp(sources[i].name, name) == 0)
            return &sources[i];
    return NULL;
}

static void hex_digest(struct sha256_ctx *ctx, char hex[65])
{
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

int sg_sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return sg_fail(SG_E_IO, "%s: cannot open: %s", path, strerror(errno));
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&ctx, n, buf);
    int bad = ferror(f);
    fclose(f);
    if (bad)
        return sg_fail(SG_E_IO, "%s: read error", path);
    hex_digest(&ctx, hex);
    return 0;
}

static int valid_hex(const char *s)
{
    if (!s || strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Streams curl's output for url into af, hashing it. */
static int download(const char *url, sg_atomic_file *af, char hex[65], size_t *bytes)
{
    int fds[2];
    if (pipe(fds) != 0)
        return sg_fail(SG_E_IO, "pipe: %s", strerror(errno));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    posix_spawn_file_actions_addclose(&fa, fds[1]);
    char *argv[] = {"curl", "-fsSL", "--retry", "3", "--connect-timeout", "30", (char *)url, NULL};
    pid_t pid;
    int err = posix_spawnp(&pid, "curl", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (err != 0) {
        close(fds[0]);
        return sg_fail(SG_E_IO, "cannot run curl (%s); install curl or download %s by hand", strerror(err),
                       url);
    }
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[1 << 16];
    ssize_t n;
    int rc = 0;
    *bytes = 0;
    while ((n = read(fds[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = sg_fail(SG_E_IO, "reading from curl: %s", strerror(errno));
            break;
        }
        sha256_update(&ctx, (size_t)n, buf);
        if (fwrite(buf, 1, (size_t)n, af->fp) != (size_t)n) {
            rc = sg_fail(SG_E_IO, "%s: write failed: %s", af->path, strerror(errno));
            break;
        }
        *bytes += (size_t)n;
    }
    close(fds[0]);
    if (rc != 0)
        kill(pid, SIGTERM);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (rc == 0 && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        rc = sg_fail(SG_E_IO, "download of %s failed (curl exit status %d; offline?)", url,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    if (rc == 0)
        hex_digest(&ctx, hex);
    return rc;
}

/* The downloaded file must be the architecture's torchvision weights. */
static int validate(const char *path, const char *name)
{
    int classes = 0, in_ch = 0;
    int rc = sg_weights_probe(path, &classes, &in_ch);
    if (rc != 0 || !sg_torch_available())
        return rc;
    sg_arch arch;
    if ((rc = sg_arch_parse(&arch, name)) != 0)
        return rc;
    sg_model_spec spec = {.arch = arch, .in_channels = in_ch, .n_classes = classes, .device = "cpu"};
    sg_model *m = NULL;
    if ((rc = sg_model_create(&m, &spec)) == 0)
        rc = sg_weights_load(m, path, NULL);
    sg_model_free(m);
    return rc;
}

int sg_weights_fetch(const char *name, const char *dir, const char *sha256, char *out, size_t size)
{
    const sg_weights_source *src = sg_weights_source_find(name);
    if (!src)
        return sg_fail(SG_E_INVALID, "no download known for '%s' (resnet18, resnet34, resnet50)",
                       name ? name : "(null)");
    const char *want = sha256 ? sha256 : src->sha256;
    if (!want)
        return sg_fail(SG_E_INVALID,
                       "no SHA-256 pinned for %s in this build: copy the SHA256 shown at %s and pass "
                       "--sha256 HEX", name, src->page);
    if (!valid_hex(want))
        return sg_fail(SG_E_INVALID, "--sha256 needs 64 hex digits");
    char dbuf[3072];
    int rc = 0;
    if (!dir) {
        if ((rc = sg_weights_dir(dbuf, sizeof dbuf)) != 0)
            return rc;
        dir = dbuf;
    }
    if ((rc = sg_mkdir_p(dir)) != 0)
        return rc;
    if ((size_t)snprintf(out, size, "%s/%s.safetensors", dir, name) >= size)
        return sg_fail(SG_E_INVALID, "weights path too long");
    sg_atomic_file af = {0};
    if ((rc = sg_atomic_open(&af, out)) != 0)
        return rc;
    /* a mirror (or a test's file:// URL); the hash check still applies */
    const char *url = getenv("SG_WEIGHTS_URL");
    if (!url || !*url)
        url = src->url;
    char got[65];
    size_t bytes = 0;
    rc = download(url, &af, got, &bytes);
    if (rc == 0 && strcasecmp(got, want) != 0)
        rc = sg_fail(SG_E_CORRUPT, "%s: SHA-256 mismatch: got %s, expected %s (%zu bytes); not installed",
                     url, got, want, bytes);
    if (rc == 0 && fflush(af.fp) != 0)
        rc = sg_fail(SG_E_IO, "%s: write failed: %s", af.tmp_path, strerror(errno));
    if (rc == 0)
        rc = validate(af.tmp_path, name);
    if (rc != 0) {
        sg_atomic_abort(&af);
        return rc;
    }
    return sg_atomic_commit(&af);
}
