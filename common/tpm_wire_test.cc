// Exact TPM (un)marshalling (common/tpm_wire.h), for every structure the
// module handles: genuine swtpm bytes unmarshal and marshal back to the same
// bytes, built values marshal and unmarshal back to the same value, and every
// truncation, every trailing byte and a TPM2B_PUBLIC size field that does not
// match its content are refused with InvalidArgument naming the type.
#include "common/tpm_wire.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/tpm_ek_template.h"
#include "common/tpm_nv_register.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

// From a swtpm through fdattestd: an AK public area, and an NV certification
// and a PCR quote with their signatures (tests/fuzz/corpus/evidence/
// genuine_nv_second.json and genuine_pcr_second.json).
constexpr char kAkPublicHex[] =
    "00580023000b00050072000000100018000b0003001000208292c53220874a3611bc464c14b20ed4aea10cbb06abd9"
    "c905c6be8995326c5e00203c97ad109c83627ae9229d167ee8d2f9122fd820eea80547e274b0ad5f16f674";
constexpr char kNvAttestHex[] =
    "ff54434780140022000b37c35cc21e4a575516c4080d51587f14f1264e0fa7ad67e87794b1c8a122321700205a4e8a"
    "d6528680eae23c320fe6ca6ee6f7aa0d54844ea850b5f5a59d93622351000000000000029200000002000000000120"
    "191023001636360022000b3e7f13a21449e410921404c93ef811c557b2227f50433fc238cdd5bc32eb6f3e00000020"
    "b27e74ba88fedc33b54fc01eb0ef546014b5f65d5794d0f8fd1d372d2bb381b6";
constexpr char kNvSignatureHex[] =
    "0018000b0020c0c0d5fed2420cc554fdd26591e149939e946a752ffc2bf6aea5978b386bf5e600206b4c48c25e2293"
    "5b102ce8dc6a348f8a317ebaf1e2e513093ccfccecc3270d36";
constexpr char kQuoteAttestHex[] =
    "ff54434780180022000b37c35cc21e4a575516c4080d51587f14f1264e0fa7ad67e87794b1c8a122321700208e2ee1"
    "d53675af6eb9f48b2a52e9ab39ae4c91d8a630b7cd92146051658044bd00000000000003f400000002000000000120"
    "1910230016363600000001000b030010000020bba194d9728c8bcda8911bbb6758e4b82b0fe7dc47343a6aa6f9529d"
    "decdcd86";
constexpr char kQuoteSignatureHex[] =
    "0018000b0020583d940fca50dc85cf12b546327ea23f92960723efdbe3beac338b3aa497327d0020406b82c346b8b9"
    "d8c090fb6f8f706d729ab86ed0139e7affb1fa4b3e321bdbdc";
// fdattestd's measurement index at 0x01bfda00, written, by hand from TPM 2.0
// Part 2: nvIndex, nameAlg sha256, attributes TPM_NT_EXTEND | AUTHWRITE |
// OWNERREAD | AUTHREAD | NO_DA | CLEAR_STCLEAR | WRITTEN (0x2a060044), an
// empty authPolicy and dataSize 32.
constexpr char kMeasurementNvPublicHex[] = "01bfda00000b2a06004400000020";
// A TPM2B_PRIVATE is opaque to everyone but the TPM: a size and its bytes.
constexpr char kPrivateHex[] = "0010000102030405060708090a0b0c0d0e0f";

std::string Bytes(absl::string_view hex) {
  absl::StatusOr<std::string> bytes = HexDecode(hex);
  EXPECT_TRUE(bytes.ok()) << hex;
  return bytes.value_or("");
}

// Strict equality of two values: both start zero-initialised (padding and
// unselected union members included), so equal fields mean equal bytes.
template <typename T>
bool SameValue(const T& a, const T& b) {
  const unsigned char* pa = reinterpret_cast<const unsigned char*>(&a);
  const unsigned char* pb = reinterpret_cast<const unsigned char*>(&b);
  return std::equal(pa, pa + sizeof(T), pb);
}

template <TpmWireType T>
void ExpectBytesRoundTrip(absl::string_view hex) {
  const std::string bytes = Bytes(hex);
  absl::StatusOr<T> value = TpmUnmarshal<T>(bytes);
  ASSERT_TRUE(value.ok()) << value.status();
  absl::StatusOr<std::string> again = TpmMarshal(*value);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(HexEncode(*again), hex);
}

template <TpmWireType T>
void ExpectValueRoundTrip(const T& value) {
  absl::StatusOr<std::string> bytes = TpmMarshal(value);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  absl::StatusOr<T> back = TpmUnmarshal<T>(*bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(SameValue(*back, value)) << HexEncode(*bytes);
}

template <TpmWireType T>
void ExpectEveryTruncationRefused(absl::string_view hex, absl::string_view type) {
  const std::string bytes = Bytes(hex);
  for (size_t n = 0; n < bytes.size(); ++n) {
    absl::StatusOr<T> value = TpmUnmarshal<T>(absl::string_view(bytes).substr(0, n));
    ASSERT_FALSE(value.ok()) << type << " cut to " << n << " of " << bytes.size() << " bytes";
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument) << n;
    EXPECT_THAT(value.status().message(), HasSubstr(absl::StrCat("malformed ", type))) << n;
  }
}

template <TpmWireType T>
void ExpectTrailingBytesRefused(absl::string_view hex, absl::string_view type) {
  const std::string bytes = Bytes(hex);
  for (const std::string& extra : {std::string(1, '\0'), std::string("xy"), bytes}) {
    absl::StatusOr<T> value = TpmUnmarshal<T>(bytes + extra);
    ASSERT_FALSE(value.ok()) << type << " with " << extra.size() << " more bytes";
    EXPECT_EQ(value.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(value.status().message(),
                HasSubstr(absl::StrCat(extra.size(), " trailing bytes after ", type)));
  }
}

TEST(TpmWireTest, GenuineBytesUnmarshalAndMarshalBackUnchanged) {
  ExpectBytesRoundTrip<TPM2B_PUBLIC>(kAkPublicHex);
  ExpectBytesRoundTrip<TPMT_PUBLIC>(absl::string_view(kAkPublicHex).substr(4));
  ExpectBytesRoundTrip<TPMS_ATTEST>(kNvAttestHex);
  ExpectBytesRoundTrip<TPMS_ATTEST>(kQuoteAttestHex);
  ExpectBytesRoundTrip<TPMT_SIGNATURE>(kNvSignatureHex);
  ExpectBytesRoundTrip<TPMT_SIGNATURE>(kQuoteSignatureHex);
  ExpectBytesRoundTrip<TPMS_NV_PUBLIC>(kMeasurementNvPublicHex);
  ExpectBytesRoundTrip<TPM2B_PRIVATE>(kPrivateHex);
}

TEST(TpmWireTest, UnmarshalReadsTheFields) {
  absl::StatusOr<TPMS_ATTEST> nv = TpmUnmarshal<TPMS_ATTEST>(Bytes(kNvAttestHex));
  ASSERT_TRUE(nv.ok()) << nv.status();
  EXPECT_EQ(nv->magic, TPM2_GENERATED_VALUE);
  EXPECT_EQ(nv->type, TPM2_ST_ATTEST_NV);
  EXPECT_EQ(nv->clockInfo.resetCount, 2u);
  EXPECT_EQ(nv->attested.nv.nvContents.size, 32);
  EXPECT_EQ(HexEncode(absl::string_view(reinterpret_cast<const char*>(nv->attested.nv.nvContents.buffer), 32)),
            "b27e74ba88fedc33b54fc01eb0ef546014b5f65d5794d0f8fd1d372d2bb381b6");

  absl::StatusOr<TPMT_SIGNATURE> sig = TpmUnmarshal<TPMT_SIGNATURE>(Bytes(kNvSignatureHex));
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->sigAlg, TPM2_ALG_ECDSA);
  EXPECT_EQ(sig->signature.ecdsa.hash, TPM2_ALG_SHA256);
  EXPECT_EQ(sig->signature.ecdsa.signatureR.size, 32);

  absl::StatusOr<TPM2B_PUBLIC> ak = TpmUnmarshal<TPM2B_PUBLIC>(Bytes(kAkPublicHex));
  ASSERT_TRUE(ak.ok()) << ak.status();
  EXPECT_EQ(ak->size, 0x58);
  EXPECT_EQ(ak->publicArea.type, TPM2_ALG_ECC);
  EXPECT_EQ(ak->publicArea.parameters.eccDetail.curveID, TPM2_ECC_NIST_P256);
}

// The measurement index's public area marshals to the bytes derived by hand.
TEST(TpmWireTest, MarshalsTheMeasurementIndexAsTheSpecDefines) {
  absl::StatusOr<std::string> bytes = TpmMarshal(MeasurementNvPublic(0x01bfda00));
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(HexEncode(*bytes), kMeasurementNvPublicHex);
}

TEST(TpmWireTest, BuiltValuesMarshalAndUnmarshalBackEqual) {
  // TPMT_PUBLIC and TPM2B_PUBLIC: the RSA EK template with a modulus.
  TPM2B_PUBLIC ek = RsaEkTemplate();
  ek.publicArea.unique.rsa.size = 256;
  std::fill_n(ek.publicArea.unique.rsa.buffer, 256, 0xa5);
  ExpectValueRoundTrip(ek.publicArea);
  absl::StatusOr<std::string> ek_bytes = TpmMarshal(ek);
  ASSERT_TRUE(ek_bytes.ok()) << ek_bytes.status();
  ek.size = static_cast<uint16_t>(ek_bytes->size() - 2);  // the marshaller writes the size
  ExpectValueRoundTrip(ek);

  ExpectValueRoundTrip(MeasurementNvPublic(0x01bfda00));
  ExpectValueRoundTrip(MeasurementNvPublic(0x01800000));

  TPM2B_PRIVATE priv{};
  priv.size = 126;
  std::fill_n(priv.buffer, priv.size, 0x5a);
  ExpectValueRoundTrip(priv);

  TPMS_ATTEST nv{};
  nv.magic = TPM2_GENERATED_VALUE;
  nv.type = TPM2_ST_ATTEST_NV;
  nv.qualifiedSigner.size = 34;
  std::fill_n(nv.qualifiedSigner.name, 34, 0x11);
  nv.extraData.size = 32;
  std::fill_n(nv.extraData.buffer, 32, 0x22);
  nv.clockInfo = {.clock = 123456, .resetCount = 7, .restartCount = 3, .safe = TPM2_YES};
  nv.firmwareVersion = 0x2019102300163636;
  nv.attested.nv.indexName.size = 34;
  std::fill_n(nv.attested.nv.indexName.name, 34, 0x33);
  nv.attested.nv.offset = 0;
  nv.attested.nv.nvContents.size = 32;
  std::fill_n(nv.attested.nv.nvContents.buffer, 32, 0x44);
  ExpectValueRoundTrip(nv);

  TPMS_ATTEST quote = nv;
  quote.type = TPM2_ST_ATTEST_QUOTE;
  std::memset(&quote.attested, 0, sizeof(quote.attested));
  quote.attested.quote.pcrSelect.count = 1;
  quote.attested.quote.pcrSelect.pcrSelections[0] = {
      .hash = TPM2_ALG_SHA256, .sizeofSelect = 3, .pcrSelect = {0x00, 0x80, 0x00}};
  quote.attested.quote.pcrDigest.size = 32;
  std::fill_n(quote.attested.quote.pcrDigest.buffer, 32, 0x55);
  ExpectValueRoundTrip(quote);

  TPMT_SIGNATURE sig{};
  sig.sigAlg = TPM2_ALG_ECDSA;
  sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
  sig.signature.ecdsa.signatureR.size = 32;
  std::fill_n(sig.signature.ecdsa.signatureR.buffer, 32, 0x66);
  sig.signature.ecdsa.signatureS.size = 31;
  std::fill_n(sig.signature.ecdsa.signatureS.buffer, 31, 0x77);
  ExpectValueRoundTrip(sig);
}

TEST(TpmWireTest, RefusesEveryTruncation) {
  ExpectEveryTruncationRefused<TPM2B_PUBLIC>(kAkPublicHex, "TPM2B_PUBLIC");
  ExpectEveryTruncationRefused<TPMT_PUBLIC>(absl::string_view(kAkPublicHex).substr(4),
                                            "TPMT_PUBLIC");
  ExpectEveryTruncationRefused<TPMS_ATTEST>(kNvAttestHex, "TPMS_ATTEST");
  ExpectEveryTruncationRefused<TPMS_ATTEST>(kQuoteAttestHex, "TPMS_ATTEST");
  ExpectEveryTruncationRefused<TPMT_SIGNATURE>(kNvSignatureHex, "TPMT_SIGNATURE");
  ExpectEveryTruncationRefused<TPMS_NV_PUBLIC>(kMeasurementNvPublicHex, "TPMS_NV_PUBLIC");
  ExpectEveryTruncationRefused<TPM2B_PRIVATE>(kPrivateHex, "TPM2B_PRIVATE");
}

TEST(TpmWireTest, RefusesTrailingBytes) {
  ExpectTrailingBytesRefused<TPMT_PUBLIC>(absl::string_view(kAkPublicHex).substr(4), "TPMT_PUBLIC");
  ExpectTrailingBytesRefused<TPMS_ATTEST>(kNvAttestHex, "TPMS_ATTEST");
  ExpectTrailingBytesRefused<TPMS_ATTEST>(kQuoteAttestHex, "TPMS_ATTEST");
  ExpectTrailingBytesRefused<TPMT_SIGNATURE>(kQuoteSignatureHex, "TPMT_SIGNATURE");
  ExpectTrailingBytesRefused<TPMS_NV_PUBLIC>(kMeasurementNvPublicHex, "TPMS_NV_PUBLIC");
  ExpectTrailingBytesRefused<TPM2B_PRIVATE>(kPrivateHex, "TPM2B_PRIVATE");
  ExpectTrailingBytesRefused<TPM2B_PUBLIC>(kAkPublicHex, "TPM2B_PUBLIC");
}

// A TPM2B_PUBLIC's size field must be exactly the length of the public area
// after it: not shorter (the area would run past what the size covers), not
// longer (bytes the area does not use), never zero.
TEST(TpmWireTest, RefusesATpm2bPublicWhoseSizeFieldIsWrong) {
  const std::string genuine = Bytes(kAkPublicHex);
  const std::string area = genuine.substr(2);
  auto with_size = [&](uint16_t size, const std::string& rest) {
    return std::string{static_cast<char>(size >> 8), static_cast<char>(size & 0xff)} + rest;
  };
  ASSERT_TRUE(TpmUnmarshal<TPM2B_PUBLIC>(with_size(area.size(), area)).ok());
  for (const std::string& bad :
       {with_size(area.size() - 1, area), with_size(area.size() + 1, area + "x"),
        with_size(area.size() + 1, area), with_size(0, ""), with_size(0, area)}) {
    absl::StatusOr<TPM2B_PUBLIC> pub = TpmUnmarshal<TPM2B_PUBLIC>(bad);
    EXPECT_FALSE(pub.ok()) << HexEncode(bad);
    EXPECT_EQ(pub.status().code(), absl::StatusCode::kInvalidArgument) << HexEncode(bad);
    EXPECT_THAT(pub.status().message(), HasSubstr("TPM2B_PUBLIC")) << HexEncode(bad);
  }
}

TEST(TpmWireTest, MarshalRefusesValuesWithNoWireForm) {
  TPMT_SIGNATURE sig{};
  sig.sigAlg = 0x7777;  // selects no member of TPMU_SIGNATURE
  absl::StatusOr<std::string> bytes = TpmMarshal(sig);
  EXPECT_EQ(bytes.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bytes.status().message(), HasSubstr("TPMT_SIGNATURE does not marshal"));

  TPM2B_PRIVATE priv{};
  priv.size = sizeof(priv.buffer) + 1;  // more than the buffer holds
  EXPECT_EQ(TpmMarshal(priv).status().code(), absl::StatusCode::kInvalidArgument);
}

// MakeCredential's two outputs are size-prefixed byte strings: each holds
// exactly its size's bytes, and one longer than its buffer is malformed.
TEST(TpmWireTest, CredentialBlobAndEncryptedSecretAreExact) {
  // 0x0044 bytes: a 32-byte outer HMAC as TPM2B_DIGEST, then 34 encrypted bytes.
  const std::string blob_hex = absl::StrCat("0044", "0020", std::string(64, 'a'),
                                            std::string(68, 'b'));
  ExpectBytesRoundTrip<TPM2B_ID_OBJECT>(blob_hex);
  ExpectEveryTruncationRefused<TPM2B_ID_OBJECT>(blob_hex, "TPM2B_ID_OBJECT");
  ExpectTrailingBytesRefused<TPM2B_ID_OBJECT>(blob_hex, "TPM2B_ID_OBJECT");
  const std::string secret_hex = absl::StrCat("0100", std::string(512, 'c'));
  ExpectBytesRoundTrip<TPM2B_ENCRYPTED_SECRET>(secret_hex);
  ExpectEveryTruncationRefused<TPM2B_ENCRYPTED_SECRET>(secret_hex, "TPM2B_ENCRYPTED_SECRET");
  ExpectTrailingBytesRefused<TPM2B_ENCRYPTED_SECRET>(secret_hex, "TPM2B_ENCRYPTED_SECRET");
  // sizeof(TPMS_ID_OBJECT) is 132: a size of 133 runs past the buffer.
  const std::string too_long = absl::StrCat("0085", std::string(2 * 133, '0'));
  EXPECT_EQ(TpmUnmarshal<TPM2B_ID_OBJECT>(Bytes(too_long)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fdattest
