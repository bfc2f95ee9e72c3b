/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * "did you mean 'listening'?" for a mistyped command: the command names
 * closest to a word by the optimal-string-alignment form of the
 * Damerau-Levenshtein distance (insertions, deletions, substitutions and
 * swaps of neighbours), within 1 edit for words of up to four letters and 2
 * for longer ones.
 */

/* The nearest command of the n names, or NULL when none is that close. */
const char *suggest_nearest(const char *word, const char *const *names, size_t n);

/* The nearest command of cli/main.c's table, or NULL. */
const char *cli_suggest_command(const char *word);
