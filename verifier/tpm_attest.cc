#include "verifier/tpm_attest.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <cstring>
#include <memory>

#include "common/sha256.h"
#include "common/tpm_names.h"
#include "common/tpm_nv_register.h"
#include "common/tpm_wire.h"
#include "common/ec_key.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace fdattest {
namespace {

constexpr TPMA_OBJECT kAkRequiredAttributes =
    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
    TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;
constexpr TPMA_OBJECT kEkRequiredAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
                                              TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
constexpr size_t kSha256NameBytes = 34;  // 0x000b || 32-byte digest
constexpr size_t kQualifyingDataBytes = 32;

const uint8_t* Bytes(absl::string_view s) { return reinterpret_cast<const uint8_t*>(s.data()); }
absl::string_view View(const uint8_t* p, size_t n) {
  return absl::string_view(reinterpret_cast<const char*>(p), n);
}

bool ConstantTimeEqual(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string AlgName(TPM2_ALG_ID alg) {
  switch (alg) {
    case TPM2_ALG_SHA1: return "SHA-1";
    case TPM2_ALG_SHA256: return "SHA-256";
    case TPM2_ALG_SHA384: return "SHA-384";
    case TPM2_ALG_SHA512: return "SHA-512";
    case TPM2_ALG_SM3_256: return "SM3-256";
    case TPM2_ALG_RSASSA: return "RSASSA";
    case TPM2_ALG_RSAPSS: return "RSAPSS";
    case TPM2_ALG_ECDSA: return "ECDSA";
    case TPM2_ALG_ECDAA: return "ECDAA";
    case TPM2_ALG_SM2: return "SM2";
    case TPM2_ALG_ECSCHNORR: return "ECSCHNORR";
    case TPM2_ALG_HMAC: return "HMAC";
    case TPM2_ALG_NULL: return "NULL";
    default: return absl::StrFormat("0x%04x", alg);
  }
}


// TpmUnmarshal (exact: nothing missing, nothing left over), its refusal
// prefixed with which input it was.
template <TpmWireType T>
absl::StatusOr<T> UnmarshalExact(absl::string_view bytes, absl::string_view what) {
  absl::StatusOr<T> value = TpmUnmarshal<T>(bytes);
  if (!value.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", value.status().message()));
  }
  return value;
}

absl::StatusOr<TPM2B_PUBLIC> ParsePublicExact(absl::string_view bytes, absl::string_view what) {
  if (bytes.size() > kMaxPublicBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s: TPM2B_PUBLIC of %d bytes exceeds %d", what, bytes.size(), kMaxPublicBytes));
  }
  return UnmarshalExact<TPM2B_PUBLIC>(bytes, what);
}

absl::StatusOr<std::string> NameOf(const TPMT_PUBLIC& area, absl::string_view what) {
  if (area.nameAlg != TPM2_ALG_SHA256) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": nameAlg ", AlgName(area.nameAlg), " (only SHA-256 is accepted)"));
  }
  absl::StatusOr<std::string> name = TpmObjectName(area);
  if (!name.ok()) return absl::InvalidArgumentError(absl::StrCat(what, ": ", name.status().message()));
  return name;
}

absl::StatusOr<EvpPkeyPtr> P256Key(const TPMS_ECC_POINT& point) {
  if (point.x.size != 32 || point.y.size != 32) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "AK public point coordinates are %d and %d bytes (P-256 needs 32 each)", point.x.size,
        point.y.size));
  }
  return P256PublicKey(
      absl::string_view(reinterpret_cast<const char*>(point.x.buffer), point.x.size),
      absl::string_view(reinterpret_cast<const char*>(point.y.buffer), point.y.size));
}

absl::Status CheckNvInfo(const TPMS_NV_CERTIFY_INFO& nv, const ExpectedAttestation& expected,
                         VerifiedAttestation& out) {
  const absl::string_view name = View(nv.indexName.name, nv.indexName.size);
  if (name.size() != kSha256NameBytes || name[0] != 0 || name[1] != 0x0b) {
    return absl::InvalidArgumentError("NV certify: indexName is not a SHA-256 name");
  }
  if (expected.nv_index_name.has_value() && !ConstantTimeEqual(name, *expected.nv_index_name)) {
    return absl::UnauthenticatedError("NV certify: indexName is not the register's name");
  }
  if (nv.offset != 0) {
    return absl::UnauthenticatedError(absl::StrFormat("NV certify: offset %d (must be 0)", nv.offset));
  }
  if (nv.nvContents.size != 32) {
    return absl::UnauthenticatedError(
        absl::StrFormat("NV certify: %d bytes certified (must be 32)", nv.nvContents.size));
  }
  std::memcpy(out.register_value.data(), nv.nvContents.buffer, 32);
  if (expected.register_value.has_value() &&
      CRYPTO_memcmp(out.register_value.data(), expected.register_value->data(), 32) != 0) {
    return absl::UnauthenticatedError("NV certify: certified value is not the expected register value");
  }
  out.nv_index_name = std::string(name);
  return absl::OkStatus();
}

absl::Status CheckQuoteInfo(const TPMS_QUOTE_INFO& quote, const ExpectedAttestation& expected,
                            VerifiedAttestation& out) {
  if (expected.pcr < 0 || expected.pcr >= 24 || !expected.register_value.has_value()) {
    return absl::InvalidArgumentError("expected quote needs a PCR in 0..23 and its value");
  }
  const TPML_PCR_SELECTION& sel = quote.pcrSelect;
  if (sel.count != 1) {
    return absl::UnauthenticatedError(
        absl::StrFormat("quote: %d PCR banks selected (must be exactly one)", sel.count));
  }
  const TPMS_PCR_SELECTION& bank = sel.pcrSelections[0];
  if (bank.hash != TPM2_ALG_SHA256) {
    return absl::UnauthenticatedError(
        absl::StrCat("quote: PCR bank ", AlgName(bank.hash), " selected (must be SHA-256)"));
  }
  if (bank.sizeofSelect > sizeof(bank.pcrSelect)) {
    return absl::InvalidArgumentError("quote: PCR select bitmap too large");
  }
  // Exactly one bit, the expected PCR's, in the whole select bitmap.
  for (size_t i = 0; i < bank.sizeofSelect; ++i) {
    const uint8_t want = (static_cast<size_t>(expected.pcr / 8) == i) ? (1u << (expected.pcr % 8)) : 0;
    if (bank.pcrSelect[i] != want) {
      return absl::UnauthenticatedError(
          absl::StrFormat("quote: PCR selection is not exactly sha256:%d", expected.pcr));
    }
  }
  if (static_cast<size_t>(expected.pcr / 8) >= bank.sizeofSelect) {
    return absl::UnauthenticatedError(
        absl::StrFormat("quote: PCR selection is not exactly sha256:%d", expected.pcr));
  }
  const Sha256Digest want = Sha256(View(expected.register_value->data(), 32));
  if (quote.pcrDigest.size != 32 || CRYPTO_memcmp(quote.pcrDigest.buffer, want.data(), 32) != 0) {
    return absl::UnauthenticatedError("quote: pcrDigest is not SHA-256 of the expected PCR value");
  }
  out.register_value = *expected.register_value;
  return absl::OkStatus();
}

}  // namespace

absl::string_view AttestKindName(AttestKind kind) {
  return kind == AttestKind::kNvCertify ? "NV certify (TPM_ST_ATTEST_NV)"
                                        : "PCR quote (TPM_ST_ATTEST_QUOTE)";
}

absl::StatusOr<ParsedAttest> ParseAttest(absl::string_view bytes, AttestKind expected) {
  if (bytes.size() > kMaxAttestBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("attest: %d bytes exceeds %d", bytes.size(), kMaxAttestBytes));
  }
  ASSIGN_OR_RETURN(TPMS_ATTEST attest, UnmarshalExact<TPMS_ATTEST>(bytes, "attest"));
  ParsedAttest out{std::string(bytes), attest};
  if (out.attest.magic != TPM2_GENERATED_VALUE) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "attest: magic 0x%08x is not TPM_GENERATED_VALUE (0xff544347)", out.attest.magic));
  }
  const TPMI_ST_ATTEST want =
      expected == AttestKind::kNvCertify ? TPM2_ST_ATTEST_NV : TPM2_ST_ATTEST_QUOTE;
  if (out.attest.type != want) {
    return absl::InvalidArgumentError(absl::StrFormat("attest: type 0x%04x, expected %s",
                                                      out.attest.type, AttestKindName(expected)));
  }
  return out;
}

absl::StatusOr<EcdsaSignature> ParseSignature(absl::string_view bytes) {
  if (bytes.size() > kMaxSignatureBytes) {
    return absl::InvalidArgumentError(
        absl::StrFormat("signature: %d bytes exceeds %d", bytes.size(), kMaxSignatureBytes));
  }
  ASSIGN_OR_RETURN(const TPMT_SIGNATURE sig, UnmarshalExact<TPMT_SIGNATURE>(bytes, "signature"));
  if (sig.sigAlg != TPM2_ALG_ECDSA) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature: scheme ", AlgName(sig.sigAlg), " refused (only ECDSA)"));
  }
  const TPMS_SIGNATURE_ECC& ecc = sig.signature.ecdsa;
  if (ecc.hash == TPM2_ALG_SHA1) {
    return absl::InvalidArgumentError("signature: SHA-1 refused (only ECDSA with SHA-256)");
  }
  if (ecc.hash != TPM2_ALG_SHA256) {
    return absl::InvalidArgumentError(
        absl::StrCat("signature: hash ", AlgName(ecc.hash), " refused (only SHA-256)"));
  }
  if (ecc.signatureR.size == 0 || ecc.signatureR.size > 32 || ecc.signatureS.size == 0 ||
      ecc.signatureS.size > 32) {
    return absl::InvalidArgumentError("signature: ECDSA r or s is not 1..32 bytes");
  }
  return EcdsaSignature{std::string(View(ecc.signatureR.buffer, ecc.signatureR.size)),
                        std::string(View(ecc.signatureS.buffer, ecc.signatureS.size))};
}

absl::StatusOr<AkPublic> ParseAkPublic(absl::string_view tpm2b_public) {
  ASSIGN_OR_RETURN(TPM2B_PUBLIC pub, ParsePublicExact(tpm2b_public, "AK"));
  const TPMT_PUBLIC& p = pub.publicArea;
  if (p.type != TPM2_ALG_ECC) {
    return absl::InvalidArgumentError(absl::StrFormat("AK: type 0x%04x (must be ECC)", p.type));
  }
  if (p.nameAlg != TPM2_ALG_SHA256) {
    return absl::InvalidArgumentError(
        absl::StrCat("AK: nameAlg ", AlgName(p.nameAlg), " (must be SHA-256)"));
  }
  if ((p.objectAttributes & kAkRequiredAttributes) != kAkRequiredAttributes ||
      (p.objectAttributes & TPMA_OBJECT_DECRYPT) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "AK: attributes 0x%08x (need restricted, sign, fixedTPM, fixedParent, "
        "sensitiveDataOrigin; no decrypt)",
        p.objectAttributes));
  }
  const TPMS_ECC_PARMS& ecc = p.parameters.eccDetail;
  if (ecc.curveID != TPM2_ECC_NIST_P256) {
    return absl::InvalidArgumentError(absl::StrFormat("AK: curve 0x%04x (must be NIST P-256)", ecc.curveID));
  }
  if (ecc.scheme.scheme != TPM2_ALG_ECDSA || ecc.scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256) {
    return absl::InvalidArgumentError(absl::StrCat("AK: scheme ", AlgName(ecc.scheme.scheme), "/",
                                                   AlgName(ecc.scheme.details.ecdsa.hashAlg),
                                                   " (must be ECDSA/SHA-256)"));
  }
  if (ecc.symmetric.algorithm != TPM2_ALG_NULL || ecc.kdf.scheme != TPM2_ALG_NULL) {
    return absl::InvalidArgumentError("AK: a signing key must have no symmetric or KDF scheme");
  }
  ASSIGN_OR_RETURN(std::string name, NameOf(p, "AK"));
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, P256Key(p.unique.ecc));
  return AkPublic{p, std::move(name), std::move(pkey)};
}

absl::StatusOr<std::string> MeasurementNvIndexName(uint32_t index) {
  return TpmNvIndexName(MeasurementNvPublic(index));
}

absl::StatusOr<std::string> PublicAreaName(absl::string_view tpm2b_public) {
  ASSIGN_OR_RETURN(TPM2B_PUBLIC pub, ParsePublicExact(tpm2b_public, "public area"));
  return NameOf(pub.publicArea, "public area");
}

absl::StatusOr<std::string> AkQualifiedName(absl::string_view ek_tpm2b_public,
                                          absl::string_view ak_tpm2b_public) {
  ASSIGN_OR_RETURN(TPM2B_PUBLIC ek, ParsePublicExact(ek_tpm2b_public, "EK"));
  if ((ek.publicArea.objectAttributes & kEkRequiredAttributes) != kEkRequiredAttributes ||
      (ek.publicArea.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "EK: attributes 0x%08x (need restricted, decrypt, fixedTPM, fixedParent; no sign)",
        ek.publicArea.objectAttributes));
  }
  ASSIGN_OR_RETURN(std::string ek_name, NameOf(ek.publicArea, "EK"));
  ASSIGN_OR_RETURN(AkPublic ak, ParseAkPublic(ak_tpm2b_public));
  // Part 1, "Qualified Name": a hierarchy's QN is its handle; the EK is a
  // primary of the endorsement hierarchy.
  return TpmQualifiedName(
      TpmQualifiedName(TpmHierarchyQualifiedName(TPM2_RH_ENDORSEMENT), ek_name), ak.name);
}

absl::Status CheckQualifiedSigner(const TPMS_ATTEST& attest, absl::string_view qualified_name) {
  const absl::string_view signer = View(attest.qualifiedSigner.name, attest.qualifiedSigner.size);
  if (!ConstantTimeEqual(signer, qualified_name)) {
    return absl::UnauthenticatedError(
        "attest: qualifiedSigner is not the AK's qualified name (another key, or not under this EK)");
  }
  return absl::OkStatus();
}

absl::Status VerifyAttestSignature(absl::string_view attest_bytes, const EcdsaSignature& signature,
                                   const AkPublic& ak) {
  if (!ak.pkey) return absl::InvalidArgumentError("AK has no public key");
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), &ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(Bytes(signature.r), static_cast<int>(signature.r.size()), nullptr);
  BIGNUM* s = BN_bin2bn(Bytes(signature.s), static_cast<int>(signature.s.size()), nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpenSslStatus("build ECDSA signature");
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return OpenSslStatus("encode ECDSA signature");
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* p) { OPENSSL_free(p); });
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, Sha256Md(), nullptr, ak.pkey.get()) != 1) {
    return OpenSslStatus("ECDSA verify init");
  }
  const int ok = EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len), Bytes(attest_bytes),
                                  attest_bytes.size());
  if (ok != 1) {
    ERR_clear_error();
    return absl::UnauthenticatedError("attest: ECDSA signature does not verify with the AK");
  }
  return absl::OkStatus();
}

absl::Status CheckCounters(const TpmCounters& previous, const TpmCounters& current) {
  if (current.reset_count < previous.reset_count) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "TPM resetCount went back from %d to %d", previous.reset_count, current.reset_count));
  }
  if (current.reset_count > previous.reset_count) return absl::OkStatus();
  if (current.restart_count < previous.restart_count) {
    return absl::FailedPreconditionError(
        absl::StrFormat("TPM restartCount went back from %d to %d (same resetCount %d)",
                        previous.restart_count, current.restart_count, current.reset_count));
  }
  if (current.restart_count > previous.restart_count) return absl::OkStatus();
  if (current.clock < previous.clock) {
    return absl::FailedPreconditionError(
        absl::StrFormat("TPM clock went back from %d to %d ms (same reset/restart counts)",
                        previous.clock, current.clock));
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifiedAttestation> CheckAttestation(const ParsedAttest& parsed,
                                                     const EcdsaSignature& signature,
                                                     const AkPublic& ak,
                                                     const ExpectedAttestation& expected) {
  // 1. The caller's expectations.
  if (expected.qualifying_data.size() != kQualifyingDataBytes) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "expected qualifying data is %d bytes (must be %d)", expected.qualifying_data.size(),
        kQualifyingDataBytes));
  }
  if (expected.qualified_signer.size() != kSha256NameBytes) {
    return absl::InvalidArgumentError("expected qualified signer is not a SHA-256 name");
  }
  const TPMS_ATTEST& a = parsed.attest;
  // 2. Type (ParseAttest checked it for the kind it was given; the kind the
  // verifier expects may differ).
  const TPMI_ST_ATTEST want =
      expected.kind == AttestKind::kNvCertify ? TPM2_ST_ATTEST_NV : TPM2_ST_ATTEST_QUOTE;
  if (a.magic != TPM2_GENERATED_VALUE || a.type != want) {
    return absl::InvalidArgumentError(
        absl::StrFormat("attest: type 0x%04x, expected %s", a.type, AttestKindName(expected.kind)));
  }
  // 3. Signer.
  RETURN_IF_ERROR(CheckQualifiedSigner(a, expected.qualified_signer));
  // 4. Qualifying data.
  if (!ConstantTimeEqual(View(a.extraData.buffer, a.extraData.size), expected.qualifying_data)) {
    return absl::UnauthenticatedError("attest: extraData is not the expected qualifying data");
  }
  // 5. Clock.
  if (a.clockInfo.safe != TPM2_YES) {
    return absl::UnauthenticatedError(
        absl::StrFormat("attest: clock not safe (safe = %d): the TPM clock may have gone back",
                        a.clockInfo.safe));
  }
  VerifiedAttestation out{expected.kind, Sha256Digest{},
                          TpmCounters{a.clockInfo.clock, a.clockInfo.resetCount,
                                      a.clockInfo.restartCount},
                          a.firmwareVersion, std::string()};
  // 6. What was attested.
  if (expected.kind == AttestKind::kNvCertify) {
    RETURN_IF_ERROR(CheckNvInfo(a.attested.nv, expected, out));
  } else {
    RETURN_IF_ERROR(CheckQuoteInfo(a.attested.quote, expected, out));
  }
  // 7. Signature.
  RETURN_IF_ERROR(VerifyAttestSignature(parsed.bytes, signature, ak));
  return out;
}

}  // namespace fdattest
