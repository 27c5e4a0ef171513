/*
 * cookie.h — cookies (RFC 6265): read from the request, set with every
 * attribute, and signed or sealed (encrypted) with AES-256-GCM (aead.h)
 * for sessions.
 *
 *     const char *theme = uw_req_cookie(req, "theme");
 *     uw_res_cookie(res, &(uw_cookie){ .name = "theme", .value = "dark",
 *                                      .max_age = 86400 * 365, .path = "/",
 *                                      .same_site = UW_SAMESITE_LAX });
 *     // a session: the value encrypted and authenticated, readable only here
 *     uw_res_cookie_sealed(res, &(uw_cookie){ .name = "__Host-session", .value = user_id,
 *                                             .secure = true, .http_only = true, .path = "/",
 *                                             .max_age = 3600 });
 *     const char *uid = uw_req_cookie_sealed(req, "__Host-session");  // NULL: absent,
 *                                                // tampered, another key's, or expired
 *
 * Setting checks what browsers would refuse or what would be unsafe and
 * returns UW_EINVAL instead of sending it: a name that is not a token, a
 * value outside RFC 6265's cookie-octets (encode it first), a
 * "__Secure-" cookie without Secure, a "__Host-" cookie without Secure,
 * with a Domain, or with a Path other than "/", SameSite=None without
 * Secure, CR/LF/';' in Path or Domain.
 *
 * Signed cookies carry the value in clear plus a tag (value.TAG); sealed
 * cookies carry only ciphertext.  Both bind the cookie's name and an
 * expiry time (from max_age or expires) inside the authenticated data,
 * so a value cannot be moved to another cookie name, and an old copy is
 * refused once expired even if the browser kept it.  The key (32 bytes)
 * is the process's: uw_main reads it from --cookie-key-file=FILE (32 raw
 * bytes or 64 hex digits); without one a random key is made on first use,
 * with a warning on stderr (cookies then die with the process).
 */
#ifndef UWEB_COOKIE_H
#define UWEB_COOKIE_H

#include <uweb/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { UW_SAMESITE_UNSET = 0, UW_SAMESITE_LAX, UW_SAMESITE_STRICT, UW_SAMESITE_NONE };
#define UW_COOKIE_DELETE INT64_MIN   /* as max_age: Max-Age=0 and an Expires in 1970 */

typedef struct uw_cookie {
    const char *name, *value;
    int64_t max_age;           /* seconds; 0: no Max-Age (a session cookie); UW_COOKIE_DELETE */
    int64_t expires;           /* seconds since the epoch; 0: no Expires */
    const char *path, *domain; /* NULL: not sent */
    bool secure, http_only;
    int same_site;             /* UW_SAMESITE_* */
} uw_cookie;

/* The value of the first cookie called name in the Cookie fields, without
 * surrounding double quotes (request arena), or NULL. */
const char *uw_req_cookie(uw_req *req, const char *name);

/* Adds a Set-Cookie field.  UW_OK, UW_EINVAL (see above), UW_ELIMIT. */
int uw_res_cookie(uw_res *res, const uw_cookie *c);
/* The Set-Cookie value of c into out (cap bytes); its length or a
 * negative status (pure: for tests and other protocols). */
int uw_cookie_format(const uw_cookie *c, int64_t now, char *out, size_t cap);

/* Signed (value readable, tamper-evident) and sealed (encrypted) cookies.
 * The value may be any bytes up to 2 KiB (NUL-terminated string here). */
int uw_res_cookie_signed(uw_res *res, const uw_cookie *c);
int uw_res_cookie_sealed(uw_res *res, const uw_cookie *c);
const char *uw_req_cookie_signed(uw_req *req, const char *name);
const char *uw_req_cookie_sealed(uw_req *req, const char *name);

/* The process's cookie key: 32 bytes.  UW_OK or UW_EINVAL. */
int uw_cookie_set_key(const void *key, size_t len);
/* A key file's text (32 raw bytes, or 64 hex digits and whitespace) to a key. */
int uw_cookie_key_parse(const void *data, size_t len, uint8_t key[32]);

/* Pure halves of the signed and sealed forms (tests): the cookie value
 * for name/value expiring at exp (0: never) into out, and back (the value
 * into out, NUL-terminated).  Lengths, or a negative status. */
int uw_cookie_seal(const char *name, const char *value, int64_t exp, bool encrypt, char *out, size_t cap);
int uw_cookie_unseal(const char *name, const char *cookie, int64_t now, bool encrypt, char *out, size_t cap);

#endif
