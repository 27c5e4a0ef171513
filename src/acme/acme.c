/* The ACME client's common part: uw_main's options, the HTTP-01 answers on
 * the plain listener, the task's start and stop.  The protocol itself is
 * the engine (engine.c), the same on every target. */
#include "acme_internal.h"
#include "../util/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *opt_value(const char *arg, const char *name)
{
    size_t n = strlen(name);
    return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static int opt_seconds(const char *v, const char *name, int64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long s = strtoull(v, &end, 10);
    if (errno || end == v || *end || *v == '-' || s > 100ull * 365 * 86400) {
        fprintf(stderr, "uweb: %s needs a number of seconds\n", name);
        return -1;
    }
    *out = UW_SEC((int64_t)s);
    return 1;
}

/* --acme-domain=a,b: each name once, copied (the table keeps them). */
static int add_domains(uw_acme_config *cfg, const char *v)
{
    while (*v) {
        const char *c = strchr(v, ',');
        size_t n = c ? (size_t)(c - v) : strlen(v);
        if (n == 0 || n > 253 || memchr(v, '/', n) || memchr(v, ':', n) || memchr(v, ' ', n)) {
            fprintf(stderr, "uweb: --acme-domain: \"%.*s\" is not a host name\n", (int)n, v);
            return -1;
        }
        if (v[0] == '*') {
            fprintf(stderr, "uweb: --acme-domain: %.*s: wildcard names need the DNS-01 challenge, which uweb "
                    "does not answer\n", (int)n, v);
            return -1;
        }
        if (cfg->ndomains == UW_ACME_MAX_DOMAINS) {
            fprintf(stderr, "uweb: --acme-domain: at most %d names\n", UW_ACME_MAX_DOMAINS);
            return -1;
        }
        char *d = strndup(v, n);
        if (!d) return -1;
        cfg->domains[cfg->ndomains++] = d;
        v += n + (c ? 1 : 0);
    }
    return 1;
}

int uw_acme_option(uw_acme_config *cfg, const char *arg)
{
    const char *v;
    if ((v = opt_value(arg, "--acme-directory")) || (v = opt_value(arg, "--acme"))) {
        if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
            fprintf(stderr, "uweb: --acme-directory needs an http:// or https:// URL\n");
            return -1;
        }
        cfg->directory = v;
        return 1;
    }
    if ((v = opt_value(arg, "--acme-domain"))) return add_domains(cfg, v);
    if ((v = opt_value(arg, "--acme-email"))) { cfg->email = v; return 1; }
    if (strcmp(arg, "--acme-agree-tos") == 0) { cfg->agree_tos = true; return 1; }
    if ((v = opt_value(arg, "--acme-dir"))) { cfg->state_dir = v; return 1; }
    if ((v = opt_value(arg, "--acme-ca"))) { cfg->ca_file = v; return 1; }
    if ((v = opt_value(arg, "--acme-renew-after"))) return opt_seconds(v, "--acme-renew-after", &cfg->renew_after);
    if ((v = opt_value(arg, "--acme-retry"))) return opt_seconds(v, "--acme-retry", &cfg->retry_min);
    if ((v = opt_value(arg, "--acme-challenge"))) {
        if (strcmp(v, "http-01") == 0) cfg->challenge = UW_ACME_CHALLENGE_HTTP01;
        else if (strcmp(v, "tls-alpn-01") == 0) cfg->challenge = UW_ACME_CHALLENGE_TLSALPN01;
        else if (strcmp(v, "any") == 0) cfg->challenge = UW_ACME_CHALLENGE_ANY;
        else {
            fprintf(stderr, "uweb: --acme-challenge is http-01, tls-alpn-01 or any\n");
            return -1;
        }
        return 1;
    }
    return 0;
}

const char *uw_acme_options_help(void)
{
    return
"    --acme-directory=URL    obtain and renew the HTTPS certificate from this ACME\n"
"                            server (also --acme=URL; Let's Encrypt: --acme-directory=\n"
"                            https://acme-v02.api.letsencrypt.org/directory); plain\n"
"                            HTTP serves meanwhile, HTTPS once the certificate arrives\n"
"    --acme-domain=NAMES     the certificate's names, comma-separated (repeatable)\n"
"    --acme-email=ADDR       contact address of the ACME account\n"
"    --acme-agree-tos        agree to the ACME server's terms of service (Let's Encrypt's\n"
"                            subscriber agreement); without it a server that has terms fails\n"
"    --acme-dir=DIR          keeps account.key, cert.pem and cert.key there (reused\n"
"                            after a restart); default: on the block device acme if\n"
"                            attached (--block:acme=FILE, 64 KiB), else in memory only\n"
"    --acme-ca=FILE          PEM CAs trusted for the ACME server's HTTPS (a test CA)\n"
"    --acme-challenge=TYPE   http-01 (on the plain listener), tls-alpn-01 (on the HTTPS\n"
"                            listener) or any (the default: http-01, and tls-alpn-01\n"
"                            when it is not offered or failed last time)\n"
"    --acme-renew-after=SEC  renew SEC seconds after issuance (default: at 2/3 of the\n"
"                            lifetime, or earlier when the server's ARI says so)\n"
"    --acme-retry=SEC        first wait after a failure, doubling up to an hour (default 5)\n";
}

int uw_acme_config_check(const uw_acme_config *cfg, const char *name)
{
    if (cfg->directory && !cfg->ndomains) {
        fprintf(stderr, "%s: --acme-directory needs at least one --acme-domain\n", name);
        return UW_EINVAL;
    }
    if (!cfg->directory && (cfg->ndomains || cfg->email || cfg->state_dir || cfg->ca_file)) {
        fprintf(stderr, "%s: the --acme-* options need --acme-directory\n", name);
        return UW_EINVAL;
    }
    return UW_OK;
}

int uw_acme_new(uw_acme **out, const uw_acme_config *cfg, uw_tls_config *tls)
{
    uw_acme *a = calloc(1, sizeof *a);
    if (!a) return UW_ENOMEM;
    a->cfg = *cfg;
    if (!a->cfg.name) a->cfg.name = "uweb";
    if (a->cfg.retry_min <= 0) a->cfg.retry_min = UW_SEC(5);
    if (a->cfg.retry_max <= 0) a->cfg.retry_max = UW_SEC(3600);
    if (a->cfg.retry_max < a->cfg.retry_min) a->cfg.retry_max = a->cfg.retry_min;
    a->tls = tls;
    a->slot = -1;
    *out = a;
    return UW_OK;
}

static void task_main(void *arg)
{
    uw_acme *a = arg;
    acme_engine_main(a);
    a->task = NULL;
}

int uw_acme_start(uw_acme *a)
{
    a->task = uw_spawn(task_main, a, 256 * 1024);
    if (!a->task) return UW_ENOMEM;
    uw_detach(a->task);
    return UW_OK;
}

void uw_acme_stop(uw_acme *a)
{
    if (a && a->task) uw_cancel(a->task);
}

void uw_acme_free(uw_acme *a)
{
    if (!a) return;
    acme_tokens_clear(a);
    acme_engine_free(a);
    free(a);
}

void uw_acme_set_next(uw_acme *a, uw_http_dispatch next, void *arg)
{
    a->next = next;
    a->next_arg = arg;
}

bool uw_acme_has_cert(const uw_acme *a) { return a->slot >= 0; }
int64_t uw_acme_not_after(const uw_acme *a) { return a->not_after; }

void uw_acme_renew_now(uw_acme *a)
{
    a->renew_now = true;
    uw_wake_all(&a->wake);
}

int acme_token_add(uw_acme *a, const char *token, const char *key_auth)
{
    for (size_t i = 0; i < UW_ACME_MAX_DOMAINS; i++) {
        acme_token *t = &a->tokens[i];
        if (t->token) continue;
        t->token = strdup(token);
        t->key_auth = strdup(key_auth);
        if (t->token && t->key_auth) return UW_OK;
        free(t->token);
        free(t->key_auth);
        t->token = t->key_auth = NULL;
        return UW_ENOMEM;
    }
    return UW_ELIMIT;
}

void acme_tokens_clear(uw_acme *a)
{
    for (size_t i = 0; i < UW_ACME_MAX_DOMAINS; i++) {
        free(a->tokens[i].token);
        free(a->tokens[i].key_auth);
        a->tokens[i].token = a->tokens[i].key_auth = NULL;
    }
}

#define CHALLENGE_PREFIX "/.well-known/acme-challenge/"

void uw_acme_dispatch(uw_req *req, uw_res *res, void *arg)
{
    uw_acme *a = arg;
    const char *path = uw_req_path(req);
    if (strncmp(path, CHALLENGE_PREFIX, sizeof CHALLENGE_PREFIX - 1) != 0) {
        if (a->next) a->next(req, res, a->next_arg);
        else uw_res_error(res, 404, NULL);
        return;
    }
    const char *token = path + sizeof CHALLENGE_PREFIX - 1;
    for (size_t i = 0; i < UW_ACME_MAX_DOMAINS; i++) {
        if (a->tokens[i].token && strcmp(a->tokens[i].token, token) == 0) {
            const char *ka = a->tokens[i].key_auth;
            uw_res_send(res, 200, "application/octet-stream", ka, strlen(ka));
            return;
        }
    }
    uw_res_error(res, 404, "no such ACME challenge");
}

size_t acme_b64url(const void *data, size_t n, char *out, size_t cap)
{
    return uw__b64_encode(data, n, out, cap, UW__B64_URL | UW__B64_NOPAD);
}
