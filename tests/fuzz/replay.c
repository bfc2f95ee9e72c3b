/* SPDX-License-Identifier: MIT */
/*
 * A fuzz target without libFuzzer: calls LLVMFuzzerTestOneInput on every
 * file of the directories (or the files) named, so that the seed corpora run
 * in every build, with gcc too.  A crash or abort() is the failure.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        uint8_t *data = NULL;
        size_t size = 0, cap = 0, n;

        if (!f) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        do {
                if (size == cap) {
                        uint8_t *grown = realloc(data, cap = cap ? 2 * cap : 65536);

                        if (!grown) {
                                free(data);
                                fclose(f);
                                return -1;
                        }
                        data = grown;
                }
                n = fread(data + size, 1, cap - size, f);
                size += n;
        } while (n > 0);
        fclose(f);
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        printf("ok %s (%zu bytes)\n", path, size);
        return 0;
}

static int replay(const char *path)
{
        struct stat st;
        struct dirent *e;
        DIR *dir;
        int status = 0;

        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return replay_file(path);
        dir = opendir(path);
        if (!dir)
                return -1;
        while ((e = readdir(dir))) {
                char file[4096];

                if (e->d_name[0] == '.')
                        continue;
                snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
                if (replay_file(file) < 0)
                        status = -1;
        }
        closedir(dir);
        return status;
}

int main(int argc, char **argv)
{
        int status = 0;

        for (int i = 1; i < argc; i++)
                if (replay(argv[i]) < 0)
                        status = 1;
        return status;
}
