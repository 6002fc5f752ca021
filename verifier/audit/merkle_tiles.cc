#include "verifier/audit/merkle_tiles.h"

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace fdattest {
namespace {

std::string IndexPath(uint64_t index) {
  std::vector<int> groups;  // 3-digit groups, least significant first
  do {
    groups.push_back(static_cast<int>(index % 1000));
    index /= 1000;
  } while (index > 0);
  std::string out;
  for (size_t i = groups.size(); i-- > 1;) absl::StrAppendFormat(&out, "x%03d/", groups[i]);
  absl::StrAppendFormat(&out, "%03d", groups[0]);
  return out;
}

std::string WidthSuffix(int width) {
  if (width < 0 || width > kTileWidth) abort();  // a caller's bug, see the header
  return width == 0 || width == kTileWidth ? "" : absl::StrCat(".p/", width);
}

bool AllDigits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A decimal of at most `max_digits` digits (the caller bounds the value).
bool ParseSmall(absl::string_view s, size_t max_digits, int* out) {
  if (!AllDigits(s) || s.size() > max_digits) return false;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  *out = v;
  return true;
}

absl::Status Malformed(absl::string_view path, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed tile path \"", absl::CHexEscape(path.substr(0, 128)), "\": ", why));
}

// Nodes at node level kTileHeight * level of a tree of tree_size leaves.
uint64_t NodesAtTileLevel(int level, uint64_t tree_size) {
  const int shift = kTileHeight * level;
  return shift >= 64 ? 0 : tree_size >> shift;
}

}  // namespace

std::string TilePath(int level, uint64_t index, int width) {
  if (level < 0 || level > kMaxTileLevel) abort();  // a caller's bug, see the header
  return absl::StrCat("tile/", level, "/", IndexPath(index), WidthSuffix(width));
}

std::string EntryBundlePath(uint64_t index, int width) {
  return absl::StrCat("tile/entries/", IndexPath(index), WidthSuffix(width));
}

std::string TileRefPath(const TileRef& tile) {
  return tile.entries ? EntryBundlePath(tile.index, tile.width)
                      : TilePath(tile.level, tile.index, tile.width);
}

absl::StatusOr<TileRef> ParseTilePath(absl::string_view path) {
  absl::string_view rest = path;
  if (!absl::ConsumePrefix(&rest, "tile/")) return Malformed(path, "no \"tile/\" prefix");
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return Malformed(path, "no index");
  TileRef ref;
  const absl::string_view kind = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  if (kind == "entries") {
    ref.entries = true;
  } else if (!ParseSmall(kind, 2, &ref.level) || ref.level > kMaxTileLevel) {
    return Malformed(path, "level is not 0..63");
  }
  absl::string_view index_part = rest;
  const size_t partial = rest.find(".p/");
  if (partial != absl::string_view::npos) {
    index_part = rest.substr(0, partial);
    if (!ParseSmall(rest.substr(partial + 3), 3, &ref.width) || ref.width < 1 ||
        ref.width >= kTileWidth) {
      return Malformed(path, "partial width is not 1..255");
    }
  }
  std::vector<absl::string_view> elements = absl::StrSplit(index_part, '/');
  if (elements.size() > 7) return Malformed(path, "index has too many elements");
  unsigned __int128 index = 0;
  for (size_t i = 0; i < elements.size(); ++i) {
    absl::string_view e = elements[i];
    if (i + 1 < elements.size() && !absl::ConsumePrefix(&e, "x")) {
      return Malformed(path, "index element without \"x\" before the last");
    }
    int group = 0;
    if (e.size() != 3 || !ParseSmall(e, 3, &group)) {
      return Malformed(path, "index element is not 3 digits");
    }
    index = index * 1000 + static_cast<unsigned>(group);
  }
  if (index > UINT64_MAX) return Malformed(path, "index beyond 64 bits");
  ref.index = static_cast<uint64_t>(index);
  // Anything accepted above but spelt differently from what we write (leading
  // zeros in level or width, needless "x000/" elements) is refused here.
  if (TileRefPath(ref) != path) return Malformed(path, "not in canonical form");
  return ref;
}

int PartialTileWidth(int level, uint64_t tree_size) {
  if (level < 0 || level > kMaxTileLevel) return 0;
  return static_cast<int>(NodesAtTileLevel(level, tree_size) % kTileWidth);
}

int TileWidthAt(int level, uint64_t index, uint64_t tree_size) {
  if (level < 0 || level > kMaxTileLevel) return 0;
  const uint64_t nodes = NodesAtTileLevel(level, tree_size);
  const uint64_t full_tiles = nodes / kTileWidth;
  if (index < full_tiles) return kTileWidth;
  if (index == full_tiles) return static_cast<int>(nodes % kTileWidth);
  return 0;
}

std::vector<TileRef> TreeTiles(uint64_t tree_size) {
  std::vector<TileRef> out;
  for (int level = 0; level <= kMaxTileLevel; ++level) {
    const uint64_t nodes = NodesAtTileLevel(level, tree_size);
    if (nodes == 0) break;
    const uint64_t tiles = (nodes + kTileWidth - 1) / kTileWidth;
    for (uint64_t i = 0; i < tiles; ++i) {
      out.push_back({false, level, i, TileWidthAt(level, i, tree_size)});
    }
  }
  return out;
}

}  // namespace fdattest
