/* SPDX-License-Identifier: MIT */
/*
 * test_lines.c - line mode (lines.c) over scripted servers (replay.h):
 * each connection of the loop gets the next script.  The first
 * connection drops while the second line is written; the loop connects
 * again, sends that line again with its original id, never the
 * confirmed first one, then the third.  Also: blank lines, CR LF, a
 * line without an end, a line over 1 MiB, and giving up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lines.h"
#include "test.h"
#include "xml.h"
#include "xmpp.h"

#include "canned.h"
#include "replay.h"

#define F_SASL                                                                 \
    "<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"   \
    "<mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>"
#define F_BIND                                                                 \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"        \
    "</stream:features>"
#define PONG(id) "<iq type='result' id='" id "' from='example.com'/>"

#define F_BIND_SM                                                              \
    "<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"        \
    "<sm xmlns='urn:xmpp:sm:3'/></stream:features>"
#define SM(x) "<" x " xmlns='urn:xmpp:sm:3'/>"

/* SASL, then 'post' (from the restarted stream's header on): segment 0
 * before TLS, segment 1 after. */
static void script_post(struct replay *rp, char *seg[2], const char *post)
{
    char *ch = b64_encode(SFIRST, strlen(SFIRST));
    char *ok = b64_encode(SFINAL_OK, strlen(SFINAL_OK));
    seg[0] = xstrdup(HDR F_TLS PROCEED);
    seg[1] = xasprintf(HDR F_SASL
                       "<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s"
                       "</challenge><success xmlns='urn:ietf:params:xml:ns:"
                       "xmpp-sasl'>%s</success>%s",
                       ch, ok, post);
    free(ch);
    free(ok);
    memset(rp, 0, sizeof *rp);
    rp->seg = (const char *const *)seg;
    rp->nseg = 2;
    rp->close_at = -1;
}

/* A login with bind, then 'tail'. */
static void script(struct replay *rp, char *seg[2], const char *tail)
{
    char *post = xasprintf(HDR F_BIND BOUND "%s", tail);
    script_post(rp, seg, post);
    free(post);
}

struct fixture {
    struct replay *rp;
    size_t nrp, next;
    int connects, disconnects;
    struct xs_io io;
    char ids[8][24]; /* ids of confirmed messages, in order */
    size_t nsent;
    int notes_data, notes_temp;
};

static enum xs_err
f_connect(void *ud, long long deadline, struct xs_io *io, struct xs_error *err)
{
    struct fixture *f = ud;
    (void)deadline;
    f->connects++;
    if (f->next >= f->nrp)
        return xs_seterr(err, XS_ETEMP, "connection refused");
    replay_io(&f->rp[f->next++], io);
    return XS_OK;
}

static void f_disconnect(void *ud)
{
    struct fixture *f = ud;
    f->disconnects++;
}

static enum xs_err f_sent(void *ud, const struct xmpp_recipient *r, size_t n)
{
    struct fixture *f = ud;
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(r[0].status, XMPP_SENT);
    if (f->nsent < 8)
        snprintf(f->ids[f->nsent], sizeof f->ids[0], "%s", r[0].id);
    f->nsent++;
    return XS_OK;
}

static void f_note(void *ud, enum xs_err code, const char *text)
{
    struct fixture *f = ud;
    (void)text;
    if (code == XS_EDATA)
        f->notes_data++;
    else if (code == XS_ETEMP)
        f->notes_temp++;
}

/* A file holding 'input' (a pipe may not hold over 1 MiB), read from
 * its start: the loop's stdin. */
static int input_fd(const char *input, size_t len)
{
    char path[] = "/tmp/test_lines.XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    unlink(path);
    CHECK(write(fd, input, len) == (ssize_t)len);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    return fd;
}

static enum xs_err run_lines(struct fixture *f,
                             const char *input,
                             size_t len,
                             struct xs_error *err)
{
    static const char *const rcpt[] = {"juliet@example.net"};
    struct lines_job job = {
        .cfg = {.jid = "user@example.com",
                .password = "pencil",
                .timeout_s = 10,
                .test_cnonce = CNONCE},
        .m = {.type = "chat"},
        .rcpt = rcpt,
        .nr = 1,
        .in_fd = input_fd(input, len),
        .timeout_s = 10,
        .max_attempts = 3,
        .backoff_max_ms = 5,
        .idle_ms = 1000,
        .connect = f_connect,
        .disconnect = f_disconnect,
        .sent = f_sent,
        .note = f_note,
        .ud = f,
    };
    f->io = (struct xs_io){0};
    enum xs_err e = lines_run(&job, err);
    close(job.in_fd);
    return e;
}

static size_t count_of(const struct buf *b, const char *needle)
{
    size_t n = 0;
    for (const char *p = b->data; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_resend_after_drop(void)
{
    char *s1[2], *s2[2];
    struct replay rp[2];
    struct fixture f = {.rp = rp, .nrp = 2};
    struct xs_error err = {0};
    /* Session 1: "one" is xs-2, confirmed by ping xs-3; "two" (xs-4)
     * meets a reset. */
    script(&rp[0], s1, PONG("xs-3"));
    rp[0].fail_write = "<body>two</body>";
    /* Session 2: "two" keeps xs-4, ping xs-2; "three" is xs-3, ping
     * xs-4. */
    script(&rp[1], s2, PONG("xs-2") PONG("xs-4"));
    const char in[] = "one\n\n  \ntwo\r\nthree";
    CHECK_EQ_INT(run_lines(&f, in, strlen(in), &err), XS_OK);
    CHECK_EQ_INT(f.connects, 2);
    CHECK_EQ_INT(f.disconnects, 2);
    CHECK_EQ_INT(f.nsent, 3);
    CHECK_EQ_STR(f.ids[0], "xs-2");
    CHECK_EQ_STR(f.ids[1], "xs-4");
    CHECK_EQ_STR(f.ids[2], "xs-3");
    CHECK_EQ_INT(f.notes_temp, 1);
    const struct buf *w1 = replay_written(&rp[0]);
    const struct buf *w2 = replay_written(&rp[1]);
    CHECK_EQ_INT(count_of(w1, "id='xs-2'><body>one</body>"), 1);
    CHECK_EQ_INT(count_of(w1, "<body>two"), 0); /* the write failed */
    /* The confirmed line is not sent again; the other keeps its id. */
    CHECK_EQ_INT(count_of(w2, "<body>one</body>"), 0);
    CHECK_EQ_INT(count_of(w2, "id='xs-4'><body>two</body>"), 1);
    CHECK_EQ_INT(count_of(w2, "id='xs-3'><body>three</body>"), 1);
    CHECK_EQ_INT(count_of(w2, "<message"), 2);
    for (int i = 0; i < 2; i++) {
        buf_free(&rp[i].written);
        free(s1[i]);
        free(s2[i]);
    }
}

static void test_too_long_and_giving_up(void)
{
    char *s1[2];
    struct replay rp[1];
    struct fixture f = {.rp = rp, .nrp = 1};
    struct xs_error err = {0};
    struct buf in = {0};
    /* A line just over 1 MiB between two good ones: refused, the others
     * go; 65 at the end. */
    script(&rp[0], s1, PONG("xs-3") PONG("xs-5"));
    buf_addstr(&in, "a\n");
    for (long i = 0; i <= LINES_MAX_BODY; i++)
        buf_addch(&in, 'x');
    buf_addstr(&in, "\nb\n");
    CHECK_EQ_INT(run_lines(&f, in.data, in.len, &err), XS_EDATA);
    CHECK_EQ_INT(f.nsent, 2);
    CHECK_EQ_INT(f.notes_data, 1);
    CHECK_EQ_INT(count_of(replay_written(&rp[0]), "<message"), 2);
    buf_free(&rp[0].written);
    free(s1[0]);
    free(s1[1]);

    /* The connection drops and never comes back: XS_ETEMP after
     * max_attempts, the line not reported as sent. */
    struct fixture g = {.rp = rp, .nrp = 1};
    script(&rp[0], s1, "");
    rp[0].fail_write = "<body>a</body>";
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(run_lines(&g, "a\n", 2, &err), XS_ETEMP);
    CHECK(strstr(err.msg, "giving up after 3 attempts") != NULL);
    CHECK_EQ_INT(g.nsent, 0);
    CHECK_EQ_INT(g.connects, 3);
    buf_free(&rp[0].written);
    free(s1[0]);
    free(s1[1]);
    buf_free(&in);
}

/*
 * XEP-0198 resumption: the connection ends (EOF, no stream close) after
 * "two" was written, before its confirmation.  The next login resumes
 * the session; the server's h says whether it had "two".
 */
static void test_resume(void)
{
    for (int had = 0; had <= 1; had++) {
        char *s1[2], *s2[2];
        struct replay rp[2];
        struct fixture f = {.rp = rp, .nrp = 2};
        struct xs_error err = {0};
        /* Session 1: <enable resume/>, "one" (xs-2, stanza 1), ping xs-3
         * (2); "two" (xs-4, stanza 3) gets no answer. */
        script_post(&rp[0], s1,
                    HDR F_BIND_SM BOUND "<enabled xmlns='urn:xmpp:sm:3' "
                                        "id='sm-1' resume='true'/>" PONG(
                                            "xs-3") "<a xmlns='urn:xmpp:sm:3' "
                                                    "h='2'/>");
        /* Session 2: resumed with h 3 (it had "two": only a ping, xs-1)
         * or h 2 ("two" again as xs-4, stanza 3; ping xs-1); then
         * "three" (xs-2, ping xs-3). */
        script_post(
            &rp[1], s2,
            had ? HDR F_BIND_SM
                "<resumed xmlns='urn:xmpp:sm:3' previd='sm-1' "
                "h='3'/>" PONG("xs-1") "<a xmlns='urn:xmpp:sm:3' "
                                       "h='5'/>" PONG("xs-3")
                : HDR F_BIND_SM
                "<resumed xmlns='urn:xmpp:sm:3' previd='sm-1' "
                "h='2'/>" PONG("xs-1") "<a xmlns='urn:xmpp:sm:3' "
                                       "h='3'/><a xmlns='urn:xmpp:sm:3' "
                                       "h='5'/>" PONG("xs-3"));
        const char in[] = "one\ntwo\nthree\n";
        CHECK_EQ_INT(run_lines(&f, in, strlen(in), &err), XS_OK);
        CHECK_EQ_INT(f.connects, 2);
        CHECK_EQ_INT(f.nsent, 3);
        CHECK_EQ_STR(f.ids[1], "xs-4");
        const struct buf *w1 = replay_written(&rp[0]);
        const struct buf *w2 = replay_written(&rp[1]);
        CHECK_EQ_INT(count_of(w1, "<enable xmlns='urn:xmpp:sm:3' "
                                  "resume='true'/>"),
                     1);
        CHECK_EQ_INT(count_of(w1, "<body>two</body>"), 1);
        /* Left without a close: the server keeps the session. */
        CHECK_EQ_INT(count_of(w1, "</stream:stream>"), 0);
        /* h: the server's stanzas we handled (one ping reply). */
        CHECK_EQ_INT(count_of(w2, "<resume xmlns='urn:xmpp:sm:3' h='1' "
                                  "previd='sm-1'/>"),
                     1);
        CHECK_EQ_INT(count_of(w2, "<bind"), 0);
        CHECK_EQ_INT(count_of(w2, "<enable"), 0);
        CHECK_EQ_INT(count_of(w2, "<body>one</body>"), 0);
        CHECK_EQ_INT(count_of(w2, "id='xs-4'><body>two</body>"), had ? 0 : 1);
        CHECK_EQ_INT(count_of(w2, "id='xs-2'><body>three</body>"), 1);
        CHECK_EQ_INT(count_of(w2, "</stream:stream>"), 1);
        for (int i = 0; i < 2; i++) {
            buf_free(&rp[i].written);
            free(s1[i]);
            free(s2[i]);
        }
    }
}

/* The server no longer has the session: <failed/>, then bind and the
 * line again with its id; a <resumed/> for another id is refused. */
static void test_resume_failed(void)
{
    char *s1[2], *s2[2];
    struct replay rp[2];
    struct fixture f = {.rp = rp, .nrp = 2};
    struct xs_error err = {0};
    script_post(&rp[0], s1,
                HDR F_BIND_SM BOUND
                "<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='1'/>" PONG(
                    "xs-3") "<a xmlns='urn:xmpp:sm:3' h='2'/>");
    script_post(&rp[1], s2, HDR F_BIND_SM SM("failed") BOUND PONG("xs-2"));
    const char in[] = "one\ntwo\n";
    CHECK_EQ_INT(run_lines(&f, in, strlen(in), &err), XS_OK);
    CHECK_EQ_INT(f.nsent, 2);
    const struct buf *w2 = replay_written(&rp[1]);
    CHECK_EQ_INT(count_of(w2, "previd='sm-1'"), 1);
    CHECK_EQ_INT(count_of(w2, "<bind"), 1);
    CHECK_EQ_INT(count_of(w2, "id='xs-4'><body>two</body>"), 1);
    for (int i = 0; i < 2; i++) {
        buf_free(&rp[i].written);
        free(s1[i]);
        free(s2[i]);
    }

    /* Resumed, but another session's id: a protocol error (XS_EPROTO
     * is not retried). */
    struct fixture g = {.rp = rp, .nrp = 2};
    script_post(&rp[0], s1,
                HDR F_BIND_SM BOUND
                "<enabled xmlns='urn:xmpp:sm:3' id='sm-1' resume='1'/>" PONG(
                    "xs-3") "<a xmlns='urn:xmpp:sm:3' h='2'/>");
    script_post(&rp[1], s2,
                HDR F_BIND_SM
                "<resumed xmlns='urn:xmpp:sm:3' previd='sm-2' h='3'/>");
    memset(&err, 0, sizeof err);
    CHECK_EQ_INT(run_lines(&g, in, strlen(in), &err), XS_EPROTO);
    CHECK(strstr(err.msg, "resumed another session") != NULL);
    CHECK_EQ_INT(g.nsent, 1);
    for (int i = 0; i < 2; i++) {
        buf_free(&rp[i].written);
        free(s1[i]);
        free(s2[i]);
    }
}

int main(void)
{
    test_resend_after_drop();
    test_too_long_and_giving_up();
    test_resume();
    test_resume_failed();
    xml_cleanup();
    TEST_DONE("test_lines");
    return 0;
}
