#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/file_io.h"
#include "common/frame.h"
#include "common/sha256.h"
#include "common/unique_fd.h"
#include "gtest/gtest.h"
#include "openssl/evp.h"

namespace fdattest {
namespace {

// A private directory for the files the reader is given.
class ReadFileLimitedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "read_test.XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A file of `size` bytes with a recognisable pattern; returns its path.
  std::string Write(size_t size, std::string* content) {
    content->clear();
    for (size_t i = 0; i < size; ++i) content->push_back(static_cast<char>('a' + i % 23));
    const std::string path = absl::StrCat(dir_, "/", size);
    EXPECT_TRUE(WriteFileAtomic(path, *content, 0600).ok());
    return path;
  }

  std::string dir_;
};

TEST(DirectoryOfTest, NamesTheDirectoryAFileIsCreatedIn) {
  EXPECT_EQ(DirectoryOf("manifest.json"), ".");
  EXPECT_EQ(DirectoryOf("/manifest.json"), "/");
  EXPECT_EQ(DirectoryOf("/var/tmp/job/manifest.json"), "/var/tmp/job");
  EXPECT_EQ(DirectoryOf("out/manifest.json"), "out");
}

TEST_F(ReadFileLimitedTest, ReadsWholeFilesUpToTheLimit) {
  // Sizes around 4 KiB and the limit (a regular file's first read is sized
  // from fstat, so these take one read and the end-of-file read).
  for (size_t size : {0UL, 1UL, 4095UL, 4096UL, 4097UL, 8192UL, 100000UL}) {
    std::string content;
    const std::string path = Write(size, &content);
    for (size_t limit : {size, size + 1}) {
      absl::StatusOr<std::string> got = ReadFileLimited(path, limit);
      ASSERT_TRUE(got.ok()) << size << ": " << got.status();
      EXPECT_EQ(*got, content) << size;
    }
  }
}

TEST_F(ReadFileLimitedTest, RefusesOneByteOverTheLimit) {
  for (size_t size : {1UL, 4096UL, 4097UL, 100000UL}) {
    std::string content;
    absl::StatusOr<std::string> got = ReadFileLimited(Write(size, &content), size - 1);
    ASSERT_FALSE(got.ok()) << size;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(got.status().message().find("is larger than"), std::string::npos)
        << got.status();
  }
}

TEST_F(ReadFileLimitedTest, ReadsAFifoThatDeliversInPieces) {
  // No size ahead, data in 1000-byte writes: the reader grows its buffer.
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  std::string sent;
  for (int i = 0; i < 100; ++i) sent += std::string(1000, static_cast<char>('a' + i % 26));
  std::thread writer([&] {
    UniqueFd fd(open(fifo.c_str(), O_WRONLY | O_CLOEXEC));
    for (size_t off = 0; fd && off < sent.size(); off += 1000) {
      if (write(fd.get(), sent.data() + off, 1000) != 1000) break;
    }
  });
  absl::StatusOr<std::string> got = ReadFileLimited(fifo, sent.size());
  writer.join();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, sent);
}

TEST_F(ReadFileLimitedTest, ReadsFilesWhoseSizeIsNotKnownAhead) {
  // procfs reports size 0 for a file with content.
  absl::StatusOr<std::string> got = ReadFileLimited("/proc/self/status", 1 << 20);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->rfind("Name:", 0), 0u) << *got;
  EXPECT_NE(got->find("\nPid:"), std::string::npos);
}

TEST_F(ReadFileLimitedTest, StopsReadingAnEndlessSourceAtTheLimit) {
  // /dev/zero never ends: the reader must refuse it after max + 1 bytes.
  absl::StatusOr<std::string> got = ReadFileLimited("/dev/zero", 10000);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.status().message().find("is larger than 10000 bytes"), std::string::npos)
      << got.status();
  EXPECT_FALSE(ReadFileLimited("/nonexistent/fdattest", 10).ok());
}

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

// The decoder accepts a text exactly when the encoder would write it: every
// text of 4 characters over letters, '+', '/', '=' and a stranger, and of
// 8 over a smaller set, against a round trip through the encoder.
TEST(Base64Test, AcceptsExactlyWhatTheEncoderWrites) {
  size_t accepted = 0;
  for (const auto& [chars, len] : {std::pair<std::string, size_t>{"AQgw/+=!", 4},
                                   std::pair<std::string, size_t>{"Aw/=", 8}}) {
    size_t combos = 1;
    for (size_t i = 0; i < len; ++i) combos *= chars.size();
    for (size_t n = 0; n < combos; ++n) {
      std::string text;
      for (size_t i = 0, k = n; i < len; ++i, k /= chars.size()) text.push_back(chars[k % chars.size()]);
      absl::StatusOr<std::string> decoded = Base64Decode(text);
      bool round_trips = false;
      if (decoded.ok()) {
        ++accepted;
        round_trips = Base64Encode(*decoded) == text;
        EXPECT_TRUE(round_trips) << text;
      }
      // Anything the encoder writes for some bytes decodes: try the bytes
      // OpenSSL's lenient decoder sees in it.
      std::string raw(3 * len / 4, '\0');
      int n_raw = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(len));
      if (n_raw >= 0) {
        for (size_t cut = 0; cut <= 2; ++cut) {
          if (static_cast<size_t>(n_raw) < cut) break;
          const std::string candidate = raw.substr(0, static_cast<size_t>(n_raw) - cut);
          if (Base64Encode(candidate) == text) {
            ASSERT_TRUE(decoded.ok()) << text;
            EXPECT_EQ(*decoded, candidate) << text;
          }
        }
      }
    }
  }
  EXPECT_GT(accepted, 500u);
}

TEST(Base64Test, DecodingIsStrict) {
  EXPECT_FALSE(Base64Decode("Zg=").ok());     // missing padding
  EXPECT_FALSE(Base64Decode("Zg==\n").ok());  // whitespace
  EXPECT_FALSE(Base64Decode("Z===").ok());
  EXPECT_FALSE(Base64Decode("Zh==").ok());    // non-canonical trailing bits
  EXPECT_FALSE(Base64Decode("Zm9v!A==").ok());
  EXPECT_FALSE(Base64Decode("=Zm9").ok());
}


TEST(FrameTest, HeaderIsTheBigEndianLength) {
  std::string frame = *EncodeFrame(std::string(0x010203, 'x'));
  EXPECT_EQ(frame.substr(0, 4), std::string("\x00\x01\x02\x03", 4));
  EXPECT_EQ(DeclaredFrameLength(frame), 0x010203u);
  EXPECT_EQ(frame.size(), kFrameHeaderBytes + 0x010203);
  EXPECT_FALSE(EncodeFrame("").ok());
  EXPECT_FALSE(EncodeFrame(std::string(kMaxFrameBytes + 1, 'x')).ok());
  EXPECT_TRUE(EncodeFrame(std::string(kMaxFrameBytes, 'x')).ok());
}

TEST(FrameTest, ReaderSplitsAStreamAtEveryChunking) {
  const std::string stream = *EncodeFrame("{\"a\":1}") + *EncodeFrame("[2]") + *EncodeFrame("3");
  for (size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    FrameReader reader;
    std::vector<std::string> got;
    for (size_t off = 0; off < stream.size(); off += chunk) {
      ASSERT_TRUE(reader.Feed(stream.substr(off, chunk)).ok());
      while (std::optional<std::string> p = reader.Next()) got.push_back(*p);
    }
    EXPECT_EQ(got, (std::vector<std::string>{"{\"a\":1}", "[2]", "3"})) << "chunk " << chunk;
    EXPECT_FALSE(reader.mid_frame());
  }
}

TEST(FrameTest, ReaderRefusesBadLengthsAndKnowsATruncatedFrame) {
  FrameReader zero;
  EXPECT_FALSE(zero.Feed(std::string(4, '\0')).ok());
  FrameReader huge;
  EXPECT_FALSE(huge.Feed(std::string("\x00\x10\x00\x01", 4)).ok());  // kMaxFrameBytes + 1
  EXPECT_FALSE(CheckFrameLength(0).ok());
  EXPECT_FALSE(CheckFrameLength(kMaxFrameBytes + 1).ok());
  EXPECT_TRUE(CheckFrameLength(kMaxFrameBytes).ok());
  // A bad header after a good frame is refused when it comes up.
  FrameReader second;
  ASSERT_TRUE(second.Feed(*EncodeFrame("1") + std::string(4, '\0')).ok());
  EXPECT_EQ(second.Next(), std::optional<std::string>("1"));
  EXPECT_EQ(second.Next(), std::nullopt);
  FrameReader partial;
  ASSERT_TRUE(partial.Feed(EncodeFrame("12345")->substr(0, 6)).ok());
  EXPECT_EQ(partial.Next(), std::nullopt);
  EXPECT_TRUE(partial.mid_frame());
}

}  // namespace
}  // namespace fdattest
