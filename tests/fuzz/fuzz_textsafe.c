/* SPDX-License-Identifier: MIT */
/*
 * The escaper of outside text: whatever the bytes, the escaped form holds no
 * control character and no bad UTF-8, reads back to the input exactly, and
 * a cut form is a prefix of the whole that cuts no escape in two.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/textsafe.h>

#include "textsafe_unescape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *in = (const char *)data;
        size_t need = rsap_text_escape(NULL, 0, in, size);
        char *full = malloc(need + 1), *back = malloc(need + 1), *cut;
        size_t cut_size = size ? data[0] % (need + 2) : 1;
        long n;

        if (!full || !back)
                abort();
        if (rsap_text_escape(full, need + 1, in, size) != need || strlen(full) != need)
                abort();
        if (rsap_text_first_control(full, false) != -1)
                abort(); /* something a terminal would obey got through */
        if (rsap_text_needs_escape(in, size) != (need != size || memcmp(full, in, size) != 0))
                abort();
        n = textsafe_unescape(full, need, back);
        if (n != (long)size || memcmp(back, in, size) != 0)
                abort(); /* the escaping is not reversible */
        cut = malloc(cut_size ? cut_size : 1);
        if (!cut)
                abort();
        rsap_text_escape(cut, cut_size, in, size);
        if (cut_size && (strncmp(cut, full, strlen(cut)) != 0 ||
                         textsafe_unescape(cut, strlen(cut), back) < 0))
                abort(); /* a cut form is a prefix of whole escapes */
        free(cut);
        free(back);
        free(full);
        return 0;
}
