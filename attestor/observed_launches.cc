// The observed launch and re-attestation (docs/attestor.md, "An observed
// launch", "Re-attestation"): the Attestor's hold, launch, release and
// reattest ops, and the table of launches they keep.
#include "attestor/observed_launches.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "attestor/attestor.h"

namespace fdattest {

void ObservedLaunches::KillHeld(absl::string_view launch_id) {
  auto it = held_.find(launch_id);
  if (it == held_.end()) return;
  if (it->second.process.has_value()) it->second.process->Kill();
  held_.erase(it);
}

void ObservedLaunches::ConnectionClosed(uint64_t connection_id) {
  for (auto it = held_.begin(); it != held_.end();) {
    if (it->second.connection_id == connection_id) {
      if (it->second.process.has_value()) it->second.process->Kill();
      it = held_.erase(it);
    } else {
      ++it;
    }
  }
}

void ObservedLaunches::KillAllHeld() {
  for (auto& [id, held] : held_) {
    if (held.process.has_value()) held.process->Kill();
  }
  held_.clear();
}

bool ObservedLaunches::PruneLive() {
  if (live_.size() < kMaxLiveLaunches) return true;
  std::erase_if(live_, [](const auto& entry) { return ProcessGone(entry.second.pidfd.get()); });
  return live_.size() < kMaxLiveLaunches;
}

bool Attestor::LaunchIdInLog(absl::string_view launch_id) const {
  for (const CelRecord& r : log_->AllRecords()) {
    if (r.content.has_value() && r.content->BelongsToLaunch() && r.content->launch_id == launch_id) {
      return true;
    }
  }
  return false;
}

absl::StatusOr<HoldResponse> Attestor::Hold(const AttestorRequest& request,
                                            const AttestorConnection& connection) {
  const std::string& id = request.launch_id;
  if (launches_.Known(id) || LaunchIdInLog(id)) {
    return absl::FailedPreconditionError(
        absl::StrCat("launch ", id, " is not new: it is held, live or in the event log"));
  }
  if (launches_.held().size() >= kMaxHeldLaunches) {
    return absl::FailedPreconditionError(
        absl::StrCat("too many launches held at once (", kMaxHeldLaunches, ")"));
  }
  if (!launches_.PruneLive()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "too many live launches (", kMaxLiveLaunches, "), none of which has exited"));
  }
  HeldLaunch held{.connection_id = connection.id, .pid = static_cast<pid_t>(request.pid)};
  if (!not_observed_.empty()) {
    launches_.held().emplace(id, std::move(held));
    return HoldResponse{.observing = false};
  }
  ASSIGN_OR_RETURN(TracedProcess process,
                   TracedProcess::SeizeChild(held.pid, connection.peer.pidfd.get()));
  held.process.emplace(std::move(process));
  launches_.held().emplace(id, std::move(held));
  return HoldResponse{.observing = true};
}

absl::StatusOr<LaunchResponse> Attestor::Launch(const AttestorRequest& request,
                                                const AttestorConnection& connection) {
  const std::string& id = request.launch_id;
  auto it = launches_.held().find(id);
  if (it == launches_.held().end() || it->second.connection_id != connection.id ||
      it->second.launched) {
    return absl::FailedPreconditionError(
        absl::StrCat("launch ", id, " is not held for this connection (hold it first, once)"));
  }
  HeldLaunch& held = it->second;
  // Any refusal from here kills the held workload: nothing of it is recorded.
  auto refuse = [&](absl::Status status) {
    launches_.KillHeld(id);
    return status;
  };
  absl::StatusOr<Manifest> manifest = Manifest::Parse(request.manifest);
  if (!manifest.ok()) return refuse(manifest.status());
  if (manifest->launch_id != id) {
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        "the manifest is for launch ", manifest->launch_id, ", not ", id)));
  }
  if (!manifest->attested) {
    return refuse(absl::InvalidArgumentError("the manifest does not say \"attested\": true"));
  }
  std::optional<KernelObservation> observation;
  if (held.process.has_value()) {
    absl::Status exec = held.process->WaitForExec(std::chrono::steady_clock::now() + kExecTimeout);
    if (!exec.ok()) return refuse(exec);
    absl::StatusOr<KernelObservation> observed = held.process->Observe();
    if (!observed.ok()) return refuse(observed.status());
    absl::Status matches = CheckObservationMatchesManifest(*observed, *manifest);
    if (!matches.ok()) {
      return refuse(absl::FailedPreconditionError(
          absl::StrCat("observation refused: ", matches.message())));
    }
    observation = *std::move(observed);
  }
  absl::StatusOr<std::string> peer_exe = ExecutableDigestOf(connection.peer.pidfd.get());
  if (!peer_exe.ok()) return refuse(peer_exe.status());
  absl::StatusOr<CelContent> manifest_record = CelContent::LaunchManifest(id, request.manifest);
  if (!manifest_record.ok()) return refuse(manifest_record.status());
  absl::StatusOr<CelContent> observation_record = CelContent::LaunchObservation(
      id, CelContent::ObservationKind::kLoad, request.nonce, *peer_exe, observation,
      observation.has_value() ? "" : not_observed_);
  if (!observation_record.ok()) return refuse(observation_record.status());

  absl::StatusOr<MeasureResponse> m = Measure(*manifest_record);
  if (!m.ok()) return refuse(m.status());
  absl::StatusOr<MeasureResponse> o = Measure(*observation_record);
  if (!o.ok()) return refuse(o.status());
  launches_.UseNonce(request.nonce);
  held.launched = true;
  held.manifest_bytes = request.manifest;
  held.manifest = *std::move(manifest);
  held.load = std::move(observation);
  return LaunchResponse{.manifest_recnum = m->recnum, .observation_recnum = o->recnum};
}

absl::StatusOr<ReleaseResponse> Attestor::Release(const AttestorRequest& request,
                                                  const AttestorConnection& connection) {
  const std::string& id = request.launch_id;
  auto it = launches_.held().find(id);
  if (it == launches_.held().end() || it->second.connection_id != connection.id ||
      !it->second.launched) {
    return absl::FailedPreconditionError(absl::StrCat(
        "launch ", id, " is not launched for this connection (hold and launch it first)"));
  }
  bool separated = false;
  ASSIGN_OR_RETURN(std::vector<CelRecord> records, log_->Records(id));
  for (const CelRecord& r : records) {
    if (r.content.has_value() && r.content->type == CelContent::Type::kLaunchSeparator &&
        r.content->launch_id == id) {
      separated = true;
    }
  }
  if (!separated) {
    return absl::FailedPreconditionError(
        absl::StrCat("launch ", id, " has no launch_separator measured; measure it first"));
  }
  HeldLaunch held = std::move(it->second);
  launches_.held().erase(it);
  if (!held.process.has_value()) return ReleaseResponse{};  // not observed: nothing to keep
  absl::StatusOr<UniqueFd> pidfd = held.process->DupPidfd();
  absl::Status detached = held.process->Detach();
  if (!detached.ok() || !pidfd.ok()) {
    held.process->Kill();
    return detached.ok() ? pidfd.status() : detached;
  }
  launches_.live().emplace(id, LiveLaunch{.pidfd = *std::move(pidfd),
                                          .manifest_bytes = std::move(held.manifest_bytes),
                                          .manifest = *std::move(held.manifest),
                                          .load = *std::move(held.load)});
  return ReleaseResponse{};
}

absl::StatusOr<ReattestResponse> Attestor::Reattest(const AttestorRequest& request,
                                                    const AttestorConnection& connection) {
  const std::string& id = request.launch_id;
  auto it = launches_.live().find(id);
  if (it == launches_.live().end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no live launch ", id, " (this attestor process released no such launch",
        not_observed_.empty() ? "" : ", and it observes none", ")"));
  }
  LiveLaunch& live = it->second;
  if (ProcessGone(live.pidfd.get())) {
    launches_.live().erase(it);
    return ReattestResponse{.gone = true};
  }
  if (launches_.NonceUsed(request.nonce)) {
    return absl::FailedPreconditionError("nonce already used by this attestor");
  }
  absl::StatusOr<TracedProcess> process = TracedProcess::SeizeAndStop(
      live.pidfd.get(), std::chrono::steady_clock::now() + kStopTimeout);
  if (!process.ok() && process.status().code() == absl::StatusCode::kNotFound) {
    launches_.live().erase(it);
    return ReattestResponse{.gone = true};
  }
  if (!process.ok()) return process.status();
  absl::StatusOr<KernelObservation> now = process->Observe();
  absl::Status detached = process->Detach();
  if (!now.ok() && now.status().code() == absl::StatusCode::kNotFound) {
    launches_.live().erase(it);
    return ReattestResponse{.gone = true};
  }
  if (!now.ok()) return now.status();
  RETURN_IF_ERROR(detached);
  absl::Status unchanged = CheckObservationUnchanged(*now, live.load, live.manifest);
  if (!unchanged.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("changed since load: ", unchanged.message()));
  }
  ASSIGN_OR_RETURN(std::string peer_exe, ExecutableDigestOf(connection.peer.pidfd.get()));
  ASSIGN_OR_RETURN(CelContent record,
                   CelContent::LaunchObservation(id, CelContent::ObservationKind::kAlive,
                                                 request.nonce, peer_exe, *std::move(now), ""));
  launches_.UseNonce(request.nonce);
  ASSIGN_OR_RETURN(MeasureResponse m, Measure(record));
  return ReattestResponse{.gone = false, .recnum = m.recnum, .manifest = live.manifest_bytes};
}

}  // namespace fdattest
