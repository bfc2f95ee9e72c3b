/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <rsap/name.h>

#include "snapshot_internal.h"

/*
 * A search is a list of words that must all match the record somewhere: in
 * its service name (worth most, most of all as the whole name), its
 * description (more as a whole word), or its people.  Ties keep registry
 * order, so results are stable.
 */
#define MAX_WORDS 8
#define MAX_WORD 64

enum {
        SCORE_NAME_EXACT = 1000,
        SCORE_NAME_PREFIX = 500,
        SCORE_NAME_PART = 300,
        SCORE_DESCRIPTION_WORD = 200,
        SCORE_DESCRIPTION_PART = 100,
        SCORE_PERSON = 50,
};

struct query {
        char words[MAX_WORDS][MAX_WORD];
        size_t n;
};

static void split_words(const char *text, struct query *q)
{
        q->n = 0;
        while (*text && q->n < MAX_WORDS) {
                size_t len = 0;

                while (isspace((unsigned char)*text))
                        text++;
                while (text[len] && !isspace((unsigned char)text[len]))
                        len++;
                if (len == 0)
                        break;
                if (len >= MAX_WORD)
                        len = MAX_WORD - 1;
                memcpy(q->words[q->n], text, len);
                q->words[q->n][len] = '\0';
                q->n++;
                while (*text && !isspace((unsigned char)*text))
                        text++;
        }
}

static bool is_word_char(char c)
{
        return isalnum((unsigned char)c);
}

static int text_score(const char *text, const char *word, int whole, int part)
{
        size_t len = strlen(word);
        const char *hit;

        if (!text)
                return 0;
        hit = strcasestr(text, word);
        if (!hit)
                return 0;
        for (; hit; hit = strcasestr(hit + 1, word)) {
                bool starts = hit == text || !is_word_char(hit[-1]);
                bool ends = !is_word_char(hit[len]);

                if (starts && ends)
                        return whole;
        }
        return part;
}

static int name_score(const char *service, const char *word)
{
        size_t len = strlen(word);

        if (!service)
                return 0;
        if (strcasecmp(service, word) == 0)
                return SCORE_NAME_EXACT;
        if (strncasecmp(service, word, len) == 0)
                return SCORE_NAME_PREFIX;
        return strcasestr(service, word) ? SCORE_NAME_PART : 0;
}

/*
 * IANA's records name one or two people in each list (two at most in the
 * release of 2025-12-15); a cached snapshot made to name millions would make
 * every search read them all for every record.  The people past this many are
 * not searched.
 */
#define SEARCH_PEOPLE_MAX 32

static int person_score(const struct rsap_iana *reg, uint32_t list, const char *word)
{
        const uint32_t *items = NULL;
        uint32_t n = registry_list(reg, list, 1, &items);

        if (n > SEARCH_PEOPLE_MAX)
                n = SEARCH_PEOPLE_MAX;
        for (uint32_t k = 0; k < n; k++) {
                const struct snap_person *p;

                if (items[k] >= reg->h->n_people)
                        continue;
                p = &reg->people[items[k]];
                if (text_score(registry_string(reg, p->name), word, 1, 1) ||
                    text_score(registry_string(reg, p->org), word, 1, 1) ||
                    text_score(registry_string(reg, p->email), word, 1, 1) ||
                    text_score(registry_string(reg, p->id), word, 1, 1))
                        return SCORE_PERSON;
        }
        return 0;
}

static int best(int a, int b)
{
        return a > b ? a : b;
}

static int record_score(const struct rsap_iana *reg, const struct snap_record *r,
                        const struct query *q)
{
        const char *service = registry_string(reg, r->service);
        const char *description = registry_string(reg, r->description);
        int total = 0;

        for (size_t w = 0; w < q->n; w++) {
                const char *word = q->words[w];
                int s = name_score(service, word);

                s = best(s, text_score(description, word, SCORE_DESCRIPTION_WORD,
                                       SCORE_DESCRIPTION_PART));
                if (s == 0)
                        s = best(person_score(reg, r->assignee, word),
                                 person_score(reg, r->contact, word));
                if (s == 0)
                        return 0;
                total += s;
        }
        return total;
}

static int compare_hits(const void *a, const void *b)
{
        const struct rsap_search_hit *x = a, *y = b;

        if (x->score != y->score)
                return x->score > y->score ? -1 : 1;
        return x->id < y->id ? -1 : x->id > y->id;
}

size_t rsap_iana_search(const struct rsap_iana *reg, const char *text,
                        struct rsap_search_hit *hits, size_t max)
{
        _cleanup_(freep) struct rsap_search_hit *all = NULL;
        struct query q;
        size_t n = 0;

        split_words(text, &q);
        if (q.n == 0)
                return 0;
        all = malloc(((size_t)reg->h->n_records + 1) * sizeof(*all));
        if (!all)
                return 0;
        for (uint32_t i = 0; i < reg->h->n_records; i++) {
                int score = record_score(reg, &reg->records[i], &q);

                if (score > 0)
                        all[n++] = (struct rsap_search_hit){ .id = i, .score = score };
        }
        qsort(all, n, sizeof(*all), compare_hits);
        memcpy(hits, all, (n < max ? n : max) * sizeof(*hits));
        return n;
}
