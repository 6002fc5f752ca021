#include "verifier/service/audit_routes.h"

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/base64.h"
#include "common/json.h"
#include "verifier/audit/merkle_tiles.h"
#include "verifier/audit/signed_note.h"
#include "verifier/service/archive_entry.h"

namespace fdattest {
namespace {

constexpr uint64_t kMaxEntries = 1024;
constexpr JsonLimits kCosignatureLimits{.max_bytes = 8 * 1024, .max_depth = 2, .max_values = 8};

ApiResponse BadAuditQuery(absl::string_view detail) {
  return Problem(400, "bad-audit-query", "Bad request", detail);
}

// A query parameter as an unsigned decimal; nullopt when absent.
absl::StatusOr<std::optional<uint64_t>> QueryNumber(const ApiRequest& request,
                                                    absl::string_view key) {
  auto it = request.query.find(std::string(key));
  if (it == request.query.end()) return std::optional<uint64_t>();
  uint64_t value = 0;
  if (it->second.empty() || it->second.size() > 20 || !absl::SimpleAtoi(it->second, &value) ||
      it->second.front() == '+' || (it->second.size() > 1 && it->second.front() == '0')) {
    return absl::InvalidArgumentError(absl::StrCat(key, " must be a decimal number"));
  }
  return std::optional<uint64_t>(value);
}

// The store's answer to a read: NotFound and InvalidArgument are the
// caller's (404 / 400), the rest is the store failing.
ApiResponse ReadFailure(const absl::Status& status, absl::string_view what) {
  if (absl::IsNotFound(status)) return Problem(404, "unknown-audit-entry", "Not found", what);
  if (absl::IsInvalidArgument(status) || absl::IsOutOfRange(status)) {
    return BadAuditQuery(status.message());
  }
  return StoreProblem(status);
}

Json HashesJson(const std::vector<MerkleHash>& hashes) {
  Json out = Json::array();
  for (const MerkleHash& h : hashes) {
    out.push_back(Base64Encode(absl::string_view(reinterpret_cast<const char*>(h.data()), h.size())));
  }
  return out;
}

}  // namespace

ApiResponse HandleAuditCheckpoint(ServiceContext& context, const ApiRequest& request) {
  (void)request;
  if (context.store == nullptr) return StoreProblem(absl::InternalError("no store"));
  absl::StatusOr<SignedCheckpoint> checkpoint = context.store->LatestCheckpoint();
  if (!checkpoint.ok()) return ReadFailure(checkpoint.status(), "the log has no checkpoint");
  ApiResponse response;
  response.content_type = "text/plain; charset=utf-8";
  response.body = checkpoint->note;
  return response;
}

ApiResponse HandleAuditTile(ServiceContext& context, const ApiRequest& request) {
  if (context.store == nullptr) return StoreProblem(absl::InternalError("no store"));
  auto it = request.path_params.find("path");
  if (it == request.path_params.end()) return Problem(404, "unknown-audit-entry", "Not found", "");
  absl::StatusOr<TileRef> tile = ParseTilePath(absl::StrCat("tile/", it->second));
  if (!tile.ok()) {
    return Problem(404, "unknown-audit-entry", "Not found",
                   absl::StrCat("not a tile path: ", tile.status().message()));
  }
  absl::StatusOr<SignedCheckpoint> checkpoint = context.store->LatestCheckpoint();
  if (!checkpoint.ok()) return ReadFailure(checkpoint.status(), "the log has no checkpoint");
  absl::StatusOr<std::string> bytes = context.store->AuditTile(*tile, checkpoint->size);
  if (!bytes.ok()) return ReadFailure(bytes.status(), "no such tile in the log's latest tree");
  ApiResponse response;
  response.content_type = "application/octet-stream";
  response.body = *std::move(bytes);
  return response;
}

ApiResponse HandleInclusionProof(ServiceContext& context, const ApiRequest& request) {
  if (context.store == nullptr) return StoreProblem(absl::InternalError("no store"));
  absl::StatusOr<std::optional<uint64_t>> index = QueryNumber(request, "index");
  absl::StatusOr<std::optional<uint64_t>> size = QueryNumber(request, "size");
  if (!index.ok()) return BadAuditQuery(index.status().message());
  if (!size.ok()) return BadAuditQuery(size.status().message());
  auto result = request.query.find("result");
  if (index->has_value() == (result != request.query.end())) {
    return BadAuditQuery("give exactly one of index and result");
  }
  uint64_t leaf = 0;
  if (index->has_value()) {
    leaf = **index;
  } else {
    if (result->second.size() != 32 || !IsLowerHex(result->second)) {
      return BadAuditQuery("result must be a result id (32 lowercase hex digits)");
    }
    absl::StatusOr<uint64_t> found = context.store->AuditLeafOfResult(result->second);
    if (!found.ok()) return ReadFailure(found.status(), "no leaf records this result");
    leaf = *found;
  }
  uint64_t tree_size = 0;
  if (size->has_value()) {
    tree_size = **size;
  } else {
    absl::StatusOr<SignedCheckpoint> checkpoint = context.store->LatestCheckpoint();
    if (!checkpoint.ok()) return ReadFailure(checkpoint.status(), "the log has no checkpoint");
    tree_size = checkpoint->size;
  }
  if (leaf >= tree_size) return BadAuditQuery("the leaf index must be below the tree size");
  absl::StatusOr<std::vector<MerkleHash>> proof = context.store->AuditInclusionProof(leaf, tree_size);
  if (!proof.ok()) return ReadFailure(proof.status(), "the tree is not that large");
  absl::StatusOr<std::vector<std::string>> data = context.store->AuditLeaves(leaf, 1);
  if (!data.ok()) return ReadFailure(data.status(), "no such leaf");
  return JsonReply(200, Json{{"leaf_index", leaf},
                             {"tree_size", tree_size},
                             {"leaf", data->front()},
                             {"inclusion_proof", HashesJson(*proof)}});
}

ApiResponse HandleConsistencyProof(ServiceContext& context, const ApiRequest& request) {
  if (context.store == nullptr) return StoreProblem(absl::InternalError("no store"));
  absl::StatusOr<std::optional<uint64_t>> from = QueryNumber(request, "from");
  absl::StatusOr<std::optional<uint64_t>> to = QueryNumber(request, "to");
  if (!from.ok()) return BadAuditQuery(from.status().message());
  if (!to.ok()) return BadAuditQuery(to.status().message());
  if (!from->has_value() || !to->has_value()) return BadAuditQuery("from and to are required");
  if (**from == 0 || **from > **to) return BadAuditQuery("need 0 < from <= to");
  absl::StatusOr<std::vector<MerkleHash>> proof =
      context.store->AuditConsistencyProof(**from, **to);
  if (!proof.ok()) return ReadFailure(proof.status(), "the tree is not that large");
  return JsonReply(200, Json{{"from", **from}, {"to", **to}, {"consistency_proof", HashesJson(*proof)}});
}

ApiResponse HandleAuditEntries(ServiceContext& context, const ApiRequest& request) {
  if (context.store == nullptr) return StoreProblem(absl::InternalError("no store"));
  absl::StatusOr<std::optional<uint64_t>> start = QueryNumber(request, "start");
  absl::StatusOr<std::optional<uint64_t>> count = QueryNumber(request, "count");
  if (!start.ok()) return BadAuditQuery(start.status().message());
  if (!count.ok()) return BadAuditQuery(count.status().message());
  if (!start->has_value()) return BadAuditQuery("start is required");
  const uint64_t n = count->value_or(100);
  if (n < 1 || n > kMaxEntries) return BadAuditQuery("count must be 1..1024");
  absl::StatusOr<std::vector<std::string>> leaves = context.store->AuditLeaves(**start, n);
  if (!leaves.ok()) return ReadFailure(leaves.status(), "no leaf at start");
  return JsonReply(200, Json{{"start", **start}, {"entries", *leaves}});
}

ApiResponse HandleAddCosignature(ServiceContext& context, const ApiRequest& request) {
  if (context.store == nullptr) return StoreProblem(absl::InternalError("no store"));
  absl::StatusOr<JsonDocument> doc = ParseJsonDocumentBorrowing(request.body, kCosignatureLimits);
  if (!doc.ok()) return BadAuditQuery(doc.status().message());
  JsonValueFields f(doc->root(), "body");
  std::optional<uint64_t> size = f.Uint("size", true, uint64_t{1} << 62);
  std::optional<std::string> line = f.String("cosignature", true);
  if (absl::Status s = f.Finish(); !s.ok()) return BadAuditQuery(s.message());
  if (context.witnesses.empty()) {
    return Problem(403, "unknown-witness", "Forbidden", "this verifier trusts no witness");
  }
  absl::StatusOr<SignedCheckpoint> checkpoint =
      context.store->CheckpointOfSize(*size);
  if (!checkpoint.ok()) return ReadFailure(checkpoint.status(), "the log signed no checkpoint of that size");
  // The checkpoint's text is the note up to its blank line; the line must be
  // a configured witness's valid cosignature of exactly that text.
  const size_t blank = checkpoint->note.find("\n\n");
  if (blank == std::string::npos) return StoreProblem(absl::DataLossError("stored note has no text"));
  const std::string text = checkpoint->note.substr(0, blank + 1);
  std::string cosignature = *line;
  if (!cosignature.empty() && cosignature.back() == '\n') cosignature.pop_back();
  if (cosignature.find('\n') != std::string::npos) return BadAuditQuery("one cosignature line");
  absl::StatusOr<OpenedNote> opened =
      OpenNote(absl::StrCat(text, "\n", cosignature, "\n"), context.witnesses);
  if (!opened.ok() || opened->signed_by.empty() || opened->cosigned_at.front() < 0) {
    return Problem(403, "unknown-witness", "Forbidden",
                   "not a valid cosignature/v1 of that checkpoint by a configured witness");
  }
  if (absl::Status s = context.store->AddCosignature(*size, cosignature);
      !s.ok()) {
    return ReadFailure(s, "the log signed no checkpoint of that size");
  }
  ApiResponse response = JsonReply(200, Json{{"size", *size}, {"witness", opened->signed_by.front()}});
  response.log = {{"cosigned", opened->signed_by.front()}};
  return response;
}

ApiResponse HandleShredTenant(ServiceContext& context, const ApiRequest& request) {
  if (request.role != Role::kAdmin) {
    return Problem(403, "role-forbidden", "Forbidden", "this route needs role admin");
  }
  auto it = request.path_params.find("id");
  if (it == request.path_params.end() || !CheckTenantId(it->second).ok()) {
    return Problem(400, "bad-tenant", "Bad request", "a tenant id is 1..64 of A-Z a-z 0-9 . _ -");
  }
  const std::string& tenant = it->second;
  if (context.store == nullptr || !context.now) return StoreProblem(absl::InternalError("no store"));
  // Forgotten first, so no attestation of this process seals under the key
  // once the shred has begun (the store refuses a shredded tenant's blobs).
  if (context.tenant_keys != nullptr) context.tenant_keys->Forget(tenant);
  if (absl::Status s = context.store->ShredTenant(tenant, context.now()); !s.ok()) {
    return StoreProblem(s);
  }
  if (context.tenant_keys != nullptr) context.tenant_keys->Forget(tenant);
  absl::StatusOr<TenantRecord> record = context.store->GetTenant(tenant);
  if (!record.ok()) return StoreProblem(record.status());
  ApiResponse response =
      JsonReply(200, Json{{"tenant", tenant}, {"shredded_at", record->shredded_at}});
  response.log = {{"shredded", tenant}};
  return response;
}

}  // namespace fdattest
