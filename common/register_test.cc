// The measurement register's one text grammar and one JSON form: every
// register round-trips through both, every other spelling is refused, and
// the resettable-PCR check refuses exactly PCRs 16 and 23.
#include "common/register.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/json.h"

namespace fdattest {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<Register> FromJsonText(const Json& json) {
  absl::StatusOr<JsonDocument> doc = DocumentOf(json);
  if (!doc.ok()) return doc.status();
  return Register::FromJson(doc->root());
}

// Every PCR and a spread of NV handles across the whole NV index type.
std::vector<Register> AllKindsOfRegister() {
  std::vector<Register> out;
  for (int pcr = 0; pcr < 24; ++pcr) out.push_back(*Register::Pcr(pcr));
  for (uint32_t nv : {0x01000000u, 0x01000001u, 0x01500020u, 0x01800000u, kDefaultNvRegisterIndex,
                      0x01bfffffu, 0x01c00002u, 0x01abcdefu, 0x01ffffffu}) {
    out.push_back(*Register::NvIndex(nv));
  }
  return out;
}

TEST(RegisterTest, DefaultIsTheAttestorsDefaultNvIndex) {
  EXPECT_EQ(Register().kind, Register::Kind::kNvIndex);
  EXPECT_EQ(Register().index, 0x01bfda00u);
  EXPECT_EQ(Register().ToString(), "nv:0x01bfda00");
  EXPECT_EQ(*Register::Parse("nv:0x01bfda00"), Register());
}

TEST(RegisterTest, FormatsTheDocumentedText) {
  EXPECT_EQ(Register::NvIndex(0x01500020)->ToString(), "nv:0x01500020");
  EXPECT_EQ(Register::NvIndex(0x01abcdef)->ToString(), "nv:0x01abcdef");
  EXPECT_EQ(Register::Pcr(0)->ToString(), "pcr:0");
  EXPECT_EQ(Register::Pcr(7)->ToString(), "pcr:7");
  EXPECT_EQ(Register::Pcr(15)->ToString(), "pcr:15");
}

TEST(RegisterTest, FormatThenParseGivesTheSameRegister) {
  for (const Register& reg : AllKindsOfRegister()) {
    absl::StatusOr<Register> parsed = Register::Parse(reg.ToString());
    ASSERT_TRUE(parsed.ok()) << reg.ToString() << ": " << parsed.status();
    EXPECT_EQ(*parsed, reg) << reg.ToString();
  }
}

TEST(RegisterTest, ParseThenFormatGivesTheSameText) {
  for (const char* text : {"nv:0x01bfda00", "nv:0x01000000", "nv:0x01ffffff", "nv:0x01c00002",
                           "nv:0x019abcde", "pcr:0", "pcr:9", "pcr:10", "pcr:16", "pcr:23"}) {
    absl::StatusOr<Register> reg = Register::Parse(text);
    ASSERT_TRUE(reg.ok()) << text << ": " << reg.status();
    EXPECT_EQ(reg->ToString(), text);
  }
}

// The text grammar has exactly one spelling per register: all 8 hex digits,
// lower case, and PCR numbers without leading zeros. (Before one type, the
// event log's parser took 1 to 8 hex digits and the attestor's exactly 8.)
TEST(RegisterTest, RefusesEveryOtherSpelling) {
  for (const char* bad : {
           // not a register at all
           "", "nv", "NV", "nvram", "pcr", "ima:10", " nv:0x01bfda00", "nv:0x01bfda00 ",
           "nv:0x01bfda00\n",
           // NV: a prefix other than "nv:0x", or not exactly 8 lowercase hex digits
           "nv:", "nv:0x", "nv:01bfda00", "nv:1bfda00", "nv:0X01bfda00", "NV:0x01bfda00",
           "nv:0x1bfda00", "nv:0x01bfda0", "nv:0x1", "nv:0x001bfda00", "nv:0x01BFDA00", "nv:0x01bfdA00",
           "nv:0x01bfda0g", "nv:0xzzzzzzzz", "nv:0x+1bfda00", "nv:0x-1bfda00", "nv: 0x01bfda00",
           "nv:0x01bf da00",
           // NV: well-formed text naming something that is not an NV index
           "nv:0x81000001", "nv:0x00000000", "nv:0x02000000", "nv:0x40000001",
           // PCR: not a decimal number 0..23 in its one spelling
           "pcr:", "pcr:24", "pcr:99", "pcr:100", "pcr:-1", "pcr:+1", "pcr: 1", "pcr:1 ",
           "pcr:01", "pcr:00", "pcr:001", "pcr:0x10", "pcr:1a", "PCR:1", "pcr:١",
           "pcr:4294967312",  // 2^32 + 16: must not wrap to a PCR
       }) {
    absl::StatusOr<Register> reg = Register::Parse(bad);
    EXPECT_FALSE(reg.ok()) << '"' << bad << "\" parsed as " << reg->ToString();
    EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_FALSE(Register::Parse(absl::string_view("pcr:1\0", 6)).ok());
  EXPECT_FALSE(Register::Parse(absl::string_view("nv:0x01bfda00\0", 14)).ok());
}

TEST(RegisterTest, FactoriesRefuseWhatIsNoRegister) {
  EXPECT_EQ(Register::Pcr(24).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Register::Pcr(-1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Register::NvIndex(0x81000001).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Register::NvIndex(0x00ffffff).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Register::NvIndex(0x02000000).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(RegisterTest, JsonRoundTripsAndHasTheDocumentedForm) {
  EXPECT_EQ(*CanonicalJson(Register::NvIndex(0x01bfda00)->ToJson()),
            R"({"kind":"nv","nv_index":29350400})");
  EXPECT_EQ(*CanonicalJson(Register::Pcr(15)->ToJson()), R"({"bank":"sha256","kind":"pcr","pcr":15})");
  for (const Register& reg : AllKindsOfRegister()) {
    absl::StatusOr<Register> back = FromJsonText(reg.ToJson());
    ASSERT_TRUE(back.ok()) << reg.ToString() << ": " << back.status();
    EXPECT_EQ(*back, reg);
  }
}

TEST(RegisterTest, JsonRefusesAnythingElse) {
  for (const Json& bad : {
           Json{{"kind", "pcr"}, {"pcr", 15}, {"bank", "sha1"}},
           Json{{"kind", "pcr"}, {"pcr", 15}},
           Json{{"kind", "pcr"}, {"number", 15}, {"bank", "sha256"}},
           Json{{"kind", "pcr"}, {"pcr", 24}, {"bank", "sha256"}},
           Json{{"kind", "pcr"}, {"pcr", -1}, {"bank", "sha256"}},
           Json{{"kind", "pcr"}, {"pcr", "15"}, {"bank", "sha256"}},
           Json{{"kind", "nv"}, {"nv_index", 0x01bfda00}, {"bank", "sha256"}},
           Json{{"kind", "nv"}, {"nv_index", 0x81000001}},
           Json{{"kind", "nv"}, {"nv_index", "nv:0x01bfda00"}},
           Json{{"kind", "nv"}},
           Json{{"kind", "rom"}},
           Json{{"nv_index", 0x01bfda00}},
           Json::object(),
       }) {
    absl::StatusOr<Register> reg = FromJsonText(bad);
    EXPECT_FALSE(reg.ok()) << bad.dump();
    EXPECT_EQ(reg.status().code(), absl::StatusCode::kInvalidArgument) << bad.dump();
  }
}

TEST(RegisterTest, OnlyPcrs16And23AreRefusedAsResettable) {
  for (const Register& reg : AllKindsOfRegister()) {
    const absl::Status s = CheckRegisterNotResettable(reg);
    if (reg.kind == Register::Kind::kPcr && (reg.index == 16 || reg.index == 23)) {
      EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << reg.ToString();
      EXPECT_THAT(s.message(), HasSubstr(reg.ToString()));
      EXPECT_THAT(s.message(), HasSubstr("reset by any TPM client"));
    } else {
      EXPECT_TRUE(s.ok()) << reg.ToString() << ": " << s;
    }
  }
  // NV index handles whose low bits read 16 or 23 are not PCRs.
  EXPECT_TRUE(CheckRegisterNotResettable(*Register::NvIndex(0x01000010)).ok());
  EXPECT_TRUE(CheckRegisterNotResettable(*Register::NvIndex(0x01000017)).ok());
}

}  // namespace
}  // namespace fdattest
