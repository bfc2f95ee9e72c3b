/* SPDX-License-Identifier: MIT */
/*
 * `rsap import FILE`: an export of another local registry (JSON or CSV,
 * lib/local/local_import.c) is outside data.  Each input goes into a new, empty
 * registry (a fresh file, so no input depends on the ones before it); what
 * imports once imports nothing the second time (what is there is unchanged).
 */
#include <stdio.h>
#include <unistd.h>

#include <rsap/store.h>
#include <rsap/workflow.h>

#include "fuzz_common.h"

static char dir[64];
static char path[96];
static struct rsap_iana *iana;

static void remove_database(void)
{
        static const char *const suffixes[] = { "", "-journal", "-wal", "-shm", "-ports" };
        char name[128];

        for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
                snprintf(name, sizeof(name), "%s%s", path, suffixes[i]);
                unlink(name);
        }
}

static void clean_up(void)
{
        remove_database();
        rmdir(dir);
}

static void set_up(void)
{
        /* tmpfs where there is one: each input commits, and fsync on a disk
         * would make the target crawl. */
        snprintf(dir, sizeof(dir), "%s/rsap-fuzz-import-XXXXXX",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir) || rsap_iana_open_builtin(&iana) != 0)
                abort();
        snprintf(path, sizeof(path), "%s/registry.db", dir);
        atexit(clean_up);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct rsap_store *store = NULL;
        struct rsap_import_result result;
        char *text;

        if (!iana)
                set_up();
        /* As rsap import reads a file: its bytes and a NUL after them. */
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = '\0';
        remove_database();
        if (rsap_store_open(path, RSAP_STORE_WRITE, 0, &store) != 0)
                abort(); /* a fresh file in our own directory */
        struct rsap_workflow wf = { store, iana, "fuzz", NULL };
        int r = rsap_local_import(&wf, text, size, "fuzz", size % 2 == 0, &result);

        if (r == 0 && result.n_conflicts > 0 && size % 2 != 0)
                abort(); /* conflicts without skip_conflicts are -EEXIST, never 0 */
        if (r == 0 && result.imported > 0) {
                rsap_import_result_clear(&result);
                if (rsap_local_import(&wf, text, size, "fuzz", true, &result) != 0 ||
                    result.imported != 0)
                        abort(); /* the same file again: all unchanged or conflicts */
        }
        rsap_import_result_clear(&result);
        rsap_store_close(store);
        free(text);
        return 0;
}
