#!/usr/bin/env bash
# scripts/mkcert.sh [DIR]: a local test CA and server certificates for
# HTTPS on this machine, made with the openssl command into DIR (default
# build/tls).  Files that exist are kept (delete DIR to start over), so
# `make run` makes them once and a browser that trusts the CA keeps
# trusting it.
#
#   ca.pem ca.key                  the test CA (ECDSA P-256, 10 years)
#   localhost.pem localhost.key    ECDSA P-256 for 127.0.0.1, ::1, localhost
#   localhost-rsa.pem/.key         RSA-2048, the same names
#   other.pem other.key            ECDSA P-256 for other.localhost (a second
#                                  name, for SNI)
#   localhost-block.pem            localhost.pem then localhost.key: the one
#                                  PEM file a unikernel reads
#   localhost-block.img            the same padded with NULs to a multiple of
#                                  512 bytes: the block device a unikernel
#                                  gets (uweb-spt --block:tls=localhost-block.img)
#   *.spki                         base64 SHA-256 of each certificate's public
#                                  key (Chromium's --ignore-certificate-errors-spki-list)
#
# MKCERT_SAN adds names to localhost's certificates, e.g.
# MKCERT_SAN="IP:10.77.1.2,DNS:box.test".  Only the test CA's holder can
# forge for these names: the CA key stays in DIR, trust it only on this
# machine.
set -eu
dir=${1:-build/tls}
mkdir -p "$dir"
cd "$dir"
umask 077
days_ca=3650
days=825      # the most a browser accepts for a server certificate

ec_key() { [ -f "$1" ] || openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
rsa_key() { [ -f "$1" ] || openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" 2>/dev/null; }

if [ ! -f ca.pem ] || [ ! -f ca.key ]; then
  rm -f ca.pem ca.key
  ec_key ca.key
  openssl req -x509 -new -key ca.key -sha256 -days "$days_ca" -subj "/O=uweb test/CN=uweb test CA $(hostname) $(date +%F)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" -out ca.pem 2>/dev/null
fi

# leaf NAME KEYKIND CN SAN: NAME.pem signed by the CA for SAN.
leaf() {
  local name=$1 kind=$2 cn=$3 san=$4
  [ -f "$name.pem" ] && [ -f "$name.key" ] && return 0
  "${kind}_key" "$name.key"
  local ext
  ext=$(mktemp)
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature$([ "$kind" = rsa ] && echo ,keyEncipherment)" \
    "extendedKeyUsage=serverAuth" "subjectAltName=$san" "authorityKeyIdentifier=keyid" "subjectKeyIdentifier=hash" >"$ext"
  openssl req -new -key "$name.key" -subj "/O=uweb test/CN=$cn" 2>/dev/null |
    openssl x509 -req -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days "$days" -extfile "$ext" -out "$name.pem" 2>/dev/null
  rm -f "$ext"
}

san="IP:127.0.0.1,IP:::1,DNS:localhost${MKCERT_SAN:+,$MKCERT_SAN}"
leaf localhost ec localhost "$san"
leaf localhost-rsa rsa localhost "$san"
leaf other ec other.localhost "DNS:other.localhost"
cat localhost.pem localhost.key >localhost-block.pem
cp localhost-block.pem localhost-block.img
truncate -s %512 localhost-block.img     # whole 512-byte blocks, NUL-padded

for c in localhost localhost-rsa other; do
  openssl x509 -in "$c.pem" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64 >"$c.spki"
done
chmod 644 ./*.pem ./*.spki
chmod 600 ./*.key localhost-block.pem localhost-block.img
