// The TPM 2.0 wire form (TPM 2.0 Part 2 marshalling: big-endian, TPM2B
// size-prefixed) of the structures fdattest stores, serves and checks, on
// tss2-mu alone: never ESYS, because the verifier links it. Unmarshalling is
// exact: the input must be one whole structure, with no byte missing and
// none left over, and anything else is InvalidArgument. Every TPM structure
// the attestor and the verifier (un)marshal goes through here. Stateless;
// thread-safe.
#ifndef FDATTEST_COMMON_TPM_WIRE_H_
#define FDATTEST_COMMON_TPM_WIRE_H_

#include <tss2/tss2_tpm2_types.h>

#include <concepts>
#include <string>

#include "absl/strings/string_view.h"
#include "common/status.h"

namespace fdattest {

// The structures this module handles.
template <typename T>
concept TpmWireType =
    std::same_as<T, TPM2B_PUBLIC> ||    // keys as stored and served (ak.pub, ak_public)
    std::same_as<T, TPM2B_PRIVATE> ||   // the AK's private blob (ak.priv)
    std::same_as<T, TPMT_PUBLIC> ||     // what an object's name hashes
    std::same_as<T, TPMS_NV_PUBLIC> ||  // what an NV index's name hashes
    std::same_as<T, TPMS_ATTEST> ||     // what the TPM signs (the content of TPM2B_ATTEST)
    std::same_as<T, TPMT_SIGNATURE> ||  // the signature over it
    std::same_as<T, TPM2B_ID_OBJECT> ||         // MakeCredential's credentialBlob
    std::same_as<T, TPM2B_ENCRYPTED_SECRET>;    // and its encrypted seed

// The marshalled bytes of `value`. InvalidArgument if tss2-mu refuses the
// value (e.g. an unknown algorithm selects no union member).
template <TpmWireType T>
absl::StatusOr<std::string> TpmMarshal(const T& value);

// Parses exactly one T filling all of `bytes`. InvalidArgument, naming the
// type, for input that ends early or is otherwise malformed ("malformed T"),
// for bytes left over ("N trailing bytes after T"), and for a TPM2B_PUBLIC
// whose size field is not the length of the public area that follows.
template <TpmWireType T>
absl::StatusOr<T> TpmUnmarshal(absl::string_view bytes);

}  // namespace fdattest

#endif  // FDATTEST_COMMON_TPM_WIRE_H_
