#include "common/bpf_explain.h"

#include <linux/filter.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/bpf_properties.h"
#include "common/sha256.h"

namespace fdattest {
namespace {

constexpr uint32_t kMaxExplainedNr = 511;

bool IsAllow(uint32_t ret) { return ActionOf(ret) == SeccompAction::kAllow; }

absl::StatusOr<bool> Satisfiable(const DecisionLeaf& leaf, const std::vector<WordConstraint>& extra) {
  std::vector<WordConstraint> cs = leaf.constraints;
  cs.insert(cs.end(), extra.begin(), extra.end());
  ASSIGN_OR_RETURN(std::optional<SeccompInput> in, SolveInput(cs));
  return in.has_value();
}

absl::StatusOr<std::set<uint32_t>> RetsWhere(const DecisionTable& table,
                                             const std::vector<WordConstraint>& extra) {
  std::set<uint32_t> rets;
  for (const DecisionLeaf& leaf : table.leaves()) {
    if (rets.contains(leaf.ret)) continue;
    ASSIGN_OR_RETURN(bool sat, Satisfiable(leaf, extra));
    if (sat) rets.insert(leaf.ret);
  }
  return rets;
}

std::string ArgWordName(int word) {
  if (word < 4) return WordName(word);
  return absl::StrCat(word % 2 == 0 ? "lo32(a" : "hi32(a", (word - 4) / 2, ")");
}

// Conditions of one leaf on the arguments, with hi/lo equalities fused into
// 64-bit facts and chains of != on one word gathered into a set.
std::vector<std::string> RenderConditions(const std::vector<WordConstraint>& cs) {
  std::map<int, std::vector<const WordConstraint*>> by_word;
  for (const WordConstraint& c : cs) {
    if (c.word >= 2) by_word[c.word].push_back(&c);
  }
  auto full_eq = [](const std::vector<const WordConstraint*>& v) -> std::optional<uint32_t> {
    for (const WordConstraint* c : v) {
      if (c->op == CmpOp::kEq && c->want && c->mask == 0xffffffff) return c->k;
    }
    return std::nullopt;
  };
  // Drop what adds nothing: everything else on a word pinned by a full
  // equality, and tautologies such as w >= 0.
  for (auto& [word, v] : by_word) {
    if (auto eq = full_eq(v)) {
      std::vector<const WordConstraint*> keep;
      for (const WordConstraint* c : v) {
        if (c->op == CmpOp::kEq && c->want && c->mask == 0xffffffff) {
          keep = {c};
          break;
        }
      }
      v = keep;
      continue;
    }
    std::erase_if(v, [](const WordConstraint* c) { return c->op == CmpOp::kGe && c->want && c->k == 0; });
  }
  std::vector<std::string> out;
  std::set<int> done;
  for (auto& [word, v] : by_word) {
    if (done.contains(word)) continue;
    if (word >= 4 && word % 2 == 0 && by_word.contains(word + 1)) {
      auto lo = full_eq(v), hi = full_eq(by_word[word + 1]);
      if (lo && hi && v.size() == 1 && by_word[word + 1].size() == 1) {
        out.push_back(absl::StrFormat("a%d == 0x%x", (word - 4) / 2, (uint64_t{*hi} << 32) | *lo));
        done.insert(word + 1);
        continue;
      }
    }
    std::vector<std::string> not_equal;
    for (const WordConstraint* c : v) {
      if (c->op == CmpOp::kEq && !c->want && c->mask == 0xffffffff) {
        not_equal.push_back(absl::StrCat(c->k));
        continue;
      }
      std::string s = c->ToString();
      std::string name = WordName(word);
      size_t at = s.find(name);
      if (at != std::string::npos) s.replace(at, name.size(), ArgWordName(word));
      out.push_back(s);
    }
    if (not_equal.size() == 1) out.push_back(absl::StrCat(ArgWordName(word), " != ", not_equal[0]));
    if (not_equal.size() > 1) {
      out.push_back(absl::StrCat(ArgWordName(word), " not in {", absl::StrJoin(not_equal, ", "), "}"));
    }
  }
  return out;
}

struct FdArg {
  uint32_t nr;
  int arg;
};

const std::vector<FdArg>& FdArgs() {
  static const std::vector<FdArg> v = {
      {SYS_read, 0}, {SYS_readv, 0}, {SYS_pread64, 0}, {SYS_preadv, 0}, {SYS_preadv2, 0},
      {SYS_recvfrom, 0}, {SYS_write, 0}, {SYS_writev, 0}, {SYS_pwrite64, 0}, {SYS_pwritev, 0},
      {SYS_pwritev2, 0}, {SYS_sendto, 0}, {SYS_sendfile, 0}, {SYS_sendfile, 1}, {SYS_splice, 0},
      {SYS_splice, 2}, {SYS_tee, 0}, {SYS_tee, 1}, {SYS_copy_file_range, 0},
      {SYS_copy_file_range, 2}, {SYS_vmsplice, 0}, {SYS_mmap, 4}, {SYS_fstat, 0}, {SYS_lseek, 0},
      {SYS_fsync, 0}, {SYS_fdatasync, 0}, {SYS_ioctl, 0}, {SYS_fcntl, 0}, {SYS_close, 0},
      {SYS_execveat, 0}};
  return v;
}

std::string RetsText(const std::set<uint32_t>& rets) {
  std::vector<std::string> v;
  for (uint32_t r : rets) v.push_back(DescribeRet(r));
  return v.empty() ? "(unreachable)" : absl::StrJoin(v, " or ");
}

}  // namespace

absl::StatusOr<Explanation> Explain(const BpfProgram& program, const DecisionTable& table) {
  Explanation e;
  e.instructions = program.insns().size();
  e.sha256 = HexEncode(Sha256(program.Encode()));
  e.paths = table.leaves().size();
  const uint32_t x86 = kAuditArchX86_64;
  ASSIGN_OR_RETURN(e.foreign_arch_rets, RetsWhere(table, {WordEq(1, x86, false)}));
  ASSIGN_OR_RETURN(e.x32_rets, RetsWhere(table, {WordEq(1, x86), WordGe(0, kX32SyscallBit),
                                                 WordEq(0, 0xffffffff, false)}));
  // Numbers no leaf pins: what an unknown syscall gets.
  std::set<uint32_t> pinned;
  for (const DecisionLeaf& leaf : table.leaves()) {
    if (leaf.pinned_mask & 1) pinned.insert(leaf.pinned.w[0]);
  }
  {
    std::vector<WordConstraint> cs = {WordEq(1, x86), WordGe(0, kX32SyscallBit, false)};
    for (uint32_t nr : pinned) cs.push_back(WordEq(0, nr, false));
    ASSIGN_OR_RETURN(e.default_rets, RetsWhere(table, cs));
  }
  for (uint32_t nr = 0; nr <= kMaxExplainedNr; ++nr) {
    ExplainedSyscall s{.nr = nr, .name = SyscallName(nr)};
    std::set<uint32_t> rets;
    bool named = pinned.contains(nr);
    for (const DecisionLeaf& leaf : table.leaves()) {
      if ((leaf.pinned_mask & 1) && leaf.pinned.w[0] != nr) continue;
      ASSIGN_OR_RETURN(bool sat, Satisfiable(leaf, {WordEq(1, x86), WordEq(0, nr)}));
      if (!sat) continue;
      rets.insert(leaf.ret);
      std::vector<WordConstraint> rest;
      for (const WordConstraint& c : leaf.constraints) {
        if (c.word >= 2) rest.push_back(c);
      }
      ExplainedRule rule{RenderConditions(rest), leaf.ret};
      bool duplicate = false;
      for (const ExplainedRule& r : s.rules) {
        duplicate = duplicate || (r.ret == rule.ret && r.conditions == rule.conditions);
      }
      if (!duplicate) s.rules.push_back(std::move(rule));
    }
    if (!named && rets == e.default_rets) continue;
    if (rets.size() == 1) s.rules = {ExplainedRule{{}, *rets.begin()}};
    e.syscalls.push_back(std::move(s));
  }
  // Fd sets: a value belongs when some input with that lo32 fd argument is
  // allowed (other arguments free); candidates are small numbers and every
  // constant compared, and the "proven" check shows no other value is allowed.
  std::set<uint32_t> candidates;
  for (uint32_t v = 0; v < 256; ++v) candidates.insert(v);
  for (const BpfInsn& in : program.insns()) {
    if (BPF_CLASS(in.code) == BPF_JMP) candidates.insert(in.k);
  }
  for (const FdArg& fa : FdArgs()) {
    ExplainedFdSet fs{.syscall = SyscallName(fa.nr), .fd_arg = fa.arg};
    std::vector<WordConstraint> base = {WordEq(0, fa.nr), WordEq(1, x86)};
    if (fa.nr == SYS_mmap) {
      base.push_back(WordBitsSet(ArgLoWord(3), MAP_ANONYMOUS, false));  // fd is ignored otherwise
      fs.note = "without MAP_ANONYMOUS";
    }
    ASSIGN_OR_RETURN(auto any, table.Find(IsAllow, base));
    if (!any) continue;  // never allowed
    for (uint32_t v : candidates) {
      std::vector<WordConstraint> cs = base;
      cs.push_back(WordEq(ArgLoWord(fa.arg), v));
      ASSIGN_OR_RETURN(auto w, table.Find(IsAllow, cs));
      if (w) fs.fds.insert(v);
    }
    std::vector<WordConstraint> outside = base;
    for (uint32_t v : fs.fds) outside.push_back(WordEq(ArgLoWord(fa.arg), v, false));
    ASSIGN_OR_RETURN(auto w, table.Find(IsAllow, outside));
    fs.proven = !w.has_value();
    if (w) fs.note = absl::StrCat("also allowed: ", w->input.DebugString());
    e.fd_sets.push_back(std::move(fs));
  }
  for (const ExplainedFdSet& fs : e.fd_sets) {
    if (fs.syscall == "read" && !fs.fds.empty() && e.read_path_insns < 0) {
      SeccompInput in;
      in.w[0] = SYS_read;
      in.w[1] = x86;
      in.w[ArgLoWord(0)] = *fs.fds.begin();
      program.Evaluate(in, &e.read_path_insns);
    }
    if (fs.syscall == "write" && !fs.fds.empty() && e.write_path_insns < 0) {
      SeccompInput in;
      in.w[0] = SYS_write;
      in.w[1] = x86;
      in.w[ArgLoWord(0)] = *fs.fds.begin();
      program.Evaluate(in, &e.write_path_insns);
    }
  }
  return e;
}

Json Explanation::ToJson() const {
  auto rets_json = [](const std::set<uint32_t>& rets) {
    Json a = Json::array();
    for (uint32_t r : rets) a.push_back(DescribeRet(r));
    return a;
  };
  Json j;
  j["instructions"] = instructions;
  j["sha256"] = sha256;
  j["paths"] = paths;
  j["foreign_arch"] = rets_json(foreign_arch_rets);
  j["x32"] = rets_json(x32_rets);
  j["default"] = rets_json(default_rets);
  Json sys = Json::array();
  for (const ExplainedSyscall& s : syscalls) {
    Json rules = Json::array();
    for (const ExplainedRule& r : s.rules) {
      rules.push_back({{"when", r.conditions}, {"action", DescribeRet(r.ret)}});
    }
    sys.push_back({{"nr", s.nr}, {"name", s.name}, {"rules", rules}});
  }
  j["syscalls"] = sys;
  Json fds = Json::array();
  for (const ExplainedFdSet& f : fd_sets) {
    Json o = {{"syscall", f.syscall}, {"fd_arg", f.fd_arg}, {"fds", f.fds}, {"proven", f.proven}};
    if (!f.note.empty()) o["note"] = f.note;
    fds.push_back(o);
  }
  j["fd_sets"] = fds;
  j["read_path_instructions"] = read_path_insns;
  j["write_path_instructions"] = write_path_insns;
  return j;
}

std::string Explanation::ToText() const {
  std::string out;
  absl::StrAppend(&out, "filter: ", instructions, " instructions, sha256 ", sha256, ", ", paths,
                  " paths\n");
  absl::StrAppend(&out, "foreign architectures: ", RetsText(foreign_arch_rets), "\n");
  absl::StrAppend(&out, "x32 syscall numbers: ", RetsText(x32_rets), "\n");
  absl::StrAppend(&out, "default (syscalls not named): ", RetsText(default_rets), "\n");
  std::map<uint32_t, std::vector<std::string>> unconditional;
  std::vector<const ExplainedSyscall*> conditional;
  for (const ExplainedSyscall& s : syscalls) {
    if (s.rules.size() == 1 && s.rules[0].conditions.empty()) {
      unconditional[s.rules[0].ret].push_back(s.name);
    } else {
      conditional.push_back(&s);
    }
  }
  out += "unconditional:\n";
  for (auto& [ret, names] : unconditional) {
    absl::StrAppend(&out, "  ", DescribeRet(ret), ": ", absl::StrJoin(names, " "), "\n");
  }
  out += "conditional:\n";
  for (const ExplainedSyscall* s : conditional) {
    absl::StrAppend(&out, "  ", s->name, ":\n");
    for (const ExplainedRule& r : s->rules) {
      absl::StrAppend(&out, "    ", DescribeRet(r.ret), " when ",
                      r.conditions.empty() ? "always" : absl::StrJoin(r.conditions, " and "), "\n");
    }
  }
  out += "fd sets (lo32 of the fd argument that can be allowed):\n";
  for (const ExplainedFdSet& f : fd_sets) {
    std::vector<std::string> fds;
    for (uint32_t v : f.fds) fds.push_back(absl::StrCat(v));
    absl::StrAppend(&out, "  ", f.syscall, " a", f.fd_arg, ": {", absl::StrJoin(fds, ", "), "}",
                    f.proven ? " (proven for every input" : " NOT EXACT (",
                    f.note.empty() ? "" : absl::StrCat("; ", f.note), ")\n");
  }
  if (read_path_insns >= 0) {
    absl::StrAppend(&out, "hot path: read ", read_path_insns, " instructions, write ",
                    write_path_insns, " instructions\n");
  }
  return out;
}

}  // namespace fdattest
