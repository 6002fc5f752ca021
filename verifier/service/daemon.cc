#include "verifier/service/daemon.h"

#include <openssl/rand.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/build_info.h"
#include "common/command_line.h"
#include "common/file_io.h"
#include "common/sha256.h"
#include "verifier/audit/log_key.h"
#include "verifier/identity_cache.h"
#include "verifier/jose_key.h"
#include "verifier/proof_cache.h"
#include "verifier/service/access_log.h"
#include "verifier/service/archive_entry.h"
#include "verifier/service/http_server.h"
#include "verifier/service/metrics.h"
#include "verifier/service/nonce_budget.h"
#include "verifier/service/policy_cache.h"
#include "verifier/service/routes.h"

namespace fdattest {
namespace {

constexpr char kFooter[] =
    "Exit status: 0 stopped by SIGTERM or SIGINT; 1 failed while serving; 4 usage or\n"
    "configuration error (nothing served).\n"
    "Documentation: docs/service.md (configuration, roles, limits, logs), docs/openapi.yaml.";
constexpr size_t kMaxCaBytes = 1 << 20;
constexpr int kPurgeSeconds = 60;

struct Options {
  std::string listen;
  std::string data_dir;
  std::string tls_cert, tls_key, client_ca, tpm_ca, signing_key, secret_key_file, log_key;
  std::vector<std::string> witnesses;
  int64_t retention_days = 6 * 365 + 2;
  int64_t nonce_lifetime = 300;
  int64_t max_nonces = 100000;
  int64_t ear_lifetime = 300;
  size_t max_inflight = 32;
  size_t threads = 32;
  int request_timeout = 10;
};

int ConfigError(absl::string_view what, absl::string_view why) {
  fprintf(stderr, "fdverifierd: error: %.*s: %.*s\n", static_cast<int>(what.size()), what.data(),
          static_cast<int>(why.size()), why.data());
  return kDaemonExitConfig;
}

// "HOST:PORT" or "[IPv6]:PORT".
bool ParseListen(const std::string& listen, std::string& host, int& port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return absl::SimpleAtoi(listen.substr(colon + 1), &port) && port >= 0 && port <= 65535;
}

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    // Without randomness no nonce or id may be issued.
    fprintf(stderr, "fdverifierd: fatal: the random generator failed\n");
    abort();
  }
  return out;
}

// A process that holds secrets in the clear writes no core dump and cannot
// be ptrace-attached by its user's other processes.
void MakeNonDumpable() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit none = {0, 0};
  setrlimit(RLIMIT_CORE, &none);
}

}  // namespace

int RunFdverifierd(int argc, char** argv, const DaemonDeps& deps) {
  MakeNonDumpable();
  CLI::App app{"fdverifierd: the fdattest verifier as an HTTPS service"};
  AddVersionAndFooter(app, kFooter);
  Options o;
  app.add_option("--listen", o.listen, "HOST:PORT to serve HTTPS on (port 0: any free port)")
      ->required();
  app.add_option("--data-dir", o.data_dir, "directory of the verifier's store")->required();
  app.add_option("--tls-cert", o.tls_cert, "server certificate chain (PEM)")->required();
  app.add_option("--tls-key", o.tls_key, "server private key (PEM)")->required();
  app.add_option("--client-ca", o.client_ca, "CA of admin and auditor client certificates (PEM)")
      ->required();
  app.add_option("--tpm-ca", o.tpm_ca, "trusted TPM vendor CA certificates (PEM)")->required();
  app.add_option("--signing-key", o.signing_key, "EAR signing key (ES256 private JWK, mode 0600)")
      ->required();
  app.add_option("--secret-key-file", o.secret_key_file,
                 "key that seals stored secrets (mode 0600)")
      ->required();
  app.add_option("--log-key", o.log_key,
                 "audit log signing key (Ed25519 PEM, mode 0600, with FILE.vkey beside it: "
                 "fdattest key log)")
      ->required();
  app.add_option("--witness", o.witnesses,
                 "a witness's verifier key file (fdattest key witness): its cosignatures of the "
                 "log's checkpoints are accepted (repeatable)");
  app.add_option("--retention-days", o.retention_days,
                 "days archived evidence, results and decision records are kept (leaves: for ever)")
      ->check(CLI::Range(int64_t{1}, int64_t{365 * 100}))
      ->capture_default_str();
  app.add_option("--nonce-lifetime", o.nonce_lifetime, "seconds a nonce lives unless asked")
      ->check(CLI::Range(int64_t{1}, int64_t{3600}))
      ->capture_default_str();
  app.add_option("--max-nonces", o.max_nonces, "outstanding nonces before /v1/challenge is 429")
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}))
      ->capture_default_str();
  app.add_option("--ear-lifetime", o.ear_lifetime, "EAR lifetime in seconds (exp - iat)")
      ->check(CLI::Range(int64_t{1}, int64_t{86400 * 30}))
      ->capture_default_str();
  app.add_option("--max-inflight", o.max_inflight, "requests served at once; more are 503")
      ->check(CLI::Range(size_t{1}, size_t{4096}))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "connection workers (a keep-alive connection holds one)")
      ->check(CLI::Range(size_t{1}, size_t{4096}))
      ->capture_default_str();
  app.add_option("--request-timeout", o.request_timeout,
                 "seconds a connection has to deliver each complete request")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  if (std::optional<int> done = ParseCommandLine(
          app, argc, argv, kDaemonExitConfig, [](const std::string& message) {
            fprintf(stderr, "fdverifierd: error: %s (run with --help for the usage)\n",
                    message.c_str());
          })) {
    return *done;
  }

  // Signals are taken by one thread (sigwait), never by another: blocked
  // before any thread exists (the store starts its writer thread when it
  // opens), since a thread inherits the mask it is created with.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  HttpServerOptions http;
  if (!ParseListen(o.listen, http.host, http.port)) {
    return ConfigError("--listen", "expected HOST:PORT");
  }
  http.tls = {o.tls_cert, o.tls_key, o.client_ca};
  http.threads = o.threads;
  http.queue = o.threads * 2;
  http.max_in_flight = o.max_inflight;
  http.request_timeout = std::chrono::seconds(o.request_timeout);

  absl::StatusOr<std::string> tpm_ca = ReadFileLimited(o.tpm_ca, kMaxCaBytes);
  if (!tpm_ca.ok()) return ConfigError("--tpm-ca", tpm_ca.status().message());
  if (tpm_ca->find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
    return ConfigError("--tpm-ca", "holds no PEM certificate");
  }
  absl::StatusOr<SigningKey> key = SigningKey::Load(o.signing_key);
  if (!key.ok()) return ConfigError("--signing-key", key.status().message());
  absl::StatusOr<std::shared_ptr<SecretBox>> box = deps.open_secret_box(o.secret_key_file);
  if (!box.ok()) return ConfigError("--secret-key-file", box.status().message());
  absl::StatusOr<NoteSigner> log_signer = LoadLogSigner(o.log_key);
  if (!log_signer.ok()) return ConfigError("--log-key", log_signer.status().message());
  std::vector<NoteVerifier> witnesses;
  for (const std::string& path : o.witnesses) {
    absl::StatusOr<NoteVerifier> witness = LoadWitnessKey(path);
    if (!witness.ok()) return ConfigError("--witness", witness.status().message());
    witnesses.push_back(*std::move(witness));
  }
  if (box->get() == nullptr) {
    return ConfigError("--secret-key-file", "the audit archive seals its blobs under it");
  }
  absl::StatusOr<std::unique_ptr<Store>> store = deps.open_store(o.data_dir, &*log_signer);
  if (!store.ok()) return ConfigError("--data-dir", store.status().message());


  std::vector<Route> routes = ServiceRoutes();
  std::vector<std::string> labels;
  for (const Route& route : routes) labels.push_back(route.pattern);
  Metrics metrics(labels);
  FilterProofCache proof_cache;
  IdentityCache identity_cache;
  PolicyCache policies;
  NonceBudget nonces(store->get(), o.max_nonces);
  TenantKeyCache tenant_keys(store->get(), box->get());
  ServiceContext context;
  context.store = store->get();
  context.tpm_ca_sha256 = HexEncode(Sha256(*tpm_ca));
  context.tpm_ca_pem = *std::move(tpm_ca);
  context.tenant_keys = &tenant_keys;
  context.witnesses = std::move(witnesses);
  context.limits.retention_seconds = o.retention_days * 86400;
  context.now = [] { return static_cast<int64_t>(std::time(nullptr)); };
  context.random = RandomBytes;
  context.secret_box = box->get();
  context.signing_key = &*key;
  context.proof_cache = &proof_cache;
  context.identity_cache = &identity_cache;
  context.policies = &policies;
  context.nonces = &nonces;
  context.metrics = &metrics;
  context.limits.nonce_lifetime = o.nonce_lifetime;
  context.limits.ear_lifetime = o.ear_lifetime;

  AccessLog log;
  absl::StatusOr<std::unique_ptr<HttpServer>> server =
      HttpServer::New(http, Router(std::move(routes)), &context, &log);
  if (!server.ok()) return ConfigError("TLS", server.status().message());
  absl::StatusOr<int> port = (*server)->Bind();
  if (!port.ok()) return ConfigError("--listen", port.status().message());

  // The signal thread: stops the server on SIGTERM/SIGINT and meanwhile
  // forgets expired nonces once a minute.
  std::atomic<bool> serving{true};
  std::thread signals([&] {
    const timespec tick = {kPurgeSeconds, 0};
    for (;;) {
      const int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (!serving) return;
      if (sig == SIGTERM || sig == SIGINT) {
        log.Write("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        (*server)->Stop();
        return;
      }
      if (absl::Status s = context.store->PurgeNonces(context.now()); !s.ok()) {
        log.Write("purge_failed", {{"error", std::string(s.message())}});
      }
      // Retention: blobs past it lose their ciphertext; leaves stay.
      absl::StatusOr<int64_t> expired = context.store->ExpireBlobs(context.now());
      if (!expired.ok()) {
        log.Write("expire_failed", {{"error", std::string(expired.status().message())}});
      } else if (*expired > 0) {
        log.Write("expired", {{"blobs", *expired}});
      }
    }
  });
  log.Write("start", {{"version", BuildId()},
                      {"host", http.host},
                      {"port", *port},
                      {"threads", o.threads},
                      {"max_inflight", o.max_inflight},
                      {"secrets", box->get() != nullptr},
                      {"log", log_signer->VerifierKey()},
                      {"witnesses", o.witnesses.size()}});
  const absl::Status served = (*server)->Serve();
  serving = false;
  pthread_kill(signals.native_handle(), SIGTERM);  // wakes it if still waiting
  signals.join();
  server->reset();  // every connection served and closed
  log.Write("stop", {{"ok", served.ok()}});
  return served.ok() ? 0 : kDaemonExitFailed;
}

}  // namespace fdattest
