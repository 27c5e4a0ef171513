/*
 * form.h — HTML form bodies: application/x-www-form-urlencoded decoded
 * into name/value pairs, and a small typed layer over both encodings
 * (multipart/form-data through multipart.h) for forms with fields and
 * files, in the spirit of vif's typed multipart records.
 *
 * Untyped, urlencoded only:
 *
 *     uw_form f;
 *     if (uw_req_form(req, NULL, &f) != UW_OK) return;    // answered 400/413/415
 *     const char *name = uw_form_get(&f, "name");
 *
 * Typed, either encoding: a table says which fields the form has; the
 * call fills one uw_form_value per field, or answers 400 naming the field
 * ("400 Bad Request: field \"age\": not an integer") or 413 ("field
 * \"photo\": larger than 1048576 bytes"):
 *
 *     static const uw_form_field fields[] = {
 *         { "name",  UW_FIELD_TEXT, .required = true, .max_bytes = 100 },
 *         { "age",   UW_FIELD_INT,  .min = 0, .max = 150 },
 *         { "photo", UW_FIELD_FILE, .max_bytes = 1 << 20 },   // kept in the arena
 *     };
 *     uw_form_value v[UW_COUNT(fields)];
 *     if (uw_req_form_fields(req, fields, UW_COUNT(fields), v, NULL) != UW_OK) return;
 *     // v[0].text, v[1].num (v[1].present), v[2].data / v[2].len / v[2].filename
 *
 * A file field with .on_data streams its bytes to the callbacks instead
 * of keeping them (an upload of any size, e.g. into a ZIP); .multiple lets
 * a field repeat (files[]).  Fields not in the table are refused (400)
 * unless .ignore_unknown.  Everything lives in the request's arena.
 */
#ifndef UWEB_FORM_H
#define UWEB_FORM_H

#include <uweb/http.h>
#include <uweb/arena.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct uw_form_limits {
    size_t max_bytes;          /* whole urlencoded body, default 64 KiB */
    size_t max_fields;         /* pairs, default 256 */
    size_t max_field_bytes;    /* one decoded name or value, default 16 KiB */
} uw_form_limits;

typedef struct uw_form {
    size_t n;
    const char **names, **values;   /* decoded, NUL-terminated (arena) */
    size_t *value_lens;             /* values may hold NUL bytes (%00) */
} uw_form;

/* Decodes a urlencoded text (pure; '+' is a space).  UW_OK, UW_EINVAL (a
 * bad escape) or UW_ELIMIT, with *why in words. */
int uw_form_parse(uw_arena *a, const char *s, size_t n, const uw_form_limits *limits,
                  uw_form *out, const char **why);
/* Reads and decodes the body (Content-Type application/x-www-form-urlencoded);
 * answers 415/413/400 itself on failure. */
int uw_req_form(uw_req *req, const uw_form_limits *limits, uw_form *out);
/* The first value of name, or NULL. */
const char *uw_form_get(const uw_form *f, const char *name);

/* ------------------------------------------------------------ typed */

enum { UW_FIELD_TEXT, UW_FIELD_INT, UW_FIELD_FILE };

typedef struct uw_form_file_cb {
    /* A file of the field begins (filename as sent, may hold "/" or "..").
     * Return 0 to go on; non-zero refuses the upload (the callback may
     * have answered; if not, 400). */
    int (*begin)(void *arg, const char *field, const char *filename, const char *content_type);
    int (*data)(void *arg, const void *data, size_t n);
    int (*end)(void *arg);
} uw_form_file_cb;

typedef struct uw_form_field {
    const char *name;
    int type;                  /* UW_FIELD_TEXT, _INT, _FILE */
    bool required;             /* missing (or an empty file input): 400 */
    bool multiple;             /* may repeat (files[]); else a second one is a 400 */
    size_t max_bytes;          /* text: default 16 KiB; kept file: default 1 MiB;
                                * streamed file: 0 is no cap beyond the body limit */
    int64_t min, max;          /* UW_FIELD_INT range; both 0: any int64 */
    const uw_form_file_cb *on_data;  /* UW_FIELD_FILE: stream instead of keeping */
} uw_form_field;

typedef struct uw_form_value {
    bool present;
    size_t count;              /* times the field came (files: non-empty files) */
    const char *text;          /* TEXT and INT: the (first) value, NUL-terminated */
    int64_t num;               /* INT */
    const char *filename;      /* FILE kept: the (first) file */
    const char *content_type;
    const void *data;
    size_t len;                /* TEXT: bytes of text; FILE: bytes of data */
} uw_form_value;

typedef struct uw_form_options {
    bool ignore_unknown;       /* drop fields not in the table (default: 400) */
    void *arg;                 /* for the file callbacks */
    size_t max_parts;          /* multipart parts, default 256 */
} uw_form_options;

/* Reads a urlencoded or multipart/form-data body into values[nfields]
 * (one per field, in table order).  UW_OK, or a negative status after
 * answering 400 (naming the field), 413 or 415. */
int uw_req_form_fields(uw_req *req, const uw_form_field *fields, size_t nfields,
                       uw_form_value *values, const uw_form_options *opt);

#endif
