/* rusage.c - run a command, then write its CPU time and peak RSS.
 *
 *   xsb-rusage OUTFILE COMMAND [ARG...]
 *
 * Writes "USER_SECONDS SYS_SECONDS MAXRSS_KIB" (microsecond resolution) to
 * OUTFILE and exits with the command's status (128 + signal when killed).
 * Used by bench/xsbench.py: a child forked from Python reports Python's
 * own pages in ru_maxrss (the pre-exec high-water mark survives execve) and
 * GNU time(1) prints CPU time in 10 ms steps; this small program has
 * neither problem. The numbers cover the command and every descendant it
 * waited for (e.g. timeout(1) and its child).
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fputs("usage: xsb-rusage OUTFILE COMMAND [ARG...]\n", stderr);
        return 64;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("xsb-rusage: fork");
        return 71;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror("xsb-rusage: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) {
            perror("xsb-rusage: wait4");
            return 71;
        }
    }
    FILE *out = fopen(argv[1], "w");
    if (out) {
        fprintf(out, "%ld.%06ld %ld.%06ld %ld\n", (long)ru.ru_utime.tv_sec,
                (long)ru.ru_utime.tv_usec, (long)ru.ru_stime.tv_sec,
                (long)ru.ru_stime.tv_usec, ru.ru_maxrss);
        fclose(out);
    }
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}
