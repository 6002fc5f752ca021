#include "verifier/audit/merkle_tiles.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace fdattest {
namespace {

TEST(TilePathTest, WritesIndexesInThreeDigitElements) {
  EXPECT_EQ(TilePath(0, 1234067, 0), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath(0, 1234067, 256), "tile/0/x001/x234/067");
  EXPECT_EQ(TilePath(1, 5, 7), "tile/1/005.p/7");
  EXPECT_EQ(TilePath(0, 0, 0), "tile/0/000");
  EXPECT_EQ(TilePath(2, 999, 255), "tile/2/999.p/255");
  EXPECT_EQ(TilePath(3, 1000, 1), "tile/3/x001/000.p/1");
  EXPECT_EQ(TilePath(63, UINT64_MAX, 0), "tile/63/x018/x446/x744/x073/x709/x551/615");
  EXPECT_EQ(EntryBundlePath(1234067, 0), "tile/entries/x001/x234/067");
  EXPECT_EQ(EntryBundlePath(48, 12), "tile/entries/048.p/12");
}

TEST(TilePathTest, ParsesWhatItWrites) {
  for (uint64_t index : {uint64_t{0}, uint64_t{5}, uint64_t{999}, uint64_t{1000}, uint64_t{1234067},
                         uint64_t{1000000}, UINT64_MAX}) {
    for (int width : {1, 7, 255, 256}) {
      for (int level : {0, 1, 9, 63}) {
        absl::StatusOr<TileRef> t = ParseTilePath(TilePath(level, index, width));
        ASSERT_TRUE(t.ok()) << TilePath(level, index, width) << ": " << t.status();
        EXPECT_EQ(*t, (TileRef{false, level, index, width}));
      }
      absl::StatusOr<TileRef> e = ParseTilePath(EntryBundlePath(index, width));
      ASSERT_TRUE(e.ok()) << e.status();
      EXPECT_EQ(*e, (TileRef{true, 0, index, width}));
    }
  }
}

TEST(TilePathTest, RefusesEveryOtherSpelling) {
  for (const char* bad : {"",
                          "tile",
                          "tile/",
                          "tile/0",
                          "tile/0/",
                          "tiles/0/000",
                          "/tile/0/000",
                          "tile//000",
                          "tile/00/000",
                          "tile/01/000",
                          "tile/64/000",
                          "tile/-1/000",
                          "tile/a/000",
                          "tile/0/5",
                          "tile/0/05",
                          "tile/0/0005",
                          "tile/0/x005",
                          "tile/0/x000/005",
                          "tile/0/001/234",
                          "tile/0/x001/x234",
                          "tile/0/x1/234",
                          "tile/0/y001/234",
                          "tile/0/x001//234",
                          "tile/0/x0001/234",
                          "tile/0/000/",
                          "tile/0/000.p",
                          "tile/0/000.p/",
                          "tile/0/000.p/0",
                          "tile/0/000.p/256",
                          "tile/0/000.p/07",
                          "tile/0/000.p/7/",
                          "tile/0/000.p/7.p/7",
                          "tile/0/000.p/+7",
                          "tile/0/+00",
                          "tile/0/x018/x446/x744/x073/x709/x551/616",
                          "tile/0/x001/x000/x000/x000/x000/x000/x000/000",
                          "tile/entries/",
                          "tile/entries/5",
                          "tile/entries/000.p/0",
                          "tile/entry/000",
                          "tile/0/000\n",
                          "tile/0/000 "}) {
    EXPECT_EQ(ParseTilePath(bad).status().code(), absl::StatusCode::kInvalidArgument)
        << "accepted \"" << bad << "\"";
  }
}

TEST(TileWidthTest, RightmostWidthIsSizeOver256PowLevelMod256) {
  EXPECT_EQ(PartialTileWidth(0, 1000), 1000 % 256);
  EXPECT_EQ(PartialTileWidth(1, 1000), 3);
  EXPECT_EQ(PartialTileWidth(2, 1000), 0);
  EXPECT_EQ(PartialTileWidth(0, 256), 0);
  EXPECT_EQ(PartialTileWidth(1, 256), 1);
  EXPECT_EQ(PartialTileWidth(2, 10000000), 10000000 / 65536 % 256);
  EXPECT_EQ(PartialTileWidth(7, UINT64_MAX), 255);
  EXPECT_EQ(PartialTileWidth(8, UINT64_MAX), 0);
  EXPECT_EQ(TileWidthAt(0, 2, 1000), 256);
  EXPECT_EQ(TileWidthAt(0, 3, 1000), 232);
  EXPECT_EQ(TileWidthAt(0, 4, 1000), 0);
  EXPECT_EQ(TileWidthAt(1, 0, 1000), 3);
  EXPECT_EQ(TileWidthAt(1, 1, 1000), 0);
  EXPECT_EQ(TileWidthAt(2, 0, 1000), 0);
  EXPECT_EQ(TileWidthAt(0, 0, 0), 0);
}

TEST(TileWidthTest, TreeTilesListsEveryTileWithItsWidth) {
  EXPECT_TRUE(TreeTiles(0).empty());
  EXPECT_EQ(TreeTiles(1), (std::vector<TileRef>{{false, 0, 0, 1}}));
  EXPECT_EQ(TreeTiles(256), (std::vector<TileRef>{{false, 0, 0, 256}, {false, 1, 0, 1}}));
  EXPECT_EQ(TreeTiles(300),
            (std::vector<TileRef>{{false, 0, 0, 256}, {false, 0, 1, 44}, {false, 1, 0, 1}}));
  // Every tile's width agrees with TileWidthAt and the counts add up.
  const uint64_t size = 70000;
  uint64_t level0 = 0;
  for (const TileRef& t : TreeTiles(size)) {
    EXPECT_EQ(t.width, TileWidthAt(t.level, t.index, size));
    if (t.level == 0) level0 += t.width;
  }
  EXPECT_EQ(level0, size);
}

}  // namespace
}  // namespace fdattest
