#include "common/base64.h"
#include "common/sha256.h"
#include "gtest/gtest.h"

namespace fdattest {
namespace {

TEST(Sha256Test, MatchesFipsVectors) {
  // FIPS 180-2 appendix B.1 and the empty string.
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256Test, DigestEqualDetectsOneBitDifference) {
  Sha256Digest a = Sha256("x"), b = a;
  EXPECT_TRUE(DigestEqual(a, b));
  b[31] ^= 1;
  EXPECT_FALSE(DigestEqual(a, b));
}

TEST(HexTest, RoundTripsAndRejectsBadInput) {
  EXPECT_EQ(*HexDecode("00ff10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(HexDecode("abc").ok());
  EXPECT_FALSE(HexDecode("zz").ok());
}

TEST(Base64Test, MatchesRfc4648Vectors) {
  // RFC 4648 section 10.
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    auto d = Base64Decode(encoded);
    ASSERT_TRUE(d.ok()) << encoded;
    EXPECT_EQ(*d, plain);
  }
}

TEST(Base64Test, DecodingIsStrict) {
  EXPECT_FALSE(Base64Decode("Zg=").ok());     // missing padding
  EXPECT_FALSE(Base64Decode("Zg==\n").ok());  // whitespace
  EXPECT_FALSE(Base64Decode("Z===").ok());
  EXPECT_FALSE(Base64Decode("Zh==").ok());    // non-canonical trailing bits
  EXPECT_FALSE(Base64Decode("Zm9v!A==").ok());
  EXPECT_FALSE(Base64Decode("=Zm9").ok());
}

}  // namespace
}  // namespace fdattest
