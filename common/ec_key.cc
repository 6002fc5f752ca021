#include "common/ec_key.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include <cstring>
#include <memory>

namespace fdattest {

absl::StatusOr<EvpPkeyPtr> P256PublicKey(absl::string_view x, absl::string_view y) {
  if (x.empty() || x.size() > 32 || y.empty() || y.size() > 32) {
    return absl::InvalidArgumentError("P-256 point coordinates must be 1..32 bytes");
  }
  // Uncompressed SEC1 point, coordinates left-padded to 32 bytes.
  uint8_t point[65] = {0x04};
  std::memcpy(point + 1 + (32 - x.size()), x.data(), x.size());
  std::memcpy(point + 33 + (32 - y.size()), y.data(), y.size());
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld(OSSL_PARAM_BLD_new(),
                                                                     &OSSL_PARAM_BLD_free);
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point))) {
    return OpenSslStatus("build EC key parameters");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params(OSSL_PARAM_BLD_to_param(bld.get()),
                                                                 &OSSL_PARAM_free);
  EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !pctx || EVP_PKEY_fromdata_init(pctx.get()) <= 0 ||
      EVP_PKEY_fromdata(pctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    // A point OpenSSL cannot decode is the input's fault, not ours.
    ERR_clear_error();
    return absl::InvalidArgumentError("ECC public point is not on P-256 (not decodable)");
  }
  EvpPkeyPtr pkey(raw);
  // fromdata does not check that the point is on the curve.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("ECC public point is not on P-256");
  }
  return pkey;
}

}  // namespace fdattest
