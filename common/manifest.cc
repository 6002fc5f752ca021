#include "common/manifest.h"

#include "common/base64.h"
#include "common/sha256.h"

namespace fdattest {

Json FdFingerprintToJson(const FdFingerprint& fp) {
  Json j;
  j["fd"] = fp.fd;
  if (!fp.role.empty()) j["role"] = fp.role;
  if (!fp.access.empty()) j["access"] = fp.access;
  j["source"] = fp.source;
  if (fp.path) j["path"] = *fp.path;
  j["kind"] = fp.kind;
  j["stat"] = {{"dev", fp.stat.dev},   {"ino", fp.stat.ino},     {"rdev", fp.stat.rdev},
               {"size", fp.stat.size}, {"nlink", fp.stat.nlink}, {"mode", fp.stat.mode},
               {"uid", fp.stat.uid},   {"gid", fp.stat.gid}};
  j["open_mode"] = fp.open_mode;
  j["append"] = fp.append;
  if (fp.mount) {
    j["mount"] = {{"mnt_id", fp.mount->mnt_id},
                  {"fs_type", fp.mount->fs_type},
                  {"read_only", fp.mount->read_only}};
  }
  if (fp.content_sha256) j["content_sha256"] = *fp.content_sha256;
  if (fp.memfd_seals) j["memfd_seals"] = *fp.memfd_seals;
  if (fp.anon_type) j["anon_type"] = *fp.anon_type;
  if (fp.socket) {
    const SocketFingerprint& s = *fp.socket;
    Json sj = {{"family", s.family},
               {"type", s.type},
               {"protocol", s.protocol},
               {"local_address", s.local_address},
               {"peer_address", s.peer_address}};
    if (s.peer_cred) {
      Json pc = {{"pid", s.peer_cred->pid}, {"uid", s.peer_cred->uid}, {"gid", s.peer_cred->gid}};
      if (s.peer_cred->exe_sha256) pc["exe_sha256"] = *s.peer_cred->exe_sha256;
      sj["peer_cred"] = pc;
    }
    if (s.tcp_ulp) sj["tcp_ulp"] = *s.tcp_ulp;
    j["socket"] = sj;
  }
  if (fp.kind == "fifo") j["pipe_peer_pids"] = fp.pipe_peer_pids;
  return j;
}

Json Manifest::ToJson() const {
  Json j;
  j["version"] = version;
  j["launch_id"] = launch_id;
  j["time"] = time;
  j["profile"] = {{"name", profile_name}, {"sha256", profile_sha256}};
  j["exe"] = {{"path", exe_path}, {"sha256", exe_sha256}};
  j["argv"] = argv;
  j["env_names"] = env_names;
  j["credentials"] = {{"uid", uid}, {"gid", gid}, {"euid", euid}, {"egid", egid}};
  j["namespaces"] = namespaces;
  Json rl = Json::object();
  for (const auto& [name, limits] : rlimits) {
    rl[name] = {{"soft", limits.first}, {"hard", limits.second}};
  }
  j["rlimits"] = rl;
  j["no_new_privs"] = no_new_privs;
  j["attested"] = attested;
  j["launcher"] = {{"version", launcher_version}, {"sha256", launcher_sha256}};
  Json fds_json = Json::array();
  for (const auto& fp : fds) fds_json.push_back(FdFingerprintToJson(fp));
  j["fds"] = fds_json;
  Json closed_json = Json::array();
  for (const auto& fp : closed_fds) closed_json.push_back(FdFingerprintToJson(fp));
  j["closed_fds"] = closed_json;
  j["filter"] = {{"bpf_base64", Base64Encode(filter.bpf)},
                 {"sha256", HexEncode(Sha256(filter.bpf))},
                 {"instructions", filter.bpf.size() / 8},
                 {"install_flags", filter.install_flags},
                 {"on_violation", filter.on_violation},
                 {"exec_fd", filter.exec_fd},
                 {"arch", "x86_64"}};
  return j;
}

}  // namespace fdattest
