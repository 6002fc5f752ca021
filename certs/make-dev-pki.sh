#!/usr/bin/env bash
# Makes (or reuses) the development PKI in OUT_DIR with the openssl CLI.
# Nothing it generates is committed; see certs/README.md.
#
#   certs/make-dev-pki.sh OUT_DIR
#
# Idempotent: an existing key is never replaced, and a certificate is only
# (re)issued when it is missing or no longer matches its key. Safe to run again
# on the same OUT_DIR; prints the paths it made or reused.
set -euo pipefail

usage() { echo "usage: $0 OUT_DIR" >&2; exit 2; }
die() { echo "make-dev-pki: $*" >&2; exit 1; }

[ $# -eq 1 ] || usage
command -v openssl >/dev/null || die "openssl not found (apt-get install openssl)"

mkdir -p -- "$1"
OUT=$(realpath -- "$1")
umask 077

# --- building blocks --------------------------------------------------------

# ensure_key NAME: an ECDSA P-256 private key at OUT/NAME.key (PKCS#8 PEM,
# unencrypted, mode 0600). Written to a temporary file and renamed, so an
# interrupted run never leaves a half-written key behind.
ensure_key() {
  local key="$OUT/$1.key"
  [ -s "$key" ] && return 0
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:named_curve -out "$key.tmp.$$" 2>/dev/null \
    || die "cannot generate $key"
  mv -f -- "$key.tmp.$$" "$key"
}

# cert_matches_key CERT KEY: true when CERT exists and carries KEY's public key.
cert_matches_key() {
  [ -s "$1" ] || return 1
  local a b
  a=$(openssl x509 -in "$1" -noout -pubkey 2>/dev/null) || return 1
  b=$(openssl pkey -in "$2" -pubout 2>/dev/null) || return 1
  [ "$a" = "$b" ]
}

# ensure_root_ca NAME SUBJECT DAYS: a self-signed CA certificate OUT/NAME.pem
# for OUT/NAME.key, with pathlen 0 (it signs end-entity certificates only).
ensure_root_ca() {
  local name=$1 subject=$2 days=$3
  local key="$OUT/$name.key" cert="$OUT/$name.pem"
  ensure_key "$name"
  cert_matches_key "$cert" "$key" && return 0
  openssl req -new -x509 -sha256 -key "$key" -subj "$subject" -days "$days" \
    -set_serial "0x$(openssl rand -hex 16)" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$cert.tmp.$$" 2>/dev/null || die "cannot issue $cert"
  chmod 0644 "$cert.tmp.$$"
  mv -f -- "$cert.tmp.$$" "$cert"
}

# cert_issued_by CERT CA: true when CERT verifies against the CA certificate.
cert_issued_by() {
  openssl verify -CAfile "$2" "$1" >/dev/null 2>&1
}

# ensure_leaf NAME CA SUBJECT DAYS EXTENSIONS...: an end-entity certificate
# OUT/NAME.pem for OUT/NAME.key, signed by OUT/CA.pem, with the given
# -addext extensions. Reissued when missing, not matching its key, or not
# (any longer) issued by CA.
ensure_leaf() {
  local name=$1 ca=$2 subject=$3 days=$4
  shift 4
  local key="$OUT/$name.key" cert="$OUT/$name.pem" csr="$OUT/$name.csr.$$"
  ensure_key "$name"
  if cert_matches_key "$cert" "$key" && cert_issued_by "$cert" "$OUT/$ca.pem"; then
    return 0
  fi
  local ext=() e
  for e in "$@"; do ext+=(-addext "$e"); done
  openssl req -new -sha256 -key "$key" -subj "$subject" "${ext[@]}" -out "$csr" 2>/dev/null \
    || die "cannot make the request for $cert"
  openssl x509 -req -sha256 -in "$csr" -CA "$OUT/$ca.pem" -CAkey "$OUT/$ca.key" -days "$days" \
    -set_serial "0x$(openssl rand -hex 16)" -copy_extensions copyall -out "$cert.tmp.$$" \
    2>/dev/null || { rm -f -- "$csr"; die "cannot issue $cert"; }
  rm -f -- "$csr"
  chmod 0644 "$cert.tmp.$$"
  mv -f -- "$cert.tmp.$$" "$cert"
}

# --- the PKI ----------------------------------------------------------------

# TPM vendor root: stands in for a TPM manufacturer's EK CA. swtpm_setup (via
# tools/swtpm/provision.sh and swtpm_localca) signs every EK certificate with
# it, so a verifier trusts exactly this certificate for EKs.
ensure_root_ca tpm-vendor-ca "/O=fdattest development/CN=fdattest dev TPM vendor CA" 3650
echo "$OUT/tpm-vendor-ca.pem"
echo "$OUT/tpm-vendor-ca.key"

# fdverifierd's TLS: a server CA and the server's certificate for
# localhost, and a client CA whose certificates carry the caller's role in
# their subject's OU (docs/service.md).
ensure_root_ca server-ca "/O=fdattest development/CN=fdattest dev server CA" 3650
ensure_leaf server server-ca "/O=fdattest development/CN=localhost" 825 \
  "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
  "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth"
ensure_root_ca client-ca "/O=fdattest development/CN=fdattest dev client CA" 3650
for role in admin auditor; do
  ensure_leaf "$role" client-ca "/O=fdattest development/OU=$role/CN=fdattest dev $role" 825 \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=clientAuth"
done
for f in server-ca.pem server.pem server.key client-ca.pem admin.pem admin.key auditor.pem \
    auditor.key; do
  echo "$OUT/$f"
done
