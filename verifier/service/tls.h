// fdverifierd's TLS: the server context (TLS 1.2 or later, the server's
// certificate chain and key, client certificates optional but verified
// against the client CA whenever one is shown) and who a verified client
// certificate says the caller is: its subject's single OU names the role
// (`admin`, `auditor`; anything else, or several OUs, is no role).
// Stateless functions; thread-safe.
#ifndef FDATTEST_VERIFIER_SERVICE_TLS_H_
#define FDATTEST_VERIFIER_SERVICE_TLS_H_

#include <openssl/ssl.h>

#include <string>

#include "common/status.h"
#include "verifier/service/api.h"

namespace fdattest {

struct TlsFiles {
  std::string cert_chain;  // PEM: the server certificate, then intermediates
  std::string key;         // PEM private key of the server certificate
  std::string client_ca;   // PEM: the CA(s) client certificates must chain to
};

// Configures `ctx` as described above; also installs the connection pool's
// handshake callback (verifier/service/connection_pool.h). Errors name the
// file and OpenSSL's reason.
absl::Status ConfigureServerTls(SSL_CTX* ctx, const TlsFiles& files);

struct ClientIdentity {
  bool has_certificate = false;  // a certificate was shown and verified
  Role role = Role::kNone;
  std::string subject;  // RFC 2253, for logs; empty without a certificate
};
// The identity of the peer of `ssl` (nullptr: none).
ClientIdentity IdentifyClient(const SSL* ssl);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_SERVICE_TLS_H_
