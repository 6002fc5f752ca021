#include "common/tpm_wire.h"

#include <tss2/tss2_mu.h>

#include <type_traits>

#include "absl/strings/str_format.h"

namespace fdattest {
namespace {

// One tss2-mu function pair per type, and the type's name for messages.
template <typename T>
struct Codec {
  absl::string_view name;
  TSS2_RC (*marshal)(const T* src, uint8_t buffer[], size_t buffer_size, size_t* offset);
  TSS2_RC (*unmarshal)(const uint8_t buffer[], size_t buffer_size, size_t* offset, T* dest);
};

template <typename T>
constexpr Codec<T> kCodec{};
template <>
constexpr Codec<TPM2B_PUBLIC> kCodec<TPM2B_PUBLIC>{"TPM2B_PUBLIC", Tss2_MU_TPM2B_PUBLIC_Marshal,
                                                   Tss2_MU_TPM2B_PUBLIC_Unmarshal};
template <>
constexpr Codec<TPM2B_PRIVATE> kCodec<TPM2B_PRIVATE>{
    "TPM2B_PRIVATE", Tss2_MU_TPM2B_PRIVATE_Marshal, Tss2_MU_TPM2B_PRIVATE_Unmarshal};
template <>
constexpr Codec<TPMT_PUBLIC> kCodec<TPMT_PUBLIC>{"TPMT_PUBLIC", Tss2_MU_TPMT_PUBLIC_Marshal,
                                                 Tss2_MU_TPMT_PUBLIC_Unmarshal};
template <>
constexpr Codec<TPMS_NV_PUBLIC> kCodec<TPMS_NV_PUBLIC>{
    "TPMS_NV_PUBLIC", Tss2_MU_TPMS_NV_PUBLIC_Marshal, Tss2_MU_TPMS_NV_PUBLIC_Unmarshal};
template <>
constexpr Codec<TPMS_ATTEST> kCodec<TPMS_ATTEST>{"TPMS_ATTEST", Tss2_MU_TPMS_ATTEST_Marshal,
                                                 Tss2_MU_TPMS_ATTEST_Unmarshal};
template <>
constexpr Codec<TPMT_SIGNATURE> kCodec<TPMT_SIGNATURE>{
    "TPMT_SIGNATURE", Tss2_MU_TPMT_SIGNATURE_Marshal, Tss2_MU_TPMT_SIGNATURE_Unmarshal};
template <>
constexpr Codec<TPM2B_ID_OBJECT> kCodec<TPM2B_ID_OBJECT>{
    "TPM2B_ID_OBJECT", Tss2_MU_TPM2B_ID_OBJECT_Marshal, Tss2_MU_TPM2B_ID_OBJECT_Unmarshal};
template <>
constexpr Codec<TPM2B_ENCRYPTED_SECRET> kCodec<TPM2B_ENCRYPTED_SECRET>{
    "TPM2B_ENCRYPTED_SECRET", Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal,
    Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal};

}  // namespace

template <TpmWireType T>
absl::StatusOr<std::string> TpmMarshal(const T& value) {
  constexpr const Codec<T>& codec = kCodec<T>;
  // The wire form is never longer than the in-memory structure: every
  // variable part is bounded by its buffer in the struct, and size and
  // selector fields are no wider on the wire.
  uint8_t buf[sizeof(T)];
  size_t off = 0;
  const TSS2_RC rc = codec.marshal(&value, buf, sizeof(buf), &off);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%s does not marshal (tss2-mu error 0x%x)", codec.name, rc));
  }
  return std::string(reinterpret_cast<const char*>(buf), off);
}

template <TpmWireType T>
absl::StatusOr<T> TpmUnmarshal(absl::string_view bytes) {
  constexpr const Codec<T>& codec = kCodec<T>;
  T value{};
  size_t off = 0;
  const TSS2_RC rc = codec.unmarshal(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                     &off, &value);
  if (rc == TSS2_MU_RC_INSUFFICIENT_BUFFER) {
    return absl::InvalidArgumentError(
        absl::StrFormat("malformed %s: %d bytes end before the structure does", codec.name,
                        bytes.size()));
  }
  if (rc != TSS2_RC_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrFormat("malformed %s (tss2-mu error 0x%x)", codec.name, rc));
  }
  if (off != bytes.size()) {
    return absl::InvalidArgumentError(
        absl::StrFormat("%d trailing bytes after %s", bytes.size() - off, codec.name));
  }
  if constexpr (std::is_same_v<T, TPM2B_PUBLIC>) {
    // tss2-mu checks only that the size field does not run past the input;
    // it must be exactly the public area's length (and an empty TPM2B_PUBLIC
    // is no public area at all).
    if (value.size == 0 || static_cast<size_t>(value.size) + 2 != bytes.size()) {
      return absl::InvalidArgumentError(
          absl::StrFormat("malformed TPM2B_PUBLIC: size field %d for a %d-byte public area",
                          value.size, bytes.size() - 2));
    }
  }
  return value;
}

#define FDATTEST_TPM_WIRE_INSTANTIATE(T)                                \
  template absl::StatusOr<std::string> TpmMarshal<T>(const T& value); \
  template absl::StatusOr<T> TpmUnmarshal<T>(absl::string_view bytes)

FDATTEST_TPM_WIRE_INSTANTIATE(TPM2B_PUBLIC);
FDATTEST_TPM_WIRE_INSTANTIATE(TPM2B_PRIVATE);
FDATTEST_TPM_WIRE_INSTANTIATE(TPMT_PUBLIC);
FDATTEST_TPM_WIRE_INSTANTIATE(TPMS_NV_PUBLIC);
FDATTEST_TPM_WIRE_INSTANTIATE(TPMS_ATTEST);
FDATTEST_TPM_WIRE_INSTANTIATE(TPMT_SIGNATURE);
FDATTEST_TPM_WIRE_INSTANTIATE(TPM2B_ID_OBJECT);
FDATTEST_TPM_WIRE_INSTANTIATE(TPM2B_ENCRYPTED_SECRET);

#undef FDATTEST_TPM_WIRE_INSTANTIATE

}  // namespace fdattest
