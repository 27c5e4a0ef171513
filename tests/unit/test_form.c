/* Forms (form.h): urlencoded decoding and its limits; typed fields over
 * urlencoded and multipart bodies: required, int, size caps, repeats,
 * streamed files, and the 400s naming the field. */
#include "../check.h"
#include "exchange.h"
#include <uweb/form.h>

#include <stdio.h>

static void test_parse(void)
{
    uw_arena a;
    uw_arena_init(&a, 4096, 0);
    uw_form f;
    const char *why = "";
    const char *s = "a=1&b=x+y%21&&c&d=%00z&a=2";
    CHECK_EQ_INT(uw_form_parse(&a, s, strlen(s), NULL, &f, &why), UW_OK);
    CHECK_EQ_INT(f.n, 5);
    CHECK_EQ_STR(uw_form_get(&f, "a"), "1");
    CHECK_EQ_STR(uw_form_get(&f, "b"), "x y!");
    CHECK_EQ_STR(uw_form_get(&f, "c"), "");
    CHECK_EQ_INT(f.value_lens[3], 2);
    CHECK(uw_form_get(&f, "zz") == NULL);
    CHECK_EQ_INT(uw_form_parse(&a, "a=%4", 4, NULL, &f, &why), UW_EINVAL);
    CHECK_EQ_INT(uw_form_parse(&a, "a=%zz", 5, NULL, &f, &why), UW_EINVAL);
    uw_form_limits lim = { .max_fields = 2, .max_field_bytes = 4 };
    CHECK_EQ_INT(uw_form_parse(&a, "a&b&c", 5, &lim, &f, &why), UW_ELIMIT);
    CHECK_EQ_STR(why, "too many form fields");
    CHECK_EQ_INT(uw_form_parse(&a, "a=12345", 7, &lim, &f, &why), UW_ELIMIT);
    uw_arena_fini(&a);
}

static size_t streamed, nfiles;
static int fbegin(void *arg, const char *field, const char *filename, const char *ct)
{
    (void)arg; (void)field; (void)ct;
    return strcmp(filename, "evil") == 0;
}
static int fdata(void *arg, const void *d, size_t n) { (void)arg; (void)d; streamed += n; return 0; }
static int fend(void *arg) { (void)arg; nfiles++; return 0; }
static const uw_form_file_cb stream_cb = { fbegin, fdata, fend };

static const uw_form_field fields[] = {
    { "name", UW_FIELD_TEXT, .required = true, .max_bytes = 8 },
    { "age", UW_FIELD_INT, .min = 0, .max = 150 },
    { "photo", UW_FIELD_FILE, .max_bytes = 16 },
    { "files[]", UW_FIELD_FILE, .multiple = true, .on_data = &stream_cb },
};

static void typed(uw_req *req, uw_res *res)
{
    uw_form_value v[UW_COUNT(fields)];
    if (uw_req_form_fields(req, fields, UW_COUNT(fields), v, NULL) != UW_OK) return;
    uw_res_textf(res, 200, "name=%s age=%lld/%d photo=%s:%.*s files=%zu\n", v[0].text, (long long)v[1].num,
                 v[1].present, v[2].present ? v[2].filename : "-", (int)v[2].len, v[2].present ? (const char *)v[2].data : "",
                 v[3].count);
}
static const uw_route routes[] = { { UW_POST, "/typed", typed } };
static const uw_app app = { UW_ROUTES(routes) };

static const char *post(const char *ct, const char *body)
{
    static char req[16384];
    snprintf(req, sizeof req, "POST /typed HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
             ct, strlen(body), body);
    return ex_run(&app, req);
}
#define URLENC "application/x-www-form-urlencoded"
#define MP "multipart/form-data; boundary=XX"

static void test_typed_urlencoded(void)
{
    CHECK_EQ_STR(ex_body(post(URLENC, "name=ann&age=42")), "name=ann age=42/1 photo=-: files=0\n");
    CHECK_EQ_STR(ex_body(post(URLENC, "age=42")), "400 Bad Request: field \"name\" is required\n");
    CHECK_EQ_STR(ex_body(post(URLENC, "name=a&age=4x")), "400 Bad Request: field \"age\": not an integer\n");
    CHECK_EQ_STR(ex_body(post(URLENC, "name=a&age=151")), "400 Bad Request: field \"age\": out of range 0..150\n");
    CHECK_EQ_STR(ex_body(post(URLENC, "name=a&name=b")), "400 Bad Request: field \"name\" given more than once\n");
    CHECK_EQ_STR(ex_body(post(URLENC, "name=a&x=1")), "400 Bad Request: unknown field \"x\"\n");
    CHECK(strncmp(post(URLENC, "name=123456789"), "HTTP/1.1 413", 12) == 0);
    CHECK(strncmp(post("text/plain", "name=a"), "HTTP/1.1 415", 12) == 0);
}

#define PART(name, extra, data) "--XX\r\nContent-Disposition: form-data; name=\"" name "\"" extra "\r\n\r\n" data "\r\n"
static void test_typed_multipart(void)
{
    streamed = nfiles = 0;
    const char *a = post(MP, PART("name", "", "bob") PART("photo", "; filename=\"p.png\"", "PNGDATA")
                             PART("files[]", "; filename=\"a.txt\"", "aaaa") PART("files[]", "; filename=\"b.txt\"", "bb")
                             PART("files[]", "; filename=\"\"", "") "--XX--\r\n");
    CHECK_EQ_STR(ex_body(a), "name=bob age=0/0 photo=p.png:PNGDATA files=2\n");
    CHECK_EQ_INT(streamed, 6);
    CHECK_EQ_INT(nfiles, 2);
    a = post(MP, PART("photo", "; filename=\"p.png\"", "0123456789abcdefg") PART("name", "", "x") "--XX--\r\n");
    CHECK(strncmp(a, "HTTP/1.1 413", 12) == 0);
    CHECK(strstr(a, "field \"photo\": larger than 16 bytes") != NULL);
    a = post(MP, PART("photo", "", "notafile") PART("name", "", "x") "--XX--\r\n");
    CHECK_EQ_STR(ex_body(a), "400 Bad Request: field \"photo\": not a file\n");
    a = post(MP, PART("age", "", "7") "--XX--\r\n");
    CHECK_EQ_STR(ex_body(a), "400 Bad Request: field \"name\" is required\n");
    a = post(MP, PART("name", "", "x") PART("files[]", "; filename=\"evil\"", "e") "--XX--\r\n");
    CHECK_EQ_STR(ex_body(a), "400 Bad Request: field \"files[]\": file refused\n");
    a = post(MP, PART("name", "", "x"));
    CHECK(strncmp(a, "HTTP/1.1 400", 12) == 0);
}

int main(void)
{
    uw_rt_init();
    RUN(test_parse);
    RUN(test_typed_urlencoded);
    RUN(test_typed_multipart);
    uw_rt_fini();
    return CHECK_DONE();
}
