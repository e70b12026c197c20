/* SPDX-License-Identifier: MIT */
/*
 * precis.c - PRECIS (RFC 8264) profiles UsernameCaseMapped and
 * OpaqueString (RFC 8265) with the Unicode data of ICU.
 *
 * The derived property of a code point follows RFC 8264 section 8, its
 * categories computed from ICU properties (section 9): Exceptions and
 * the (empty) BackwardCompatible list from RFC 5892 section 2.6 and RFC
 * 8264 section 9.7, Unassigned (Cn minus noncharacters), ASCII7
 * (U+0021..U+007E), JoinControl, OldHangulJamo (Hangul_Syllable_Type L,
 * V, T), PrecisIgnorableProperties (Default_Ignorable_Code_Point,
 * Noncharacter_Code_Point), Controls (Cc), HasCompat (toNFKC(cp) != cp)
 * and the general categories of LetterDigits, OtherLetterDigits, Spaces,
 * Symbols and Punctuation.  CONTEXTJ and CONTEXTO code points pass only
 * when the rule of RFC 5892 Appendix A for them holds.
 *
 * A string of ASCII bytes only never reaches ICU: for ASCII the rules
 * reduce to "0x21..0x7E, and a space in OpaqueString", plus lowercasing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>

#include "precis.h"
#include "util.h"

enum prop {
    P_PVALID,
    P_FREE_PVAL,
    P_ID_DIS,
    P_CONTEXTJ,
    P_CONTEXTO,
    P_DISALLOWED,
    P_UNASSIGNED
};

/* RFC 5892 section 2.6 Exceptions (F). */
static int exception(UChar32 c, enum prop *p)
{
    switch (c) {
    case 0x00DF:
    case 0x03C2:
    case 0x06FD:
    case 0x06FE:
    case 0x0F0B:
    case 0x3007:
        *p = P_PVALID;
        return 1;
    case 0x00B7:
    case 0x0375:
    case 0x05F3:
    case 0x05F4:
    case 0x30FB:
        *p = P_CONTEXTO;
        return 1;
    case 0x0640:
    case 0x07FA:
    case 0x302E:
    case 0x302F:
    case 0x3031:
    case 0x3032:
    case 0x3033:
    case 0x3034:
    case 0x3035:
    case 0x303B:
        *p = P_DISALLOWED;
        return 1;
    default:
        break;
    }
    if ((c >= 0x0660 && c <= 0x0669) || (c >= 0x06F0 && c <= 0x06F9)) {
        *p = P_CONTEXTO;
        return 1;
    }
    return 0;
}

static int has_compat(UChar32 c)
{
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&e);
    UChar s[2];
    int32_t n = 0;
    if (U_FAILURE(e))
        return 1;
    U16_APPEND_UNSAFE(s, n, c);
    UBool ok = unorm2_isNormalized(nfkc, s, n, &e);
    return U_FAILURE(e) || !ok;
}

/* RFC 8264 section 8: the derived property, ID_DIS and FREE_PVAL kept
 * apart so that one function serves both classes. */
static enum prop derived(UChar32 c)
{
    enum prop p;
    if (exception(c, &p))
        return p;
    /* BackwardCompatible (RFC 8264 9.7) is empty. */
    int8_t gc = u_charType(c);
    if (gc == U_UNASSIGNED &&
        !u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT))
        return P_UNASSIGNED;
    if (c >= 0x21 && c <= 0x7E)
        return P_PVALID;
    if (u_hasBinaryProperty(c, UCHAR_JOIN_CONTROL))
        return P_CONTEXTJ;
    int hst = u_getIntPropertyValue(c, UCHAR_HANGUL_SYLLABLE_TYPE);
    if (hst == U_HST_LEADING_JAMO || hst == U_HST_VOWEL_JAMO ||
        hst == U_HST_TRAILING_JAMO)
        return P_DISALLOWED;
    if (u_hasBinaryProperty(c, UCHAR_DEFAULT_IGNORABLE_CODE_POINT) ||
        u_hasBinaryProperty(c, UCHAR_NONCHARACTER_CODE_POINT))
        return P_DISALLOWED;
    if (gc == U_CONTROL_CHAR)
        return P_DISALLOWED;
    if (has_compat(c))
        return P_ID_DIS;
    switch (gc) {
    case U_LOWERCASE_LETTER:
    case U_UPPERCASE_LETTER:
    case U_OTHER_LETTER:
    case U_DECIMAL_DIGIT_NUMBER:
    case U_MODIFIER_LETTER:
    case U_NON_SPACING_MARK:
    case U_COMBINING_SPACING_MARK:
        return P_PVALID;
    case U_TITLECASE_LETTER:
    case U_LETTER_NUMBER:
    case U_OTHER_NUMBER:
    case U_ENCLOSING_MARK:
    case U_SPACE_SEPARATOR:
    case U_MATH_SYMBOL:
    case U_CURRENCY_SYMBOL:
    case U_MODIFIER_SYMBOL:
    case U_OTHER_SYMBOL:
    case U_CONNECTOR_PUNCTUATION:
    case U_DASH_PUNCTUATION:
    case U_START_PUNCTUATION:
    case U_END_PUNCTUATION:
    case U_INITIAL_PUNCTUATION:
    case U_FINAL_PUNCTUATION:
    case U_OTHER_PUNCTUATION:
        return P_ID_DIS;
    default:
        return P_DISALLOWED;
    }
}

static int joining(UChar32 c, int a, int b)
{
    int t = u_getIntPropertyValue(c, UCHAR_JOINING_TYPE);
    return t == a || t == b;
}

/* RFC 5892 Appendix A.1 and A.2 (CONTEXTJ). */
static int context_j(const UChar32 *s, int32_t n, int32_t i)
{
    if (i > 0 && u_getCombiningClass(s[i - 1]) == 9) /* Virama */
        return 1;
    if (s[i] != 0x200C)
        return 0;
    int32_t k = i - 1;
    while (k >= 0 && joining(s[k], U_JT_TRANSPARENT, U_JT_TRANSPARENT))
        k--;
    if (k < 0 || !joining(s[k], U_JT_LEFT_JOINING, U_JT_DUAL_JOINING))
        return 0;
    k = i + 1;
    while (k < n && joining(s[k], U_JT_TRANSPARENT, U_JT_TRANSPARENT))
        k++;
    return k < n && joining(s[k], U_JT_RIGHT_JOINING, U_JT_DUAL_JOINING);
}

static int script_is(UChar32 c, UScriptCode sc)
{
    UErrorCode e = U_ZERO_ERROR;
    return uscript_getScript(c, &e) == sc && U_SUCCESS(e);
}

/* RFC 5892 Appendix A.3 to A.9 (CONTEXTO). */
static int context_o(const UChar32 *s, int32_t n, int32_t i)
{
    UChar32 c = s[i];
    if (c == 0x00B7) /* MIDDLE DOT: between two 'l' */
        return i > 0 && i + 1 < n && s[i - 1] == 0x6C && s[i + 1] == 0x6C;
    if (c == 0x0375) /* KERAIA: Greek follows */
        return i + 1 < n && script_is(s[i + 1], USCRIPT_GREEK);
    if (c == 0x05F3 || c == 0x05F4) /* GERESH, GERSHAYIM: Hebrew before */
        return i > 0 && script_is(s[i - 1], USCRIPT_HEBREW);
    if (c == 0x30FB) { /* KATAKANA MIDDLE DOT: with Hiragana/Katakana/Han */
        for (int32_t k = 0; k < n; k++)
            if (s[k] != 0x30FB && (script_is(s[k], USCRIPT_HIRAGANA) ||
                                   script_is(s[k], USCRIPT_KATAKANA) ||
                                   script_is(s[k], USCRIPT_HAN)))
                return 1;
        return 0;
    }
    /* Arabic-Indic digits: not mixed with extended ones, and back. */
    UChar32 lo = c <= 0x0669 ? 0x06F0 : 0x0660;
    for (int32_t k = 0; k < n; k++)
        if (s[k] >= lo && s[k] <= lo + 9)
            return 0;
    return 1;
}

/* RFC 5893 section 2, for strings with an R, AL or AN code point. */
static int bidi_ok(const UChar32 *s, int32_t n)
{
    int rtl = 0;
    for (int32_t i = 0; i < n; i++) {
        UCharDirection d = u_charDirection(s[i]);
        if (d == U_RIGHT_TO_LEFT || d == U_RIGHT_TO_LEFT_ARABIC ||
            d == U_ARABIC_NUMBER)
            rtl = 1;
    }
    if (!rtl || n == 0)
        return 1;
    UCharDirection first = u_charDirection(s[0]);
    if (first != U_LEFT_TO_RIGHT && first != U_RIGHT_TO_LEFT &&
        first != U_RIGHT_TO_LEFT_ARABIC)
        return 0; /* rule 1 */
    int is_rtl = first != U_LEFT_TO_RIGHT;
    int en = 0, an = 0;
    for (int32_t i = 0; i < n; i++) {
        UCharDirection d = u_charDirection(s[i]);
        switch (d) {
        case U_EUROPEAN_NUMBER:
            en = 1;
            break;
        case U_ARABIC_NUMBER:
            an = 1;
            if (!is_rtl)
                return 0; /* rule 5 */
            break;
        case U_RIGHT_TO_LEFT:
        case U_RIGHT_TO_LEFT_ARABIC:
            if (!is_rtl)
                return 0; /* rule 5 */
            break;
        case U_LEFT_TO_RIGHT:
            if (is_rtl)
                return 0; /* rule 2 */
            break;
        case U_EUROPEAN_NUMBER_SEPARATOR:
        case U_COMMON_NUMBER_SEPARATOR:
        case U_EUROPEAN_NUMBER_TERMINATOR:
        case U_OTHER_NEUTRAL:
        case U_BOUNDARY_NEUTRAL:
        case U_DIR_NON_SPACING_MARK:
            break;
        default:
            return 0; /* rules 2 and 5 */
        }
    }
    if (is_rtl && en && an)
        return 0; /* rule 4 */
    int32_t k = n - 1;
    while (k > 0 && u_charDirection(s[k]) == U_DIR_NON_SPACING_MARK)
        k--;
    UCharDirection last = u_charDirection(s[k]);
    if (is_rtl) /* rule 3 */
        return last == U_RIGHT_TO_LEFT || last == U_RIGHT_TO_LEFT_ARABIC ||
               last == U_EUROPEAN_NUMBER || last == U_ARABIC_NUMBER;
    return last == U_LEFT_TO_RIGHT || last == U_EUROPEAN_NUMBER; /* rule 6 */
}

/* UTF-16 string with its length; 'u' allocated. */
struct u16 {
    UChar *u;
    int32_t n;
};

/* Run an ICU string function into a fresh buffer, once more if the
 * first guess was short.  Returns 0, or -1 on an ICU error. */
#define U16_RUN(out, cap0, call)                                               \
    do {                                                                       \
        int32_t cap_ = (cap0), len_;                                           \
        UErrorCode e_;                                                         \
        for (int try_ = 0;; try_++) {                                          \
            UChar *dest = xmalloc(((size_t)cap_ + 1) * sizeof(UChar));         \
            int32_t cap = cap_;                                                \
            e_ = U_ZERO_ERROR;                                                 \
            len_ = (call);                                                     \
            if (e_ == U_BUFFER_OVERFLOW_ERROR && try_ == 0) {                  \
                free(dest);                                                    \
                cap_ = len_;                                                   \
                continue;                                                      \
            }                                                                  \
            if (U_FAILURE(e_)) {                                               \
                free(dest);                                                    \
                (out).u = NULL;                                                \
            } else {                                                           \
                (out).u = dest;                                                \
                (out).n = len_;                                                \
            }                                                                  \
            break;                                                             \
        }                                                                      \
    } while (0)

/* One pass of the profile's rules 1 to 4 (RFC 8264 section 7) over
 * 'in'; result in 'out' (allocated), 0 or -1. */
static int
rules(const struct u16 *in, enum precis_profile profile, struct u16 *out)
{
    UErrorCode e = U_ZERO_ERROR;
    const UNormalizer2 *nfkc = unorm2_getNFKCInstance(&e);
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&e);
    if (U_FAILURE(e))
        return -1;
    /* 1 width mapping (Username) and 2 additional mapping (Opaque:
     * non-ASCII spaces to U+0020), code point by code point. */
    struct u16 m = {xmalloc(((size_t)in->n * 2 + 1) * sizeof(UChar)), 0};
    for (int32_t i = 0; i < in->n;) {
        UChar32 c;
        U16_NEXT(in->u, i, in->n, c);
        if (profile == PRECIS_USERNAME_CASEMAPPED) {
            int dt = u_getIntPropertyValue(c, UCHAR_DECOMPOSITION_TYPE);
            UChar d[8];
            int32_t dn = -1;
            if (dt == U_DT_WIDE || dt == U_DT_NARROW)
                dn = unorm2_getRawDecomposition(nfkc, c, d, 8, &e);
            if (U_SUCCESS(e) && dn == 1) { /* always one code unit */
                m.u[m.n++] = d[0];
                continue;
            }
            e = U_ZERO_ERROR;
        } else if (c != 0x20 && u_charType(c) == U_SPACE_SEPARATOR) {
            c = 0x20;
        }
        U16_APPEND_UNSAFE(m.u, m.n, c);
    }
    /* 3 case mapping: toLowerCase, locale independent. */
    struct u16 l = m;
    if (profile == PRECIS_USERNAME_CASEMAPPED) {
        U16_RUN(l, m.n + 8, u_strToLower(dest, cap, m.u, m.n, "", &e_));
        free(m.u);
        if (l.u == NULL)
            return -1;
    }
    /* 4 normalisation: NFC. */
    U16_RUN(*out, l.n + 8, unorm2_normalize(nfc, l.u, l.n, dest, cap, &e_));
    free(l.u);
    return out->u == NULL ? -1 : 0;
}

static char *ascii(const char *s,
                   size_t n,
                   enum precis_profile profile,
                   enum precis_why *why,
                   unsigned long *cp)
{
    char *r = xstrndup(s, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)r[i];
        if (c < 0x20 || c == 0x7f ||
            (c == 0x20 && profile == PRECIS_USERNAME_CASEMAPPED)) {
            *why = PRECIS_DISALLOWED;
            *cp = c;
            free(r);
            return NULL;
        }
        if (profile == PRECIS_USERNAME_CASEMAPPED && c >= 'A' && c <= 'Z')
            r[i] = (char)(c - 'A' + 'a');
    }
    return r;
}

/* Check the class of every code point of 's' (UTF-32), then the Bidi
 * Rule when the profile has it. */
static enum precis_why check(const UChar32 *s,
                             int32_t n,
                             enum precis_profile profile,
                             unsigned long *cp)
{
    for (int32_t i = 0; i < n; i++) {
        enum prop p = derived(s[i]);
        int ok;
        switch (p) {
        case P_PVALID:
            ok = 1;
            break;
        case P_ID_DIS:
            ok = profile == PRECIS_OPAQUE_STRING;
            break;
        case P_CONTEXTJ:
        case P_CONTEXTO:
            ok = p == P_CONTEXTJ ? context_j(s, n, i) : context_o(s, n, i);
            if (!ok) {
                *cp = (unsigned long)s[i];
                return PRECIS_CONTEXT;
            }
            break;
        default:
            ok = 0;
            break;
        }
        if (!ok) {
            *cp = (unsigned long)s[i];
            return PRECIS_DISALLOWED;
        }
    }
    if (profile == PRECIS_USERNAME_CASEMAPPED && !bidi_ok(s, n))
        return PRECIS_BIDI;
    return PRECIS_OK;
}

char *precis_enforce(const char *s,
                     size_t n,
                     enum precis_profile profile,
                     enum precis_why *why,
                     unsigned long *cp)
{
    enum precis_why dummy_why;
    unsigned long dummy_cp;
    if (why == NULL)
        why = &dummy_why;
    if (cp == NULL)
        cp = &dummy_cp;
    *why = PRECIS_OK;
    *cp = 0;
    if (n == 0) {
        *why = PRECIS_EMPTY;
        return NULL;
    }
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    if (i == n)
        return ascii(s, n, profile, why, cp);
    if (!utf8_valid(s, n) || n > INT32_MAX / 4) {
        *why = PRECIS_INVALID;
        return NULL;
    }

    struct u16 cur;
    UErrorCode e = U_ZERO_ERROR;
    int32_t ulen = 0;
    cur.u = xmalloc(((size_t)n + 1) * sizeof(UChar));
    u_strFromUTF8(cur.u, (int32_t)n + 1, &ulen, s, (int32_t)n, &e);
    if (U_FAILURE(e)) {
        free(cur.u);
        *why = PRECIS_INVALID;
        return NULL;
    }
    cur.n = ulen;

    /* RFC 8264 section 7: apply the rules until the string is stable;
     * no fixed point after three more applications: refuse. */
    int stable = 0;
    for (int round = 0; round < 4 && !stable; round++) {
        struct u16 next;
        if (rules(&cur, profile, &next) != 0) {
            free(cur.u);
            *why = PRECIS_INVALID;
            return NULL;
        }
        stable = next.n == cur.n &&
                 memcmp(next.u, cur.u, (size_t)cur.n * sizeof(UChar)) == 0;
        free(cur.u);
        cur = next;
    }
    if (!stable) {
        free(cur.u);
        *why = PRECIS_UNSTABLE;
        return NULL;
    }
    if (cur.n == 0) {
        free(cur.u);
        *why = PRECIS_EMPTY;
        return NULL;
    }

    UChar32 *u32 = xmalloc(((size_t)cur.n + 1) * sizeof(UChar32));
    int32_t n32 = 0;
    e = U_ZERO_ERROR;
    u_strToUTF32(u32, cur.n + 1, &n32, cur.u, cur.n, &e);
    if (U_FAILURE(e))
        *why = PRECIS_INVALID;
    else
        *why = check(u32, n32, profile, cp);
    free(u32);

    char *out = NULL;
    if (*why == PRECIS_OK) {
        int32_t blen = 0;
        e = U_ZERO_ERROR;
        size_t cap = (size_t)cur.n * 3 + 1;
        out = xmalloc(cap);
        u_strToUTF8(out, (int32_t)cap, &blen, cur.u, cur.n, &e);
        if (U_FAILURE(e)) {
            free(out);
            out = NULL;
            *why = PRECIS_INVALID;
        }
    }
    free(cur.u);
    return out;
}
