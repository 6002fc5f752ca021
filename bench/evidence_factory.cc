// Makes genuine evidence bundles for the service load benchmarks
// (docs/BENCHMARKS.md, "Verifier service"): one per nonce, for a launch the
// attestor has already measured. Each bundle is a real TPM certification of
// the register on that nonce (fdattestd's `certify`, the same call fdlaunch
// makes in step 9); the event log and the attestor's description are fetched
// once, since nothing else is measured while it runs.
//
//   evidence_factory --attestor SOCKET --manifest MANIFEST --nonces FILE --out FILE
//
// FILE of nonces: one hex nonce per line (as POST /v1/challenge issued them).
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

namespace fdattest {
namespace {

absl::Status Run(const std::string& socket, const std::string& manifest_path,
                 const std::string& nonces_path, const std::string& out_path) {
  ASSIGN_OR_RETURN(std::string manifest, ReadFileLimited(manifest_path, 1 << 20));
  ASSIGN_OR_RETURN(Manifest parsed, Manifest::Parse(manifest));
  ASSIGN_OR_RETURN(AttestorClient client, AttestorClient::Connect(socket));
  EvidenceParts parts{.manifest = manifest, .launch_id = parsed.launch_id};
  ASSIGN_OR_RETURN(parts.event_log, client.Log(parsed.launch_id));
  ASSIGN_OR_RETURN(parts.info, client.Info());
  std::ifstream nonces(nonces_path);
  if (!nonces) return absl::InvalidArgumentError(absl::StrCat("cannot read ", nonces_path));
  std::ofstream out(out_path, std::ios::trunc);
  if (!out) return absl::InvalidArgumentError(absl::StrCat("cannot write ", out_path));
  std::string line;
  size_t made = 0;
  while (std::getline(nonces, line)) {
    if (line.empty()) continue;
    ASSIGN_OR_RETURN(parts.nonce, HexDecode(line));
    const Sha256Digest qualifying = EvidenceQualifyingData(parts.nonce, Sha256(manifest));
    ASSIGN_OR_RETURN(parts.certification, client.Certify(absl::string_view(reinterpret_cast<const char*>(qualifying.data()), qualifying.size())));
    ASSIGN_OR_RETURN(std::string bundle, BuildEvidence(parts));
    if (bundle.find('\n') != std::string::npos) return absl::InternalError("bundle has a newline");
    out << bundle << '\n';
    ++made;
  }
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("writing ", out_path, " failed"));
  std::cerr << "evidence_factory: " << made << " bundles in " << out_path << "\n";
  return absl::OkStatus();
}

}  // namespace
}  // namespace fdattest

int main(int argc, char** argv) {
  CLI::App app{"genuine evidence bundles, one per nonce, for the service benchmarks"};
  std::string socket, manifest, nonces, out;
  app.add_option("--attestor", socket, "fdattestd's socket")->required();
  app.add_option("--manifest", manifest, "the measured launch's manifest")->required();
  app.add_option("--nonces", nonces, "hex nonces, one per line")->required();
  app.add_option("--out", out, "bundles, one per line")->required();
  CLI11_PARSE(app, argc, argv);
  absl::Status status = fdattest::Run(socket, manifest, nonces, out);
  if (!status.ok()) {
    std::cerr << "evidence_factory: " << status.message() << "\n";
    return 1;
  }
  return 0;
}
