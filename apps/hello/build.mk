# apps/hello: on the unikernels, net "service" and the optional block
# devices "tls" (the PEM chain and key: HTTPS on 443 when it is given),
# "acme" (the ACME client's state: --acme-directory, 64 KiB) and "acmeca"
# (the PEM CA of a test ACME server: --acme-ca=acmeca).
UK_MANIFEST_hello := net:service block:tls? block:acme? block:acmeca?
