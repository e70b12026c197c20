/* SPDX-License-Identifier: MIT */
/*
 * fuzz_state.c - libFuzzer target for the login state file parser
 * (state_parse in state.c).
 *
 * Input: the file's text.  Checks what the next login relies on: every
 * value read is printable ASCII without blanks, a token never comes
 * without its mechanism, and what was read, written back in the file's
 * format (as state_save does), reads back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_value(const char *v)
{
    if (v == NULL)
        return;
    if (*v == '\0' || strlen(v) > 4096)
        abort();
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            abort();
    }
}

static void put(struct buf *b, const char *k, const char *v)
{
    if (v != NULL)
        buf_printf(b, "%s %s\n", k, v);
}

static int same(const char *a, const char *b)
{
    return (a == NULL && b == NULL) ||
           (a != NULL && b != NULL && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xs_state st, again;
    struct xs_error err = {0};
    memset(&st, 0, sizeof st);
    st.lockfd = -1;
    enum xs_err e = state_parse((const char *)data, size, "fuzz", &st, &err);
    if (e != XS_OK) {
        if (e != XS_ECONFIG || err.msg[0] == '\0')
            abort();
        state_free(&st);
        return 0;
    }
    check_value(st.client_id);
    check_value(st.fast_mech);
    check_value(st.fast_token);
    check_value(st.fast_expiry);
    if ((st.fast_token == NULL) != (st.fast_mech == NULL))
        abort();

    /* Round trip through the format state_save writes. */
    struct buf b = {0};
    buf_addstr(&b, "# comment\n");
    put(&b, "client-id", st.client_id);
    put(&b, "fast-mechanism", st.fast_mech);
    put(&b, "fast-token", st.fast_token);
    put(&b, "fast-expiry", st.fast_expiry);
    put(&b, "server-sasl2", st.sasl2 ? "1" : "0");
    put(&b, "server-sm-inline", st.sm_inline ? "1" : "0");
    memset(&again, 0, sizeof again);
    again.lockfd = -1;
    if (state_parse(b.data, b.len, "again", &again, &err) != XS_OK ||
        !same(st.client_id, again.client_id) ||
        !same(st.fast_mech, again.fast_mech) ||
        !same(st.fast_token, again.fast_token) ||
        !same(st.fast_expiry, again.fast_expiry) || st.sasl2 != again.sasl2 ||
        st.sm_inline != again.sm_inline)
        abort();
    buf_free(&b);
    state_free(&again);
    state_free(&st);
    return 0;
}
