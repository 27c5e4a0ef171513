/* uw_main on the unikernels: no file system (certificates come from the
 * app's block device); the unikernel owns its address, so HTTP on 80 and
 * HTTPS on 443 by default. */
#include "web_internal.h"

#include <stdio.h>

uint16_t uw__default_port(void) { return 80; }
uint16_t uw__default_tls_port(void) { return 443; }

char *uw__read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    (void)len;
    snprintf(err, errlen, "%s: a unikernel has no files (its certificate comes from a block device)", path);
    return NULL;
}

/* One worker per unikernel (run more of them behind a load balancer). */
int uw__reserve_port(const char *addr, uint16_t *port) { (void)addr; (void)port; return -1; }
int uw__unix_listen(const char *path) { (void)path; return -1; }
unsigned uw__cpu_count(void) { return 1; }
int uw__run_workers(unsigned n, unsigned *index, int *status) { (void)n; (void)index; (void)status; return -1; }
void uw__remove_socket(const char *path) { (void)path; }
