#include "tests/support/tpm_test_util.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>

#include "absl/strings/str_cat.h"
#include "attestor/tpm_keys.h"
#include "common/openssl_ptr.h"
#include "common/unique_fd.h"

namespace fdattest::testing {

absl::StatusOr<ToolResult> RunTpmTool(const std::vector<std::string>& argv,
                                      const std::string& tcti,
                                      std::chrono::milliseconds timeout) {
  if (argv.empty()) return absl::InvalidArgumentError("empty argv");
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  UniqueFd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return ErrnoStatus("pipe2", errno);
  UniqueFd err_r(err_pipe[0]), err_w(err_pipe[1]);

  // Everything the child needs is prepared before fork (no allocation after).
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string tcti_env = absl::StrCat("TPM2TOOLS_TCTI=", tcti);
  std::vector<std::string> env_strings = {tcti_env, "TSS2_LOG=all+none"};
  if (const char* path = getenv("PATH")) env_strings.push_back(absl::StrCat("PATH=", path));
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    if (dup2(out_w.get(), 1) < 0 || dup2(err_w.get(), 2) < 0) _exit(126);
    execvpe(args[0], args.data(), envp.data());
    _exit(127);
  }
  out_w.reset();
  err_w.reset();

  ToolResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not finish in time"));
    }
    pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0}, {err_open ? err_r.get() : -1, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return ErrnoStatus("poll", errno);
    char buf[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t r = read(fds[i].fd, buf, sizeof(buf));
      if (r > 0) {
        (i == 0 ? result.out : result.err).append(buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        (i == 0 ? out_open : err_open) = false;
      }
    }
  }
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return ErrnoStatus("waitpid", errno);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

absl::StatusOr<TPMS_ATTEST> ParseAttest(absl::string_view attest) {
  TPMS_ATTEST out{};
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPMS_ATTEST_Unmarshal(reinterpret_cast<const uint8_t*>(attest.data()),
                                             attest.size(), &off, &out);
  if (rc != TSS2_RC_SUCCESS || off != attest.size()) {
    return absl::InvalidArgumentError("malformed TPMS_ATTEST");
  }
  return out;
}

absl::Status VerifyEcdsaAttest(absl::string_view tpm2b_public, absl::string_view attest,
                               absl::string_view signature) {
  ASSIGN_OR_RETURN(TPM2B_PUBLIC pub, ParseTpm2bPublic(tpm2b_public));
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, EccPublicToPkey(pub.publicArea));
  TPMT_SIGNATURE sig{};
  size_t off = 0;
  TSS2_RC rc = Tss2_MU_TPMT_SIGNATURE_Unmarshal(
      reinterpret_cast<const uint8_t*>(signature.data()), signature.size(), &off, &sig);
  if (rc != TSS2_RC_SUCCESS || off != signature.size()) {
    return absl::InvalidArgumentError("malformed TPMT_SIGNATURE");
  }
  if (sig.sigAlg != TPM2_ALG_ECDSA || sig.signature.ecdsa.hash != TPM2_ALG_SHA256) {
    return absl::UnauthenticatedError("signature is not ECDSA with SHA-256");
  }
  // TPM signatures carry r and s as TPM2B integers; OpenSSL wants DER.
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> ecdsa(ECDSA_SIG_new(), &ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(sig.signature.ecdsa.signatureR.buffer, sig.signature.ecdsa.signatureR.size, nullptr);
  BIGNUM* s = BN_bin2bn(sig.signature.ecdsa.signatureS.buffer, sig.signature.ecdsa.signatureS.size, nullptr);
  if (!ecdsa || !r || !s || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return OpenSslStatus("ECDSA_SIG");
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(ecdsa.get(), &der);
  if (der_len <= 0) return OpenSslStatus("i2d_ECDSA_SIG");
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* p) { OPENSSL_free(p); });
  EvpMdCtxPtr md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, pkey.get()) != 1) {
    return OpenSslStatus("EVP_DigestVerifyInit");
  }
  int ok = EVP_DigestVerify(md.get(), der, static_cast<size_t>(der_len),
                            reinterpret_cast<const unsigned char*>(attest.data()), attest.size());
  if (ok != 1) return absl::UnauthenticatedError("AK signature does not verify");
  return absl::OkStatus();
}

absl::StatusOr<std::string> PublicToPem(absl::string_view tpm2b_public) {
  ASSIGN_OR_RETURN(TPM2B_PUBLIC pub, ParseTpm2bPublic(tpm2b_public));
  ASSIGN_OR_RETURN(EvpPkeyPtr pkey, EccPublicToPkey(pub.publicArea));
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), pkey.get()) != 1) return OpenSslStatus("PEM_write_bio_PUBKEY");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

}  // namespace fdattest::testing
