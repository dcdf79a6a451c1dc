/*
 * fork200.c - issue 9's fork test through the malloc replacement: 4 threads
 * allocate, check and free without pause while the main thread forks 200
 * children, one after another.  Each child allocates, checks and frees in
 * its turn and exits 0 only if all went well (a lock inherited held would
 * hang it, a heap caught half-changed would fail it or crash it); a child
 * that does not end within 10 s is killed and counted as hung.  Prints the
 * counts; exits 0 only if every child succeeded.  Used by tests/e2e_malloc.sh.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define CHILDREN 200

static atomic_bool stop;

/* Objects of 1..1500 bytes kept in 48 places, each filled with a pattern
 * that is checked before it is freed; 1 on a wrong byte or a NULL. */
static int work(unsigned seed, unsigned rounds)
{
    unsigned char *obj[48] = {0};
    size_t len[48] = {0};
    int bad = 0;
    for (unsigned r = 0; (rounds == 0 || r < rounds) && !bad; r++) {
        if (rounds == 0 && atomic_load_explicit(&stop, memory_order_relaxed))
            break;
        seed = seed * 1664525u + 1013904223u;
        unsigned k = (seed >> 10) % 48u;
        if (obj[k]) {
            for (size_t j = 0; j < len[k]; j++)
                bad |= obj[k][j] != (unsigned char)(k * 3u + j);
            free(obj[k]);
            obj[k] = NULL;
            continue;
        }
        len[k] = 1u + (seed >> 16) % 1500u;
        obj[k] = malloc(len[k]);
        if (!obj[k])
            return 1;
        for (size_t j = 0; j < len[k]; j++)
            obj[k][j] = (unsigned char)(k * 3u + j);
    }
    for (unsigned k = 0; k < 48u; k++)
        free(obj[k]);
    return bad;
}

static void *churn(void *arg)
{
    return (void *)(uintptr_t)work((unsigned)(uintptr_t)arg, 0);
}

int main(void)
{
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, churn, (void *)(uintptr_t)(i * 7919u + 1u));
    unsigned ok = 0, failed = 0, hung = 0;
    for (unsigned c = 0; c < CHILDREN; c++) {
        pid_t pid = fork();
        if (pid == 0) {
            alarm(10);
            _exit(work(c + 17u, 3000));
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
            failed++;
        else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
            hung++;
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            ok++;
        else
            failed++;
    }
    atomic_store(&stop, true);
    int threads_bad = 0;
    for (unsigned i = 0; i < THREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        threads_bad |= r != NULL;
    }
    printf("children: %u succeeded, %u failed, %u hung; threads %s\n", ok, failed, hung,
           threads_bad ? "saw damage" : "fine");
    return ok == CHILDREN && !threads_bad ? 0 : 1;
}
