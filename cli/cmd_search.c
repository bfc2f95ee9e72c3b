/* SPDX-License-Identifier: MIT */
/* rsap search TEXT: services by name, description or people, best first. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <rsap/answer.h>
#include <rsap/json.h>

#include "builtin.h"
#include "registry.h"
#include "render.h"

#define DEFAULT_LIMIT 20
#define MAX_LIMIT 100000

static void render_hits(const struct cli *cli, const struct rsap_iana *reg,
                        const struct rsap_search_hit *hits, size_t n, size_t total)
{
        for (size_t i = 0; i < n; i++) {
                struct rsap_record r;
                char label[32];

                rsap_iana_record(reg, hits[i].id, &r);
                render_record_label(&r, label, sizeof(label));
                printf("%s%-16s%s %-16s ", cli_bold(cli), label, cli_reset(cli),
                       r.service ? render_safe(r.service) : "-");
                render_one_line(r.description ? r.description : "");
                putchar('\n');
        }
        if (total > n)
                printf("%s(%zu more: --limit %zu shows them all)%s\n", cli_dim(cli), total - n,
                       total, cli_reset(cli));
}

static int parse_limit(const char *text, size_t *out)
{
        char *end;
        long value = strtol(text, &end, 10);

        if (*text == '\0' || *end != '\0' || value < 1 || value > MAX_LIMIT)
                return -1;
        *out = (size_t)value;
        return 0;
}

/* The words, one space between each. */
static char *join_words(int n, char **words)
{
        size_t len = 1;
        char *text;

        for (int i = 0; i < n; i++)
                len += strlen(words[i]) + 1;
        text = malloc(len);
        if (!text)
                return NULL;
        text[0] = '\0';
        for (int i = 0; i < n; i++) {
                if (i)
                        strcat(text, " ");
                strcat(text, words[i]);
        }
        return text;
}

/* --limit N */
static int limit_option(const struct cli_command *self, int opt, void *limit)
{
        if (opt != 'n')
                return -2;
        if (parse_limit(optarg, limit) < 0)
                return cli_usage_error(self, "--limit takes a number from 1 to %d", MAX_LIMIT);
        return -1;
}

int cmd_search(struct cli *cli, int argc, char **argv)
{
        const struct cli_command *self = cli_find_command("search");
        _cleanup_(rsap_iana_freep) struct rsap_iana *reg = NULL;
        _cleanup_(rsap_store_closep) struct rsap_store *store = NULL;
        _cleanup_(rsap_search_answer_clear) struct rsap_search_answer a = { 0 };
        enum rsap_answer_part failed;
        struct registry_cli rc = { 0 };
        size_t limit = DEFAULT_LIMIT;
        _cleanup_(freep) char *joined = NULL;
        const char *text;
        int r;

        r = registry_getopt(cli, self, &rc, argc, argv, limit_option, &limit);
        if (r >= 0)
                return r;
        if (optind == argc)
                return cli_usage_error(self, "search for what?");
        /* `rsap search remote desktop`: every remaining word is the text. */
        joined = join_words(argc - optind, argv + optind);
        if (!joined)
                return cli_error("out of memory");
        text = joined;
        if (strspn(text, " \t\n") == strlen(text))
                return cli_error("the search text is empty");
        r = registry_open_lookup(cli, &rc, &reg, &store);
        if (r)
                return r;
        r = rsap_answer_search(&(struct rsap_answer_sources){ .iana = reg, .store = store }, text,
                               limit, &a, &failed);
        if (r < 0 && failed == RSAP_ANSWER_LOCAL)
                return registry_error(&rc, r, "cannot search the local registry");
        if (r < 0)
                return cli_error("out of memory");
        if (cli->json) {
                r = cli_print_json(rsap_search_answer_to_json(reg, &a));
        } else if (rsap_search_answer_found(&a)) {
                render_hits(cli, reg, a.hits, a.n_hits, a.total);
                if (a.local)
                        render_local(cli, a.local);
        }
        if (!rsap_search_answer_found(&a)) /* with --json too: the answer says it */
                fprintf(stderr, "rsap: nothing matches '%s'\n", text);
        if (r)
                return EXIT_BAD_INPUT;
        return rsap_search_answer_found(&a) ? EXIT_ANSWERED : EXIT_NO_MATCH;
}
