/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * rsap check's reading of deployment files with libfyaml: the host ports a
 * Compose file or a Kubernetes manifest asks for, each with where the file
 * says so.  The port specs themselves are parsed by rsap/deploy.h.
 */
#include <stddef.h>
#include <stdint.h>

#include <rsap/deploy.h>

/* Files larger than this are refused before they are read (documented in rsap-check(1)). */
#define CHECK_FILE_MAX (16u * 1024 * 1024)
/* Host ports of one run, all files together; a file asking for more is refused. */
#define CHECK_PORTS_MAX 100000

struct check_port {
        const char *file;        /* as given on the command line */
        int line, column;        /* 1-based; 0 when unknown */
        const char *source;      /* "compose" or "kubernetes" */
        char service[64];        /* compose service, object name, or --service */
        char host_ip[64];        /* "" for every address */
        uint16_t port;
        enum rsap_proto proto;
        struct rsap_deploy_finding *findings; /* n_findings of them, malloc'ed; NULL: none */
        int n_findings;
};

struct check_ports {
        struct check_port *items;
        size_t n, capacity;
};

/* Where variables come from: the environment first, then the env file's lines. */
struct check_env {
        char **lines;            /* "KEY=VALUE", from --env-file or the .env beside a file */
        size_t n, capacity;
};

/*
 * Reads path (an env file: --env-file, or NULL for the .env beside file,
 * which may be missing) into env.  0, or nonzero after printing why.
 */
int check_env_load(struct check_env *env, const char *env_file, const char *file);
void check_env_clear(struct check_env *env);

/*
 * Appends the host ports of every document of path to out.  0, or -1 after
 * printing one line that says what is wrong and where (FILE:LINE:COL).
 */
int check_yaml_file(const char *path, const struct check_env *env, struct check_ports *out);
void check_ports_clear(struct check_ports *ports);
