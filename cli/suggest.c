/* SPDX-License-Identifier: MIT */
/* Suggestions for mistyped commands (suggest.h). */
#include <string.h>

#include "suggest.h"

/* Longer words are no command's near miss; they are never compared. */
#define MAX_WORD 32

static size_t min3(size_t a, size_t b, size_t c)
{
        size_t m = a < b ? a : b;

        return m < c ? m : c;
}

/* Optimal string alignment distance, with one row per prefix of a. */
static size_t osa_distance(const char *a, size_t la, const char *b, size_t lb)
{
        size_t d[MAX_WORD + 1][MAX_WORD + 1];

        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++) {
                for (size_t j = 1; j <= lb; j++) {
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;

                        d[i][j] = min3(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                            d[i - 2][j - 2] + 1 < d[i][j])
                                d[i][j] = d[i - 2][j - 2] + 1;
                }
        }
        return d[la][lb];
}

const char *suggest_nearest(const char *word, const char *const *names, size_t n)
{
        size_t len = strlen(word), limit = len <= 4 ? 1 : 2, best_distance = limit + 1;
        const char *best = NULL;

        if (len == 0 || len > MAX_WORD)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                size_t name_len = strlen(names[i]), distance;

                if (name_len > MAX_WORD)
                        continue;
                distance = osa_distance(word, len, names[i], name_len);
                /* A tie keeps the earlier name: the table lists the common ones first. */
                if (distance < best_distance) {
                        best_distance = distance;
                        best = names[i];
                }
        }
        return best;
}
