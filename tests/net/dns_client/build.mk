# tests/net/dns_client: the client's guest also reads a CA bundle from the
# optional block device "ca" (--ca=ca; tests/client/dns_uk.py).
UK_MANIFEST_net_dns_client := net:service block:ca?
