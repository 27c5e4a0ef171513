/* The router: literal segments, typed captures, trailing slashes, 404/405,
 * first match wins, and the route table check. */
#include "../check.h"
#include <uweb/web.h>
#include <string.h>

static void h(uw_req *req, uw_res *res) { (void)req; (void)res; }

static const uw_route routes[] = {
    { UW_GET, "/", h },
    { UW_GET, "/users/<int:id>", h },
    { UW_GET, "/users/me", h },                      /* shadowed for "me"? no: int does not match "me" */
    { UW_GET | UW_POST, "/items/<name>/edit", h },
    { UW_GET, "/files/<rest:path>", h },
    { UW_DELETE, "/users/<int:id>", h },
    { UW_GET, "/dir/", h },
    { UW_GET, "/exact/", h, .slash = UW_SLASH_EXACT },
    { UW_GET, "/either", h, .slash = UW_SLASH_EITHER },
    { UW_GET, "/<seg:a>/<seg:b>/<seg:c>", h },
};
static const uw_app app = { UW_ROUTES(routes) };

static int match(const char *method_path, uw_capture *caps, size_t *ncaps, unsigned *allowed, const char **redir)
{
    static uw_arena arena;
    static bool init;
    if (!init) { uw_arena_init(&arena, 1024, 0); init = true; }
    unsigned m = UW_GET;
    const char *p = method_path;
    if (strncmp(p, "POST ", 5) == 0) { m = UW_POST; p += 5; }
    else if (strncmp(p, "HEAD ", 5) == 0) { m = UW_HEAD; p += 5; }
    else if (strncmp(p, "DELETE ", 7) == 0) { m = UW_DELETE; p += 7; }
    else if (strncmp(p, "PUT ", 4) == 0) { m = UW_PUT; p += 4; }
    size_t n = 0;
    unsigned a = 0;
    const char *r = NULL;
    int idx = uw_route_match(&app, m, p, strlen(p), &arena, caps, &n, &a, &r);
    if (ncaps) *ncaps = n;
    if (allowed) *allowed = a;
    if (redir) *redir = r;
    return idx;
}

static void test_literals_and_404(void)
{
    uw_capture c[UW_MAX_CAPTURES];
    CHECK_EQ_INT(match("/", c, NULL, NULL, NULL), 0);
    CHECK_EQ_INT(match("/nope", c, NULL, NULL, NULL), -404);
    CHECK_EQ_INT(match("/users/me", c, NULL, NULL, NULL), 2);
    CHECK_EQ_INT(match("/users", c, NULL, NULL, NULL), -404);
}

static void test_int_capture(void)
{
    uw_capture c[UW_MAX_CAPTURES];
    size_t n;
    CHECK_EQ_INT(match("/users/42", c, &n, NULL, NULL), 1);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_STR(c[0].value, "42");
    CHECK(c[0].name_len == 2 && memcmp(c[0].name, "id", 2) == 0);
    CHECK_EQ_INT(match("/users/-7", c, &n, NULL, NULL), 1);
    CHECK_EQ_INT(match("/users/4x", c, &n, NULL, NULL), -404);
    CHECK_EQ_INT(match("/users/99999999999999999999", c, &n, NULL, NULL), -404);
}

static void test_segment_capture_decoded(void)
{
    uw_capture c[UW_MAX_CAPTURES];
    size_t n;
    CHECK_EQ_INT(match("/items/caf%C3%A9%20au%20lait/edit", c, &n, NULL, NULL), 3);
    CHECK_EQ_STR(c[0].value, "caf\xc3\xa9 au lait");
    CHECK_EQ_INT(match("POST /items/x/edit", c, &n, NULL, NULL), 3);
    /* an escaped slash may not split a one-segment capture */
    CHECK_EQ_INT(match("/items/a%2Fb/edit", c, &n, NULL, NULL), -400);
    CHECK_EQ_INT(match("/items/%zz/edit", c, &n, NULL, NULL), -400);
    CHECK_EQ_INT(match("/items//edit", c, &n, NULL, NULL), -404);
}

static void test_rest_capture(void)
{
    uw_capture c[UW_MAX_CAPTURES];
    size_t n;
    CHECK_EQ_INT(match("/files/a/b/c.txt", c, &n, NULL, NULL), 4);
    CHECK_EQ_STR(c[0].value, "a/b/c.txt");
    CHECK_EQ_INT(match("/files/", c, &n, NULL, NULL), 4);
    CHECK_EQ_STR(c[0].value, "");
}

static void test_405_lists_allowed_methods(void)
{
    unsigned allowed;
    CHECK_EQ_INT(match("POST /users/3", NULL, NULL, &allowed, NULL), -405);
    CHECK(allowed & UW_GET);
    CHECK(allowed & UW_HEAD);
    CHECK(allowed & UW_DELETE);
    CHECK(!(allowed & UW_POST));
    CHECK_EQ_INT(match("DELETE /users/3", NULL, NULL, NULL, NULL), 5);
    CHECK_EQ_INT(match("PUT /nope", NULL, NULL, NULL, NULL), -404);
}

static void test_head_matches_get_routes(void)
{
    CHECK_EQ_INT(match("HEAD /users/3", NULL, NULL, NULL, NULL), 1);
}

static void test_trailing_slash(void)
{
    const char *redir;
    CHECK_EQ_INT(match("/dir", NULL, NULL, NULL, &redir), -308);
    CHECK_EQ_STR(redir, "/dir/");
    CHECK_EQ_INT(match("/dir/", NULL, NULL, NULL, NULL), 6);
    CHECK_EQ_INT(match("/exact", NULL, NULL, NULL, NULL), -404);
    CHECK_EQ_INT(match("/either", NULL, NULL, NULL, NULL), 8);
    CHECK_EQ_INT(match("/either/", NULL, NULL, NULL, NULL), 8);
    CHECK_EQ_INT(match("/users/5/", NULL, NULL, NULL, &redir), -308);
    CHECK_EQ_STR(redir, "/users/5");
}

static void test_first_match_wins(void)
{
    uw_capture c[UW_MAX_CAPTURES];
    size_t n;
    /* "/users/7" would also match "/<a>/<b>/<c>"? no (two segments); but
     * "/x/y/z" reaches the last route with three captures */
    CHECK_EQ_INT(match("/x/y/z", c, &n, NULL, NULL), 9);
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_STR(c[2].value, "z");
    CHECK_EQ_INT(match("/files/y/z", c, &n, NULL, NULL), 4);
}

static void test_routes_check(void)
{
    CHECK_EQ_INT(uw_routes_check(routes, UW_COUNT(routes)), UW_OK);
    static const uw_route bad1[] = { { UW_GET, "nope", h } };
    static const uw_route bad2[] = { { UW_GET, "/<float:x>", h } };
    static const uw_route bad3[] = { { UW_GET, "/<rest:x>/more", h } };
    static const uw_route bad4[] = { { UW_GET, "/a", NULL } };
    fprintf(stderr, "(four route errors expected below)\n");
    CHECK_EQ_INT(uw_routes_check(bad1, 1), UW_EINVAL);
    CHECK_EQ_INT(uw_routes_check(bad2, 1), UW_EINVAL);
    CHECK_EQ_INT(uw_routes_check(bad3, 1), UW_EINVAL);
    CHECK_EQ_INT(uw_routes_check(bad4, 1), UW_EINVAL);
}

int main(void)
{
    RUN(test_literals_and_404);
    RUN(test_int_capture);
    RUN(test_segment_capture_decoded);
    RUN(test_rest_capture);
    RUN(test_405_lists_allowed_methods);
    RUN(test_head_matches_get_routes);
    RUN(test_trailing_slash);
    RUN(test_first_match_wins);
    RUN(test_routes_check);
    return CHECK_DONE();
}
