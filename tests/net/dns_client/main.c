/*
 * A test unikernel for the HTTP client on lwIP: fetches each URL
 * (http:// or https://NAME:PORT/PATH, NAME resolved by lwIP's DNS client
 * from --dns or the DHCP lease; https:// verified against the CA bundle
 * of the block device named by --ca=NAME) and prints one line per URL,
 *     OK STATUS BODY        or        ERROR why
 * then DONE.  The network options (--ipv4, --dns, ...) go to the target.
 *
 *     dns_client.spt --ipv4=10.81.9.2/24 --dns=10.81.9.1 [--ca=ca] URL...
 */
#include <uweb/client.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int uw_net_option(const char *arg);

static const char *urls[8], *ca;
static int nurls;

static void main_task(void *arg)
{
    (void)arg;
    uw_client_config cfg;
    uw_client_config_default(&cfg);
    cfg.connect_timeout = UW_SEC(20);      /* DHCP may still be on its way */
    cfg.ca_file = ca;                       /* a block device on this target */
    uw_client *cl;
    if (uw_client_new(&cl, &cfg) != UW_OK) { printf("ERROR client\n"); return; }
    for (int i = 0; i < nurls; i++) {
        int status = 0;
        char *body = NULL;
        size_t len = 0;
        int r = uw_client_fetch(cl, &(uw_client_req){ .url = urls[i] }, &status, &body, &len, 4096);
        if (r == UW_CLIENT_ETLS || r == UW_CLIENT_EVERIFY)
            printf("ERROR %s (%s)\n", uw_client_strerror(r), uw_client_tls_reason(cl));
        else if (r != UW_OK) printf("ERROR %s\n", uw_client_strerror(r));
        else {
            while (len && (body[len - 1] == '\n' || body[len - 1] == '\r')) body[--len] = 0;
            printf("OK %d %s\n", status, body);
        }
        free(body);
    }
    uw_client_free(cl);
    printf("DONE\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--ca=", 5) == 0) { ca = argv[i] + 5; continue; }
        int k = uw_net_option(argv[i]);
        if (k < 0) return 2;
        if (k == 0 && nurls < 8) urls[nurls++] = argv[i];
    }
    if (uw_rt_init() != UW_OK) return 1;
    uw_task *m = uw_spawn(main_task, NULL, 0);
    if (!m) return 1;
    uw_detach(m);
    uw_rt_run();
    return 0;
}
