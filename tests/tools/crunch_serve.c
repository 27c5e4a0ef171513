/*
 * A server for tests/tools/crunch.py: serves the asset set that
 * uweb-crunch generated as `crunch_test_assets` at every path.
 * Built by that test with the generated source; not an app.
 */
#include <uweb/static.h>
#include <uweb/web.h>

#include "crunch_test_assets.h"

static const uw_static_mount site = { &crunch_test_assets, .cache_control = "max-age=60" };

static const uw_route routes[] = {
    { UW_GET, "/<rest:path>", uw_static_handler, .arg = (void *)&site },
};

int main(int argc, char **argv)
{
    return uw_main(argc, argv, &(uw_app){ UW_ROUTES(routes), .name = "crunch-test" });
}
