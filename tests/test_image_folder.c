/* test_image_folder.c - every folder layout (class folders, manifest,
 * regex labels, unlabelled natural order, train/valid), the trainable
 * checks, manifest errors with line:column, and the shared photo sets. */
#include "tests/sg_test.h"

#include "datasets/image_folder.h"
#include "src/base/sg_error.h"

static void touch(const char *dir, const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    /* create parent folders */
    for (char *s = strchr(path + strlen(dir) + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        mkdir(path, 0755);
        *s = '/';
    }
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fclose(fp);
}

static void write_text(const char *dir, const char *rel, const char *text)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* Asserts that entry i is ROOT/rel with the given class name. */
static void assert_entry(const sg_image_list *l, const char *root, size_t i, const char *rel,
                         const char *cls)
{
    char want[1024];
    snprintf(want, sizeof want, "%s/%s", root, rel);
    if (i >= l->n || strcmp(l->paths[i], want) != 0) {
        print_error("entry %zu: expected %s, got %s\n", i, want, i < l->n ? l->paths[i] : "-");
        fail();
    }
    if (cls)
        assert_string_equal(l->class_names[l->labels[i]], cls);
    else
        assert_int_equal(l->labels[i], -1);
}

static void test_class_folders(void **state)
{
    (void)state;
    char *d = sg_test_tmpdir();
    touch(d, "dog/b10.jpg");
    touch(d, "dog/b9.JPEG");
    touch(d, "cat/x.png");
    touch(d, "cat/nested/y.jpg");
    touch(d, "cat/.hidden.png");
    touch(d, "cat/readme.txt");
    sg_image_list l;
    assert_int_equal(sg_image_folder_open(&l, d, NULL), 0);
    assert_int_equal(l.n_classes, 2);
    assert_string_equal(l.class_names[0], "cat");
    assert_string_equal(l.class_names[1], "dog");
    assert_int_equal(l.n, 4);
    assert_entry(&l, d, 0, "cat/nested/y.jpg", "cat");
    assert_entry(&l, d, 1, "cat/x.png", "cat");
    assert_entry(&l, d, 2, "dog/b9.JPEG", "dog");   /* natural order: 9 < 10 */
    assert_entry(&l, d, 3, "dog/b10.jpg", "dog");
    assert_null(l.is_valid);
    assert_int_equal(sg_image_list_check_trainable(&l, d), 0);
    sg_image_list_free(&l);
    /* an empty class folder is an error naming it */
    touch(d, "emu/notes.txt");
    assert_int_equal(sg_image_folder_classes(&l, d), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "emu"));
    sg_test_rmtree(d);
    free(d);
}

static void test_regex_and_unlabeled(void **state)
{
    (void)state;
    char *d = sg_test_tmpdir();
    touch(d, "cat.10.jpg");
    touch(d, "cat.2.jpg");
    touch(d, "dog.1.jpg");
    touch(d, "sub/dog.3.png");
    sg_image_list l;
    assert_int_equal(sg_image_folder_open(&l, d, "^([a-z]+)\\."), 0);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.n_classes, 2);
    assert_entry(&l, d, 0, "cat.2.jpg", "cat");
    assert_entry(&l, d, 1, "cat.10.jpg", "cat");
    assert_entry(&l, d, 2, "dog.1.jpg", "dog");
    assert_entry(&l, d, 3, "sub/dog.3.png", "dog");
    sg_image_list_free(&l);
    touch(d, "Bad_name.jpg");
    assert_int_equal(sg_image_folder_regex(&l, d, "^([a-z]+)\\."), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "Bad_name.jpg"));
    assert_int_equal(sg_image_folder_regex(&l, d, "(["), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "--label-regex"));

    char *u = sg_test_tmpdir();
    const char *names[] = {"10.jpg", "2.jpg", "1.jpg", "11.png", "100.jpg"};
    for (int i = 0; i < 5; i++)
        touch(u, names[i]);
    assert_int_equal(sg_image_folder_unlabeled(&l, u), 0);
    const char *want[] = {"1.jpg", "2.jpg", "10.jpg", "11.png", "100.jpg"};
    for (size_t i = 0; i < 5; i++)
        assert_entry(&l, u, i, want[i], NULL);
    assert_int_equal(sg_image_list_check_trainable(&l, u), SG_E_INVALID);
    sg_image_list_free(&l);
    sg_test_rmtree(u);
    free(u);
    sg_test_rmtree(d);
    free(d);
}

static void test_train_valid_and_checks(void **state)
{
    (void)state;
    char *d = sg_test_tmpdir();
    touch(d, "train/a/1.png");
    touch(d, "train/a/2.png");
    touch(d, "train/b/3.png");
    touch(d, "valid/b/4.png");
    touch(d, "valid/c/5.png");
    sg_image_list l;
    assert_int_equal(sg_image_folder_open(&l, d, NULL), 0);
    assert_int_equal(l.n_classes, 3);
    assert_int_equal(l.n, 5);
    assert_non_null(l.is_valid);
    const unsigned char want_valid[5] = {0, 0, 0, 1, 1};
    assert_memory_equal(l.is_valid, want_valid, 5);
    assert_entry(&l, d, 4, "valid/c/5.png", "c");
    sg_image_list_free(&l);
    sg_test_rmtree(d);
    free(d);

    /* empty and one-class datasets */
    d = sg_test_tmpdir();
    touch(d, "only/1.png");
    assert_int_equal(sg_image_folder_open(&l, d, NULL), 0);
    assert_int_equal(sg_image_list_check_trainable(&l, d), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "only one class"));
    sg_image_list_free(&l);
    sg_test_rmtree(d);
    free(d);
    d = sg_test_tmpdir();
    assert_int_equal(sg_image_folder_open(&l, d, NULL), SG_E_INVALID);
    assert_int_equal(sg_image_folder_unlabeled(&l, d), 0);
    assert_int_equal(sg_image_list_check_trainable(&l, d), SG_E_INVALID);
    assert_non_null(strstr(sg_last_error(), "empty"));
    sg_image_list_free(&l);
    sg_test_rmtree(d);
    free(d);
}

static void test_manifest(void **state)
{
    (void)state;
    char *d = sg_test_tmpdir();
    write_text(d, "manifest.csv",
               "path,label,subject,segment,source\n"
               "a09/p1_s01.png,walking,1,1,data/a09/p1/s01.txt\n"
               "\"a01/p7,x.png\",sitting,7,3,\"q\"\"uoted\"\n"
               "/abs/a09/p8_s60.png,walking,8,60,\n"
               "\n");
    sg_image_list l;
    assert_int_equal(sg_image_folder_open(&l, d, "ignored"), 0);
    assert_int_equal(l.n, 3);
    assert_int_equal(l.n_classes, 2);
    assert_string_equal(l.class_names[0], "sitting");
    assert_entry(&l, d, 0, "a09/p1_s01.png", "walking");
    assert_entry(&l, d, 1, "a01/p7,x.png", "sitting");
    assert_string_equal(l.paths[2], "/abs/a09/p8_s60.png");
    const int subj[3] = {1, 7, 8}, seg[3] = {1, 3, 60};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(l.subjects[i], subj[i]);
        assert_int_equal(l.segments[i], seg[i]);
    }
    assert_string_equal(l.sources[1], "q\"uoted");
    sg_image_list_free(&l);

    /* columns in another order, no subject column */
    write_text(d, "manifest.csv", "label,path\nx,1.png\ny,2.png\n");
    assert_int_equal(sg_image_folder_manifest(&l, d), 0);
    assert_int_equal(l.subjects[0], -1);
    assert_entry(&l, d, 1, "2.png", "y");
    sg_image_list_free(&l);

    /* errors name file:line:column */
    write_text(d, "manifest.csv", "path,label,subject\na.png,x,1\nb.png,y,seven\n");
    assert_int_equal(sg_image_folder_manifest(&l, d), SG_E_PARSE);
    assert_non_null(strstr(sg_last_error(), "manifest.csv:3:9"));
    write_text(d, "manifest.csv", "path,label\n\"a.png,x\n");
    assert_int_equal(sg_image_folder_manifest(&l, d), SG_E_PARSE);
    assert_non_null(strstr(sg_last_error(), "manifest.csv:2:"));
    write_text(d, "manifest.csv", "file,class\na.png,x\n");
    assert_int_equal(sg_image_folder_manifest(&l, d), SG_E_PARSE);
    assert_non_null(strstr(sg_last_error(), "manifest.csv:1:1"));
    write_text(d, "manifest.csv", "path,label\na.png\n");
    assert_int_equal(sg_image_folder_manifest(&l, d), SG_E_PARSE);
    assert_non_null(strstr(sg_last_error(), "manifest.csv:2:"));
    sg_test_rmtree(d);
    free(d);
}

static void test_shared_sets(void **state)
{
    (void)state;
    char root[1024];
    snprintf(root, sizeof root, "%s/data/dogs-vs-cats/train", sg_test_shared());
    SG_REQUIRE_PATH(root);
    sg_image_list l;
    assert_int_equal(sg_image_folder_regex(&l, root, "^([a-z]+)\\."), 0);
    assert_int_equal(l.n, 4000);
    assert_int_equal(l.n_classes, 2);
    assert_string_equal(l.class_names[0], "cat");
    assert_non_null(strstr(l.paths[1], "cat.1.jpg"));
    assert_non_null(strstr(l.paths[2], "cat.2.jpg"));
    assert_int_equal(sg_image_list_check_trainable(&l, root), 0);
    sg_image_list_free(&l);

    snprintf(root, sizeof root, "%s/data/dogs-vs-cats/test", sg_test_shared());
    assert_int_equal(sg_image_folder_unlabeled(&l, root), 0);
    assert_int_equal(l.n, 1000);
    assert_non_null(strstr(l.paths[9], "/10.jpg"));
    assert_non_null(strstr(l.paths[999], "/1000.jpg"));
    sg_image_list_free(&l);

    snprintf(root, sizeof root, "%s/data/trashnet", sg_test_shared());
    assert_int_equal(sg_image_folder_open(&l, root, NULL), 0);
    assert_int_equal(l.n, 2024);
    assert_int_equal(l.n_classes, 6);
    const char *want[6] = {"cardboard", "glass", "metal", "paper", "plastic", "trash"};
    for (int c = 0; c < 6; c++)
        assert_string_equal(l.class_names[c], want[c]);
    sg_image_list_free(&l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_folders),
        cmocka_unit_test(test_regex_and_unlabeled),
        cmocka_unit_test(test_train_valid_and_checks),
        cmocka_unit_test(test_manifest),
        cmocka_unit_test(test_shared_sets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
