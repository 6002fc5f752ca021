// `fdlaunch attest --attestor SOCKET --launch ID --nonce HEX --evidence-out
// FILE` (docs/launcher.md, "Re-attestation"): asks the attestor to observe a
// running attested workload again on a fresh nonce and writes the evidence
// bundle of that alive observation. For main() only; not thread-safe.
#ifndef FDATTEST_LAUNCHER_ATTEST_COMMAND_H_
#define FDATTEST_LAUNCHER_ATTEST_COMMAND_H_

namespace fdattest {

inline constexpr int kExitWorkloadGone = 3;

// argv[0] is "attest". Prints "alive" (exit 0: observed unchanged, the
// bundle written) or "gone" (exit kExitWorkloadGone: the workload has
// exited, nothing written); any error or refusal exits 125 with one line
// "fdlaunch: error: ..." on stderr.
int RunAttestCommand(int argc, char** argv);

}  // namespace fdattest

#endif  // FDATTEST_LAUNCHER_ATTEST_COMMAND_H_
