#include "common/bpf_explain.h"

#include <linux/filter.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/bpf_names.h"
#include "common/bpf_properties.h"
#include "common/sha256.h"

namespace fdattest {

bool WordCond::Holds(uint32_t value) const {
  if (!in.empty()) return in.contains(value);
  for (const WordConstraint& c : cs) {
    if (!c.Holds(value)) return false;
  }
  return true;
}

bool Holds(const Conjunction& c, const SeccompInput& in) {
  for (const auto& [word, cond] : c) {
    if (!cond.Holds(in.w[word])) return false;
  }
  return true;
}

uint32_t ExplainedSyscall::RetFor(const SeccompInput& in) const {
  for (const ExplainedRule& r : rules) {
    for (const Conjunction& c : r.when) {
      if (Holds(c, in)) return r.ret;
    }
  }
  return rules.back().ret;
}

bool Explanation::ExaminesFds() const {
  for (const ExplainedFdArg& f : fd_args) {
    if (f.examined) return true;
  }
  return false;
}

namespace {

constexpr uint32_t kX86 = kAuditArchX86_64;
constexpr uint32_t kRetErrnoZero = 0x00050000;  // SECCOMP_RET_ERRNO, data 0

bool IsAllow(uint32_t ret) { return ActionOf(ret) == SeccompAction::kAllow; }
bool IsFullEq(const WordConstraint& c) {
  return c.op == CmpOp::kEq && c.want && c.mask == 0xffffffff;
}

absl::StatusOr<bool> Sat(const std::vector<WordConstraint>& cs) {
  ASSIGN_OR_RETURN(std::optional<uint32_t> v, SolveWord(cs));
  return v.has_value();
}

// The returns reachable under `extra`, each with one input reaching it.
absl::StatusOr<std::map<uint32_t, SeccompInput>> RetsWhere(
    const DecisionTable& table, const std::vector<WordConstraint>& extra) {
  std::map<uint32_t, SeccompInput> rets;
  for (const DecisionLeaf& leaf : table.leaves()) {
    if (rets.contains(leaf.ret)) continue;
    ASSIGN_OR_RETURN(std::optional<SeccompInput> in, SolveInput(leaf.constraints, extra, {}));
    if (in) rets.emplace(leaf.ret, *in);
  }
  return rets;
}

std::set<uint32_t> Keys(const std::map<uint32_t, SeccompInput>& m) {
  std::set<uint32_t> s;
  for (const auto& [k, v] : m) s.insert(k);
  return s;
}

// A leaf's conditions on the arguments as a conjunction, without what adds
// nothing: a word pinned to one value keeps only that value, and a
// constraint the word's other constraints imply is dropped (hi32(a0) > 0
// makes hi32(a0) != 0 redundant).
absl::StatusOr<Conjunction> Simplify(const DecisionLeaf& leaf) {
  std::map<uint8_t, std::vector<WordConstraint>> by_word;
  for (const WordConstraint& c : leaf.constraints) {
    if (c.word >= 2) by_word[c.word].push_back(c);
  }
  Conjunction out;
  for (auto& [word, cs] : by_word) {
    WordCond cond;
    for (const WordConstraint& c : cs) {
      if (IsFullEq(c)) cond.in = {c.k};
    }
    if (cond.in.empty()) {
      for (size_t i = 0; i < cs.size();) {
        std::vector<WordConstraint> others;
        for (size_t j = 0; j < cs.size(); ++j) {
          if (j != i) others.push_back(cs[j]);
        }
        others.push_back(cs[i].Negated());
        ASSIGN_OR_RETURN(bool sat, Sat(others));
        if (!sat) {
          cs.erase(cs.begin() + static_cast<std::ptrdiff_t>(i));
        } else {
          ++i;
        }
      }
      if (cs.empty()) continue;  // always true
      // One order for equal conditions from different paths.
      std::sort(cs.begin(), cs.end(), [](const WordConstraint& x, const WordConstraint& y) {
        return std::tie(x.op, x.mask, x.k, x.want) < std::tie(y.op, y.mask, y.k, y.want);
      });
      cond.cs = cs;
    }
    out[word] = std::move(cond);
  }
  return out;
}

// Whether a ∨ b holds for every value (two conditions on one word).
absl::StatusOr<bool> CoverAll(const WordCond& a, const WordCond& b) {
  if (!a.in.empty() && !b.in.empty()) return false;
  if (!a.in.empty()) return CoverAll(b, a);
  // a is a conjunction; not-a is the disjunction of its negated constraints.
  // not-b: a negated constraint of b, or (b a value set) a value outside it.
  std::vector<std::vector<WordConstraint>> not_b;
  if (!b.in.empty()) {
    std::vector<WordConstraint> outside;
    for (uint32_t v : b.in) outside.push_back(WordEq(0, v, false));
    not_b.push_back(std::move(outside));
  } else {
    for (const WordConstraint& y : b.cs) not_b.push_back({y.Negated()});
  }
  for (const WordConstraint& x : a.cs) {
    for (std::vector<WordConstraint> cs : not_b) {
      WordConstraint nx = x.Negated();
      nx.word = 0;
      for (WordConstraint& c : cs) c.word = 0;
      cs.push_back(nx);
      ASSIGN_OR_RETURN(bool sat, Sat(cs));
      if (sat) return false;
    }
  }
  return true;
}

// The one word on which two conjunctions over the same words differ, or -1
// (none, several, or different words).
int OnlyDifference(const Conjunction& a, const Conjunction& b) {
  if (a.size() != b.size()) return -1;
  int diff = -1;
  for (auto ia = a.begin(), ib = b.begin(); ia != a.end(); ++ia, ++ib) {
    if (ia->first != ib->first) return -1;
    if (ia->second == ib->second) continue;
    if (diff >= 0) return -1;
    diff = ia->first;
  }
  return diff;
}

// Whether every input satisfying `a` satisfies `b` (b's words a subset of
// a's, each the same condition, or a value set within b's).
bool Implies(const Conjunction& a, const Conjunction& b) {
  for (const auto& [word, cond] : b) {
    auto it = a.find(word);
    if (it == a.end()) return false;
    if (it->second == cond) continue;
    if (it->second.in.empty()) return false;
    for (uint32_t v : it->second.in) {
      if (!cond.Holds(v)) return false;
    }
  }
  return true;
}

// Merges a disjunction until nothing changes: value sets differing on one
// word are joined, a word two disjuncts split between them is dropped, a
// disjunct implied by another is dropped, and a `!= k` implied by an earlier
// disjunct `== k` is dropped (A or (not A and B) is A or B).
absl::StatusOr<std::vector<Conjunction>> Merge(std::vector<Conjunction> ds) {
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < ds.size() && !changed; ++i) {
      for (size_t j = 0; j < ds.size() && !changed; ++j) {
        if (i == j) continue;
        if (Implies(ds[j], ds[i]) && (j > i || !Implies(ds[i], ds[j]))) {
          ds.erase(ds.begin() + static_cast<std::ptrdiff_t>(j));
          changed = true;
          break;
        }
        const int w = OnlyDifference(ds[i], ds[j]);
        if (w >= 0 && j > i) {
          WordCond& a = ds[i][static_cast<uint8_t>(w)];
          const WordCond& b = ds[j][static_cast<uint8_t>(w)];
          if (!a.in.empty() && !b.in.empty()) {
            a.in.insert(b.in.begin(), b.in.end());
          } else {
            ASSIGN_OR_RETURN(bool all, CoverAll(a, b));
            if (!all) continue;
            ds[i].erase(static_cast<uint8_t>(w));
          }
          ds.erase(ds.begin() + static_cast<std::ptrdiff_t>(j));
          changed = true;
          break;
        }
      }
    }
    // An earlier single-word disjunct `w in S` makes `w != s` (s in S) in a
    // later one redundant.
    for (size_t i = 0; i < ds.size(); ++i) {
      if (ds[i].size() != 1 || ds[i].begin()->second.in.empty()) continue;
      // (Named, not a structured binding: clang 14, which builds the
      // fuzzers, cannot capture one in a lambda.)
      const auto& word = ds[i].begin()->first;
      const auto& earlier_in = ds[i].begin()->second.in;
      for (size_t j = i + 1; j < ds.size(); ++j) {
        auto it = ds[j].find(word);
        if (it == ds[j].end() || !it->second.in.empty()) continue;
        std::vector<WordConstraint>& cs = it->second.cs;
        const size_t before = cs.size();
        std::erase_if(cs, [&earlier_in](const WordConstraint& c) {
          return c.op == CmpOp::kEq && !c.want && c.mask == 0xffffffff && earlier_in.contains(c.k);
        });
        if (cs.size() == before) continue;
        if (cs.empty()) ds[j].erase(it);
        changed = true;
      }
    }
  }
  return ds;
}

// Whether every value satisfying `x` satisfies `e` (conditions on one word).
absl::StatusOr<bool> WordImplies(const WordCond& x, const WordCond& e) {
  if (!x.in.empty()) {
    for (uint32_t v : x.in) {
      if (!e.Holds(v)) return false;
    }
    return true;
  }
  if (!e.in.empty()) {  // x and a value outside e's set: impossible?
    std::vector<WordConstraint> cs = x.cs;
    for (uint32_t v : e.in) cs.push_back(WordEq(0, v, false));
    ASSIGN_OR_RETURN(bool sat, Sat(cs));
    return !sat;
  }
  for (const WordConstraint& c : e.cs) {
    std::vector<WordConstraint> cs = x.cs;
    cs.push_back(c.Negated());
    ASSIGN_OR_RETURN(bool sat, Sat(cs));
    if (sat) return false;
  }
  return true;
}

// Whether every input satisfying `x` satisfies `e`.
absl::StatusOr<bool> ConjunctionImplies(const Conjunction& x, const Conjunction& e) {
  for (const auto& [word, cond] : e) {
    auto it = x.find(word);
    if (it == x.end()) return false;
    ASSIGN_OR_RETURN(bool implied, WordImplies(it->second, cond));
    if (!implied) return false;
  }
  return true;
}

// Rules apply first-match, so a condition is redundant where every input
// that satisfies the rest of its line but not it is taken by an earlier line
// (`ALLOW when domain == 1`, then `TRAP when lo32(domain) != 1 and
// hi32(domain) == 0`: the `!= 1` goes). Each earlier line as printed: the
// lines up to any point cover what the unsimplified ones covered.
absl::Status DropImpliedByEarlier(std::vector<ExplainedRule>* rules) {
  std::vector<const Conjunction*> earlier;
  for (ExplainedRule& r : *rules) {
    for (Conjunction& d : r.when) {
      for (auto word_it = d.begin(); word_it != d.end();) {
        std::vector<WordConstraint>& cs = word_it->second.cs;
        for (size_t i = 0; i < cs.size();) {
          Conjunction rest = d;
          std::vector<WordConstraint>& others = rest[word_it->first].cs;
          others.erase(others.begin() + static_cast<std::ptrdiff_t>(i));
          others.push_back(cs[i].Negated());
          bool covered = false;
          for (const Conjunction* e : earlier) {
            ASSIGN_OR_RETURN(covered, ConjunctionImplies(rest, *e));
            if (covered) break;
          }
          if (covered) {
            cs.erase(cs.begin() + static_cast<std::ptrdiff_t>(i));
          } else {
            ++i;
          }
        }
        if (word_it->second.in.empty() && cs.empty()) {
          word_it = d.erase(word_it);
        } else {
          ++word_it;
        }
      }
      earlier.push_back(&d);
    }
  }
  return absl::OkStatus();
}

// Leaves that inputs with this syscall number (arch x86_64) can reach.
absl::StatusOr<std::vector<const DecisionLeaf*>> LeavesFor(const DecisionTable& table,
                                                           uint32_t nr) {
  std::vector<const DecisionLeaf*> out;
  for (const DecisionLeaf& leaf : table.leaves()) {
    if ((leaf.pinned_mask & 1) && leaf.pinned.w[0] != nr) continue;
    bool ok = true;
    std::vector<WordConstraint> args;
    for (const WordConstraint& c : leaf.constraints) {
      if (c.word == 0)
        ok = ok && c.Holds(nr);
      else if (c.word == 1)
        ok = ok && c.Holds(kX86);
      else
        args.push_back(c);
    }
    if (!ok) continue;
    ASSIGN_OR_RETURN(std::optional<SeccompInput> in, SolveInput(args));
    if (in) out.push_back(&leaf);
  }
  return out;
}

absl::StatusOr<ExplainedSyscall> ExplainSyscall(uint32_t nr,
                                                const std::vector<const DecisionLeaf*>& leaves) {
  ExplainedSyscall s{.nr = nr, .name = SyscallName(nr)};
  std::vector<uint32_t> order;  // returns in path order
  std::map<uint32_t, std::vector<Conjunction>> by_ret;
  for (const DecisionLeaf* leaf : leaves) {
    s.rets.insert(leaf->ret);
    if (!by_ret.contains(leaf->ret)) order.push_back(leaf->ret);
    ASSIGN_OR_RETURN(Conjunction c, Simplify(*leaf));
    by_ret[leaf->ret].push_back(std::move(c));
  }
  // The return with the most merged conditions is said as "otherwise"; on a
  // tie, the one reached last in path order (the filter's own fallback).
  size_t most = 0;
  uint32_t otherwise = order.back();
  for (uint32_t ret : order) {
    ASSIGN_OR_RETURN(by_ret[ret], Merge(std::move(by_ret[ret])));
    // A conjunction with no condition holds whatever the arguments.
    if (std::any_of(by_ret[ret].begin(), by_ret[ret].end(),
                    [](const Conjunction& c) { return c.empty(); })) {
      by_ret[ret] = {Conjunction{}};
    }
    if (by_ret[ret].size() >= most) {
      most = by_ret[ret].size();
      otherwise = ret;
    }
  }
  for (uint32_t ret : order) {
    if (ret != otherwise) s.rules.push_back({by_ret[ret], ret});
  }
  s.rules.push_back({{}, otherwise});
  RETURN_IF_ERROR(DropImpliedByEarlier(&s.rules));
  return s;
}

struct FdArgSpec {
  uint32_t nr;
  int arg;
};

// Syscalls taking a file descriptor, and which argument it is.
const std::vector<FdArgSpec>& FdArgs() {
  static const std::vector<FdArgSpec> v = {{SYS_read, 0},
                                           {SYS_readv, 0},
                                           {SYS_pread64, 0},
                                           {SYS_preadv, 0},
                                           {SYS_preadv2, 0},
                                           {SYS_recvfrom, 0},
                                           {SYS_recvmsg, 0},
                                           {SYS_write, 0},
                                           {SYS_writev, 0},
                                           {SYS_pwrite64, 0},
                                           {SYS_pwritev, 0},
                                           {SYS_pwritev2, 0},
                                           {SYS_sendto, 0},
                                           {SYS_sendmsg, 0},
                                           {SYS_sendfile, 0},
                                           {SYS_sendfile, 1},
                                           {SYS_splice, 0},
                                           {SYS_splice, 2},
                                           {SYS_tee, 0},
                                           {SYS_tee, 1},
                                           {SYS_copy_file_range, 0},
                                           {SYS_copy_file_range, 2},
                                           {SYS_vmsplice, 0},
                                           {SYS_mmap, 4},
                                           {SYS_fstat, 0},
                                           {SYS_lseek, 0},
                                           {SYS_fsync, 0},
                                           {SYS_fdatasync, 0},
                                           {SYS_ioctl, 0},
                                           {SYS_fcntl, 0},
                                           {SYS_close, 0},
                                           {SYS_dup, 0},
                                           {SYS_dup2, 0},
                                           {SYS_dup3, 0},
                                           {SYS_ftruncate, 0},
                                           {SYS_fallocate, 0},
                                           {SYS_fchmod, 0},
                                           {SYS_fchown, 0},
                                           {SYS_fstatfs, 0},
                                           {SYS_getdents64, 0},
                                           {SYS_flock, 0},
                                           {SYS_fchdir, 0},
                                           {SYS_connect, 0},
                                           {SYS_bind, 0},
                                           {SYS_listen, 0},
                                           {SYS_accept, 0},
                                           {SYS_accept4, 0},
                                           {SYS_shutdown, 0},
                                           {SYS_getsockopt, 0},
                                           {SYS_setsockopt, 0},
                                           {SYS_epoll_ctl, 2},
                                           {SYS_execveat, 0}};
  return v;
}

// What must also hold for the fd argument to be used: mmap ignores its fd
// with MAP_ANONYMOUS.
std::vector<WordConstraint> FdUsed(uint32_t nr) {
  std::vector<WordConstraint> cs = {WordEq(0, nr), WordEq(1, kX86)};
  if (nr == SYS_mmap) cs.push_back(WordBitsSet(ArgLoWord(3), MAP_ANONYMOUS, false));
  return cs;
}

// The low-32-bit values of `word` that reach an ALLOW for `nr`, as ranges,
// when the leaves compare the word only at full width (then each range
// between consecutive constants behaves alike); nullopt otherwise.
absl::StatusOr<std::optional<std::vector<std::pair<uint32_t, uint32_t>>>> AllowedRanges(
    const DecisionTable& table, const std::vector<const DecisionLeaf*>& leaves, uint32_t nr,
    int word) {
  std::set<uint64_t> starts = {0};
  for (const DecisionLeaf* leaf : leaves) {
    for (const WordConstraint& c : leaf->constraints) {
      if (c.word != word) continue;
      if (c.mask != 0xffffffff || c.op == CmpOp::kSet) return std::nullopt;
      if (c.op == CmpOp::kEq) starts.insert({c.k, uint64_t{c.k} + 1});
      if (c.op == CmpOp::kGt) starts.insert(uint64_t{c.k} + 1);
      if (c.op == CmpOp::kGe) starts.insert(c.k);
    }
  }
  starts.insert(uint64_t{1} << 32);
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (auto it = starts.begin(); std::next(it) != starts.end(); ++it) {
    const uint32_t lo = static_cast<uint32_t>(*it);
    const uint32_t hi = static_cast<uint32_t>(*std::next(it) - 1);
    std::vector<WordConstraint> cs = FdUsed(nr);
    cs.push_back(WordEq(word, lo));
    ASSIGN_OR_RETURN(auto w, table.Find(IsAllow, cs));
    if (!w) continue;
    if (!out.empty() && uint64_t{out.back().second} + 1 == lo) {
      out.back().second = hi;
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<Explanation> Explain(const BpfProgram& program, const DecisionTable& table,
                                    const ExplainContext& context) {
  Explanation e;
  e.instructions = program.insns().size();
  e.sha256 = HexEncode(Sha256(program.Encode()));
  e.paths = table.leaves().size();
  e.context = context;
  std::sort(e.context.fds.begin(), e.context.fds.end(),
            [](const auto& a, const auto& b) { return a.fd < b.fd; });
  ASSIGN_OR_RETURN(auto foreign, RetsWhere(table, {WordEq(1, kX86, false)}));
  e.foreign_arch_rets = Keys(foreign);
  ASSIGN_OR_RETURN(auto x32, RetsWhere(table, {WordEq(1, kX86), WordGe(0, kX32SyscallBit),
                                               WordEq(0, 0xffffffff, false)}));
  e.x32_rets = Keys(x32);
  // Numbers the filter tests one by one, and every named one, are explained
  // each; the rest below the x32 range is "unnamed".
  std::set<uint32_t> numbers(NamedSyscalls().begin(), NamedSyscalls().end());
  for (const DecisionLeaf& leaf : table.leaves()) {
    if ((leaf.pinned_mask & 1) && leaf.pinned.w[0] < kX32SyscallBit)
      numbers.insert(leaf.pinned.w[0]);
  }
  {
    std::vector<WordConstraint> cs = {WordEq(1, kX86), WordGe(0, kX32SyscallBit, false)};
    for (uint32_t nr : numbers) cs.push_back(WordEq(0, nr, false));
    ASSIGN_OR_RETURN(auto rets, RetsWhere(table, cs));
    for (const auto& [ret, in] : rets) e.default_rets[ret] = in.nr();
  }
  std::map<uint32_t, std::vector<const DecisionLeaf*>> leaves_of;
  for (uint32_t nr : numbers) {
    ASSIGN_OR_RETURN(leaves_of[nr], LeavesFor(table, nr));
    if (leaves_of[nr].empty()) continue;  // unreachable: cannot happen for a valid table
    ASSIGN_OR_RETURN(ExplainedSyscall s, ExplainSyscall(nr, leaves_of[nr]));
    e.syscalls.push_back(std::move(s));
  }
  // fd arguments: which are tested, and which values can be allowed.
  for (const FdArgSpec& fa : FdArgs()) {
    const auto& leaves = leaves_of[fa.nr];
    bool allowed = false, examined = false;
    const int lo = ArgLoWord(fa.arg), hi = ArgHiWord(fa.arg);
    for (const DecisionLeaf* leaf : leaves) {
      allowed = allowed || IsAllow(leaf->ret);
      for (const WordConstraint& c : leaf->constraints)
        examined = examined || c.word == lo || c.word == hi;
    }
    if (!allowed) continue;
    ExplainedFdArg f{.nr = fa.nr, .arg = fa.arg, .examined = examined};
    if (examined) {
      ASSIGN_OR_RETURN(auto ranges, AllowedRanges(table, leaves, fa.nr, lo));
      f.exact = ranges.has_value();
      if (ranges) f.allowed = *std::move(ranges);
    }
    e.fd_args.push_back(std::move(f));
  }
  // Declared fds: what each can be used for; and what other fds can.
  std::vector<WordConstraint> undeclared_cs;
  for (const ExplainContext::DeclaredFd& d : e.context.fds) {
    DeclaredFdUse use{.fd = d};
    for (const ExplainedFdArg& f : e.fd_args) {
      std::vector<WordConstraint> cs = FdUsed(f.nr);
      cs.push_back(WordEq(ArgLoWord(f.arg), static_cast<uint32_t>(d.fd)));
      cs.push_back(WordEq(ArgHiWord(f.arg), 0));
      ASSIGN_OR_RETURN(auto w, table.Find(IsAllow, cs));
      // As which argument, where the syscall takes more than one fd.
      std::string name = SyscallName(f.nr);
      if (ArgName(f.nr, f.arg) != "fd") absl::StrAppend(&name, " (", ArgName(f.nr, f.arg), ")");
      if (w && std::find(use.allowed.begin(), use.allowed.end(), name) == use.allowed.end()) {
        use.allowed.push_back(name);
      }
    }
    ASSIGN_OR_RETURN(auto absorbed,
                     table.Find([](uint32_t r) { return r == kRetErrnoZero; },
                                {WordEq(0, SYS_close), WordEq(1, kX86),
                                 WordEq(ArgLoWord(0), static_cast<uint32_t>(d.fd))}));
    if (absorbed) use.absorbed.push_back("close");
    e.declared.push_back(std::move(use));
  }
  if (!e.context.fds.empty() || e.context.exec_fd >= 0) {
    for (const ExplainedFdArg& f : e.fd_args) {
      std::vector<WordConstraint> cs = FdUsed(f.nr);
      for (const auto& d : e.context.fds) {
        cs.push_back(WordEq(ArgLoWord(f.arg), static_cast<uint32_t>(d.fd), false));
      }
      if (e.context.exec_fd >= 0) {
        cs.push_back(WordEq(ArgLoWord(f.arg), static_cast<uint32_t>(e.context.exec_fd), false));
      }
      ASSIGN_OR_RETURN(auto w, table.Find(IsAllow, cs));
      if (w) e.undeclared_allowed.push_back(CallText(w->input, f.arg));
    }
  }
  for (const ExplainedFdArg& f : e.fd_args) {
    if (f.arg != 0 || f.allowed.empty() || (f.nr != SYS_read && f.nr != SYS_write)) continue;
    SeccompInput in;
    in.w[0] = f.nr;
    in.w[1] = kX86;
    in.w[ArgLoWord(0)] = f.allowed.front().first;
    program.Evaluate(in, f.nr == SYS_read ? &e.read_path_insns : &e.write_path_insns);
  }
  return e;
}

}  // namespace fdattest
