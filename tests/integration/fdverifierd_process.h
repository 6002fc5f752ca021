// fdverifierd as a child process for the service's integration tests: the
// directory it runs from (development PKI, keys, data), the daemon with the
// options each test passes, its stderr (JSON lines) collected as it comes,
// HTTPS clients by role, and connections made by hand (raw TLS or TCP) for
// what a well-behaved client never sends. Test-only; a Daemon is used from
// one test thread (its reader thread only appends lines under its mutex).
#ifndef FDATTEST_TESTS_INTEGRATION_FDVERIFIERD_PROCESS_H_
#define FDATTEST_TESTS_INTEGRATION_FDVERIFIERD_PROCESS_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "common/json.h"
#include "common/status.h"
#include "verifier/audit/signed_note.h"
#include "verifier/jose_key.h"

namespace fdattest::testing {

using namespace std::chrono_literals;

// A policy the service accepts: one read-only PHI input of one workload.
inline constexpr char kOneInputPolicy[] = R"({
  "version": 1,
  "id": "https://test.invalid/service/v1",
  "workload": {"exe_sha256": ["3d9f2889d6782537624a4e1a10e68a2ddd53e0ee8bac02676f27308f42ec6bf6"]},
  "closed_world": true,
  "max_fds": 3,
  "fd_roles": [
    {"role": "phi-input", "class": "phi_input", "kinds": ["file"], "access": ["r"], "min": 1, "max": 1}
  ],
  "retention_days": 2190
})";

inline int RunCommand(const std::vector<std::string>& argv) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A directory fdverifierd runs from, made by MakeDaemonDir.
struct DaemonDir {
  std::string path;
  std::string public_jwk;  // signing.jwk's public half, canonical JSON
};

// A fresh directory under /tmp named from `prefix`: pki/ from the
// development PKI script (certs/make-dev-pki.sh under `source_dir`), a new
// signing.jwk, a 32-byte secret.key (mode 0600) and an empty data/. Also
// ignores SIGPIPE, as any HTTP client does: a peer that closes is an error,
// not a signal.
inline absl::StatusOr<DaemonDir> MakeDaemonDir(const std::string& source_dir,
                                               const std::string& prefix) {
  signal(SIGPIPE, SIG_IGN);
  std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return absl::InternalError("mkdtemp failed");
  DaemonDir dir{tmpl, ""};
  if (RunCommand({source_dir + "/certs/make-dev-pki.sh", dir.path + "/pki"}) != 0) {
    return absl::InternalError("certs/make-dev-pki.sh failed");
  }
  absl::StatusOr<SigningKey> key = SigningKey::Generate();
  if (!key.ok()) return key.status();
  if (absl::Status saved = key->Save(dir.path + "/signing.jwk"); !saved.ok()) return saved;
  dir.public_jwk = key->PublicJwkJson();
  std::ofstream(dir.path + "/secret.key") << std::string(32, 'k');
  absl::StatusOr<NoteSigner> log_key = NoteSigner::Generate("fdverifierd.test/audit");
  if (!log_key.ok()) return log_key.status();
  std::ofstream(dir.path + "/log.key") << log_key->PrivateKeyPem();
  std::ofstream(dir.path + "/log.key.vkey") << log_key->VerifierKey() << "\n";
  if (chmod((dir.path + "/log.key").c_str(), 0600) != 0) {
    return absl::InternalError("log.key not made");
  }
  if (chmod((dir.path + "/secret.key").c_str(), 0600) != 0 ||
      mkdir((dir.path + "/data").c_str(), 0700) != 0) {
    return absl::InternalError("secret.key or data/ not made");
  }
  return dir;
}

// fdverifierd's options for a directory `dir` from MakeDaemonDir, the TPM
// vendor CAs in `tpm_ca`, then `extra`.
inline std::vector<std::string> DaemonArgs(const std::string& binary, const std::string& dir,
                                           const std::string& tpm_ca,
                                           const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {binary,
                                   "--listen", "127.0.0.1:0",
                                   "--data-dir", dir + "/data",
                                   "--tls-cert", dir + "/pki/server.pem",
                                   "--tls-key", dir + "/pki/server.key",
                                   "--client-ca", dir + "/pki/client-ca.pem",
                                   "--tpm-ca", tpm_ca,
                                   "--signing-key", dir + "/signing.jwk",
                                   "--secret-key-file", dir + "/secret.key",
                                   "--log-key", dir + "/log.key"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

// An HTTPS client of the daemon on `port` that verifies it against
// pki/server-ca.pem of `dir` and, unless `role` is empty, presents the
// client certificate pki/<role>.pem; reads time out after 10 s.
inline std::unique_ptr<httplib::SSLClient> RoleClient(int port, const std::string& dir,
                                                      const std::string& role) {
  const std::string pki = dir + "/pki/";
  std::unique_ptr<httplib::SSLClient> c =
      role.empty() ? std::make_unique<httplib::SSLClient>("127.0.0.1", port)
                   : std::make_unique<httplib::SSLClient>("127.0.0.1", port, pki + role + ".pem",
                                                          pki + role + ".key");
  c->set_ca_cert_path((pki + "server-ca.pem").c_str());
  c->enable_server_certificate_verification(true);
  c->set_read_timeout(10, 0);
  return c;
}

// One running daemon, its stderr collected line by line.
class Daemon {
 public:
  // `argv`: the binary and every option (DaemonArgs gives the usual ones).
  explicit Daemon(const std::vector<std::string>& argv) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(pipe_fds[1], 2);
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(pipe_fds[1]);
    reader_ = std::thread([this, fd = pipe_fds[0]] {
      std::string pending;
      char buf[4096];
      for (;;) {
        const ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) break;
        pending.append(buf, static_cast<size_t>(n));
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          std::lock_guard<std::mutex> lock(mu_);
          lines_.push_back(pending.substr(0, nl));
          pending.erase(0, nl + 1);
          cv_.notify_all();
        }
      }
      close(fd);
      std::lock_guard<std::mutex> lock(mu_);
      eof_ = true;
      cv_.notify_all();
    });
    const std::string start = WaitForLine([](const std::string& l) {
      return absl::StrContains(l, "\"event\":\"start\"");
    });
    if (!start.empty()) port_ = (*ParseJsonStrict(start))["port"].get<int>();
  }

  ~Daemon() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (reader_.joinable()) reader_.join();
  }

  int port() const { return port_; }
  // The process id (for a test's own signals; the destructor reaps it).
  pid_t pid() const { return pid_; }

  // The first stderr line `pred` accepts, waiting up to `timeout` ("" if none).
  std::string WaitForLine(const std::function<bool(const std::string&)>& pred,
                          std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu_);
    std::string found;
    cv_.wait_for(lock, timeout, [&] {
      for (const std::string& l : lines_) {
        if (pred(l)) {
          found = l;
          return true;
        }
      }
      return eof_;
    });
    return found;
  }

  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

  // SIGTERM, then the exit status (-1 if it did not exit within 15 s).
  int Terminate() {
    kill(pid_, SIGTERM);
    for (int i = 0; i < 150; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(100ms);
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  bool exited_ = false;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  bool eof_ = false;
};

// A TLS (or plain TCP) connection made by hand.
class RawConnection {
 public:
  RawConnection(int port, bool tls, const std::string& ca = "") {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!tls) {
      ok_ = true;
      return;
    }
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ca.empty()) {
      SSL_CTX_load_verify_locations(ctx_, ca.c_str(), nullptr);
      SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    }
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    ok_ = SSL_connect(ssl_) == 1;
  }
  ~RawConnection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) close(fd_);
  }
  bool ok() const { return ok_; }
  bool Send(absl::string_view data) {
    if (ssl_ != nullptr) return SSL_write(ssl_, data.data(), static_cast<int>(data.size())) > 0;
    return write(fd_, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  }
  // Everything until the peer closes or 10 s pass.
  std::string ReadAll() {
    std::string out;
    char buf[4096];
    for (;;) {
      const int n = ssl_ != nullptr ? SSL_read(ssl_, buf, sizeof(buf))
                                    : static_cast<int>(read(fd_, buf, sizeof(buf)));
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // One response's head and (Content-Length) body.
  std::string ReadResponse() {
    std::string out;
    char c;
    while (out.find("\r\n\r\n") == std::string::npos) {
      if (SSL_read(ssl_, &c, 1) != 1) return out;
      out.push_back(c);
    }
    const size_t cl = out.find("Content-Length: ");
    size_t length = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
    std::string body(length, '\0');
    size_t done = 0;
    while (done < length) {
      const int n = SSL_read(ssl_, body.data() + done, static_cast<int>(length - done));
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    return out + body.substr(0, done);
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
};

// `n` TLS connections to the daemon on `port`, each with a request whose
// body never comes: each holds one of the daemon's --max-inflight places
// until its --request-timeout ends the request. Empty if any connection or
// send failed.
inline std::vector<std::unique_ptr<RawConnection>> HoldInFlightPlaces(int port, int n) {
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < n; ++i) {
    held.push_back(std::make_unique<RawConnection>(port, true));
    if (!held.back()->ok() ||
        !held.back()->Send("POST /v1/challenge HTTP/1.1\r\nHost: x\r\n"
                           "Content-Type: application/json\r\nContent-Length: 10\r\n\r\n")) {
      return {};
    }
  }
  return held;
}

}  // namespace fdattest::testing

#endif  // FDATTEST_TESTS_INTEGRATION_FDVERIFIERD_PROCESS_H_
