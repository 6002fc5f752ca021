// Makes genuine evidence bundles, one per nonce, for a launch that is still
// running: for the service's end-to-end test (replays, bundles changed in
// transit, expired nonces) and its load benchmark (docs/BENCHMARKS.md). Each
// bundle is what `fdlaunch attest` writes: the attestor re-observes the
// workload on that nonce (`reattest`), then certifies the register on it, and
// the bundle carries the launch's records up to that alive observation.
//
//   evidence_factory --attestor SOCKET --manifest MANIFEST --out FILE
//                    (--nonces FILE | --verifier URL --ca CA --count N)
//
// The nonces: one hex nonce per line of FILE, or N fresh ones issued by the
// verifier service (POST /v1/challenge, one connection each).
// Output: one bundle per line, in the order of the nonces.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json.h"
#include "common/manifest.h"
#include "common/sha256.h"
#include "launcher/attestor_client.h"
#include "launcher/collect_evidence.h"
#include "launcher/verifier_session.h"

namespace fdattest {
namespace {

struct Options {
  std::string socket, manifest, nonces, out, verifier, ca;
  int64_t count = 0;
};

absl::Status Run(const Options& o) {
  ASSIGN_OR_RETURN(std::string manifest, ReadFileLimited(o.manifest, 1 << 20));
  ASSIGN_OR_RETURN(Manifest parsed, Manifest::Parse(manifest));
  ASSIGN_OR_RETURN(AttestorClient client, AttestorClient::Connect(o.socket));
  std::string nonce;
  std::optional<VerifierSession> session;
  std::ifstream nonces;
  if (!o.verifier.empty()) {
    ASSIGN_OR_RETURN(session, VerifierSession::Open(o.verifier, o.ca));
  } else {
    nonces.open(o.nonces);
    if (!nonces) return absl::InvalidArgumentError(absl::StrCat("cannot read ", o.nonces));
  }
  std::ofstream out(o.out, std::ios::trunc);
  if (!out) return absl::InvalidArgumentError(absl::StrCat("cannot write ", o.out));
  int64_t made = 0;
  for (;;) {
    if (session) {
      if (made == o.count) break;
      ASSIGN_OR_RETURN(nonce, session->Challenge());
    } else {
      std::string line;
      if (!std::getline(nonces, line)) break;
      if (line.empty()) continue;
      ASSIGN_OR_RETURN(nonce, HexDecode(line));
    }
    ASSIGN_OR_RETURN(ReattestResponse alive, client.Reattest(parsed.launch_id, nonce));
    if (alive.gone) {
      return absl::FailedPreconditionError(
          absl::StrCat("launch ", parsed.launch_id, " is gone: the workload exited"));
    }
    if (alive.manifest != manifest) {
      return absl::FailedPreconditionError("the attestor's manifest of this launch is another");
    }
    ASSIGN_OR_RETURN(std::string bundle,
                     CollectEvidence(client, nonce, parsed.launch_id, manifest, alive.recnum));
    if (bundle.find('\n') != std::string::npos) return absl::InternalError("bundle has a newline");
    out << bundle << '\n';
    ++made;
  }
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("writing ", o.out, " failed"));
  std::cerr << "evidence_factory: " << made << " bundles in " << o.out << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace fdattest

int main(int argc, char** argv) {
  CLI::App app{"genuine evidence bundles, one per nonce, for the service benchmarks"};
  fdattest::Options o;
  app.add_option("--attestor", o.socket, "fdattestd's socket")->required();
  app.add_option("--manifest", o.manifest, "the measured launch's manifest")->required();
  app.add_option("--out", o.out, "bundles, one per line")->required();
  auto* nonces = app.add_option("--nonces", o.nonces, "hex nonces, one per line");
  auto* verifier = app.add_option("--verifier", o.verifier, "fdverifierd's URL: issue nonces there");
  app.add_option("--ca", o.ca, "the CA of fdverifierd's certificate")->needs(verifier);
  app.add_option("--count", o.count, "how many nonces to fetch")->needs(verifier)->check(CLI::PositiveNumber);
  nonces->excludes(verifier);
  CLI11_PARSE(app, argc, argv);
  if (o.nonces.empty() == o.verifier.empty()) {
    std::cerr << "evidence_factory: give --nonces or --verifier\n";
    return 2;
  }
  absl::Status status = fdattest::Run(o);
  if (!status.ok()) {
    std::cerr << "evidence_factory: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
