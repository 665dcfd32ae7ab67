/* test_models_fetch.c - `weights fetch` offline, from a loopback server.
 *
 * A small HTTP server on 127.0.0.1 (a thread of this test) serves a
 * ResNet18 .pth written by torch.save; SG_TEST_WEIGHTS_URL and
 * SG_TEST_WEIGHTS_SHA256 point fetch at it.  The whole path runs: libcurl,
 * the streaming SHA-256, the .pth reader, the architecture check and the
 * atomic install.  The right hash installs weights equal to the .pth's; a
 * wrong hash, a server that closes mid-file, a 404, a refused connection
 * and a file of another architecture each fail with their message and
 * leave the folder empty.  Also the pinned table itself and the binary.
 */
#include "tests/sg_run.h"
#include "tests/sg_test_models.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "models/weights.h"
#include "models/weights_fetch.h"
#include "src/base/sg_error.h"

enum serve_mode { SERVE_FULL, SERVE_HALF, SERVE_404 };

typedef struct server {
    int fd, port;
    unsigned char *body;
    size_t size;
    atomic_int mode, stop, requests;
    pthread_t thread;
} server;

static void send_all(int c, const void *p, size_t n)
{
    const char *b = p;
    while (n > 0) {
        ssize_t k = send(c, b, n, MSG_NOSIGNAL);
        if (k <= 0)
            return;
        b += k;
        n -= (size_t)k;
    }
}

static void *serve(void *arg)
{
    server *s = arg;
    while (!atomic_load(&s->stop)) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            break;
        /* read the request head; its path does not matter */
        char req[8192];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t k = recv(c, req + got, sizeof req - 1 - got, 0);
            if (k <= 0)
                break;
            got += (size_t)k;
            req[got] = 0;
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        atomic_fetch_add(&s->requests, 1);
        char head[256];
        int mode = atomic_load(&s->mode);
        if (mode == SERVE_404) {
            snprintf(head, sizeof head, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            send_all(c, head, strlen(head));
        } else {
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", s->size);
            send_all(c, head, strlen(head));
            send_all(c, s->body, mode == SERVE_HALF ? s->size / 2 : s->size);
        }
        close(c);
    }
    return NULL;
}

static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static void server_start(server *s, const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    s->size = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    s->body = malloc(s->size);
    assert_non_null(s->body);
    assert_int_equal(fread(s->body, 1, s->size, f), s->size);
    fclose(f);
    s->fd = listen_loopback(&s->port);
    assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s)
{
    atomic_store(&s->stop, 1);
    shutdown(s->fd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    close(s->fd);
    free(s->body);
}

/* Number of entries in dir besides . and .. (0 when dir is absent). */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_sha256(void **state)
{
    (void)state;
    char *dir = sg_test_tmpdir(), path[4200], hex[65];
    snprintf(path, sizeof path, "%s/abc", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs("abc", f);
    fclose(f);
    assert_int_equal(sg_sha256_file(path, hex), 0);
    /* FIPS 180-2 test vector */
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    sg_test_rmtree(dir);
    free(dir);
}

/* torchvision names each file by its SHA-256's first 8 hex digits. */
static void test_pinned_sources(void **state)
{
    (void)state;
    const char *names[] = {"resnet18", "resnet34", "resnet50", "resnet50-v2"};
    for (int i = 0; i < 4; i++) {
        const sg_weights_source *s = sg_weights_source_find(names[i]);
        assert_non_null(s);
        assert_int_equal(strlen(s->sha256), 64);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "-%.8s.pth", s->sha256);
        if (!strstr(s->url, prefix) || strncmp(s->url, "https://download.pytorch.org/models/", 36) != 0) {
            print_error("%s: %s does not carry its hash prefix %s\n", names[i], s->url, prefix);
            fail();
        }
    }
    assert_null(sg_weights_source_find("vgg16"));
}

static void test_fetch_loopback(void **state)
{
    (void)state;
    SG_REQUIRE_TORCH();
    SG_REQUIRE_PYTHON("torch,torchvision");
    char *dir = sg_test_tmpdir(), cmd[4400], pth[4200], url[256], hex[65], got[4200], d[4300];
    snprintf(cmd, sizeof cmd, "%s tools/oracle_pth.py '%s' fetch", sg_test_python(), dir);
    assert_int_equal(system(cmd), 0);
    snprintf(pth, sizeof pth, "%s/fetch_resnet18.pth", dir);
    assert_int_equal(sg_sha256_file(pth, hex), 0);
    server s = {0};
    server_start(&s, pth);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/models/resnet18-f37072fd.pth", s.port);
    assert_int_equal(setenv("SG_TEST_WEIGHTS_URL", url, 1), 0);
    assert_int_equal(setenv("SG_TEST_WEIGHTS_SHA256", hex, 1), 0);
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    assert_int_equal(setenv("no_proxy", "127.0.0.1", 1), 0);

    /* the right hash installs weights equal to the .pth's */
    snprintf(d, sizeof d, "%s/ok", dir);
    int rc = sg_weights_fetch("resnet18", d, got, sizeof got, NULL, NULL);
    if (rc != 0)
        print_error("%s\n", sg_last_error());
    assert_int_equal(rc, 0);
    char want[4400];
    snprintf(want, sizeof want, "%s/resnet18.safetensors", d);
    assert_string_equal(got, want);
    assert_int_equal(count_entries(d), 1);
    sg_st_file a, b;
    assert_int_equal(sg_weights_open(&a, pth, NULL), 0);
    assert_int_equal(sg_st_open(&b, got), 0);
    assert_string_equal(sg_st_meta(&b, "source"), url);
    assert_string_equal(sg_st_meta(&b, "architecture"), "resnet18");
    assert_int_equal(a.n_tensors, b.n_tensors);
    for (size_t i = 0; i < a.n_tensors; i++) {
        const sg_st_tensor *ta = &a.tensors[i], *tb = sg_st_find(&b, ta->name);
        assert_non_null(tb);
        assert_int_equal(ta->numel, tb->numel);
        float *va = malloc((ta->numel + 1) * sizeof *va), *vb = malloc((ta->numel + 1) * sizeof *vb);
        assert_non_null(va);
        assert_non_null(vb);
        assert_int_equal(sg_st_read_f32(&a, ta, va), 0);
        assert_int_equal(sg_st_read_f32(&b, tb, vb), 0);
        assert_memory_equal(va, vb, ta->numel * sizeof *va);
        free(va);
        free(vb);
    }
    sg_st_close(&a);
    sg_st_close(&b);

    /* a wrong hash: refused, nothing left */
    char bad[65];
    memcpy(bad, hex, sizeof bad);
    bad[0] = bad[0] == '0' ? '1' : '0';
    assert_int_equal(setenv("SG_TEST_WEIGHTS_SHA256", bad, 1), 0);
    snprintf(d, sizeof d, "%s/bad", dir);
    assert_int_equal(sg_weights_fetch("resnet18", d, got, sizeof got, NULL, NULL), SG_E_CORRUPT);
    assert_non_null(strstr(sg_last_error(), "SHA-256 mismatch"));
    assert_int_equal(count_entries(d), 0);
    assert_int_equal(setenv("SG_TEST_WEIGHTS_SHA256", hex, 1), 0);

    /* the server closes mid-file */
    atomic_store(&s.mode, SERVE_HALF);
    snprintf(d, sizeof d, "%s/half", dir);
    assert_int_equal(sg_weights_fetch("resnet18", d, got, sizeof got, NULL, NULL), SG_E_IO);
    assert_non_null(strstr(sg_last_error(), "failed after"));
    assert_int_equal(count_entries(d), 0);

    atomic_store(&s.mode, SERVE_404);
    assert_int_equal(sg_weights_fetch("resnet18", d, got, sizeof got, NULL, NULL), SG_E_IO);
    assert_non_null(strstr(sg_last_error(), "HTTP status 404"));
    assert_int_equal(count_entries(d), 0);
    atomic_store(&s.mode, SERVE_FULL);

    /* the right file for another name: refused after the download */
    assert_int_not_equal(sg_weights_fetch("resnet50", d, got, sizeof got, NULL, NULL), 0);
    assert_non_null(strstr(sg_last_error(), "resnet18"));
    assert_int_equal(count_entries(d), 0);

    /* nobody listening: the offline message */
    int port = 0, fd = listen_loopback(&port);
    close(fd);
    char dead[256];
    snprintf(dead, sizeof dead, "http://127.0.0.1:%d/x.pth", port);
    assert_int_equal(setenv("SG_TEST_WEIGHTS_URL", dead, 1), 0);
    assert_int_equal(sg_weights_fetch("resnet18", d, got, sizeof got, NULL, NULL), SG_E_IO);
    assert_non_null(strstr(sg_last_error(), "cannot reach"));
    assert_non_null(strstr(sg_last_error(), "offline?"));
    assert_int_equal(count_entries(d), 0);
    assert_int_equal(setenv("SG_TEST_WEIGHTS_URL", url, 1), 0);

    /* --pretrained resnet18 finds the default install through XDG_DATA_HOME */
    char xdg[4300], resolved[4400];
    snprintf(xdg, sizeof xdg, "%s/xdg", dir);
    assert_int_equal(setenv("XDG_DATA_HOME", xdg, 1), 0);
    assert_int_equal(sg_weights_resolve(resolved, sizeof resolved, "resnet18"), SG_E_IO);
    assert_non_null(strstr(sg_last_error(), "sensorgram weights fetch resnet18"));
    assert_int_equal(sg_weights_fetch("resnet18", NULL, got, sizeof got, NULL, NULL), 0);
    assert_int_equal(sg_weights_resolve(resolved, sizeof resolved, "resnet18"), 0);
    snprintf(want, sizeof want, "%s/sensorgram/weights/resnet18.safetensors", xdg);
    assert_string_equal(resolved, want);
    assert_int_equal(sg_weights_resolve(resolved, sizeof resolved, "vgg16"), SG_E_INVALID);

    /* the binary, same server */
    char *out = NULL;
    snprintf(d, sizeof d, "%s/cli", dir);
    rc = sg_test_run(&out, NULL, "weights fetch resnet18 --dir '%s'", d);
    SG_ASSERT_EXIT(rc, 0, out);
    snprintf(want, sizeof want, "%s/resnet18.safetensors", d);
    SG_ASSERT_CONTAINS(out, want);
    free(out);
    rc = sg_test_run(&out, "SG_TEST_WEIGHTS_SHA256=0000000000000000000000000000000000000000000000000000000000000000",
                     "weights fetch resnet34 --dir '%s/cli2'", dir);
    SG_ASSERT_EXIT(rc, 1, out);
    SG_ASSERT_CONTAINS(out, "SHA-256 mismatch");
    free(out);
    rc = sg_test_run(&out, NULL, "weights fetch alexnet");
    SG_ASSERT_EXIT(rc, 2, out);
    SG_ASSERT_CONTAINS(out, "no download known for 'alexnet'");
    free(out);
    snprintf(d, sizeof d, "%s/cli2", dir);
    assert_int_equal(count_entries(d), 0);
    assert_true(atomic_load(&s.requests) >= 7);

    server_stop(&s);
    unsetenv("SG_TEST_WEIGHTS_URL");
    unsetenv("SG_TEST_WEIGHTS_SHA256");
    unsetenv("XDG_DATA_HOME");
    sg_test_rmtree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha256),
        cmocka_unit_test(test_pinned_sources),
        cmocka_unit_test(test_fetch_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
