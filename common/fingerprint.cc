#include "common/fingerprint.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/fscrypt.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/sha256.h"
#include "common/unique_fd.h"

namespace fdattest {
namespace {

std::optional<std::string> ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = readlink(path.c_str(), buf, sizeof(buf) - 1);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

std::string KindOf(mode_t mode, const std::optional<std::string>& link) {
  if (link && link->rfind("anon_inode:", 0) == 0) return "anon";
  switch (mode & S_IFMT) {
    case S_IFREG: return "file";
    case S_IFDIR: return "dir";
    case S_IFCHR: return "char";
    case S_IFBLK: return "block";
    case S_IFIFO: return "fifo";
    case S_IFSOCK: return "socket";
    default: return "other";
  }
}

std::optional<int64_t> MountIdOf(int fd) {
  std::ifstream in(absl::StrCat("/proc/self/fdinfo/", fd));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("mnt_id:", 0) == 0) {
      int64_t id;
      absl::string_view v(line);
      v.remove_prefix(7);
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      if (absl::SimpleAtoi(v, &id)) return id;
    }
  }
  return std::nullopt;
}

std::string FormatSockaddr(const sockaddr_storage& ss, socklen_t len) {
  char ip[INET6_ADDRSTRLEN];
  switch (ss.ss_family) {
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&ss);
      size_t path_len = len > offsetof(sockaddr_un, sun_path) ? len - offsetof(sockaddr_un, sun_path) : 0;
      if (path_len == 0) return "unnamed";
      if (un->sun_path[0] == '\0') return absl::StrCat("@", std::string(un->sun_path + 1, path_len - 1));
      return std::string(un->sun_path, strnlen(un->sun_path, path_len));
    }
    case AF_INET: {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
      inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
      return absl::StrCat(ip, ":", ntohs(in->sin_port));
    }
    case AF_INET6: {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
      inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
      return absl::StrCat("[", ip, "]:", ntohs(in6->sin6_port));
    }
    default:
      return absl::StrCat("af:", ss.ss_family);
  }
}

int GetIntOpt(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof(v);
  if (getsockopt(fd, level, name, &v, &len) != 0) return -1;
  return v;
}

SocketFingerprint FingerprintSocket(int fd, bool describe_peers) {
  SocketFingerprint s;
  int family = GetIntOpt(fd, SOL_SOCKET, SO_DOMAIN);
  int type = GetIntOpt(fd, SOL_SOCKET, SO_TYPE);
  s.protocol = GetIntOpt(fd, SOL_SOCKET, SO_PROTOCOL);
  switch (family) {
    case AF_UNIX: s.family = "unix"; break;
    case AF_INET: s.family = "inet"; break;
    case AF_INET6: s.family = "inet6"; break;
    default: s.family = absl::StrCat("af:", family);
  }
  switch (type) {
    case SOCK_STREAM: s.type = "stream"; break;
    case SOCK_DGRAM: s.type = "dgram"; break;
    case SOCK_SEQPACKET: s.type = "seqpacket"; break;
    default: s.type = absl::StrCat("type:", type);
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  s.local_address = getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0
                        ? FormatSockaddr(ss, len) : "unknown";
  ss = {};
  len = sizeof(ss);
  s.peer_address = getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0
                       ? FormatSockaddr(ss, len) : "not connected";
  if (family == AF_UNIX) {
    ucred cred{};
    socklen_t clen = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0 && cred.pid > 0) {
      PeerCred pc{.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
      if (describe_peers) {
        pc.exe_sha256 = ExeDigestOfPid(cred.pid);
        pc.exe_path = ReadLink(absl::StrCat("/proc/", cred.pid, "/exe"));
      }
      s.peer_cred = pc;
    }
  }
  if ((family == AF_INET || family == AF_INET6) && type == SOCK_STREAM) {
    char ulp[32] = {};
    socklen_t ulen = sizeof(ulp);
    if (getsockopt(fd, IPPROTO_TCP, TCP_ULP, ulp, &ulen) == 0 && ulp[0] != '\0') {
      s.tcp_ulp = std::string(ulp, strnlen(ulp, sizeof(ulp)));
    }
  }
  return s;
}

std::string HexOf(const uint8_t* bytes, size_t n) {
  return HexEncode(std::string(reinterpret_cast<const char*>(bytes), n));
}

// What the kernel shows about where the descriptor's file lives: the
// filesystem's magic and the file's fscrypt policy, asked of the descriptor
// itself (FS_IOC_GET_ENCRYPTION_POLICY_EX needs no key and no permission).
absl::StatusOr<StorageFingerprint> FingerprintStorage(int fd) {
  StorageFingerprint s;
  struct statfs sfs {};
  if (fstatfs(fd, &sfs) != 0) return ErrnoStatus(absl::StrCat("fstatfs fd ", fd), errno);
  s.fs_magic = static_cast<uint64_t>(sfs.f_type);
  fscrypt_get_policy_ex_arg arg{};
  arg.policy_size = sizeof(arg.policy);
  if (ioctl(fd, FS_IOC_GET_ENCRYPTION_POLICY_EX, &arg) == 0) {
    FscryptPolicy p;
    if (arg.policy.version == FSCRYPT_POLICY_V1) {
      p.version = 1;
      p.contents_mode = arg.policy.v1.contents_encryption_mode;
      p.filenames_mode = arg.policy.v1.filenames_encryption_mode;
      p.flags = arg.policy.v1.flags;
      p.key = HexOf(arg.policy.v1.master_key_descriptor, FSCRYPT_KEY_DESCRIPTOR_SIZE);
    } else if (arg.policy.version == FSCRYPT_POLICY_V2) {
      p.version = 2;
      p.contents_mode = arg.policy.v2.contents_encryption_mode;
      p.filenames_mode = arg.policy.v2.filenames_encryption_mode;
      p.flags = arg.policy.v2.flags;
      p.key = HexOf(arg.policy.v2.master_key_identifier, FSCRYPT_KEY_IDENTIFIER_SIZE);
    }
    if (p.version != 0) {
      s.encryption = std::string(kEncryptionFscrypt);
      s.fscrypt = p;
    } else {
      s.encryption = std::string(kEncryptionUnknown);  // a policy version this build cannot read
    }
  } else if (errno == ENODATA) {
    s.encryption = std::string(kEncryptionNone);
  } else if (errno == EOPNOTSUPP || errno == ENOTTY) {
    s.encryption = std::string(kEncryptionUnsupported);
  } else {
    s.encryption = std::string(kEncryptionUnknown);  // e.g. EOVERFLOW: a newer policy version
  }
  return s;
}

// Other processes holding the same pipe (by inode), found by scanning /proc.
std::vector<int64_t> PipePeers(uint64_t ino) {
  std::vector<int64_t> peers;
  const std::string want = absl::StrCat("pipe:[", ino, "]");
  const pid_t self = getpid();
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return peers;
  while (dirent* e = readdir(proc)) {
    int64_t pid;
    if (!absl::SimpleAtoi(e->d_name, &pid) || pid == self) continue;
    std::string fd_dir = absl::StrCat("/proc/", pid, "/fd");
    DIR* fds = opendir(fd_dir.c_str());
    if (fds == nullptr) continue;
    while (dirent* f = readdir(fds)) {
      if (f->d_name[0] == '.') continue;
      auto link = ReadLink(absl::StrCat(fd_dir, "/", f->d_name));
      if (link && *link == want) {
        peers.push_back(pid);
        break;
      }
    }
    closedir(fds);
  }
  closedir(proc);
  std::sort(peers.begin(), peers.end());
  return peers;
}

}  // namespace

absl::StatusOr<MountTable> MountTable::Load() {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return absl::InternalError("cannot read /proc/self/mountinfo");
  MountTable table;
  std::string line;
  while (std::getline(in, line)) {
    // "36 35 98:0 /root /mnt rw,noatime master:1 - ext3 /dev/root rw,errors=continue"
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    size_t dash = 0;
    for (size_t i = 6; i < fields.size(); ++i) {
      if (fields[i] == "-") {
        dash = i;
        break;
      }
    }
    int64_t id;
    if (dash == 0 || dash + 1 >= fields.size() || !absl::SimpleAtoi(fields[0], &id)) continue;
    MountFingerprint m;
    m.mnt_id = id;
    m.fs_type = fields[dash + 1];
    for (absl::string_view opt : absl::StrSplit(fields[5], ',')) {
      if (opt == "ro") m.read_only = true;
    }
    table.mounts_[id] = m;
  }
  return table;
}

const MountFingerprint* MountTable::Find(int64_t mnt_id) const {
  auto it = mounts_.find(mnt_id);
  return it == mounts_.end() ? nullptr : &it->second;
}

std::map<std::string, std::string> NamespacesAt(int proc_dir, int* errno_out) {
  std::map<std::string, std::string> out;
  for (const char* ns : {"cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts"}) {
    char buf[128];
    ssize_t n = readlinkat(proc_dir, absl::StrCat("ns/", ns).c_str(), buf, sizeof(buf) - 1);
    if (n > 0) {
      out[ns] = std::string(buf, static_cast<size_t>(n));
    } else if (errno_out != nullptr && *errno_out == 0) {
      *errno_out = errno;
    }
  }
  return out;
}

std::optional<std::string> ExeDigestOfPid(int64_t pid) {
  UniqueFd exe(open(absl::StrCat("/proc/", pid, "/exe").c_str(), O_RDONLY | O_CLOEXEC));
  if (!exe) return std::nullopt;
  auto digest = Sha256OfFile(exe.get());
  if (!digest.ok()) return std::nullopt;
  return HexEncode(*digest);
}

absl::StatusOr<FdFingerprint> FingerprintFd(int fd, const MountTable& mounts, bool hash_content,
                                            bool describe_peers) {
  FdFingerprint fp;
  fp.fd = fd;
  struct stat st {};
  if (fstat(fd, &st) != 0) return ErrnoStatus(absl::StrCat("fstat fd ", fd), errno);
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return ErrnoStatus(absl::StrCat("fcntl(F_GETFL) fd ", fd), errno);
  auto link = ReadLink(absl::StrCat("/proc/self/fd/", fd));

  fp.kind = KindOf(st.st_mode, link);
  fp.stat = {.dev = st.st_dev, .ino = st.st_ino, .rdev = st.st_rdev,
             .size = static_cast<uint64_t>(st.st_size), .nlink = st.st_nlink,
             .mode = st.st_mode, .uid = st.st_uid, .gid = st.st_gid};
  if (fl & O_PATH) {
    fp.open_mode = "path";
  } else {
    switch (fl & O_ACCMODE) {
      case O_RDONLY: fp.open_mode = "r"; break;
      case O_WRONLY: fp.open_mode = "w"; break;
      default: fp.open_mode = "rw"; break;
    }
  }
  fp.append = (fl & O_APPEND) != 0;
  if (auto id = MountIdOf(fd)) {
    if (const MountFingerprint* m = mounts.Find(*id)) {
      fp.mount = *m;
    } else {
      fp.mount = MountFingerprint{.mnt_id = *id, .fs_type = "unknown", .read_only = false};
    }
  }
  if (fp.kind == "file" || fp.kind == "dir") {
    ASSIGN_OR_RETURN(fp.storage, FingerprintStorage(fd));
  }
  if (fp.kind == "anon") fp.anon_type = link->substr(strlen("anon_inode:"));
  if (fp.kind == "file") {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals >= 0) fp.memfd_seals = static_cast<uint32_t>(seals);
    if (hash_content) {
      ASSIGN_OR_RETURN(Sha256Digest d, Sha256OfFile(fd));
      fp.content_sha256 = HexEncode(d);
    }
  } else if (hash_content) {
    return absl::InvalidArgumentError(
        absl::StrCat("fd ", fd, " asks for a content hash but is a ", fp.kind, ", not a file"));
  }
  if (fp.kind == "socket") fp.socket = FingerprintSocket(fd, describe_peers);
  if (fp.kind == "fifo" && describe_peers) fp.pipe_peer_pids = PipePeers(st.st_ino);
  return fp;
}

}  // namespace fdattest
