/* SPDX-License-Identifier: MIT */
/* lib/basic/fileio.c: the files rsap replaces and the files it reads from outside. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <rsap/fileio.h>

struct dir {
        char path[64];
};

static int setup(void **state)
{
        struct dir *d = calloc(1, sizeof(*d));

        snprintf(d->path, sizeof(d->path), "/tmp/rsap-fileio-XXXXXX");
        assert_non_null(mkdtemp(d->path));
        *state = d;
        return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static int teardown(void **state)
{
        struct dir *d = *state;

        assert_int_equal(nftw(d->path, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
        free(d);
        return 0;
}

static void write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

/* How many entries a directory holds besides . and ..: a temporary file left behind shows. */
static int entries(const char *path)
{
        DIR *dir = opendir(path);
        struct dirent *e;
        int n = 0;

        assert_non_null(dir);
        while ((e = readdir(dir)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(dir);
        return n;
}

static void replaced_files_appear_whole_or_not_at_all(void **state)
{
        struct dir *d = *state;
        struct rsap_newfile f;
        char path[128], long_path[5000];
        void *data;
        size_t size;

        snprintf(path, sizeof(path), "%s/out", d->path);
        assert_int_equal(rsap_file_replace(path, "one\n", 4, 0644), 0);
        assert_int_equal(rsap_read_regular_file(path, 100, &data, &size), 0);
        assert_int_equal(size, 4);
        assert_memory_equal(data, "one\n", 4);
        free(data);

        /* Aborted: the target keeps its old text and no temporary file is left. */
        assert_int_equal(rsap_newfile_open(&f, path, 0644), 0);
        assert_int_equal(write(f.fd, "two\n", 4), 4);
        assert_int_equal(entries(d->path), 2);
        rsap_newfile_abort(&f);
        rsap_newfile_abort(&f); /* harmless twice */
        assert_int_equal(rsap_newfile_commit(&f), -EBADF);
        assert_int_equal(entries(d->path), 1);
        assert_int_equal(rsap_read_regular_file(path, 100, &data, &size), 0);
        assert_memory_equal(data, "one\n", 4);
        free(data);

        /* A target that cannot be renamed over (a directory with something in it):
         * the error comes back and the temporary file goes. */
        snprintf(path, sizeof(path), "%s/busy", d->path);
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/busy/inside", d->path);
        write_text(path, "x");
        snprintf(path, sizeof(path), "%s/busy", d->path);
        assert_true(rsap_file_replace(path, "new", 3, 0644) < 0);
        assert_int_equal(entries(d->path), 2);

        /* No directory to write into, or a name too long for one. */
        snprintf(path, sizeof(path), "%s/missing/out", d->path);
        assert_int_equal(rsap_file_replace(path, "x", 1, 0644), -ENOENT);
        memset(long_path, 'a', sizeof(long_path) - 1);
        long_path[sizeof(long_path) - 1] = '\0';
        assert_int_equal(rsap_newfile_open(&f, long_path, 0644), -ENAMETOOLONG);
        assert_int_equal(f.fd, -1);
        /* A name that fits rsap's buffers but is longer than any file name may be. */
        memset(long_path, 'a', 4090);
        long_path[0] = '/';
        long_path[4090] = '\0';
        assert_int_equal(rsap_newfile_open(&f, long_path, 0644), -ENAMETOOLONG);
}

static void a_relative_name_is_replaced_in_the_current_directory(void **state)
{
        struct dir *d = *state;
        char here[4096];
        void *data;
        size_t size;

        assert_non_null(getcwd(here, sizeof(here)));
        assert_int_equal(chdir(d->path), 0);
        assert_int_equal(rsap_file_replace("plain", "text", 4, 0600), 0);
        assert_int_equal(rsap_read_regular_file("plain", 100, &data, &size), 0);
        assert_memory_equal(data, "text", 4);
        free(data);
        assert_int_equal(chdir(here), 0);
        assert_int_equal(entries(d->path), 1);
}

static void reads_refuse_what_is_too_big_or_not_a_file(void **state)
{
        struct dir *d = *state;
        struct rsap_file_copy copy;
        char path[128];
        void *data = (void *)1;
        size_t size = 1;

        snprintf(path, sizeof(path), "%s/ten", d->path);
        write_text(path, "0123456789");
        assert_int_equal(rsap_read_regular_file(path, 10, &data, &size), 0);
        assert_int_equal(size, 10);
        assert_int_equal(((char *)data)[10], '\0'); /* the spare NUL */
        free(data);
        assert_int_equal(rsap_read_regular_file(path, 9, &data, &size), -EFBIG);
        assert_null(data);
        assert_int_equal(size, 0);
        assert_int_equal(rsap_file_copy_read(path, 9, &copy), -EFBIG);
        assert_null(copy.data);
        assert_int_equal(rsap_file_copy_read(path, 10, &copy), 0);
        assert_int_equal(copy.size, 10);
        assert_memory_equal(copy.data, "0123456789", 10);
        rsap_file_copy_free(&copy);
        assert_null(copy.data);
        rsap_file_copy_free(&copy); /* harmless twice */

        assert_int_equal(rsap_read_regular_file(d->path, 100, &data, &size), -EISDIR);
        assert_int_equal(rsap_file_copy_read(d->path, 100, &copy), -EISDIR);
        assert_int_equal(rsap_read_regular_file("/dev/null", 100, &data, &size), -EINVAL);
        snprintf(path, sizeof(path), "%s/none", d->path);
        assert_int_equal(rsap_read_regular_file(path, 100, &data, &size), -ENOENT);
        assert_int_equal(rsap_file_copy_read(path, 100, &copy), -ENOENT);
}

/* /proc's files say size 0 and then give more: the limit holds on what is read,
 * and a copy that finds more than fstat said reports a file that grew. */
static void files_that_lie_about_their_size(void **state)
{
        struct rsap_file_copy copy;
        void *data;
        size_t size;

        (void)state;
        assert_int_equal(rsap_read_regular_file("/proc/self/status", 16, &data, &size), -EFBIG);
        assert_int_equal(rsap_read_regular_file("/proc/self/status", 1 << 20, &data, &size), 0);
        assert_non_null(strstr(data, "Pid:"));
        assert_int_equal(strlen(data), size);
        free(data);
        assert_int_equal(rsap_file_copy_read("/proc/self/status", 1 << 20, &copy), -EAGAIN);
        assert_null(copy.data);
}

static void directories_root_may_write_into(void **state)
{
        struct dir *d = *state;
        char why[256], path[128];

        if (geteuid() != 0) {
                /* Others can only hurt themselves: always safe. */
                assert_int_equal(rsap_dir_check_safe("/", why, sizeof(why)), 0);
                skip();
        }
        assert_int_equal(rsap_dir_check_safe(d->path, why, sizeof(why)), 0);
        assert_string_equal(why, "");
        snprintf(path, sizeof(path), "%s/not-yet", d->path);
        assert_int_equal(rsap_dir_check_safe(path, why, sizeof(why)), 0); /* root makes it */
        snprintf(path, sizeof(path), "%s/file", d->path);
        write_text(path, "x");
        snprintf(path, sizeof(path), "%s/file/below", d->path);
        assert_int_equal(rsap_dir_check_safe(path, why, sizeof(why)), -ENOTDIR);

        assert_int_equal(chmod(d->path, 0775), 0);
        assert_int_equal(rsap_dir_check_safe(d->path, why, sizeof(why)), -EPERM);
        assert_non_null(strstr(why, "is writable by its group (mode 0775, no sticky bit)"));
        assert_int_equal(chmod(d->path, 0777), 0);
        assert_int_equal(rsap_dir_check_safe(d->path, why, sizeof(why)), -EPERM);
        assert_non_null(strstr(why, "is writable by every user (mode 0777, no sticky bit)"));
        assert_int_equal(chmod(d->path, 01777), 0); /* as /tmp: the sticky bit protects */
        assert_int_equal(rsap_dir_check_safe(d->path, why, sizeof(why)), 0);
        assert_int_equal(chmod(d->path, 0755), 0);
        assert_int_equal(chown(d->path, 65534, 65534), 0);
        assert_int_equal(rsap_dir_check_safe(d->path, why, sizeof(why)), -EPERM);
        assert_non_null(strstr(why, "is owned by uid 65534, not root"));
        assert_int_equal(chown(d->path, 0, 0), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(replaced_files_appear_whole_or_not_at_all),
                T(a_relative_name_is_replaced_in_the_current_directory),
                T(reads_refuse_what_is_too_big_or_not_a_file),
                cmocka_unit_test(files_that_lie_about_their_size),
                T(directories_root_may_write_into),
        };
#undef T

        return cmocka_run_group_tests(tests, NULL, NULL);
}
