#include "verifier/key_command.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/file_io.h"
#include "common/json.h"
#include "verifier/endpoint_registry.h"
#include "verifier/jose_key.h"
#include "common/unique_fd.h"
#include "verifier/audit/signed_note.h"
#include "verifier/secret_box.h"

namespace fdattest {
namespace {

constexpr int kExitDone = 0;
constexpr int kExitFailed = 1;

int Fail(std::ostream& err, absl::string_view what, const absl::Status& status) {
  err << "fdattest: " << what << ": " << status.message() << "\n";
  return kExitFailed;
}

int KeyGenerate(const std::string& out_path, std::ostream& out, std::ostream& err) {
  auto key = SigningKey::Generate();
  if (!key.ok()) return Fail(err, "key generate", key.status());
  if (auto s = key->Save(out_path); !s.ok()) return Fail(err, "key generate", s);
  out << key->PublicJwkJson() << "\n";
  return kExitDone;
}

int KeyPublic(const std::string& key_path, std::ostream& out, std::ostream& err) {
  auto key = SigningKey::Load(key_path);
  if (!key.ok()) return Fail(err, "key public", key.status());
  out << key->PublicJwkJson() << "\n";
  return kExitDone;
}

// Signs the canonical form of a strict-JSON payload, so the registry's bytes
// do not depend on how the file was formatted.
int RegistrySign(const std::string& key_path, const std::string& payload_path, std::ostream& out,
                 std::ostream& err) {
  auto key = SigningKey::Load(key_path);
  if (!key.ok()) return Fail(err, "registry sign", key.status());
  auto text = ReadFileLimited(payload_path, kMaxRegistryBytes);
  if (!text.ok()) return Fail(err, "registry sign", text.status());
  auto json = ParseJsonStrict(*text, {.max_bytes = kMaxRegistryBytes});
  if (!json.ok()) return Fail(err, "registry sign: " + payload_path, json.status());
  auto canonical = CanonicalJson(*json);
  if (!canonical.ok()) return Fail(err, "registry sign: " + payload_path, canonical.status());
  auto jws = key->SignCompact(*canonical, kRegistryJwsTyp);
  if (!jws.ok()) return Fail(err, "registry sign", jws.status());
  // No trailing newline, like `jose jws sig -c`: `jose jws ver -i FILE`
  // reads a compact token byte for byte and rejects one.
  out << *jws;
  return kExitDone;
}


// `key log` and `key witness`: an Ed25519 private key in FILE (PKCS#8 PEM,
// mode 0600) and its verifier key in FILE.vkey (0644), both new; the vkey is
// printed. Neither file is left behind if the other cannot be made.
template <typename Signer>
int NoteKeyCreate(absl::string_view what, const std::string& name, const std::string& out_path,
                  std::ostream& out, std::ostream& err) {
  auto signer = Signer::Generate(name);
  if (!signer.ok()) return Fail(err, what, signer.status());
  std::string pem = signer->PrivateKeyPem();
  if (pem.empty()) return Fail(err, what, absl::InternalError("cannot encode the private key"));
  absl::Status made = CreateNewFile(out_path, pem, 0600);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!made.ok()) return Fail(err, what, made);
  const std::string vkey = signer->VerifierKey();
  if (absl::Status s = CreateNewFile(out_path + ".vkey", vkey + "\n", 0644); !s.ok()) {
    unlink(out_path.c_str());
    return Fail(err, what, s);
  }
  out << vkey << "\n";
  return kExitDone;
}

}  // namespace

KeyCommands::KeyCommands(CLI::App& app) {
  CLI::App* key = app.add_subcommand(
      "key", "the verifier's keys: ES256 signing key, secrets key, audit log and witness keys");
  key->require_subcommand(1);
  key_generate_ = key->add_subcommand(
      "generate",
      "create a P-256 private JWK (mode 0600, never overwritten); print its public JWK");
  key_generate_->add_option("--out", generate_out_, "private JWK file to create")->required();
  key_public_ = key->add_subcommand("public", "print the verifier's published (public) JWK");
  key_public_->add_option("key", public_key_file_, "private JWK file")->required();
  key_secret_ = key->add_subcommand(
      "secret", "create fdverifierd's key for secrets at rest (32 random bytes, mode 0600, "
                "never overwritten)");
  key_secret_->add_option("--out", secret_out_, "key file to create")->required();
  key_log_ = key->add_subcommand(
      "log", "create the audit log's Ed25519 checkpoint key (PKCS#8 PEM, mode 0600, never "
             "overwritten) and FILE.vkey; print its verifier key");
  key_log_->add_option("--origin", log_origin_, "the log's origin, which names the key")
      ->required();
  key_log_->add_option("--out", log_out_, "private key file to create")->required();
  key_witness_ = key->add_subcommand(
      "witness", "create a witness's Ed25519 cosigner key (cosignature/v1; PKCS#8 PEM, mode "
                 "0600, never overwritten) and FILE.vkey; print its verifier key");
  key_witness_->add_option("--name", witness_name_, "the witness's key name")->required();
  key_witness_->add_option("--out", witness_out_, "private key file to create")->required();

  CLI::App* registry = app.add_subcommand("registry", "signed endpoint registries");
  registry->require_subcommand(1);
  registry_sign_ = registry->add_subcommand(
      "sign", "sign a strict-JSON payload (canonicalised); print the compact JWS");
  registry_sign_->add_option("--key", sign_key_file_, "private JWK file")->required();
  registry_sign_->add_option("payload", sign_payload_file_, "payload JSON file")->required();
  for (CLI::App* cmd : {key, key_generate_, key_public_, key_secret_, key_log_, key_witness_,
                        registry, registry_sign_}) {
    cmd->footer("Exit status: 0 done; 1 refused or failed (the reason on stderr); 4 usage error.");
  }
}

std::optional<int> KeyCommands::Run(std::ostream& out, std::ostream& err) const {
  if (key_generate_->parsed()) return KeyGenerate(generate_out_, out, err);
  if (key_public_->parsed()) return KeyPublic(public_key_file_, out, err);
  if (key_secret_->parsed()) {
    if (absl::Status made = SecretBox::CreateKeyFile(secret_out_); !made.ok()) {
      err << "fdattest key secret: " << made.message() << "\n";
      return kExitFailed;
    }
    return kExitDone;
  }
  if (key_log_->parsed()) {
    return NoteKeyCreate<NoteSigner>("key log", log_origin_, log_out_, out, err);
  }
  if (key_witness_->parsed()) {
    return NoteKeyCreate<CosignatureSigner>("key witness", witness_name_, witness_out_, out, err);
  }
  if (registry_sign_->parsed()) return RegistrySign(sign_key_file_, sign_payload_file_, out, err);
  return std::nullopt;
}

}  // namespace fdattest
