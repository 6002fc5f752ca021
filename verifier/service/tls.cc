#include "verifier/service/tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "common/openssl_ptr.h"
#include "verifier/service/connection_pool.h"

namespace fdattest {
namespace {

constexpr unsigned char kSessionIdContext[] = "fdverifierd";

std::string OpensslReason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

absl::Status Fail(absl::string_view what, absl::string_view path) {
  return absl::InvalidArgumentError(absl::StrCat(what, " ", path, ": ", OpensslReason()));
}

}  // namespace

absl::Status ConfigureServerTls(SSL_CTX* ctx, const TlsFiles& files) {
  ERR_clear_error();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    return absl::InternalError(absl::StrCat("TLS 1.2 minimum: ", OpensslReason()));
  }
  // No renegotiation (TLS 1.2) and no compression; the server picks the cipher.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_chain.c_str()) != 1) {
    return Fail("--tls-cert", files.cert_chain);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, files.key.c_str(), SSL_FILETYPE_PEM) != 1) {
    return Fail("--tls-key", files.key);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls-key ", files.key, " is not the key of --tls-cert ", files.cert_chain));
  }
  if (SSL_CTX_load_verify_locations(ctx, files.client_ca.c_str(), nullptr) != 1) {
    return Fail("--client-ca", files.client_ca);
  }
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca.c_str());
  if (names == nullptr) return Fail("--client-ca", files.client_ca);
  SSL_CTX_set_client_CA_list(ctx, names);  // takes ownership
  // Optional client certificates: attestation routes need none; a shown one
  // that does not chain to the client CA ends the handshake.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_verify_depth(ctx, 4);
  if (SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof(kSessionIdContext) - 1) != 1) {
    return absl::InternalError(absl::StrCat("session id context: ", OpensslReason()));
  }
  SSL_CTX_set_info_callback(ctx, &ConnectionPool::TlsInfoCallback);
  return absl::OkStatus();
}

ClientIdentity IdentifyClient(const SSL* ssl) {
  ClientIdentity identity;
  if (ssl == nullptr) return identity;
  X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return identity;
  identity.has_certificate = true;
  const X509_NAME* subject = X509_get_subject_name(cert);
  if (subject == nullptr) return identity;
  if (BioPtr bio(BIO_new(BIO_s_mem())); bio != nullptr) {
    if (X509_NAME_print_ex(bio.get(), subject, 0, XN_FLAG_RFC2253) >= 0) {
      char* data = nullptr;
      const long n = BIO_get_mem_data(bio.get(), &data);
      if (n > 0 && data != nullptr) identity.subject.assign(data, static_cast<size_t>(n));
    }
  }
  const int index = X509_NAME_get_index_by_NID(subject, NID_organizationalUnitName, -1);
  if (index < 0) return identity;
  // Exactly one OU: a certificate naming several roles names none.
  if (X509_NAME_get_index_by_NID(subject, NID_organizationalUnitName, index) >= 0) return identity;
  const ASN1_STRING* ou = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
  if (ou == nullptr) return identity;
  const absl::string_view value(reinterpret_cast<const char*>(ASN1_STRING_get0_data(ou)),
                                static_cast<size_t>(ASN1_STRING_length(ou)));
  if (value == "admin") identity.role = Role::kAdmin;
  if (value == "auditor") identity.role = Role::kAuditor;
  return identity;
}

}  // namespace fdattest
