// Explanation::ToText and ToJson (common/bpf_explain.h): the words and numbers
// of `fdattest bpf explain`.
#include <sys/syscall.h>

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/bpf_explain.h"
#include "common/bpf_names.h"
#include "common/syscall_names.h"

namespace fdattest {
namespace {

std::string RetsText(const std::set<uint32_t>& rets) {
  std::vector<std::string> v;
  for (uint32_t r : rets) v.push_back(ActionText(r));
  return v.empty() ? "(no input reaches this)" : absl::StrJoin(v, " or ");
}

// "1 phi-output" for a declared fd, "3 (exec fd)" for the exec fd.
std::string FdText(const ExplainContext& ctx, uint64_t fd) {
  for (const auto& d : ctx.fds) {
    if (static_cast<uint64_t>(d.fd) == fd) return absl::StrCat(fd, " ", d.role);
  }
  if (ctx.exec_fd >= 0 && static_cast<uint64_t>(ctx.exec_fd) == fd)
    return absl::StrCat(fd, " (exec fd)");
  return absl::StrCat(fd);
}

// A value of argument `arg` (arg < 0: of a high word, always plain).
std::string ValueText(const ExplainContext& ctx, uint32_t nr, int arg, uint64_t v) {
  if (arg < 0) return absl::StrCat(v);
  return IsFdArg(nr, arg) ? FdText(ctx, v) : ArgValueText(nr, arg, v);
}

std::string SetText(const ExplainContext& ctx, uint32_t nr, int arg, const std::string& lhs,
                    const std::set<uint64_t>& values) {
  std::vector<std::string> v;
  for (uint64_t x : values) v.push_back(ValueText(ctx, nr, arg, x));
  if (v.size() == 1) return absl::StrCat(lhs, " == ", v[0]);
  return absl::StrCat(lhs, " in {", absl::StrJoin(v, ", "), "}");
}

void ConstraintsText(const ExplainContext& ctx, uint32_t nr, int arg, const std::string& lhs,
                     const std::vector<WordConstraint>& cs, std::vector<std::string>* out) {
  std::set<uint64_t> not_equal;
  // Single bits that must be clear, or set, are said together; so are the
  // bounds of a full-width range (lo and hi inclusive).
  uint32_t none_of = 0, all_of = 0;
  std::optional<uint64_t> lo, hi;
  std::vector<std::string> bounds;  // as the filter says them, when not joined
  for (const WordConstraint& c : cs) {
    if (c.mask == 0xffffffff && (c.op == CmpOp::kGt || c.op == CmpOp::kGe)) {
      const uint64_t k = c.k;
      const char* op = c.op == CmpOp::kGt ? (c.want ? " > " : " <= ") : (c.want ? " >= " : " < ");
      bounds.push_back(absl::StrCat(lhs, op, ValueText(ctx, nr, arg, k)));
      if (c.want) {  // > k, >= k
        const uint64_t b = c.op == CmpOp::kGt ? k + 1 : k;
        lo = lo ? std::max(*lo, b) : b;
      } else if (c.op == CmpOp::kGt || k > 0) {  // <= k, < k (k > 0: the solver kept it)
        const uint64_t b = c.op == CmpOp::kGt ? k : k - 1;
        hi = hi ? std::min(*hi, b) : b;
      }
      continue;
    }
    const bool one_bit = c.mask != 0 && (c.mask & (c.mask - 1)) == 0;
    if (c.op == CmpOp::kSet && !c.want) {
      none_of |= c.mask & c.k;
      continue;
    }
    if (c.op == CmpOp::kEq && one_bit && c.mask != 0xffffffff) {
      if ((c.k == c.mask) == c.want)
        all_of |= c.mask;
      else
        none_of |= c.mask;
      continue;
    }
    const std::string k = ValueText(ctx, nr, arg, c.k);
    if (c.op == CmpOp::kEq && c.mask == 0xffffffff) {
      if (c.want)
        out->push_back(absl::StrCat(lhs, " == ", k));
      else
        not_equal.insert(c.k);
      continue;
    }
    const std::string mask = ArgMaskText(nr, arg, c.op == CmpOp::kSet ? c.mask & c.k : c.mask);
    switch (c.op) {
      case CmpOp::kEq:
        if (c.k == c.mask) {
          out->push_back(absl::StrCat(lhs, c.want ? " has all of " : " lacks one of ", mask));
        } else if (c.k == 0) {
          out->push_back(absl::StrCat(lhs, c.want ? " has none of " : " has one of ", mask));
        } else {
          out->push_back(
              absl::StrFormat("(%s & %s) %s 0x%x", lhs, mask, c.want ? "==" : "!=", c.k));
        }
        break;
      case CmpOp::kGt:
      case CmpOp::kGe: {
        const std::string l = c.mask == 0xffffffff ? lhs : absl::StrFormat("(%s & %s)", lhs, mask);
        const char* op = c.op == CmpOp::kGt ? (c.want ? " > " : " <= ") : (c.want ? " >= " : " < ");
        out->push_back(absl::StrCat(l, op, absl::StrCat(c.k)));
        break;
      }
      case CmpOp::kSet:
        out->push_back(absl::StrCat(lhs, c.want ? " has one of " : " has none of ", mask));
        break;
    }
  }
  if (lo && hi) {
    out->push_back(absl::StrCat(lhs, " in ", ValueText(ctx, nr, arg, *lo), "–",
                                ValueText(ctx, nr, arg, *hi)));
  } else {
    out->insert(out->end(), bounds.begin(), bounds.end());
  }
  if (all_of != 0) out->push_back(absl::StrCat(lhs, " has all of ", ArgMaskText(nr, arg, all_of)));
  if (none_of != 0)
    out->push_back(absl::StrCat(lhs, " has none of ", ArgMaskText(nr, arg, none_of)));
  if (!not_equal.empty()) {
    std::vector<std::string> v;
    for (uint64_t x : not_equal) v.push_back(ValueText(ctx, nr, arg, x));
    out->push_back(v.size() == 1 ? absl::StrCat(lhs, " != ", v[0])
                                 : absl::StrCat(lhs, " not in {", absl::StrJoin(v, ", "), "}"));
  }
}

// One conjunction in words: per argument, a 64-bit value set when the high
// word is pinned, else conditions on lo32()/hi32().
std::string ConjunctionText(const ExplainContext& ctx, uint32_t nr, const Conjunction& c) {
  std::vector<std::string> parts;
  for (int arg = 0; arg < 6; ++arg) {
    const std::string name = ArgName(nr, arg);
    auto lo = c.find(static_cast<uint8_t>(ArgLoWord(arg)));
    auto hi = c.find(static_cast<uint8_t>(ArgHiWord(arg)));
    const bool has_lo = lo != c.end(), has_hi = hi != c.end();
    if (has_lo && has_hi && !lo->second.in.empty() && hi->second.in.size() == 1) {
      std::set<uint64_t> values;
      for (uint32_t l : lo->second.in) values.insert((uint64_t{*hi->second.in.begin()} << 32) | l);
      std::string text = SetText(ctx, nr, arg, name, values);
      if (IsFdArg(nr, arg)) text += " (all 64 bits)";
      parts.push_back(std::move(text));
      continue;
    }
    // An fd is compared on its low 32 bits only (the kernel ignores the rest).
    const bool fd = IsFdArg(nr, arg);
    for (auto [it, present, lhs] :
         {std::tuple{lo, has_lo, fd ? name : absl::StrCat("lo32(", name, ")")},
          std::tuple{hi, has_hi, absl::StrCat("hi32(", name, ")")}}) {
      if (!present) continue;
      const int named = it == lo ? arg : -1;  // a high word's values have no names
      if (!it->second.in.empty()) {
        std::set<uint64_t> values(it->second.in.begin(), it->second.in.end());
        parts.push_back(SetText(ctx, nr, named, lhs, values));
      } else {
        ConstraintsText(ctx, nr, named, lhs, it->second.cs, &parts);
      }
    }
  }
  return parts.empty() ? "always" : absl::StrJoin(parts, " and ");
}

std::string RangesText(const ExplainContext& ctx,
                       const std::vector<std::pair<uint32_t, uint32_t>>& r) {
  if (r.size() == 1 && r[0].first == 0 && r[0].second == 0xffffffff) return "any fd";
  std::vector<std::string> v;
  for (auto [lo, hi] : r) {
    v.push_back(lo == hi ? FdText(ctx, lo) : absl::StrCat(lo, "–", hi));
  }
  return v.empty() ? "none" : absl::StrJoin(v, ", ");
}

// Syscall numbers by name, runs of numbers without a name as one range
// ("syscall_337–386"); `named` false: only those without a name.
std::string NumbersText(const std::vector<uint32_t>& nrs, bool named) {
  std::vector<std::string> out;
  for (size_t i = 0; i < nrs.size();) {
    if (KnownSyscallName(nrs[i])) {
      if (named) out.push_back(SyscallName(nrs[i]));
      ++i;
      continue;
    }
    size_t j = i;
    while (j + 1 < nrs.size() && nrs[j + 1] == nrs[j] + 1 && !KnownSyscallName(nrs[j + 1])) ++j;
    out.push_back(j == i ? SyscallName(nrs[i]) : absl::StrCat("syscall_", nrs[i], "–", nrs[j]));
    i = j + 1;
  }
  return absl::StrJoin(out, " ");
}

std::string SignatureText(uint32_t nr) {
  std::vector<std::string> args;
  for (int a = 0; a < 6; ++a) {
    std::string n = ArgName(nr, a);
    if (n == absl::StrCat("a", a)) break;
    args.push_back(n);
  }
  if (args.empty()) return absl::StrCat(SyscallName(nr), "(…)");
  return absl::StrCat(SyscallName(nr), "(", absl::StrJoin(args, ", "), ")");
}

void FdSummary(const Explanation& e, std::string* out) {
  const ExplainContext& ctx = e.context;
  for (const DeclaredFdUse& d : e.declared) {
    absl::StrAppend(out, "  fd ", d.fd.fd, " ", d.fd.role, " (", d.fd.access,
                    "): ", d.allowed.empty() ? "nothing allowed" : absl::StrJoin(d.allowed, " "));
    if (!d.absorbed.empty()) {
      absl::StrAppend(out, "; ", absl::StrJoin(d.absorbed, " "), " returns 0 and leaves it open");
    }
    out->append("\n");
  }
  if (ctx.exec_fd >= 0) {
    absl::StrAppend(out, "  fd ", ctx.exec_fd,
                    ": the exec fd — the launcher starts the measured program with "
                    "execveat(",
                    ctx.exec_fd, ", \"\", argv, envp, AT_EMPTY_PATH); it closes on exec\n");
  }
  if (!ctx.fds.empty() || ctx.exec_fd >= 0) {
    absl::StrAppend(out, "  any other fd: ",
                    e.undeclared_allowed.empty()
                        ? "no fd-taking syscall is allowed on it"
                        : absl::StrCat("ALLOWED, e.g. ", absl::StrJoin(e.undeclared_allowed, ", ")),
                    "\n");
    return;
  }
  if (e.fd_args.empty()) {
    out->append("  file descriptors: no fd-taking syscall is ever allowed\n");
    return;
  }
  if (!e.ExaminesFds()) {
    out->append(
        "  file descriptors: not restricted — no rule tests an fd argument, so every "
        "allowed fd-taking syscall works on any fd\n");
    return;
  }
  // Syscalls grouped by the fds they can be allowed on.
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (const ExplainedFdArg& f : e.fd_args) {
    std::string set = !f.examined ? "any fd"
                      : f.exact   ? RangesText(ctx, f.allowed)
                                  : "depends on bits of the fd (see its rules)";
    std::string who = SyscallName(f.nr);
    if (ArgName(f.nr, f.arg) != "fd") absl::StrAppend(&who, " ", ArgName(f.nr, f.arg));
    auto it =
        std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == set; });
    if (it == groups.end()) it = groups.insert(groups.end(), {set, {}});
    it->second.push_back(who);
  }
  out->append("  file descriptors each fd-taking syscall can be allowed on:\n");
  for (const auto& [set, who] : groups) {
    absl::StrAppend(out, "    ", set, ": ", absl::StrJoin(who, ", "), "\n");
  }
}

}  // namespace

std::string Explanation::ToText() const {
  std::string out;
  absl::StrAppend(&out, "Summary (filter sha256 ", sha256, ", ", instructions, " instructions, ",
                  paths, " paths)\n");
  FdSummary(*this, &out);
  absl::StrAppend(&out, "  other architectures (arch != x86_64): ", RetsText(foreign_arch_rets),
                  "\n");
  absl::StrAppend(&out, "  x32 syscall numbers: ", RetsText(x32_rets), "\n");
  std::vector<std::string> defaults;
  for (const auto& [ret, nr] : default_rets) {
    defaults.push_back(default_rets.size() == 1
                           ? ActionText(ret)
                           : absl::StrCat(ActionText(ret), " (e.g. ", nr, ")"));
  }
  absl::StrAppend(&out, "  unnamed syscall numbers: ",
                  defaults.empty() ? "(none)" : absl::StrJoin(defaults, " or "), "\n");
  if (read_path_insns >= 0 || write_path_insns >= 0) {
    absl::StrAppend(&out, "  instructions run: read ", read_path_insns, ", write ",
                    write_path_insns, " (on the first fd each is allowed on)\n");
  }
  // Syscalls whose outcome does not depend on the arguments, by outcome; the
  // largest group is said last, as "every other named syscall".
  std::map<uint32_t, std::vector<uint32_t>> unconditional;
  std::vector<const ExplainedSyscall*> conditional;
  for (const ExplainedSyscall& s : syscalls) {
    if (s.rules.size() == 1) {
      unconditional[s.rules[0].ret].push_back(s.nr);
    } else {
      conditional.push_back(&s);
    }
  }
  // The largest group by named syscalls is said as "every other"; numbers
  // with no name are always listed.
  uint32_t largest = 0;
  size_t largest_n = 0;
  for (const auto& [ret, nrs] : unconditional) {
    const size_t n = static_cast<size_t>(std::count_if(
        nrs.begin(), nrs.end(), [](uint32_t nr) { return KnownSyscallName(nr).has_value(); }));
    if (n > largest_n) {
      largest = ret;
      largest_n = n;
    }
  }
  out += "\nSyscalls whatever their arguments (x86_64)\n";
  for (const auto& [ret, nrs] : unconditional) {
    if (ret == largest) continue;
    absl::StrAppend(&out, "  ", ActionText(ret), ": ", NumbersText(nrs, true), "\n");
  }
  if (largest_n > 0) {
    const std::string unnamed = NumbersText(unconditional[largest], false);
    absl::StrAppend(&out, "  ", ActionText(largest), ": every other named syscall (", largest_n,
                    ") not listed here or below", unnamed.empty() ? "" : ", and ", unnamed, "\n");
  }
  out +=
      "\nSyscalls whose outcome depends on their arguments (the first line that holds applies)\n";
  if (conditional.empty()) out += "  (none)\n";
  for (const ExplainedSyscall* s : conditional) {
    absl::StrAppend(&out, "  ", SignatureText(s->nr), ":\n");
    for (size_t i = 0; i < s->rules.size(); ++i) {
      const ExplainedRule& r = s->rules[i];
      if (r.when.empty()) {
        absl::StrAppend(&out, "    otherwise ", ActionText(r.ret), "\n");
        continue;
      }
      for (size_t j = 0; j < r.when.size(); ++j) {
        absl::StrAppend(&out, "    ", j == 0 ? ActionText(r.ret) : std::string("  or"), " when ",
                        ConjunctionText(context, s->nr, r.when[j]), "\n");
      }
    }
  }
  const std::vector<uint32_t>& named = NamedSyscalls();
  absl::StrAppend(
      &out, "\nTerms\n",
      "  paths: the routes through the program from its first instruction to a return; the\n"
      "    analysis follows every one, so each statement above holds for every input.\n",
      "  unnamed syscall numbers: x86_64 numbers below 0x40000000 with no name in the syscall\n"
      "    table (named: ",
      named.size(), " syscalls up to ", SyscallName(named.back()), ", ", named.back(),
      ") that the filter does not test one by one.\n",
      "  x32 syscall numbers: 0x40000000 to 0xfffffffe, the x32 ABI's numbers.\n",
      "  lo32(x), hi32(x): the low and high 32 bits of a 64-bit argument. An fd argument is\n"
      "    compared on its low 32 bits, which are all the kernel uses, unless marked \"(all 64 "
      "bits)\".\n",
      "  numbers are decimal; bit masks are flag names or hexadecimal (0x…).\n",
      "  an errno name (EBADF, EPERM, …): the call fails with that error without running.\n",
      "  TRAP: the thread gets SIGSYS; KILL_PROCESS / KILL_THREAD: killed by the kernel.\n",
      "  exec fd: the descriptor fdlaunch executes the measured program from; close-on-exec,\n"
      "    so it no longer exists once the program runs.\n");
  return out;
}

Json Explanation::ToJson() const {
  auto rets_json = [](const std::set<uint32_t>& rets) {
    Json a = Json::array();
    for (uint32_t r : rets) a.push_back(ActionText(r));
    return a;
  };
  Json j;
  j["instructions"] = instructions;
  j["sha256"] = sha256;
  j["paths"] = paths;
  j["foreign_arch"] = rets_json(foreign_arch_rets);
  j["x32"] = rets_json(x32_rets);
  Json d = Json::array();
  for (const auto& [ret, nr] : default_rets)
    d.push_back({{"action", ActionText(ret)}, {"example_nr", nr}});
  j["unnamed_syscalls"] = d;
  Json sys = Json::array();
  for (const ExplainedSyscall& s : syscalls) {
    Json rules = Json::array();
    for (const ExplainedRule& r : s.rules) {
      Json when = Json::array();
      for (const Conjunction& c : r.when) when.push_back(ConjunctionText(context, s.nr, c));
      rules.push_back({{"when", when}, {"action", ActionText(r.ret)}, {"ret", r.ret}});
    }
    sys.push_back({{"nr", s.nr}, {"name", s.name}, {"rules", rules}});
  }
  j["syscalls"] = sys;
  Json fds = Json::array();
  for (const ExplainedFdArg& f : fd_args) {
    Json o = {{"syscall", SyscallName(f.nr)}, {"arg", f.arg}, {"examined", f.examined}};
    if (f.examined && f.exact) {
      Json r = Json::array();
      for (auto [lo, hi] : f.allowed) r.push_back({lo, hi});
      o["allowed_ranges"] = r;
    }
    fds.push_back(o);
  }
  j["fd_args"] = fds;
  Json decl = Json::array();
  for (const DeclaredFdUse& u : declared) {
    decl.push_back({{"fd", u.fd.fd},
                    {"role", u.fd.role},
                    {"access", u.fd.access},
                    {"allowed", u.allowed},
                    {"absorbed", u.absorbed}});
  }
  j["declared_fds"] = decl;
  if (context.exec_fd >= 0) j["exec_fd"] = context.exec_fd;
  j["undeclared_fd_allowed"] = undeclared_allowed;
  j["read_path_instructions"] = read_path_insns;
  j["write_path_instructions"] = write_path_insns;
  return j;
}

}  // namespace fdattest
