// The audit log as C2SP tlog-tiles: the static paths under which the tree's
// hashes (tiles of height 8: up to 256 hashes of one node level) and its
// entries (bundles of up to 256 leaves) are served, and which tiles a tree of
// a given size has. Byte layout: docs/formats/archive.md, "Merkle tree and
// tiles". Stateless functions; thread-safe.
#ifndef FDATTEST_VERIFIER_AUDIT_MERKLE_TILES_H_
#define FDATTEST_VERIFIER_AUDIT_MERKLE_TILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

inline constexpr int kTileHeight = 8;   // node levels per tile level
inline constexpr int kTileWidth = 256;  // hashes in a full tile, 2^kTileHeight
inline constexpr int kMaxTileLevel = 63;

// Tile `index` at tile level `level` holds the hashes of nodes
// (kTileHeight * level, index * 256 + i) for i < width; an entry bundle holds
// the data of leaves index * 256 + i. width is 256 when full.
struct TileRef {
  bool entries = false;
  int level = 0;  // 0 for entry bundles
  uint64_t index = 0;
  int width = kTileWidth;
  friend bool operator==(const TileRef&, const TileRef&) = default;
};

// "tile/<level>/<index>[.p/<width>]"; width 0 or 256 = full. The index is
// written in 3-digit elements, all but the last prefixed with "x":
// 1234067 -> "x001/x234/067", 5 -> "005". Arguments out of range (level
// beyond 0..63, width beyond 0..256) are a caller's bug: they abort.
std::string TilePath(int level, uint64_t index, int width);
// "tile/entries/<index>[.p/<width>]".
std::string EntryBundlePath(uint64_t index, int width);
// The path of `tile`.
std::string TileRefPath(const TileRef& tile);

// Parses either kind of path, strictly: exactly the spelling TilePath and
// EntryBundlePath write (no leading zeros in level or width, "x" on every
// index element but the last, no needless leading "x000/" elements, width
// 1..255 for partial tiles, level 0..63). InvalidArgument otherwise.
absl::StatusOr<TileRef> ParseTilePath(absl::string_view path);

// The width of the rightmost, partial tile at tile level `level` of a tree of
// `tree_size` leaves: floor(tree_size / 256^level) mod 256 (0: there is none).
int PartialTileWidth(int level, uint64_t tree_size);

// The width tile (level, index) has in a tree of `tree_size` leaves: 256 when
// full, 1..255 for the rightmost partial tile, 0 when the tree has no such
// tile. Entry bundles have the widths of level 0.
int TileWidthAt(int level, uint64_t index, uint64_t tree_size);

// Every hash tile a tree of `tree_size` leaves has, level by level, left to
// right, each with its width (the entry bundles are level 0's coordinates).
std::vector<TileRef> TreeTiles(uint64_t tree_size);

}  // namespace fdattest

#endif  // FDATTEST_VERIFIER_AUDIT_MERKLE_TILES_H_
