# apps/hello: on the unikernels, net "service" and the optional block
# device "tls" (the PEM chain and key: HTTPS on 443 when it is given).
UK_MANIFEST_hello := net:service block:tls?
