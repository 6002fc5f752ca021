// Owning smart pointers for the OpenSSL objects fdattest uses. One alias per
// type, each freeing with the matching *_free function.
#ifndef FDATTEST_COMMON_OPENSSL_PTR_H_
#define FDATTEST_COMMON_OPENSSL_PTR_H_

#include <openssl/evp.h>

#include <memory>

namespace fdattest {

struct EvpMdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EvpPkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct EvpPkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

using EvpMdCtxPtr = std::unique_ptr<EVP_MD_CTX, EvpMdCtxDeleter>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, EvpPkeyDeleter>;
using EvpPkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, EvpPkeyCtxDeleter>;

}  // namespace fdattest

#endif  // FDATTEST_COMMON_OPENSSL_PTR_H_
