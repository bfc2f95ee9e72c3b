/* SPDX-License-Identifier: MIT */
/*
 * rsap_listen_container_id on /proc/PID/cgroup as the kernel writes it for
 * processes of docker, podman and containerd, under cgroup v1 and v2 and
 * both of systemd's and the cgroupfs driver; and on lines that name no
 * container, or something near one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rsap/listen.h>

#define ID64 "3f4e8a9b2c1d0e5f6a7b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b"

static void expect_id(const char *cgroup, const char *want)
{
        char id[65];

        memset(id, 'x', sizeof(id));
        assert_int_equal(rsap_listen_container_id(cgroup, id, sizeof(id)), 1);
        assert_string_equal(id, want);
}

static void expect_none(const char *cgroup)
{
        char id[65] = "";

        assert_int_equal(rsap_listen_container_id(cgroup, id, sizeof(id)), 0);
}

static void test_docker(void **state)
{
        (void)state;
        /* cgroup v2, systemd driver */
        expect_id("0::/system.slice/docker-" ID64 ".scope\n", ID64);
        /* cgroup v1, cgroupfs driver: every hierarchy names it */
        expect_id("12:pids:/docker/" ID64 "\n11:memory:/docker/" ID64 "\n"
                  "1:name=systemd:/docker/" ID64 "\n0::/system.slice/containerd.service\n",
                  ID64);
        /* cgroup v2, cgroupfs driver, rootless docker under its user service */
        expect_id("0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker.service/"
                  "docker/" ID64 "\n",
                  ID64);
}

static void test_podman_and_containerd(void **state)
{
        (void)state;
        /* podman, the container's own cgroup beneath its scope */
        expect_id("0::/machine.slice/libpod-" ID64 ".scope/container\n", ID64);
        /* kubelet with containerd and the systemd driver */
        expect_id("0::/kubepods.slice/kubepods-besteffort.slice/"
                  "kubepods-besteffort-pod5b3c3f0e_7d4f_4c68_9f0a_1d2e3f405162.slice/"
                  "cri-containerd-" ID64 ".scope\n",
                  ID64);
        /* the last line need not end in a newline */
        expect_id("0::/system.slice/docker-" ID64 ".scope", ID64);
}

static void test_no_container(void **state)
{
        (void)state;
        expect_none("");
        expect_none("0::/user.slice/user-1000.slice/session-2.scope\n");
        expect_none("0::/init.scope\n");
        expect_none("0::/system.slice/docker.service\n");
        /* conmon, podman's monitor, runs beside the container, not in it */
        expect_none("0::/machine.slice/libpod-conmon-" ID64 ".scope\n");
        /* a directory named after a container id, but not under docker */
        expect_none("0::/system.slice/" ID64 "\n");
        /* ids of the wrong length or case, a scope without its suffix */
        expect_none("0::/docker/3f4e8a9b2c1d\n");
        expect_none("0::/system.slice/docker-" ID64 "0.scope\n");
        expect_none("0::/system.slice/docker-3F4E8A9B2C1D0E5F6A7B8C9D0E1F2A3B4C5D6E7F8091A2B3C4D5E6F7"
                    "08192A3B.scope\n");
        expect_none("0::/system.slice/docker-" ID64 "\n");
        expect_none("0::/system.slice/docker-" ID64 ".scope.bak\n");
        /* no path at all: a line without its two colons */
        expect_none("/docker/" ID64 "\n");
}

static void test_first_line_and_room(void **state)
{
        char small[64];

        (void)state;
        /* containerd's shorter ids; the first line that names one wins */
        expect_id("5:cpu:/user.slice\n4:memory:/kubepods/cri-containerd-0123456789ab.scope\n"
                  "0::/system.slice/docker-" ID64 ".scope\n",
                  "0123456789ab");
        assert_int_equal(rsap_listen_container_id("0::/docker/" ID64 "\n", small, sizeof(small)),
                         -ENOSPC);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_docker),
                cmocka_unit_test(test_podman_and_containerd),
                cmocka_unit_test(test_no_container),
                cmocka_unit_test(test_first_line_and_room),
        };

        return cmocka_run_group_tests_name("listen container", tests, NULL, NULL);
}
