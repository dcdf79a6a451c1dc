/*
 * livecheck.c - a reader of live mode's shared mapping (lib/mem_live.h) that
 * checks the writer's side of the protocol (tests/e2e_live.sh):
 *
 *   livecheck SO SCENARIO CMD [ARGS...]
 *
 * starts CMD with SO preloaded over a memfd of its own (as heapviz -- CMD
 * does), waits until the header is published, runs SCENARIO, prints what
 * it found as "key value" lines, ends CMD (SIGTERM) and exits 0, or 1 with
 * a message when the protocol itself failed.  CMD is expected to allocate
 * and free without pause (tests/programs/live.c N 0 churn).
 *   absent   no reader's mark for a second: events the writer sent then
 *            (events_absent), operations it counted instead
 *            (unrecorded_absent); then the mark every 10 ms for a second:
 *            events_present
 *   park     a request answered LIVE_PARKED (parked 1), the generation
 *            even and unchanged for 5 ms while parked (still 1), the
 *            writer going on after the release (resumed 1); then a request
 *            never released: the writer goes on by itself (alone 1) after
 *            waited_ms, its longest wait max_ms (the writer's own count)
 *   mark     the reader's mark every 10 ms until CMD ends, and nothing
 *            else (CMD's output is not redirected): what a reader's
 *            presence costs the writer
 *   budget   a request every 100 us for 2 s, each released at once or
 *            never: parks answered, refused, the writer's time parked in
 *            all (park_ms) and the wall time (wall_ms)
 */
#include "mem_live.h"

#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* CLOCK_MONOTONIC in ns, as the writer reads it for the reader's mark */
static long long now_ns(void)
{
    struct timespec ts;
    return clock_gettime(CLOCK_MONOTONIC, &ts) == 0
               ? ts.tv_sec * 1000000000LL + ts.tv_nsec
               : 0;
}

static LiveHeader *hd;
static LiveReader *rd;
static uint32_t req;

static void fail(const char *what)
{
    fprintf(stderr, "livecheck: %s\n", what);
    exit(1);
}

/* A new request; the writer's answer (0: none in 2 s). */
static uint32_t request(void)
{
    req++;
    atomic_store(&rd->park_req, req);
    long long t0 = now_ns();
    while (atomic_load(&hd->park_ack) != req) {
        if (now_ns() - t0 > 2000000000LL)
            return 0;
        sched_yield();
    }
    return atomic_load(&hd->park_state);
}

static void release(void)
{
    atomic_store(&rd->park_release, req);
    syscall(SYS_futex, (void *)&rd->park_release, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

static void mark(void)
{
    atomic_store(&rd->seen, now_ns());
}

static void absent(void)
{
    atomic_store(&rd->seen, 0);
    sleep(1);
    uint64_t e0 = atomic_load(&hd->events), u0 = atomic_load(&hd->unrecorded);
    sleep(1);
    uint64_t e1 = atomic_load(&hd->events), u1 = atomic_load(&hd->unrecorded);
    printf("events_absent %llu\nunrecorded_absent %llu\n", (unsigned long long)(e1 - e0),
           (unsigned long long)(u1 - u0));
    for (int i = 0; i < 50; i++) {
        mark();
        usleep(10000);
    }
    uint64_t e2 = atomic_load(&hd->events);
    for (int i = 0; i < 100; i++) {
        mark();
        usleep(10000);
    }
    printf("events_present %llu\n", (unsigned long long)(atomic_load(&hd->events) - e2));
}

static void park(void)
{
    mark();
    uint32_t st = request();
    printf("parked %d\n", st == LIVE_PARKED);
    uint64_t g = atomic_load(&hd->gen);
    usleep(5000);
    printf("still %d\n", st == LIVE_PARKED && g % 2 == 0 && atomic_load(&hd->gen) == g);
    release();
    long long t0 = now_ns();
    while (atomic_load(&hd->gen) == g && now_ns() - t0 < 2000000000LL)
        sched_yield();
    printf("resumed %d\n", atomic_load(&hd->gen) != g);
    /* past the writer's budget (19x the wait above), then never released */
    usleep(200000);
    st = request();
    g = atomic_load(&hd->gen);
    t0 = now_ns();
    while (atomic_load(&hd->gen) == g && now_ns() - t0 < 5000000000LL)
        usleep(100);
    printf("alone %d\nwaited_ms %.1f\nmax_ms %.1f\n",
           st == LIVE_PARKED && atomic_load(&hd->gen) != g, (double)(now_ns() - t0) / 1e6,
           (double)atomic_load(&hd->park_max_ns) / 1e6);
    release();
}

static void budget(void)
{
    mark();
    unsigned parked = 0, refused = 0;
    uint64_t ns0 = atomic_load(&hd->park_ns);
    long long t0 = now_ns();
    for (unsigned i = 0; now_ns() - t0 < 2000000000LL; i++) {
        uint32_t st = request();
        if (st == LIVE_PARKED)
            parked++;
        else if (st == LIVE_REFUSED)
            refused++;
        if (i % 2)
            release();
        usleep(100);
    }
    long long wall = now_ns() - t0;
    release();
    printf("parks %u\nrefused %u\npark_ms %.1f\nwall_ms %.1f\n", parked, refused,
           (double)(atomic_load(&hd->park_ns) - ns0) / 1e6, (double)wall / 1e6);
}

int main(int argc, char **argv)
{
    if (argc < 4)
        fail("usage: livecheck SO absent|park|budget CMD [ARGS...]");
    /* as heapviz -- CMD makes it: a 1 GiB arena, its owners table */
    size_t size = LIVE_SITES_END + ((size_t)1 << 30) + ((size_t)1 << 28) + 65536u;
    int fd = memfd_create(LIVE_MEMFD_NAME, 0);
    if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
        fail("cannot make the memfd");
    unsigned char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED)
        fail("cannot map the memfd");
    hd = (LiveHeader *)(void *)map;
    rd = (LiveReader *)(void *)(map + LIVE_READER_OFFSET);
    mark();
    pid_t pid = fork();
    if (pid == 0) {
        char num[16];
        snprintf(num, sizeof num, "%d", fd);
        setenv("MEM_SHARE_FD", num, 1);
        setenv("LD_PRELOAD", argv[1], 1);
        if (strcmp(argv[2], "mark") != 0 && !freopen("/dev/null", "w", stdout))
            _exit(127);
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    long long t0 = now_ns();
    while (memcmp(hd->magic, LIVE_MAGIC, sizeof hd->magic) != 0 || hd->version != LIVE_VERSION) {
        if (now_ns() - t0 > 5000000000LL)
            fail("the header was not published");
        usleep(1000);
    }
    if (strcmp(argv[2], "mark") == 0) { /* a reader that reads nothing */
        int st;
        const char *every = getenv("LIVECHECK_MARK_US");
        while (waitpid(pid, &st, WNOHANG) == 0) {
            mark();
            usleep(every ? (useconds_t)atol(every) : 10000u);
        }
        return 0;
    }
    usleep(300000); /* its objects made, the loop running */
    if (strcmp(argv[2], "absent") == 0)
        absent();
    else if (strcmp(argv[2], "park") == 0)
        park();
    else if (strcmp(argv[2], "budget") == 0)
        budget();
    else
        fail("no such scenario");
    kill(pid, SIGTERM);
    int st;
    waitpid(pid, &st, 0);
    return 0;
}
