#!/usr/bin/env bash
# Provisions a blank swtpm TPM 2.0 state in TEMPLATE_DIR with swtpm_setup: an
# RSA-2048 EK persisted at 0x81010001 and its certificate in NV index
# 0x01c00002, signed by the development TPM vendor CA in PKI_DIR (made by
# certs/make-dev-pki.sh; this script runs it, so PKI_DIR may be new).
#
#   tools/swtpm/provision.sh TEMPLATE_DIR PKI_DIR
#
# Every configuration file is private to TEMPLATE_DIR, so nothing touches the
# system defaults in /etc or /var/lib. The result is TEMPLATE_DIR/tpm2-00.permall:
# copying that one file into another directory clones the TPM (same EK, same
# certificate), which is how tests get a provisioned TPM cheaply. Only the RSA
# EK is made: swtpm 0.7.1's ECC EK is P-384, not the P-256 template tools use.
set -euo pipefail

usage() { echo "usage: $0 TEMPLATE_DIR PKI_DIR" >&2; exit 2; }
die() { echo "provision: $*" >&2; exit 1; }

[ $# -eq 2 ] || usage
for tool in swtpm swtpm_setup swtpm_localca swtpm_cert; do
  command -v "$tool" >/dev/null || die "$tool not found (apt-get install swtpm swtpm-tools)"
done
here=$(dirname -- "$(realpath -- "$0")")

mkdir -p -- "$1" "$2"
# swtpm --daemon and swtpm_setup's helpers change directory: absolute paths only.
TEMPLATE=$(realpath -- "$1")
PKI=$(realpath -- "$2")
[ ! -e "$TEMPLATE/tpm2-00.permall" ] || die "$TEMPLATE is already provisioned"

"$here/../../certs/make-dev-pki.sh" "$PKI" >/dev/null

CONF="$TEMPLATE/setup"          # swtpm_setup and swtpm_localca configuration
CERTS="$TEMPLATE/ek-certs"      # DER copies of the certificates written to NV
mkdir -p -- "$CONF" "$CERTS"

# swtpm_localca signs with signingkey/issuercert when signingkey exists (it
# would otherwise create its own CA in statedir). swtpm_cert loads them with
# GnuTLS, which takes the PKCS#8 PEM key and PEM certificate openssl writes.
cat > "$CONF/swtpm-localca.conf" <<EOF
statedir = $CONF
signingkey = $PKI/tpm-vendor-ca.key
issuercert = $PKI/tpm-vendor-ca.pem
certserial = $CONF/certserial
EOF
# A random start, so two provisioned templates do not issue the same serials.
# No trailing newline: swtpm_localca 0.7.1 silently restarts at 1 otherwise.
printf '%d' $(( (RANDOM << 30 | RANDOM << 15 | RANDOM) + 1 )) > "$CONF/certserial"
cat > "$CONF/swtpm-localca.options" <<EOF
--platform-manufacturer fdattest
--platform-version 1.0
--platform-model fdattest-dev
EOF
cat > "$CONF/swtpm_setup.conf" <<EOF
create_certs_tool = $(command -v swtpm_localca)
create_certs_tool_config = $CONF/swtpm-localca.conf
create_certs_tool_options = $CONF/swtpm-localca.options
active_pcr_banks = sha256
EOF

# XDG_CONFIG_HOME points at the private directory too, so a user-level
# swtpm_setup.conf cannot leak in.
if ! XDG_CONFIG_HOME="$CONF" swtpm_setup --tpm2 --tpmstate "$TEMPLATE" \
      --config "$CONF/swtpm_setup.conf" --logfile "$CONF/swtpm_setup.log" \
      --createek --create-ek-cert --lock-nvram --pcr-banks sha256 \
      --write-ek-cert-files "$CERTS" >/dev/null 2>&1; then
  cat "$CONF/swtpm_setup.log" >&2 2>/dev/null || true
  die "swtpm_setup failed for $TEMPLATE (log above)"
fi
[ -s "$TEMPLATE/tpm2-00.permall" ] || die "swtpm_setup made no tpm2-00.permall in $TEMPLATE"
[ -s "$CERTS/ek-rsa2048.crt" ] || die "swtpm_setup wrote no RSA EK certificate"
openssl x509 -inform DER -in "$CERTS/ek-rsa2048.crt" -out "$CERTS/ek-rsa2048.pem"
openssl verify -CAfile "$PKI/tpm-vendor-ca.pem" "$CERTS/ek-rsa2048.pem" >/dev/null 2>&1 \
  || die "the EK certificate does not chain to $PKI/tpm-vendor-ca.pem"
