/* SPDX-License-Identifier: MIT */
/*
 * password.c - the password sources: a command (own process group,
 * bounded by the run's deadline, killed with its whole group on timeout
 * or on a signal), a file (msmtp's check_secure, read(2) into wiped
 * memory) and the terminal (echo off, restored on every signal before
 * the signal is re-raised, like readpassphrase(3)).
 *
 * Signals: while a command runs or the prompt waits, the signals we act
 * on are blocked and only let through inside ppoll(2), so none can slip
 * in between a check and a blocking call.  The handler only records the
 * signal number; the work (killing the group, restoring the terminal)
 * happens in normal context, then the original disposition is put back
 * and the signal is sent again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "password.h"

extern char **environ;

#define PW_ENV "XMPPSEND_PASSWORD"
/* Between SIGTERM and SIGKILL for the command's process group. */
#define PW_GRACE_MS 300

/* ---------------------------------------------------------------- */
/* Signals                                                           */

static volatile sig_atomic_t pw_signo;

static void pw_on_signal(int sig)
{
    pw_signo = sig;
}

/* Only interrupts ppoll(2) so a finished command is noticed at once. */
static void pw_on_chld(int sig)
{
    (void)sig;
}

#define PW_MAXSIGS 16

struct pw_sigs {
    const int *sigs;
    size_t n;
    struct sigaction old[PW_MAXSIGS];
    struct sigaction old_chld;
    int chld;
    sigset_t oldmask;
};

/*
 * Block 'ss->sigs' (and SIGCHLD when 'chld'), then catch them; signals
 * the caller ignores stay ignored.  ppoll(2) with ss->oldmask lets them
 * in.
 */
static void pw_catch(struct pw_sigs *ss, int chld)
{
    struct sigaction sa;
    sigset_t block;
    size_t i;

    sigemptyset(&block);
    for (i = 0; i < ss->n; i++)
        sigaddset(&block, ss->sigs[i]);
    if (chld)
        sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &ss->oldmask);
    pw_signo = 0;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = pw_on_signal;
    for (i = 0; i < ss->n; i++) {
        sigaction(ss->sigs[i], NULL, &ss->old[i]);
        if (ss->old[i].sa_handler != SIG_IGN)
            sigaction(ss->sigs[i], &sa, NULL);
    }
    ss->chld = chld;
    if (chld) {
        sa.sa_handler = pw_on_chld;
        sa.sa_flags = 0; /* a stopped command wakes us too */
        sigaction(SIGCHLD, &sa, &ss->old_chld);
    }
}

/*
 * Put the dispositions back, send ourselves the caught signal again (it
 * stays pending until the mask is restored), restore the mask.  Returns
 * the signal that was caught (0: none) if we are still alive.
 */
static int pw_release(struct pw_sigs *ss)
{
    int sig = pw_signo;
    size_t i;

    for (i = 0; i < ss->n; i++)
        sigaction(ss->sigs[i], &ss->old[i], NULL);
    if (ss->chld)
        sigaction(SIGCHLD, &ss->old_chld, NULL);
    if (sig != 0)
        kill(getpid(), sig);
    sigprocmask(SIG_SETMASK, &ss->oldmask, NULL);
    pw_signo = 0;
    return sig;
}

static void pw_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* ---------------------------------------------------------------- */
/* Reading                                                           */

enum xs_err
pw_read_fd(int fd, size_t max, char **out, size_t *len, struct xs_error *err)
{
    size_t cap = 256, n = 0;
    char *b = xmalloc(cap);

    *out = NULL;
    *len = 0;
    for (;;) {
        if (n + 1 >= cap) {
            /* Grow by hand so the old copy is wiped, not left behind. */
            char *nb = xmalloc(cap * 2);
            memcpy(nb, b, n);
            xs_wipe(b, cap);
            free(b);
            b = nb;
            cap *= 2;
        }
        size_t want = cap - 1 - n;
        if (want > max + 1 - n)
            want = max + 1 - n; /* one byte past max tells "too long" */
        ssize_t k = read(fd, b + n, want);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            int saved = errno;
            xs_wipe(b, cap);
            free(b);
            xs_seterr(err, XS_EIO, "read error: %s", strerror(saved));
            return XS_EIO;
        }
        if (k == 0)
            break;
        n += (size_t)k;
        if (n > max) {
            xs_wipe(b, cap);
            free(b);
            xs_seterr(err, XS_EDATA, "more than %zu bytes", max);
            return XS_EDATA;
        }
    }
    b[n] = '\0';
    *out = b;
    *len = n;
    return XS_OK;
}

/* Length of the first line of b[0..n): up to LF, without a CR before it
 * (a CR at the very end of unterminated text may be a cut-off line). */
static size_t first_line_len(const char *b, size_t n)
{
    const char *nl = memchr(b, '\n', n);
    size_t l = nl != NULL ? (size_t)(nl - b) : n;
    if (l > 0 && b[l - 1] == '\r' && (nl != NULL || n <= PW_MAX))
        l--;
    return l;
}

/* ---------------------------------------------------------------- */
/* Files                                                             */

enum xs_err pw_check_secure(const char *path,
                            int fd,
                            int holds_secret,
                            struct xs_error *err)
{
    struct stat st;
    unsigned mode;

    if (fstat(fd, &st) != 0)
        return xs_seterr(err, XS_EOS, "cannot stat %s: %s", path,
                         strerror(errno));
    mode = (unsigned)(st.st_mode & 07777);
    if (!S_ISREG(st.st_mode))
        return xs_seterr(err, XS_ECONFIG, "%s is not a regular file", path);
    if (st.st_uid != getuid())
        return xs_seterr(err, XS_ECONFIG,
                         "%s is owned by uid %u, not by you (uid %u); "
                         "run: chown %u %s",
                         path, (unsigned)st.st_uid, (unsigned)getuid(),
                         (unsigned)getuid(), path);
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
        return xs_seterr(err, XS_ECONFIG,
                         "%s is writable by group or others (mode %04o); "
                         "run: chmod 600 %s",
                         path, mode, path);
    if (holds_secret && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
        return xs_seterr(err, XS_ECONFIG,
                         "%s contains a password but is accessible by group "
                         "or others (mode %04o); run: chmod 600 %s",
                         path, mode, path);
    return XS_OK;
}

enum xs_err pw_from_file(const char *path, char **out, struct xs_error *err)
{
    struct xs_error rerr = {0};
    char *b = NULL;
    size_t n = 0, l;
    enum xs_err e;
    int fd;

    *out = NULL;
    /* O_NONBLOCK: a FIFO must not block the open; it is refused below. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return xs_seterr(err, XS_ENOINPUT, "cannot open password file %s: %s",
                         path, strerror(errno));
    e = pw_check_secure(path, fd, 1, err);
    if (e == XS_OK) {
        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        e = pw_read_fd(fd, PW_FILE_MAX, &b, &n, &rerr);
        if (e != XS_OK)
            xs_seterr(err, e, "password file %s: %s", path, rerr.msg);
    }
    close(fd);
    if (e != XS_OK)
        return e;
    l = first_line_len(b, n);
    if (l == 0)
        e = xs_seterr(err, XS_EDATA,
                      "password file %s: the first line is empty", path);
    else if (l > PW_MAX)
        e = xs_seterr(err, XS_EDATA,
                      "password file %s: the first line is longer than %d "
                      "bytes",
                      path, PW_MAX);
    else if (memchr(b, '\0', l) != NULL)
        e = xs_seterr(err, XS_EDATA,
                      "password file %s: the first line contains a NUL byte",
                      path);
    else
        *out = xstrndup(b, l);
    xs_wipe(b, n);
    free(b);
    return e;
}

/* ---------------------------------------------------------------- */
/* Environment                                                       */

char *pw_take_env(void)
{
    const size_t nl = sizeof(PW_ENV) - 1;
    char *v = getenv(PW_ENV), *copy;
    char **e;

    if (v == NULL)
        return NULL;
    copy = xstrdup(v);
    /* Every copy (execve allows duplicates), in place: this is the
     * memory /proc/PID/environ shows. */
    for (e = environ; *e != NULL; e++) {
        if (strncmp(*e, PW_ENV "=", nl + 1) == 0)
            xs_wipe(*e + nl + 1, strlen(*e + nl + 1));
    }
    unsetenv(PW_ENV);
    return copy;
}

/* environ without XMPPSEND_PASSWORD (the strings are shared). */
static char **env_without_password(void)
{
    const size_t nl = sizeof(PW_ENV) - 1;
    size_t n = 0, i, j = 0;
    char **v;

    while (environ != NULL && environ[n] != NULL)
        n++;
    v = xcalloc(n + 1, sizeof *v);
    for (i = 0; i < n; i++) {
        if (strncmp(environ[i], PW_ENV "=", nl + 1) != 0)
            v[j++] = environ[i];
    }
    v[j] = NULL;
    return v;
}

/* ---------------------------------------------------------------- */
/* Command                                                           */

/*
 * End the process group 'pid': SIGTERM (and SIGCONT, for a stopped
 * member), up to PW_GRACE_MS for it to go, then SIGKILL; the leader is
 * reaped unless *exited says it was already.
 */
static void kill_group(pid_t pid, int *exited, int *status)
{
    long long end = xs_now_ms() + PW_GRACE_MS;

    kill(-pid, SIGTERM);
    kill(-pid, SIGCONT);
    while (xs_now_ms() < end) {
        if (!*exited && waitpid(pid, status, WNOHANG) == pid)
            *exited = 1;
        if (*exited && kill(-pid, 0) != 0)
            return; /* gone: its number may be someone else's soon */
        pw_sleep_ms(10);
    }
    kill(-pid, SIGKILL);
    while (!*exited) {
        pid_t r = waitpid(pid, status, 0);
        if (r == pid || (r < 0 && errno != EINTR))
            *exited = 1;
    }
}

/* Move 'fd' above the standard descriptors (keeps close-on-exec). */
static int above_stdio(int fd)
{
    int nfd;

    if (fd > STDERR_FILENO)
        return fd;
    nfd = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
    close(fd);
    return nfd;
}

/*
 * The controlling terminal, lent to the command's process group while it
 * runs when we hold the foreground, as a shell does for a foreground
 * job: a command that asks on the terminal (gpg --pinentry-mode
 * loopback, read </dev/tty) can read it instead of being stopped by
 * SIGTTIN, and Ctrl-C reaches it.
 */
struct pw_tty {
    int fd, lent, was_lent, have_tc;
    struct termios saved;
};

static void tty_lend(struct pw_tty *t, pid_t pgrp)
{
    t->lent = 0;
    t->have_tc = 0;
    t->fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (t->fd < 0)
        return;
    if (tcgetpgrp(t->fd) != getpgrp()) {
        close(t->fd);
        t->fd = -1;
        return;
    }
    t->have_tc = tcgetattr(t->fd, &t->saved) == 0;
    if (tcsetpgrp(t->fd, pgrp) == 0) {
        t->lent = 1;
        t->was_lent = 1;
        /* It may have tried the terminal already and been stopped. */
        kill(-pgrp, SIGCONT);
    }
}

/* Foreground and settings back to us; we are in the background now, so
 * SIGTTOU is blocked meanwhile. */
static void tty_reclaim(struct pw_tty *t)
{
    sigset_t ttou, old;

    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, &old);
    tcsetpgrp(t->fd, getpgrp());
    if (t->have_tc)
        tcsetattr(t->fd, TCSADRAIN, &t->saved);
    sigprocmask(SIG_SETMASK, &old, NULL);
}

/*
 * The command's group was stopped (Ctrl-Z) while it had the terminal:
 * take the terminal back and stop ourselves, so the shell gets control,
 * as it would for any job; once continued, lend it again and continue
 * the group.  The run's deadline keeps running meanwhile.
 */
static void tty_suspend(struct pw_tty *t, pid_t pgrp)
{
    tty_reclaim(t);
    kill(getpid(), SIGTSTP);
    if (tcgetpgrp(t->fd) == getpgrp() && tcsetpgrp(t->fd, pgrp) == 0)
        t->lent = 1;
    else
        t->lent = 0;
    kill(-pgrp, SIGCONT);
}

/* Take the foreground back (we are in the background now: no SIGTTOU)
 * with the terminal settings of before. */
static void tty_take_back(struct pw_tty *t)
{
    if (t->fd < 0)
        return;
    if (t->lent)
        tty_reclaim(t);
    close(t->fd);
    t->fd = -1;
    t->lent = 0;
}

/* What the command printed: the first line, bounded; the rest dropped. */
struct pw_out {
    char *b;
    size_t n;
    int line_done; /* a newline was seen, or the buffer is full */
    int eof;
};

/* Read what is available now (rfd is non-blocking), at most 64 KiB so
 * a command that never stops writing cannot keep us from the deadline. */
static enum xs_err pw_out_read(struct pw_out *o, int rfd, struct xs_error *err)
{
    size_t budget = 65536;
    char sink[512];

    while (budget > 0) {
        ssize_t k;
        if (!o->line_done) {
            k = read(rfd, o->b + o->n, PW_MAX + 1 - o->n);
            if (k > 0) {
                if (memchr(o->b + o->n, '\n', (size_t)k) != NULL)
                    o->line_done = 1;
                o->n += (size_t)k;
                if (o->n == PW_MAX + 1)
                    o->line_done = 1;
            }
        } else {
            k = read(rfd, sink, sizeof sink);
        }
        if (k == 0) {
            o->eof = 1;
            break;
        }
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            xs_wipe(sink, sizeof sink);
            return xs_seterr(err, XS_EIO,
                             "cannot read the output of password-command: %s",
                             strerror(errno));
        }
        budget -= (size_t)k < budget ? (size_t)k : budget;
    }
    xs_wipe(sink, sizeof sink);
    return XS_OK;
}

/* Start /bin/sh -c CMD as described in password.h; stdout to 'wfd'. */
static int pw_spawn(const char *cmd, int wfd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, def;
    char sh[] = "sh", dash_c[] = "-c";
    char *cmd_copy = xstrdup(cmd);
    char *argv[] = {sh, dash_c, cmd_copy, NULL};
    char **env = env_without_password();
    int rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY,
                                     0);
    posix_spawn_file_actions_adddup2(&fa, wfd, STDOUT_FILENO);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
                                      POSIX_SPAWN_SETSIGMASK |
                                      POSIX_SPAWN_SETSIGDEF);
    rc = posix_spawn(pid, "/bin/sh", &fa, &at, argv, env);
    posix_spawnattr_destroy(&at);
    posix_spawn_file_actions_destroy(&fa);
    free(env);
    free(cmd_copy);
    return rc;
}

enum xs_err pw_from_command(const char *cmd,
                            long long deadline_ms,
                            char **out,
                            struct xs_error *err)
{
    /* Every signal that would end xmppsend: the command's group goes
     * first. */
    static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                               SIGALRM, SIGUSR1, SIGUSR2};
    _Static_assert(sizeof sigs / sizeof sigs[0] <= PW_MAXSIGS, "pw_sigs");
    struct pw_sigs ss;
    struct pw_tty tty;
    struct pw_out o = {NULL, 0, 0, 0};
    long long start = xs_now_ms();
    int p[2], exited = 0, status = 0, rc, sig;
    enum xs_err e = XS_OK;
    pid_t pid;

    memset(&ss, 0, sizeof ss);
    ss.sigs = sigs;
    ss.n = sizeof sigs / sizeof sigs[0];
    memset(&tty, 0, sizeof tty);
    tty.fd = -1;
    *out = NULL;
    if (start >= deadline_ms)
        return xs_seterr(err, XS_ETEMP,
                         "timed out before running password-command");
    if (pipe2(p, O_CLOEXEC) != 0)
        return xs_seterr(err, XS_EOS, "cannot run password-command: %s",
                         strerror(errno));
    p[0] = above_stdio(p[0]);
    p[1] = above_stdio(p[1]);
    if (p[0] < 0 || p[1] < 0) {
        if (p[0] >= 0)
            close(p[0]);
        if (p[1] >= 0)
            close(p[1]);
        return xs_seterr(err, XS_EOS, "cannot run password-command: %s",
                         strerror(errno));
    }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);

    /* Catch before the spawn: a signal in between must not be lost. */
    pw_catch(&ss, 1);
    rc = pw_spawn(cmd, p[1], &pid);
    close(p[1]);
    if (rc != 0) {
        close(p[0]);
        pw_release(&ss);
        return xs_seterr(err, XS_EOS, "cannot run password-command: %s",
                         strerror(rc));
    }
    o.b = xmalloc(PW_MAX + 1);
    tty_lend(&tty, pid);

    for (;;) {
        if (pw_signo != 0) {
            kill_group(pid, &exited, &status);
            e = xs_seterr(err, XS_ETEMP,
                          "interrupted by signal %d while running "
                          "password-command",
                          (int)pw_signo);
            break;
        }
        if (!exited) {
            pid_t r = waitpid(pid, &status, WNOHANG | WUNTRACED);
            if (r == pid && WIFSTOPPED(status)) {
                /* Ctrl-Z on the terminal we lent: stop with it. */
                if (tty.lent)
                    tty_suspend(&tty, pid);
                status = 0;
            } else if (r == pid) {
                exited = 1;
            }
        }
        if (exited) {
            /* Whatever it wrote is in the pipe now; a background
             * process it left may hold the pipe open: do not wait. */
            if (!o.eof)
                e = pw_out_read(&o, p[0], err);
            /* Nothing of it may outlive it. */
            if (kill(-pid, 0) == 0)
                kill_group(pid, &exited, &status);
            break;
        }
        long long left = deadline_ms - xs_now_ms();
        if (left <= 0) {
            long long ran = xs_now_ms() - start;
            kill_group(pid, &exited, &status);
            e = xs_seterr(err, XS_ETEMP,
                          "timed out after %lld.%lld s while running "
                          "password-command",
                          ran / 1000, ran % 1000 / 100);
            break;
        }
        struct pollfd pfd = {p[0], POLLIN, 0};
        struct timespec ts = {(time_t)(left / 1000),
                              (long)(left % 1000) * 1000000L};
        int r = ppoll(o.eof ? NULL : &pfd, o.eof ? 0 : 1, &ts, &ss.oldmask);
        if (r < 0 && errno != EINTR) {
            e = xs_seterr(err, XS_EOS, "poll: %s", strerror(errno));
            kill_group(pid, &exited, &status);
            break;
        }
        if (r > 0 && (e = pw_out_read(&o, p[0], err)) != XS_OK) {
            kill_group(pid, &exited, &status);
            break;
        }
    }
    close(p[0]);
    tty_take_back(&tty);
    /* Ctrl-C or Ctrl-\ on the terminal we lent went to the command
     * only: it was meant for us too. */
    if (e == XS_OK && tty.was_lent && WIFSIGNALED(status) &&
        (WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGQUIT)) {
        pw_signo = WTERMSIG(status);
        e = xs_seterr(err, XS_ETEMP,
                      "interrupted by signal %d while running "
                      "password-command",
                      WTERMSIG(status));
    }
    sig = pw_release(&ss);
    (void)sig; /* still alive: the signal is ignored or handled */

    if (e == XS_OK) {
        size_t l = first_line_len(o.b, o.n);
        if (WIFSIGNALED(status))
            e = xs_seterr(err, XS_ECONFIG,
                          "password-command was killed by signal %d",
                          WTERMSIG(status));
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            e = xs_seterr(err, XS_ECONFIG,
                          "password-command failed (exit status %d)",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        else if (o.n == 0)
            e = xs_seterr(err, XS_ECONFIG, "password-command printed nothing");
        else if (l > PW_MAX)
            e = xs_seterr(err, XS_ECONFIG,
                          "password-command printed a first line longer "
                          "than %d bytes",
                          PW_MAX);
        else if (l == 0)
            e = xs_seterr(err, XS_ECONFIG,
                          "password-command printed an empty first line");
        else if (memchr(o.b, '\0', l) != NULL)
            e = xs_seterr(err, XS_ECONFIG,
                          "password-command printed a NUL byte");
        else
            *out = xstrndup(o.b, l);
    }
    xs_wipe(o.b, PW_MAX + 1);
    free(o.b);
    return e;
}

/* ---------------------------------------------------------------- */
/* Terminal                                                          */

/* Would SIG act on us: caught or default, not ignored, not blocked? */
static int pw_sig_acts(const struct pw_sigs *ss, int sig)
{
    size_t i;

    if (sigismember(&ss->oldmask, sig) == 1)
        return 0;
    for (i = 0; i < ss->n; i++) {
        if (ss->sigs[i] == sig)
            return ss->old[i].sa_handler != SIG_IGN;
    }
    return 1;
}

struct pw_line {
    size_t n;
    int eof, toolong, ioerr;
};

/* One prompt: echo off, read a line into b (waiting with 'mask', which
 * lets the caught signals in), settings back. */
static void prompt_once(
    int fd, const char *jid, const sigset_t *mask, char *b, struct pw_line *l)
{
    struct termios saved, t;
    int have_tc = tcgetattr(fd, &saved) == 0;
    if (have_tc) {
        t = saved;
        t.c_lflag &= ~(tcflag_t)ECHO;
        t.c_lflag |= ECHONL;
        tcsetattr(fd, TCSAFLUSH, &t);
    }
    dprintf(fd, "Password for %s: ", jid);
    for (;;) {
        struct pollfd pfd = {fd, POLLIN, 0};
        char c;
        ssize_t k;

        if (pw_signo != 0)
            break;
        if (ppoll(&pfd, 1, NULL, mask) < 0) {
            if (errno == EINTR)
                continue;
            l->ioerr = errno;
            break;
        }
        k = read(fd, &c, 1);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k < 0) {
            l->ioerr = errno;
            break;
        }
        if (k == 0) {
            l->eof = 1;
            break;
        }
        if (c == '\n' || c == '\r')
            break;
        if (l->n < PW_MAX)
            b[l->n++] = c;
        else
            l->toolong = 1;
        c = 0;
    }
    if (have_tc)
        tcsetattr(fd, TCSAFLUSH, &saved);
    /* The newline the user did not type (ECHONL echoed a typed one). */
    if (pw_signo != 0 || l->eof || l->ioerr != 0)
        (void)!write(fd, "\n", 1);
}

enum xs_err pw_prompt(const char *jid, char **out, struct xs_error *err)
{
    static const int sigs[] = {SIGINT,  SIGQUIT, SIGTERM, SIGHUP,  SIGALRM,
                               SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU};
    _Static_assert(sizeof sigs / sizeof sigs[0] <= PW_MAXSIGS, "pw_sigs");
    struct pw_sigs ss;
    enum xs_err e = XS_OK;
    int fd, quick_stops = 0;
    char *b;

    memset(&ss, 0, sizeof ss);
    ss.sigs = sigs;
    ss.n = sizeof sigs / sizeof sigs[0];
    *out = NULL;
    fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return xs_seterr(err, XS_EUSAGE,
                         "no password given (use --password-file, "
                         "--password-command or XMPPSEND_PASSWORD)");
    b = xmalloc(PW_MAX + 1);
    for (;;) {
        struct pw_line l = {0, 0, 0, 0};
        long long t0;
        int sig;

        pw_catch(&ss, 0);
        /* In the background, the terminal is the foreground job's: stop
         * (SIGTTOU, as tcsetattr would) before touching it, and ask once
         * we are continued in the foreground. */
        if (tcgetpgrp(fd) != getpgrp() && pw_sig_acts(&ss, SIGTTOU)) {
            if (quick_stops > 3) {
                pw_release(&ss);
                e = xs_seterr(err, XS_EUSAGE,
                              "cannot ask for the password from the "
                              "background");
                break;
            }
            pw_signo = SIGTTOU;
        } else {
            prompt_once(fd, jid, &ss.oldmask, b, &l);
        }
        t0 = xs_now_ms();
        sig = pw_release(&ss); /* may stop or end the process here */
        if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
            /* Not stopped at all (orphaned process group): give up
             * after a few rounds instead of spinning. */
            quick_stops = xs_now_ms() - t0 < 100 ? quick_stops + 1 : 0;
            xs_wipe(b, l.n);
            continue; /* continued after a stop: prompt again */
        }
        if (sig != 0)
            e = xs_seterr(err, XS_EUSAGE,
                          "no password entered (interrupted by signal %d)",
                          sig);
        else if (l.ioerr != 0)
            e = xs_seterr(err, XS_EIO, "cannot read the terminal: %s",
                          strerror(l.ioerr));
        else if (l.toolong)
            e = xs_seterr(err, XS_EDATA, "the password is longer than %d bytes",
                          PW_MAX);
        else if (l.n == 0)
            e = xs_seterr(err, XS_EUSAGE, "no password entered");
        else
            *out = xstrndup(b, l.n);
        xs_wipe(b, l.n);
        break;
    }
    close(fd);
    free(b);
    return e;
}

/* ---------------------------------------------------------------- */
/* A descriptor (--password-fd)                                      */

enum xs_err
pw_from_fd(int fd, long long deadline_ms, char **out, struct xs_error *err)
{
    char *b;
    size_t n = 0;
    enum xs_err e = XS_OK;

    *out = NULL;
    if (fcntl(fd, F_GETFD) < 0)
        return xs_seterr(err, XS_ENOINPUT, "--password-fd %d: not open: %s", fd,
                         strerror(errno));
    b = xmalloc(PW_MAX + 2);
    /* Up to the first newline: what follows it stays unread when the
     * descriptor is a pipe that is not closed after the password. */
    while (n <= PW_MAX && memchr(b, '\n', n) == NULL) {
        long long left = deadline_ms - xs_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        int r =
            left > 0 ? poll(&p, 1, left > 1000000 ? 1000000 : (int)left) : 0;
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            e = xs_seterr(err, XS_ETEMP,
                          "--password-fd %d: no password before the "
                          "deadline",
                          fd);
            break;
        }
        ssize_t k = r < 0 ? -1 : read(fd, b + n, 1);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (k < 0) {
            e = xs_seterr(err, XS_EIO, "--password-fd %d: %s", fd,
                          strerror(errno));
            break;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (e == XS_OK) {
        size_t l = first_line_len(b, n);
        if (l > PW_MAX)
            e = xs_seterr(err, XS_EDATA,
                          "--password-fd %d: the first line is longer than "
                          "%d bytes",
                          fd, PW_MAX);
        else if (l == 0)
            e = xs_seterr(err, XS_EDATA, "--password-fd %d: no password", fd);
        else if (memchr(b, '\0', l) != NULL)
            e = xs_seterr(err, XS_EDATA,
                          "--password-fd %d: the first line contains a NUL "
                          "byte",
                          fd);
        else
            *out = xstrndup(b, l);
    }
    xs_wipe(b, PW_MAX + 2);
    free(b);
    return e;
}
