/* SPDX-License-Identifier: MIT */
/*
 * In-process lookup speed of the registry, without process start-up:
 * rsap_iana_find_port() by (port, protocol) and rsap_iana_find_name()
 * by service name, on the built-in registry and, given a snapshot (the
 * iana.snap that `rsap update` writes), on IANA's full registry too.
 *
 *     bench-inproc [SNAPSHOT]
 *
 * Each measurement runs for at least MIN_SECONDS over a shuffled sample and
 * prints lookups per second, the ratio to its goal and a checksum of the
 * answers, so that the compiler cannot drop the lookups as unused.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rsap/iana.h>

#define MIN_SECONDS 0.5
#define PORT_GOAL 20e6 /* lookups per second */
#define NAME_GOAL 5e6
#define MAX_IDS 16

struct port_query {
        uint16_t port;
        enum rsap_proto proto;
};

struct sample {
        struct port_query *ports;
        size_t n_ports;
        const char **names;
        size_t n_names;
};

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64: a fixed seed makes every run shuffle the same way. */
static uint64_t next_random(uint64_t *state)
{
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        return *state;
}

static void shuffle(void *items, size_t n, size_t size, uint64_t *state)
{
        char tmp[sizeof(struct port_query) > sizeof(char *) ? sizeof(struct port_query)
                                                           : sizeof(char *)];
        char *base = items;

        for (size_t i = n; i > 1; i--) {
                size_t j = next_random(state) % i;

                memcpy(tmp, base + (i - 1) * size, size);
                memcpy(base + (i - 1) * size, base + j * size, size);
                memcpy(base + j * size, tmp, size);
        }
}

/*
 * The questions people ask: the first port of every record with a port, on
 * its protocol (tcp for a protocol-less one), and as many uniformly random
 * (port, protocol) pairs, most of which no record covers.  The names are
 * those of every named record.
 */
static int make_sample(const struct rsap_iana *reg, struct sample *s)
{
        size_t n = rsap_iana_count(reg);
        uint64_t state = 0x9e3779b97f4a7c15u;

        s->ports = calloc(2 * n, sizeof(*s->ports));
        s->names = calloc(n, sizeof(*s->names));
        if (!s->ports || !s->names)
                return -1;
        s->n_ports = s->n_names = 0;
        for (uint32_t i = 0; i < n; i++) {
                struct rsap_record r;

                rsap_iana_record(reg, i, &r);
                if (r.has_port)
                        s->ports[s->n_ports++] = (struct port_query){
                                r.port_low, r.proto != RSAP_PROTO_NONE ? r.proto : RSAP_PROTO_TCP
                        };
                if (r.service)
                        s->names[s->n_names++] = r.service;
        }
        for (size_t i = 0, known = s->n_ports; i < known; i++)
                s->ports[s->n_ports++] = (struct port_query){
                        (uint16_t)next_random(&state),
                        (enum rsap_proto)(RSAP_TRANSPORTS_FIRST + next_random(&state) % 4)
                };
        shuffle(s->ports, s->n_ports, sizeof(*s->ports), &state);
        shuffle(s->names, s->n_names, sizeof(*s->names), &state);
        return s->n_ports && s->n_names ? 0 : -1;
}

static void free_sample(struct sample *s)
{
        free(s->ports);
        free(s->names);
}

struct result {
        double per_second;
        uint64_t checksum; /* over every pass: the work cannot be dropped */
        uint64_t per_pass; /* over the first: the same in every run */
};

/* Passes over the whole sample until MIN_SECONDS have gone by. */
static struct result time_ports(const struct rsap_iana *reg, const struct sample *s)
{
        uint32_t ids[MAX_IDS];
        uint64_t lookups = 0, sum = 0, first = 0;
        double start = now(), elapsed;

        do {
                for (size_t i = 0; i < s->n_ports; i++) {
                        size_t n = rsap_iana_find_port(reg, s->ports[i].port,
                                                       s->ports[i].proto, ids, MAX_IDS);

                        sum += n ? n + ids[0] : 0;
                }
                if (lookups == 0)
                        first = sum;
                lookups += s->n_ports;
                elapsed = now() - start;
        } while (elapsed < MIN_SECONDS);
        return (struct result){ (double)lookups / elapsed, sum, first };
}

static struct result time_names(const struct rsap_iana *reg, const struct sample *s)
{
        uint32_t ids[MAX_IDS];
        uint64_t lookups = 0, sum = 0, first = 0;
        double start = now(), elapsed;

        do {
                for (size_t i = 0; i < s->n_names; i++) {
                        size_t n = rsap_iana_find_name(reg, s->names[i], ids, MAX_IDS);

                        sum += n ? n + ids[0] : 0;
                }
                if (lookups == 0)
                        first = sum;
                lookups += s->n_names;
                elapsed = now() - start;
        } while (elapsed < MIN_SECONDS);
        return (struct result){ (double)lookups / elapsed, sum, first };
}

static void print_result(const char *label, const char *what, size_t sample, struct result r,
                         double goal)
{
        printf("%-9s %-9s %7.2f M lookups/s  goal %4.0f M/s  ratio %5.2fx  "
               "(sample %zu, checksum %llu per pass, %llu in all)\n",
               label, what, r.per_second / 1e6, goal / 1e6, r.per_second / goal, sample,
               (unsigned long long)r.per_pass, (unsigned long long)r.checksum);
}

static int bench(const char *label, const struct rsap_iana *reg)
{
        struct sample s;

        if (make_sample(reg, &s) < 0) {
                fprintf(stderr, "bench-inproc: %s: no records to sample\n", label);
                free_sample(&s);
                return 1;
        }
        print_result(label, "find_port", s.n_ports, time_ports(reg, &s), PORT_GOAL);
        print_result(label, "find_name", s.n_names, time_names(reg, &s), NAME_GOAL);
        free_sample(&s);
        return 0;
}

int main(int argc, char **argv)
{
        struct rsap_iana *reg;
        int r, failed = 0;

        if (argc > 2) {
                fprintf(stderr, "usage: bench-inproc [SNAPSHOT]\n");
                return 2;
        }
        r = rsap_iana_open_builtin(&reg);
        if (r < 0) {
                fprintf(stderr, "bench-inproc: cannot open the built-in registry: %s\n",
                        strerror(-r));
                return 1;
        }
        failed |= bench("built-in", reg);
        rsap_iana_free(reg);
        if (argc == 2) {
                r = rsap_iana_open_file(argv[1], &reg);
                if (r < 0) {
                        fprintf(stderr, "bench-inproc: cannot open %s: %s\n", argv[1],
                                strerror(-r));
                        return 1;
                }
                failed |= bench("snapshot", reg);
                rsap_iana_free(reg);
        }
        return failed;
}
