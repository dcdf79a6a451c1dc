/*
 * forks.c - 4 threads allocate and free all the time while each of them
 * forks children; every child allocates, checks and frees in its turn (it
 * would hang on an allocator lock inherited held, or crash on a heap caught
 * half-changed), and exits 0 only if all went well.  Prints how many
 * children succeeded.  Used by tests/e2e_malloc.sh.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define THREADS 4
#define FORKS 25

static _Atomic unsigned ok_children, bad_children;

static int churn(unsigned seed, unsigned rounds)
{
    void *keep[64] = {0};
    size_t sizes[64] = {0};
    for (unsigned i = 0; i < rounds; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned k = (seed >> 8) % 64;
        if (keep[k]) {
            unsigned char *p = keep[k];
            for (size_t j = 0; j < sizes[k]; j++)
                if (p[j] != (unsigned char)(k + j))
                    return 1;
            free(p);
        }
        sizes[k] = 1 + (seed >> 16) % 2000;
        unsigned char *p = malloc(sizes[k]);
        if (!p)
            return 1;
        for (size_t j = 0; j < sizes[k]; j++)
            p[j] = (unsigned char)(k + j);
        keep[k] = p;
    }
    for (unsigned k = 0; k < 64; k++)
        free(keep[k]);
    return 0;
}

static void *work(void *arg)
{
    unsigned me = (unsigned)(uintptr_t)arg;
    for (unsigned f = 0; f < FORKS; f++) {
        if (churn(me * 1000u + f, 2000))
            bad_children++;
        pid_t pid = fork();
        if (pid == 0)
            _exit(churn(me + f, 5000));
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            bad_children++;
        else
            ok_children++;
    }
    return NULL;
}

int main(void)
{
    pthread_t t[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, work, (void *)(uintptr_t)(i + 1));
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    printf("children: %u succeeded, %u failed\n", ok_children, bad_children);
    return bad_children != 0;
}
