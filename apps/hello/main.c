/*
 * Hello World: the tutorial's first uweb program.
 *
 *     $ build/apps/hello --port=8080
 *     $ curl http://127.0.0.1:8080/
 *     Hello World!
 */
#include <uweb/web.h>

static void hello(uw_req *req, uw_res *res)
{
    (void)req;
    uw_res_text(res, 200, "Hello World!\n");
}

static const uw_route routes[] = {
    { UW_GET, "/", hello, .query = UW_QUERY_ANY },
};

int main(int argc, char **argv)
{
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes) });
}
