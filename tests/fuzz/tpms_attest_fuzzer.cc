// libFuzzer target for the verifier's TPM structure parsers
// (verifier/tpm_attest.h): ParseAttest (both kinds), ParseSignature,
// ParseAkPublic and AkQualifiedName on arbitrary bytes must never crash,
// read out of bounds or leak; whatever parses must survive the checks that
// follow it (CheckAttestation against a parsed key and signature).
//
// Input layout: the first byte picks the parser; for the combined case the
// rest is split by two length bytes into attest || signature || public area.
#include <cstddef>
#include <cstdint>
#include <string>

#include "verifier/tpm_attest.h"

namespace {

std::string Take(const uint8_t*& data, size_t& size, size_t n) {
  n = n < size ? n : size;
  std::string out(reinterpret_cast<const char*>(data), n);
  data += n;
  size -= n;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fdattest;
  if (size == 0) return 0;
  const uint8_t selector = data[0];
  ++data;
  --size;
  const absl::string_view rest(reinterpret_cast<const char*>(data), size);
  switch (selector % 6) {
    case 0:
      (void)ParseAttest(rest, AttestKind::kNvCertify);
      break;
    case 1:
      (void)ParseAttest(rest, AttestKind::kPcrQuote);
      break;
    case 2:
      (void)ParseSignature(rest);
      break;
    case 3:
      (void)ParseAkPublic(rest);
      (void)PublicAreaName(rest);
      break;
    case 4: {
      if (size < 2) return 0;
      const size_t ek_len = (size_t{data[0]} << 8) | data[1];
      data += 2;
      size -= 2;
      const std::string ek = Take(data, size, ek_len);
      const std::string ak(reinterpret_cast<const char*>(data), size);
      (void)AkQualifiedName(ek, ak);
      break;
    }
    default: {
      if (size < 4) return 0;
      const size_t attest_len = (size_t{data[0]} << 8) | data[1];
      const size_t sig_len = (size_t{data[2]} << 8) | data[3];
      data += 4;
      size -= 4;
      const std::string attest = Take(data, size, attest_len);
      const std::string sig = Take(data, size, sig_len);
      const std::string pub(reinterpret_cast<const char*>(data), size);
      const AttestKind kind = (selector & 0x80) ? AttestKind::kPcrQuote : AttestKind::kNvCertify;
      absl::StatusOr<ParsedAttest> parsed = ParseAttest(attest, kind);
      absl::StatusOr<EcdsaSignature> signature = ParseSignature(sig);
      absl::StatusOr<AkPublic> ak = ParseAkPublic(pub);
      if (parsed.ok() && signature.ok() && ak.ok()) {
        ExpectedAttestation expected;
        expected.kind = kind;
        expected.qualifying_data.assign(reinterpret_cast<const char*>(parsed->attest.extraData.buffer),
                                        parsed->attest.extraData.size < 32 ? parsed->attest.extraData.size : 32);
        expected.qualifying_data.resize(32);
        expected.qualified_signer = ak->name;
        expected.pcr = selector & 0x1f;
        expected.register_value = fdattest::Sha256("fuzz");
        (void)CheckAttestation(*parsed, *signature, *ak, expected);
      }
      break;
    }
  }
  return 0;
}
