#include "attestor/event_log.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "common/file_io.h"

namespace fdattest {
namespace {

// Records are a few hundred bytes; a longer line is damage, not a record.
constexpr size_t kMaxLineBytes = 64 * 1024;

std::string Hex(const Sha256Digest& d) { return HexEncode(d); }

}  // namespace

// ---------------------------------------------------------------------------
// EventLog

namespace {

struct Replayed {
  CelReplay replay;
  std::vector<CelRecord> records;
  uint64_t complete_bytes = 0;  // up to and including the last newline
  uint64_t torn_bytes = 0;      // after the last newline
};

absl::StatusOr<std::string> ReadAll(int fd, const std::string& path) {
  std::string out;
  char buf[1 << 16];
  off_t off = 0;
  for (;;) {
    ssize_t n = pread(fd, buf, sizeof(buf), off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(absl::StrCat("cannot read event log ", path), errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
}

// Replays every complete line; reports (does not judge) a torn tail.
absl::StatusOr<Replayed> ReplayFile(int fd, const std::string& path, const Register& reg) {
  ASSIGN_OR_RETURN(std::string text, ReadAll(fd, path));
  Replayed out{CelReplay(reg), {}, 0, 0};
  size_t pos = 0;
  uint64_t line_number = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) {
      out.torn_bytes = text.size() - pos;
      break;
    }
    ++line_number;
    absl::string_view line(text.data() + pos, nl - pos);
    auto bad = [&](absl::string_view why) {
      return absl::DataLossError(
          absl::StrCat("event log ", path, " line ", line_number, ": ", why));
    };
    if (line.size() > kMaxLineBytes) return bad("longer than any record");
    absl::StatusOr<JsonDocument> doc =
        ParseJsonDocument(line, {.max_bytes = kMaxLineBytes, .max_depth = 8});
    if (!doc.ok()) return bad(doc.status().message());
    if (!doc->canonical()) return bad("not in canonical JSON form");
    absl::StatusOr<CelRecord> record = CelRecord::FromJson(doc->root(), /*allow_redacted=*/false);
    if (!record.ok()) return bad(record.status().message());
    absl::Status applied = out.replay.Apply(*record);
    if (!applied.ok()) return bad(applied.message());
    out.records.push_back(*std::move(record));
    pos = nl + 1;
    out.complete_bytes = pos;
  }
  return out;
}

absl::Status SyncDirectoryOf(const std::string& path) {
  const std::string dir = DirectoryOf(path);
  UniqueFd dfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dfd) return ErrnoStatus(absl::StrCat("cannot open directory ", dir), errno);
  if (fsync(dfd.get()) != 0) return ErrnoStatus(absl::StrCat("cannot sync directory ", dir), errno);
  return absl::OkStatus();
}

// Opens (creating if needed) and locks the log file.
absl::StatusOr<UniqueFd> OpenLocked(const std::string& path) {
  bool created = false;
  UniqueFd fd(open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW));
  if (!fd && errno == ENOENT) {
    fd = UniqueFd(
        open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    created = fd.valid();
  }
  if (!fd) return ErrnoStatus(absl::StrCat("cannot open event log ", path), errno);
  if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) {
      return absl::FailedPreconditionError(
          absl::StrCat("event log ", path, " is in use by another process"));
    }
    return ErrnoStatus(absl::StrCat("cannot lock event log ", path), errno);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(absl::StrCat("cannot stat ", path), errno);
  if (!S_ISREG(st.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat("event log ", path, " is not a regular file"));
  }
  if (created) {
    // The new (empty) file must survive a crash before the first record
    // relies on it: sync it and its directory entry.
    if (fsync(fd.get()) != 0) return ErrnoStatus(absl::StrCat("cannot sync ", path), errno);
    RETURN_IF_ERROR(SyncDirectoryOf(path));
  }
  return fd;
}

}  // namespace

absl::StatusOr<EventLog> EventLog::Open(const std::string& path, const Register& reg) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenLocked(path));
  ASSIGN_OR_RETURN(Replayed replayed, ReplayFile(fd.get(), path, reg));
  if (replayed.torn_bytes != 0) {
    return absl::DataLossError(
        absl::StrCat("event log ", path, " ends in a torn record (", replayed.torn_bytes,
                     " bytes after the last complete line, record ", replayed.records.size(),
                     "): a write that never completed; EventLog::Repair removes it"));
  }
  return EventLog(path, std::move(fd), std::move(replayed.replay), std::move(replayed.records),
                  replayed.complete_bytes);
}

absl::StatusOr<RepairResult> EventLog::Repair(const std::string& path, const Register& reg) {
  ASSIGN_OR_RETURN(UniqueFd fd, OpenLocked(path));
  ASSIGN_OR_RETURN(Replayed replayed, ReplayFile(fd.get(), path, reg));
  RepairResult result{replayed.torn_bytes, replayed.records.size()};
  if (replayed.torn_bytes == 0) return result;
  if (ftruncate(fd.get(), static_cast<off_t>(replayed.complete_bytes)) != 0 ||
      fsync(fd.get()) != 0) {
    return ErrnoStatus(absl::StrCat("cannot truncate the torn tail of ", path), errno);
  }
  return result;
}

absl::StatusOr<CelRecord> EventLog::StartEpoch(uint32_t reset_count, uint32_t restart_count) {
  return Append(CelContent::Epoch(reset_count, restart_count));
}

absl::StatusOr<CelRecord> EventLog::Append(const CelContent& content) {
  RETURN_IF_ERROR(broken_);
  CelRecord record = CelRecord::Make(replay_.next_recnum(), replay_.reg(), content);
  RETURN_IF_ERROR(replay_.Check(record));
  std::string line = record.ToLine();
  line.push_back('\n');

  // One write(2) of the whole line; a short write is continued (we hold the
  // lock, so nothing interleaves). Then fsync: the record is durable before
  // the caller may extend the register.
  absl::Status io;
  size_t off = 0;
  while (off < line.size() && io.ok()) {
    ssize_t n = write(fd_.get(), line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      io = ErrnoStatus(absl::StrCat("cannot append to event log ", path_), errno);
    } else {
      off += static_cast<size_t>(n);
    }
  }
  if (io.ok() && fsync(fd_.get()) != 0) {
    io = ErrnoStatus(absl::StrCat("cannot sync event log ", path_), errno);
  }
  if (!io.ok()) {
    // After a failed fsync the kernel may have dropped the dirty pages and
    // the file's state is unknown: take back what we can and refuse further
    // appends. Reopening replays whatever reached the disk (a torn tail is
    // then reported and repaired explicitly).
    if (ftruncate(fd_.get(), static_cast<off_t>(file_size_)) == 0) fsync(fd_.get());
    broken_ = absl::InternalError(absl::StrCat("event log ", path_, " failed an earlier write (",
                                               io.message(), "); reopen it"));
    return io;
  }
  file_size_ += line.size();
  // Check() passed above, so Apply cannot fail.
  RETURN_IF_ERROR(replay_.Apply(record));
  records_.push_back(record);
  return record;
}

Reconciliation EventLog::ReconcileWith(const Sha256Digest& register_value) const {
  Reconciliation r;
  const std::string where = absl::StrCat("register ", reg().ToString());
  if (DigestEqual(register_value, replay_.value())) {
    r.state = Reconciliation::State::kConsistent;
    r.explanation = absl::StrCat(where, " matches the event log (", records_.size(), " records)");
    return r;
  }
  if (replay_.value_before_last().has_value() &&
      DigestEqual(register_value, *replay_.value_before_last())) {
    r.state = Reconciliation::State::kOnePending;
    r.pending = records_.back();
    r.explanation = absl::StrCat(
        where, " lacks the event log's last record (", records_.back().recnum,
        "): it was written but not extended; extend its digest ", Hex(records_.back().digest));
    return r;
  }
  r.state = Reconciliation::State::kDiverged;
  std::string epoch = replay_.epoch().has_value()
                          ? absl::StrCat("epoch with resetCount ", replay_.epoch()->reset_count,
                                         " from record ", replay_.epoch()->first_recnum)
                          : std::string("empty log");
  r.explanation = absl::StrCat(
      where, " holds ", Hex(register_value), " but the event log (", records_.size(), " records, ",
      epoch, ") replays to ", Hex(replay_.value()),
      (replay_.value_before_last().has_value()
           ? absl::StrCat(" (", Hex(*replay_.value_before_last()), " before its last record)")
           : std::string()),
      ": the log and the register diverged; refusing to serve");
  return r;
}

absl::StatusOr<std::vector<CelRecord>> EventLog::Records(absl::string_view for_launch_id) const {
  std::vector<CelRecord> out;
  if (!replay_.epoch().has_value()) {
    if (for_launch_id.empty()) return out;
    return absl::NotFoundError(absl::StrCat("launch ", for_launch_id, " has no records"));
  }
  bool found = false;
  for (size_t i = replay_.epoch()->first_recnum; i < records_.size(); ++i) {
    const CelRecord& r = records_[i];
    if (!r.content->BelongsToLaunch()) {
      out.push_back(r);
    } else if (!for_launch_id.empty() && r.content->launch_id == for_launch_id) {
      found = true;
      out.push_back(r);
    } else {
      out.push_back(r.Redacted());
    }
  }
  if (!for_launch_id.empty() && !found) {
    return absl::NotFoundError(
        absl::StrCat("launch ", for_launch_id, " has no records in the current epoch"));
  }
  return out;
}

}  // namespace fdattest
